package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kite/crypto/keys"
)

// encodings of secret that must never appear in a data dir: raw, hex,
// and base64 (std and URL) of a 24-byte window at each of the three
// alignments, so it is found inside a longer base64 text too.
func encodings(secret []byte) [][]byte {
	out := [][]byte{
		secret,
		[]byte(hex.EncodeToString(secret)),
		[]byte(strings.ToUpper(hex.EncodeToString(secret))),
	}
	for off := range 3 {
		w := secret[off : off+24]
		out = append(out, []byte(base64.RawStdEncoding.EncodeToString(w)), []byte(base64.RawURLEncoding.EncodeToString(w)))
	}
	return out
}

// scan reports every file under dir that holds any of needles.
func scan(t *testing.T, dir string, needles [][]byte) []string {
	t.Helper()
	var hits []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&os.ModeSocket != 0 {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, n := range needles {
			if bytes.Contains(data, n) {
				hits = append(hits, path)
				break
			}
		}
		return nil
	})
	return hits
}

func TestPrivateKeyNowhereInDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "k")
	pass := filepath.Join(t.TempDir(), "pass")
	os.WriteFile(pass, []byte("a long passphrase"), 0o600)
	mustKite(t, "init", "--handle", "kim", "--passphrase-file", pass, "--data-dir", dir)
	b := initDir(t, "bob")
	mustKite(t, "contacts", "add", codeOf(t, b), "--data-dir", dir, "--passphrase-file", pass)
	mustKite(t, "send", "bob", "hello", "--e2e", "--data-dir", dir, "--passphrase-file", pass)
	mustKite(t, "send", "bob", "hello", "--data-dir", dir, "--passphrase-file", pass)
	id, err := keys.Load(dir, []byte("a long passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	var needles [][]byte
	for _, secret := range [][]byte{id.SignPriv, id.SignPriv.Seed(), id.BoxPriv[:]} {
		needles = append(needles, encodings(secret)...)
	}
	if hits := scan(t, dir, needles); len(hits) > 0 {
		t.Fatalf("private key bytes found in %v", hits)
	}
	// The check can fail: without a passphrase the key file holds them.
	mustKite(t, "passphrase", "remove", "--data-dir", dir, "--passphrase-file", pass)
	if hits := scan(t, dir, needles); len(hits) == 0 {
		t.Fatal("the scan finds nothing even in an unsealed key file; it cannot be trusted")
	}
}

func TestSafetyNumberCLI(t *testing.T) {
	a, b := initDir(t, "ada"), initDir(t, "bob")
	mustKite(t, "contacts", "add", codeOf(t, b), "--data-dir", a)
	mustKite(t, "contacts", "add", codeOf(t, a), "--data-dir", b)
	qr := filepath.Join(t.TempDir(), "s.png")
	out := mustKite(t, "safety", "bob", "--qr", qr, "--data-dir", a)
	back := mustKite(t, "safety", "ada", "--data-dir", b)
	num := strings.Split(strings.TrimSpace(out), "\n")[1]
	if len(strings.Fields(num)) != 12 || !strings.Contains(back, num) {
		t.Fatalf("safety numbers: ada sees %q, bob sees %q; want the same 12 groups", out, back)
	}
	if fi, err := os.Stat(qr); err != nil || fi.Size() == 0 {
		t.Fatalf("QR file: %v", err)
	}
}
