package localapi_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"kite/app"
	"kite/app/blobs"
	"kite/app/localapi"
	"kite/crypto/keys"
)

func TestThumbnail(t *testing.T) {
	ctx := context.Background()
	svc, srv := newServer(t)
	st, err := blobs.Open(filepath.Join(t.TempDir(), "blobs"), 0)
	if err != nil {
		t.Fatal(err)
	}
	svc.SetBlobs(st)
	bob, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.AddContact(ctx, bob.ContactCode("bob", nil).String())
	if err != nil {
		t.Fatal(err)
	}
	conv, err := svc.Direct(ctx, p.Key, false)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for x := range 300 {
		img.Set(x, x%200, color.RGBA{B: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	photo, doc := filepath.Join(dir, "p.png"), filepath.Join(dir, "d.txt")
	os.WriteFile(photo, buf.Bytes(), 0o600)
	os.WriteFile(doc, []byte("no picture\n"), 0o600)
	withThumb, err := svc.SendFile(ctx, conv, photo, app.MediaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	without, err := svc.SendFile(ctx, conv, doc, app.MediaOptions{})
	if err != nil {
		t.Fatal(err)
	}

	cl := localapi.InProcess(srv)
	var th localapi.Thumbnail
	if err := cl.Do(ctx, http.MethodGet, "/v1/messages/"+withThumb.ID.String()+"/thumbnail", nil, &th); err != nil {
		t.Fatalf("thumbnail of a photo: %v", err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(th.JPEG))
	if err != nil || cfg.Width <= cfg.Height {
		t.Fatalf("thumbnail: %d×%d, %v; want a JPEG of the landscape photo", cfg.Width, cfg.Height, err)
	}
	err = cl.Do(ctx, http.MethodGet, "/v1/messages/"+without.ID.String()+"/thumbnail", nil, &th)
	var ae *localapi.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Fatalf("thumbnail of a text file: got %v, want 404", err)
	}
}
