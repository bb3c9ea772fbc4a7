package audio

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"time"
)

func sine(n, rate int, hz float64) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(12000 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return s
}

func TestDecodeWAVRoundTrip(t *testing.T) {
	in := sine(16000, 16000, 440)
	in = append(in, 32767, -32768, 0, 1, -1)
	tests := []struct {
		name   string
		wav    []byte
		maxErr int // largest allowed difference per sample
		bytes  int // of sound data per second
	}{
		{"pcm16", encodePCM16(in, 16000), 0, 32000},
		{"mu-law", encodeMuLaw(in, 16000), 1024, 16000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(tt.wav) - 58; got > tt.bytes*len(in)/16000+2 {
				t.Errorf("got %d bytes of sound for %d samples, want about %d/s", got, len(in), tt.bytes)
			}
			out, rate, err := DecodeWAV(tt.wav)
			if err != nil {
				t.Fatal(err)
			}
			if rate != 16000 || len(out) != len(in) {
				t.Fatalf("got %d samples at %d Hz, want %d at 16000", len(out), rate, len(in))
			}
			for i := range in {
				d := int(out[i]) - int(in[i])
				// µ-law's step grows with loudness: about 3% of the value.
				if allowed := tt.maxErr * (1 + abs(int(in[i]))/1024) / 32; d > allowed || d < -allowed {
					t.Fatalf("sample %d: got %d, want %d ± %d", i, out[i], in[i], allowed)
				}
			}
		})
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestMuLawEveryByte(t *testing.T) {
	for b := 0; b < 256; b++ {
		s := muLawDecode(byte(b))
		if got := muLawDecode(muLawEncode(s)); got != s {
			t.Errorf("byte %#x: decode %d, encode and decode again %d", b, s, got)
		}
	}
}

func TestDecodeWAVStereoAnd8Bit(t *testing.T) {
	le := binary.LittleEndian
	// 2 frames of stereo 16-bit PCM at 8 kHz.
	b := []byte("RIFF\x00\x00\x00\x00WAVEfmt ")
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint32(b, 8000)
	b = le.AppendUint32(b, 32000)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint16(b, 16)
	b = append(b, "data"...)
	b = le.AppendUint32(b, 8)
	for _, v := range []int16{100, 300, -1000, -2000} {
		b = le.AppendUint16(b, uint16(v))
	}
	out, rate, err := DecodeWAV(b)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 8000 || len(out) != 2 || out[0] != 200 || out[1] != -1500 {
		t.Errorf("got %v at %d Hz, want [200 -1500] at 8000", out, rate)
	}
}

func TestDecodeWAVRefusesMalformed(t *testing.T) {
	good := encodePCM16(sine(100, 16000, 440), 16000)
	le := binary.LittleEndian
	patch := func(off int, v uint32) []byte {
		b := append([]byte(nil), good...)
		le.PutUint32(b[off:], v)
		return b
	}
	patch16 := func(off int, v uint16) []byte {
		b := append([]byte(nil), good...)
		le.PutUint16(b[off:], v)
		return b
	}
	tests := []struct {
		name string
		wav  []byte
	}{
		{"empty", nil},
		{"not RIFF", []byte("hello, world, this is not a wav file")},
		{"header only", good[:12]},
		{"no data chunk", good[:36]},
		{"data runs past the end", good[:len(good)-10]},
		{"huge data size", patch(40, 0xFFFFFFF0)},
		{"fmt too short", patch(16, 8)},
		{"zero channels", patch16(22, 0)},
		{"zero rate", patch(24, 0)},
		{"24-bit", patch16(34, 24)},
		{"format 3 (float)", patch16(20, 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, r, err := DecodeWAV(tt.wav); err == nil {
				t.Errorf("got %d samples at %d Hz, want an error", len(s), r)
			}
		})
	}
}

func FuzzDecodeWAV(f *testing.F) {
	f.Add(encodePCM16(sine(50, 16000, 440), 16000))
	f.Add(encodeMuLaw(sine(50, 16000, 440), 16000))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, rate, err := DecodeWAV(b)
		if err == nil && (rate < 1000 || len(s) > len(b)) {
			t.Errorf("got %d samples at %d Hz from %d bytes", len(s), rate, len(b))
		}
	})
}

