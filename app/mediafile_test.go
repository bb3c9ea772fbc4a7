package app_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"kite/app"
)

func TestSafeFileName(t *testing.T) {
	long := strings.Repeat("é", 120) + ".pdf"
	for _, tc := range []struct {
		name, mime, want string
	}{
		{"notes.txt", "text/plain; charset=utf-8", "notes.txt"},
		{"Report.PDF", "application/pdf", "Report.PDF"},
		{"beach.JPG", "image/jpeg", "beach.JPG"},
		{"holiday", "image/png", "holiday.png"},
		{"voice", "audio/ogg", "voice.ogg"},
		{"IMG_1.heic", "image/jpeg", "IMG_1.heic.jpg"}, // re-encoded: the bytes are a JPEG
		{"cat.exe", "image/png", "cat.exe.png"},        // a photo is opened as one
		{"archive.tar.gz", "application/gzip", "archive.tar.gz"},
		{"data", "application/octet-stream", "data"},
		// Only Kite's own table adds extensions: no ".exe" from a MIME type.
		{"setup", "application/x-msdownload", "setup"},
		{"", "image/jpeg", "file.jpg"},
		{"", "", "file"},
		// Hostile names.
		{"../../etc/passwd", "application/octet-stream", "passwd"},
		{`..\..\Windows\System32\evil.dll`, "application/octet-stream", "evil.dll"},
		{"dir/", "text/plain", "file.txt"},
		{"..", "", "file"},
		{".bashrc", "", "bashrc"},
		{"...hidden.txt", "text/plain", "hidden.txt"},
		{"a\x00b\nc\x1b[31m.txt", "text/plain", "abc[31m.txt"},
		{"photo\u202egpj.exe", "application/octet-stream", "photogpj.exe"},
		{"zero\u200bwidth.txt", "text/plain", "zerowidth.txt"},
		{"bad\xff\xfeutf8.txt", "text/plain", "badutf8.txt"},
		{`a<b>c:d"e|f?g*h.txt`, "text/plain", "a_b_c_d_e_f_g_h.txt"},
		{"notes.txt:secret", "text/plain", "notes.txt_secret.txt"},
		{"report.pdf. . ", "application/pdf", "report.pdf"},
		{"CON", "", "_CON"},
		{"nul.txt", "text/plain", "_nul.txt"},
		{"com1.tar.gz", "", "_com1.tar.gz"},
		{"LPT¹.txt", "text/plain", "_LPT¹.txt"},
		{"console.txt", "text/plain", "console.txt"},
		{long, "application/pdf", strings.Repeat("é", 48) + ".pdf"},
	} {
		got := app.SafeFileName(tc.name, tc.mime)
		if got != tc.want {
			t.Errorf("SafeFileName(%q, %q) = %q, want %q", tc.name, tc.mime, got, tc.want)
		}
	}
}

// TestSafeFileNameAnything: whatever a sender names a file, the name is
// one file in one directory, visible, and bounded.
func TestSafeFileNameAnything(t *testing.T) {
	pieces := []string{"a", "é", ".", "..", "/", `\`, " ", "\x00", "\n", "\u202e", "\xff", ":", "CON", "exe", "ｘ", "😀", "\t"}
	seed := uint64(1)
	next := func() uint64 { seed = seed*6364136223846793005 + 1442695040888963407; return seed >> 33 }
	t.Logf("seed 1 (a fixed LCG: every run checks the same names)")
	for range 5000 {
		var b strings.Builder
		for range next() % 40 {
			b.WriteString(pieces[next()%uint64(len(pieces))])
		}
		name := b.String()
		got := app.SafeFileName(name, "image/png")
		switch {
		case got == "" || len(got) > 100 || !utf8.ValidString(got):
			t.Fatalf("SafeFileName(%q) = %q: empty, too long or not UTF-8", name, got)
		case strings.ContainsAny(got, `/\:<>"|?*`) || strings.HasPrefix(got, ".") || strings.HasSuffix(got, " "):
			t.Fatalf("SafeFileName(%q) = %q: a separator, a reserved character or a leading dot", name, got)
		case strings.IndexFunc(got, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
			t.Fatalf("SafeFileName(%q) = %q: a control or formatting character", name, got)
		case !strings.HasSuffix(got, ".png"):
			t.Fatalf("SafeFileName(%q) = %q: a photo's name does not end in .png", name, got)
		}
	}
}

