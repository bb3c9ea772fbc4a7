package audio

import (
	"math"
	"time"
)

// Chime is the new-message sound: two short soft tones (a fifth apart)
// that fade out, as a 16 kHz 16-bit WAV made here, so nothing ships as a
// binary asset.
func Chime() []byte {
	const rate = RecordRate
	tone := func(freq float64, d time.Duration) []int16 {
		n := int(d.Seconds() * rate)
		out := make([]int16, n)
		for i := range out {
			t := float64(i) / rate
			fade := math.Exp(-6 * t / d.Seconds())
			out[i] = int16(9000 * fade * math.Sin(2*math.Pi*freq*t))
		}
		return out
	}
	samples := append(tone(880, 120*time.Millisecond), tone(1318.5, 180*time.Millisecond)...)
	return encodePCM16(samples, rate)
}
