// Package keys owns a Kite device's identity: the Ed25519 signing key (which
// is also the libp2p peer ID) and the X25519 box key; the keystore file that
// holds them in the data dir; the text form of peer IDs; and contact codes,
// the kite: URIs people paste or scan to add each other.
//
// Keystore. One file, identity.key, mode 0600, in a directory created 0700.
// It is JSON:
//
//	{"version":1, "kdf":"argon2id"|"none", "time":3, "memory_kib":65536,
//	 "threads":2, "salt":b64, "nonce":b64, "check":b64, "keys":b64}
//
// keys is the 64-byte Ed25519 private key followed by the 32-byte box private
// key. With a passphrase it is sealed with secretbox (seal.Secret) under
// argon2id(passphrase, salt), and check is the first 16 bytes of
// SHA-256("kite/keystore-check/v1\x00" || key), which tells a wrong
// passphrase (ErrWrongPassphrase) from a damaged file (ErrCorruptKeyFile).
// Without a passphrase kdf is "none" and keys holds the plain bytes. Files
// are replaced atomically (temporary file, fsync, rename).
//
// This package must never create an identity behind the caller's back: Load
// only reads, and a wrong passphrase or a damaged file is an error, never a
// new key. It must never write a private key anywhere but the keystore file,
// never log, never panic on a file or code it reads, and never import
// anything of Kite's but kite/crypto/seal, nor any module other than the
// standard library and golang.org/x/crypto.
package keys
