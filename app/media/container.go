package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// This file reads durations and dimensions from container headers: WAV,
// ISO base media (mp4, mov, m4a), Ogg and Matroska/WebM. Every walk is
// bounded by the file size and by a count of elements, so a hostile file
// cannot make it loop or allocate much.

const maxElements = 1024 // per level of a container walk

// readAt reads exactly n bytes at off; a short read means the file is truncated.
func readAt(r io.ReaderAt, off int64, n int) ([]byte, error) {
	b := make([]byte, n)
	got, err := r.ReadAt(b, off)
	if got == n {
		return b, nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("truncated at byte %d: %w", off+int64(got), ErrCorrupt)
	}
	return nil, err
}

// msFrom converts a count of units at rate units per second to milliseconds,
// without overflowing.
func msFrom(units, rate uint64) int {
	if rate == 0 {
		return 0
	}
	ms := units/rate*1000 + units%rate*1000/rate
	if ms > math.MaxInt32 {
		return 0
	}
	return int(ms)
}

// wavDuration reads the fmt and data chunks of a RIFF/WAVE file.
func wavDuration(r io.ReaderAt, size int64) (int, error) {
	var byteRate uint32
	dataSize := int64(-1)
	off := int64(12)
	for i := 0; i < maxElements && off+8 <= size; i++ {
		h, err := readAt(r, off, 8)
		if err != nil {
			return 0, err
		}
		id, n := string(h[:4]), int64(binary.LittleEndian.Uint32(h[4:]))
		body := off + 8
		switch id {
		case "fmt ":
			if n < 16 || body+16 > size {
				return 0, fmt.Errorf("wav: fmt chunk of %d bytes: %w", n, ErrCorrupt)
			}
			f, err := readAt(r, body, 16)
			if err != nil {
				return 0, err
			}
			byteRate = binary.LittleEndian.Uint32(f[8:12])
		case "data":
			if n == 0 || n == 0xFFFFFFFF { // written while streaming: the data runs to the end
				n = size - body
			}
			if body+n > size {
				return 0, fmt.Errorf("wav: data chunk of %d bytes in %d: %w", n, size-body, ErrCorrupt)
			}
			dataSize = n
		}
		if byteRate != 0 && dataSize >= 0 {
			return msFrom(uint64(dataSize), uint64(byteRate)), nil
		}
		off = body + n + n&1
	}
	if byteRate == 0 {
		return 0, fmt.Errorf("wav: no usable fmt chunk: %w", ErrCorrupt)
	}
	return 0, fmt.Errorf("wav: no data chunk: %w", ErrCorrupt)
}

// mp4Info is what parseMP4 learns.
type mp4Info struct {
	durationMs, width, height int
	hasVideo, hasAudio        bool
}

