package media

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

func TestInspect(t *testing.T) {
	jpg := encJPEG(t, halves(64, 48))
	pngb := encPNG(t, halves(30, 20))
	mp4 := append(ftyp("isom"), box("moov", mvhd(1000, 12345), trak("vide", 640, 480), trak("soun", 0, 0))...)
	mp4 = append(mp4, box("mdat", make([]byte, 100))...)
	turnedTrak := box("trak", tkhd(1920, 1080, true), box("mdia", box("hdlr", be32(0, 0), []byte("vide"), make([]byte, 13))))
	turned := append(ftyp("qt  "), box("moov", mvhd(600, 600*7), turnedTrak)...)
	m4a := append(ftyp("M4A "), box("moov", mvhd(44100, 44100*3), trak("soun", 0, 0))...)
	soundOnlyMP4 := append(ftyp("isom"), box("moov", mvhd(1000, 2500), trak("soun", 0, 0))...)
	random := make([]byte, 3000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	random[0] = 0x13                                         // not a known signature
	pcm := wavBytes(1, 16000, 16, make([]byte, 16000*2*3/2)) // 1.5 s
	mulaw := wavBytes(7, 16000, 8, make([]byte, 16000*2))    // 2 s

	tests := []struct {
		name, file string
		data       []byte
		want       Info
		wantErr    error
	}{
		{"jpeg", "a.jpg", jpg, Info{MIME: "image/jpeg", Kind: KindPhoto, Width: 64, Height: 48}, nil},
		{"png", "a.png", pngb, Info{MIME: "image/png", Kind: KindPhoto, Width: 30, Height: 20}, nil},
		{"gif", "a.gif", encGIF(t, 17, 9, 2), Info{MIME: "image/gif", Kind: KindPhoto, Width: 17, Height: 9}, nil},
		{"webp lossless", "a.webp", webpLossless, Info{MIME: "image/webp", Kind: KindPhoto, Width: 1, Height: 1}, nil},
		{"webp lossy", "a.webp", webpLossy, Info{MIME: "image/webp", Kind: KindPhoto, Width: 1, Height: 1}, nil},
		{"webp alpha", "a.webp", webpAlpha, Info{MIME: "image/webp", Kind: KindPhoto, Width: 1, Height: 1}, nil},
		{"png named .jpg", "photo.jpg", pngb, Info{MIME: "image/png", Kind: KindPhoto, Width: 30, Height: 20}, nil},
		{"decompression bomb", "bomb.png", pngBomb(100000, 100000), Info{}, ErrTooLarge},
		{"just over the cap", "big.png", pngBomb(8001, 5000), Info{}, ErrTooLarge},
		{"just at the cap", "big.png", pngBomb(8000, 5000), Info{MIME: "image/png", Kind: KindPhoto, Width: 8000, Height: 5000}, nil},
		{"zero width", "zero.png", pngBomb(0, 5), Info{}, ErrCorrupt},
		{"truncated png", "a.png", pngb[:20], Info{}, ErrCorrupt},
		{"truncated jpeg", "a.jpg", jpg[:100], Info{}, ErrCorrupt},
		{"truncated gif", "a.gif", []byte("GIF89a\x01"), Info{}, ErrCorrupt},
		{"random bytes named .jpg", "cat.jpg", random, Info{}, ErrUnsupported},
		{"random bytes named .bin", "cat.bin", random, Info{MIME: "application/octet-stream", Kind: KindFile}, nil},
		{"text", "notes.txt", []byte("hello, world\n"), Info{MIME: "text/plain", Kind: KindFile}, nil},
		{"empty", "empty", nil, Info{MIME: "application/octet-stream", Kind: KindFile}, nil},
		{"wav pcm", "a.wav", pcm, Info{MIME: "audio/wav", Kind: KindAudio, DurationMs: 1500}, nil},
		{"wav mu-law", "a.wav", mulaw, Info{MIME: "audio/wav", Kind: KindAudio, DurationMs: 2000}, nil},
		{"wav truncated data", "a.wav", pcm[:len(pcm)-10], Info{}, ErrCorrupt},
		{"wav without fmt", "a.wav", []byte("RIFF\x04\x00\x00\x00WAVEdata\x00\x00\x00\x00"), Info{}, ErrCorrupt},
		{"mp4", "a.mp4", mp4, Info{MIME: "video/mp4", Kind: KindVideo, Width: 640, Height: 480, DurationMs: 12345}, nil},
		{"mov turned 90°", "a.mov", turned, Info{MIME: "video/quicktime", Kind: KindVideo, Width: 1080, Height: 1920, DurationMs: 7000}, nil},
		{"m4a", "a.m4a", m4a, Info{MIME: "audio/mp4", Kind: KindAudio, DurationMs: 3000}, nil},
		{"mp4 with sound only", "a.mp4", soundOnlyMP4, Info{MIME: "audio/mp4", Kind: KindAudio, DurationMs: 2500}, nil},
		{"mp4 truncated", "a.mp4", mp4[:len(mp4)-50], Info{}, ErrCorrupt},
		{"mp4 without moov", "a.mp4", ftyp("isom"), Info{}, ErrCorrupt},
		{"ogg opus", "a.opus", opusFile(312, 48000*2+312), Info{MIME: "audio/ogg", Kind: KindAudio, DurationMs: 2000}, nil},
		{"webm", "a.webm", webmFile(4500, 200, 150), Info{MIME: "video/webm", Kind: KindVideo, Width: 200, Height: 150, DurationMs: 4500}, nil},
		{"mp3 with ID3", "a.mp3", append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), make([]byte, 100)...), Info{MIME: "audio/mpeg", Kind: KindAudio}, nil},
		{"mp3 frame", "a.mp3", append([]byte{0xFF, 0xFB, 0x90, 0x64}, make([]byte, 100)...), Info{MIME: "audio/mpeg", Kind: KindAudio}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Inspect(bytes.NewReader(tt.data), int64(len(tt.data)), tt.file)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// countingReader records how far Inspect reads.
type countingReader struct {
	r    *bytes.Reader
	last int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.last = max(c.last, off+int64(n))
	return n, err
}

func TestInspectReadsOnlyTheHeader(t *testing.T) {
	data := encPNG(t, noisy(300, 300, 1, 3)) // about 270 KB
	r := &countingReader{r: bytes.NewReader(data)}
	info, err := Inspect(r, int64(len(data)), "x.png")
	if err != nil {
		t.Fatal(err)
	}
	if info.Width != 300 || info.Height != 300 {
		t.Errorf("got %d×%d, want 300×300", info.Width, info.Height)
	}
	if r.last > 64<<10 {
		t.Errorf("read up to byte %d of %d, want at most 64 KiB", r.last, len(data))
	}
}

// eofReader returns io.EOF along with a read that reaches the end, as
// io.ReaderAt allows.
type eofReader struct{ b []byte }

func (e eofReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(e.b)) {
		return 0, io.EOF
	}
	n := copy(p, e.b[off:])
	if off+int64(n) == int64(len(e.b)) {
		return n, io.EOF
	}
	return n, nil
}

func TestInspectEOFWithFullRead(t *testing.T) {
	data := wavBytes(1, 8000, 16, make([]byte, 16000))
	info, err := Inspect(eofReader{data}, int64(len(data)), "a.wav")
	if err != nil || info.DurationMs != 1000 {
		t.Errorf("got %+v, %v, want 1000 ms", info, err)
	}
}

func TestInspectShortReader(t *testing.T) {
	data := encPNG(t, halves(10, 10))
	_, err := Inspect(bytes.NewReader(data[:10]), int64(len(data)), "x.png")
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("got %v, want ErrCorrupt for a reader shorter than size", err)
	}
}

