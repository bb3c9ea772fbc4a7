package seal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"strings"
)

const (
	domainSafety = "kite/safety/v1\x00"
	// safetyRounds slows down a search for a key pair with a chosen safety
	// number; Signal uses the same count.
	safetyRounds = 5200
	// safetyGroups of safetyDigits decimal digits are shown.
	safetyGroups = 12
)

// SafetyNumber is a fingerprint of two identities that both people can
// compare out of band: 60 decimal digits in 12 groups of 5, separated by
// spaces. It does not depend on the order of its arguments.
//
// digest_0 = SHA-512("kite/safety/v1\x00" || lo || hi) and
// digest_i = SHA-512(digest_{i-1} || lo || hi) for 5200 rounds, where lo and
// hi are the keys in byte order; group g is the big-endian number in bytes
// [5g, 5g+5) of the final digest, modulo 100000.
//
// It returns "" when either key is not ed25519.PublicKeySize bytes.
func SafetyNumber(a, b ed25519.PublicKey) string {
	if len(a) != ed25519.PublicKeySize || len(b) != ed25519.PublicKeySize {
		return ""
	}
	lo, hi := a, b
	if bytes.Compare(lo, hi) > 0 {
		lo, hi = hi, lo
	}
	h := sha512.New()
	h.Write([]byte(domainSafety))
	h.Write(lo)
	h.Write(hi)
	digest := h.Sum(nil)
	for i := 1; i < safetyRounds; i++ {
		h.Reset()
		h.Write(digest)
		h.Write(lo)
		h.Write(hi)
		digest = h.Sum(digest[:0])
	}

	var sb strings.Builder
	sb.Grow(safetyGroups*6 - 1)
	for g := range safetyGroups {
		var n uint64
		for _, c := range digest[5*g : 5*g+5] {
			n = n<<8 | uint64(c)
		}
		n %= 100000
		if g > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteByte(byte('0' + n/10000))
		sb.WriteByte(byte('0' + n/1000%10))
		sb.WriteByte(byte('0' + n/100%10))
		sb.WriteByte(byte('0' + n/10%10))
		sb.WriteByte(byte('0' + n%10))
	}
	return sb.String()
}
