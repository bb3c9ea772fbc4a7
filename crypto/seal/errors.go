package seal

import "errors"

// Sentinel errors. Callers test them with errors.Is; the functions in this
// package may wrap them with the operation that failed.
var (
	// ErrBadSignature means a signature did not verify, or the key or
	// signature had the wrong length.
	ErrBadSignature = errors.New("seal: bad signature")
	// ErrOpen means a sealed envelope failed authentication: wrong key or
	// tampered bytes.
	ErrOpen = errors.New("seal: cannot open envelope")
	// ErrTooShort means a sealed envelope is shorter than nonce + overhead.
	ErrTooShort = errors.New("seal: envelope too short")
	// ErrBadKey means a key was nil, or a peer's box public key is a
	// low-order point that would make the shared secret predictable.
	ErrBadKey = errors.New("seal: bad key")
)
