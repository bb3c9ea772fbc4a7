package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/image/webp"
)

const (
	// MaxPixels is the largest image, in pixels, that is ever decoded.
	MaxPixels = 40_000_000 // 40 megapixels
	// MaxThumbBytes caps a thumbnail: it travels inside the event.
	MaxThumbBytes = 64 << 10
	// DecodeTimeout bounds the decoding of one image.
	DecodeTimeout = 5 * time.Second
)

// Sentinel errors. Errors returned by this package wrap one of them with a
// plain reason, so callers test with errors.Is.
var (
	// ErrTooLarge: the image has more than MaxPixels pixels (or a fetched
	// resource is over its cap).
	ErrTooLarge = errors.New("too large")
	// ErrUnsupported: the content is not a format this package can handle,
	// or its content does not match what its name claims (a ".jpg" that
	// holds no known format). The caller may still send it as a plain file.
	ErrUnsupported = errors.New("unsupported format")
	// ErrCorrupt: the format is known but the header is truncated or
	// inconsistent, or decoding failed.
	ErrCorrupt = errors.New("corrupt or truncated file")
	// ErrTimeout: decoding or fetching took too long.
	ErrTimeout = errors.New("took too long")
)

// Kinds of media, as found in Info.Kind.
const (
	KindPhoto = "photo"
	KindVideo = "video"
	KindVoice = "voice" // never returned by Inspect: recordings made in the app are voice messages
	KindAudio = "audio"
	KindFile  = "file"
)

// Info is what Inspect learns from a file's header.
type Info struct {
	// MIME is sniffed from the content (never from the file name), without
	// parameters: "image/jpeg", "video/mp4", "audio/ogg", "application/octet-stream"…
	MIME string
	// Kind is KindPhoto, KindVideo, KindAudio or KindFile. Inspect never
	// says KindVoice: the caller knows when a file is a recorded voice message.
	Kind          string
	Width, Height int // photos, and videos when the container says (mp4/mov tkhd, webm)
	// DurationMs is set when the container says it: mp4/mov/m4a (mvhd),
	// wav (header), ogg opus/vorbis (last granule position), webm/mkv
	// (Segment Info); 0 otherwise (mp3 and the rest).
	DurationMs int
}

// headSize is how much of a file Inspect sniffs.
const headSize = 4096

// maxConfigRead caps how far an image's header may extend (JPEG APP
// segments such as ICC profiles come before the frame header).
const maxConfigRead = 8 << 20

// mediaExts are the name endings that claim an image, a video or a sound.
var mediaExts = map[string]bool{
	".jpg": true, ".jpeg": true, ".jpe": true, ".png": true, ".gif": true, ".webp": true,
	".mp4": true, ".m4v": true, ".mov": true, ".webm": true, ".mkv": true,
	".m4a": true, ".wav": true, ".ogg": true, ".oga": true, ".opus": true, ".mp3": true,
}

// Inspect looks at a file's header: it sniffs the type from the content,
// reads the dimensions of photos (jpeg, png, gif, webp) without decoding any
// pixel and the duration (and for videos the dimensions) of sound and video
// containers. It reads only what it needs.
//
// It returns ErrTooLarge for an image over MaxPixels, ErrCorrupt for a
// known format whose header is truncated or inconsistent, and
// ErrUnsupported for a file whose name claims a media type but whose content
// is no format known here. Any other file is Kind "file", no error. name is
// used only for that check; a PNG named .jpg is a PNG.
func Inspect(r io.ReaderAt, size int64, name string) (Info, error) {
	if size < 0 {
		return Info{}, fmt.Errorf("media: inspect: negative size %d", size)
	}
	head := make([]byte, min(size, headSize))
	if len(head) > 0 {
		var err error
		if head, err = readAt(r, 0, len(head)); err != nil { // io.EOF with a full read is fine
			return Info{}, fmt.Errorf("media: inspect: %w", err)
		}
	}
	info := Info{MIME: sniff(head)}
	info.Kind = kindOf(info.MIME)
	var err error
	switch {
	case info.Kind == KindPhoto:
		info.Width, info.Height, err = imageConfig(io.NewSectionReader(r, 0, min(size, maxConfigRead)), info.MIME)
	case info.MIME == "audio/wav":
		info.DurationMs, err = wavDuration(r, size)
	case isISOBMFF(info.MIME):
		var m mp4Info
		m, err = parseMP4(r, size)
		info.DurationMs, info.Width, info.Height = m.durationMs, m.width, m.height
		if err == nil && info.Kind == KindVideo && !m.hasVideo && m.hasAudio {
			info.MIME, info.Kind = "audio/mp4", KindAudio
		}
	case info.MIME == "audio/ogg" || info.MIME == "video/ogg":
		info.DurationMs, err = oggDuration(r, size, head)
	case info.MIME == "video/webm" || info.MIME == "video/x-matroska":
		var m mkvInfo
		m, err = parseMKV(r, size)
		info.DurationMs, info.Width, info.Height = m.durationMs, m.width, m.height
		if err == nil && !m.hasVideo && m.hasAudio {
			info.Kind = KindAudio
			if info.MIME == "video/webm" {
				info.MIME = "audio/webm"
			} else {
				info.MIME = "audio/x-matroska"
			}
		}
	}
	if err != nil {
		return Info{}, fmt.Errorf("media: inspect %s: %w", info.MIME, err)
	}
	if info.Kind == KindFile && mediaExts[strings.ToLower(filepath.Ext(name))] {
		return Info{}, fmt.Errorf("media: inspect: %q holds %s, not a picture, video or sound: %w",
			filepath.Base(name), info.MIME, ErrUnsupported)
	}
	return info, nil
}

