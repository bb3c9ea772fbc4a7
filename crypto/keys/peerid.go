package keys

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
)

// peerIDPrefix is an identity multihash (code 0x00, length 0x24) of the
// protobuf PublicKey{Type: Ed25519 (field 1 = 1), Data (field 2, 32 bytes)}.
var peerIDPrefix = []byte{0x00, 0x24, 0x08, 0x01, 0x12, 0x20}

// maxPeerIDLen bounds the input to ParsePeerID; a valid one is 52 characters.
const maxPeerIDLen = 64

// PeerIDFromKey returns the libp2p peer ID text form ("12D3KooW…") of an
// Ed25519 public key, computed without libp2p. It returns "" when pub is not
// ed25519.PublicKeySize bytes.
func PeerIDFromKey(pub ed25519.PublicKey) string {
	if len(pub) != ed25519.PublicKeySize {
		return ""
	}
	b := make([]byte, 0, len(peerIDPrefix)+len(pub))
	b = append(b, peerIDPrefix...)
	b = append(b, pub...)
	return base58Encode(b)
}

// ParsePeerID returns the Ed25519 public key inside a peer ID's text form.
// Anything else (other key types, hashed keys, CID forms, bad base58, wrong
// lengths) fails with ErrBadPeerID.
func ParsePeerID(s string) (ed25519.PublicKey, error) {
	if len(s) == 0 || len(s) > maxPeerIDLen {
		return nil, fmt.Errorf("keys: parse peer id: length %d: %w", len(s), ErrBadPeerID)
	}
	b, err := base58Decode(s)
	if err != nil {
		return nil, fmt.Errorf("keys: parse peer id: %w: %w", err, ErrBadPeerID)
	}
	if len(b) != len(peerIDPrefix)+ed25519.PublicKeySize || !bytes.HasPrefix(b, peerIDPrefix) {
		return nil, fmt.Errorf("keys: parse peer id: not an ed25519 identity key: %w", ErrBadPeerID)
	}
	return ed25519.PublicKey(bytes.Clone(b[len(peerIDPrefix):])), nil
}
