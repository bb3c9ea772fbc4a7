package store

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"kite/app"
	"kite/app/pb"
)

type pbBody = pb.Body

// userKind reports whether k makes an ordinary (non-system) message row.
func userKind(k app.Kind) bool {
	switch k {
	case app.KindText, app.KindShare, app.KindPoll, app.KindMedia:
		return true
	}
	return false
}

// msgFields is the content of a new message row.
type msgFields struct {
	text, search, preview, system string
	replyTo                       []byte
	forwarded                     bool
	share, poll, media            any // JSON text or nil
	thumb                         []byte
	purged                        bool // no readable body
}

const previewRunes = 120

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= previewRunes {
		return s
	}
	r := []rune(s)
	return string(r[:previewRunes-1]) + "…"
}

// unlessText is s as a column value, or NULL when it is text: the search
// and preview columns say NULL rather than hold the text again.
func unlessText(s, text string) any {
	if s == text {
		return nil
	}
	return s
}

func id32(b []byte) ([32]byte, error) {
	if len(b) != 32 {
		return [32]byte{}, fmt.Errorf("%w: target of %d bytes", app.ErrBadEvent, len(b))
	}
	return key32(b), nil
}

func optID(b []byte) []byte {
	if len(b) == 32 {
		return b
	}
	return nil
}

func jsonText(v any) any {
	b, _ := json.Marshal(v)
	return string(b)
}

type pollJSON struct {
	Question string   `json:"question"`
	Options  []string `json:"options"`
}

// mediaPreview describes a media message by its MIME type.
func mediaPreview(mime string) string {
	switch {
	case strings.HasPrefix(mime, "image/"):
		return "sent a photo"
	case strings.HasPrefix(mime, "video/"):
		return "sent a video"
	case strings.HasPrefix(mime, "audio/"):
		return "sent a voice message"
	}
	return "sent a file"
}

// contentFields reads a text, share, poll or media body.
func contentFields(kind app.Kind, body *pbBody) msgFields {
	if body == nil {
		return msgFields{purged: true, preview: "unsent a message"}
	}
	var f msgFields
	switch kind {
	case app.KindText:
		t := body.GetText()
		f.text, f.search, f.preview = t.GetText(), t.GetText(), shorten(t.GetText())
		if lp := t.GetPreview(); lp != nil {
			// Marshalling a struct of strings and bytes cannot fail.
			sh, _ := json.Marshal(app.Share{Type: "link", Link: lp.GetUrl(), Title: lp.GetTitle(), Description: lp.GetDescription(), Image: lp.GetImage()})
			f.share = string(sh)
		}
		f.replyTo = optID(t.GetReplyTo())
		f.forwarded = len(t.GetForwardedFrom()) > 0
	case app.KindShare:
		s := body.GetShare()
		sh := app.Share{Caption: s.GetCaption()}
		words := []string{s.GetCaption()}
		switch {
		case s.GetContact() != nil:
			sh.Type, sh.Code, sh.Name = "contact", s.GetContact().GetCode(), s.GetContact().GetName()
			words = append(words, sh.Name)
			f.preview = "shared a contact"
		case s.GetLocation() != nil:
			l := s.GetLocation()
			sh.Type, sh.Latitude, sh.Longitude, sh.Label = "location", l.GetLatitude(), l.GetLongitude(), l.GetLabel()
			words = append(words, sh.Label)
			f.preview = "shared a location"
		case s.GetLink() != "":
			sh.Type, sh.Link = "link", s.GetLink()
			words = append(words, sh.Link)
			f.preview = "shared a link"
		default:
			tag := strings.TrimPrefix(s.GetHashtag(), "#")
			sh.Type, sh.Hashtag = "hashtag", tag
			words = append(words, "#"+tag)
			f.preview = "shared #" + tag
		}
		f.share = jsonText(sh)
		f.search = strings.TrimSpace(strings.Join(words, " "))
		f.replyTo = optID(s.GetReplyTo())
	case app.KindPoll:
		p := body.GetPoll()
		f.poll = jsonText(pollJSON{Question: p.GetQuestion(), Options: p.GetOptions()})
		f.search = strings.TrimSpace(p.GetQuestion() + " " + strings.Join(p.GetOptions(), " "))
		f.preview = "created a poll"
	case app.KindMedia:
		m := body.GetMedia()
		md := app.Media{Hash: key32(m.GetHash()), Size: m.GetSize(), MIME: m.GetMime(), Name: m.GetName(),
			Width: int(m.GetWidth()), Height: int(m.GetHeight()), DurationMs: int(m.GetDurationMs()),
			Mode: int(m.GetMode()), Caption: m.GetCaption()}
		f.media = jsonText(md)
		f.thumb = m.GetThumbnail()
		f.search = strings.TrimSpace(m.GetCaption() + " " + m.GetName())
		f.preview = mediaPreview(m.GetMime())
		f.replyTo = optID(m.GetReplyTo())
	}
	return f
}

