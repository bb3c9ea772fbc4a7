package keys

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func sameCode(a, b ContactCode) bool {
	return a.PeerID == b.PeerID && a.SignPub.Equal(b.SignPub) && a.BoxPub == b.BoxPub &&
		a.Handle == b.Handle && slices.Equal(a.Addrs, b.Addrs)
}

// withSum appends a correct checksum to the body of a code.
func withSum(body string) string { return body + "&sum=" + checksum(body) }

func TestContactCodeRoundTrip(t *testing.T) {
	id := newIdentity(t)
	tests := []struct {
		name   string
		handle string
		addrs  []string
	}{
		{"bare", "", nil},
		{"handle", "alice.b_42", nil},
		{"max handle", strings.Repeat("z", MaxHandleLen), nil},
		{"addrs", "bob", []string{
			"/ip4/192.168.1.20/tcp/4001",
			"/ip6/::1/udp/4001/quic-v1",
			"/dns4/relay.example.org/tcp/443/wss/p2p/" + id.PeerID() + "/p2p-circuit",
		}},
		{"odd addr chars", "c", []string{"/unix/tmp/a&b=c%d?e+f#g"}},
		{"max addrs", "d", slices.Repeat([]string{"/" + strings.Repeat("a", MaxAddrLen-1)}, MaxAddrs)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := id.ContactCode(tt.handle, tt.addrs)
			s := want.String()
			if !strings.HasPrefix(s, "kite:"+id.PeerID()+"?box=") {
				t.Errorf("String: got %q, want prefix kite:<peer>?box=", s)
			}
			for _, in := range []string{s, "  " + s + "\n", "\t" + s} {
				got, err := ParseContactCode(in)
				if err != nil {
					t.Fatalf("ParseContactCode(%q): %v", in, err)
				}
				if !sameCode(got, want) {
					t.Errorf("round trip: got %+v, want %+v", got, want)
				}
				if !got.SignPub.Equal(id.SignPub) || got.BoxPub != *id.BoxPub {
					t.Errorf("keys: got %x %x, want %x %x", got.SignPub, got.BoxPub, id.SignPub, *id.BoxPub)
				}
			}
		})
	}
}

func TestContactCodeEveryPrefixFails(t *testing.T) {
	id := newIdentity(t)
	s := id.ContactCode("alice", []string{"/ip4/10.0.0.1/tcp/4001", "/ip4/10.0.0.1/udp/4001/quic-v1"}).String()
	for n := range len(s) {
		if _, err := ParseContactCode(s[:n]); !errors.Is(err, ErrBadContactCode) {
			t.Errorf("prefix of %d/%d bytes %q: got %v, want ErrBadContactCode", n, len(s), s[:n], err)
		}
	}
}

