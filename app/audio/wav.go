package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// WAV format tags.
const (
	formatPCM        = 1
	formatMuLaw      = 7
	formatExtensible = 0xFFFE
)

// encodePCM16 writes 16-bit PCM mono samples as a WAV file (2 bytes per sample).
func encodePCM16(samples []int16, rate int) []byte {
	b := wavHeader(formatPCM, rate, 16, len(samples)*2, 0)
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

// encodeMuLaw writes mono samples as an 8-bit µ-law WAV file (1 byte per sample).
func encodeMuLaw(samples []int16, rate int) []byte {
	b := wavHeader(formatMuLaw, rate, 8, len(samples), len(samples))
	for _, s := range samples {
		b = append(b, muLawEncode(s))
	}
	return b
}

// wavHeader is the RIFF header, fmt chunk (and for non-PCM the fact chunk
// with the sample count) and the data chunk header of a mono WAV.
func wavHeader(format uint16, rate, bits, dataLen, samples int) []byte {
	le := binary.LittleEndian
	fmtLen := 16
	if format != formatPCM {
		fmtLen = 18
	}
	b := make([]byte, 0, 58+dataLen)
	b = append(b, "RIFF"...)
	riff := 4 + 8 + fmtLen + 8 + dataLen + dataLen&1
	if format != formatPCM {
		riff += 12
	}
	b = le.AppendUint32(b, uint32(riff))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, uint32(fmtLen))
	b = le.AppendUint16(b, format)
	b = le.AppendUint16(b, 1) // mono
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*bits/8))
	b = le.AppendUint16(b, uint16(bits/8))
	b = le.AppendUint16(b, uint16(bits))
	if format != formatPCM {
		b = le.AppendUint16(b, 0) // no extra format bytes
		b = append(b, "fact"...)
		b = le.AppendUint32(b, 4)
		b = le.AppendUint32(b, uint32(samples))
	}
	b = append(b, "data"...)
	return le.AppendUint32(b, uint32(dataLen))
}

var errMalformed = errors.New("audio: malformed WAV")

// DecodeWAV reads a WAV file: 8-bit or 16-bit PCM, or 8-bit µ-law (format
// 7), any rate from 1 to 384 kHz, 1 to 8 channels (mixed down to mono). It
// returns the mono samples and their rate, and refuses anything malformed:
// no RIFF/WAVE header, no fmt or data chunk, a chunk running past the end,
// other formats.
func DecodeWAV(b []byte) (samples []int16, rate int, err error) {
	bad := func(format string, args ...any) ([]int16, int, error) {
		return nil, 0, fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
	}
	le := binary.LittleEndian
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return bad("no RIFF/WAVE header")
	}
	var format, channels, bits int
	var data []byte
	sawFmt, sawData := false, false
	for off := 12; off+8 <= len(b) && !sawData; {
		id, n := string(b[off:off+4]), int(le.Uint32(b[off+4:]))
		body := off + 8
		if n < 0 || n > len(b)-body {
			return bad("%q chunk of %d bytes, %d left", id, n, len(b)-body)
		}
		switch id {
		case "fmt ":
			if n < 16 {
				return bad("fmt chunk of %d bytes", n)
			}
			f := b[body : body+n]
			format, channels = int(le.Uint16(f)), int(le.Uint16(f[2:]))
			rate, bits = int(le.Uint32(f[4:])), int(le.Uint16(f[14:]))
			if format == formatExtensible {
				if n < 26 {
					return bad("extensible fmt chunk of %d bytes", n)
				}
				format = int(le.Uint16(f[24:]))
			}
			sawFmt = true
		case "data":
			if !sawFmt {
				return bad("data before fmt")
			}
			data, sawData = b[body:body+n], true
		}
		off = body + n + n&1
	}
	switch {
	case !sawFmt:
		return bad("no fmt chunk")
	case !sawData:
		return bad("no data chunk")
	case channels < 1 || channels > 8:
		return bad("%d channels", channels)
	case rate < 1000 || rate > 384000:
		return bad("%d Hz", rate)
	}
	var sample func(p []byte) int
	switch {
	case format == formatPCM && bits == 16:
		sample = func(p []byte) int { return int(int16(le.Uint16(p))) }
	case format == formatPCM && bits == 8:
		sample = func(p []byte) int { return (int(p[0]) - 128) << 8 }
	case format == formatMuLaw && bits == 8:
		sample = func(p []byte) int { return int(muLawDecode(p[0])) }
	default:
		return nil, 0, fmt.Errorf("audio: WAV format %d with %d bits is not supported: %w", format, bits, errMalformed)
	}
	width := bits / 8
	frame := width * channels
	samples = make([]int16, len(data)/frame) // a partial last frame is dropped
	for i := range samples {
		sum := 0
		for c := range channels {
			sum += sample(data[i*frame+c*width:])
		}
		samples[i] = int16(sum / channels)
	}
	return samples, rate, nil
}

// G.711 µ-law, as in the ITU reference.
const (
	muBias = 0x84
	muClip = 32635
)

func muLawEncode(s int16) byte {
	v, sign := int(s), 0
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, muClip) + muBias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0F
	return ^byte(sign | exp<<4 | mant)
}

func muLawDecode(b byte) int16 {
	b = ^b
	exp, mant := int(b>>4)&7, int(b&0x0F)
	v := ((mant<<3)+muBias)<<exp - muBias
	if b&0x80 != 0 {
		v = -v
	}
	return int16(v)
}
