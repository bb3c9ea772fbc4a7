package keys

import "errors"

// Sentinel errors; test them with errors.Is. Messages are plain enough to
// show to a person.
var (
	// ErrNoIdentity means the data dir holds no identity file.
	ErrNoIdentity = errors.New("no identity in this data folder")
	// ErrWrongPassphrase means the passphrase does not unlock the keys.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrPassphraseNeeded means the keys are sealed and no passphrase was given.
	ErrPassphraseNeeded = errors.New("the identity is protected by a passphrase")
	// ErrCorruptKeyFile means the identity file is damaged or not a Kite key file.
	ErrCorruptKeyFile = errors.New("the identity file is damaged")
	// ErrBadPeerID means a string is not the text form of an Ed25519 peer ID.
	ErrBadPeerID = errors.New("not a valid peer ID")
	// ErrBadContactCode means a string is not a valid kite: contact code.
	ErrBadContactCode = errors.New("not a valid contact code")
	// ErrBadKDFParams means the argon2id parameters are out of range.
	ErrBadKDFParams = errors.New("invalid key derivation parameters")
)
