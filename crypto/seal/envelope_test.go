package seal

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"golang.org/x/crypto/nacl/box"
)

type boxPair struct{ pub, priv *[32]byte }

func newPair(t testing.TB) boxPair {
	t.Helper()
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("box.GenerateKey: %v", err)
	}
	return boxPair{pub, priv}
}

func newSecret(t testing.TB) *[32]byte {
	t.Helper()
	k, err := NewSecretKey()
	if err != nil {
		t.Fatalf("NewSecretKey: %v", err)
	}
	return k
}

// envelopeCase seals with one party's view and opens with another's.
type envelopeCase struct {
	name string
	seal func([]byte) ([]byte, error)
	open func([]byte) ([]byte, error)
	// wrong opens with a key that must not work.
	wrong func([]byte) ([]byte, error)
}

func envelopeCases(t *testing.T) []envelopeCase {
	alice, bob, eve := newPair(t), newPair(t), newPair(t)
	aliceShared := Precompute(bob.pub, alice.priv)
	bobShared := Precompute(alice.pub, bob.priv)
	eveShared := Precompute(alice.pub, eve.priv)
	key, otherKey := newSecret(t), newSecret(t)
	return []envelopeCase{
		{
			name:  "box",
			seal:  func(m []byte) ([]byte, error) { return Box(m, bob.pub, alice.priv) },
			open:  func(s []byte) ([]byte, error) { return OpenBox(s, alice.pub, bob.priv) },
			wrong: func(s []byte) ([]byte, error) { return OpenBox(s, alice.pub, eve.priv) },
		},
		{
			name:  "box opened by sender",
			seal:  func(m []byte) ([]byte, error) { return Box(m, bob.pub, alice.priv) },
			open:  func(s []byte) ([]byte, error) { return OpenBox(s, bob.pub, alice.priv) },
			wrong: func(s []byte) ([]byte, error) { return OpenBox(s, eve.pub, alice.priv) },
		},
		{
			name:  "shared",
			seal:  func(m []byte) ([]byte, error) { return BoxShared(m, aliceShared) },
			open:  func(s []byte) ([]byte, error) { return OpenShared(s, bobShared) },
			wrong: func(s []byte) ([]byte, error) { return OpenShared(s, eveShared) },
		},
		{
			name:  "box then shared",
			seal:  func(m []byte) ([]byte, error) { return Box(m, bob.pub, alice.priv) },
			open:  func(s []byte) ([]byte, error) { return OpenShared(s, bobShared) },
			wrong: func(s []byte) ([]byte, error) { return OpenShared(s, eveShared) },
		},
		{
			name:  "shared then box",
			seal:  func(m []byte) ([]byte, error) { return BoxShared(m, aliceShared) },
			open:  func(s []byte) ([]byte, error) { return OpenBox(s, alice.pub, bob.priv) },
			wrong: func(s []byte) ([]byte, error) { return OpenBox(s, eve.pub, bob.priv) },
		},
		{
			name:  "secret",
			seal:  func(m []byte) ([]byte, error) { return Secret(m, key) },
			open:  func(s []byte) ([]byte, error) { return OpenSecret(s, key) },
			wrong: func(s []byte) ([]byte, error) { return OpenSecret(s, otherKey) },
		},
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	msgs := [][]byte{nil, {}, []byte("x"), []byte("hello, kite"), bytes.Repeat([]byte{0xa5}, 70000)}
	for _, c := range envelopeCases(t) {
		t.Run(c.name, func(t *testing.T) {
			for _, msg := range msgs {
				sealed, err := c.seal(msg)
				if err != nil {
					t.Fatalf("seal %d bytes: %v", len(msg), err)
				}
				if got, want := len(sealed), len(msg)+Overhead; got != want {
					t.Errorf("sealed length: got %d, want %d", got, want)
				}
				if len(msg) > 8 && bytes.Contains(sealed, msg[:8]) {
					t.Errorf("sealed bytes contain the plaintext")
				}
				got, err := c.open(sealed)
				if err != nil {
					t.Fatalf("open %d bytes: %v", len(msg), err)
				}
				if !bytes.Equal(got, msg) {
					t.Errorf("round trip of %d bytes: got %d bytes %.16x, want %.16x", len(msg), len(got), got, msg)
				}
				if _, err := c.wrong(sealed); !errors.Is(err, ErrOpen) {
					t.Errorf("wrong key: got %v, want ErrOpen", err)
				}
			}
		})
	}
}

func TestEnvelopeTamper(t *testing.T) {
	for _, c := range envelopeCases(t) {
		t.Run(c.name, func(t *testing.T) {
			sealed, err := c.seal([]byte("attack at dawn"))
			if err != nil {
				t.Fatalf("seal: %v", err)
			}
			for i := range sealed {
				s := bytes.Clone(sealed)
				s[i] ^= 0x01
				if _, err := c.open(s); !errors.Is(err, ErrOpen) {
					t.Errorf("byte %d flipped: got %v, want ErrOpen", i, err)
				}
			}
			if _, err := c.open(append(bytes.Clone(sealed), 0)); !errors.Is(err, ErrOpen) {
				t.Errorf("byte appended: got %v, want ErrOpen", err)
			}
		})
	}
}

func TestEnvelopeTooShort(t *testing.T) {
	for _, c := range envelopeCases(t) {
		t.Run(c.name, func(t *testing.T) {
			sealed, err := c.seal(nil)
			if err != nil {
				t.Fatalf("seal: %v", err)
			}
			for n := range Overhead {
				if _, err := c.open(sealed[:n]); !errors.Is(err, ErrTooShort) {
					t.Errorf("first %d bytes: got %v, want ErrTooShort", n, err)
				}
			}
			if _, err := c.open(sealed); err != nil {
				t.Errorf("empty message at exactly Overhead bytes: got %v, want nil", err)
			}
		})
	}
}

func TestBadKeys(t *testing.T) {
	p := newPair(t)
	sealed, err := Box([]byte("m"), p.pub, p.priv)
	if err != nil {
		t.Fatalf("Box: %v", err)
	}
	zero := new([32]byte)
	one := &[32]byte{1} // the identity point, order 1
	// A point of order 8 (from the list of low-order points in RFC 7748 errata / libsodium).
	order8 := &[32]byte{0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00}
	tests := []struct {
		name string
		run  func() error
	}{
		{"Box nil peer", func() error { _, err := Box(nil, nil, p.priv); return err }},
		{"Box nil priv", func() error { _, err := Box(nil, p.pub, nil); return err }},
		{"Box zero peer", func() error { _, err := Box(nil, zero, p.priv); return err }},
		{"Box order-1 peer", func() error { _, err := Box(nil, one, p.priv); return err }},
		{"Box order-8 peer", func() error { _, err := Box(nil, order8, p.priv); return err }},
		{"OpenBox nil peer", func() error { _, err := OpenBox(sealed, nil, p.priv); return err }},
		{"OpenBox nil priv", func() error { _, err := OpenBox(sealed, p.pub, nil); return err }},
		{"OpenBox zero peer", func() error { _, err := OpenBox(sealed, zero, p.priv); return err }},
		{"BoxShared nil", func() error { _, err := BoxShared(nil, nil); return err }},
		{"OpenShared nil", func() error { _, err := OpenShared(sealed, nil); return err }},
		{"BoxShared low order", func() error { _, err := BoxShared(nil, Precompute(order8, p.priv)); return err }},
		{"Secret nil", func() error { _, err := Secret(nil, nil); return err }},
		{"OpenSecret nil", func() error { _, err := OpenSecret(sealed, nil); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, ErrBadKey) {
				t.Errorf("got %v, want ErrBadKey", err)
			}
		})
	}
	if k := Precompute(zero, p.priv); k != nil {
		t.Errorf("Precompute with a zero peer key: got %x, want nil", *k)
	}
}

