package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kite/app"
)

// wtx is one write transaction with a cache of the conversation rows it
// touches. Conversation summaries are changed in the cache and written
// back once, just before commit.
type wtx struct {
	s     *Store
	ctx   context.Context
	tx    *connTx
	self  app.PeerKey
	now   time.Time
	convs map[app.ConvID]*convRow

	// pending is the event row apply inserts just before the first
	// derived write (or at its end), so that a refused event usually
	// writes nothing; wrote tells whether anything was written since it
	// was last reset.
	pending *app.Incoming
	// maxLamport is the highest lamport inserted per conversation in this
	// transaction; flush folds it into conversations.max_lamport.
	maxLamport map[app.ConvID]uint64
	wrote      bool
	// evID and evRid are the ID and rowid of the last event row inserted:
	// its message row takes the same rid.
	evID  app.EventID
	evRid int64
	// newIDs counts the rows this transaction added to ids_new; merged
	// tells that it moved ids_new into ids.
	newIDs int
	merged bool
	// heads caches the last event of each chain this transaction read
	// or wrote: a batch holds runs of one author's events, and looking
	// the head up once per event was a third of applying it.
	heads map[chainKey]chainHead
	// ftsUpto is the search index's watermark in this transaction and
	// msgTop the newest message rid it inserted, or the newest of all
	// once msgTopExact (see fts.go).
	ftsUpto, msgTop int64
	msgTopExact     bool
}

// chainKey names one author's log in one conversation.
type chainKey struct {
	conv   app.ConvID
	author app.PeerKey
}

// chainHead is the last stored event of a chain; seq 0 when it is empty.
type chainHead struct {
	seq uint64
	id  app.EventID
}

// convRow is the cached part of a conversations row the log updates.
type convRow struct {
	id           app.ConvID
	kind         app.ConvKind
	e2e          bool
	peer         app.PeerKey
	name         string
	namePos      []byte
	theme        string
	themePos     []byte
	disappear    int64
	disappearPos []byte
	clearedPos   []byte
	hidden       bool
	last         *lastMsg
	lastAt       int64
	unread       int
	storedUnread int // unread as the row holds it
	members      int
	selfSeen     []byte // self's seen position, nil if none
	dirty        bool
	// early holds the targets of edits and unsends stored before their
	// target arrived; nil until first needed in this transaction.
	early map[app.EventID]bool
}

// lastMsg is the summary's last visible message.
type lastMsg struct {
	pos    []byte
	author app.PeerKey
	kind   app.Kind
	text   string
	time   int64
	unsent bool
}

// write runs fn in one write transaction and commits it. self, when
// known, is recorded as this device's key.
func (s *Store) write(ctx context.Context, self app.PeerKey, fn func(w *wtx) error) error {
	return s.writeSync(ctx, self, false, fn)
}

