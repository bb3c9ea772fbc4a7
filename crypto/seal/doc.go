// Package seal owns Kite's cryptographic primitives for messages: the
// domain-separated Ed25519 signatures over canonical event headers and
// profiles, event IDs and body hashes, the safety number shown to users, and
// the NaCl box / secretbox envelopes used by end-to-end encrypted
// conversations.
//
// It is the only place in Kite that calls box.Seal or secretbox.Seal, and it
// draws every nonce from crypto/rand. Sealed output is always
// 24-byte nonce || ciphertext.
//
// Domains. Every signed or hashed structure is prefixed with its own
// NUL-terminated domain string, so a signature made for one purpose never
// verifies for another:
//
//	"kite/event/v1\x00"    event header signatures
//	"kite/event-id/v1\x00" event IDs (SHA-256)
//	"kite/profile/v1\x00"  profile signatures
//	"kite/safety/v1\x00"   safety numbers (iterated SHA-512)
//
// Body hashes are plain SHA-256 with no prefix, so they match what any
// peer computes over the bytes it stores.
//
// Signatures are made and verified with curve25519-voi, verified under
// ZIP-215 rules, alone or in batches (VerifyEvents): a backlog's signature
// checks were most of what catching up cost, and a batch costs less than
// half per signature. Ed25519 signing is deterministic (RFC 8032), so
// voi's signatures are byte for byte those of crypto/ed25519, in half the
// time; signing is on the path of every message sent.
//
// This package must never import anything of Kite's, nor any module other
// than the standard library, golang.org/x/crypto and curve25519-voi's
// ed25519; it must never encode
// headers itself (the caller hands over canonical bytes), never choose or
// reuse a nonce other than from crypto/rand, never log, and never panic on
// bytes that came from the network: the Open and Verify functions return
// errors for any input.
package seal
