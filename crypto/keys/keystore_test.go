package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// cheapKDF keeps the tests fast; DefaultKDF is measured in TestDefaultKDFCost.
var cheapKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

func newIdentity(t testing.TB) *Identity {
	t.Helper()
	id, err := Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return id
}

func sameIdentity(t *testing.T, got, want *Identity) {
	t.Helper()
	if !got.SignPub.Equal(want.SignPub) || !got.SignPriv.Equal(want.SignPriv) ||
		*got.BoxPub != *want.BoxPub || *got.BoxPriv != *want.BoxPriv {
		t.Errorf("loaded identity: got peer %s box %x, want peer %s box %x",
			got.PeerID(), got.BoxPub[:], want.PeerID(), want.BoxPub[:])
	}
}

func readFile(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatalf("read key file: %v", err)
	}
	return b
}

func TestSaveLoadRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		passphrase []byte
		sealed     bool
	}{
		{"unsealed nil", nil, false},
		{"unsealed empty", []byte{}, false},
		{"sealed", []byte("correct horse battery staple"), true},
		{"sealed unicode", []byte("пароль 🔑"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data", "nested")
			if Exists(dir) {
				t.Fatalf("Exists before Save: got true, want false")
			}
			id := newIdentity(t)
			if err := Save(dir, id, tt.passphrase, cheapKDF); err != nil {
				t.Fatalf("Save: %v", err)
			}
			if !Exists(dir) {
				t.Errorf("Exists after Save: got false, want true")
			}
			sealed, err := IsSealed(dir)
			if err != nil || sealed != tt.sealed {
				t.Errorf("IsSealed: got %v, %v, want %v, nil", sealed, err, tt.sealed)
			}
			got, err := Load(dir, tt.passphrase)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			sameIdentity(t, got, id)
			if got.PeerID() != id.PeerID() {
				t.Errorf("PeerID: got %s, want %s", got.PeerID(), id.PeerID())
			}

			if runtime.GOOS != "windows" {
				fi, err := os.Stat(filepath.Join(dir, FileName))
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != 0o600 {
					t.Errorf("file mode: got %o, want 600", got)
				}
				di, err := os.Stat(dir)
				if err != nil {
					t.Fatal(err)
				}
				if got := di.Mode().Perm(); got&0o077 != 0 {
					t.Errorf("dir mode: got %o, want 700", got)
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Errorf("files in data dir: got %d, want 1 (no temp files left)", len(entries))
			}
		})
	}
}

func TestLoadNothing(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir, nil); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("Load: got %v, want ErrNoIdentity", err)
	}
	if _, err := IsSealed(dir); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("IsSealed: got %v, want ErrNoIdentity", err)
	}
	missing := filepath.Join(dir, "missing")
	if _, err := Load(missing, []byte("x")); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("Load of a missing dir: got %v, want ErrNoIdentity", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load created the data dir: got %v, want not exist", err)
	}
	if Exists(dir) {
		t.Errorf("Exists: got true, want false")
	}
}

func TestWrongPassphrase(t *testing.T) {
	dir := t.TempDir()
	id := newIdentity(t)
	if err := Save(dir, id, []byte("right"), cheapKDF); err != nil {
		t.Fatalf("Save: %v", err)
	}
	before := readFile(t, dir)
	tests := []struct {
		name string
		pass []byte
		want error
	}{
		{"wrong", []byte("wrong"), ErrWrongPassphrase},
		{"prefix", []byte("righ"), ErrWrongPassphrase},
		{"nil", nil, ErrPassphraseNeeded},
		{"empty", []byte{}, ErrPassphraseNeeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Load(dir, tt.pass); !errors.Is(err, tt.want) {
				t.Errorf("Load: got %v, want %v", err, tt.want)
			}
			if err := ChangePassphrase(dir, tt.pass, []byte("new"), cheapKDF); !errors.Is(err, tt.want) {
				t.Errorf("ChangePassphrase: got %v, want %v", err, tt.want)
			}
			if after := readFile(t, dir); !bytes.Equal(after, before) {
				t.Errorf("key file changed after a failed attempt")
			}
		})
	}
	got, err := Load(dir, []byte("right"))
	if err != nil {
		t.Fatalf("Load with the right passphrase: %v", err)
	}
	sameIdentity(t, got, id)
}

