package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"kite/app"
)

// querier is what reads need from *sql.DB and *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

const (
	defaultLimit = 50
	maxLimit     = 500
)

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return defaultLimit
	case n > maxLimit:
		return maxLimit
	}
	return n
}

// selfArg is self as an SQL argument (NULL before it is known).
func (s *Store) selfArg() any {
	self := s.selfKey()
	if self.IsZero() {
		return nil
	}
	return self[:]
}

const convCols = `c.id, c.kind, c.e2e, c.name, c.peer, c.folder, c.pinned, c.archived, c.muted_until, c.theme,
	c.disappear, c.last_pos, c.last_author, c.last_kind, c.last_text, c.last_time, c.last_unsent, c.last_at,
	c.unread, c.members, p.key, p.name, p.handle,
	CASE WHEN ?1 IS NULL THEN 0 ELSE NOT EXISTS (SELECT 1 FROM members mm WHERE mm.conv = c.id AND mm.member = ?1) END
	FROM conversations c LEFT JOIN people p ON p.key = c.peer`

func scanConv(sc interface{ Scan(...any) error }) (app.Conversation, error) {
	var (
		c                                   app.Conversation
		id, peer, lastPos, lastAuthor, pkey []byte
		lastKind, lastTime                  sql.NullInt64
		lastText, pname, phandle            sql.NullString
		e2e, pinned, archived, lastUnsent   int
		left                                int
		muted, lastAt                       int64
		folder                              string
	)
	if err := sc.Scan(&id, &c.Kind, &e2e, &c.Title, &peer, &folder, &pinned, &archived, &muted, &c.Theme,
		&c.Disappear, &lastPos, &lastAuthor, &lastKind, &lastText, &lastTime, &lastUnsent, &lastAt,
		&c.Unread, &c.Members, &pkey, &pname, &phandle, &left); err != nil {
		return c, err
	}
	c.ID, c.E2E, c.Folder = key32(id), e2e != 0, app.Folder(folder)
	c.Pinned, c.Archived, c.Left = pinned != 0, archived != 0, left != 0
	c.MutedUntil, c.LastAt = fromMs(muted), fromMs(lastAt)
	if c.Kind == app.Direct {
		c.Peer = key32(peer)
		c.Title = app.Person{Key: c.Peer, Name: pname.String, Handle: phandle.String}.DisplayName()
	}
	if lastPos != nil {
		c.Last = &app.Preview{Author: key32(lastAuthor), Kind: app.Kind(lastKind.Int64), Text: lastText.String,
			Time: fromMs(lastTime.Int64), Unsent: lastUnsent != 0}
	}
	return c, nil
}

// Inbox implements app.ViewStore. Pinned conversations come first on the
// first page; a cursor on a pinned row continues the pinned ones and then
// the others from the top, so pages never skip or repeat rows.
func (s *Store) Inbox(ctx context.Context, q app.InboxQuery) ([]app.Conversation, error) {
	limit := clampLimit(q.Limit)
	self := s.selfArg()
	var out []app.Conversation
	err := s.readTx(ctx, func(tx *connTx) error {
		where := `c.archived = ?2 AND c.hidden = 0`
		args := []any{self, b2i(q.Archived)}
		if !q.Archived {
			f := q.Folder
			if f == "" {
				f = app.Primary
			}
			where += ` AND c.folder = ?3`
			args = append(args, string(f))
		}
		if q.UnreadOnly {
			where += ` AND c.unread > 0`
		}
		pinnedPhase := q.Before == nil
		if q.Before != nil {
			var pinned int
			err := tx.QueryRowContext(ctx, `SELECT pinned FROM conversations WHERE id = ?`, q.Before.ID[:]).Scan(&pinned)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("store: inbox: %w", err)
			}
			pinnedPhase = pinned != 0
		}
		page := func(pinned bool, after bool, n int) error {
			w := where + fmt.Sprintf(` AND c.pinned = %d`, b2i(pinned))
			a := slices.Clone(args)
			if after {
				w += fmt.Sprintf(` AND (c.last_at, c.id) < (?%d, ?%d)`, len(a)+1, len(a)+2)
				a = append(a, ms(q.Before.LastAt), q.Before.ID[:])
			}
			rows, err := tx.QueryContext(ctx, `SELECT `+convCols+` WHERE `+w+
				fmt.Sprintf(` ORDER BY c.last_at DESC, c.id DESC LIMIT %d`, n), a...)
			if err != nil {
				return fmt.Errorf("store: inbox: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				c, err := scanConv(rows)
				if err != nil {
					return fmt.Errorf("store: inbox: %w", err)
				}
				out = append(out, c)
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("store: inbox: %w", err)
			}
			return nil
		}
		if pinnedPhase {
			if err := page(true, q.Before != nil, limit); err != nil {
				return err
			}
			if len(out) < limit {
				return page(false, false, limit-len(out))
			}
			return nil
		}
		return page(false, true, limit)
	})
	return out, err
}