// sendNamed sends data as the file name in a's direct conversation.
func sendNamed(t *testing.T, a *device, conv app.ConvID, name string, data []byte) app.Message {
	t.Helper()
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ev, err := a.svc.SendFile(ctx, conv, p, app.MediaOptions{})
	if err != nil {
		t.Fatalf("send %q: %v", name, err)
	}
	m, err := a.svc.Message(ctx, ev.ID)
	if err != nil || m.Media == nil {
		t.Fatalf("message of %q: %v", name, err)
	}
	return m
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		img.Set(x, x%48, color.RGBA{G: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestMediaFileNamed(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	st := withStore(t, a, 0)
	conv, err := a.svc.Direct(ctx, b.key, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"notes.txt", []byte("hello\n"), "notes.txt"},
		{"Q3 report.pdf", []byte("%PDF-1.4 not really"), "Q3 report.pdf"},
		{"holiday", pngBytes(t), "holiday.png"},
		{`..\..\.profile`, []byte("export X=1\n"), "profile.txt"}, // text: its MIME type names it
		{"invoice\u202efdp.exe", []byte("MZ"), "invoicefdp.exe"},
		{".\n" + strings.Repeat("ü", 110) + ".txt", []byte("long"), strings.Repeat("ü", 48) + ".txt"},
	} {
		m := sendNamed(t, a, conv, tc.name, tc.data)
		p, err := a.svc.MediaFile(ctx, m.ID)
		if err != nil {
			t.Fatalf("media file of %q: %v", tc.name, err)
		}
		if got := filepath.Base(p); got != tc.want {
			t.Errorf("media file of %q is named %q, want %q", tc.name, got, tc.want)
		}
		// Under the blob store, beside the blobs, not elsewhere.
		root := filepath.Dir(filepath.Dir(st.Path(m.Media.Hash)))
		if rel, err := filepath.Rel(filepath.Join(root, "named"), p); err != nil || strings.HasPrefix(rel, "..") || strings.Count(rel, string(filepath.Separator)) != 1 {
			t.Errorf("media file %s is not one level under %s/named", p, root)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		blob, _ := os.ReadFile(st.Path(m.Media.Hash))
		if !bytes.Equal(got, blob) {
			t.Errorf("media file of %q holds %d bytes that are not the blob's %d", tc.name, len(got), len(blob))
		}
		fi, _ := os.Stat(p)
		bi, _ := os.Stat(st.Path(m.Media.Hash))
		if !os.SameFile(fi, bi) {
			t.Errorf("media file of %q is not a hard link to the blob (same file system here)", tc.name)
		}
		if fi.Mode().Perm()&0o222 != 0 {
			t.Errorf("media file of %q is writable: %v", tc.name, fi.Mode())
		}
	}
}

func TestMediaFileReused(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	st := withStore(t, a, 0)
	conv, err := a.svc.Direct(ctx, b.key, false)
	if err != nil {
		t.Fatal(err)
	}
	m := sendNamed(t, a, conv, "song.txt", []byte("la la la\n"))
	first, err := a.svc.MediaFile(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	fi1, err := os.Stat(first)
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.svc.MediaFile(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	fi2, _ := os.Stat(second)
	if second != first || !os.SameFile(fi1, fi2) {
		t.Fatalf("second call gave %s, want the same file %s", second, first)
	}
	entries, _ := os.ReadDir(filepath.Dir(first))
	if len(entries) != 1 {
		t.Errorf("the named dir holds %d entries after two calls, want 1 (no temp files left)", len(entries))
	}

	// A read-only copy (what a file system without hard links gets) is
	// reused too, not made again.
	os.Remove(first)
	blob, _ := os.ReadFile(st.Path(m.Media.Hash))
	if err := os.WriteFile(first, blob, 0o400); err != nil {
		t.Fatal(err)
	}
	cp, _ := os.Stat(first)
	if again, err := a.svc.MediaFile(ctx, m.ID); err != nil || again != first {
		t.Fatalf("with a copy in place: %s, %v", again, err)
	}
	if now, _ := os.Stat(first); !os.SameFile(cp, now) {
		t.Error("the read-only copy was replaced, want it reused")
	}

	// Anything else in its place (written to, say) is replaced by the blob.
	os.Remove(first)
	if err := os.WriteFile(first, []byte("edited by someone"), 0o600); err != nil {
		t.Fatal(err)
	}
	if again, err := a.svc.MediaFile(ctx, m.ID); err != nil || again != first {
		t.Fatalf("with another file in place: %s, %v", again, err)
	}
	if got, _ := os.ReadFile(first); !bytes.Equal(got, blob) {
		t.Errorf("after replacing: %q, want the blob %q", got, blob)
	}
}

func TestMediaFileRefusesViewOnce(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	st := withStore(t, a, 0)
	conv, err := a.svc.Direct(ctx, b.key, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []uint32{app.ModeViewOnce, app.ModeAllowReplay} {
		ev := sendPhoto(t, a, conv, pngBytes(t), mode)
		p, err := a.svc.MediaFile(ctx, ev.ID)
		var ue *app.UserError
		if err == nil || !errors.Is(err, app.ErrInvalid) || !errors.As(err, &ue) {
			t.Errorf("mode %d: got %q, %v; want a refusal in plain words", mode, p, err)
		}
	}
	// Nothing was named on disk for them.
	root := filepath.Dir(filepath.Dir(st.Path(app.Hash{})))
	if _, err := os.Stat(filepath.Join(root, "named")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a named dir exists after refusing view-once media: %v", err)
	}
}