// writeSync is write with a choice of durability. This device's own
// events commit with synchronous=FULL, so a crash or power loss never
// makes it reuse a seq (DESIGN.md §3). Everything else commits with
// NORMAL, which in WAL mode survives a crash of Kite and loses at most
// the last commits on power loss: peers resend events that were lost,
// and local state is cheap to redo.
func (s *Store) writeSync(ctx context.Context, self app.PeerKey, full bool, fn func(w *wtx) error) error {
	if self.IsZero() {
		self = s.selfKey()
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if full != s.full {
		mode := "NORMAL"
		if full {
			mode = "FULL"
		}
		if _, err := s.wq.ExecContext(ctx, "PRAGMA synchronous = "+mode); err != nil {
			return fmt.Errorf("store: set synchronous: %w", err)
		}
		s.full = full
	}
	tx, err := begin(ctx, s.w, "BEGIN IMMEDIATE")
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	if err := s.noteSelf(tx, self); err != nil {
		return err
	}
	w := &wtx{s: s, ctx: ctx, tx: tx, self: self, now: s.now(), convs: make(map[app.ConvID]*convRow), ftsUpto: s.ftsUpto}
	if err := fn(w); err != nil {
		return err
	}
	if err := w.flush(); err != nil {
		return err
	}
	if max(w.msgTop, s.msgTop)-w.ftsUpto >= ftsBatch {
		if err := w.indexPending(); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	s.noteFTS(w)
	s.newIDs += w.newIDs
	if w.merged {
		s.newIDs = 0
	}
	s.setSelf(self)
	return nil
}

// mergeIDs moves ids_new into ids once it is large; only Ingest does it,
// so that sending a message never waits for a merge. ids_new is read in
// key order, so the inserts walk ids from one end to the other and each
// of its pages is rewritten once.
func (w *wtx) mergeIDs() error {
	// w.evRid, the last rid inserted, is the number of events stored:
	// rids are dense, as events are never deleted.
	if w.newIDs == 0 || w.s.newIDs+w.newIDs < w.s.mergeIDsAt(w.evRid) {
		return nil
	}
	if _, err := w.exec("merge IDs", `INSERT INTO ids (prefix, rid) SELECT prefix, rid FROM ids_new`); err != nil {
		return err
	}
	if _, err := w.exec("merge IDs", `DELETE FROM ids_new`); err != nil {
		return err
	}
	w.merged = true
	return nil
}

func (w *wtx) exec(op, q string, args ...any) (sql.Result, error) {
	if err := w.insertPending(); err != nil {
		return nil, err
	}
	w.wrote = true
	res, err := w.tx.ExecContext(w.ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	return res, nil
}

// insertPending inserts the pending event row, if any.
func (w *wtx) insertPending() error {
	in := w.pending
	if in == nil {
		return nil
	}
	w.pending = nil
	return w.insertEvent(*in)
}

// conv returns the cached row of id, loading it; ErrNotFound when the
// conversation is unknown.
func (w *wtx) conv(id app.ConvID) (*convRow, error) {
	if c, ok := w.convs[id]; ok {
		return c, nil
	}
	c := &convRow{id: id}
	var (
		peer, lastPos, lastAuthor []byte
		lastKind, lastTime        sql.NullInt64
		lastText                  sql.NullString
		e2e, hidden, lastUnsent   int
	)
	err := w.tx.QueryRowContext(w.ctx, `SELECT kind, e2e, peer, name, name_pos, theme, theme_pos,
			disappear, disappear_pos, cleared_pos, hidden, last_pos, last_author, last_kind,
			last_text, last_time, last_unsent, last_at, unread, members,
			(SELECT pos FROM seen WHERE seen.conv = conversations.id AND seen.member = ?)
		FROM conversations WHERE id = ?`, w.self[:], id[:]).Scan(
		&c.kind, &e2e, &peer, &c.name, &c.namePos, &c.theme, &c.themePos,
		&c.disappear, &c.disappearPos, &c.clearedPos, &hidden, &lastPos, &lastAuthor, &lastKind,
		&lastText, &lastTime, &lastUnsent, &c.lastAt, &c.unread, &c.members, &c.selfSeen)
	if err != nil {
		return nil, notFound("load conversation", err)
	}
	c.storedUnread = c.unread
	c.e2e, c.hidden = e2e != 0, hidden != 0
	c.peer = app.PeerKey(key32(peer))
	if lastPos != nil {
		c.last = &lastMsg{pos: lastPos, author: app.PeerKey(key32(lastAuthor)), kind: app.Kind(lastKind.Int64),
			text: lastText.String, time: lastTime.Int64, unsent: lastUnsent != 0}
	}
	w.convs[id] = c
	return c, nil
}

// flush writes the dirty cached conversation rows.
func (w *wtx) flush() error {
	for _, c := range w.convs {
		if !c.dirty {
			continue
		}
		var lp, la []byte
		var lk, lt any
		var ltext any
		lu := 0
		if c.last != nil {
			lp, la = c.last.pos, c.last.author[:]
			lk, lt, ltext = int64(c.last.kind), c.last.time, c.last.text
			lu = b2i(c.last.unsent)
		}
		// Setting unread, even to what it was, rewrites a page of
		// conversations_unread: sending a message in a read chat
		// leaves it out.
		setUnread, args := "", []any{c.name, c.namePos, c.theme, c.themePos, c.disappear, c.disappearPos,
			c.clearedPos, b2i(c.hidden), lp, la, lk, ltext, lt, lu, c.lastAt}
		if c.unread != c.storedUnread {
			setUnread, args = "unread = ?, ", append(args, c.unread)
		}
		maxLamport := w.maxLamport[c.id]
		delete(w.maxLamport, c.id)
		if _, err := w.exec("update conversation", `UPDATE conversations SET name = ?, name_pos = ?,
				theme = ?, theme_pos = ?, disappear = ?, disappear_pos = ?, cleared_pos = ?, hidden = ?,
				last_pos = ?, last_author = ?, last_kind = ?, last_text = ?, last_time = ?, last_unsent = ?,
				last_at = ?, `+setUnread+`members = ?, max_lamport = max(max_lamport, ?)
			WHERE id = ?`, append(args, c.members, maxLamport, c.id[:])...); err != nil {
			return err
		}
		c.dirty = false
		c.storedUnread = c.unread
	}
	for conv, l := range w.maxLamport {
		if _, err := w.exec("update max lamport", `UPDATE conversations SET max_lamport = max(max_lamport, ?) WHERE id = ?`,
			l, conv[:]); err != nil {
			return err
		}
	}
	clear(w.maxLamport)
	return nil
}

// createConv inserts a new conversation row and caches it.
func (w *wtx) createConv(c *convRow, creator app.PeerKey, folder app.Folder) error {
	var peer, cr any
	if !c.peer.IsZero() {
		peer = c.peer[:]
	}
	if !creator.IsZero() {
		cr = creator[:]
	}
	c.lastAt = ms(w.now)
	if c.clearedPos == nil {
		c.clearedPos = []byte{}
	}
	if _, err := w.exec("create conversation", `INSERT INTO conversations
			(id, kind, e2e, name, name_pos, peer, creator, created_at, folder, last_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.id[:], int(c.kind), b2i(c.e2e), c.name, c.namePos, peer, cr, ms(w.now), string(folder), c.lastAt); err != nil {
		return err
	}
	w.convs[c.id] = c
	return nil
}

// Append implements app.LogStore.
func (s *Store) Append(ctx context.Context, self app.PeerKey, d app.Draft, sign func(app.Position) (app.Event, error)) (app.Event, error) {
	if self.IsZero() {
		return app.Event{}, fmt.Errorf("store: append: %w", app.ErrNoIdentity)
	}
	var out app.Event
	err := s.writeSync(ctx, self, true, func(w *wtx) error {
		if _, err := w.conv(d.Conv); err != nil && !(errors.Is(err, app.ErrNotFound) && d.Kind == app.KindGroupCreate) {
			return fmt.Errorf("store: append: %w", err)
		}
		last, err := w.head(d.Conv, self)
		if err != nil {
			return fmt.Errorf("store: append: last own event: %w", err)
		}
		pos := app.Position{Seq: last.seq + 1}
		if last.seq > 0 {
			pos.Prev = last.id
		}
		var maxLamport uint64
		if err := w.tx.QueryRowContext(ctx, `SELECT coalesce((SELECT max_lamport FROM conversations WHERE id = ?), 0)`,
			d.Conv[:]).Scan(&maxLamport); err != nil {
			return fmt.Errorf("store: append: lamport: %w", err)
		}
		pos.Lamport = maxLamport + 1
		ev, err := sign(pos)
		if err != nil {
			return fmt.Errorf("store: append: sign: %w", err)
		}
		if ev.Conv != d.Conv || ev.Author != self || ev.Seq != pos.Seq || ev.Prev != pos.Prev ||
			ev.Lamport != pos.Lamport || ev.Kind != d.Kind {
			return fmt.Errorf("store: append: %w: signed event does not match its draft and position", app.ErrInvalid)
		}
		if err := w.apply(app.Incoming{Event: ev, Body: d.Body, Path: app.PathLocal}); err != nil {
			return fmt.Errorf("store: append: %w", err)
		}
		out = ev
		return nil
	})
	if err != nil {
		return app.Event{}, err
	}
	return out, nil
}

// domainErr reports whether err is a verdict on one event (kept in its
// Outcome) rather than a failure of the database.
func domainErr(err error) bool {
	for _, s := range []error{app.ErrDuplicate, app.ErrFork, app.ErrMissing, app.ErrNotMember,
		app.ErrNotAdmin, app.ErrNotAuthor, app.ErrNotFound, app.ErrBadEvent, app.ErrInvalid,
		app.ErrTooLarge} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// Ingest implements app.LogStore: the batch is one transaction; each
// event runs under its own savepoint so a refused event leaves no trace
// and does not abort the others.
func (s *Store) Ingest(ctx context.Context, self app.PeerKey, evs []app.Incoming) ([]app.Outcome, error) {
	out := make([]app.Outcome, len(evs))
	if len(evs) == 0 {
		return out, nil
	}
	// Fast path: apply checks everything it can before writing, so a
	// refused event normally leaves nothing to undo and needs no
	// savepoint (a savepoint per event costs about as much as the event).
	// If an event is refused after it wrote, the whole batch is redone
	// with a savepoint around every event.
	err := s.write(ctx, self, func(w *wtx) error { return w.ingest(evs, out, false) })
	if errors.Is(err, errNeedSavepoints) {
		err = s.write(ctx, self, func(w *wtx) error { return w.ingest(evs, out, true) })
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// errNeedSavepoints asks Ingest to redo a batch with savepoints.
var errNeedSavepoints = errors.New("store: event refused after writing")

// ingest applies evs in order, recording outcomes in out.
func (w *wtx) ingest(evs []app.Incoming, out []app.Outcome, savepoints bool) error {
	for i, in := range evs {
		out[i] = app.Outcome{ID: in.Event.ID}
		if err := w.ctx.Err(); err != nil {
			return err
		}
		if savepoints {
			if _, err := w.exec("savepoint", `SAVEPOINT ev`); err != nil {
				return err
			}
		}
		var snap *convRow
		if c, ok := w.convs[in.Event.Conv]; ok {
			cp := *c
			snap = &cp
		}
		key := chainKey{in.Event.Conv, in.Event.Author}
		head, cachedHead := w.heads[key]
		w.wrote = false
		err := w.apply(in)
		if err != nil {
			if !domainErr(err) {
				return err
			}
			if !savepoints && w.wrote {
				return errNeedSavepoints
			}
			out[i].Err = err
			if savepoints {
				if _, err := w.exec("rollback to savepoint", `ROLLBACK TO ev`); err != nil {
					return err
				}
			}
			if snap != nil {
				w.convs[in.Event.Conv] = snap
			} else {
				delete(w.convs, in.Event.Conv)
			}
			if cachedHead {
				w.heads[key] = head
			} else {
				delete(w.heads, key)
			}
			var fe *forkError
			if errors.As(out[i].Err, &fe) {
				if _, err := w.exec("record fork", `INSERT OR IGNORE INTO forks
						(conv, author, seq, first_id, other_id, at) VALUES (?, ?, ?, ?, ?, ?)`,
					fe.conv[:], fe.author[:], fe.seq, fe.first[:], fe.other[:], ms(w.now)); err != nil {
					return err
				}
			}
		}
		if savepoints {
			if _, err := w.exec("release savepoint", `RELEASE ev`); err != nil {
				return err
			}
		}
	}
	return w.mergeIDs()
}

// apply checks one event against the chain and the rules and stores it
// with its effects.
func (w *wtx) apply(in app.Incoming) error {
	ev := in.Event
	if !ev.Kind.Valid() || ev.Seq == 0 || ev.Lamport == 0 {
		return fmt.Errorf("%w: kind %v seq %d lamport %d", app.ErrBadEvent, ev.Kind, ev.Seq, ev.Lamport)
	}
	body := in.Body
	if body != nil {
		switch k := app.BodyKind(body); {
		case k == 0:
			body = nil // sealed and not opened here: treat as unreadable
		case k != ev.Kind:
			return fmt.Errorf("%w: body is %v, header says %v", app.ErrBadEvent, k, ev.Kind)
		}
	}

	// The author's chain.
	last, err := w.head(ev.Conv, ev.Author)
	if err != nil {
		return err
	}
	lastSeq, lastID := last.seq, last.id[:]
	if ev.Seq <= lastSeq {
		var have []byte
		if ev.Seq != lastSeq {
			if err := w.tx.QueryRowContext(w.ctx, `SELECT id FROM events WHERE conv = ? AND author = ? AND seq = ?`,
				ev.Conv[:], ev.Author[:], ev.Seq).Scan(&have); err != nil {
				return fmt.Errorf("store: chain: %w", err)
			}
		} else {
			have = lastID
		}
		if bytes.Equal(have, ev.ID[:]) {
			return fmt.Errorf("event %s: %w", ev.ID.Short(), app.ErrDuplicate)
		}
		// Recorded outside the event's savepoint effects: the caller
		// rolls back, so record it after, see recordFork.
		return &forkError{conv: ev.Conv, author: ev.Author, seq: ev.Seq, first: key32(have), other: ev.ID}
	}
	if ev.Seq != lastSeq+1 || (ev.Seq > 1 && !bytes.Equal(ev.Prev[:], lastID)) {
		return fmt.Errorf("event %s at seq %d after %d: %w", ev.ID.Short(), ev.Seq, lastSeq, app.ErrMissing)
	}

	// The conversation.
	c, err := w.conv(ev.Conv)
	switch {
	case errors.Is(err, app.ErrNotFound):
		c, err = w.createFor(ev, body)
		if err != nil {
			return err
		}
	case err != nil:
		return err
	case ev.Kind == app.KindGroupCreate:
		return fmt.Errorf("%w: group %s already exists", app.ErrInvalid, ev.Conv)
	}

	w.pending = &in
	defer func() { w.pending = nil }()
	if err := w.effects(c, ev, body, in); err != nil {
		return err
	}
	if w.pending != nil {
		w.pending = nil
		return w.insertEvent(in)
	}
	return nil
}

// head returns the last stored event of author's chain in conv.
func (w *wtx) head(conv app.ConvID, author app.PeerKey) (chainHead, error) {
	key := chainKey{conv, author}
	if h, ok := w.heads[key]; ok {
		return h, nil
	}
	var h chainHead
	var id []byte
	err := w.tx.QueryRowContext(w.ctx, `SELECT seq, id FROM events WHERE conv = ? AND author = ?
		ORDER BY seq DESC LIMIT 1`, conv[:], author[:]).Scan(&h.seq, &id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return chainHead{}, fmt.Errorf("store: chain: %w", err)
	}
	h.id = app.EventID(key32(id))
	w.setHead(key, h)
	return h, nil
}

func (w *wtx) setHead(key chainKey, h chainHead) {
	if w.heads == nil {
		w.heads = make(map[chainKey]chainHead)
	}
	w.heads[key] = h
}

// forkError is ErrFork with what recordFork needs.
type forkError struct {
	conv         app.ConvID
	author       app.PeerKey
	seq          uint64
	first, other [32]byte
}

func (e *forkError) Error() string {
	return fmt.Sprintf("%v: %s seq %d in %s", app.ErrFork, app.PeerKey(e.author), e.seq, app.ConvID(e.conv))
}
func (e *forkError) Unwrap() error { return app.ErrFork }

func (w *wtx) insertEvent(in app.Incoming) error {
	w.wrote = true
	ev := in.Event
	if ev.Lamport > w.maxLamport[ev.Conv] {
		if w.maxLamport == nil {
			w.maxLamport = make(map[app.ConvID]uint64)
		}
		w.maxLamport[ev.Conv] = ev.Lamport
	}
	var prev, via, body any
	if ev.Seq > 1 {
		prev = ev.Prev[:]
	}
	if !in.Via.IsZero() {
		via = in.Via[:]
	}
	if ev.Body != nil {
		body = ev.Body
	}
	path := in.Path
	if path == "" {
		path = app.PathWAN
	}
	res, err := w.exec("insert event", `INSERT INTO events (id, conv, author, seq, prev, lamport, time, kind,
			body_hash, header, sig, body, path, via, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.ID[:], ev.Conv[:], ev.Author[:], ev.Seq, prev, ev.Lamport, ev.Time.UnixMilli(), int(ev.Kind),
		ev.BodyHash[:], ev.Header, ev.Sig, body, string(path), via, ms(w.now))
	if err != nil {
		return err
	}
	rid, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("store: insert event: %w", err)
	}
	if _, err := w.exec("insert event ID", `INSERT INTO ids_new (prefix, rid) VALUES (?, ?)`, ev.ID[:8], rid); err != nil {
		return err
	}
	w.newIDs++
	w.evID, w.evRid = ev.ID, rid
	w.setHead(chainKey{ev.Conv, ev.Author}, chainHead{seq: ev.Seq, id: ev.ID})
	return nil
}

// eventRid inserts ev's row if it is still pending and returns its rid.
func (w *wtx) eventRid(ev app.Event) (int64, error) {
	if err := w.insertPending(); err != nil {
		return 0, err
	}
	if w.evID != ev.ID {
		return 0, fmt.Errorf("store: event %s has no row in this transaction", ev.ID.Short())
	}
	return w.evRid, nil
}

// createFor creates the conversation an event is the first of, or
// refuses with ErrNotFound.
func (w *wtx) createFor(ev app.Event, body *pbBody) (*convRow, error) {
	if ev.Kind == app.KindGroupCreate && ev.Seq == 1 {
		return w.createGroup(ev, body)
	}
	for _, e2e := range []bool{false, true} {
		if ev.Author == w.self || w.self.IsZero() || ev.Conv != app.DirectConvID(w.self, ev.Author, e2e) {
			continue
		}
		var contact int
		err := w.tx.QueryRowContext(w.ctx, `SELECT contact FROM people WHERE key = ?`, ev.Author[:]).Scan(&contact)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("store: read person: %w", err)
		}
		folder := app.Requests
		if contact != 0 {
			folder = app.Primary
		}
		return w.createDirect(ev.Conv, ev.Author, e2e, folder)
	}
	return nil, fmt.Errorf("conversation %s: %w", ev.Conv, app.ErrNotFound)
}

func (w *wtx) createDirect(id app.ConvID, peer app.PeerKey, e2e bool, folder app.Folder) (*convRow, error) {
	c := &convRow{id: id, kind: app.Direct, e2e: e2e, peer: peer, members: 2}
	if err := w.createConv(c, app.PeerKey{}, folder); err != nil {
		return nil, err
	}
	for _, m := range []app.PeerKey{w.self, peer} {
		if _, err := w.exec("insert member", `INSERT OR IGNORE INTO members (conv, member, admin) VALUES (?, ?, 0)`,
			id[:], m[:]); err != nil {
			return nil, err
		}
	}
	c.dirty = true
	return c, nil
}

// MaxMembers is the largest group.
const MaxMembers = 250

func (w *wtx) createGroup(ev app.Event, body *pbBody) (*convRow, error) {
	gc := body.GetGroupCreate()
	if gc == nil {
		return nil, fmt.Errorf("%w: group create without a readable body", app.ErrBadEvent)
	}
	members := []app.PeerKey{ev.Author}
	seen := map[app.PeerKey]bool{ev.Author: true}
	for _, b := range gc.GetMembers() {
		if len(b) != 32 {
			return nil, fmt.Errorf("%w: member key of %d bytes", app.ErrBadEvent, len(b))
		}
		k := app.PeerKey(key32(b))
		if !seen[k] {
			seen[k] = true
			members = append(members, k)
		}
	}
	if len(members) > MaxMembers {
		return nil, fmt.Errorf("%w: %d members, at most %d", app.ErrTooLarge, len(members), MaxMembers)
	}
	pos := evPos(ev)
	c := &convRow{id: ev.Conv, kind: app.Group, e2e: gc.GetE2E(), name: gc.GetName(), namePos: pos}
	if err := w.createConv(c, ev.Author, app.Primary); err != nil {
		return nil, err
	}
	for i, m := range members {
		action, admin := "join", 0
		if i == 0 {
			action, admin = "admin", 1
		}
		if _, err := w.exec("insert member log", `INSERT INTO member_log (conv, member, pos, action, event)
			VALUES (?, ?, ?, ?, ?)`, ev.Conv[:], m[:], pos, action, ev.ID[:]); err != nil {
			return nil, err
		}
		if _, err := w.exec("insert member", `INSERT INTO members (conv, member, admin) VALUES (?, ?, ?)`,
			ev.Conv[:], m[:], admin); err != nil {
			return nil, err
		}
	}
	c.members = len(members)
	c.dirty = true
	return c, nil
}
