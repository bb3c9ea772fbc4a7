package seal

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"
)

// testKey is the Ed25519 key from the seed 0x00, 0x01, … 0x1f.
func testKey() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

var testHeader = []byte("kite test header")

// The expected values were computed once and cross-checked with Python's
// hashlib and the cryptography package's Ed25519, independently of this code.
func TestKnownAnswers(t *testing.T) {
	priv := testKey()
	pub := priv.Public().(ed25519.PublicKey)
	zeroPub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	tests := []struct {
		name string
		got  func() string
		want string
	}{
		{"public key", func() string { return hex.EncodeToString(pub) },
			"03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"},
		{"EventID", func() string { id := EventID(testHeader); return hex.EncodeToString(id[:]) },
			"4e7c3d1bc0f535b47776b84d9e8365cfd0e908709f5adffb1a28a72325e491a0"},
		{"SignEvent", func() string { return hex.EncodeToString(SignEvent(priv, testHeader)) },
			"5e1b509b8378f019245036feca3ef95ffb67928f15e36dfcb534ab9ada4bbe9da67f4c4b2e45b2ac8e4dd3a306adef300b990a513ce0132097ccac5d07705503"},
		{"SignProfile", func() string { return hex.EncodeToString(SignProfile(priv, testHeader)) },
			"61d330d8185c6fac9a518547d6ad9d74fb03c1d764e548acd0700a0b8876ecd5e4a6fcaf042a2ce3a640e2a5cd43e7f3c58a20c786fa5cb80bc47c9bdacb3105"},
		{"BodyHash abc", func() string { h := BodyHash([]byte("abc")); return hex.EncodeToString(h[:]) },
			"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"BodyHash empty", func() string { h := BodyHash(nil); return hex.EncodeToString(h[:]) },
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"SafetyNumber", func() string { return SafetyNumber(pub, zeroPub) },
			"36762 13572 59344 18020 24761 73004 64899 74586 80137 63565 51413 02957"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if err := VerifyEvent(pub, testHeader, SignEvent(priv, testHeader)); err != nil {
		t.Errorf("VerifyEvent of a fresh signature: got %v, want nil", err)
	}
	if err := VerifyProfile(pub, testHeader, SignProfile(priv, testHeader)); err != nil {
		t.Errorf("VerifyProfile of a fresh signature: got %v, want nil", err)
	}
}

func TestVerifyEventTamper(t *testing.T) {
	priv := testKey()
	pub := priv.Public().(ed25519.PublicKey)
	sig := SignEvent(priv, testHeader)

	for i := range testHeader {
		h := bytes.Clone(testHeader)
		h[i] ^= 0x01
		if err := VerifyEvent(pub, h, sig); !errors.Is(err, ErrBadSignature) {
			t.Errorf("header byte %d flipped: got %v, want ErrBadSignature", i, err)
		}
	}
	for i := range sig {
		s := bytes.Clone(sig)
		s[i] ^= 0x80
		if err := VerifyEvent(pub, testHeader, s); !errors.Is(err, ErrBadSignature) {
			t.Errorf("sig byte %d flipped: got %v, want ErrBadSignature", i, err)
		}
	}
	for i := range pub {
		p := bytes.Clone(pub)
		p[i] ^= 0x01
		if err := VerifyEvent(p, testHeader, sig); !errors.Is(err, ErrBadSignature) {
			t.Errorf("pub byte %d flipped: got %v, want ErrBadSignature", i, err)
		}
	}
	if err := VerifyEvent(pub, append(bytes.Clone(testHeader), 0), sig); !errors.Is(err, ErrBadSignature) {
		t.Errorf("header extended: got %v, want ErrBadSignature", err)
	}
}

func TestVerifyLengths(t *testing.T) {
	priv := testKey()
	pub := priv.Public().(ed25519.PublicKey)
	sig := SignEvent(priv, testHeader)
	tests := []struct {
		name string
		pub  ed25519.PublicKey
		sig  []byte
	}{
		{"nil pub", nil, sig},
		{"short pub", pub[:31], sig},
		{"long pub", append(bytes.Clone(pub), 0), sig},
		{"nil sig", pub, nil},
		{"short sig", pub, sig[:63]},
		{"long sig", pub, append(bytes.Clone(sig), 0)},
		{"private key as pub", ed25519.PublicKey(priv), sig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := VerifyEvent(tt.pub, testHeader, tt.sig); !errors.Is(err, ErrBadSignature) {
				t.Errorf("VerifyEvent: got %v, want ErrBadSignature", err)
			}
			if err := VerifyProfile(tt.pub, testHeader, tt.sig); !errors.Is(err, ErrBadSignature) {
				t.Errorf("VerifyProfile: got %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestDomainSeparation(t *testing.T) {
	priv := testKey()
	pub := priv.Public().(ed25519.PublicKey)
	msg := []byte("same bytes, two purposes")
	tests := []struct {
		name   string
		sig    []byte
		verify func(ed25519.PublicKey, []byte, []byte) error
	}{
		{"profile sig as event", SignProfile(priv, msg), VerifyEvent},
		{"event sig as profile", SignEvent(priv, msg), VerifyProfile},
		{"plain ed25519 as event", ed25519.Sign(priv, msg), VerifyEvent},
		{"plain ed25519 as profile", ed25519.Sign(priv, msg), VerifyProfile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.verify(pub, msg, tt.sig); !errors.Is(err, ErrBadSignature) {
				t.Errorf("got %v, want ErrBadSignature", err)
			}
		})
	}
	id, hash := EventID(msg), BodyHash(msg)
	if id == hash {
		t.Errorf("EventID equals BodyHash for the same bytes: got %x, want different", id)
	}
}

func TestSafetyNumber(t *testing.T) {
	a := testKey().Public().(ed25519.PublicKey)
	b := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	c := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)).Public().(ed25519.PublicKey)
	format := regexp.MustCompile(`^[0-9]{5}( [0-9]{5}){11}$`)

	ab, ba := SafetyNumber(a, b), SafetyNumber(b, a)
	if ab != ba {
		t.Errorf("SafetyNumber(b, a): got %q, want %q", ba, ab)
	}
	for _, pair := range [][2]ed25519.PublicKey{{a, b}, {a, c}, {b, c}, {a, a}} {
		if n := SafetyNumber(pair[0], pair[1]); !format.MatchString(n) {
			t.Errorf("format: got %q, want 12 groups of 5 digits", n)
		}
	}
	distinct := map[string]bool{ab: true}
	for _, n := range []string{SafetyNumber(a, c), SafetyNumber(b, c), SafetyNumber(a, a)} {
		if distinct[n] {
			t.Errorf("got repeated safety number %q for different key pairs, want distinct", n)
		}
		distinct[n] = true
	}
	if n := SafetyNumber(a[:31], b); n != "" {
		t.Errorf("short key: got %q, want empty", n)
	}
}

func FuzzVerifyEvent(f *testing.F) {
	priv := testKey()
	pub := priv.Public().(ed25519.PublicKey)
	f.Add([]byte(pub), testHeader, SignEvent(priv, testHeader))
	f.Add([]byte(pub), testHeader, SignProfile(priv, testHeader))
	f.Add([]byte{}, []byte{}, []byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 32), []byte("x"), bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, pub, header, sig []byte) {
		err := VerifyEvent(pub, header, sig)
		if err != nil && !errors.Is(err, ErrBadSignature) {
			t.Errorf("got %v, want nil or ErrBadSignature", err)
		}
	})
}

// TestVerifyEventsAgreesWithVerifyEvent: a batch says of every entry what
// one-by-one verification says, whatever else is in the batch.
func TestVerifyEventsAgreesWithVerifyEvent(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	var authors []ed25519.PrivateKey
	for i := range 3 {
		s := make([]byte, ed25519.SeedSize)
		s[0] = byte(i)
		authors = append(authors, ed25519.NewKeyFromSeed(s))
	}
	// Ways to spoil an entry; nil keeps it valid.
	spoil := []func(e *SignedHeader){
		nil, nil, nil,
		func(e *SignedHeader) { e.Sig = append([]byte(nil), e.Sig...); e.Sig[rng.IntN(64)] ^= 1 << rng.IntN(8) },
		func(e *SignedHeader) { e.Header = append(append([]byte(nil), e.Header...), 'x') },
		func(e *SignedHeader) { e.Pub = authors[(rng.IntN(2)+1)%3].Public().(ed25519.PublicKey) },
		func(e *SignedHeader) { e.Sig = e.Sig[:63] },
		func(e *SignedHeader) { e.Pub = e.Pub[:31] },
		func(e *SignedHeader) { e.Pub = make(ed25519.PublicKey, 32) }, // the identity point, small order
	}
	for round := range 50 {
		n := 1 + rng.IntN(70)
		evs := make([]SignedHeader, n)
		bad := rng.IntN(3) == 0 // a third of the batches carry spoiled entries
		for i := range evs {
			a := authors[rng.IntN(len(authors))]
			h := []byte(fmt.Sprintf("header %d.%d", round, i))
			evs[i] = SignedHeader{Pub: a.Public().(ed25519.PublicKey), Header: h, Sig: SignEvent(a, h)}
			if f := spoil[rng.IntN(len(spoil))]; bad && f != nil {
				f(&evs[i])
			}
		}
		errs := VerifyEvents(evs)
		for i, e := range evs {
			want := VerifyEvent(e.Pub, e.Header, e.Sig)
			var got error
			if errs != nil {
				if len(errs) != n {
					t.Fatalf("round %d: %d errors for %d entries", round, len(errs), n)
				}
				got = errs[i]
			}
			if (got == nil) != (want == nil) {
				t.Fatalf("round %d entry %d of %d: batch says %v, alone %v", round, i, n, got, want)
			}
			if got != nil && !errors.Is(got, ErrBadSignature) {
				t.Fatalf("round %d entry %d: %v does not wrap ErrBadSignature", round, i, got)
			}
		}
		if !bad && errs != nil {
			t.Fatalf("round %d: a batch of valid signatures has errors %v", round, errs)
		}
	}
}

// Signing is deterministic, so SignEvent and SignProfile must give what
// crypto/ed25519 gives over the same domain-prefixed bytes, whoever signs.
func TestSignMatchesStandardLibrary(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	for range 200 {
		s := make([]byte, ed25519.SeedSize)
		for i := range s {
			s[i] = byte(rng.Uint32())
		}
		priv := ed25519.NewKeyFromSeed(s)
		msg := make([]byte, rng.IntN(600))
		for i := range msg {
			msg[i] = byte(rng.Uint32())
		}
		if got, want := SignEvent(priv, msg), ed25519.Sign(priv, append([]byte(domainEvent), msg...)); !bytes.Equal(got, want) {
			t.Fatalf("SignEvent of %d bytes: got %x, want %x", len(msg), got, want)
		}
		if got, want := SignProfile(priv, msg), ed25519.Sign(priv, append([]byte(domainProfile), msg...)); !bytes.Equal(got, want) {
			t.Fatalf("SignProfile of %d bytes: got %x, want %x", len(msg), got, want)
		}
	}
}
