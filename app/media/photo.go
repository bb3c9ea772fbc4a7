package media

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"time"

	"github.com/disintegration/imaging"
	"golang.org/x/image/webp"
)

// ThumbSide is the longest side of the thumbnail PreparePhoto makes.
const ThumbSide = 320

// decodeTimeout is DecodeTimeout; tests shorten it.
var decodeTimeout = DecodeTimeout

// decodeSlots bounds the memory of decoding: at most two images (each at
// most MaxPixels) are decoded at once.
var decodeSlots = make(chan struct{}, 2)

// PreparePhoto turns the bytes of a photo into what is sent: it checks the
// header (at most MaxPixels) before decoding anything, decodes within
// DecodeTimeout (else ErrTimeout), turns the picture upright according to
// its EXIF orientation, and re-encodes it without any metadata, so EXIF,
// GPS position, XMP, comments and ICC profiles are gone.
//
// JPEG stays JPEG (quality 90) and PNG stays PNG. WebP becomes JPEG, or PNG
// when it has transparency. A GIF keeps its bytes and its animation; only
// its comment and application blocks (other than the looping one) are
// dropped: GIF has no EXIF. w and h are the dimensions after orientation.
// thumb is a JPEG of at most MaxThumbBytes whose longest side is at most
// ThumbSide pixels.
func PreparePhoto(data []byte) (clean []byte, mime string, w, h int, thumb []byte, err error) {
	mime, err = photoHeader(data)
	if err != nil {
		return nil, "", 0, 0, nil, fmt.Errorf("media: prepare photo: %w", err)
	}
	img, err := decode(data, mime)
	if err != nil {
		return nil, "", 0, 0, nil, fmt.Errorf("media: prepare photo: %w", err)
	}
	var buf bytes.Buffer
	switch mime {
	case "image/gif":
		clean, err = cleanGIF(data)
		if err != nil {
			return nil, "", 0, 0, nil, fmt.Errorf("media: prepare photo: %w", err)
		}
		cfg, _ := gif.DecodeConfig(bytes.NewReader(data)) // checked by photoHeader
		w, h = cfg.Width, cfg.Height
	default:
		img = orient(img, orientation(data, mime))
		if mime == "image/webp" {
			mime = "image/jpeg"
			if o, ok := img.(interface{ Opaque() bool }); ok && !o.Opaque() {
				mime = "image/png"
			}
		}
		if mime == "image/png" {
			err = png.Encode(&buf, img)
		} else {
			err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
		}
		if err != nil {
			return nil, "", 0, 0, nil, fmt.Errorf("media: prepare photo: encode %s: %w", mime, err)
		}
		clean = buf.Bytes()
		w, h = img.Bounds().Dx(), img.Bounds().Dy()
	}
	thumb, err = thumbOf(img, ThumbSide)
	if err != nil {
		return nil, "", 0, 0, nil, fmt.Errorf("media: prepare photo: %w", err)
	}
	return clean, mime, w, h, thumb, nil
}

// Thumbnail makes a JPEG thumbnail of an image (jpeg, png, gif, webp),
// upright, transparency on white, longest side at most maxSide (ThumbSide
// when maxSide ≤ 0), and at most MaxThumbBytes: the quality, then the size,
// is lowered until it fits. It is used for avatars too.
func Thumbnail(data []byte, maxSide int) ([]byte, error) {
	if maxSide <= 0 {
		maxSide = ThumbSide
	}
	maxSide = min(maxSide, 2048)
	mime, err := photoHeader(data)
	if err != nil {
		return nil, fmt.Errorf("media: thumbnail: %w", err)
	}
	img, err := decode(data, mime)
	if err != nil {
		return nil, fmt.Errorf("media: thumbnail: %w", err)
	}
	t, err := thumbOf(orient(img, orientation(data, mime)), maxSide)
	if err != nil {
		return nil, fmt.Errorf("media: thumbnail: %w", err)
	}
	return t, nil
}

// photoHeader sniffs data and checks its image header.
func photoHeader(data []byte) (mime string, err error) {
	mime = sniff(data[:min(len(data), headSize)])
	if kindOf(mime) != KindPhoto {
		return "", fmt.Errorf("%s is not a jpeg, png, gif or webp picture: %w", mime, ErrUnsupported)
	}
	if _, _, err := imageConfig(bytes.NewReader(data), mime); err != nil {
		return "", fmt.Errorf("%s: %w", mime, err)
	}
	return mime, nil
}

