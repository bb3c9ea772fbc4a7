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

	"kite/app"
	"kite/app/blobs"
)

func withStore(t *testing.T, d *device, max int64) *blobs.Store {
	t.Helper()
	st, err := blobs.Open(filepath.Join(t.TempDir(), "blobs"), max)
	if err != nil {
		t.Fatal(err)
	}
	d.svc.SetBlobs(st)
	return st
}

func TestSendFilePhotoAndFile(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	sa := withStore(t, a, 0)
	conv, err := a.svc.Direct(ctx, b.key, false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	// A photo: dimensions and a thumbnail, cleaned bytes stored.
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for x := range 640 {
		img.Set(x, x%480, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	photo := filepath.Join(dir, "beach.png")
	os.WriteFile(photo, buf.Bytes(), 0o600)
	ev, err := a.svc.SendFile(ctx, conv, photo, app.MediaOptions{Caption: "beach"})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := a.svc.Message(ctx, ev.ID)
	if m.Media == nil || m.Media.MIME != "image/png" || m.Media.Width != 640 || m.Media.Height != 480 || len(m.Media.Thumbnail) == 0 || m.Media.Caption != "beach" {
		t.Fatalf("photo message: got %+v", m.Media)
	}
	if !sa.Has(m.Media.Hash) {
		t.Fatal("the photo is not in the blob store")
	}

	// Any other file goes as it is.
	doc := filepath.Join(dir, "notes.txt")
	os.WriteFile(doc, []byte("hello\n"), 0o600)
	ev, err = a.svc.SendFile(ctx, conv, doc, app.MediaOptions{ReplyTo: ev.ID})
	if err != nil {
		t.Fatal(err)
	}
	m, _ = a.svc.Message(ctx, ev.ID)
	if m.Media == nil || m.Media.Name != "notes.txt" || m.Media.Size != 6 || !strings.HasPrefix(m.Media.MIME, "text/plain") || m.ReplyTo.IsZero() {
		t.Fatalf("file message: got %+v, reply to %v", m.Media, m.ReplyTo)
	}
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o700)
	if err := a.svc.SaveMedia(ctx, ev.ID, out); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "notes.txt")); string(got) != "hello\n" {
		t.Fatalf("saved: got %q", got)
	}
	if p, err := a.svc.MediaFile(ctx, ev.ID); err != nil || filepath.Base(p) != "notes.txt" {
		t.Fatalf("media file: got %q, %v", p, err)
	}

	// Refusals in plain words, before anything is sent.
	for _, tc := range []struct {
		path string
		opts app.MediaOptions
		want error
	}{
		{filepath.Join(dir, "missing"), app.MediaOptions{}, app.ErrNotFound},
		{dir, app.MediaOptions{}, app.ErrInvalid},
		{doc, app.MediaOptions{Mode: 7}, app.ErrInvalid},
		{doc, app.MediaOptions{Caption: strings.Repeat("x", app.MaxTextRunes+1)}, app.ErrInvalid},
	} {
		_, err := a.svc.SendFile(ctx, conv, tc.path, tc.opts)
		var ue *app.UserError
		if !errors.Is(err, tc.want) || !errors.As(err, &ue) {
			t.Errorf("send %s %+v: got %v, want %v in plain words", filepath.Base(tc.path), tc.opts.Mode, err, tc.want)
		}
	}
}

func TestSaveMediaWhileDownloading(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	withStore(t, a, 0)
	withStore(t, b, 0)
	conv, _ := a.svc.Direct(ctx, b.key, false)
	f := filepath.Join(t.TempDir(), "f.bin")
	os.WriteFile(f, bytes.Repeat([]byte{1}, 1000), 0o600)
	ev, err := a.svc.SendFile(ctx, conv, f, app.MediaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, a, b, conv)
	err = b.svc.SaveMedia(ctx, ev.ID, filepath.Join(t.TempDir(), "x"))
	if err == nil || !strings.Contains(app.Plain(err), "has not arrived yet") {
		t.Fatalf("save before the download: got %v", err)
	}
	m, _ := b.svc.Message(ctx, ev.ID)
	b.svc.ProgressFrom(m.Media.Hash, a.key, 400, 1000, nil)
	err = b.svc.SaveMedia(ctx, ev.ID, filepath.Join(t.TempDir(), "x"))
	if err == nil || !strings.Contains(app.Plain(err), "still downloading: 40%") {
		t.Fatalf("save while downloading: got %v, want the progress in words", err)
	}
	if ts := b.svc.Transfers(); len(ts) != 1 || ts[0].Done != 400 || ts[0].Peer != a.key {
		t.Fatalf("transfers: got %+v", ts)
	}
}

func TestSendFileOverCap(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	withStore(t, a, 1000)
	conv, _ := a.svc.Direct(ctx, b.key, false)
	f := filepath.Join(t.TempDir(), "f.bin")
	os.WriteFile(f, make([]byte, 1001), 0o600)
	_, err := a.svc.SendFile(ctx, conv, f, app.MediaOptions{})
	if !errors.Is(err, app.ErrTooLarge) || !strings.Contains(app.Plain(err), "largest file") {
		t.Fatalf("over the cap: got %v", err)
	}
	if ms := mustMessages(t, a, conv); len(ms) != 0 {
		t.Fatalf("messages after a refused send: %d", len(ms))
	}
}
