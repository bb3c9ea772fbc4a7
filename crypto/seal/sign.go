package seal

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
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
	return ed25519.Sign(priv, withDomain(domainEvent, header))
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
	return ed25519.Sign(priv, withDomain(domainProfile, profile))
}

// VerifyProfile checks a profile signature; failures wrap ErrBadSignature.
func VerifyProfile(pub ed25519.PublicKey, profile, sig []byte) error {
	if err := verify(pub, domainProfile, profile, sig); err != nil {
		return fmt.Errorf("seal: verify profile: %w", err)
	}
	return nil
}

func verify(pub ed25519.PublicKey, domain string, msg, sig []byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("public key is %d bytes, want %d: %w", len(pub), ed25519.PublicKeySize, ErrBadSignature)
	}
	if len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("signature is %d bytes, want %d: %w", len(sig), ed25519.SignatureSize, ErrBadSignature)
	}
	if !ed25519.Verify(pub, withDomain(domain, msg), sig) {
		return ErrBadSignature
	}
	return nil
}

func withDomain(domain string, msg []byte) []byte {
	b := make([]byte, 0, len(domain)+len(msg))
	b = append(b, domain...)
	return append(b, msg...)
}