// decode decodes an image whose header has been checked, in a goroutine,
// waiting at most decodeTimeout for a slot and the result. A decode that
// times out finishes in the background and is dropped.
func decode(data []byte, mime string) (image.Image, error) {
	timer := time.NewTimer(decodeTimeout)
	defer timer.Stop()
	select {
	case decodeSlots <- struct{}{}:
	case <-timer.C:
		return nil, fmt.Errorf("decode %s: waited %v for other decodes: %w", mime, decodeTimeout, ErrTimeout)
	}
	type result struct {
		img image.Image
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-decodeSlots }()
		defer func() {
			if p := recover(); p != nil { // a decoder bug must not take the app down
				done <- result{err: fmt.Errorf("decoder failed: %v: %w", p, ErrCorrupt)}
			}
		}()
		img, err := decodeImage(bytes.NewReader(data), mime)
		done <- result{img, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("decode %s: %v: %w", mime, r.err, ErrCorrupt)
		}
		return r.img, nil
	case <-timer.C:
		return nil, fmt.Errorf("decode %s: over %v: %w", mime, decodeTimeout, ErrTimeout)
	}
}

func decodeImage(r io.Reader, mime string) (image.Image, error) {
	switch mime {
	case "image/jpeg":
		return jpeg.Decode(r)
	case "image/png":
		return png.Decode(r)
	case "image/gif":
		return gif.Decode(r) // the first frame
	case "image/webp":
		return webp.Decode(r)
	}
	return nil, ErrUnsupported
}

// thumbOf scales img to fit maxSide, flattens it on white and encodes it as
// a JPEG of at most MaxThumbBytes.
func thumbOf(img image.Image, maxSide int) ([]byte, error) {
	var buf bytes.Buffer
	for side := maxSide; side >= 8; side = side * 3 / 4 {
		t := imaging.Fit(img, side, side, imaging.Linear)
		b := t.Bounds()
		flat := imaging.Overlay(imaging.New(b.Dx(), b.Dy(), color.White), t, image.Point{}, 1)
		for _, q := range []int{80, 65, 50, 35, 20} {
			buf.Reset()
			if err := jpeg.Encode(&buf, flat, &jpeg.Options{Quality: q}); err != nil {
				return nil, fmt.Errorf("encode thumbnail: %w", err)
			}
			if buf.Len() <= MaxThumbBytes {
				return bytes.Clone(buf.Bytes()), nil
			}
		}
		img = t
	}
	return nil, fmt.Errorf("thumbnail does not fit in %d bytes: %w", MaxThumbBytes, ErrTooLarge)
}

// cleanGIF copies a GIF block by block, dropping comments and application
// blocks other than the looping ones, and anything after the trailer.
func cleanGIF(b []byte) ([]byte, error) {
	corrupt := func(what string) ([]byte, error) {
		return nil, fmt.Errorf("gif: %s: %w", what, ErrCorrupt)
	}
	if len(b) < 13 || (string(b[:6]) != "GIF87a" && string(b[:6]) != "GIF89a") {
		return corrupt("no header")
	}
	i := 13
	if b[10]&0x80 != 0 {
		i += 3 << (b[10]&7 + 1)
	}
	if i > len(b) {
		return corrupt("global colour table cut short")
	}
	out := bytes.NewBuffer(make([]byte, 0, len(b)))
	out.Write(b[:i])
	for {
		if i >= len(b) { // no trailer: end it ourselves
			out.WriteByte(0x3B)
			return out.Bytes(), nil
		}
		switch b[i] {
		case 0x3B:
			out.WriteByte(0x3B)
			return out.Bytes(), nil
		case 0x21:
			if i+2 > len(b) {
				return corrupt("extension cut short")
			}
			label := b[i+1]
			j := skipSubBlocks(b, i+2)
			if j < 0 {
				return corrupt("extension cut short")
			}
			keep := label == 0xF9 || label == 0x01 // graphic control, plain text
			if label == 0xFF && i+14 <= len(b) && b[i+2] == 11 {
				id := string(b[i+3 : i+14])
				keep = id == "NETSCAPE2.0" || id == "ANIMEXTS1.0"
			}
			if keep {
				out.Write(b[i:j])
			}
			i = j
		case 0x2C:
			if i+10 > len(b) {
				return corrupt("image descriptor cut short")
			}
			j := i + 10
			if b[i+9]&0x80 != 0 {
				j += 3 << (b[i+9]&7 + 1)
			}
			j++ // LZW minimum code size
			if j > len(b) {
				return corrupt("image cut short")
			}
			j = skipSubBlocks(b, j)
			if j < 0 {
				return corrupt("image data cut short")
			}
			out.Write(b[i:j])
			i = j
		default:
			return corrupt(fmt.Sprintf("unknown block 0x%02x", b[i]))
		}
	}
}

// skipSubBlocks returns the index after the sub-blocks starting at j, or -1.
func skipSubBlocks(b []byte, j int) int {
	for j < len(b) {
		n := int(b[j])
		j++
		if n == 0 {
			return j
		}
		j += n
	}
	return -1
}
