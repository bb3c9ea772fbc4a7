package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// ProtoEphemeral moves view-once media from its sender's memory to a
// recipient's memory (sync/node/ephemeral.go draws the exchange).
const ProtoEphemeral = "/kite/ephemeral/1.0.0"

// Ephemeral frame types. Each frame of /kite/ephemeral/1.0.0 uses the
// common framing (a uvarint length, at most MaxFrame bytes) around one
// type byte and its payload; they are not protobuf, so a chunk of sealed
// media is sent as it is.
const (
	EphRequest byte = 1 // payload: the 32-byte event ID
	EphHeader  byte = 2 // payload: uvarint total of sealed bytes that follow in chunks
	EphChunk   byte = 3 // payload: 1 to MaxEphemeralChunk sealed bytes
	EphAck     byte = 4 // no payload: the recipient stored and verified it
	EphRefused byte = 5 // payload: a code byte, then a short UTF-8 reason
)

// Refusal codes of EphRefused.
const (
	EphGone     byte = 1 // not held (expired, delivered, or sent before a restart)
	EphNotYours byte = 2 // not sealed for the asking peer
	EphBad      byte = 3 // malformed, or does not open / match (recipient's side)
)

// Limits of the ephemeral protocol.
const (
	// MaxEphemeralChunk is the most sealed bytes in one EphChunk: with
	// its type byte a frame stays within MaxFrame.
	MaxEphemeralChunk = MaxFrame - 1
	maxEphReason      = 200
)

// ErrBadEphemeral is a malformed or non-canonical ephemeral frame.
var ErrBadEphemeral = errors.New("wire: bad ephemeral frame")

// EphFrame is one message of /kite/ephemeral/1.0.0.
type EphFrame struct {
	Type   byte
	ID     [32]byte // EphRequest
	Total  uint64   // EphHeader
	Data   []byte   // EphChunk; EphRefused: the reason
	Code   byte     // EphRefused
	Reason string   // EphRefused
}

// EncodeEph returns f's encoding, without the length prefix.
func EncodeEph(f EphFrame) ([]byte, error) { return AppendEph(nil, f) }

// AppendEph appends f's encoding, without the length prefix, to dst.
func AppendEph(dst []byte, f EphFrame) ([]byte, error) {
	dst = append(dst, f.Type)
	switch f.Type {
	case EphRequest:
		dst = append(dst, f.ID[:]...)
	case EphHeader:
		dst = binary.AppendUvarint(dst, f.Total)
	case EphChunk:
		if len(f.Data) == 0 || len(f.Data) > MaxEphemeralChunk {
			return nil, fmt.Errorf("%w: chunk of %d bytes", ErrBadEphemeral, len(f.Data))
		}
		dst = append(dst, f.Data...)
	case EphAck:
	case EphRefused:
		if f.Code == 0 || len(f.Reason) > maxEphReason || !utf8.ValidString(f.Reason) {
			return nil, fmt.Errorf("%w: refusal", ErrBadEphemeral)
		}
		dst = append(dst, f.Code)
		dst = append(dst, f.Reason...)
	default:
		return nil, fmt.Errorf("%w: type %d", ErrBadEphemeral, f.Type)
	}
	return dst, nil
}

// DecodeEph parses one frame body; anything it accepts, EncodeEph
// reproduces exactly. A chunk's Data aliases b.
func DecodeEph(b []byte) (EphFrame, error) {
	if len(b) == 0 {
		return EphFrame{}, ErrEmptyFrame
	}
	if len(b) > MaxFrame {
		return EphFrame{}, ErrFrameTooLarge
	}
	f := EphFrame{Type: b[0]}
	p := b[1:]
	switch f.Type {
	case EphRequest:
		if len(p) != 32 {
			return f, fmt.Errorf("%w: request of %d bytes", ErrBadEphemeral, len(p))
		}
		copy(f.ID[:], p)
	case EphHeader:
		v, n := binary.Uvarint(p)
		if n <= 0 || n != len(p) || len(binary.AppendUvarint(nil, v)) != n {
			return f, fmt.Errorf("%w: header", ErrBadEphemeral)
		}
		f.Total = v
	case EphChunk:
		if len(p) == 0 {
			return f, fmt.Errorf("%w: empty chunk", ErrBadEphemeral)
		}
		f.Data = p
	case EphAck:
		if len(p) != 0 {
			return f, fmt.Errorf("%w: ack with a payload", ErrBadEphemeral)
		}
	case EphRefused:
		if len(p) == 0 || p[0] == 0 || len(p)-1 > maxEphReason || !utf8.Valid(p[1:]) {
			return f, fmt.Errorf("%w: refusal", ErrBadEphemeral)
		}
		f.Code, f.Reason = p[0], string(p[1:])
	default:
		return f, fmt.Errorf("%w: type %d", ErrBadEphemeral, f.Type)
	}
	return f, nil
}

// WriteEph writes one length-prefixed ephemeral frame in a single Write.
func (w *Writer) WriteEph(f EphFrame) error {
	body, err := AppendEph(w.buf[:0], f)
	if err != nil {
		return err
	}
	out := binary.AppendUvarint(make([]byte, 0, maxPrefix+len(body)), uint64(len(body)))
	out = append(out, body...)
	if cap(body) <= 64<<10 {
		w.buf = body
	} else {
		w.buf = nil
	}
	if _, err := w.w.Write(out); err != nil {
		return fmt.Errorf("wire: write frame: %w", err)
	}
	return nil
}

// ReadEph reads and decodes one ephemeral frame of at most the Reader's
// limit. A chunk's Data is valid until the next read.
func (r *Reader) ReadEph() (EphFrame, error) {
	b, err := r.readBody()
	if err != nil {
		return EphFrame{}, err
	}
	return DecodeEph(b)
}