func peerList(ks []app.PeerKey) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = k.String()
	}
	return strings.Join(s, ", ")
}

// memberAt is author's membership of c just before pos.
func (w *wtx) memberAt(c *convRow, m app.PeerKey, pos []byte) (member, admin bool, err error) {
	if c.kind == app.Direct {
		return m == w.self || m == c.peer, false, nil
	}
	var action string
	err = w.tx.QueryRowContext(w.ctx, `SELECT action FROM member_log WHERE conv = ? AND member = ? AND pos < ?
		ORDER BY pos DESC LIMIT 1`, c.id[:], m[:], pos).Scan(&action)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, false, nil
	case err != nil:
		return false, false, fmt.Errorf("store: membership: %w", err)
	}
	return action != "leave", action == "admin", nil
}

// countAt is the number of members of c just before pos.
func (w *wtx) countAt(c *convRow, pos []byte) (int, error) {
	var n int
	err := w.tx.QueryRowContext(w.ctx, `SELECT count(*) FROM (
			SELECT action, max(pos) FROM member_log WHERE conv = ? AND pos < ? GROUP BY member)
		WHERE action != 'leave'`, c.id[:], pos).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count members: %w", err)
	}
	return n, nil
}

// logMembers records a membership action for ms at ev and re-derives
// their current state.
func (w *wtx) logMembers(c *convRow, ev app.Event, action string, ms []app.PeerKey) error {
	pos := evPos(ev)
	for _, m := range ms {
		if _, err := w.exec("insert member log", `INSERT INTO member_log (conv, member, pos, action, event)
			VALUES (?, ?, ?, ?, ?)`, c.id[:], m[:], pos, action, ev.ID[:]); err != nil {
			return err
		}
		var latest string
		if err := w.tx.QueryRowContext(w.ctx, `SELECT action FROM member_log WHERE conv = ? AND member = ?
			ORDER BY pos DESC LIMIT 1`, c.id[:], m[:]).Scan(&latest); err != nil {
			return fmt.Errorf("store: derive member: %w", err)
		}
		var err error
		if latest == "leave" {
			_, err = w.exec("delete member", `DELETE FROM members WHERE conv = ? AND member = ?`, c.id[:], m[:])
		} else {
			_, err = w.exec("upsert member", `INSERT INTO members (conv, member, admin) VALUES (?, ?, ?)
				ON CONFLICT (conv, member) DO UPDATE SET admin = excluded.admin`, c.id[:], m[:], b2i(latest == "admin"))
		}
		if err != nil {
			return err
		}
	}
	if err := w.tx.QueryRowContext(w.ctx, `SELECT count(*) FROM members WHERE conv = ?`, c.id[:]).Scan(&c.members); err != nil {
		return fmt.Errorf("store: count members: %w", err)
	}
	c.dirty = true
	return nil
}