// walkBoxes calls fn for each ISO box in [start, end). fn gets the box type
// and the range of its body.
func walkBoxes(r io.ReaderAt, start, end int64, fn func(typ string, body, end int64) error) error {
	off := start
	for i := 0; off < end; i++ {
		if i == maxElements {
			return fmt.Errorf("mp4: more than %d boxes: %w", maxElements, ErrCorrupt)
		}
		if end-off < 8 {
			return fmt.Errorf("mp4: %d stray bytes at %d: %w", end-off, off, ErrCorrupt)
		}
		h, err := readAt(r, off, 8)
		if err != nil {
			return err
		}
		n, typ, hdr := int64(binary.BigEndian.Uint32(h)), string(h[4:8]), int64(8)
		switch n {
		case 0: // to the end
			n = end - off
		case 1:
			if end-off < 16 {
				return fmt.Errorf("mp4: %q box cut short: %w", typ, ErrCorrupt)
			}
			l, err := readAt(r, off+8, 8)
			if err != nil {
				return err
			}
			u := binary.BigEndian.Uint64(l)
			if u > math.MaxInt64 {
				return fmt.Errorf("mp4: %q box of %d bytes: %w", typ, u, ErrCorrupt)
			}
			n, hdr = int64(u), 16
		}
		if n < hdr || n > end-off {
			return fmt.Errorf("mp4: %q box of %d bytes at %d, %d left: %w", typ, n, off, end-off, ErrCorrupt)
		}
		if err := fn(typ, off+hdr, off+n); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// parseMP4 reads mvhd (duration) and each trak's tkhd and hdlr (dimensions,
// whether there is a picture or only sound).
func parseMP4(r io.ReaderAt, size int64) (mp4Info, error) {
	var m mp4Info
	sawMoov := false
	err := walkBoxes(r, 0, size, func(typ string, body, end int64) error {
		if typ != "moov" || sawMoov {
			return nil
		}
		sawMoov = true
		return walkBoxes(r, body, end, func(typ string, body, end int64) error {
			switch typ {
			case "mvhd":
				b, err := readAt(r, body, int(min(end-body, 32)))
				if err != nil {
					return err
				}
				m.durationMs = mvhdDuration(b)
			case "trak":
				return parseTrak(r, body, end, &m)
			}
			return nil
		})
	})
	if err != nil {
		return mp4Info{}, err
	}
	if !sawMoov {
		return mp4Info{}, fmt.Errorf("mp4: no moov box: %w", ErrCorrupt)
	}
	return m, nil
}

func mvhdDuration(b []byte) int {
	switch {
	case len(b) >= 32 && b[0] == 1:
		return msFrom(binary.BigEndian.Uint64(b[24:32]), uint64(binary.BigEndian.Uint32(b[20:24])))
	case len(b) >= 20 && b[0] == 0:
		d := binary.BigEndian.Uint32(b[16:20])
		if d == 0xFFFFFFFF { // unknown
			return 0
		}
		return msFrom(uint64(d), uint64(binary.BigEndian.Uint32(b[12:16])))
	}
	return 0
}

func parseTrak(r io.ReaderAt, start, end int64, m *mp4Info) error {
	var w, h int
	var handler string
	err := walkBoxes(r, start, end, func(typ string, body, end int64) error {
		switch typ {
		case "tkhd":
			b, err := readAt(r, body, int(min(end-body, 96)))
			if err != nil {
				return err
			}
			w, h = tkhdSize(b)
		case "mdia":
			return walkBoxes(r, body, end, func(typ string, body, end int64) error {
				if typ != "hdlr" || end-body < 12 {
					return nil
				}
				b, err := readAt(r, body, 12)
				if err != nil {
					return err
				}
				handler = string(b[8:12])
				return nil
			})
		}
		return nil
	})
	switch handler {
	case "vide":
		m.hasVideo = true
		if m.width == 0 {
			m.width, m.height = w, h
		}
	case "soun":
		m.hasAudio = true
	}
	return err
}

// tkhdSize reads a track's presentation size, swapped when the matrix
// turns the picture by 90 or 270 degrees (phones record that way).
func tkhdSize(b []byte) (w, h int) {
	matrix, size := 40, 76
	if len(b) > 0 && b[0] == 1 {
		matrix, size = 52, 88
	}
	if len(b) < size+8 {
		return 0, 0
	}
	w = int(binary.BigEndian.Uint32(b[size:]) >> 16)
	h = int(binary.BigEndian.Uint32(b[size+4:]) >> 16)
	if binary.BigEndian.Uint32(b[matrix:]) == 0 && binary.BigEndian.Uint32(b[matrix+4:]) != 0 {
		w, h = h, w
	}
	return w, h
}

// oggDuration reads the last page of the first logical stream: its granule
// position over the sample rate (48000 for Opus, less the pre-skip).
func oggDuration(r io.ReaderAt, size int64, head []byte) (int, error) {
	if len(head) < 28 {
		return 0, fmt.Errorf("ogg: first page cut short: %w", ErrCorrupt)
	}
	serial := binary.LittleEndian.Uint32(head[14:18])
	var rate, skip uint64
	if i := bytes.Index(head, []byte("OpusHead")); i >= 0 && i+12 <= len(head) {
		rate, skip = 48000, uint64(binary.LittleEndian.Uint16(head[i+10:]))
	} else if i := bytes.Index(head, []byte("\x01vorbis")); i >= 0 && i+16 <= len(head) {
		rate = uint64(binary.LittleEndian.Uint32(head[i+12:]))
	}
	n := min(size, 65536+27) // a page is at most 65307 bytes
	tail, err := readAt(r, size-n, int(n))
	if err != nil {
		return 0, err
	}
	for i := len(tail) - 27; i >= 0; i-- {
		i = bytes.LastIndex(tail[:i+4], []byte("OggS"))
		if i < 0 || i+27 > len(tail) {
			break
		}
		p := tail[i:]
		g := binary.LittleEndian.Uint64(p[6:14])
		if p[4] != 0 || binary.LittleEndian.Uint32(p[14:18]) != serial || g == math.MaxUint64 {
			continue
		}
		if rate == 0 || g < skip {
			return 0, nil
		}
		return msFrom(g-skip, rate), nil
	}
	return 0, fmt.Errorf("ogg: no page in the last %d bytes: %w", n, ErrCorrupt)
}

// mkvInfo is what parseMKV learns.
type mkvInfo struct {
	durationMs, width, height int
	hasVideo, hasAudio        bool
}

// Matroska element IDs (with their length marker, as written).
const (
	idEBML          = 0x1A45DFA3
	idSegment       = 0x18538067
	idInfo          = 0x1549A966
	idTimecodeScale = 0x2AD7B1
	idDuration      = 0x4489
	idTracks        = 0x1654AE6B
	idTrackEntry    = 0xAE
	idTrackType     = 0x83
	idVideo         = 0xE0
	idPixelWidth    = 0xB0
	idPixelHeight   = 0xBA
	idCluster       = 0x1F43B675
)

// ebmlElement reads an element header at off: its ID, the start of its body,
// and its end (clamped to limit; unknown sizes run to limit).
func ebmlElement(r io.ReaderAt, off, limit int64) (id uint64, body, end int64, err error) {
	b, err := readAt(r, off, int(min(12, limit-off)))
	if err != nil {
		return 0, 0, 0, err
	}
	id, n, ok := vint(b, true)
	if !ok || n > 4 {
		return 0, 0, 0, fmt.Errorf("webm: bad element ID at %d: %w", off, ErrCorrupt)
	}
	sz, m, ok := vint(b[n:], false)
	if !ok {
		return 0, 0, 0, fmt.Errorf("webm: bad element size at %d: %w", off, ErrCorrupt)
	}
	body = off + int64(n+m)
	if sz == 1<<(7*m)-1 || sz > uint64(limit-body) { // unknown size, or past the end (a live recording)
		return id, body, limit, nil
	}
	return id, body, body + int64(sz), nil
}

// vint reads an EBML variable-length integer, keeping or dropping its
// length marker.
func vint(b []byte, keepMarker bool) (v uint64, n int, ok bool) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0, false
	}
	for n = 1; b[0]&(0x80>>(n-1)) == 0; n++ {
	}
	if len(b) < n {
		return 0, 0, false
	}
	v = uint64(b[0])
	if !keepMarker {
		v &= 0xFF >> n
	}
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n, true
}

