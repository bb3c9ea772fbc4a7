package seal

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"sync"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Domain prefixes. They are part of the wire format: changing one changes
// every signature and ID.
const (
	domainEvent   = "kite/event/v1\x00"
	domainEventID = "kite/event-id/v1\x00"
	domainProfile = "kite/profile/v1\x00"
)

// SignEvent signs a canonical event header with the author's key over
// "kite/event/v1\x00" || header.
//
// priv must be an ed25519.PrivateKey of ed25519.PrivateKeySize bytes; like
// ed25519.Sign, SignEvent panics otherwise, since that is a programming
// error, never a property of received data.
func SignEvent(priv ed25519.PrivateKey, header []byte) []byte {
	return voi.Sign(voi.PrivateKey(priv), withDomain(domainEvent, header))
}

// VerifyEvent checks an event header signature. It returns an error wrapping
// ErrBadSignature when the signature does not verify or when pub or sig has
// the wrong length.
func VerifyEvent(pub ed25519.PublicKey, header, sig []byte) error {
	if err := verify(pub, domainEvent, header, sig); err != nil {
		return fmt.Errorf("seal: verify event: %w", err)
	}
	return nil
}

// EventID is SHA-256("kite/event-id/v1\x00" || header).
func EventID(header []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(domainEventID))
	h.Write(header)
	var id [32]byte
	h.Sum(id[:0])
	return id
}

// BodyHash is SHA-256(body) with no domain prefix.
func BodyHash(body []byte) [32]byte {
	return sha256.Sum256(body)
}

// SignProfile signs canonical profile bytes over
// "kite/profile/v1\x00" || profile. It panics on a malformed private key,
// as SignEvent does.
func SignProfile(priv ed25519.PrivateKey, profile []byte) []byte {
	return voi.Sign(voi.PrivateKey(priv), withDomain(domainProfile, profile))
}

// VerifyProfile checks a profile signature; failures wrap ErrBadSignature.
func VerifyProfile(pub ed25519.PublicKey, profile, sig []byte) error {
	if err := verify(pub, domainProfile, profile, sig); err != nil {
		return fmt.Errorf("seal: verify profile: %w", err)
	}
	return nil
}

// zip215 is the one set of verification rules Kite uses, for single
// signatures and batches alike. Under ZIP-215 a batch accepts exactly the
// signatures that one-by-one verification accepts, so whether an event
// arrived alone or in a backlog never changes whether it is stored, and
// every peer agrees. (Go's crypto/ed25519 uses slightly different rules
// for crafted small-order keys and non-canonical points, and has no batch
// verification.) Signing stays with crypto/ed25519: its signatures are
// valid under both.
var zip215 = &voi.Options{Verify: voi.VerifyOptionsZIP_215}

func verify(pub ed25519.PublicKey, domain string, msg, sig []byte) error {
	if err := checkSizes(pub, sig); err != nil {
		return err
	}
	xp, err := expanded(pub)
	if err != nil || !voi.VerifyExpandedWithOptions(xp, withDomain(domain, msg), sig, zip215) {
		return ErrBadSignature
	}
	return nil
}

// recentKeys keeps the decompressed keys of recent signers: live events
// are checked one at a time, mostly by the same few people, and
// decompressing the key was a fifth of each check.
var recentKeys struct {
	sync.Mutex
	m map[[ed25519.PublicKeySize]byte]*voi.ExpandedPublicKey
}

const maxRecentKeys = 4096

func expanded(pub ed25519.PublicKey) (*voi.ExpandedPublicKey, error) {
	k := [ed25519.PublicKeySize]byte(pub)
	recentKeys.Lock()
	xp, ok := recentKeys.m[k]
	recentKeys.Unlock()
	if ok {
		return xp, nil
	}
	xp, err := voi.NewExpandedPublicKey(voi.PublicKey(pub))
	if err != nil {
		return nil, err
	}
	recentKeys.Lock()
	if recentKeys.m == nil || len(recentKeys.m) >= maxRecentKeys {
		recentKeys.m = make(map[[ed25519.PublicKeySize]byte]*voi.ExpandedPublicKey)
	}
	recentKeys.m[k] = xp
	recentKeys.Unlock()
	return xp, nil
}

func checkSizes(pub ed25519.PublicKey, sig []byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("public key is %d bytes, want %d: %w", len(pub), ed25519.PublicKeySize, ErrBadSignature)
	}
	if len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("signature is %d bytes, want %d: %w", len(sig), ed25519.SignatureSize, ErrBadSignature)
	}
	return nil
}

// SignedHeader is one event header and its signature by Pub, as received.
type SignedHeader struct {
	Pub    ed25519.PublicKey
	Header []byte
	Sig    []byte
}

// VerifyEvents checks many event signatures at once, which costs less than
// half as much per signature as VerifyEvent once there are a few dozen.
// errs[i] is what VerifyEvent would return for evs[i]; errs is nil when
// every signature verifies.
func VerifyEvents(evs []SignedHeader) (errs []error) {
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(evs))
		}
		errs[i] = fmt.Errorf("seal: verify event: %w", err)
	}
	if len(evs) == 1 {
		if err := VerifyEvent(evs[0].Pub, evs[0].Header, evs[0].Sig); err != nil {
			return []error{err}
		}
		return nil
	}
	bv := voi.NewBatchVerifierWithCapacity(len(evs))
	added := make([]int, 0, len(evs)) // batch entry → index in evs
	for i, e := range evs {
		if err := checkSizes(e.Pub, e.Sig); err != nil {
			fail(i, err)
			continue
		}
		xp, err := expanded(e.Pub)
		if err != nil {
			fail(i, ErrBadSignature)
			continue
		}
		bv.AddExpandedWithOptions(xp, withDomain(domainEvent, e.Header), e.Sig, zip215)
		added = append(added, i)
	}
	if len(added) == 0 {
		return errs
	}
	// On failure the verifier checks each entry alone to say which.
	if ok, valid := bv.Verify(nil); !ok {
		for j, i := range added {
			if !valid[j] {
				fail(i, ErrBadSignature)
			}
		}
	}
	return errs
}

func withDomain(domain string, msg []byte) []byte {
	b := make([]byte, 0, len(domain)+len(msg))
	b = append(b, domain...)
	return append(b, msg...)
}
