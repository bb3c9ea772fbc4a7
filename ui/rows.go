package ui

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"kite/app"
)

type rowKind uint8

const (
	rowDay rowKind = iota
	rowSystem
	rowMsg
	rowStatus
	rowTyping
)

// chatRow is one row of the conversation list, with its height worked
// out for the current width.
type chatRow struct {
	kind     rowKind
	text     string // day label, system line, status, typing names
	msg      int    // index into convView.msgs, for rowMsg
	mine     bool
	first    bool // first of a run by one author
	last     bool // last of a run: shows the avatar
	showName bool
	lines    []string
	italic   bool // unsent / expired placeholders
	quote    string
	quoteBy  string
	edited   bool
	fwd      bool
	react    string
	block    *mediaView // a picture or card above the text, or nil
	bubbleW  float32
	h        float32
}

// Layout metrics of the conversation view.
const (
	chatText     = 14.0
	chatSmall    = 11.5
	bubblePadX   = 12.0
	bubblePadY   = 8.0
	sideMargin   = 16.0
	chatAvatar   = 28.0
	avatarGap    = 8.0
	runGap       = 8.0
	nameH        = 18.0
	quoteLabelH  = 18.0
	quoteGap     = 2.0
	reactH       = 24.0
	smallLineH   = 16.0
	maxBubbleCap = 480.0
)

func cursorLess(a, b app.Cursor) bool {
	if a.Lamport != b.Lamport {
		return a.Lamport < b.Lamport
	}
	if c := bytes.Compare(a.Author[:], b.Author[:]); c != 0 {
		return c < 0
	}
	return a.Seq < b.Seq
}

// mergeNewest puts fetched, the newest page, over the matching suffix of
// cached. full says the fetch returned all it was asked for (there may be
// older messages beyond it).
func mergeNewest(cached, fetched []app.Message, full bool) []app.Message {
	if len(fetched) == 0 {
		return nil
	}
	if !full {
		return append([]app.Message(nil), fetched...)
	}
	first := app.CursorOf(fetched[0])
	cut := sort.Search(len(cached), func(i int) bool { return !cursorLess(app.CursorOf(cached[i]), first) })
	out := make([]app.Message, 0, cut+len(fetched))
	out = append(out, cached[:cut]...)
	return append(out, fetched...)
}

// messageText is what a message bubble says, and whether it is a
// placeholder.
func messageText(m app.Message, mine bool, name string) (string, bool) {
	switch {
	case m.Unsent:
		if mine {
			return "You unsent a message", true
		}
		return name + " unsent a message", true
	case m.Expired:
		return "Message disappeared", true
	case m.Media != nil:
		what := "Photo"
		switch {
		case strings.HasPrefix(m.Media.MIME, "video/"):
			what = "Video"
		case strings.HasPrefix(m.Media.MIME, "audio/"):
			what = "Voice message"
		case !strings.HasPrefix(m.Media.MIME, "image/"):
			what = "File: " + m.Media.Name
		}
		if m.Media.Mode != 0 {
			what = "View-once " + strings.ToLower(what)
			if m.Media.Opened {
				what += " · Opened"
			}
		}
		if m.Media.Caption != "" {
			what += "\n" + m.Media.Caption
		}
		return "📷 " + what, false
	case m.Share != nil:
		sh := m.Share
		var s string
		switch sh.Type {
		case "contact":
			s = "👤 " + sh.Name
		case "location":
			s = fmt.Sprintf("📍 %s (%.4f, %.4f)", sh.Label, sh.Latitude, sh.Longitude)
		case "hashtag":
			s = "#" + sh.Hashtag
		case "link":
			s = "🔗 " + sh.Link
		}
		if sh.Caption != "" {
			s += "\n" + sh.Caption
		}
		return s, false
	case m.Poll != nil:
		var b strings.Builder
		b.WriteString("📊 " + m.Poll.Question)
		for i, o := range m.Poll.Options {
			mark := "○"
			if i == m.Poll.Mine {
				mark = "●"
			}
			fmt.Fprintf(&b, "\n%s %s · %d", mark, o.Text, o.Votes)
		}
		return b.String(), false
	}
	return m.Text, false
}

// systemText is the line for a group change.
func systemText(m app.Message, name string) string {
	s := m.System
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return name + " " + s
	}
	return s
}