// memberKeys parses and de-duplicates a list of member keys.
func memberKeys(list [][]byte) ([]app.PeerKey, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: no members listed", app.ErrInvalid)
	}
	var out []app.PeerKey
	seen := map[app.PeerKey]bool{}
	for _, b := range list {
		if len(b) != 32 {
			return nil, fmt.Errorf("%w: member key of %d bytes", app.ErrBadEvent, len(b))
		}
		k := app.PeerKey(key32(b))
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, nil
}

// effects validates ev against the membership at its position and applies
// it to the derived tables. The event row is already inserted.
func (w *wtx) effects(c *convRow, ev app.Event, body *pbBody, in app.Incoming) error {
	pos := evPos(ev)
	if ev.Kind == app.KindGroupCreate {
		return w.insertMessage(c, ev, in, msgFields{system: fmt.Sprintf("created the group “%s”", c.name)})
	}
	isMember, isAdmin, err := w.memberAt(c, ev.Author, pos)
	if err != nil {
		return err
	}
	if !isMember {
		return fmt.Errorf("%s in %s: %w", ev.Author, ev.Conv, app.ErrNotMember)
	}
	switch ev.Kind {
	case app.KindAdd, app.KindRemove, app.KindPromote:
		if c.kind == app.Direct {
			return fmt.Errorf("%w: %v in a 1:1 conversation", app.ErrInvalid, ev.Kind)
		}
		if !isAdmin {
			return fmt.Errorf("%v by %s: %w", ev.Kind, ev.Author, app.ErrNotAdmin)
		}
	case app.KindRename, app.KindLeave:
		if c.kind == app.Direct {
			return fmt.Errorf("%w: %v in a 1:1 conversation", app.ErrInvalid, ev.Kind)
		}
	}

	switch ev.Kind {
	case app.KindText, app.KindShare, app.KindPoll, app.KindMedia:
		return w.insertMessage(c, ev, in, contentFields(ev.Kind, body))
	case app.KindReaction:
		return w.react(c, ev, body)
	case app.KindEdit:
		return w.edit(c, ev, body)
	case app.KindUnsend:
		return w.unsend(c, ev, body)
	case app.KindVote:
		return w.vote(c, ev, body)
	case app.KindOpened:
		return w.opened(c, ev, body)
	case app.KindRename:
		text := "renamed the group"
		if r := body.GetRename(); r != nil {
			text = "renamed the group to " + r.GetName()
			if c.namePos == nil || bytes.Compare(pos, c.namePos) > 0 {
				c.name, c.namePos, c.dirty = r.GetName(), pos, true
			}
		}
		return w.insertMessage(c, ev, in, msgFields{system: text})
	case app.KindTheme:
		if t := body.GetTheme(); t != nil && (c.themePos == nil || bytes.Compare(pos, c.themePos) > 0) {
			c.theme, c.themePos, c.dirty = t.GetTheme(), pos, true
		}
		return w.insertMessage(c, ev, in, msgFields{system: "changed the theme"})
	case app.KindDisappearing:
		text := "changed disappearing messages"
		if d := body.GetDisappearing(); d != nil {
			secs := d.GetSeconds()
			if secs < app.DisappearAfterSeen {
				return fmt.Errorf("%w: disappearing after %d seconds", app.ErrInvalid, secs)
			}
			text = "turned on disappearing messages"
			if secs == app.DisappearOff {
				text = "turned off disappearing messages"
			}
			if c.disappearPos == nil || bytes.Compare(pos, c.disappearPos) > 0 {
				c.disappear, c.disappearPos, c.dirty = secs, pos, true
			}
		}
		return w.insertMessage(c, ev, in, msgFields{system: text})
	case app.KindLeave:
		if err := w.logMembers(c, ev, "leave", []app.PeerKey{ev.Author}); err != nil {
			return err
		}
		return w.insertMessage(c, ev, in, msgFields{system: "left"})
	case app.KindAdd, app.KindRemove, app.KindPromote:
		return w.membership(c, ev, body, in)
	}
	return fmt.Errorf("%w: kind %v", app.ErrBadEvent, ev.Kind)
}