func TestContactCodeRejects(t *testing.T) {
	id := newIdentity(t)
	peer := id.PeerID()
	good := id.ContactCode("alice", []string{"/ip4/10.0.0.1/tcp/4001"}).String()
	body, _, _ := strings.Cut(good, "&sum=")
	box := strings.TrimPrefix(strings.SplitN(body, "&", 2)[0], "kite:"+peer+"?box=")
	many := strings.Repeat("&addr=/ip4/1.2.3.4/tcp/1", MaxAddrs+1)
	tests := []struct {
		name, in string
		reason   string
	}{
		{"empty", "", "kite:"},
		{"other scheme", "http:" + strings.TrimPrefix(good, "kite:"), "kite:"},
		{"upper scheme", withSum("KITE:" + strings.TrimPrefix(body, "kite:")), "kite:"},
		{"no sum", body, "checksum"},
		{"short sum", good[:len(good)-1], "checksum"},
		{"long sum", good + "0", "checksum"},
		{"wrong sum", body + "&sum=00000000", "checksum does not match"},
		{"flipped char", strings.Replace(good, "alice", "alicf", 1), "checksum does not match"},
		{"no query", withSum("kite:" + peer), "box"},
		{"bad peer", withSum("kite:12D3KooWXXX?box=" + box), "peer ID"},
		{"no box", withSum("kite:" + peer + "?handle=alice"), "box"},
		{"two boxes", withSum("kite:" + peer + "?box=" + box + "&box=" + box), "box"},
		{"short box", withSum("kite:" + peer + "?box=" + box[:40]), "box key"},
		{"padded box", withSum("kite:" + peer + "?box=" + box + "="), "box key"},
		{"std base64 box", withSum("kite:" + peer + "?box=" + strings.Repeat("+", 43)), "box key"},
		{"upper handle", withSum("kite:" + peer + "?box=" + box + "&handle=Alice"), "handle"},
		{"long handle", withSum("kite:" + peer + "?box=" + box + "&handle=" + strings.Repeat("a", MaxHandleLen+1)), "handle"},
		{"space handle", withSum("kite:" + peer + "?box=" + box + "&handle=a%20b"), "handle"},
		{"bad escape handle", withSum("kite:" + peer + "?box=" + box + "&handle=a%zz"), "handle"},
		{"two handles", withSum("kite:" + peer + "?box=" + box + "&handle=a&handle=b"), "handle"},
		{"addr without slash", withSum("kite:" + peer + "?box=" + box + "&addr=ip4/1.2.3.4"), "address"},
		{"empty addr", withSum("kite:" + peer + "?box=" + box + "&addr="), "address"},
		{"long addr", withSum("kite:" + peer + "?box=" + box + "&addr=/" + strings.Repeat("a", MaxAddrLen)), "address"},
		{"addr with space", withSum("kite:" + peer + "?box=" + box + "&addr=/a+b"), "address"},
		{"addr with newline", withSum("kite:" + peer + "?box=" + box + "&addr=/a%0Ab"), "address"},
		{"too many addrs", withSum("kite:" + peer + "?box=" + box + many), "addresses"},
		{"too long", withSum("kite:" + peer + "?box=" + box + strings.Repeat("&x=y", 5000)), "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseContactCode(tt.in)
			if !errors.Is(err, ErrBadContactCode) {
				t.Fatalf("got %v, want ErrBadContactCode", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("reason: got %q, want it to mention %q", err, tt.reason)
			}
		})
	}
	// Sanity: the pieces used above do make a valid code.
	if _, err := ParseContactCode(withSum("kite:" + peer + "?box=" + box)); err != nil {
		t.Errorf("minimal code: got %v, want nil", err)
	}
	if _, err := ParseContactCode(withSum("kite:" + peer + "?box=" + box + "&future=1")); err != nil {
		t.Errorf("unknown field: got %v, want nil (ignored)", err)
	}
}

func FuzzParseContactCode(f *testing.F) {
	id := seededIdentity()
	f.Add(id.ContactCode("alice", []string{"/ip4/10.0.0.1/tcp/4001"}).String())
	f.Add(id.ContactCode("", nil).String())
	f.Add(id.ContactCode("b.o_b", []string{"/unix/a&b", "/dns4/x.org/tcp/1"}).String())
	f.Add("kite:")
	f.Add("")
	f.Add("kite:x?box=&sum=00000000")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseContactCode(s)
		if err != nil {
			if !errors.Is(err, ErrBadContactCode) {
				t.Fatalf("got %v, want ErrBadContactCode", err)
			}
			return
		}
		again := c.String()
		c2, err := ParseContactCode(again)
		if err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", again, s, err)
		}
		if !sameCode(c, c2) {
			t.Fatalf("re-parse: got %+v, want %+v", c2, c)
		}
		if again2 := c2.String(); again2 != again {
			t.Fatalf("re-encode: got %q, want %q", again2, again)
		}
	})
}

// seededIdentity is a fixed identity, for fuzz seeds that stay the same.
func seededIdentity() *Identity {
	priv := seededKey(func(i int) byte { return byte(i) })
	boxPriv := make([]byte, 32)
	boxPriv[0] = 9
	id, err := identityFromPrivate(priv, boxPriv)
	if err != nil {
		panic(err) // fixed, valid input
	}
	return id
}
