package media

import (
	"bytes"
	"errors"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
	"time"
)

func TestPreparePhotoStripsEXIFAndRotates(t *testing.T) {
	src := withAPP1(encJPEG(t, halves(20, 10)), exifTIFF(6))
	if !bytes.Contains(src, []byte("Exif")) || !bytes.Contains(src, gpsRationals) {
		t.Fatal("test photo has no EXIF GPS to strip")
	}
	if got := orientation(src, "image/jpeg"); got != 6 {
		t.Fatalf("orientation of the test photo: got %d, want 6", got)
	}
	clean, mime, w, h, thumb, err := PreparePhoto(src)
	if err != nil {
		t.Fatal(err)
	}
	if mime != "image/jpeg" || w != 10 || h != 20 {
		t.Errorf("got %s %d×%d, want image/jpeg 10×20", mime, w, h)
	}
	for _, secret := range [][]byte{[]byte("Exif"), gpsRationals, {0xFF, 0xE1}} {
		if bytes.Contains(clean, secret) {
			t.Errorf("clean photo still holds % x", secret)
		}
	}
	img, err := jpeg.Decode(bytes.NewReader(clean))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 10 || b.Dy() != 20 {
		t.Fatalf("clean photo is %d×%d, want 10×20", b.Dx(), b.Dy())
	}
	// Orientation 6 means "turn 90° clockwise": the red left half goes on top.
	for _, p := range []struct {
		x, y int
		red  bool
	}{{5, 3, true}, {5, 16, false}} {
		r, _, b, _ := img.At(p.x, p.y).RGBA()
		if gotRed := r > b; gotRed != p.red {
			t.Errorf("pixel (%d,%d): got red=%v (r=%d b=%d), want red=%v", p.x, p.y, gotRed, r>>8, b>>8, p.red)
		}
	}
	if len(thumb) == 0 || len(thumb) > MaxThumbBytes {
		t.Errorf("thumbnail of %d bytes, want 1..%d", len(thumb), MaxThumbBytes)
	}
}

func TestOrientations(t *testing.T) {
	for o := 1; o <= 8; o++ {
		src := withAPP1(encJPEG(t, halves(20, 10)), exifTIFF(uint16(o)))
		_, _, w, h, _, err := PreparePhoto(src)
		if err != nil {
			t.Fatal(err)
		}
		wantW, wantH := 20, 10
		if o >= 5 {
			wantW, wantH = 10, 20
		}
		if w != wantW || h != wantH {
			t.Errorf("orientation %d: got %d×%d, want %d×%d", o, w, h, wantW, wantH)
		}
	}
}

func TestPreparePhotoFormats(t *testing.T) {
	withText := encPNG(t, halves(30, 20))
	// A tEXt chunk before IEND with something private in it.
	withText = append(withText[:len(withText)-12], append(pngChunkBytes("tEXt", []byte("Comment\x00secret-location")), withText[len(withText)-12:]...)...)
	animated := encGIF(t, 16, 8, 3)
	// A comment block and an XMP application block before the trailer.
	extra := append([]byte{0x21, 0xFE, 14}, "secret-comment"...)
	extra = append(extra, 0)
	extra = append(extra, 0x21, 0xFF, 11)
	extra = append(extra, "XMP DataXMP"...)
	extra = append(extra, 15)
	extra = append(extra, "secret-xmp-data"...)
	extra = append(extra, 0)
	animated = append(append(animated[:len(animated)-1:len(animated)-1], extra...), 0x3B)

	tests := []struct {
		name     string
		data     []byte
		wantMIME string
		w, h     int
		frames   int
	}{
		{"jpeg stays jpeg", encJPEG(t, halves(40, 30)), "image/jpeg", 40, 30, 0},
		{"png stays png", withText, "image/png", 30, 20, 0},
		{"gif keeps its animation", animated, "image/gif", 16, 8, 3},
		{"webp becomes jpeg", webpLossy, "image/jpeg", 1, 1, 0},
		{"transparent lossless webp becomes png", webpLossless, "image/png", 1, 1, 0},
		{"lossy webp with alpha becomes png", webpAlpha, "image/png", 1, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clean, mime, w, h, thumb, err := PreparePhoto(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if mime != tt.wantMIME || w != tt.w || h != tt.h {
				t.Errorf("got %s %d×%d, want %s %d×%d", mime, w, h, tt.wantMIME, tt.w, tt.h)
			}
			if bytes.Contains(clean, []byte("secret")) {
				t.Errorf("clean bytes still hold a secret")
			}
			if got := sniff(clean); got != mime {
				t.Errorf("clean bytes sniff as %s, want %s", got, mime)
			}
			if _, _, err := image.Decode(bytes.NewReader(clean)); err != nil {
				t.Errorf("clean bytes do not decode: %v", err)
			}
			if tt.frames > 0 {
				g, err := gif.DecodeAll(bytes.NewReader(clean))
				if err != nil {
					t.Fatal(err)
				}
				if len(g.Image) != tt.frames {
					t.Errorf("got %d frames, want %d", len(g.Image), tt.frames)
				}
			}
			if _, err := jpeg.Decode(bytes.NewReader(thumb)); err != nil || len(thumb) > MaxThumbBytes {
				t.Errorf("thumbnail: %d bytes, decode error %v", len(thumb), err)
			}
		})
	}
}

