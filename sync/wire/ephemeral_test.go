package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestEphRoundTrip(t *testing.T) {
	var id [32]byte
	id[0], id[31] = 1, 2
	frames := []EphFrame{
		{Type: EphRequest, ID: id},
		{Type: EphHeader, Total: 5 << 20},
		{Type: EphChunk, Data: bytes.Repeat([]byte{7}, MaxEphemeralChunk)},
		{Type: EphAck},
		{Type: EphRefused, Code: EphGone, Reason: "expired"},
	}
	var stream bytes.Buffer
	w := NewWriter(&stream)
	for _, f := range frames {
		if err := w.WriteEph(f); err != nil {
			t.Fatalf("write %d: %v", f.Type, err)
		}
	}
	r := NewReader(&stream)
	for _, want := range frames {
		got, err := r.ReadEph()
		if err != nil {
			t.Fatalf("read %d: %v", want.Type, err)
		}
		if got.Type != want.Type || got.ID != want.ID || got.Total != want.Total || !bytes.Equal(got.Data, want.Data) ||
			got.Code != want.Code || got.Reason != want.Reason {
			t.Fatalf("frame %d: got %+v, want %+v", want.Type, got.Type, want.Type)
		}
	}
}

func TestEphRefusesBad(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":           {},
		"short request":   append([]byte{EphRequest}, make([]byte, 31)...),
		"long header":     {EphHeader, 0x80, 0x00},
		"empty chunk":     {EphChunk},
		"ack with bytes":  {EphAck, 1},
		"refusal no code": {EphRefused},
		"unknown type":    {9},
	} {
		if _, err := DecodeEph(b); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
	if _, err := EncodeEph(EphFrame{Type: EphChunk, Data: make([]byte, MaxEphemeralChunk+1)}); !errors.Is(err, ErrBadEphemeral) {
		t.Errorf("oversized chunk: got %v, want ErrBadEphemeral", err)
	}
	big := bytes.NewReader(append([]byte{0x81, 0x80, 0x40}, make([]byte, 16)...)) // 1 MiB + 1
	if _, err := NewReader(big).ReadEph(); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("frame over 1 MiB: got %v, want ErrFrameTooLarge", err)
	}
}

// FuzzEph: anything DecodeEph accepts re-encodes to the same bytes.
func FuzzEph(f *testing.F) {
	f.Add([]byte{EphAck})
	f.Add([]byte{EphHeader, 0x80, 0x01})
	f.Add(append([]byte{EphRequest}, make([]byte, 32)...))
	f.Add([]byte{EphRefused, EphGone, 'x'})
	f.Add([]byte{EphChunk, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeEph(b)
		if err != nil {
			return
		}
		again, err := EncodeEph(fr)
		if err != nil {
			t.Fatalf("decoded %x but cannot encode it: %v", b, err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("decode %x, encode %x", b, again)
		}
	})
}
