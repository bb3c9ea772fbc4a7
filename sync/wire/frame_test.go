package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"

	"google.golang.org/protobuf/proto"

	"kite/app"
)

func id(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// samples is one frame of every kind.
func samples() []*Frame {
	return []*Frame{
		{Msg: &Frame_Hello{Hello: &Hello{Convs: []*ConvVersions{
			{Conv: id(1), Versions: []*Version{{Author: id(2), Seq: 7}, {Author: id(3), Seq: 1}}},
			{Conv: id(4)},
		}}}},
		{Msg: &Frame_Hello{Hello: &Hello{}}},
		{Msg: &Frame_Events{Events: &Events{Events: [][]byte{[]byte("a"), bytes.Repeat([]byte("x"), 1000)}}}},
		{Msg: &Frame_Ack{Ack: &Ack{Ids: [][]byte{id(5), id(6)}}}},
		{Msg: &Frame_Refused{Refused: &Refused{Conv: id(1), Reason: "rate", Ids: [][]byte{id(7)}}}},
		{Msg: &Frame_Want{Want: &Want{Conv: id(1), Have: []*Version{{Author: id(2), Seq: 3}}}}},
		{Msg: &Frame_Signal{Signal: &Signal{What: &Signal_Typing{Typing: &Typing{Conv: id(1), On: true}}}}},
		{Msg: &Frame_Signal{Signal: &Signal{What: &Signal_Presence{Presence: &Presence{Online: true, LastActive: 1700000000000}}}}},
		{Msg: &Frame_Signal{Signal: &Signal{What: &Signal_Presence{Presence: &Presence{Hidden: true}}}}},
		{Msg: &Frame_Signal{Signal: &Signal{What: &Signal_Seen{Seen: &Seen{Conv: id(1), Event: id(9)}}}}},
		{Msg: &Frame_ProfileRequest{ProfileRequest: &ProfileRequest{}}},
		{Msg: &Frame_Profile{Profile: &Profile{Data: []byte(`{"handle":"ann"}`), Sig: id(8)}}},
	}
}

func TestMaxFrameIsMaxEvent(t *testing.T) {
	if MaxFrame != app.MaxEventBytes {
		t.Fatalf("MaxFrame = %d, want app.MaxEventBytes = %d", MaxFrame, app.MaxEventBytes)
	}
}

func TestRoundTrip(t *testing.T) {
	var stream bytes.Buffer
	w := NewWriter(&stream)
	for _, f := range samples() {
		if err := w.WriteFrame(f); err != nil {
			t.Fatalf("write %v: %v", f, err)
		}
	}
	r := NewReader(&stream)
	for i, want := range samples() {
		got, err := r.ReadFrame()
		if err != nil {
			t.Fatalf("frame %d: read: %v", i, err)
		}
		if !proto.Equal(got, want) {
			t.Errorf("frame %d: got %v, want %v", i, got, want)
		}
	}
	if _, err := r.ReadFrame(); err != io.EOF {
		t.Errorf("after the last frame: got %v, want io.EOF", err)
	}
}

func TestReaderMax(t *testing.T) {
	b, err := AppendFrame(nil, samples()[2])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewReaderMax(bytes.NewReader(b), 100).ReadFrame(); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("frame of %d bytes with max 100: got %v, want ErrFrameTooLarge", len(b), err)
	}
	if _, err := NewReaderMax(bytes.NewReader(b), len(b)).ReadFrame(); err != nil {
		t.Errorf("frame within max: %v", err)
	}
}

func TestTruncatedStream(t *testing.T) {
	b, err := AppendFrame(nil, samples()[0])
	if err != nil {
		t.Fatal(err)
	}
	for cut := 1; cut < len(b); cut++ {
		_, err := NewReader(bytes.NewReader(b[:cut])).ReadFrame()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d of %d: got %v, want io.ErrUnexpectedEOF", cut, len(b), err)
		}
	}
}