// membership applies Add, Remove and Promote.
func (w *wtx) membership(c *convRow, ev app.Event, body *pbBody, in app.Incoming) error {
	var list *pb.Members
	switch ev.Kind {
	case app.KindAdd:
		list = body.GetAdd()
	case app.KindRemove:
		list = body.GetRemove()
	case app.KindPromote:
		list = body.GetPromote()
	}
	if list == nil {
		return fmt.Errorf("%w: %v without a readable body", app.ErrBadEvent, ev.Kind)
	}
	ms, err := memberKeys(list.GetMembers())
	if err != nil {
		return err
	}
	pos := evPos(ev)
	for _, m := range ms {
		member, admin, err := w.memberAt(c, m, pos)
		if err != nil {
			return err
		}
		switch {
		case ev.Kind == app.KindAdd && member:
			return fmt.Errorf("%w: %s is already a member", app.ErrInvalid, m)
		case ev.Kind == app.KindRemove && !member:
			return fmt.Errorf("%w: %s is not a member", app.ErrInvalid, m)
		case ev.Kind == app.KindPromote && !member:
			return fmt.Errorf("%w: %s is not a member", app.ErrInvalid, m)
		case ev.Kind == app.KindPromote && admin:
			return fmt.Errorf("%w: %s is already an admin", app.ErrInvalid, m)
		}
	}
	var action, text string
	switch ev.Kind {
	case app.KindAdd:
		n, err := w.countAt(c, pos)
		if err != nil {
			return err
		}
		if n+len(ms) > MaxMembers {
			return fmt.Errorf("%w: %d members, at most %d", app.ErrTooLarge, n+len(ms), MaxMembers)
		}
		action, text = "join", "added "+peerList(ms)
	case app.KindRemove:
		action, text = "leave", "removed "+peerList(ms)
	default:
		action, text = "admin", "made "+peerList(ms)+" an admin"
	}
	if err := w.logMembers(c, ev, action, ms); err != nil {
		return err
	}
	return w.insertMessage(c, ev, in, msgFields{system: text})
}

