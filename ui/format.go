package ui

import (
	"fmt"
	"hash/fnv"
	"image/color"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"kite/app"
)

// relTime is the short inbox time: "now", "5m", "3h", "Mon", "Mar 4",
// "Mar 4, 2023".
func relTime(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	case d < 7*24*time.Hour:
		return t.Format("Mon")
	case t.Year() == now.Year():
		return t.Format("Jan 2")
	}
	return t.Format("Jan 2, 2006")
}

// activeText is the header line under a name: "Active now", "Active 5m
// ago", or "" when unknown or hidden.
func activeText(p app.Presence, now time.Time) string {
	switch {
	case p.Hidden:
		return ""
	case p.Online:
		return "Active now"
	case p.LastActive.IsZero():
		return ""
	}
	d := now.Sub(p.LastActive)
	switch {
	case d < time.Minute:
		return "Active just now"
	case d < time.Hour:
		return fmt.Sprintf("Active %dm ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("Active %dh ago", int(d/time.Hour))
	case d < 7*24*time.Hour:
		return fmt.Sprintf("Active %dd ago", int(d/(24*time.Hour)))
	}
	return ""
}

// dayLabel is the separator between days: "Today", "Yesterday", "Monday",
// "March 4", "March 4, 2023".
func dayLabel(t, now time.Time) string {
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	today := time.Date(y2, m2, d2, 0, 0, 0, 0, now.Location())
	day := time.Date(y1, m1, d1, 0, 0, 0, 0, t.Location())
	switch diff := today.Sub(day); {
	case diff <= 0:
		return "Today " + t.Format("15:04")
	case diff <= 24*time.Hour:
		return "Yesterday " + t.Format("15:04")
	case diff < 7*24*time.Hour:
		return t.Format("Monday 15:04")
	case y1 == y2:
		return t.Format("January 2, 15:04")
	}
	return t.Format("January 2, 2006")
}

func sameDay(a, b time.Time) bool {
	y1, m1, d1 := a.Date()
	y2, m2, d2 := b.Date()
	return y1 == y2 && m1 == m2 && d1 == d2
}

// previewText is the inbox line for a conversation's last message.
func previewText(c app.Conversation, me app.PeerKey, typing bool) string {
	if typing {
		return "typing…"
	}
	if c.Last == nil {
		if c.Folder == app.Requests {
			return "Wants to send you a message"
		}
		return ""
	}
	var s string
	switch {
	case c.Last.Unsent:
		s = "unsent a message"
		if c.Last.Author == me {
			return "You unsent a message"
		}
		return s
	case c.Last.Kind == app.KindMedia && c.Last.Text == "":
		s = "sent a photo"
	case c.Last.Kind == app.KindReaction:
		s = "reacted " + c.Last.Text
	default:
		s = oneLine(c.Last.Text)
	}
	if c.Last.Author == me {
		if strings.HasPrefix(s, "sent ") || strings.HasPrefix(s, "reacted ") {
			return "You " + s
		}
		return "You: " + s
	}
	return s
}

// oneLine flattens text to one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// ellipsize cuts s to at most n runes.
func ellipsize(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// initials are up to two letters for an avatar.
func initials(name string) string {
	name = strings.TrimPrefix(strings.TrimSpace(name), "@")
	var out []rune
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || r == '.' || r == '_' || r == '-' }) {
		r, _ := utf8.DecodeRuneInString(w)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, unicode.ToUpper(r))
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

var avatarColours = []color.NRGBA{
	rgb(0xf5, 0x60, 0x40), rgb(0xfc, 0xaf, 0x45), rgb(0x83, 0x3a, 0xb4), rgb(0xc1, 0x35, 0x84),
	rgb(0x40, 0x5d, 0xe6), rgb(0x00, 0x95, 0xf6), rgb(0x2e, 0x8b, 0x57), rgb(0x12, 0xa1, 0x9a),
	rgb(0xe1, 0x30, 0x6c), rgb(0x58, 0x51, 0xdb),
}

// avatarColour is a stable colour for a key.
func avatarColour(key []byte) color.NRGBA {
	h := fnv.New32a()
	h.Write(key)
	return avatarColours[h.Sum32()%uint32(len(avatarColours))]
}

// statusText is the line under one's own last message.
func statusText(m app.Message, group bool) string {
	switch m.Status {
	case app.StatusSeen:
		if group && m.SeenBy > 0 {
			return fmt.Sprintf("Seen by %d", m.SeenBy)
		}
		return "Seen"
	case app.StatusDelivered:
		if group && m.SeenBy > 0 {
			return fmt.Sprintf("Seen by %d", m.SeenBy)
		}
		return "Delivered"
	case app.StatusSending:
		return "Sending…"
	}
	if group && m.SeenBy > 0 {
		return fmt.Sprintf("Seen by %d", m.SeenBy)
	}
	return "Sent"
}

// pathText says how a message reached this device.
func pathText(m app.Message, name func(app.PeerKey) string) string {
	switch m.Path {
	case app.PathLocal:
		return "Written on this device"
	case app.PathLAN:
		return "Directly from the author, on the local network"
	case app.PathWAN:
		return "Directly from the author, across the internet"
	case app.PathRelay:
		return "Forwarded by " + name(m.Via)
	case app.PathMailbox:
		return "From the mailbox " + name(m.Via)
	}
	return "Unknown"
}

// muteOptions are the mute choices in order.
var muteOptions = []struct {
	Label string
	D     time.Duration
}{
	{"For 1 hour", time.Hour},
	{"For 8 hours", 8 * time.Hour},
	{"For 24 hours", 24 * time.Hour},
	{"Until I turn it back on", app.MuteForever},
}

// disappearOptions are the disappearing-message choices in order.
var disappearOptions = []struct {
	Label   string
	Seconds int64
}{
	{"Off", app.DisappearOff},
	{"After seen", app.DisappearAfterSeen},
	{"1 hour", 3600},
	{"24 hours", 24 * 3600},
	{"7 days", 7 * 24 * 3600},
}

func disappearLabel(s int64) string {
	for _, o := range disappearOptions {
		if o.Seconds == s {
			return o.Label
		}
	}
	return fmt.Sprintf("%ds", s)
}

// remaining is the counter shown near the text limit, or "".
func remaining(text string) string {
	n := utf8.RuneCountInString(text)
	if n < app.MaxTextRunes-200 {
		return ""
	}
	return fmt.Sprintf("%d", app.MaxTextRunes-n)
}

func itoa(n int) string { return fmt.Sprint(n) }
