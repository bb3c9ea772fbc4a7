package ui

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"kite/app"
)

func TestRelTime(t *testing.T) {
	now := time.Date(2026, 3, 12, 15, 0, 0, 0, time.UTC) // a Thursday
	for _, tc := range []struct {
		ago  time.Duration
		want string
	}{
		{10 * time.Second, "now"}, {5 * time.Minute, "5m"}, {3 * time.Hour, "3h"},
		{50 * time.Hour, "Tue"}, {20 * 24 * time.Hour, "Feb 20"}, {400 * 24 * time.Hour, "Feb 5, 2025"},
	} {
		if got := relTime(now.Add(-tc.ago), now); got != tc.want {
			t.Errorf("relTime(-%v) = %q, want %q", tc.ago, got, tc.want)
		}
	}
}

func TestPreviewText(t *testing.T) {
	var me, other app.PeerKey
	me[0], other[0] = 1, 2
	for _, tc := range []struct {
		last   *app.Preview
		typing bool
		want   string
	}{
		{&app.Preview{Author: me, Kind: app.KindText, Text: "hi\nthere"}, false, "You: hi there"},
		{&app.Preview{Author: other, Kind: app.KindText, Text: "yo"}, false, "yo"},
		{&app.Preview{Author: other, Kind: app.KindMedia}, false, "sent a photo"},
		{&app.Preview{Author: me, Kind: app.KindMedia}, false, "You sent a photo"},
		{&app.Preview{Author: other, Unsent: true}, false, "unsent a message"},
		{&app.Preview{Author: other, Kind: app.KindText, Text: "yo"}, true, "typing…"},
	} {
		if got := previewText(app.Conversation{Last: tc.last}, me, tc.typing); got != tc.want {
			t.Errorf("previewText(%+v) = %q, want %q", tc.last, got, tc.want)
		}
	}
}

func TestActiveText(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		p    app.Presence
		want string
	}{
		{app.Presence{Online: true}, "Active now"},
		{app.Presence{LastActive: now.Add(-5 * time.Minute)}, "Active 5m ago"},
		{app.Presence{Hidden: true, Online: true}, ""},
		{app.Presence{}, ""},
	} {
		if got := activeText(tc.p, now); got != tc.want {
			t.Errorf("activeText(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestWrapLines(t *testing.T) {
	measure := func(s string) float32 { return fyne.MeasureText(s, 14, fyne.TextStyle{}).Width }
	text := "the quick brown fox jumps over the lazy dog and keeps running far away averyveryverylongwordthatcannotfitononeline"
	width := measure("the quick brown fox")
	lines, widest := wrapLines(text, 14, width, fyne.TextStyle{})
	if len(lines) < 4 {
		t.Fatalf("got %d lines, want at least 4: %q", len(lines), lines)
	}
	var want float32
	for _, l := range lines {
		w := measure(l)
		if w > width+0.5 {
			t.Errorf("line %q is %v wide, limit %v", l, w, width)
		}
		want = max(want, w)
	}
	if widest != want {
		t.Errorf("widest: got %v, want %v", widest, want)
	}
	if got, _ := wrapLines("a\n\nb", 14, 200, fyne.TextStyle{}); len(got) != 3 {
		t.Errorf("explicit newlines: %q", got)
	}
	if got, w := wrapLines("short", 14, 200, fyne.TextStyle{}); len(got) != 1 || got[0] != "short" || w != measure("short") {
		t.Errorf("a line that fits: got %q (%v wide)", got, w)
	}
}

// TestWrapLinesIsGreedy checks on random texts that no word is lost, no
// line is too wide and no line could have taken the next word.
func TestWrapLinesIsGreedy(t *testing.T) {
	measure := func(s string) float32 { return fyne.MeasureText(s, 14, fyne.TextStyle{}).Width }
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	for range 200 {
		text := benchText(rng)
		width := float32(90 + rng.IntN(300)) // wider than any demo word
		lines, _ := wrapLines(text, 14, width, fyne.TextStyle{})
		if got := strings.Join(lines, " "); got != text {
			t.Fatalf("width %v: lines %q do not join back to %q", width, lines, text)
		}
		for i, l := range lines {
			if measure(l) > width {
				t.Errorf("width %v: line %q is %v wide", width, l, measure(l))
			}
			if i+1 < len(lines) {
				next := strings.Fields(lines[i+1])[0]
				if measure(l+" "+next) <= width {
					t.Errorf("width %v: line %q could have taken %q", width, l, next)
				}
			}
		}
	}
}

func TestMergeNewest(t *testing.T) {
	msg := func(l uint64, text string) app.Message { return app.Message{Lamport: l, Seq: l, Text: text} }
	cached := []app.Message{msg(1, "a"), msg(2, "b"), msg(3, "c"), msg(4, "d")}
	got := mergeNewest(cached, []app.Message{msg(3, "C"), msg(4, "D"), msg(5, "e")}, true)
	want := "abCDe"
	s := ""
	for _, m := range got {
		s += m.Text
	}
	if s != want {
		t.Errorf("merge: %q, want %q", s, want)
	}
	if got := mergeNewest(cached, []app.Message{msg(4, "d")}, false); len(got) != 1 {
		t.Errorf("a short page replaces everything: got %d messages", len(got))
	}
}

func TestInitialsAndColour(t *testing.T) {
	for in, want := range map[string]string{"Alice Moreau": "AM", "@bob.k": "BK", "carol": "C", "": "?", "  ": "?"} {
		if got := initials(in); got != want {
			t.Errorf("initials(%q) = %q, want %q", in, got, want)
		}
	}
	if a, b := avatarColour([]byte("x")), avatarColour([]byte("x")); a != b {
		t.Errorf("avatar colour of the same key: got %v then %v", a, b)
	}
}

func TestStatusText(t *testing.T) {
	if got := statusText(app.Message{Status: app.StatusSeen, SeenBy: 3}, true); got != "Seen by 3" {
		t.Errorf("group seen: %q", got)
	}
	if got := statusText(app.Message{Status: app.StatusDelivered}, false); got != "Delivered" {
		t.Errorf("delivered: %q", got)
	}
	if got := remaining(string(make([]rune, 4000))); got != "96" {
		t.Errorf("remaining: %q", got)
	}
}
