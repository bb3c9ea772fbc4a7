package keys

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func seededKey(f func(i int) byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = f(i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

// The expected peer IDs were computed once with go-libp2p v0.51.0
// (peer.IDFromPublicKey) outside this package.
func TestPeerIDKnownAnswers(t *testing.T) {
	tests := []struct {
		name string
		key  ed25519.PrivateKey
		want string
	}{
		{"zero seed", seededKey(func(int) byte { return 0 }), "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"},
		{"seed 0..31", seededKey(func(i int) byte { return byte(i) }), "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := tt.key.Public().(ed25519.PublicKey)
			got := PeerIDFromKey(pub)
			if got != tt.want {
				t.Errorf("PeerIDFromKey: got %s, want %s", got, tt.want)
			}
			if !strings.HasPrefix(got, "12D3KooW") {
				t.Errorf("prefix: got %s, want 12D3KooW…", got)
			}
			back, err := ParsePeerID(got)
			if err != nil {
				t.Fatalf("ParsePeerID: %v", err)
			}
			if !back.Equal(pub) {
				t.Errorf("ParsePeerID: got %x, want %x", back, pub)
			}
		})
	}
	if got := PeerIDFromKey(make([]byte, 31)); got != "" {
		t.Errorf("PeerIDFromKey of a short key: got %q, want empty", got)
	}
}

func TestParsePeerIDRejects(t *testing.T) {
	valid := PeerIDFromKey(seededKey(func(int) byte { return 0 }).Public().(ed25519.PublicKey))
	secp := base58Encode(append([]byte{0x00, 0x25, 0x08, 0x02, 0x12, 0x21}, make([]byte, 33)...))
	tests := []struct {
		name, in string
	}{
		{"empty", ""},
		{"truncated", valid[:len(valid)-1]},
		{"extended", valid + "1"},
		{"bad base58 char 0", strings.Replace(valid, "D", "0", 1)},
		{"bad base58 char l", strings.Replace(valid, "D", "l", 1)},
		{"non-ascii", valid[:10] + "é" + valid[12:]},
		{"sha256 multihash", "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"},
		{"secp256k1 key", secp},
		{"cid form", "bafzaajaiaejcb6f3crbpamgxhhabekr6uvijbkvyoxr4xhn6e3ozd5adjomgmgfkq"},
		{"long", strings.Repeat("z", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParsePeerID(tt.in); !errors.Is(err, ErrBadPeerID) {
				t.Errorf("ParsePeerID(%q): got %v, want ErrBadPeerID", tt.in, err)
			}
		})
	}
}

func TestBase58KnownAnswers(t *testing.T) {
	// Vectors from Bitcoin Core's base58_encode_decode.json.
	tests := []struct{ hex, b58 string }{
		{"", ""},
		{"61", "2g"},
		{"626262", "a3gV"},
		{"636363", "aPEr"},
		{"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
		{"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
		{"516b6fcd0f", "ABnLTmg"},
		{"bf4f89001e670274dd", "3SEo3LWLoPntC"},
		{"572e4794", "3EFU7m"},
		{"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
		{"10c8511e", "Rt5zm"},
		{"00000000000000000000", "1111111111"},
	}
	for _, tt := range tests {
		b, _ := hex.DecodeString(tt.hex)
		if got := base58Encode(b); got != tt.b58 {
			t.Errorf("encode %s: got %q, want %q", tt.hex, got, tt.b58)
		}
		got, err := base58Decode(tt.b58)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("decode %q: got %x, %v, want %s, nil", tt.b58, got, err, tt.hex)
		}
	}
	for _, bad := range []string{"0", "O", "I", "l", "+", " ", "2g "} {
		if _, err := base58Decode(bad); err == nil {
			t.Errorf("decode %q: got nil error, want an error", bad)
		}
	}
}

func TestBase58RoundTripRandom(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	for range 2000 {
		b := make([]byte, r.IntN(70))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		// Leading zero bytes are a special case in base58.
		for i := range min(r.IntN(4), len(b)) {
			b[i] = 0
		}
		s := base58Encode(b)
		got, err := base58Decode(s)
		if err != nil {
			t.Fatalf("decode %q of %x: %v", s, b, err)
		}
		if !bytes.Equal(got, b) {
			t.Fatalf("round trip: got %x, want %x (via %q)", got, b, s)
		}
		if again := base58Encode(got); again != s {
			t.Fatalf("re-encode: got %q, want %q", again, s)
		}
	}
}
