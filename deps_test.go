package kite_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules keeps the dependency rule of DESIGN.md §1: the domain
// stays free of the GUI, the network and SQLite; the GUI never reaches
// past the domain; crypto depends on nothing of ours.
func TestImportRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool on PATH")
	}
	// Ed25519 signature checks may use curve25519-voi (DESIGN.md §10).
	voi := []string{"github.com/oasisprotocol/curve25519-voi/"}
	rules := []struct {
		pkg       string
		forbidden []string
		allowed   []string // exceptions to forbidden
	}{
		{"kite/app", []string{"fyne.io/", "github.com/libp2p/", "github.com/mattn/go-sqlite3", "kite/sync/", "kite/ui", "kite/app/store"}, nil},
		{"kite/app/localapi", []string{"fyne.io/", "github.com/libp2p/", "github.com/mattn/go-sqlite3", "kite/sync/", "kite/ui", "kite/app/store"}, nil},
		{"kite/app/store", []string{"fyne.io/", "github.com/libp2p/", "kite/sync/", "kite/ui"}, nil},
		{"kite/ui", []string{"kite/sync/", "kite/app/store", "github.com/libp2p/", "github.com/mattn/go-sqlite3", "fyne.io/fyne/v2/app"}, nil},
		{"kite/sync/wire", []string{"fyne.io/", "github.com/mattn/go-sqlite3", "kite/ui", "kite/app/store", "kite/sync/node"}, nil},
		{"kite/sync/node", []string{"fyne.io/", "github.com/mattn/go-sqlite3", "kite/ui", "kite/app/store"}, nil},
		{"kite/crypto/keys", []string{"kite/app", "kite/sync", "kite/ui", "fyne.io/", "github.com/"}, voi},
		{"kite/crypto/seal", []string{"kite/app", "kite/sync", "kite/ui", "kite/crypto/keys", "fyne.io/", "github.com/"}, voi},
	}
	for _, r := range rules {
		t.Run(r.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-tags", "sqlite_fts5", "-deps", r.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list %s: %v\n%s", r.pkg, err, out)
			}
		deps:
			for _, dep := range strings.Fields(string(out)) {
				for _, ok := range r.allowed {
					if strings.HasPrefix(dep, ok) {
						continue deps
					}
				}
				for _, bad := range r.forbidden {
					if dep == strings.TrimSuffix(bad, "/") || strings.HasPrefix(dep, bad) {
						t.Errorf("%s imports %s; want none of %q", r.pkg, dep, bad)
					}
				}
			}
		})
	}
}

// TestCryptoOnlyStdlib: crypto packages import only the standard library,
// golang.org/x/crypto and curve25519-voi's ed25519 (and seal, from keys).
func TestCryptoOnlyStdlib(t *testing.T) {
	for _, pkg := range []string{"kite/crypto/keys", "kite/crypto/seal"} {
		out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, imp := range strings.Fields(string(out)) {
			std := !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") && !strings.HasPrefix(imp, "kite")
			if !std && !strings.HasPrefix(imp, "golang.org/x/crypto/") && imp != "kite/crypto/seal" &&
				imp != "github.com/oasisprotocol/curve25519-voi/primitives/ed25519" {
				t.Errorf("%s imports %s; want only the standard library, golang.org/x/crypto and curve25519-voi's ed25519", pkg, imp)
			}
		}
	}
}

// TestPackageDocs: every package says what it owns.
func TestPackageDocs(t *testing.T) {
	out, err := exec.Command("go", "list", "-tags", "sqlite_fts5", "-f", "{{.ImportPath}}\t{{.Doc}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, doc, _ := strings.Cut(line, "\t")
		if strings.TrimSpace(doc) == "" {
			t.Errorf("package %s has no doc comment; want one saying what it owns", pkg)
		}
	}
}