func TestPreparePhotoRefuses(t *testing.T) {
	jpg := encJPEG(t, halves(40, 30))
	pngb := encPNG(t, halves(40, 30))
	tests := []struct {
		name string
		data []byte
		want error
	}{
		// The bomb has no image data: a decode would fail with ErrCorrupt,
		// so ErrTooLarge shows the header was refused before decoding.
		{"decompression bomb", pngBomb(100000, 100000), ErrTooLarge},
		{"truncated png", pngb[:len(pngb)-30], ErrCorrupt},
		{"truncated jpeg header", jpg[:100], ErrCorrupt},
		{"not a picture", []byte("hello, world"), ErrUnsupported},
		{"empty", nil, ErrUnsupported},
		{"broken gif", append(encGIF(t, 8, 8, 1)[:40], 0x99), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, _, _, err := PreparePhoto(tt.data)
			if !errors.Is(err, tt.want) {
				t.Errorf("PreparePhoto: got %v, want %v", err, tt.want)
			}
			if _, err := Thumbnail(tt.data, 100); !errors.Is(err, tt.want) {
				t.Errorf("Thumbnail: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecodeTimeout(t *testing.T) {
	old := decodeTimeout
	decodeTimeout = time.Nanosecond
	defer func() { decodeTimeout = old }()
	_, _, _, _, _, err := PreparePhoto(encPNG(t, noisy(500, 500, 1, 1)))
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("got %v, want ErrTimeout", err)
	}
}

func TestThumbnail(t *testing.T) {
	// Under the race detector decoding 12 megapixels takes about a second
	// instead of 0.1 s; keep a slow machine from turning that into ErrTimeout.
	old := decodeTimeout
	decodeTimeout = 30 * time.Second
	defer func() { decodeTimeout = old }()
	big := encJPEG(t, noisy(4000, 3000, 16, 7))
	hard := encPNG(t, noisy(400, 400, 1, 8)) // pixel noise: the quality has to drop
	transparent := image.NewNRGBA(image.Rect(0, 0, 50, 100))
	tests := []struct {
		name    string
		data    []byte
		maxSide int
		w, h    int
	}{
		{"4000×3000 noisy photo", big, 320, 320, 240},
		{"pixel noise", hard, 320, 320, 320},
		{"default side", hard, 0, ThumbSide, ThumbSide},
		{"small avatar", hard, 64, 64, 64},
		{"never enlarged", encPNG(t, halves(30, 20)), 320, 30, 20},
		{"transparent", encPNG(t, transparent), 320, 50, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, err := Thumbnail(tt.data, tt.maxSide)
			if err != nil {
				t.Fatal(err)
			}
			if len(th) > MaxThumbBytes {
				t.Errorf("got %d bytes, want at most %d", len(th), MaxThumbBytes)
			}
			img, err := jpeg.Decode(bytes.NewReader(th))
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() > tt.w || b.Dy() > tt.h || max(b.Dx(), b.Dy()) < max(tt.w, tt.h)*3/4 {
				t.Errorf("got %d×%d, want about %d×%d", b.Dx(), b.Dy(), tt.w, tt.h)
			}
		})
	}
}

func TestCleanPNGHasNoAncillaryChunks(t *testing.T) {
	src := encPNG(t, halves(8, 8))
	src = append(src[:33], append(pngChunkBytes("eXIf", exifTIFF(1)), src[33:]...)...)
	if _, err := png.Decode(bytes.NewReader(src)); err != nil {
		t.Fatalf("test PNG does not decode: %v", err)
	}
	clean, _, _, _, _, err := PreparePhoto(src)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(clean, []byte("eXIf")) || bytes.Contains(clean, gpsRationals) {
		t.Errorf("clean PNG still holds the eXIf chunk")
	}
}