func FuzzInspect(f *testing.F) {
	f.Add(encJPEG(f, halves(8, 8)), "a.jpg")
	f.Add(encPNG(f, halves(8, 8)), "a.png")
	f.Add(encGIF(f, 8, 8, 2), "a.gif")
	f.Add(webpLossy, "a.webp")
	f.Add(webpAlpha, "a.webp")
	f.Add(pngBomb(100000, 100000), "a.png")
	f.Add(wavBytes(1, 16000, 16, make([]byte, 64)), "a.wav")
	f.Add(append(ftyp("isom"), box("moov", mvhd(1000, 12345), trak("vide", 640, 480))...), "a.mp4")
	f.Add(opusFile(312, 96312), "a.ogg")
	f.Add(webmFile(4500, 200, 150), "a.webm")
	f.Add(withAPP1(encJPEG(f, halves(8, 8)), exifTIFF(6)), "a.jpg")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		info, err := Inspect(bytes.NewReader(data), int64(len(data)), name)
		if err == nil && info.MIME == "" {
			t.Errorf("no error and no MIME")
		}
		if err == nil && info.Kind == KindPhoto && int64(info.Width)*int64(info.Height) > MaxPixels {
			t.Errorf("accepted %d×%d", info.Width, info.Height)
		}
	})
}
