package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"
)

// Protocol IDs. A change to any message's meaning is a new version.
const (
	ProtoSync    = "/kite/sync/1.0.0"
	ProtoSignal  = "/kite/signal/1.0.0"
	ProtoProfile = "/kite/profile/1.0.0"
	ProtoMailbox = "/kite/mailbox/1.0.0"
)

// Limits of the framing.
const (
	// MaxFrame is the largest frame body: 1 MiB, equal to
	// app.MaxEventBytes (a test keeps them equal).
	MaxFrame = 1 << 20
	// maxPrefix is the longest uvarint that can encode MaxFrame.
	maxPrefix = 3
	// chunk is how much a frame's buffer grows by as its bytes arrive.
	chunk = 64 << 10
)

// Errors of the framing. They are returned as they are (not wrapped) on
// the hot path, so refusing a frame allocates nothing.
var (
	ErrFrameTooLarge = errors.New("wire: frame larger than 1 MiB")
	ErrEmptyFrame    = errors.New("wire: empty frame")
	ErrNonCanonical  = errors.New("wire: frame is not canonically encoded")
	ErrBadPrefix     = errors.New("wire: bad length prefix")
)

var marshal = proto.MarshalOptions{Deterministic: true}

// Encode returns f's canonical encoding, without the length prefix.
func Encode(f *Frame) ([]byte, error) {
	b, err := marshal.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("wire: encode: %w", err)
	}
	if len(b) == 0 {
		return nil, ErrEmptyFrame
	}
	if len(b) > MaxFrame {
		return nil, ErrFrameTooLarge
	}
	return b, nil
}

// Decode parses one frame body. It refuses empty frames, frames with no
// message set and encodings that do not re-encode to the same bytes, so
// anything Decode accepts, Encode reproduces exactly.
func Decode(b []byte) (*Frame, error) {
	if len(b) == 0 {
		return nil, ErrEmptyFrame
	}
	if len(b) > MaxFrame {
		return nil, ErrFrameTooLarge
	}
	f := new(Frame)
	if err := proto.Unmarshal(b, f); err != nil {
		return nil, fmt.Errorf("wire: decode: %w", err)
	}
	if f.Msg == nil {
		return nil, ErrEmptyFrame
	}
	again, err := marshal.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("wire: decode: %w", err)
	}
	if string(again) != string(b) {
		return nil, ErrNonCanonical
	}
	return f, nil
}

// AppendFrame appends the length-prefixed encoding of f to dst.
func AppendFrame(dst []byte, f *Frame) ([]byte, error) {
	b, err := Encode(f)
	if err != nil {
		return dst, err
	}
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...), nil
}

// Size is the length of f's encoding, prefix excluded.
func Size(f *Frame) int { return marshal.Size(f) }

// Reader reads frames from a stream. It is not safe for concurrent use.
type Reader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// NewReader reads frames of up to MaxFrame bytes from r.
func NewReader(r io.Reader) *Reader { return NewReaderMax(r, MaxFrame) }

// NewReaderMax reads frames of up to max (at most MaxFrame) bytes from r;
// protocols whose messages are small use it to refuse more sooner.
func NewReaderMax(r io.Reader, max int) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 4096), max: min(max, MaxFrame)}
}

// ReadLen reads a length prefix and checks it against MaxFrame before
// anything is allocated for the frame.
func (r *Reader) ReadLen() (int, error) {
	var n uint64
	var shift uint
	for i := 0; ; i++ {
		c, err := r.r.ReadByte()
		if err != nil {
			if i > 0 && err == io.EOF {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if i == maxPrefix-1 && c >= 0x80 {
			// A fourth byte could only make the length larger.
			return 0, ErrFrameTooLarge
		}
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			if i > 0 && c == 0 {
				return 0, ErrBadPrefix // over-long uvarint
			}
			break
		}
		shift += 7
	}
	switch {
	case n == 0:
		return 0, ErrEmptyFrame
	case n > uint64(r.max):
		return 0, ErrFrameTooLarge
	}
	return int(n), nil
}

// ReadFrame reads and decodes one frame. io.EOF means the stream ended
// cleanly between frames.
func (r *Reader) ReadFrame() (*Frame, error) {
	b, err := r.readBody()
	if err != nil {
		return nil, err
	}
	f, err := Decode(b) // proto.Unmarshal copies bytes fields: buf is reused
	if cap(r.buf) > 64<<10 {
		r.buf = nil // do not keep a large buffer for a long-lived stream
	}
	return f, err
}

// Writer writes frames to a stream. It is not safe for concurrent use.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter writes frames to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteFrame writes one length-prefixed frame in a single Write.
func (w *Writer) WriteFrame(f *Frame) error {
	b, err := AppendFrame(w.buf[:0], f)
	if err != nil {
		return err
	}
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("wire: write frame: %w", err)
	}
	if cap(b) <= 64<<10 {
		w.buf = b
	} else {
		w.buf = nil
	}
	return nil
}

// readBody reads one length-prefixed frame body into the Reader's buffer;
// it is valid until the next read. Memory follows the bytes that
// actually arrive: a peer that claims 1 MiB and sends nothing holds at
// most one chunk.
func (r *Reader) readBody() ([]byte, error) {
	n, err := r.ReadLen()
	if err != nil {
		return nil, err
	}
	b := r.buf[:0]
	for len(b) < n {
		want := min(n, len(b)+chunk)
		if cap(b) < want {
			b = append(b[:cap(b)], make([]byte, want-cap(b))...)[:len(b)]
		}
		k, err := io.ReadFull(r.r, b[len(b):want])
		b = b[:len(b)+k]
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("wire: read frame: %w", err)
		}
	}
	r.buf = b
	return b, nil
}