func TestFrameCaps(t *testing.T) {
	tests := []struct {
		name   string
		prefix []byte
		want   error
	}{
		{"2^32-1", binary.AppendUvarint(nil, 1<<32-1), ErrFrameTooLarge},
		{"2^64-1", binary.AppendUvarint(nil, 1<<64-1), ErrFrameTooLarge},
		{"1 MiB + 1", binary.AppendUvarint(nil, MaxFrame+1), ErrFrameTooLarge},
		{"2^21-1", binary.AppendUvarint(nil, 1<<21-1), ErrFrameTooLarge},
		{"zero", []byte{0}, ErrEmptyFrame},
		{"over-long", []byte{0x85, 0x00}, ErrBadPrefix},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A reader that would hand out 2 MiB after the prefix: the
			// refusal must come from the prefix alone.
			src := io.MultiReader(bytes.NewReader(tt.prefix), io.LimitReader(zeros{}, 2<<20))
			r := NewReader(src)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := r.ReadFrame()
			runtime.ReadMemStats(&after)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
				t.Errorf("refusing the frame allocated %d bytes, want < 64 KiB", d)
			}
		})
	}
}

func TestExactlyMaxFrame(t *testing.T) {
	// An Events frame whose encoding is exactly MaxFrame bytes is accepted;
	// one byte more is refused by the writer and by the reader.
	ev := make([]byte, MaxFrame)
	f := &Frame{Msg: &Frame_Events{Events: &Events{Events: [][]byte{ev}}}}
	for Size(f) > MaxFrame {
		ev = ev[:len(ev)-1]
		f.GetEvents().Events[0] = ev
	}
	if Size(f) != MaxFrame {
		t.Fatalf("could not build a frame of exactly MaxFrame: %d", Size(f))
	}
	var buf bytes.Buffer
	if err := NewWriter(&buf).WriteFrame(f); err != nil {
		t.Fatalf("write a 1 MiB frame: %v", err)
	}
	got, err := NewReader(&buf).ReadFrame()
	if err != nil || len(got.GetEvents().GetEvents()[0]) != len(ev) {
		t.Fatalf("read a 1 MiB frame: %v", err)
	}
	f.GetEvents().Events[0] = append(ev, 0)
	if err := NewWriter(io.Discard).WriteFrame(f); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("write 1 MiB + 1: got %v, want ErrFrameTooLarge", err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	good, err := Encode(samples()[4])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrEmptyFrame},
		{"no message", []byte{}, ErrEmptyFrame},
		// A zero-valued field written out: proto3 drops it on re-encode.
		{"explicit default", append([]byte{0x22, byte(len(good) - 2 + 2)}, append([]byte{0x10, 0x00}, good[2:]...)...), ErrNonCanonical},
		// The same field twice: the last one wins, so it re-encodes shorter.
		{"repeated oneof", append(append([]byte{}, good...), good...), ErrNonCanonical},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(tt.b); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := Decode([]byte{0xff}); err == nil {
		t.Errorf("garbage decoded without error")
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// FuzzDecode: nothing panics, and anything that decodes re-encodes to the
// same bytes.
func FuzzDecode(f *testing.F) {
	for _, s := range samples() {
		b, err := Encode(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x0a, 0x00})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Encode(fr)
		if err != nil {
			t.Fatalf("decoded frame does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", again, b)
		}
	})
}

// FuzzReader: a stream of arbitrary bytes never panics the reader, never
// yields a frame above MaxFrame, and every frame read re-encodes to bytes
// that read back the same.
func FuzzReader(f *testing.F) {
	var stream []byte
	for _, s := range samples() {
		var err error
		if stream, err = AppendFrame(stream, s); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(stream)
	f.Add(binary.AppendUvarint(nil, 1<<32-1))
	f.Add(binary.AppendUvarint(nil, MaxFrame+1))
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		for range 64 {
			fr, err := r.ReadFrame()
			if err != nil {
				return
			}
			enc, err := AppendFrame(nil, fr)
			if err != nil {
				t.Fatalf("frame read does not encode: %v", err)
			}
			back, err := NewReader(bytes.NewReader(enc)).ReadFrame()
			if err != nil || !proto.Equal(back, fr) {
				t.Fatalf("frame does not read back: %v", err)
			}
		}
	})
}
