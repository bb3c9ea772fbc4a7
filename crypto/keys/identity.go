package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
)

// Identity is a device's key material.
type Identity struct {
	SignPub  ed25519.PublicKey // the device identity; equals the libp2p peer ID's key
	SignPriv ed25519.PrivateKey
	BoxPub   *[32]byte // X25519 for NaCl box
	BoxPriv  *[32]byte
}

// Generate makes a new identity from crypto/rand.
func Generate() (*Identity, error) {
	signPub, signPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("keys: generate: %w", err)
	}
	boxPub, boxPriv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("keys: generate: %w", err)
	}
	return &Identity{SignPub: signPub, SignPriv: signPriv, BoxPub: boxPub, BoxPriv: boxPriv}, nil
}

// PeerID is the libp2p peer ID text form of the signing key.
func (id *Identity) PeerID() string { return PeerIDFromKey(id.SignPub) }

// identityFromPrivate rebuilds an identity from its two private keys and
// checks that the public half stored inside the Ed25519 key matches its seed.
func identityFromPrivate(signPriv []byte, boxPriv []byte) (*Identity, error) {
	if len(signPriv) != ed25519.PrivateKeySize || len(boxPriv) != 32 {
		return nil, fmt.Errorf("key lengths %d and %d, want %d and 32", len(signPriv), len(boxPriv), ed25519.PrivateKeySize)
	}
	priv := ed25519.NewKeyFromSeed(signPriv[:ed25519.SeedSize])
	if !priv.Equal(ed25519.PrivateKey(signPriv)) {
		return nil, fmt.Errorf("signing public key does not match its private key")
	}
	bp := new([32]byte)
	copy(bp[:], boxPriv)
	pub, err := curve25519.X25519(bp[:], curve25519.Basepoint)
	if err != nil {
		return nil, fmt.Errorf("box key: %w", err)
	}
	return &Identity{
		SignPub:  priv.Public().(ed25519.PublicKey),
		SignPriv: priv,
		BoxPub:   (*[32]byte)(pub),
		BoxPriv:  bp,
	}, nil
}

// valid reports whether id is complete and consistent, so that Save never
// writes a key file that Load would refuse.
func (id *Identity) valid() error {
	if id == nil || id.BoxPriv == nil || id.BoxPub == nil {
		return fmt.Errorf("incomplete identity")
	}
	got, err := identityFromPrivate(id.SignPriv, id.BoxPriv[:])
	if err != nil {
		return err
	}
	if !got.SignPub.Equal(id.SignPub) || *got.BoxPub != *id.BoxPub {
		return fmt.Errorf("public keys do not match private keys")
	}
	return nil
}