// TestRecordNull records with miniaudio's null backend. The null backend
// delivers silent frames in real time, so a ~300 ms recording is a valid
// WAV of about 300 ms of silence; if a build of miniaudio ever delivers no
// frames, Stop must say ErrNoDevice instead.
func TestRecordNull(t *testing.T) {
	r, err := NewRecorder(NullBackend)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err == nil {
		t.Error("a second Start while recording: got no error")
	}
	time.Sleep(300 * time.Millisecond)
	wav, d, err := r.Stop()
	select {
	case <-r.Done():
	default:
		t.Error("Done is not closed after Stop")
	}
	if errors.Is(err, ErrNoDevice) {
		t.Logf("the null backend delivered no frames: %v", err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %v in %d bytes", d, len(wav))
	if d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("got a %v recording, want about 300ms", d)
	}
	s, rate, err := DecodeWAV(wav)
	if err != nil {
		t.Fatal(err)
	}
	if rate != RecordRate || time.Duration(len(s))*time.Second/RecordRate != d {
		t.Errorf("got %d samples at %d Hz, want %v at %d", len(s), rate, d, RecordRate)
	}
	if want := 58 + int(d*RecordRate/time.Second); len(wav) != want {
		t.Errorf("got %d bytes, want %d (1 byte per sample)", len(wav), want)
	}
	if _, _, err := r.Stop(); err == nil {
		t.Error("a second Stop: got no error")
	}
	// The recorder can record again.
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if _, _, err := r.Stop(); err != nil && !errors.Is(err, ErrNoDevice) {
		t.Fatal(err)
	}
}

func TestRecorderKeepsAtMostMaxVoice(t *testing.T) {
	r := &Recorder{}
	chunk := make([]byte, 32000) // 1 s
	for range 70 {
		r.onData(nil, chunk, 16000)
	}
	if got := len(r.pcm); got != maxRecordBytes {
		t.Errorf("kept %d bytes, want %d (MaxVoice)", got, maxRecordBytes)
	}
}

func TestPlayNull(t *testing.T) {
	wav := encodeMuLaw(sine(16000*4/10, 16000, 440), 16000) // 400 ms
	var calls []time.Duration
	var total time.Duration
	start := time.Now()
	err := Play(context.Background(), NullBackend, wav, func(elapsed, tot time.Duration) {
		calls = append(calls, elapsed)
		total = tot
	})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if total != 400*time.Millisecond {
		t.Errorf("got total %v, want 400ms", total)
	}
	if len(calls) < 3 || calls[0] != 0 || calls[len(calls)-1] != total {
		t.Errorf("got positions %v, want 0, …, 400ms", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] < calls[i-1] {
			t.Errorf("position went back: %v", calls)
		}
	}
	if took < 300*time.Millisecond || took > 3*time.Second {
		t.Errorf("playing 400ms took %v", took)
	}
}

func TestPlayCancel(t *testing.T) {
	wav := encodePCM16(sine(16000*10, 16000, 440), 16000) // 10 s
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := Play(ctx, NullBackend, wav, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("cancelled playback took %v", took)
	}
}

func TestPlayRefusesMalformed(t *testing.T) {
	if err := Play(context.Background(), NullBackend, []byte("RIFF junk"), nil); err == nil {
		t.Error("got no error")
	}
}

func TestUnknownBackend(t *testing.T) {
	if _, err := NewRecorder(Backend(42)); err == nil {
		t.Error("got no error")
	}
}

func TestChimeIsAShortValidWAV(t *testing.T) {
	samples, rate, err := DecodeWAV(Chime())
	if err != nil {
		t.Fatalf("decode the chime: %v", err)
	}
	d := time.Duration(len(samples)) * time.Second / time.Duration(rate)
	if d < 200*time.Millisecond || d > 500*time.Millisecond {
		t.Fatalf("chime lasts %v; want a short sound", d)
	}
	var peak int16
	for _, s := range samples {
		peak = max(peak, s)
	}
	if peak < 1000 {
		t.Fatalf("chime peak %d: silent", peak)
	}
}