// Conversation implements app.ViewStore.
func (s *Store) Conversation(ctx context.Context, id app.ConvID) (app.Conversation, error) {
	c, err := scanConv(s.rq.QueryRowContext(ctx, `SELECT `+convCols+` WHERE c.id = ?2`, s.selfArg(), id[:]))
	if err != nil {
		return c, notFound("conversation", err)
	}
	return c, nil
}

// ConvBrief implements app.ViewStore. It reads through the writer
// connection: an ingest follows, and the writer's page cache is warm
// where a pooled reader starts cold after every commit.
func (s *Store) ConvBrief(ctx context.Context, id app.ConvID) (app.ConvBrief, error) {
	var b app.ConvBrief
	var kind, e2e int
	var folder string
	if err := s.wq.QueryRowContext(ctx, `SELECT kind, e2e, folder FROM conversations WHERE id = ?`, id[:]).Scan(&kind, &e2e, &folder); err != nil {
		return b, notFound("conversation", err)
	}
	b.Kind, b.E2E, b.Folder = app.ConvKind(kind), e2e != 0, app.Folder(folder)
	return b, nil
}

const msgCols = `m.rid, m.id, m.conv, m.author, m.seq, m.lamport, m.pos, m.time, m.kind, m.text, m.reply_to,
	m.forwarded, m.edited, m.unsent, m.expired, m.system, m.share, m.poll, m.media, m.thumbnail, m.path,
	m.via, m.expires_at, EXISTS (SELECT 1 FROM opened o WHERE o.target = m.id)`

// msgRow is a message with what enrich needs.
type msgRow struct {
	app.Message
	pos  []byte
	poll *pollJSON
}

func scanMsg(sc interface{ Scan(...any) error }) (msgRow, error) {
	var (
		m                              msgRow
		rid                            int64
		id, conv, author, replyTo, via []byte
		thumb                          []byte
		forwarded, edited, unsent, exp int
		opened                         int
		tm                             int64
		share, poll, media             sql.NullString
		expires                        sql.NullInt64
		path                           string
	)
	if err := sc.Scan(&rid, &id, &conv, &author, &m.Seq, &m.Lamport, &m.pos, &tm, &m.Kind, &m.Text, &replyTo,
		&forwarded, &edited, &unsent, &exp, &m.System, &share, &poll, &media, &thumb, &path, &via, &expires,
		&opened); err != nil {
		return m, err
	}
	m.ID, m.Conv, m.Author, m.ReplyTo, m.Via = key32(id), key32(conv), key32(author), key32(replyTo), key32(via)
	m.Time, m.Path = fromMs(tm), app.Path(path)
	m.Forwarded, m.Edited, m.Unsent, m.Expired = forwarded != 0, edited != 0, unsent != 0, exp != 0
	if expires.Valid {
		m.ExpiresAt = fromMs(expires.Int64)
	}
	if share.Valid {
		m.Share = new(app.Share)
		if err := json.Unmarshal([]byte(share.String), m.Share); err != nil {
			return m, err
		}
	}
	if poll.Valid {
		m.poll = new(pollJSON)
		if err := json.Unmarshal([]byte(poll.String), m.poll); err != nil {
			return m, err
		}
	}
	if media.Valid {
		m.Media = new(app.Media)
		if err := json.Unmarshal([]byte(media.String), m.Media); err != nil {
			return m, err
		}
		m.Media.Thumbnail = thumb
		m.Media.Opened = opened != 0
	}
	return m, nil
}

