package keys

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Contact code limits.
const (
	contactScheme  = "kite:"
	sumSep         = "&sum="
	sumHexLen      = 8
	MaxHandleLen   = 30
	MaxAddrLen     = 256
	MaxAddrs       = 16
	maxContactCode = 16 << 10
)

// ContactCode is what a kite: URI carries: enough to add a contact and reach
// them.
//
//	kite:<peerID>?box=<base64url, no padding>&handle=<escaped>&addr=<multiaddr>…&sum=<8 hex>
//
// sum is the hex of the first 4 bytes of SHA-256 of everything before
// "&sum=", so a truncated or mistyped code is refused.
type ContactCode struct {
	PeerID  string
	SignPub ed25519.PublicKey // parsed from PeerID
	BoxPub  [32]byte
	Handle  string
	Addrs   []string
}

// ContactCode returns the contact code of id with the given handle and
// addresses (copied).
func (id *Identity) ContactCode(handle string, addrs []string) ContactCode {
	c := ContactCode{
		PeerID:  id.PeerID(),
		SignPub: slices.Clone(id.SignPub),
		Handle:  handle,
		Addrs:   slices.Clone(addrs),
	}
	if id.BoxPub != nil {
		c.BoxPub = *id.BoxPub
	}
	return c
}

// String encodes c as a kite: URI. It does not validate c: ParseContactCode
// refuses what a valid identity, handle and address list would not produce.
func (c ContactCode) String() string {
	var b strings.Builder
	b.WriteString(contactScheme)
	b.WriteString(c.PeerID)
	b.WriteString("?box=")
	b.WriteString(base64.RawURLEncoding.EncodeToString(c.BoxPub[:]))
	b.WriteString("&handle=")
	b.WriteString(escape(c.Handle))
	for _, a := range c.Addrs {
		b.WriteString("&addr=")
		b.WriteString(escape(a))
	}
	body := b.String()
	return body + sumSep + checksum(body)
}

// ParseContactCode parses a kite: URI, trimming surrounding spaces. Every
// failure wraps ErrBadContactCode with a reason a person can act on.
func ParseContactCode(s string) (ContactCode, error) {
	c, reason := parseContactCode(s)
	if reason != "" {
		return ContactCode{}, fmt.Errorf("keys: parse contact code: %s: %w", reason, ErrBadContactCode)
	}
	return c, nil
}

func parseContactCode(s string) (ContactCode, string) {
	s = strings.TrimSpace(s)
	if len(s) > maxContactCode {
		return ContactCode{}, "too long"
	}
	if !strings.HasPrefix(s, contactScheme) {
		return ContactCode{}, `it does not start with "kite:"`
	}
	i := strings.LastIndex(s, sumSep)
	if i < 0 {
		return ContactCode{}, "no checksum: the code is incomplete"
	}
	body, sum := s[:i], s[i+len(sumSep):]
	if len(sum) != sumHexLen {
		return ContactCode{}, "checksum has the wrong length: the code is incomplete or mistyped"
	}
	if !strings.EqualFold(sum, checksum(body)) {
		return ContactCode{}, "checksum does not match: the code is incomplete or mistyped"
	}

	peer, query, ok := strings.Cut(body[len(contactScheme):], "?")
	if !ok {
		return ContactCode{}, "no box key"
	}
	pub, err := ParsePeerID(peer)
	if err != nil {
		return ContactCode{}, "the peer ID is not valid"
	}
	c := ContactCode{PeerID: peer, SignPub: pub}
	var haveBox, haveHandle bool
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "box":
			if haveBox {
				return ContactCode{}, "more than one box key"
			}
			haveBox = true
			b, err := base64.RawURLEncoding.Strict().DecodeString(v)
			if err != nil || len(b) != len(c.BoxPub) {
				return ContactCode{}, "the box key is not valid"
			}
			copy(c.BoxPub[:], b)
		case "handle":
			if haveHandle {
				return ContactCode{}, "more than one handle"
			}
			haveHandle = true
			h, err := url.QueryUnescape(v)
			if err != nil || !ValidHandle(h) {
				return ContactCode{}, fmt.Sprintf("the handle is not valid (at most %d characters of a-z, 0-9, '.' and '_')", MaxHandleLen)
			}
			c.Handle = h
		case "addr":
			a, err := url.QueryUnescape(v)
			if err != nil || !validAddr(a) {
				return ContactCode{}, "an address is not valid"
			}
			if len(c.Addrs) == MaxAddrs {
				return ContactCode{}, fmt.Sprintf("more than %d addresses", MaxAddrs)
			}
			c.Addrs = append(c.Addrs, a)
		default:
			// Unknown fields are ignored, so that newer codes still work.
		}
	}
	if !haveBox {
		return ContactCode{}, "no box key"
	}
	return c, ""
}

// ValidHandle reports whether h is a valid handle: empty, or at most
// MaxHandleLen characters of a-z, 0-9, '.' and '_'.
func ValidHandle(h string) bool {
	if len(h) > MaxHandleLen {
		return false
	}
	for i := range len(h) {
		c := h[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// validAddr accepts what looks like a multiaddr: it starts with "/", is at
// most MaxAddrLen bytes and holds only printable ASCII without spaces. The
// transport parses it for real.
func validAddr(a string) bool {
	if len(a) == 0 || len(a) > MaxAddrLen || a[0] != '/' {
		return false
	}
	for i := range len(a) {
		if a[i] <= ' ' || a[i] >= 0x7f {
			return false
		}
	}
	return true
}

func checksum(body string) string {
	h := sha256.Sum256([]byte(body))
	return hex.EncodeToString(h[:sumHexLen/2])
}

// escape percent-encodes everything but unreserved characters and the '/'
// and ':' common in multiaddrs, so codes stay readable.
func escape(s string) string {
	var b bytes.Buffer
	for i := range len(s) {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~/:", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
