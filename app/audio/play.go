package audio

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gen2brain/malgo"
)

// positionEvery is how often Play reports its position.
const positionEvery = 100 * time.Millisecond

// drain is how long Play lets the device play out its buffer at the end.
const drain = 150 * time.Millisecond

// Play plays a WAV (see DecodeWAV) through the default speaker and returns
// when it has been played, when ctx ends (ctx.Err()), or with ErrNoDevice
// when there is no speaker or it stops taking sound. position, if not nil,
// is called on Play's goroutine at the start, about every 100 ms and at the
// end, with the time played so far and the total; it must not block.
func Play(ctx context.Context, backend Backend, wav []byte, position func(elapsed, total time.Duration)) error {
	samples, rate, err := DecodeWAV(wav)
	if err != nil {
		return err
	}
	total := time.Duration(len(samples)) * time.Second / time.Duration(rate)
	report := func(n int64) {
		if position != nil {
			position(min(time.Duration(n)*time.Second/time.Duration(rate), total), total)
		}
	}
	report(0)
	if len(samples) == 0 {
		return nil
	}
	c, err := openContext(backend)
	if err != nil {
		return err
	}
	defer closeContext(c)

	var cursor atomic.Int64 // samples handed to the device
	finished := make(chan struct{})
	var once sync.Once
	onData := func(out, _ []byte, _ uint32) { // on the audio thread
		pos := int(cursor.Load())
		n := min(len(out)/2, len(samples)-pos)
		for i := range n {
			binary.LittleEndian.PutUint16(out[2*i:], uint16(samples[pos+i]))
		}
		clear(out[2*n:])
		cursor.Store(int64(pos + n))
		if pos+n == len(samples) {
			once.Do(func() { close(finished) })
		}
	}
	dev, err := openDevice(c, malgo.Playback, rate, onData)
	if err != nil {
		return err
	}
	defer closeDevice(dev)

	ticker := time.NewTicker(positionEvery)
	defer ticker.Stop()
	stall := time.NewTimer(total + deviceWait)
	defer stall.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
			report(cursor.Load())
		case <-stall.C:
			return fmt.Errorf("audio: the speaker stopped at %v of %v: %w",
				time.Duration(cursor.Load())*time.Second/time.Duration(rate), total, ErrNoDevice)
		case <-finished:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(drain):
			}
			report(int64(len(samples)))
			return nil
		}
	}
}