// reactionSummary is "❤️ 2  😂" for a message's reactions.
func reactionSummary(rs []app.Reaction) string {
	if len(rs) == 0 {
		return ""
	}
	count := make(map[string]int)
	var order []string
	for _, r := range rs {
		if r.Emoji == "" {
			continue
		}
		if count[r.Emoji] == 0 {
			order = append(order, r.Emoji)
		}
		count[r.Emoji]++
	}
	var parts []string
	for _, e := range order {
		if count[e] > 1 {
			parts = append(parts, fmt.Sprintf("%s %d", e, count[e]))
		} else {
			parts = append(parts, e)
		}
	}
	return strings.Join(parts, " ")
}

// buildRows turns messages into rows for a list of the given width.
func (v *convView) buildRows(width float32) []chatRow {
	u := v.u
	now := u.now()
	group := v.c.Kind == app.Group
	maxW := fyne.Min(width*0.62, maxBubbleCap)
	if maxW < 120 {
		maxW = 120
	}
	lineH := fyne.MeasureText("Ag", chatText, fyne.TextStyle{}).Height
	rows := make([]chatRow, 0, len(v.msgs)+8)
	var prev *app.Message
	var lastTime time.Time
	lastOwn := -1
	for i := range v.msgs {
		m := &v.msgs[i]
		if lastTime.IsZero() || m.Time.Sub(lastTime) > time.Hour || !sameDay(m.Time, lastTime) {
			rows = append(rows, chatRow{kind: rowDay, text: dayLabel(m.Time, now), h: 30})
			prev = nil
		}
		lastTime = m.Time
		name := u.name(m.Author)
		mine := m.Author == u.me
		if m.System != "" {
			if mine {
				name = "You"
			}
			rows = append(rows, chatRow{kind: rowSystem, text: systemText(*m, name), h: 26})
			prev = nil
			continue
		}
		r := chatRow{kind: rowMsg, msg: i, mine: mine}
		r.first = prev == nil || prev.Author != m.Author || m.Time.Sub(prev.Time) > 10*time.Minute
		if len(rows) > 0 && !r.first {
			rows[len(rows)-1].last = false
		}
		r.last = true
		r.showName = group && !mine && r.first
		text, placeholder := messageText(*m, mine, name)
		if blockOf(*m) != blockNone {
			r.block = v.mediaViewOf(*m)
			text = blockCaption(*m)
		}
		r.italic = placeholder
		style := fyne.TextStyle{Italic: placeholder}
		wrapW := maxW
		if r.block != nil {
			wrapW = fyne.Max(r.block.outerW(), 160)
		}
		var wmax float32
		if text != "" || r.block == nil {
			r.lines, wmax = wrapLines(text, chatText, wrapW-2*bubblePadX, style)
		}
		r.bubbleW = wmax + 2*bubblePadX + 1
		if r.block != nil {
			r.bubbleW = fyne.Max(r.bubbleW, r.block.outerW())
		}
		h := bubbleHeight(r, lineH)
		if r.first {
			h += runGap
		}
		if r.showName {
			h += nameH
		}
		if !m.ReplyTo.IsZero() && !m.Unsent {
			q, ok := v.quoteOf(m.ReplyTo)
			r.quote = ellipsize(oneLine(q.Text), 60)
			if !ok {
				r.quote = "Original message"
			} else if q.Unsent || q.Expired {
				r.quote = "Message unavailable"
			}
			who := u.name(q.Author)
			switch {
			case mine && q.Author == u.me:
				r.quoteBy = "You replied to yourself"
			case mine:
				r.quoteBy = "You replied to " + who
			case q.Author == u.me:
				r.quoteBy = name + " replied to you"
			default:
				r.quoteBy = name + " replied"
			}
			h += quoteLabelH + lineH + 2*bubblePadY + quoteGap
		}
		r.edited = m.Edited && !m.Unsent
		r.fwd = m.Forwarded && !m.Unsent
		if r.edited || r.fwd {
			h += smallLineH
		}
		r.react = reactionSummary(m.Reactions)
		if r.react != "" {
			h += reactH
		}
		r.h = h
		rows = append(rows, r)
		if mine {
			lastOwn = len(rows) - 1
		}
		prev = m
	}
	// The delivery state under one's own message when it is the newest.
	if lastOwn >= 0 && lastOwn == len(rows)-1 {
		m := v.msgs[rows[lastOwn].msg]
		if !m.Unsent {
			rows = append(rows, chatRow{kind: rowStatus, text: statusText(m, group), h: 16})
		}
	}
	if ts := u.typers(v.id); len(ts) > 0 {
		names := make([]string, len(ts))
		for i, k := range ts {
			names[i] = u.name(k)
		}
		sort.Strings(names)
		rows = append(rows, chatRow{kind: rowTyping, text: strings.Join(names, ", "), h: lineH + 2*bubblePadY + runGap})
	}
	return rows
}
