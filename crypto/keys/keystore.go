package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/nacl/secretbox"

	"kite/crypto/seal"
)

// FileName is the name of the keystore file inside the data dir.
const FileName = "identity.key"

const (
	fileVersion  = 1
	kdfArgon2id  = "argon2id"
	kdfNone      = "none"
	saltSize     = 16
	checkSize    = 16
	keysSize     = ed25519.PrivateKeySize + 32
	maxFileSize  = 64 << 10
	domainCheck  = "kite/keystore-check/v1\x00"
	maxTime      = 100
	maxMemoryKiB = 1 << 20 // 1 GiB: refuse files that would exhaust memory
)

// KDFParams are the argon2id cost parameters for sealing the keystore.
type KDFParams struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // lanes
}

// DefaultKDF takes about half a second per derivation on a 2-core machine
// and uses 192 MiB (measured in a fresh process on a 2-core x86-64 with
// Go 1.26: 0.50-0.52 s; 128 MiB gave 0.35 s, 256 MiB 0.75 s).
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 192 * 1024, Threads: 2}

func (p KDFParams) valid() error {
	if p.Time < 1 || p.Time > maxTime || p.Threads < 1 ||
		p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB {
		return fmt.Errorf("time %d, memory %d KiB, threads %d: %w", p.Time, p.MemoryKiB, p.Threads, ErrBadKDFParams)
	}
	return nil
}

// keyFile is the JSON form of identity.key.
type keyFile struct {
	Version   int    `json:"version"`
	KDF       string `json:"kdf"`
	Time      uint32 `json:"time,omitempty"`
	MemoryKiB uint32 `json:"memory_kib,omitempty"`
	Threads   uint8  `json:"threads,omitempty"`
	Salt      []byte `json:"salt,omitempty"`
	Nonce     []byte `json:"nonce,omitempty"`
	Check     []byte `json:"check,omitempty"`
	Keys      []byte `json:"keys"`
}

// rawKeyFile is keyFile with its byte fields still in base64, so that they
// are decoded strictly (encoding/json accepts some non-canonical base64).
type rawKeyFile struct {
	Version   int    `json:"version"`
	KDF       string `json:"kdf"`
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
	Salt      string `json:"salt"`
	Nonce     string `json:"nonce"`
	Check     string `json:"check"`
	Keys      string `json:"keys"`
}

func (f *keyFile) params() KDFParams {
	return KDFParams{Time: f.Time, MemoryKiB: f.MemoryKiB, Threads: f.Threads}
}

func (f *keyFile) sealed() bool { return f.KDF == kdfArgon2id }

// Exists reports whether dir holds a keystore file.
func Exists(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, FileName))
	return err == nil && fi.Mode().IsRegular()
}

// IsSealed reports whether the keystore in dir is protected by a passphrase.
// It fails with ErrNoIdentity or ErrCorruptKeyFile; when it returns false
// and no error, Load(dir, nil) succeeds.
func IsSealed(dir string) (bool, error) {
	f, err := readKeyFile(dir)
	if err != nil {
		return false, fmt.Errorf("keys: is sealed: %w", err)
	}
	if !f.sealed() {
		// Check the plain keys too, so that false means Load(dir, nil) works.
		if _, err := identityFromPrivate(f.Keys[:ed25519.PrivateKeySize], f.Keys[ed25519.PrivateKeySize:]); err != nil {
			return false, fmt.Errorf("keys: is sealed: %v: %w", err, ErrCorruptKeyFile)
		}
	}
	return f.sealed(), nil
}

// Save writes id to dir/identity.key, atomically and with mode 0600,
// creating dir with mode 0700 if needed. An empty passphrase stores the keys
// unsealed; otherwise they are sealed under argon2id(passphrase) with p.
// Save replaces any existing file: callers check Exists first.
func Save(dir string, id *Identity, passphrase []byte, p KDFParams) error {
	if err := save(dir, id, passphrase, p); err != nil {
		return fmt.Errorf("keys: save: %w", err)
	}
	return nil
}

// Load reads the identity in dir. It never creates anything. It fails with
// ErrNoIdentity when there is no file, ErrPassphraseNeeded when the file is
// sealed and passphrase is empty, ErrWrongPassphrase when it does not unlock
// the file, and ErrCorruptKeyFile for anything malformed. The passphrase is
// ignored when the file is not sealed.
func Load(dir string, passphrase []byte) (*Identity, error) {
	id, err := load(dir, passphrase)
	if err != nil {
		return nil, fmt.Errorf("keys: load: %w", err)
	}
	return id, nil
}

// ChangePassphrase re-seals the keystore in dir: oldPass unlocks it, and
// newPass (empty to remove the passphrase) seals it with p. On any error,
// including ErrWrongPassphrase, the file is left as it was.
func ChangePassphrase(dir string, oldPass, newPass []byte, p KDFParams) error {
	id, err := load(dir, oldPass)
	if err == nil {
		err = save(dir, id, newPass, p)
	}
	if err != nil {
		return fmt.Errorf("keys: change passphrase: %w", err)
	}
	return nil
}