// insertMessage inserts the message row of ev, applies the edits and
// unsend that arrived before it, indexes it and updates the summary.
func (w *wtx) insertMessage(c *convRow, ev app.Event, in app.Incoming, f msgFields) error {
	pos := evPos(ev)
	user := userKind(ev.Kind)
	if !user {
		f.preview = f.system
	}
	var unsent, expired, edited, afterSeen int
	var expiresAt any
	var editPos []byte
	if user && f.purged {
		if c.disappear != app.DisappearOff {
			expired = 1
		} else {
			unsent = 1
		}
		// Reactions and votes by others may have come first: a message
		// that arrives already purged keeps none, as if purged here.
		for _, q := range []string{`DELETE FROM reactions WHERE target = ?`, `DELETE FROM votes WHERE poll = ?`} {
			if _, err := w.exec("purge", q, ev.ID[:]); err != nil {
				return err
			}
		}
	}
	if user && !f.purged {
		switch {
		case c.disappear > 0:
			expiresAt = ev.Time.UnixMilli() + c.disappear*1000
		case c.disappear == app.DisappearAfterSeen:
			afterSeen = 1
			if ev.Author != w.self && c.selfSeen != nil && bytes.Compare(pos, c.selfSeen) <= 0 {
				expiresAt = ms(w.now)
			}
		}
		// Edits and an unsend that arrived before their target.
		var eText sql.NullString
		var ePos []byte
		var unsend int
		early, err := w.earlyTargets(c)
		if err != nil {
			return err
		}
		if early[ev.ID] {
			if err := w.tx.QueryRowContext(w.ctx, `SELECT e.text, e.pos,
				EXISTS (SELECT 1 FROM unsends WHERE target = ?1 AND author = ?2 AND conv = ?3)
			FROM (SELECT 1) LEFT JOIN (SELECT text, pos FROM edits WHERE target = ?1 AND author = ?2 AND conv = ?3
				ORDER BY pos DESC LIMIT 1) e`, ev.ID[:], ev.Author[:], ev.Conv[:]).Scan(&eText, &ePos, &unsend); err != nil {
				return fmt.Errorf("store: pending edits: %w", err)
			}
		}
		switch {
		case unsend != 0:
			unsent = 1
			f = msgFields{preview: "unsent a message", replyTo: f.replyTo, forwarded: f.forwarded}
			rid, err := w.eventRid(ev)
			if err != nil {
				return err
			}
			if _, err := w.exec("purge body", `UPDATE events SET body = NULL WHERE rid = ?`, rid); err != nil {
				return err
			}
			for _, q := range []string{`DELETE FROM reactions WHERE target = ?`, `DELETE FROM votes WHERE poll = ?`} {
				if _, err := w.exec("purge", q, ev.ID[:]); err != nil {
					return err
				}
			}
		case eText.Valid && ev.Kind == app.KindText:
			f.text, f.search, f.preview = eText.String, eText.String, shorten(eText.String)
			edited, editPos = 1, ePos
		}
	}
	if unsent == 1 || expired == 1 {
		f.preview = "unsent a message"
	}
	var via any
	if !in.Via.IsZero() {
		via = in.Via[:]
	}
	path := in.Path
	if path == "" {
		path = app.PathWAN
	}
	// The message shares its event's rid (see migrations/0004_ids.sql).
	rid, err := w.eventRid(ev)
	if err != nil {
		return err
	}
	if _, err := w.exec("insert message", `INSERT INTO messages (rid, id, conv, author, seq, lamport, pos, time, kind,
			text, search, preview, reply_to, forwarded, edited, edit_pos, unsent, expired, system, share, poll,
			media, thumbnail, after_seen, expires_at, path, via)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rid, ev.ID[:], ev.Conv[:], ev.Author[:], ev.Seq, ev.Lamport, pos, ev.Time.UnixMilli(), int(ev.Kind),
		f.text, unlessText(f.search, f.text), unlessText(f.preview, f.text), f.replyTo, b2i(f.forwarded),
		edited, editPos, unsent, expired, f.system, f.share, f.poll, f.media, f.thumb, afterSeen, expiresAt,
		string(path), via); err != nil {
		return err
	}
	// Its search entry is made later, with others (see fts.go).
	w.msgTop = max(w.msgTop, rid)
	visible := bytes.Compare(pos, c.clearedPos) > 0
	if visible && expired == 0 && (c.last == nil || bytes.Compare(pos, c.last.pos) > 0) {
		c.last = &lastMsg{pos: pos, author: ev.Author, kind: ev.Kind, text: f.preview, time: ev.Time.UnixMilli(), unsent: unsent == 1}
		c.lastAt = ev.Time.UnixMilli()
		c.hidden = false
		c.dirty = true
	}
	if user && visible && unsent == 0 && expired == 0 && ev.Author != w.self &&
		(c.selfSeen == nil || bytes.Compare(pos, c.selfSeen) > 0) {
		c.unread++
		c.dirty = true
	}
	return nil
}

// target is the message row an event refers to.
type target struct {
	rid                     int64
	id                      app.EventID
	conv                    app.ConvID
	author                  app.PeerKey
	kind                    app.Kind
	pos                     []byte
	unsent, expired, delete bool
	editPos                 []byte
	poll                    sql.NullString
}

// target loads the message id; ok is false when it is not stored. A
// stored event that is not a message is ErrInvalid.
func (w *wtx) target(id [32]byte) (t target, ok bool, err error) {
	var conv, author []byte
	var rid sql.NullInt64
	var unsent, expired, deleted int
	// One look-up tells "no such event" (no row) from "an event that is
	// not a message" (NULL rid).
	err = w.tx.QueryRowContext(w.ctx, `SELECT m.rid, m.conv, m.author, coalesce(m.kind, 0), m.pos,
			coalesce(m.unsent, 0), coalesce(m.expired, 0), coalesce(m.deleted, 0), m.edit_pos, m.poll
		FROM events e LEFT JOIN messages m ON m.rid = e.rid
		WHERE e.rid IN `+ridsOf+` AND e.id = ?1`, id[:]).Scan(&rid, &conv, &author,
		&t.kind, &t.pos, &unsent, &expired, &deleted, &t.editPos, &t.poll)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return t, false, nil
	case err != nil:
		return t, false, fmt.Errorf("store: load target: %w", err)
	case !rid.Valid:
		return t, false, fmt.Errorf("%w: target %x is not a message", app.ErrInvalid, id[:6])
	}
	t.rid = rid.Int64
	t.id, t.conv, t.author = id, key32(conv), key32(author)
	t.unsent, t.expired, t.delete = unsent != 0, expired != 0, deleted != 0
	return t, true, nil
}

// checkTarget loads the target of ev and checks it is a user message of
// the same conversation.
func (w *wtx) checkTarget(ev app.Event, raw []byte) (t target, ok bool, err error) {
	id, err := id32(raw)
	if err != nil {
		return t, false, err
	}
	t, ok, err = w.target(id)
	if err != nil || !ok {
		t.id = id
		return t, ok, err
	}
	if t.conv != ev.Conv {
		return t, false, fmt.Errorf("%w: target is in another conversation", app.ErrInvalid)
	}
	if !userKind(t.kind) {
		return t, false, fmt.Errorf("%w: target is a %v event", app.ErrInvalid, t.kind)
	}
	return t, true, nil
}

func (w *wtx) react(c *convRow, ev app.Event, body *pbBody) error {
	r := body.GetReaction()
	if r == nil {
		return nil
	}
	t, ok, err := w.checkTarget(ev, r.GetTarget())
	if err != nil {
		return err
	}
	if ok && (t.unsent || t.expired) {
		return nil
	}
	_, err = w.exec("upsert reaction", `INSERT INTO reactions (target, author, conv, emoji, pos) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (target, author) DO UPDATE SET emoji = excluded.emoji, pos = excluded.pos
		WHERE excluded.pos > reactions.pos`, t.id[:], ev.Author[:], c.id[:], r.GetEmoji(), evPos(ev))
	return err
}

func (w *wtx) edit(c *convRow, ev app.Event, body *pbBody) error {
	e := body.GetEdit()
	if e == nil {
		return nil
	}
	t, ok, err := w.checkTarget(ev, e.GetTarget())
	if err != nil {
		return err
	}
	if ok && t.author != ev.Author {
		return fmt.Errorf("edit of %s's message: %w", t.author, app.ErrNotAuthor)
	}
	if ok && t.kind != app.KindText {
		return fmt.Errorf("%w: only text can be edited", app.ErrInvalid)
	}
	pos := evPos(ev)
	if _, err := w.exec("insert edit", `INSERT INTO edits (target, pos, conv, author, text) VALUES (?, ?, ?, ?, ?)`,
		t.id[:], pos, c.id[:], ev.Author[:], e.GetText()); err != nil {
		return err
	}
	if !ok && c.early != nil {
		c.early[t.id] = true
	}
	if !ok || t.unsent || t.expired || (t.editPos != nil && bytes.Compare(pos, t.editPos) <= 0) {
		return nil
	}
	text := e.GetText()
	if _, err := w.exec("apply edit", `UPDATE messages SET text = ?, search = NULL, preview = ?, edited = 1, edit_pos = ?
		WHERE rid = ?`, text, unlessText(shorten(text), text), pos, t.rid); err != nil {
		return err
	}
	if w.indexed(t.rid) {
		if _, err := w.exec("unindex message", `DELETE FROM messages_fts WHERE rowid = ?`, t.rid); err != nil {
			return err
		}
		if text != "" && !t.delete && bytes.Compare(t.pos, c.clearedPos) > 0 {
			if _, err := w.exec("index message", `INSERT INTO messages_fts (rowid, text) VALUES (?, ?)`, t.rid, text); err != nil {
				return err
			}
		}
	}
	if c.last != nil && bytes.Equal(c.last.pos, t.pos) {
		l := *c.last
		l.text = shorten(text)
		c.last, c.dirty = &l, true
	}
	return nil
}

func (w *wtx) unsend(c *convRow, ev app.Event, body *pbBody) error {
	u := body.GetUnsend()
	if u == nil {
		return nil
	}
	t, ok, err := w.checkTarget(ev, u.GetTarget())
	if err != nil {
		return err
	}
	if ok && t.author != ev.Author {
		return fmt.Errorf("unsend of %s's message: %w", t.author, app.ErrNotAuthor)
	}
	if _, err := w.exec("insert unsend", `INSERT OR IGNORE INTO unsends (target, author, conv, pos) VALUES (?, ?, ?, ?)`,
		t.id[:], ev.Author[:], c.id[:], evPos(ev)); err != nil {
		return err
	}
	if !ok && c.early != nil {
		c.early[t.id] = true
	}
	if !ok || t.unsent {
		return nil
	}
	return w.purge(c, t, false)
}

// purge removes a message's content everywhere: the event body, the
// message text, share, poll and media, its search entry, reactions and
// votes. expired tells disappearing messages from unsend.
func (w *wtx) purge(c *convRow, t target, expired bool) error {
	steps := []struct {
		op, q string
		arg   any
	}{
		{"purge body", `UPDATE events SET body = NULL WHERE rid = ?`, t.rid},
		{"purge message", `UPDATE messages SET text = '', search = '', preview = 'unsent a message', share = NULL,
			poll = NULL, media = NULL, thumbnail = NULL, edited = 0, edit_pos = NULL, ` + map[bool]string{false: "unsent", true: "expired"}[expired] + ` = 1
			WHERE rid = ?`, t.rid},
		{"unindex message", `DELETE FROM messages_fts WHERE rowid = ?`, t.rid},
		{"purge reactions", `DELETE FROM reactions WHERE target = ?`, t.id[:]},
		{"purge votes", `DELETE FROM votes WHERE poll = ?`, t.id[:]},
	}
	for _, s := range steps {
		if s.op == "unindex message" && !w.indexed(t.rid) {
			continue
		}
		if _, err := w.exec(s.op, s.q, s.arg); err != nil {
			return err
		}
	}
	if c.last != nil && bytes.Equal(c.last.pos, t.pos) {
		if expired {
			if err := w.recomputeLast(c); err != nil {
				return err
			}
		} else {
			l := *c.last
			l.text, l.unsent = "unsent a message", true
			c.last, c.dirty = &l, true
		}
	}
	if t.author != w.self {
		return w.recomputeUnread(c)
	}
	return nil
}

// recomputeLast re-derives the summary's last visible message.
func (w *wtx) recomputeLast(c *convRow) error {
	var l lastMsg
	var author []byte
	var unsent int
	err := w.tx.QueryRowContext(w.ctx, `SELECT pos, author, kind, coalesce(preview, text), time, unsent FROM messages
		WHERE conv = ? AND pos > ? AND deleted = 0 AND expired = 0 ORDER BY pos DESC LIMIT 1`,
		c.id[:], c.clearedPos).Scan(&l.pos, &author, &l.kind, &l.text, &l.time, &unsent)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		c.last = nil
	case err != nil:
		return fmt.Errorf("store: summary: %w", err)
	default:
		l.author, l.unsent = key32(author), unsent != 0
		c.last, c.lastAt = &l, l.time
	}
	c.dirty = true
	return nil
}

// recomputeUnread counts others' visible messages after self's seen
// position.
func (w *wtx) recomputeUnread(c *convRow) error {
	from := c.clearedPos
	if c.selfSeen != nil && bytes.Compare(c.selfSeen, from) > 0 {
		from = c.selfSeen
	}
	if err := w.tx.QueryRowContext(w.ctx, `SELECT count(*) FROM messages WHERE conv = ? AND pos > ?
		AND author != ? AND system = '' AND unsent = 0 AND expired = 0 AND deleted = 0`,
		c.id[:], from, w.self[:]).Scan(&c.unread); err != nil {
		return fmt.Errorf("store: count unread: %w", err)
	}
	c.dirty = true
	return nil
}

func (w *wtx) vote(c *convRow, ev app.Event, body *pbBody) error {
	v := body.GetVote()
	if v == nil {
		return nil
	}
	if v.GetOption() < -1 {
		return fmt.Errorf("%w: option %d", app.ErrInvalid, v.GetOption())
	}
	t, ok, err := w.checkTarget(ev, v.GetPoll())
	if err != nil {
		return err
	}
	if ok {
		if t.kind != app.KindPoll {
			return fmt.Errorf("%w: vote on a %v", app.ErrInvalid, t.kind)
		}
		if t.unsent || t.expired {
			return nil
		}
		var p pollJSON
		if err := json.Unmarshal([]byte(t.poll.String), &p); err != nil {
			return fmt.Errorf("store: read poll: %w", err)
		}
		if int(v.GetOption()) >= len(p.Options) {
			return fmt.Errorf("%w: option %d of %d", app.ErrInvalid, v.GetOption(), len(p.Options))
		}
	}
	_, err = w.exec("upsert vote", `INSERT INTO votes (poll, voter, conv, option, pos) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (poll, voter) DO UPDATE SET option = excluded.option, pos = excluded.pos
		WHERE excluded.pos > votes.pos`, t.id[:], ev.Author[:], c.id[:], v.GetOption(), evPos(ev))
	return err
}

func (w *wtx) opened(c *convRow, ev app.Event, body *pbBody) error {
	o := body.GetOpened()
	if o == nil {
		return nil
	}
	t, ok, err := w.checkTarget(ev, o.GetTarget())
	if err != nil {
		return err
	}
	if ok && t.kind != app.KindMedia {
		return fmt.Errorf("%w: opened a %v", app.ErrInvalid, t.kind)
	}
	_, err = w.exec("mark opened", `INSERT OR IGNORE INTO opened (target, author) VALUES (?, ?)`, t.id[:], ev.Author[:])
	return err
}

// earlyTargets loads, once per conversation and transaction, the targets
// of edits and unsends that are stored but whose message is not: the only
// messages that need a look for them when they are inserted. Edits and
// unsends are few, so the scan is small; doing it per message was a fifth
// of ingest.
func (w *wtx) earlyTargets(c *convRow) (map[app.EventID]bool, error) {
	if c.early != nil {
		return c.early, nil
	}
	rows, err := w.tx.QueryContext(w.ctx, `
		SELECT target FROM edits e WHERE e.conv = ?1 AND NOT EXISTS (SELECT 1 FROM event_ids x
			JOIN messages m ON m.rid = x.rid WHERE x.prefix = substr(e.target, 1, 8) AND m.id = e.target)
		UNION
		SELECT target FROM unsends u WHERE u.conv = ?1 AND NOT EXISTS (SELECT 1 FROM event_ids x
			JOIN messages m ON m.rid = x.rid WHERE x.prefix = substr(u.target, 1, 8) AND m.id = u.target)`, c.id[:])
	if err != nil {
		return nil, fmt.Errorf("store: early edits: %w", err)
	}
	defer rows.Close()
	c.early = map[app.EventID]bool{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("store: early edits: %w", err)
		}
		c.early[app.EventID(key32(b))] = true
	}
	return c.early, rows.Err()
}