func isISOBMFF(mime string) bool {
	switch mime {
	case "video/mp4", "video/quicktime", "audio/mp4":
		return true
	}
	return false
}

func kindOf(mime string) string {
	switch {
	case mime == "image/jpeg" || mime == "image/png" || mime == "image/gif" || mime == "image/webp":
		return KindPhoto
	case strings.HasPrefix(mime, "video/"):
		return KindVideo
	case strings.HasPrefix(mime, "audio/"):
		return KindAudio
	}
	return KindFile
}

// imageConfig reads an image header and checks it against MaxPixels.
func imageConfig(r io.Reader, mime string) (w, h int, err error) {
	var cfg image.Config
	switch mime {
	case "image/jpeg":
		cfg, err = jpeg.DecodeConfig(r)
	case "image/png":
		cfg, err = png.DecodeConfig(r)
	case "image/gif":
		cfg, err = gif.DecodeConfig(r)
	case "image/webp":
		cfg, err = webp.DecodeConfig(r)
	default:
		return 0, 0, ErrUnsupported
	}
	if err != nil {
		return 0, 0, fmt.Errorf("header: %v: %w", err, ErrCorrupt)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, fmt.Errorf("header says %d×%d: %w", cfg.Width, cfg.Height, ErrCorrupt)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return 0, 0, fmt.Errorf("%d×%d is over %d megapixels: %w", cfg.Width, cfg.Height, MaxPixels/1_000_000, ErrTooLarge)
	}
	return cfg.Width, cfg.Height, nil
}

// sniff names the type of content from its first bytes: http.DetectContentType
// plus checks for the containers it does not tell apart.
func sniff(head []byte) string {
	switch {
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "image/webp"
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return "audio/wav"
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		return ftypMIME(head)
	case len(head) >= 4 && bytes.Equal(head[:4], []byte{0x1A, 0x45, 0xDF, 0xA3}):
		if bytes.Contains(head[:min(len(head), 64)], []byte("webm")) {
			return "video/webm"
		}
		return "video/x-matroska"
	case len(head) >= 4 && string(head[:4]) == "OggS":
		if bytes.Contains(head[:min(len(head), 128)], []byte("\x80theora")) {
			return "video/ogg"
		}
		return "audio/ogg"
	case len(head) >= 3 && string(head[:3]) == "ID3", isMP3Frame(head):
		return "audio/mpeg"
	case len(head) == 0:
		return "application/octet-stream"
	}
	ct := http.DetectContentType(head)
	ct, _, _ = strings.Cut(ct, ";")
	switch ct {
	case "audio/wave":
		ct = "audio/wav"
	case "application/ogg":
		ct = "audio/ogg"
	}
	return strings.TrimSpace(ct)
}

// ftypMIME reads the brands of an ISO base media file (mp4, mov, m4a, heic).
func ftypMIME(head []byte) string {
	switch string(head[8:12]) {
	case "qt  ":
		return "video/quicktime"
	case "M4A ", "M4B ", "M4P ", "F4A ":
		return "audio/mp4"
	case "heic", "heix", "hevc", "heim", "heis", "mif1", "msf1":
		return "image/heic"
	case "avif", "avis":
		return "image/avif"
	}
	return "video/mp4"
}

// isMP3Frame reports whether b starts with a plausible MPEG audio frame header.
func isMP3Frame(b []byte) bool {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return false
	}
	version, layer := (b[1]>>3)&3, (b[1]>>1)&3
	bitrate, rate := b[2]>>4, (b[2]>>2)&3
	return version != 1 && layer != 0 && bitrate != 0 && bitrate != 15 && rate != 3
}