func TestChangePassphrase(t *testing.T) {
	dir := t.TempDir()
	id := newIdentity(t)
	if err := Save(dir, id, nil, cheapKDF); err != nil {
		t.Fatalf("Save: %v", err)
	}
	steps := []struct {
		name     string
		old, new string
		sealed   bool
	}{
		{"set", "", "first", true},
		{"change", "first", "second", true},
		{"remove", "second", "", false},
		{"set again", "", "third", true},
	}
	for _, st := range steps {
		if err := ChangePassphrase(dir, []byte(st.old), []byte(st.new), cheapKDF); err != nil {
			t.Fatalf("%s: ChangePassphrase: %v", st.name, err)
		}
		sealed, err := IsSealed(dir)
		if err != nil || sealed != st.sealed {
			t.Errorf("%s: IsSealed: got %v, %v, want %v, nil", st.name, sealed, err, st.sealed)
		}
		got, err := Load(dir, []byte(st.new))
		if err != nil {
			t.Fatalf("%s: Load with the new passphrase: %v", st.name, err)
		}
		sameIdentity(t, got, id)
		if st.old != "" && st.sealed {
			if _, err := Load(dir, []byte(st.old)); !errors.Is(err, ErrWrongPassphrase) {
				t.Errorf("%s: Load with the old passphrase: got %v, want ErrWrongPassphrase", st.name, err)
			}
		}
	}
	if err := ChangePassphrase(dir, []byte("third"), []byte("x"), KDFParams{}); !errors.Is(err, ErrBadKDFParams) {
		t.Errorf("zero params: got %v, want ErrBadKDFParams", err)
	}
	if _, err := Load(dir, []byte("third")); err != nil {
		t.Errorf("Load after a refused change: got %v, want nil", err)
	}
}

func TestSaveRefusesBadInput(t *testing.T) {
	good := newIdentity(t)
	other := newIdentity(t)
	mismatched := *good
	mismatched.BoxPub = other.BoxPub
	mixed := *good
	mixed.SignPub = other.SignPub
	tests := []struct {
		name string
		id   *Identity
		p    KDFParams
		want error
	}{
		{"nil identity", nil, cheapKDF, nil},
		{"box pub mismatch", &mismatched, cheapKDF, nil},
		{"sign pub mismatch", &mixed, cheapKDF, nil},
		{"zero threads", good, KDFParams{Time: 1, MemoryKiB: 64}, ErrBadKDFParams},
		{"zero time", good, KDFParams{MemoryKiB: 64, Threads: 1}, ErrBadKDFParams},
		{"too little memory", good, KDFParams{Time: 1, MemoryKiB: 15, Threads: 2}, ErrBadKDFParams},
		{"too much memory", good, KDFParams{Time: 1, MemoryKiB: 1<<20 + 1, Threads: 1}, ErrBadKDFParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			err := Save(dir, tt.id, []byte("pass"), tt.p)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("Save: got %v, want an error (%v)", err, tt.want)
			}
			if Exists(dir) {
				t.Errorf("Exists after a refused Save: got true, want false")
			}
		})
	}
}

// editFile decodes the key file as a map, lets edit change it and writes it
// back.
func editFile(t *testing.T, dir string, edit func(m map[string]any)) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFile(t, dir), &m); err != nil {
		t.Fatalf("decode key file: %v", err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, b)
}

