package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"kite/app"
	"kite/app/localapi"
	"kite/app/media"
)

// markedPNG is a small PNG whose tEXt chunk and (uncompressed) pixel rows
// carry marker.
func markedPNG(t *testing.T, marker string) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 64, 8))
	for y := range 8 {
		for x := range 64 {
			img.SetGray(x, y, color.Gray{Y: byte(x * y)})
		}
	}
	copy(img.Pix[3*img.Stride:], marker) // a row of pixels spells the marker
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// Insert a tEXt chunk after IHDR (8-byte signature + 25-byte IHDR).
	text := append([]byte("Comment\x00"), marker...)
	chunk := pngChunk("tEXt", text)
	out := append(append(append([]byte{}, b[:33]...), chunk...), b[33:]...)
	if !bytes.Contains(out, []byte(marker)) {
		t.Fatal("the PNG does not carry the marker")
	}
	if _, err := png.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("marked PNG does not decode: %v", err)
	}
	return out
}

func pngChunk(typ string, data []byte) []byte {
	var c bytes.Buffer
	n := len(data)
	c.Write([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	c.WriteString(typ)
	c.Write(data)
	crc := crc32IEEE(append([]byte(typ), data...))
	c.Write([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	return c.Bytes()
}

func crc32IEEE(b []byte) uint32 {
	crc := ^uint32(0)
	for _, x := range b {
		crc ^= uint32(x)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xedb88320
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

// markerForms are the ways the marker could show up on disk: raw, hex
// (both cases), and base64 (standard and URL, at every alignment).
func markerForms(marker string) [][]byte {
	m := []byte(marker)
	forms := [][]byte{m, []byte(hex.EncodeToString(m)), []byte(strings.ToUpper(hex.EncodeToString(m)))}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		for k := range 3 {
			s := enc.EncodeToString(append(make([]byte, k), m...))
			if k > 0 {
				s = s[4:]
			}
			forms = append(forms, []byte(s[:len(s)-4]))
		}
	}
	return forms
}

// findMarker walks roots and returns the files holding any form of the
// marker. It never prints the marker.
func findMarker(t *testing.T, marker string, roots ...string) []string {
	t.Helper()
	forms := markerForms(marker)
	var hits []string
	seen := map[string]bool{}
	for _, root := range roots {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || seen[path] {
				return nil
			}
			seen[path] = true
			info, err := d.Info()
			if err != nil || info.Size() > 512<<20 {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			for _, f := range forms {
				if bytes.Contains(b, f) {
					hits = append(hits, path)
					break
				}
			}
			return nil
		})
	}
	return hits
}

// stop ends a kite serve cleanly (SQLite checkpoints its WAL).
func (p *proc) stop() {
	p.t.Helper()
	if p.cmd.Process == nil || p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		p.t.Errorf("kite serve on %s did not stop on SIGTERM", filepath.Base(p.dir))
		p.kill()
	}
}

// sendViewOnceFile sends path as view-once media with `kite send-file`,
// or, while that command does not exist, through the local API.
func sendViewOnceFile(t *testing.T, p *proc, to, path string, replay bool) app.EventID {
	t.Helper()
	flag := "--view-once"
	if replay {
		flag = "--allow-replay"
	}
	out, err := kite(t, "send-file", to, path, flag, "--json", "--data-dir", p.dir)
	if err == nil {
		var s localapi.Sent
		if json.Unmarshal([]byte(out), &s) == nil && !s.ID.IsZero() {
			return s.ID
		}
		var ss []localapi.Sent
		if json.Unmarshal([]byte(out), &ss) == nil && len(ss) == 1 && !ss[0].ID.IsZero() {
			return ss[0].ID
		}
		t.Fatalf("kite send-file --json: cannot read the sent message from %d bytes of output", len(out))
	}
	if msg := plain(err); !strings.Contains(msg, "unknown command") && !strings.Contains(msg, "flag provided but not defined") {
		t.Fatalf("kite send-file %s: %v", flag, msg)
	}
	var s localapi.Sent
	p.do(http.MethodPost, "/v1/conversations/"+to+"/view-once", localapi.ViewOnceReq{Path: path, Replay: replay}, &s)
	return s.ID
}

func ephemeralInfo(p *proc, id app.EventID) localapi.EphemeralInfo {
	var e localapi.EphemeralInfo
	p.api.Do(context.Background(), http.MethodGet, "/v1/messages/"+id.String()+"/ephemeral", nil, &e)
	return e
}

func viewCLI(t *testing.T, dir string, id app.EventID) (localapi.Viewed, error) {
	t.Helper()
	out, err := kite(t, "view", id.String(), "--json", "--data-dir", dir)
	if err != nil {
		return localapi.Viewed{}, err
	}
	var v localapi.Viewed
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("kite view --json: %v", err)
	}
	return v, nil
}

func TestViewOnceLeavesNoTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	marker := "KITE-VIEWONCE-" + hex.EncodeToString(rnd[:]) // never printed
	pic := markedPNG(t, marker)
	// What is sent is the photo without its metadata (the tEXt chunk
	// with the marker goes): its hash is what the viewer must see.
	clean, _, _, _, _, err := media.PreparePhoto(pic)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(clean, []byte(marker)) {
		t.Fatal("the photo still carries its text metadata after cleaning")
	}
	sum := sha256.Sum256(clean)
	want := hex.EncodeToString(sum[:])

	a, b, da, db := connectedPair(t)
	srcDir := t.TempDir()
	send := func(replay bool) app.EventID {
		path := filepath.Join(srcDir, "photo.png")
		if err := os.WriteFile(path, pic, 0o600); err != nil {
			t.Fatal(err)
		}
		id := sendViewOnceFile(t, a, "bob", path, replay)
		// The source file is the user's own; it goes before the search.
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "bob has it in memory", func() bool { return ephemeralInfo(b, id).State == app.EphemeralReady })
		return id
	}

	// View once.
	once := send(false)
	var m app.Message
	b.do(http.MethodGet, "/v1/messages/"+once.String(), nil, &m)
	if m.Media == nil || m.Media.Mode != app.ModeViewOnce || m.Media.MIME != "image/png" {
		t.Fatalf("bob's message: got media %+v, want a view-once PNG", m.Media)
	}
	v, err := viewCLI(t, db, once)
	if err != nil {
		t.Fatalf("kite view: %v", plain(err))
	}
	if v.SHA256 != want || v.Size != len(clean) || v.State != app.EphemeralViewed {
		t.Fatalf("kite view: got %d bytes, sha256 %s, state %s; want %d, %s, viewed", v.Size, v.SHA256, v.State, len(clean), want)
	}
	if _, err := viewCLI(t, db, once); err == nil || !strings.Contains(plain(err), "already viewed") {
		t.Fatalf("second view: got %v, want already viewed", err)
	}
	waitFor(t, 10*time.Second, "ada sees Opened in kite messages --json", func() bool {
		var ms []app.Message
		if json.Unmarshal([]byte(mustKite(t, "messages", "bob", "--json", "--data-dir", da)), &ms) != nil {
			return false
		}
		for _, m := range ms {
			if m.ID == once && m.Media != nil && m.Media.Opened {
				return true
			}
		}
		return false
	})
	if e := ephemeralInfo(a, once); e.State != app.EphemeralViewed || len(e.OpenedBy) != 1 || e.OpenedBy[0] != b.key {
		t.Fatalf("ada's view of it: got %+v, want viewed, opened by bob", e)
	}

	// Allow one replay: two views, the third refused.
	replay := send(true)
	for i := range 2 {
		v, err := viewCLI(t, db, replay)
		if err != nil || v.SHA256 != want {
			t.Fatalf("replay view %d: got %v, %v", i+1, v.SHA256, err)
		}
	}
	if _, err := viewCLI(t, db, replay); err == nil || !strings.Contains(plain(err), "already viewed") {
		t.Fatalf("third view of a replay: got %v, want already viewed", err)
	}

	// One left unviewed, for the restart.
	unviewed := send(false)

	// It cannot be forwarded or saved, by either side.
	for _, c := range []struct {
		dir string
		id  app.EventID
		to  string
	}{{db, unviewed, "ada"}, {da, unviewed, "bob"}, {db, once, "ada"}} {
		if _, err := kite(t, "forward", c.id.String(), c.to, "--data-dir", c.dir); err == nil || !strings.Contains(plain(err), "view-once") {
			t.Fatalf("forward view-once: got %v, want a refusal", err)
		}
	}
	for _, dir := range []string{db, da} {
		out, err := kite(t, "save", unviewed.String(), filepath.Join(srcDir, "saved.png"), "--data-dir", dir)
		switch {
		case err == nil:
			t.Fatalf("kite save of view-once media: got %q and no error", out)
		case strings.Contains(plain(err), "unknown command"):
			t.Log("kite save does not exist yet: nothing saves media to a file")
		case !strings.Contains(plain(err), "view-once"):
			t.Fatalf("kite save of view-once media: got %q, want a view-once refusal", plain(err))
		}
		if _, err := os.Stat(filepath.Join(srcDir, "saved.png")); err == nil {
			t.Fatal("kite save wrote the view-once photo to a file")
		}
	}

	// The search finds what it looks for (a planted base64 copy) …
	plant := filepath.Join(srcDir, "plant.txt")
	if err := os.WriteFile(plant, []byte("x"+base64.StdEncoding.EncodeToString([]byte("ab"+marker))+"y"), 0o600); err != nil {
		t.Fatal(err)
	}
	if hits := findMarker(t, marker, srcDir); len(hits) != 1 {
		t.Fatalf("search self-check: got %d hits, want 1", len(hits))
	}
	os.Remove(plant)
	// … and finds no trace while running …
	roots := []string{da, db, os.TempDir()}
	if hits := findMarker(t, marker, roots...); len(hits) > 0 {
		t.Fatalf("the marker is on disk while running, in %v", hits)
	}
	// … nor once both stopped (SQLite checkpoints its WAL on close).
	a.stop()
	b.stop()
	if hits := findMarker(t, marker, roots...); len(hits) > 0 {
		t.Fatalf("the marker is on disk after stopping, in %v", hits)
	}

	// After a restart the unviewed one has expired on both sides.
	a, b = startServe(t, da), startServe(t, db)
	if st := ephemeralInfo(b, unviewed).State; st != app.EphemeralExpired {
		t.Fatalf("bob's unviewed photo after a restart: got %q, want expired", st)
	}
	if _, err := viewCLI(t, db, unviewed); err == nil || !strings.Contains(plain(err), "expired") {
		t.Fatalf("view after a restart: got %v, want expired", err)
	}
	if st := ephemeralInfo(a, unviewed).State; st != app.EphemeralExpired {
		t.Fatalf("ada's unviewed photo after a restart: got %q, want expired", st)
	}
	if st := ephemeralInfo(a, once).State; st != app.EphemeralViewed {
		t.Fatalf("ada's opened photo after a restart: got %q, want viewed", st)
	}
	out := mustKite(t, "view", once.String(), "--info", "--data-dir", da)
	if !strings.Contains(out, "viewed; opened by") {
		t.Fatalf("kite view --info: got %q", out)
	}
	a.stop()
	b.stop()
	if hits := findMarker(t, marker, roots...); len(hits) > 0 {
		t.Fatalf("the marker is on disk after the restart, in %v", hits)
	}
}