func save(dir string, id *Identity, passphrase []byte, p KDFParams) error {
	if err := id.valid(); err != nil {
		return err
	}
	plain := make([]byte, 0, keysSize)
	plain = append(plain, id.SignPriv...)
	plain = append(plain, id.BoxPriv[:]...)
	defer clear(plain)

	f := keyFile{Version: fileVersion, KDF: kdfNone, Keys: plain}
	if len(passphrase) > 0 {
		if err := p.valid(); err != nil {
			return err
		}
		salt := make([]byte, saltSize)
		if _, err := rand.Read(salt); err != nil {
			return fmt.Errorf("read salt: %w", err)
		}
		key := deriveKey(passphrase, salt, p)
		defer clear(key[:])
		sealed, err := seal.Secret(plain, key)
		if err != nil {
			return err
		}
		f = keyFile{
			Version: fileVersion, KDF: kdfArgon2id,
			Time: p.Time, MemoryKiB: p.MemoryKiB, Threads: p.Threads,
			Salt: salt, Nonce: sealed[:seal.NonceSize], Check: keyCheck(key), Keys: sealed[seal.NonceSize:],
		}
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	data = append(data, '\n')
	defer clear(data)
	return writeAtomic(dir, data)
}

func load(dir string, passphrase []byte) (*Identity, error) {
	f, err := readKeyFile(dir)
	if err != nil {
		return nil, err
	}
	plain := f.Keys
	if f.sealed() {
		if len(passphrase) == 0 {
			return nil, ErrPassphraseNeeded
		}
		key := deriveKey(passphrase, f.Salt, f.params())
		defer clear(key[:])
		if subtle.ConstantTimeCompare(keyCheck(key), f.Check) != 1 {
			return nil, ErrWrongPassphrase
		}
		sealed := make([]byte, 0, len(f.Nonce)+len(f.Keys))
		sealed = append(append(sealed, f.Nonce...), f.Keys...)
		plain, err = seal.OpenSecret(sealed, key)
		if err != nil {
			return nil, fmt.Errorf("keys do not open: %w", ErrCorruptKeyFile)
		}
	}
	defer clear(plain)
	if len(plain) != keysSize {
		return nil, fmt.Errorf("keys are %d bytes, want %d: %w", len(plain), keysSize, ErrCorruptKeyFile)
	}
	id, err := identityFromPrivate(plain[:ed25519.PrivateKeySize], plain[ed25519.PrivateKeySize:])
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrCorruptKeyFile)
	}
	return id, nil
}

// readKeyFile reads and fully validates the structure of the keystore, so
// that a damaged file is reported as damaged before any passphrase is asked.
func readKeyFile(dir string) (*keyFile, error) {
	fh, err := os.Open(filepath.Join(dir, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoIdentity
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	defer clear(data)
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("file larger than %d bytes: %w", maxFileSize, ErrCorruptKeyFile)
	}
	f, err := parseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrCorruptKeyFile)
	}
	return f, nil
}

func parseKeyFile(data []byte) (*keyFile, error) {
	var raw rawKeyFile
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not a key file: %v", err)
	}
	if raw.Version != fileVersion {
		return nil, fmt.Errorf("version %d, want %d", raw.Version, fileVersion)
	}
	f := &keyFile{Version: raw.Version, KDF: raw.KDF, Time: raw.Time, MemoryKiB: raw.MemoryKiB, Threads: raw.Threads}
	var saltLen, nonceLen, checkLen, keysLen int
	switch f.KDF {
	case kdfNone:
		if f.params() != (KDFParams{}) {
			return nil, fmt.Errorf("kdf parameters on an unsealed file")
		}
		keysLen = keysSize
	case kdfArgon2id:
		if err := f.params().valid(); err != nil {
			return nil, err
		}
		saltLen, nonceLen, checkLen, keysLen = saltSize, seal.NonceSize, checkSize, keysSize+secretbox.Overhead
	default:
		return nil, fmt.Errorf("unknown kdf %q", f.KDF)
	}
	b64 := base64.StdEncoding.Strict()
	for _, fld := range []struct {
		name string
		in   string
		out  *[]byte
		size int
	}{
		{"salt", raw.Salt, &f.Salt, saltLen},
		{"nonce", raw.Nonce, &f.Nonce, nonceLen},
		{"check", raw.Check, &f.Check, checkLen},
		{"keys", raw.Keys, &f.Keys, keysLen},
	} {
		b, err := b64.DecodeString(fld.in)
		if err != nil {
			return nil, fmt.Errorf("%s: bad base64", fld.name)
		}
		if len(b) != fld.size {
			return nil, fmt.Errorf("%s is %d bytes, want %d", fld.name, len(b), fld.size)
		}
		*fld.out = b
	}
	return f, nil
}

func deriveKey(passphrase, salt []byte, p KDFParams) *[32]byte {
	k := argon2.IDKey(passphrase, salt, p.Time, p.MemoryKiB, p.Threads, 32)
	key := new([32]byte)
	copy(key[:], k)
	clear(k)
	return key
}

// keyCheck lets Load tell a wrong passphrase from damaged ciphertext. It
// reveals nothing more than the ciphertext does: testing a guess still costs
// one argon2id derivation.
func keyCheck(key *[32]byte) []byte {
	h := sha256.New()
	h.Write([]byte(domainCheck))
	h.Write(key[:])
	return h.Sum(nil)[:checkSize]
}

// writeAtomic replaces dir/identity.key with data: it writes a temporary
// file in the same dir, syncs it and renames it over the old one, so a crash
// leaves either the old file or the new one, never a mix.
func writeAtomic(dir string, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+FileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temp: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close() // may already be closed
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, FileName)); err != nil {
		return fmt.Errorf("rename: %w", err)
	}
	done = true
	syncDir(dir)
	return nil
}

// syncDir makes the rename durable where the platform allows it; failures
// are ignored (Windows cannot sync a directory).
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