// TestNoncesUnique seals 1,000,000 messages (100,000 with -short) and
// checks that no nonce repeats.
func TestNoncesUnique(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	key := newSecret(t)
	p, q := newPair(t), newPair(t)
	shared := Precompute(q.pub, p.priv)
	seen := make(map[[NonceSize]byte]struct{}, n)
	for i := range n {
		var sealed []byte
		var err error
		if i%2 == 0 {
			sealed, err = Secret(nil, key)
		} else {
			sealed, err = BoxShared(nil, shared)
		}
		if err != nil {
			t.Fatalf("seal %d: %v", i, err)
		}
		nonce := [NonceSize]byte(sealed[:NonceSize])
		if _, dup := seen[nonce]; dup {
			t.Fatalf("seal %d: got repeated nonce %x, want all distinct", i, nonce)
		}
		seen[nonce] = struct{}{}
	}
	if len(seen) != n {
		t.Errorf("distinct nonces: got %d, want %d", len(seen), n)
	}
}

func FuzzOpenBox(f *testing.F) {
	alice, bob := boxPair{}, boxPair{}
	// Fixed keys so that the corpus stays meaningful between runs.
	alice.pub, alice.priv = fixedPair(1)
	bob.pub, bob.priv = fixedPair(2)
	valid, err := Box([]byte("hello"), bob.pub, alice.priv)
	if err != nil {
		f.Fatalf("Box: %v", err)
	}
	f.Add(valid)
	f.Add([]byte{})
	f.Add(make([]byte, Overhead))
	f.Add(valid[:Overhead-1])
	f.Fuzz(func(t *testing.T, sealed []byte) {
		msg, err := OpenBox(sealed, alice.pub, bob.priv)
		checkOpen(t, sealed, msg, err)
	})
}

func FuzzOpenSecret(f *testing.F) {
	key := &[32]byte{1, 2, 3}
	valid, err := Secret([]byte("hello"), key)
	if err != nil {
		f.Fatalf("Secret: %v", err)
	}
	f.Add(valid)
	f.Add([]byte{})
	f.Add(make([]byte, Overhead))
	f.Add(valid[:Overhead-1])
	f.Fuzz(func(t *testing.T, sealed []byte) {
		msg, err := OpenSecret(sealed, key)
		checkOpen(t, sealed, msg, err)
	})
}

func checkOpen(t *testing.T, sealed, msg []byte, err error) {
	t.Helper()
	switch {
	case len(sealed) < Overhead:
		if !errors.Is(err, ErrTooShort) {
			t.Errorf("%d bytes: got %v, want ErrTooShort", len(sealed), err)
		}
	case err != nil:
		if !errors.Is(err, ErrOpen) {
			t.Errorf("got %v, want nil or ErrOpen", err)
		}
	case len(msg) != len(sealed)-Overhead:
		t.Errorf("opened length: got %d, want %d", len(msg), len(sealed)-Overhead)
	}
}

func fixedPair(b byte) (pub, priv *[32]byte) {
	seed := bytes.Repeat([]byte{b}, 64)
	pub, priv, err := box.GenerateKey(bytes.NewReader(seed))
	if err != nil {
		panic(err) // bytes.Reader of 64 bytes cannot run short
	}
	return pub, priv
}