func queryMsgs(ctx context.Context, q querier, query string, args ...any) ([]msgRow, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []msgRow
	for rows.Next() {
		m, err := scanMsg(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// enrich adds reactions, poll results and, for own messages, status.
func (s *Store) enrich(ctx context.Context, q querier, ms []msgRow) ([]app.Message, error) {
	out := make([]app.Message, len(ms))
	if len(ms) == 0 {
		return out, nil
	}
	self := s.selfKey()
	ids := make([]any, len(ms))
	idx := make(map[app.EventID]int, len(ms))
	var polls []any
	convs := map[app.ConvID]bool{} // of own messages
	for i, m := range ms {
		ids[i] = m.ID[:]
		idx[m.ID] = i
		if m.poll != nil {
			polls = append(polls, m.ID[:])
		}
		if !self.IsZero() && m.Author == self {
			convs[m.Conv] = true
		}
	}
	// Reactions.
	rows, err := q.QueryContext(ctx, `SELECT target, author, emoji FROM reactions
		WHERE target IN (`+placeholders(len(ids))+`) AND emoji != '' ORDER BY target, pos`, ids...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var t, a []byte
		var r app.Reaction
		if err := rows.Scan(&t, &a, &r.Emoji); err != nil {
			rows.Close()
			return nil, err
		}
		r.Author = key32(a)
		i := idx[key32(t)]
		ms[i].Reactions = append(ms[i].Reactions, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Poll results.
	for _, m := range ms {
		if m.poll == nil {
			continue
		}
		i := idx[m.ID]
		p := &app.Poll{Question: m.poll.Question, Mine: -1, Options: make([]app.PollOption, len(m.poll.Options))}
		for j, o := range m.poll.Options {
			p.Options[j].Text = o
		}
		ms[i].Poll = p
	}
	if len(polls) > 0 {
		rows, err := q.QueryContext(ctx, `SELECT poll, voter, option FROM votes WHERE poll IN (`+
			placeholders(len(polls))+`)`, polls...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var poll, voter []byte
			var opt int
			if err := rows.Scan(&poll, &voter, &opt); err != nil {
				rows.Close()
				return nil, err
			}
			p := ms[idx[key32(poll)]].Poll
			if opt < 0 || opt >= len(p.Options) {
				continue
			}
			p.Options[opt].Votes++
			if app.PeerKey(key32(voter)) == self {
				p.Mine = opt
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	// Status of own messages.
	if len(convs) > 0 {
		// Own events up to this seq are stored at some peer.
		delivered := map[app.ConvID]uint64{}
		for conv := range convs {
			var upTo sql.NullInt64
			if err := q.QueryRowContext(ctx, `SELECT max(seq) FROM delivered_upto WHERE conv = ?`, conv[:]).Scan(&upTo); err != nil {
				return nil, err
			}
			delivered[conv] = uint64(upTo.Int64)
		}
		seen := map[app.ConvID][][]byte{}
		for conv := range convs {
			rows, err := q.QueryContext(ctx, `SELECT pos FROM seen WHERE conv = ? AND member != ?`, conv[:], self[:])
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var p []byte
				if err := rows.Scan(&p); err != nil {
					rows.Close()
					return nil, err
				}
				seen[conv] = append(seen[conv], p)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
		for i := range ms {
			m := &ms[i]
			if m.Author != self {
				continue
			}
			for _, p := range seen[m.Conv] {
				if bytes.Compare(p, m.pos) >= 0 {
					m.SeenBy++
				}
			}
			switch {
			case m.SeenBy > 0:
				m.Status = app.StatusSeen
			case m.Seq <= delivered[m.Conv]:
				m.Status = app.StatusDelivered
			default:
				m.Status = app.StatusSending
			}
		}
	}
	for i, m := range ms {
		out[i] = m.Message
	}
	return out, nil
}

// Messages implements app.ViewStore.
func (s *Store) Messages(ctx context.Context, conv app.ConvID, before app.Cursor, limit int) ([]app.Message, error) {
	limit = clampLimit(limit)
	var out []app.Message
	err := s.readTx(ctx, func(tx *connTx) error {
		var cleared []byte
		if err := tx.QueryRowContext(ctx, `SELECT cleared_pos FROM conversations WHERE id = ?`, conv[:]).Scan(&cleared); err != nil {
			return notFound("messages", err)
		}
		q := `SELECT ` + msgCols + ` FROM messages m WHERE m.conv = ? AND m.pos > ? AND m.deleted = 0`
		args := []any{conv[:], cleared}
		if before != (app.Cursor{}) {
			q += ` AND m.pos < ?`
			args = append(args, posKey(before.Lamport, before.Author, before.Seq))
		}
		q += ` ORDER BY m.pos DESC LIMIT ?`
		args = append(args, limit)
		ms, err := queryMsgs(ctx, tx, q, args...)
		if err != nil {
			return fmt.Errorf("store: messages: %w", err)
		}
		slices.Reverse(ms)
		out, err = s.enrich(ctx, tx, ms)
		if err != nil {
			return fmt.Errorf("store: messages: %w", err)
		}
		return nil
	})
	return out, err
}

// Message implements app.ViewStore.
func (s *Store) Message(ctx context.Context, id app.EventID) (app.Message, error) {
	var out app.Message
	err := s.readTx(ctx, func(tx *connTx) error {
		ms, err := queryMsgs(ctx, tx, `SELECT `+msgCols+` FROM messages m
			WHERE m.rid IN `+ridsOf+` AND m.id = ?1`, id[:])
		if err != nil {
			return fmt.Errorf("store: message: %w", err)
		}
		if len(ms) == 0 {
			return fmt.Errorf("store: message %s: %w", id.Short(), app.ErrNotFound)
		}
		res, err := s.enrich(ctx, tx, ms)
		if err != nil {
			return fmt.Errorf("store: message: %w", err)
		}
		out = res[0]
		return nil
	})
	return out, err
}

// MessageByPrefix implements app.ViewStore.
func (s *Store) MessageByPrefix(ctx context.Context, prefix string) (app.EventID, error) {
	p := strings.ToLower(strings.TrimSpace(prefix))
	if len(p) < 8 || len(p) > 64 {
		return app.EventID{}, app.Userf(app.ErrInvalid, "a message ID prefix has 8 to 64 hex digits, got %q", prefix)
	}
	lo, err1 := hex.DecodeString(p + strings.Repeat("0", 64-len(p)))
	hi, err2 := hex.DecodeString(p + strings.Repeat("f", 64-len(p)))
	if err1 != nil || err2 != nil {
		return app.EventID{}, app.Userf(app.ErrInvalid, "%q is not a hex message ID prefix", prefix)
	}
	rows, err := s.rq.QueryContext(ctx, `SELECT m.id FROM event_ids x JOIN messages m ON m.rid = x.rid
		WHERE x.prefix BETWEEN substr(?1, 1, 8) AND substr(?2, 1, 8) AND m.id BETWEEN ?1 AND ?2 LIMIT 2`, lo, hi)
	if err != nil {
		return app.EventID{}, fmt.Errorf("store: message by prefix: %w", err)
	}
	defer rows.Close()
	var found []app.EventID
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			return app.EventID{}, fmt.Errorf("store: message by prefix: %w", err)
		}
		found = append(found, key32(id))
	}
	if err := rows.Err(); err != nil {
		return app.EventID{}, fmt.Errorf("store: message by prefix: %w", err)
	}
	switch len(found) {
	case 0:
		return app.EventID{}, fmt.Errorf("store: message %s: %w", p, app.ErrNotFound)
	case 1:
		return found[0], nil
	}
	return app.EventID{}, app.Userf(app.ErrAmbiguous, "several messages start with %s", p)
}

// Members implements app.ViewStore: admins first, then by key.
func (s *Store) Members(ctx context.Context, conv app.ConvID) ([]app.Member, error) {
	var out []app.Member
	err := s.readTx(ctx, func(tx *connTx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM conversations WHERE id = ?`, conv[:]).Scan(&one); err != nil {
			return notFound("members", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT m.member, m.admin, p.name, p.handle FROM members m
			LEFT JOIN people p ON p.key = m.member WHERE m.conv = ? ORDER BY m.admin DESC, m.member`, conv[:])
		if err != nil {
			return fmt.Errorf("store: members: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k []byte
			var admin int
			var name, handle sql.NullString
			if err := rows.Scan(&k, &admin, &name, &handle); err != nil {
				return fmt.Errorf("store: members: %w", err)
			}
			key := app.PeerKey(key32(k))
			out = append(out, app.Member{Key: key, Admin: admin != 0,
				Name: app.Person{Key: key, Name: name.String, Handle: handle.String}.DisplayName()})
		}
		return rows.Err()
	})
	return out, err
}

// ftsQuery turns what a person typed into a safe FTS5 query: each
// whitespace-separated term that holds a letter or digit becomes a quoted,
// prefix-matched phrase; everything else is dropped. "" when nothing is
// left.
func ftsQuery(user string) string {
	var terms []string
	for _, t := range strings.Fields(user) {
		if !strings.ContainsFunc(t, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue
		}
		terms = append(terms, `"`+strings.ReplaceAll(t, `"`, `""`)+`"*`)
	}
	return strings.Join(terms, " ")
}

// Search implements app.ViewStore.
func (s *Store) Search(ctx context.Context, query string, conv app.ConvID, limit int) ([]app.Message, error) {
	fq := ftsQuery(query)
	if fq == "" {
		return nil, app.Userf(app.ErrInvalid, "search for at least one word")
	}
	limit = clampLimit(limit)
	if err := s.indexNow(ctx); err != nil {
		return nil, fmt.Errorf("store: search: index new messages: %w", err)
	}
	var out []app.Message
	err := s.readTx(ctx, func(tx *connTx) error {
		// Newest first by arrival (rowid): FTS5 walks its index backwards
		// and stops at the limit, where sorting by display position would
		// sort every match first.
		q := `SELECT ` + msgCols + ` FROM messages_fts f CROSS JOIN messages m ON m.rid = f.rowid
			WHERE messages_fts MATCH ?`
		args := []any{fq}
		if !conv.IsZero() {
			q += ` AND m.conv = ?`
			args = append(args, conv[:])
		}
		q += ` ORDER BY f.rowid DESC LIMIT ?`
		args = append(args, limit)
		ms, err := queryMsgs(ctx, tx, q, args...)
		if err != nil {
			return fmt.Errorf("store: search: %w", err)
		}
		out, err = s.enrich(ctx, tx, ms)
		if err != nil {
			return fmt.Errorf("store: search: %w", err)
		}
		return nil
	})
	return out, err
}

// UnreadTotal implements app.ViewStore.
func (s *Store) UnreadTotal(ctx context.Context) (int, error) {
	var n int
	err := s.rq.QueryRowContext(ctx, `SELECT coalesce(sum(unread), 0) FROM conversations
		WHERE unread > 0 AND folder = 'primary' AND archived = 0 AND hidden = 0 AND muted_until <= ?`,
		ms(s.now())).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: unread total: %w", err)
	}
	return n, nil
}

// Versions implements app.LogStore. Chains are stored without gaps, so
// the highest stored seq is the highest contiguous one.
func (s *Store) Versions(ctx context.Context, conv app.ConvID) (map[app.PeerKey]uint64, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT author, max(seq) FROM events WHERE conv = ? GROUP BY author`, conv[:])
	if err != nil {
		return nil, fmt.Errorf("store: versions: %w", err)
	}
	defer rows.Close()
	out := map[app.PeerKey]uint64{}
	for rows.Next() {
		var a []byte
		var seq uint64
		if err := rows.Scan(&a, &seq); err != nil {
			return nil, fmt.Errorf("store: versions: %w", err)
		}
		out[key32(a)] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: versions: %w", err)
	}
	return out, nil
}

const eventCols = `id, conv, author, seq, prev, lamport, time, kind, body_hash, header, sig, body`

func scanEvent(sc interface{ Scan(...any) error }) (app.Event, error) {
	var (
		e                          app.Event
		id, conv, author, prev, bh []byte
		tm                         int64
	)
	if err := sc.Scan(&id, &conv, &author, &e.Seq, &prev, &e.Lamport, &tm, &e.Kind, &bh, &e.Header, &e.Sig, &e.Body); err != nil {
		return e, err
	}
	e.ID, e.Conv, e.Author, e.Prev, e.BodyHash = key32(id), key32(conv), key32(author), key32(prev), key32(bh)
	e.Time = fromMs(tm)
	return e, nil
}

// EventsAfter implements app.LogStore.
func (s *Store) EventsAfter(ctx context.Context, conv app.ConvID, author app.PeerKey, after uint64, limit int) ([]app.Event, error) {
	if limit <= 0 {
		limit = defaultLimit
	}
	rows, err := s.rq.QueryContext(ctx, `SELECT `+eventCols+` FROM events WHERE conv = ? AND author = ? AND seq > ?
		ORDER BY seq LIMIT ?`, conv[:], author[:], after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events after: %w", err)
	}
	defer rows.Close()
	var out []app.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("store: events after: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: events after: %w", err)
	}
	return out, nil
}

// Event implements app.LogStore.
func (s *Store) Event(ctx context.Context, id app.EventID) (app.Event, error) {
	e, err := scanEvent(s.rq.QueryRowContext(ctx, `SELECT `+eventCols+` FROM events
		WHERE rid IN `+ridsOf+` AND id = ?1`, id[:]))
	if err != nil {
		return e, notFound("event", err)
	}
	return e, nil
}

// SharedConversations implements app.LogStore.
func (s *Store) SharedConversations(ctx context.Context, peer app.PeerKey) ([]app.ConvID, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT conv FROM member_log WHERE member = ?1
		UNION SELECT id FROM conversations WHERE peer = ?1`, peer[:])
	if err != nil {
		return nil, fmt.Errorf("store: shared conversations: %w", err)
	}
	defer rows.Close()
	var out []app.ConvID
	for rows.Next() {
		var c []byte
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("store: shared conversations: %w", err)
		}
		out = append(out, key32(c))
	}
	return out, rows.Err()
}
