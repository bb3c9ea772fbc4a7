package media

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"testing"
)

// Tiny WebP files (public domain test images used for feature detection).
var (
	webpLossless = mustB64("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	webpLossy    = mustB64("UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA")
	webpAlpha    = mustB64("UklGRkoAAABXRUJQVlA4WAoAAAAQAAAAAAAAAAAAQUxQSAwAAAARBxAR/Q9ERP8DAABWUDggGAAAABQBAJ0BKgEAAQAAAP4AAA3AAP7mtQAAAA==")
)

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// halves is a w×h picture, left half red, right half blue.
func halves(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{255, 0, 0, 255}
			if x >= w/2 {
				c = color.RGBA{0, 0, 255, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// noisy is a w×h picture of random blocks of block×block pixels.
func noisy(w, h, block int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, seed))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	bw := (w + block - 1) / block
	cells := make([]color.RGBA, bw*((h+block-1)/block))
	for i := range cells {
		v := rng.Uint32()
		cells[i] = color.RGBA{uint8(v), uint8(v >> 8), uint8(v >> 16), 255}
	}
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		if y%block != 0 { // same cells as the row above
			copy(row, img.Pix[(y-1)*img.Stride:])
			continue
		}
		for x := 0; x < w; x++ {
			c := cells[(y/block)*bw+x/block]
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = c.R, c.G, c.B, c.A
		}
	}
	return img
}

func encPNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// encGIF makes an animated GIF of n frames.
func encGIF(t testing.TB, w, h, n int) []byte {
	t.Helper()
	g := &gif.GIF{LoopCount: 0}
	for i := range n {
		f := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		for j := range f.Pix {
			f.Pix[j] = uint8(i*40 + j%7)
		}
		g.Image = append(g.Image, f)
		g.Delay = append(g.Delay, 10)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngChunkBytes builds a PNG chunk with its CRC.
func pngChunkBytes(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// pngBomb is a PNG header claiming w×h RGB pixels, with a valid IHDR CRC,
// and no image data.
func pngBomb(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, pngChunkBytes("IHDR", ihdr)...)
	return append(b, pngChunkBytes("IEND", nil)...)
}

// gpsRationals is the GPS latitude (51° 30' 26.47") of exifJPEG, as stored.
var gpsRationals = func() []byte {
	var b []byte
	for _, v := range []uint32{51, 1, 30, 1, 2647, 100} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}()

// exifTIFF is a little-endian TIFF block: IFD0 with Orientation and a GPS
// IFD pointer; the GPS IFD with GPSLatitudeRef "N" and GPSLatitude.
func exifTIFF(orientation uint16) []byte {
	le := binary.LittleEndian
	t := []byte("II*\x00")
	t = le.AppendUint32(t, 8)
	entry := func(t []byte, tag, typ uint16, count, value uint32) []byte {
		t = le.AppendUint16(t, tag)
		t = le.AppendUint16(t, typ)
		t = le.AppendUint32(t, count)
		return le.AppendUint32(t, value)
	}
	t = le.AppendUint16(t, 2)                       // IFD0 at 8
	t = entry(t, 0x0112, 3, 1, uint32(orientation)) // Orientation, SHORT (in the low bytes)
	t = entry(t, 0x8825, 4, 1, 38)                  // GPSInfo IFD pointer
	t = le.AppendUint32(t, 0)                       // no next IFD; ends at 38
	t = le.AppendUint16(t, 2)                       // GPS IFD at 38
	t = entry(t, 0x0001, 2, 2, uint32('N'))         // GPSLatitudeRef "N\0"
	t = entry(t, 0x0002, 5, 3, 68)                  // GPSLatitude, 3 RATIONALs at 68
	t = le.AppendUint32(t, 0)
	return append(t, gpsRationals...)
}

// withAPP1 inserts an Exif APP1 segment right after a JPEG's SOI.
func withAPP1(j, tiff []byte) []byte {
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := append([]byte{}, j[:2]...)
	out = append(out, 0xFF, 0xE1)
	out = binary.BigEndian.AppendUint16(out, uint16(2+len(seg)))
	out = append(out, seg...)
	return append(out, j[2:]...)
}

// wavBytes is a RIFF/WAVE file with the given format and data size.
func wavBytes(format uint16, rate uint32, bits uint16, data []byte) []byte {
	le := binary.LittleEndian
	blockAlign := bits / 8
	fmtLen := uint32(16)
	if format != 1 {
		fmtLen = 18
	}
	b := []byte("RIFF")
	b = le.AppendUint32(b, 0) // patched below
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, fmtLen)
	b = le.AppendUint16(b, format)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint32(b, rate)
	b = le.AppendUint32(b, rate*uint32(blockAlign))
	b = le.AppendUint16(b, blockAlign)
	b = le.AppendUint16(b, bits)
	if format != 1 {
		b = le.AppendUint16(b, 0)
		b = append(b, "fact"...)
		b = le.AppendUint32(b, 4)
		b = le.AppendUint32(b, uint32(len(data))/uint32(blockAlign))
	}
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	le.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

// box builds an ISO base media box.
func box(typ string, parts ...[]byte) []byte {
	var body []byte
	for _, p := range parts {
		body = append(body, p...)
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

func be32(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

func ftyp(brand string) []byte {
	return box("ftyp", []byte(brand), be32(0), []byte("isommp41"))
}

// mvhd is a version 0 movie header.
func mvhd(timescale, duration uint32) []byte {
	b := be32(0, 0, 0, timescale, duration)
	return box("mvhd", b, make([]byte, 80))
}

// tkhd is a version 0 track header with an identity (or 90° turned) matrix.
func tkhd(w, h uint32, turned bool) []byte {
	b := be32(0, 0, 0, 1, 0, 0, 0, 0)     // version/flags … reserved (32 bytes)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0) // layer, group, volume, reserved
	m := be32(0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
	if turned {
		m = be32(0, 0x10000, 0, 0xFFFF0000, 0, 0, 0, 0, 0x40000000)
	}
	b = append(b, m...)
	return box("tkhd", b, be32(w<<16, h<<16))
}

func trak(handler string, w, h uint32) []byte {
	return box("trak", tkhd(w, h, false), box("mdia", box("hdlr", be32(0, 0), []byte(handler), make([]byte, 13))))
}

// oggPage builds an Ogg page (the CRC is not checked by Inspect).
func oggPage(granule uint64, serial, seq uint32, payload []byte) []byte {
	le := binary.LittleEndian
	b := []byte("OggS\x00\x00")
	b = le.AppendUint64(b, granule)
	b = le.AppendUint32(b, serial)
	b = le.AppendUint32(b, seq)
	b = le.AppendUint32(b, 0)
	b = append(b, 1, byte(len(payload)))
	return append(b, payload...)
}

func opusFile(preskip uint16, lastGranule uint64) []byte {
	head := []byte("OpusHead\x01\x01")
	head = binary.LittleEndian.AppendUint16(head, preskip)
	head = binary.LittleEndian.AppendUint32(head, 48000)
	head = append(head, 0, 0, 0)
	b := oggPage(0, 7, 0, head)
	b = append(b, oggPage(0, 7, 1, []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00"))...)
	b = append(b, oggPage(lastGranule/2, 7, 2, make([]byte, 100))...)
	b = append(b, oggPage(123456789, 9, 0, make([]byte, 10))...) // another stream, ignored
	return append(b, oggPage(lastGranule, 7, 3, make([]byte, 100))...)
}

// ebml builds a Matroska element with an 8-byte size.
func ebml(id uint64, parts ...[]byte) []byte {
	var body []byte
	for _, p := range parts {
		body = append(body, p...)
	}
	var b []byte
	for s := 24; s >= 0; s -= 8 {
		if c := byte(id >> s); c != 0 || len(b) > 0 {
			b = append(b, c)
		}
	}
	b = append(b, 0x01)
	for s := 48; s >= 0; s -= 8 {
		b = append(b, byte(uint64(len(body))>>s))
	}
	return append(b, body...)
}

func webmFile(durationMs float64, w, h byte) []byte {
	head := ebml(idEBML, ebml(0x4282, []byte("webm")))
	dur := binary.BigEndian.AppendUint64(nil, math.Float64bits(durationMs))
	seg := ebml(idSegment,
		ebml(idInfo, ebml(idTimecodeScale, []byte{0x0F, 0x42, 0x40}), ebml(idDuration, dur)),
		ebml(idTracks,
			ebml(idTrackEntry, ebml(idTrackType, []byte{2})),
			ebml(idTrackEntry, ebml(idTrackType, []byte{1}), ebml(idVideo, ebml(idPixelWidth, []byte{0, w}), ebml(idPixelHeight, []byte{0, h})))),
		ebml(idCluster, make([]byte, 64)))
	return append(head, seg...)
}
