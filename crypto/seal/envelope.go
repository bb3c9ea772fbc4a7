package seal

import (
	"crypto/rand"
	"fmt"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
	"golang.org/x/crypto/nacl/secretbox"
)

// NonceSize is the length of the random nonce that starts every envelope.
const NonceSize = 24

// Overhead is the number of bytes an envelope adds to its message:
// the nonce and the Poly1305 tag.
const Overhead = NonceSize + secretbox.Overhead

// Box seals msg from myPriv to peerPub with NaCl box under a fresh random
// nonce. The result is nonce || ciphertext. It fails with ErrBadKey when a
// key is nil or peerPub is a low-order point.
func Box(msg []byte, peerPub, myPriv *[32]byte) ([]byte, error) {
	if err := checkPair(peerPub, myPriv); err != nil {
		return nil, fmt.Errorf("seal: box: %w", err)
	}
	nonce, out, err := newEnvelope(len(msg))
	if err != nil {
		return nil, fmt.Errorf("seal: box: %w", err)
	}
	return box.Seal(out, msg, nonce, peerPub, myPriv), nil
}

// OpenBox opens an envelope made by Box. It returns ErrTooShort when sealed
// cannot hold a nonce and a tag, ErrOpen when authentication fails, and
// ErrBadKey for nil or low-order keys. It never panics.
func OpenBox(sealed []byte, peerPub, myPriv *[32]byte) ([]byte, error) {
	if err := checkPair(peerPub, myPriv); err != nil {
		return nil, fmt.Errorf("seal: open box: %w", err)
	}
	nonce, ct, err := splitEnvelope(sealed)
	if err != nil {
		return nil, fmt.Errorf("seal: open box: %w", err)
	}
	msg, ok := box.Open(nil, ct, nonce, peerPub, myPriv)
	if !ok {
		return nil, fmt.Errorf("seal: open box: %w", ErrOpen)
	}
	return msg, nil
}

// Precompute derives the shared key of a box key pair once, for many
// messages between the same two parties (box.Precompute). It returns nil when
// a key is nil or peerPub is a low-order point; BoxShared and OpenShared
// refuse a nil shared key with ErrBadKey.
func Precompute(peerPub, myPriv *[32]byte) *[32]byte {
	if checkPair(peerPub, myPriv) != nil {
		return nil
	}
	shared := new([32]byte)
	box.Precompute(shared, peerPub, myPriv)
	return shared
}

// BoxShared seals msg under a key from Precompute with a fresh random nonce.
func BoxShared(msg []byte, shared *[32]byte) ([]byte, error) {
	if shared == nil {
		return nil, fmt.Errorf("seal: box shared: %w", ErrBadKey)
	}
	nonce, out, err := newEnvelope(len(msg))
	if err != nil {
		return nil, fmt.Errorf("seal: box shared: %w", err)
	}
	return box.SealAfterPrecomputation(out, msg, nonce, shared), nil
}

// OpenShared opens an envelope made by BoxShared (or by Box, for the same
// pair of keys). Errors as for OpenBox.
func OpenShared(sealed []byte, shared *[32]byte) ([]byte, error) {
	if shared == nil {
		return nil, fmt.Errorf("seal: open shared: %w", ErrBadKey)
	}
	nonce, ct, err := splitEnvelope(sealed)
	if err != nil {
		return nil, fmt.Errorf("seal: open shared: %w", err)
	}
	msg, ok := box.OpenAfterPrecomputation(nil, ct, nonce, shared)
	if !ok {
		return nil, fmt.Errorf("seal: open shared: %w", ErrOpen)
	}
	return msg, nil
}

// NewSecretKey returns a fresh random secretbox key from crypto/rand.
func NewSecretKey() (*[32]byte, error) {
	key := new([32]byte)
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("seal: new secret key: %w", err)
	}
	return key, nil
}

// Secret seals msg with secretbox under key and a fresh random nonce.
func Secret(msg []byte, key *[32]byte) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("seal: secret: %w", ErrBadKey)
	}
	nonce, out, err := newEnvelope(len(msg))
	if err != nil {
		return nil, fmt.Errorf("seal: secret: %w", err)
	}
	return secretbox.Seal(out, msg, nonce, key), nil
}

// OpenSecret opens an envelope made by Secret. Errors as for OpenBox.
func OpenSecret(sealed []byte, key *[32]byte) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("seal: open secret: %w", ErrBadKey)
	}
	nonce, ct, err := splitEnvelope(sealed)
	if err != nil {
		return nil, fmt.Errorf("seal: open secret: %w", err)
	}
	msg, ok := secretbox.Open(nil, ct, nonce, key)
	if !ok {
		return nil, fmt.Errorf("seal: open secret: %w", ErrOpen)
	}
	return msg, nil
}

// newEnvelope draws a nonce from crypto/rand and returns it with an output
// buffer that already starts with it and has room for the ciphertext.
func newEnvelope(msgLen int) (*[NonceSize]byte, []byte, error) {
	nonce := new([NonceSize]byte)
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, nil, fmt.Errorf("read nonce: %w", err)
	}
	out := make([]byte, NonceSize, Overhead+msgLen)
	copy(out, nonce[:])
	return nonce, out, nil
}

func splitEnvelope(sealed []byte) (*[NonceSize]byte, []byte, error) {
	if len(sealed) < Overhead {
		return nil, nil, ErrTooShort
	}
	nonce := new([NonceSize]byte)
	copy(nonce[:], sealed[:NonceSize])
	return nonce, sealed[NonceSize:], nil
}

// checkPair refuses nil keys and a peer public key of low order, for which
// X25519 yields the all-zero shared secret whatever the private key.
func checkPair(peerPub, myPriv *[32]byte) error {
	if peerPub == nil || myPriv == nil {
		return ErrBadKey
	}
	if _, err := curve25519.X25519(myPriv[:], peerPub[:]); err != nil {
		return ErrBadKey
	}
	return nil
}