func writeFile(t *testing.T, dir string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// b64Edit decodes a base64 field, applies f and stores it again.
func b64Edit(field string, f func([]byte) []byte) func(map[string]any) {
	return func(m map[string]any) {
		b, _ := base64.StdEncoding.DecodeString(m[field].(string))
		m[field] = base64.StdEncoding.EncodeToString(f(b))
	}
}

func TestCorruptFiles(t *testing.T) {
	id := newIdentity(t)
	other := newIdentity(t)
	flip := func(i int) func([]byte) []byte {
		return func(b []byte) []byte { b[i] ^= 1; return b }
	}
	tests := []struct {
		name   string
		sealed bool
		break_ func(t *testing.T, dir string)
	}{
		{"empty file", false, func(t *testing.T, dir string) { writeFile(t, dir, nil) }},
		{"garbage", false, func(t *testing.T, dir string) { writeFile(t, dir, []byte("\x00\xff garbage")) }},
		{"json array", false, func(t *testing.T, dir string) { writeFile(t, dir, []byte("[]")) }},
		{"huge", false, func(t *testing.T, dir string) { writeFile(t, dir, bytes.Repeat([]byte(" "), 1<<20)) }},
		{"truncated json unsealed", false, func(t *testing.T, dir string) {
			b := readFile(t, dir)
			writeFile(t, dir, b[:len(b)/2])
		}},
		{"truncated json sealed", true, func(t *testing.T, dir string) {
			b := readFile(t, dir)
			writeFile(t, dir, b[:len(b)-3])
		}},
		{"trailing garbage", true, func(t *testing.T, dir string) {
			writeFile(t, dir, append(readFile(t, dir), "{}"...))
		}},
		{"version 2", false, func(t *testing.T, dir string) { editFile(t, dir, func(m map[string]any) { m["version"] = 2 }) }},
		{"unknown kdf", true, func(t *testing.T, dir string) { editFile(t, dir, func(m map[string]any) { m["kdf"] = "scrypt" }) }},
		{"sealed marked none", true, func(t *testing.T, dir string) { editFile(t, dir, func(m map[string]any) { m["kdf"] = "none" }) }},
		{"unsealed marked argon2id", false, func(t *testing.T, dir string) {
			editFile(t, dir, func(m map[string]any) { m["kdf"] = "argon2id" })
		}},
		{"zero threads", true, func(t *testing.T, dir string) { editFile(t, dir, func(m map[string]any) { m["threads"] = 0 }) }},
		{"threads too big", true, func(t *testing.T, dir string) { editFile(t, dir, func(m map[string]any) { m["threads"] = 300 }) }},
		{"negative time", true, func(t *testing.T, dir string) { editFile(t, dir, func(m map[string]any) { m["time"] = -1 }) }},
		{"memory 1 TiB", true, func(t *testing.T, dir string) {
			editFile(t, dir, func(m map[string]any) { m["memory_kib"] = 1 << 30 })
		}},
		{"bad base64 keys", false, func(t *testing.T, dir string) {
			editFile(t, dir, func(m map[string]any) { m["keys"] = "!!!notbase64" })
		}},
		{"bad base64 salt", true, func(t *testing.T, dir string) { editFile(t, dir, func(m map[string]any) { m["salt"] = "abc" }) }},
		{"keys as number", false, func(t *testing.T, dir string) { editFile(t, dir, func(m map[string]any) { m["keys"] = 5 }) }},
		{"keys short", false, func(t *testing.T, dir string) {
			editFile(t, dir, b64Edit("keys", func(b []byte) []byte { return b[:95] }))
		}},
		{"keys long", false, func(t *testing.T, dir string) {
			editFile(t, dir, b64Edit("keys", func(b []byte) []byte { return append(b, 0) }))
		}},
		{"sealed keys short", true, func(t *testing.T, dir string) {
			editFile(t, dir, b64Edit("keys", func(b []byte) []byte { return b[:len(b)-1] }))
		}},
		{"salt short", true, func(t *testing.T, dir string) {
			editFile(t, dir, b64Edit("salt", func(b []byte) []byte { return b[:8] }))
		}},
		{"nonce short", true, func(t *testing.T, dir string) {
			editFile(t, dir, b64Edit("nonce", func(b []byte) []byte { return b[:23] }))
		}},
		{"flipped ciphertext byte", true, func(t *testing.T, dir string) { editFile(t, dir, b64Edit("keys", flip(40))) }},
		{"flipped tag byte", true, func(t *testing.T, dir string) { editFile(t, dir, b64Edit("keys", flip(0))) }},
		{"flipped nonce byte", true, func(t *testing.T, dir string) { editFile(t, dir, b64Edit("nonce", flip(3))) }},
		{"sign pub does not match seed", false, func(t *testing.T, dir string) {
			editFile(t, dir, b64Edit("keys", func(b []byte) []byte { copy(b[32:64], other.SignPub); return b }))
		}},
		{"flipped seed byte", false, func(t *testing.T, dir string) { editFile(t, dir, b64Edit("keys", flip(5))) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var pass []byte
			if tt.sealed {
				pass = []byte("pass")
			}
			if err := Save(dir, id, pass, cheapKDF); err != nil {
				t.Fatalf("Save: %v", err)
			}
			tt.break_(t, dir)
			if _, err := Load(dir, pass); !errors.Is(err, ErrCorruptKeyFile) {
				t.Errorf("Load: got %v, want ErrCorruptKeyFile", err)
			}
			if _, err := Load(dir, []byte("another")); !errors.Is(err, ErrCorruptKeyFile) &&
				!errors.Is(err, ErrWrongPassphrase) {
				t.Errorf("Load with another passphrase: got %v, want ErrCorruptKeyFile or ErrWrongPassphrase", err)
			}
		})
	}
}

// TestNoPlainKeysOnDisk checks that with a passphrase the private keys appear
// in no file of the data dir, in any common encoding.
func TestNoPlainKeysOnDisk(t *testing.T) {
	dir := t.TempDir()
	id := newIdentity(t)
	if err := Save(dir, id, []byte("pass"), cheapKDF); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if err := ChangePassphrase(dir, []byte("pass"), []byte("pass2"), cheapKDF); err != nil {
		t.Fatalf("ChangePassphrase: %v", err)
	}
	secrets := map[string][]byte{
		"ed25519 seed":     id.SignPriv.Seed(),
		"ed25519 private":  id.SignPriv,
		"box private":      id.BoxPriv[:],
		"all private keys": append(append([]byte{}, id.SignPriv...), id.BoxPriv[:]...),
	}
	var needles []string
	for name, s := range secrets {
		for _, enc := range []string{
			string(s),
			hex.EncodeToString(s),
			strings.ToUpper(hex.EncodeToString(s)),
			base64.StdEncoding.EncodeToString(s),
			base64.RawStdEncoding.EncodeToString(s),
			base64.URLEncoding.EncodeToString(s),
			base64.RawURLEncoding.EncodeToString(s),
		} {
			needles = append(needles, name+"\x00"+enc)
		}
	}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			name, enc, _ := strings.Cut(n, "\x00")
			// Check a 16-byte (or longer) window so that a key split by
			// base64 alignment is still caught.
			if bytes.Contains(b, []byte(enc[:min(len(enc), 24)])) {
				t.Errorf("%s: got %s in an encoded form, want it absent", path, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDefaultKDFCost measures one derivation with DefaultKDF; it is skipped
// with -short.
func TestDefaultKDFCost(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: runs argon2id with DefaultKDF")
	}
	if err := DefaultKDF.valid(); err != nil {
		t.Fatalf("DefaultKDF: %v", err)
	}
	start := time.Now()
	deriveKey([]byte("passphrase"), make([]byte, saltSize), DefaultKDF)
	d := time.Since(start)
	t.Logf("DefaultKDF %+v: %v per derivation on %d CPUs", DefaultKDF, d, runtime.NumCPU())
	if d < 50*time.Millisecond {
		t.Errorf("DefaultKDF derivation: got %v, want at least 50ms", d)
	}
}

// FuzzLoad feeds arbitrary files to Load. It passes no passphrase, so a
// sealed file never runs argon2id with parameters chosen by the fuzzer.
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	id := seededIdentity()
	for _, pass := range [][]byte{nil, []byte("pass")} {
		if err := Save(dir, id, pass, cheapKDF); err != nil {
			f.Fatalf("Save: %v", err)
		}
		b, err := os.ReadFile(filepath.Join(dir, FileName))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":1,"kdf":"none","keys":""}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := Load(dir, nil)
		switch {
		case err == nil:
			if err := got.valid(); err != nil {
				t.Errorf("loaded an invalid identity: %v", err)
			}
		case !errors.Is(err, ErrCorruptKeyFile) && !errors.Is(err, ErrPassphraseNeeded):
			t.Errorf("got %v, want nil, ErrCorruptKeyFile or ErrPassphraseNeeded", err)
		}
		sealed, err := IsSealed(dir)
		if err == nil && !sealed {
			if _, err := Load(dir, nil); err != nil {
				t.Errorf("IsSealed false but Load: got %v, want nil", err)
			}
		}
	})
}
