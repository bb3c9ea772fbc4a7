package app

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"kite/crypto/keys"
)

// PeerKey is a device identity: its Ed25519 public key, which is also its
// libp2p peer ID. String gives the peer ID text form ("12D3KooW…").
type PeerKey [32]byte

func (k PeerKey) String() string            { return keys.PeerIDFromKey(ed25519.PublicKey(k[:])) }
func (k PeerKey) Public() ed25519.PublicKey { return ed25519.PublicKey(k[:]) }
func (k PeerKey) IsZero() bool              { return k == PeerKey{} }

// ParsePeer parses a peer ID text form.
func ParsePeer(s string) (PeerKey, error) {
	pub, err := keys.ParsePeerID(strings.TrimSpace(s))
	if err != nil {
		return PeerKey{}, Userf(ErrInvalid, "%q is not a peer ID", s)
	}
	return PeerKeyOf(pub), nil
}

// PeerKeyOf converts a 32-byte public key; other lengths give the zero key.
func PeerKeyOf(b []byte) PeerKey {
	var k PeerKey
	if len(b) == len(k) {
		copy(k[:], b)
	}
	return k
}

// ConvID names a conversation: for 1:1 a hash of the two peers, for a group
// random. Text form is lowercase hex.
type ConvID [32]byte

func (c ConvID) String() string { return hex.EncodeToString(c[:]) }
func (c ConvID) IsZero() bool   { return c == ConvID{} }

// EventID is the hash of an event's canonical header. Text form is hex.
type EventID [32]byte

func (e EventID) String() string { return hex.EncodeToString(e[:]) }
func (e EventID) IsZero() bool   { return e == EventID{} }

// Short is the first 12 hex digits, enough to name an event in a listing.
func (e EventID) Short() string { return e.String()[:12] }

// ParseConvID parses the full hex form.
func ParseConvID(s string) (ConvID, error) {
	var c ConvID
	if err := parseHex32(s, c[:]); err != nil {
		return c, Userf(ErrInvalid, "%q is not a conversation ID", s)
	}
	return c, nil
}

// ParseEventID parses the full hex form.
func ParseEventID(s string) (EventID, error) {
	var e EventID
	if err := parseHex32(s, e[:]); err != nil {
		return e, Userf(ErrInvalid, "%q is not a message ID", s)
	}
	return e, nil
}

func parseHex32(s string, dst []byte) error {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return err
	}
	if len(b) != 32 {
		return fmt.Errorf("want 32 bytes, got %d", len(b))
	}
	copy(dst, b)
	return nil
}

func idOf(b []byte) (id [32]byte, ok bool) {
	if len(b) != 32 {
		return id, false
	}
	copy(id[:], b)
	return id, true
}

// DirectConvID is the ID of the 1:1 conversation between a and b: the same
// on both sides, and different for the end-to-end encrypted one.
func DirectConvID(a, b PeerKey, e2e bool) ConvID {
	if string(a[:]) > string(b[:]) {
		a, b = b, a
	}
	h := sha256.New()
	h.Write([]byte("kite/direct/v1\x00"))
	if e2e {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	h.Write(a[:])
	h.Write(b[:])
	var c ConvID
	copy(c[:], h.Sum(nil))
	return c
}

// Hash is a SHA-256 content hash or a 32-byte key; its text form is hex.
type Hash [32]byte

func (h Hash) IsZero() bool { return h == Hash{} }

// Text forms for JSON: zero values are the empty string.

func marshal32(b [32]byte, s string) ([]byte, error) {
	if b == ([32]byte{}) {
		return []byte{}, nil
	}
	return []byte(s), nil
}

func (k PeerKey) MarshalText() ([]byte, error) { return marshal32(k, k.String()) }
func (c ConvID) MarshalText() ([]byte, error)  { return marshal32(c, c.String()) }
func (e EventID) MarshalText() ([]byte, error) { return marshal32(e, e.String()) }
func (h Hash) MarshalText() ([]byte, error)    { return marshal32(h, hex.EncodeToString(h[:])) }

func (k *PeerKey) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*k = PeerKey{}
		return nil
	}
	p, err := ParsePeer(string(b))
	*k = p
	return err
}

func (c *ConvID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*c = ConvID{}
		return nil
	}
	return parseHex32(string(b), c[:])
}

func (e *EventID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*e = EventID{}
		return nil
	}
	return parseHex32(string(b), e[:])
}

func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*h = Hash{}
		return nil
	}
	return parseHex32(string(b), h[:])
}
