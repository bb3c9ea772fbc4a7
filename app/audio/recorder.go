package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gen2brain/malgo"
)

const (
	// MaxVoice is the longest voice message; a recording stops by itself there.
	MaxVoice = 60 * time.Second
	// RecordRate is the sample rate of recordings (mono).
	RecordRate = 16000
)

const maxRecordBytes = int(MaxVoice/time.Second) * RecordRate * 2

// Recorder records a voice message from the default microphone. It is safe
// for use by several goroutines; one recording runs at a time.
type Recorder struct {
	backend Backend

	// mu guards the fields below.
	mu        sync.Mutex
	ctx       *malgo.AllocatedContext
	dev       *malgo.Device
	timer     *time.Timer
	done      chan struct{}
	recording bool

	// pcmMu guards pcm, which the audio thread appends to. It is never held
	// while calling into miniaudio.
	pcmMu sync.Mutex
	pcm   []byte // 16-bit little-endian mono samples at RecordRate
}

// NewRecorder checks that backend has a microphone (ErrNoDevice if not) and
// returns a Recorder for it. It holds no device until Start.
func NewRecorder(backend Backend) (*Recorder, error) {
	c, err := openContext(backend)
	if err != nil {
		return nil, err
	}
	defer closeContext(c)
	var devs []malgo.DeviceInfo
	err = bounded("list microphones", func() error {
		var err error
		devs, err = c.Devices(malgo.Capture)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("audio: list microphones: %v: %w", err, ErrNoDevice)
	}
	if len(devs) == 0 {
		return nil, fmt.Errorf("audio: %w", ErrNoDevice)
	}
	done := make(chan struct{})
	close(done)
	return &Recorder{backend: backend, done: done}, nil
}

// Start starts recording 16 kHz mono 16-bit sound from the default
// microphone. The recording stops by itself after MaxVoice (see Done); Stop
// returns it.
func (r *Recorder) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.recording {
		return errors.New("audio: already recording")
	}
	r.pcmMu.Lock()
	r.pcm = make([]byte, 0, 10*RecordRate*2)
	r.pcmMu.Unlock()
	c, err := openContext(r.backend)
	if err != nil {
		return err
	}
	dev, err := openDevice(c, malgo.Capture, RecordRate, r.onData)
	if err != nil {
		closeContext(c)
		return err
	}
	r.ctx, r.dev, r.recording = c, dev, true
	r.done = make(chan struct{})
	r.timer = time.AfterFunc(MaxVoice, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.halt()
	})
	return nil
}

// onData runs on the audio thread: it keeps at most MaxVoice of sound.
func (r *Recorder) onData(_, in []byte, _ uint32) {
	r.pcmMu.Lock()
	defer r.pcmMu.Unlock()
	room := maxRecordBytes - len(r.pcm)
	r.pcm = append(r.pcm, in[:min(len(in)&^1, room)]...)
}

// halt releases the device and the audio system. r.mu must be held.
func (r *Recorder) halt() {
	if r.dev == nil {
		return
	}
	r.timer.Stop()
	closeDevice(r.dev)
	closeContext(r.ctx)
	r.dev, r.ctx = nil, nil
	close(r.done)
}

// Done is closed when the recording has stopped, by Stop or by itself
// at MaxVoice. Stop must still be called to get it.
func (r *Recorder) Done() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

// Stop ends the recording and returns it as a WAV: 16 kHz mono, 8-bit
// µ-law (format 7), 16 KB per second (16-bit PCM would be 32 KB/s), and its
// duration. When no sound at all came from the device it returns
// ErrNoDevice.
func (r *Recorder) Stop() (wav []byte, duration time.Duration, err error) {
	r.mu.Lock()
	if !r.recording {
		r.mu.Unlock()
		return nil, 0, errors.New("audio: not recording")
	}
	r.halt()
	r.recording = false
	r.mu.Unlock()

	r.pcmMu.Lock()
	pcm := r.pcm
	r.pcm = nil
	r.pcmMu.Unlock()
	if len(pcm) < 2 {
		return nil, 0, fmt.Errorf("audio: no sound came from the microphone: %w", ErrNoDevice)
	}
	samples := make([]int16, len(pcm)/2)
	for i := range samples {
		samples[i] = int16(binary.LittleEndian.Uint16(pcm[2*i:]))
	}
	return encodeMuLaw(samples, RecordRate), time.Duration(len(samples)) * time.Second / RecordRate, nil
}
