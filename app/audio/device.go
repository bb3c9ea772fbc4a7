package audio

import (
	"errors"
	"fmt"
	"time"

	"github.com/gen2brain/malgo"
)

// ErrNoDevice means there is no microphone or speaker to use, or it did not
// answer.
var ErrNoDevice = errors.New("no microphone or speaker was found")

// Backend chooses the audio systems miniaudio may use.
type Backend int

const (
	// DefaultBackends are the platform's audio systems (WASAPI, Core Audio,
	// PulseAudio, ALSA …), without the null backend: a machine without
	// sound says ErrNoDevice instead of recording silence.
	DefaultBackends Backend = iota
	// NullBackend is miniaudio's null backend (malgo.Backend(14); malgo's
	// BackendNull constant is 13, which is miniaudio's custom backend): no
	// hardware, it captures silence and discards playback in real time. For
	// tests and CI.
	NullBackend
)

// nullBackend is ma_backend_null in miniaudio (after ma_backend_custom).
const nullBackend = malgo.Backend(14)

// deviceWait bounds every call into the audio system.
const deviceWait = 3 * time.Second

func (b Backend) list() ([]malgo.Backend, error) {
	switch b {
	case DefaultBackends:
		return []malgo.Backend{
			malgo.BackendWasapi, malgo.BackendDsound, malgo.BackendWinmm, malgo.BackendCoreaudio,
			malgo.BackendSndio, malgo.BackendAudio4, malgo.BackendOss, malgo.BackendPulseaudio,
			malgo.BackendAlsa, malgo.BackendJack, malgo.BackendAaudio, malgo.BackendOpensl,
		}, nil
	case NullBackend:
		return []malgo.Backend{nullBackend}, nil
	}
	return nil, fmt.Errorf("audio: unknown backend %d", int(b))
}

func (b Backend) String() string {
	switch b {
	case DefaultBackends:
		return "default"
	case NullBackend:
		return "null"
	}
	return fmt.Sprintf("Backend(%d)", int(b))
}

// bounded runs f, waiting at most deviceWait. A call that does not come
// back is left behind (it belongs to a broken driver) and reported as
// ErrNoDevice.
func bounded(what string, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	timer := time.NewTimer(deviceWait)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return fmt.Errorf("audio: %s: no answer after %v: %w", what, deviceWait, ErrNoDevice)
	}
}

// openContext initialises miniaudio with the backend's audio systems.
func openContext(b Backend) (*malgo.AllocatedContext, error) {
	list, err := b.list()
	if err != nil {
		return nil, err
	}
	ch := make(chan *malgo.AllocatedContext, 1)
	err = bounded("open the audio system", func() error {
		c, err := malgo.InitContext(list, malgo.ContextConfig{}, nil)
		ch <- c
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNoDevice) {
			return nil, err
		}
		return nil, fmt.Errorf("audio: open the %s audio system: %v: %w", b, err, ErrNoDevice)
	}
	return <-ch, nil
}

func closeContext(c *malgo.AllocatedContext) error {
	return bounded("close the audio system", func() error {
		err := c.Uninit()
		c.Free()
		return err
	})
}

// openDevice initialises and starts a mono 16-bit device at rate.
func openDevice(c *malgo.AllocatedContext, kind malgo.DeviceType, rate int, data malgo.DataProc) (*malgo.Device, error) {
	cfg := malgo.DefaultDeviceConfig(kind)
	cfg.SampleRate = uint32(rate)
	if kind == malgo.Capture {
		cfg.Capture.Format, cfg.Capture.Channels = malgo.FormatS16, 1
	} else {
		cfg.Playback.Format, cfg.Playback.Channels = malgo.FormatS16, 1
	}
	what := map[malgo.DeviceType]string{malgo.Capture: "microphone", malgo.Playback: "speaker"}[kind]
	ch := make(chan *malgo.Device, 1)
	err := bounded("open the "+what, func() error {
		d, err := malgo.InitDevice(c.Context, cfg, malgo.DeviceCallbacks{Data: data})
		ch <- d
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNoDevice) {
			return nil, err
		}
		return nil, fmt.Errorf("audio: open the %s: %v: %w", what, err, ErrNoDevice)
	}
	dev := <-ch
	if err := bounded("start the "+what, dev.Start); err != nil {
		closeDevice(dev)
		if errors.Is(err, ErrNoDevice) {
			return nil, err
		}
		return nil, fmt.Errorf("audio: start the %s: %v: %w", what, err, ErrNoDevice)
	}
	return dev, nil
}

func closeDevice(d *malgo.Device) error {
	return bounded("close the device", func() error {
		d.Uninit()
		return nil
	})
}
