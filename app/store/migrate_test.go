package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"kite/app"
)

// v0003 writes rows the way the code of schema 0003 did, into a database
// migrated only that far.
type v0003 struct {
	t  *testing.T
	db *sql.DB
}

func openV0003(t *testing.T, path string) *v0003 {
	t.Helper()
	db, err := sql.Open(driverName, path+"?_foreign_keys=on&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:3] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatalf("migration %s: %v", m.name, err)
		}
	}
	if _, err := db.Exec(`PRAGMA user_version = 3`); err != nil {
		t.Fatal(err)
	}
	return &v0003{t: t, db: db}
}

func (o *v0003) exec(q string, args ...any) sql.Result {
	o.t.Helper()
	res, err := o.db.Exec(q, args...)
	if err != nil {
		o.t.Fatalf("%.50s…: %v", q, err)
	}
	return res
}

// event inserts the events row of in.
func (o *v0003) event(in app.Incoming) {
	o.t.Helper()
	ev := in.Event
	var prev any
	if ev.Seq > 1 {
		prev = ev.Prev[:]
	}
	o.exec(`INSERT INTO events (id, conv, author, seq, prev, lamport, time, kind, body_hash, header, sig, body,
			path, via, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
		ev.ID[:], ev.Conv[:], ev.Author[:], ev.Seq, prev, ev.Lamport, ev.Time.UnixMilli(), int(ev.Kind),
		ev.BodyHash[:], ev.Header, ev.Sig, ev.Body, string(in.Path), ms(t0))
}

// text inserts a text event with its message row (showing shown, which
// differs from the body once edited) and search entry; it returns the
// message's rid.
func (o *v0003) text(in app.Incoming, shown string, editPos []byte) int64 {
	o.t.Helper()
	o.event(in)
	ev := in.Event
	res := o.exec(`INSERT INTO messages (id, conv, author, seq, lamport, pos, time, kind, text, search, preview,
			edited, edit_pos, path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.ID[:], ev.Conv[:], ev.Author[:], ev.Seq, ev.Lamport, evPos(ev), ev.Time.UnixMilli(), int(ev.Kind),
		shown, shown, shorten(shown), b2i(editPos != nil), editPos, string(in.Path))
	rid, err := res.LastInsertId()
	if err != nil {
		o.t.Fatal(err)
	}
	o.exec(`INSERT INTO messages_fts (rowid, text) VALUES (?, ?)`, rid, shown)
	return rid
}

// TestMigrateFrom0003 opens a database written at schema 0003, whose
// message rids differ from their events' rowids (a reaction and an edit
// sit between the messages), and checks that the logs, messages,
// reactions, edits and search index come through and that the logs go
// on.
func TestMigrateFrom0003(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kite.db")
	o := openV0003(t, path)
	me, bob := newPeer(1), newPeer(2)
	conv := app.DirectConvID(me.key, bob.key, false)

	hello := bob.ev(t, conv, 1, text("hello kite"))
	like := me.ev(t, conv, 2, react(hello.Event.ID, "👍"))
	second := bob.ev(t, conv, 3, text("second draft"))
	fix := bob.ev(t, conv, 4, edit(second.Event.ID, "second version"))
	reply := me.ev(t, conv, 5, text("my reply"))
	all := []app.Incoming{hello, like, second, fix, reply}

	selfJSON, _ := json.Marshal(me.key)
	o.exec(`INSERT INTO settings (key, value) VALUES ('self', ?)`, string(selfJSON))
	o.exec(`INSERT INTO conversations (id, kind, peer, created_at, last_pos, last_author, last_kind, last_text,
			last_time, last_at, unread, members, max_lamport) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 2, 5)`,
		conv[:], int(app.Direct), bob.key[:], ms(t0), evPos(reply.Event), me.key[:], int(app.KindText), "my reply",
		reply.Event.Time.UnixMilli(), reply.Event.Time.UnixMilli())
	for _, m := range []app.PeerKey{me.key, bob.key} {
		o.exec(`INSERT INTO members (conv, member, admin) VALUES (?, ?, 0)`, conv[:], m[:])
	}
	rids := []int64{o.text(hello, "hello kite", nil)}
	o.event(like)
	o.exec(`INSERT INTO reactions (target, author, conv, emoji, pos) VALUES (?, ?, ?, ?, ?)`,
		hello.Event.ID[:], me.key[:], conv[:], "👍", evPos(like.Event))
	rids = append(rids, o.text(second, "second version", evPos(fix.Event)))
	o.event(fix)
	o.exec(`INSERT INTO edits (target, pos, conv, author, text) VALUES (?, ?, ?, ?, ?)`,
		second.Event.ID[:], evPos(fix.Event), conv[:], bob.key[:], "second version")
	rids = append(rids, o.text(reply, "my reply", nil))
	if !slices.Equal(rids, []int64{1, 2, 3}) {
		t.Fatalf("0003 message rids: got %v, want [1 2 3]", rids)
	}
	// Bob acked my reply (my second event), which became a watermark.
	o.exec(`INSERT INTO delivered (event, peer, at) VALUES (?, ?, ?)`, reply.Event.ID[:], bob.key[:], ms(t0))
	if err := o.db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatalf("open a 0003 database: %v", err)
	}
	defer s.Close()

	var v int
	if err := s.r.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if ms, _ := migrations(); v != len(ms) {
		t.Errorf("user_version: got %d, want %d", v, len(ms))
	}
	for _, check := range []string{`PRAGMA integrity_check`, `PRAGMA foreign_key_check`} {
		rows, err := s.r.Query(check)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var a, b, c, d sql.NullString
			if check == `PRAGMA integrity_check` {
				rows.Scan(&a)
			} else {
				rows.Scan(&a, &b, &c, &d)
			}
			got = append(got, a.String+" "+b.String+" "+c.String)
		}
		rows.Close()
		if want := map[bool][]string{true: {"ok  "}, false: nil}[check == `PRAGMA integrity_check`]; !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", check, got, want)
		}
	}
	// No index keyed by the whole ID is left; ids holds every event.
	var idx []string
	rows, err := s.r.Query(`SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ('events', 'messages')
		ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		idx = append(idx, n)
	}
	rows.Close()
	if want := []string{"events_chain", "messages_expiry", "messages_pos"}; !slices.Equal(idx, want) {
		t.Errorf("indexes on events and messages: got %q, want %q", idx, want)
	}
	var inIDs, unmatched int
	if err := s.r.QueryRow(`SELECT count(*), sum(e.rid IS NULL) FROM ids
		LEFT JOIN events e ON e.rid = ids.rid AND substr(e.id, 1, 8) = ids.prefix`).Scan(&inIDs, &unmatched); err != nil {
		t.Fatal(err)
	}
	if inIDs != len(all) || unmatched != 0 {
		t.Errorf("ids after migration: got %d rows (%d not matching their event), want %d", inIDs, unmatched, len(all))
	}

	// The logs: every event as it was signed, the chains in order.
	for _, in := range all {
		ev, err := s.Event(ctx, in.Event.ID)
		if err != nil {
			t.Fatalf("event %v: %v", in.Event.Kind, err)
		}
		if string(ev.Header) != string(in.Event.Header) || string(ev.Sig) != string(in.Event.Sig) ||
			string(ev.Body) != string(in.Event.Body) || ev.Seq != in.Event.Seq || ev.Lamport != in.Event.Lamport {
			t.Errorf("event %v changed in the migration", in.Event.Kind)
		}
	}
	evs, err := s.EventsAfter(ctx, conv, bob.key, 0, 10)
	if err != nil || len(evs) != 3 || evs[0].ID != hello.Event.ID || evs[2].ID != fix.Event.ID {
		t.Fatalf("bob's log: got %d events (%v), want hello, second, edit", len(evs), err)
	}

	// The derived tables.
	msgs, err := s.Messages(ctx, conv, app.Cursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range msgs {
		texts = append(texts, m.Text)
	}
	if want := []string{"hello kite", "second version", "my reply"}; !slices.Equal(texts, want) {
		t.Fatalf("messages: got %q, want %q", texts, want)
	}
	if emojis(msgs[0]) != "👍" || !msgs[1].Edited {
		t.Errorf("got reaction %q and edited=%v, want 👍 and true", emojis(msgs[0]), msgs[1].Edited)
	}
	var upTo int
	if err := s.r.QueryRow(`SELECT seq FROM delivered_upto WHERE conv = ? AND peer = ?`, conv[:], bob.key[:]).Scan(&upTo); err != nil || upTo != int(reply.Event.Seq) {
		t.Errorf("delivered to bob after migration: up to %d (%v), want %d", upTo, err, reply.Event.Seq)
	}
	if m := mustMessage(t, s, reply.Event.ID); m.Status != app.StatusDelivered {
		t.Errorf("my reply after migration: %s, want delivered", m.Status)
	}
	if m := mustMessage(t, s, second.Event.ID); m.Text != "second version" {
		t.Errorf("Message(second): got %q, want \"second version\"", m.Text)
	}
	if _, err := s.Message(ctx, like.Event.ID); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("Message(a reaction): got %v, want ErrNotFound", err)
	}
	if id, err := s.MessageByPrefix(ctx, reply.Event.ID.String()[:12]); err != nil || id != reply.Event.ID {
		t.Errorf("MessageByPrefix: got %s, %v; want the reply", id.Short(), err)
	}
	for q, want := range map[string]app.EventID{"kite": hello.Event.ID, "version": second.Event.ID, "reply": reply.Event.ID} {
		r, err := s.Search(ctx, q, app.ConvID{}, 10)
		if err != nil || len(r) != 1 || r[0].ID != want {
			t.Errorf("search %q after migration: got %d results (%v), want one", q, len(r), err)
		}
	}
	if r, _ := s.Search(ctx, "draft", app.ConvID{}, 10); len(r) != 0 {
		t.Errorf("search for the edited-away word: got %d, want 0", len(r))
	}

	// Text messages no longer repeat their text as search and preview,
	// and the inbox line is still found when it has to be recomputed.
	var repeated int
	if err := s.r.QueryRow(`SELECT count(*) FROM messages WHERE search IS NOT NULL OR preview IS NOT NULL`).Scan(&repeated); err != nil {
		t.Fatal(err)
	}
	if repeated != 0 {
		t.Errorf("text messages with search or preview after migration: got %d, want 0", repeated)
	}
	if err := s.DeleteForMe(ctx, reply.Event.ID); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Conversation(ctx, conv); err != nil || c.Last == nil || c.Last.Text != "second version" {
		t.Errorf("inbox line after deleting the last message: got %+v (%v), want \"second version\"", c.Last, err)
	}

	// The logs go on: bob's chain continues, targets resolve, and a new
	// message sorts as the newest arrival.
	more := bob.ev(t, conv, 6, text("hello again"))
	mustIngest(t, s, me, more, bob.ev(t, conv, 7, react(reply.Event.ID, "❤️")), bob.ev(t, conv, 8, unsend(hello.Event.ID)))
	r, err := s.Search(ctx, "hello", app.ConvID{}, 10)
	if err != nil || len(r) != 1 || r[0].ID != more.Event.ID {
		t.Errorf("search hello after new events: got %d results (%v), want only the new one", len(r), err)
	}
	if m := mustMessage(t, s, reply.Event.ID); emojis(m) != "❤️" {
		t.Errorf("reaction on a migrated message: got %q, want ❤️", emojis(m))
	}
	if m := mustMessage(t, s, hello.Event.ID); !m.Unsent || m.Text != "" || len(m.Reactions) != 0 {
		t.Errorf("unsent migrated message: got %+v, want purged", m)
	}
	if ev, err := s.Event(ctx, hello.Event.ID); err != nil || ev.Body != nil {
		t.Errorf("unsent body: got %d bytes (%v), want purged", len(ev.Body), err)
	}
}