func ebmlUint(r io.ReaderAt, body, end int64) (uint64, error) {
	if end-body < 1 || end-body > 8 {
		return 0, nil
	}
	b, err := readAt(r, body, int(end-body))
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, err
}

// walkEBML calls fn for each element in [start, end); fn returns false to stop.
func walkEBML(r io.ReaderAt, start, end int64, fn func(id uint64, body, end int64) (bool, error)) error {
	off := start
	for i := 0; i < maxElements && off < end; i++ {
		id, body, next, err := ebmlElement(r, off, end)
		if err != nil {
			return err
		}
		if more, err := fn(id, body, next); err != nil || !more {
			return err
		}
		off = next
	}
	return nil
}

// parseMKV reads Segment/Info (duration) and Segment/Tracks (kinds of
// track, picture size), stopping at the first Cluster.
func parseMKV(r io.ReaderAt, size int64) (mkvInfo, error) {
	var m mkvInfo
	scale, duration := uint64(1_000_000), 0.0
	sawSegment := false
	err := walkEBML(r, 0, size, func(id uint64, body, end int64) (bool, error) {
		if id != idSegment {
			return id == idEBML, nil
		}
		sawSegment = true
		return false, walkEBML(r, body, end, func(id uint64, body, end int64) (bool, error) {
			switch id {
			case idCluster:
				return false, nil
			case idInfo:
				return true, walkEBML(r, body, end, func(id uint64, body, end int64) (bool, error) {
					switch id {
					case idTimecodeScale:
						v, err := ebmlUint(r, body, end)
						if v > 0 {
							scale = v
						}
						return true, err
					case idDuration:
						b, err := readAt(r, body, int(min(end-body, 8)))
						switch len(b) {
						case 4:
							duration = float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
						case 8:
							duration = math.Float64frombits(binary.BigEndian.Uint64(b))
						}
						return true, err
					}
					return true, nil
				})
			case idTracks:
				return true, walkEBML(r, body, end, func(id uint64, body, end int64) (bool, error) {
					if id == idTrackEntry {
						return true, parseTrackEntry(r, body, end, &m)
					}
					return true, nil
				})
			}
			return true, nil
		})
	})
	if err != nil {
		return mkvInfo{}, err
	}
	if !sawSegment {
		return mkvInfo{}, fmt.Errorf("webm: no segment: %w", ErrCorrupt)
	}
	if ms := duration * float64(scale) / 1e6; ms > 0 && ms < math.MaxInt32 {
		m.durationMs = int(ms)
	}
	return m, nil
}

func parseTrackEntry(r io.ReaderAt, start, end int64, m *mkvInfo) error {
	var typ uint64
	var w, h uint64
	err := walkEBML(r, start, end, func(id uint64, body, end int64) (bool, error) {
		switch id {
		case idTrackType:
			v, err := ebmlUint(r, body, end)
			typ = v
			return true, err
		case idVideo:
			return true, walkEBML(r, body, end, func(id uint64, body, end int64) (bool, error) {
				var err error
				switch id {
				case idPixelWidth:
					w, err = ebmlUint(r, body, end)
				case idPixelHeight:
					h, err = ebmlUint(r, body, end)
				}
				return true, err
			})
		}
		return true, nil
	})
	switch typ {
	case 1:
		m.hasVideo = true
		if m.width == 0 && w < 1<<16 && h < 1<<16 {
			m.width, m.height = int(w), int(h)
		}
	case 2:
		m.hasAudio = true
	}
	return err
}
