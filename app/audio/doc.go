// Package audio owns voice messages: recording from the default microphone
// and playing back through the default speaker, with miniaudio (through
// github.com/gen2brain/malgo), and the WAV files they travel in.
//
// A recording is 16 kHz mono, stored as an 8-bit G.711 µ-law WAV (format 7):
// 16 KB per second, under 1 MB for the longest message (MaxVoice). Playback
// understands that and plain 8- and 16-bit PCM WAV.
//
// It never touches the network or the store: callers get bytes and hand
// bytes back. Every wait on the audio device is bounded, so a missing or
// stuck device gives an error (ErrNoDevice), never a hang.
package audio
