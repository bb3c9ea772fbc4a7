package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"path/filepath"
	"testing"

	"kite/app"
	"kite/app/blobs"
	"kite/crypto/seal"
)

func withBlobs(t *testing.T, d *device) *blobs.Store {
	t.Helper()
	bs, err := blobs.Open(filepath.Join(t.TempDir(), "blobs"), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	d.svc.SetBlobs(bs)
	return bs
}

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAvatarTravelsWithProfile(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	withBlobs(t, a)
	withBlobs(t, b)
	if _, err := a.svc.SetAvatar(ctx, []byte("not a picture")); !errors.Is(err, app.ErrInvalid) {
		t.Fatalf("garbage avatar: got %v, want ErrInvalid", err)
	}
	p, err := a.svc.SetAvatar(ctx, pngOf(t, 800, 600))
	if err != nil {
		t.Fatalf("set avatar: %v", err)
	}
	mine, err := a.svc.Avatar(ctx, a.key)
	if err != nil || len(mine) == 0 || len(mine) > app.MaxAvatarBytes {
		t.Fatalf("own avatar: %d bytes, %v", len(mine), err)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(mine))
	if err != nil || max(cfg.Width, cfg.Height) > app.AvatarSide {
		t.Fatalf("avatar is %dx%d (%v); want at most %d a side", cfg.Width, cfg.Height, err, app.AvatarSide)
	}
	data, sig, err := a.svc.SignedProfile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.svc.ApplyProfile(ctx, a.key, data, sig)
	if err != nil || got.Avatar != p.Avatar {
		t.Fatalf("apply profile: got avatar %v (%v), want %v", got.Avatar, err, p.Avatar)
	}
	theirs, err := b.svc.Avatar(ctx, a.key)
	if err != nil || !bytes.Equal(theirs, mine) {
		t.Fatalf("bob's copy of ada's avatar: %d bytes (%v), want the same %d", len(theirs), err, len(mine))
	}
	// A profile whose avatar bytes do not match its hash is refused, even
	// correctly signed (a bug or a hostile client).
	c := newDevice(t, "cleo")
	cs := withBlobs(t, c)
	var w map[string]any
	json.Unmarshal(data, &w)
	w["avatar_jpeg"] = pngOf(t, 10, 10)
	bad, _ := json.Marshal(w)
	if _, err := c.svc.ApplyProfile(ctx, a.key, bad, sig); err == nil {
		t.Fatal("a changed profile with the old signature: got nil error")
	}
	if _, err := c.svc.ApplyProfile(ctx, a.key, bad, seal.SignProfile(a.id.SignPriv, bad)); !errors.Is(err, app.ErrBadEvent) {
		t.Fatalf("a signed profile whose avatar does not match its hash: got %v, want ErrBadEvent", err)
	}
	if _, err := c.svc.Avatar(ctx, a.key); err == nil {
		t.Fatal("cleo kept an avatar from a refused profile")
	}
	// Nor are the refused bytes left in the blob store.
	if cs.Has(app.BlobHash(pngOf(t, 10, 10))) {
		t.Fatal("the refused avatar's bytes were left in the blob store")
	}
	if n := blobFiles(t, cs); n != 0 {
		t.Fatalf("blob store after a refused avatar: got %d files, want 0", n)
	}
}

// blobFiles counts the files under a blob store's directory, wherever.
func blobFiles(t *testing.T, bs *blobs.Store) int {
	t.Helper()
	root := filepath.Dir(filepath.Dir(bs.Path(app.Hash{})))
	n := 0
	err := filepath.WalkDir(root, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
