package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"kite/app"
	"kite/app/pb"
)

func TestMigrationsApplyAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kite.db")
	s, me, _, conv := directAt(t, path)
	if _, err := appendBody(t, s, me, conv, text("hello")); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	var v int
	if err := s.r.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	ms, _ := migrations()
	if v != len(ms) {
		t.Errorf("user_version: got %d, want %d", v, len(ms))
	}
	var mode string
	if err := s.w.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode: got %q (%v), want wal", mode, err)
	}
	var fk, sync int
	s.w.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	s.w.QueryRow(`PRAGMA synchronous`).Scan(&sync)
	if fk != 1 || sync != 1 {
		t.Errorf("writer pragmas: got foreign_keys=%d synchronous=%d, want 1 and 1 (NORMAL)", fk, sync)
	}
	// Own events commit with FULL: the writer runs it right after Append.
	if _, err := appendBody(t, s, me, randConv(), create("g", me, newPeer(91))); err != nil {
		t.Fatal(err)
	}
	s.w.QueryRow(`PRAGMA synchronous`).Scan(&sync)
	if sync != 2 {
		t.Errorf("after Append: synchronous=%d, want 2 (FULL)", sync)
	}
	if _, err := s.r.Exec(`INSERT INTO settings (key, value) VALUES ('x', '1')`); err == nil {
		t.Errorf("read pool accepted a write; want query_only")
	}
	if got := s.selfKey(); got != me.key {
		t.Errorf("self after reopen: got %s, want %s", got, me.key)
	}
	msgs, err := s.Messages(ctx, conv, app.Cursor{}, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Text != "hello" {
		t.Fatalf("messages after reopen: got %+v, %v; want one \"hello\"", msgs, err)
	}
}

func TestAppendPositions(t *testing.T) {
	s := openStore(t)
	me, bob := newPeer(1), newPeer(2)
	conv, _ := s.CreateDirect(ctx, me.key, bob.key, false, app.Primary)
	e1, err := appendBody(t, s, me, conv, text("one"))
	if err != nil {
		t.Fatal(err)
	}
	mustIngest(t, s, me, bob.ev(t, conv, 7, text("bob")))
	e2, err := appendBody(t, s, me, conv, text("two"))
	if err != nil {
		t.Fatal(err)
	}
	if e1.Seq != 1 || e1.Lamport != 1 || !e1.Prev.IsZero() {
		t.Errorf("first append: got seq %d lamport %d prev %v, want 1 1 zero", e1.Seq, e1.Lamport, e1.Prev)
	}
	if e2.Seq != 2 || e2.Prev != e1.ID || e2.Lamport != 8 {
		t.Errorf("second append: got seq %d lamport %d, want seq 2 lamport 8 prev = first", e2.Seq, e2.Lamport)
	}
	got, err := s.Event(ctx, e2.ID)
	if err != nil || got.ID != e2.ID || string(got.Header) != string(e2.Header) || string(got.Body) != string(e2.Body) {
		t.Errorf("Event: got %+v, %v; want the appended event", got, err)
	}
	if _, err := app.ParseHeader(got.Header, got.Sig); err != nil {
		t.Errorf("stored header does not verify: %v", err)
	}
	// Editing someone else's message is refused in Append too, and
	// leaves no trace.
	_, err = appendBody(t, s, me, conv, edit(s.mustLast(t, conv, bob.key), "mine now"))
	wantErr(t, "edit of another's message", err, app.ErrNotAuthor)
	v, _ := s.Versions(ctx, conv)
	if v[me.key] != 2 || v[bob.key] != 1 {
		t.Errorf("versions: got %v, want me 2, bob 1", v)
	}
	// Unknown conversation.
	_, err = appendBody(t, s, me, randConv(), text("x"))
	wantErr(t, "append to unknown conversation", err, app.ErrNotFound)
}

// mustLast is the ID of author's last message in conv.
func (s *Store) mustLast(t testing.TB, conv app.ConvID, author app.PeerKey) app.EventID {
	t.Helper()
	var id []byte
	if err := s.r.QueryRow(`SELECT id FROM messages WHERE conv = ? AND author = ? ORDER BY pos DESC LIMIT 1`,
		conv[:], author[:]).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return key32(id)
}

// TestChainRules runs one batch through every chain case, twice: the
// second time the batch also holds an event refused after it wrote, so
// Ingest redoes it with a savepoint per event (and the chain heads it
// caches must follow the rollbacks).
func TestChainRules(t *testing.T) {
	for _, savepoints := range []bool{false, true} {
		t.Run(fmt.Sprintf("savepoints %v", savepoints), func(t *testing.T) { testChainRules(t, savepoints) })
	}
}

func testChainRules(t *testing.T, savepoints bool) {
	s := openStore(t)
	me, bob, carol := newPeer(1), newPeer(2), newPeer(3)
	conv := app.DirectConvID(me.key, bob.key, false)
	e1 := bob.ev(t, conv, 1, text("one"))
	e2 := bob.ev(t, conv, 2, text("two"))
	e3 := bob.ev(t, conv, 3, text("three"))
	fork2 := bob.at(t, conv, app.Position{Seq: 2, Prev: e1.Event.ID, Lamport: 2}, text("other two"))
	badPrev := bob.at(t, conv, app.Position{Seq: 2, Prev: e3.Event.ID, Lamport: 2}, text("bad prev"))
	badVote := bob.at(t, conv, app.Position{Seq: 4, Prev: e3.Event.ID, Lamport: 4}, vote(e1.Event.ID, 0))
	e4 := bob.at(t, conv, app.Position{Seq: 4, Prev: e3.Event.ID, Lamport: 4}, text("four"))
	e5 := bob.at(t, conv, app.Position{Seq: 5, Prev: e4.Event.ID, Lamport: 5}, text("five"))

	batch := []app.Incoming{e2, e1, e1, badPrev, e2, fork2, e3, badVote, e4, e5}
	want := []error{app.ErrMissing, nil, app.ErrDuplicate, app.ErrMissing, nil, app.ErrFork, nil, app.ErrInvalid, nil, nil}
	if savepoints {
		// A rename cannot create a 1:1: refused after creating it.
		batch = append([]app.Incoming{carol.ev(t, app.DirectConvID(me.key, carol.key, false), 1, rename("x"))}, batch...)
		want = append([]error{app.ErrInvalid}, want...)
	}
	errs := ingest(t, s, me, batch...)
	for i, w := range want {
		wantErr(t, fmt.Sprintf("event %d", i), errs[i], w)
	}
	got, err := s.Event(ctx, e2.Event.ID)
	if err != nil || got.ID != e2.Event.ID {
		t.Errorf("after fork: got %v, want the first event at seq 2 kept", err)
	}
	if _, err := s.Event(ctx, fork2.Event.ID); err == nil {
		t.Errorf("fork: the second event was stored")
	}
	var n int
	s.r.QueryRow(`SELECT count(*) FROM forks WHERE author = ? AND seq = 2 AND other_id = ?`, bob.key[:], fork2.Event.ID[:]).Scan(&n)
	if n != 1 {
		t.Errorf("forks recorded: got %d, want 1", n)
	}
	evs, err := s.EventsAfter(ctx, conv, bob.key, 1, 10)
	if err != nil || len(evs) != 4 || evs[0].Seq != 2 || evs[1].Seq != 3 || evs[2].ID != e4.Event.ID || evs[3].Seq != 5 {
		t.Errorf("EventsAfter: got %d events, %v; want seqs 2 to 5 with the text at 4", len(evs), err)
	}
}

func TestUnknownConversationRefused(t *testing.T) {
	s := openStore(t)
	me, bob := newPeer(1), newPeer(2)
	for _, in := range []app.Incoming{
		bob.ev(t, randConv(), 1, text("hi")),
		bob.ev(t, app.DirectConvID(bob.key, newPeer(3).key, false), 1, text("not for me")),
	} {
		errs := ingest(t, s, me, in)
		wantErr(t, "unknown conversation", errs[0], app.ErrNotFound)
	}
	if cs, _ := s.Inbox(ctx, app.InboxQuery{Folder: app.Requests}); len(cs) != 0 {
		t.Errorf("inbox: got %d conversations, want 0", len(cs))
	}
}

func TestDirectCreation(t *testing.T) {
	s := openStore(t)
	me, stranger, friend := newPeer(1), newPeer(2), newPeer(3)
	if _, err := s.PutPerson(ctx, friend.key, func(p *app.Person) { p.Contact = true; p.Name = "Friend" }); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from   *peer
		e2e    bool
		folder app.Folder
		title  string
	}{
		{stranger, false, app.Requests, stranger.key.String()[:16] + "…"},
		{friend, true, app.Primary, "Friend"},
	}
	for _, tt := range tests {
		conv := app.DirectConvID(me.key, tt.from.key, tt.e2e)
		mustIngest(t, s, me, tt.from.ev(t, conv, 1, text("hi")))
		c, err := s.Conversation(ctx, conv)
		if err != nil {
			t.Fatal(err)
		}
		if c.Folder != tt.folder || c.E2E != tt.e2e || c.Kind != app.Direct || c.Peer != tt.from.key ||
			c.Title != tt.title || c.Members != 2 || c.Unread != 1 {
			t.Errorf("conversation: got folder %s e2e %v kind %v title %q members %d unread %d, want %s %v direct %q 2 1",
				c.Folder, c.E2E, c.Kind, c.Title, c.Members, c.Unread, tt.folder, tt.e2e, tt.title)
		}
		ms, _ := s.Members(ctx, conv)
		if len(ms) != 2 {
			t.Errorf("members: got %d, want 2", len(ms))
		}
	}
	// CreateDirect is idempotent and keeps the folder.
	conv := app.DirectConvID(me.key, stranger.key, false)
	got, err := s.CreateDirect(ctx, me.key, stranger.key, false, app.Primary)
	if err != nil || got != conv {
		t.Fatalf("CreateDirect: got %v, %v", got, err)
	}
	if c, _ := s.Conversation(ctx, conv); c.Folder != app.Requests {
		t.Errorf("CreateDirect changed the folder to %s", c.Folder)
	}
	// Group ops other than theme and disappearing are refused in a 1:1.
	for _, st := range []struct {
		name string
		body *pb.Body
		want error
	}{
		{"rename in 1:1", rename("x"), app.ErrInvalid},
		{"add in 1:1", add(newPeer(9)), app.ErrInvalid},
		{"leave in 1:1", leave(), app.ErrInvalid},
		{"disappearing in 1:1", disappear(30), nil},
	} {
		errs := ingest(t, s, me, stranger.ev(t, conv, 5, st.body))
		wantErr(t, st.name, errs[0], st.want)
	}
	// A third party cannot post in a 1:1.
	intruder := newPeer(7)
	errs := ingest(t, s, me, intruder.ev(t, conv, 9, text("let me in")))
	wantErr(t, "stranger in 1:1", errs[0], app.ErrNotMember)
}

func TestGroupOps(t *testing.T) {
	me, a, b, c, d, e := newPeer(1), newPeer(2), newPeer(3), newPeer(4), newPeer(5), newPeer(6)
	s := openStore(t)
	conv := group(t, s, me, a, me, b, c) // a admin; me, b, c members

	steps := []struct {
		name    string
		p       *peer
		lamport uint64
		body    *pb.Body
		want    error
	}{
		{"member posts", b, 2, text("hi"), nil},
		{"non-member posts", d, 2, text("hi"), app.ErrNotMember},
		{"member adds", b, 3, add(d), app.ErrNotAdmin},
		{"admin adds existing", a, 3, add(b), app.ErrInvalid},
		{"admin removes non-member", a, 3, remove(d), app.ErrInvalid},
		{"admin promotes b at 10", a, 10, promote(b), nil},
		{"b adds d at 5, before being admin", b, 5, add(d), app.ErrNotAdmin},
		{"b adds d at 11", b, 11, add(d), nil},
		{"d posts at 12", d, 12, text("joined"), nil},
		{"e posts before any add", e, 13, text("?"), app.ErrNotMember},
		{"c leaves at 14", c, 14, leave(), nil},
		{"c posts after leaving", c, 15, text("still here?"), app.ErrNotMember},
		{"member renames", d, 16, rename("new name"), nil},
		{"older rename loses", b, 15, rename("old name"), nil},
		{"a removes d at 20", a, 20, remove(d), nil},
		{"late: d posts at 19 (before removal)", d, 19, text("late but valid"), nil},
		{"d posts at 21", d, 21, text("gone"), app.ErrNotMember},
		{"b promotes non-member", b, 22, promote(e), app.ErrInvalid},
	}
	for _, st := range steps {
		errs := ingest(t, s, me, st.p.ev(t, conv, st.lamport, st.body))
		wantErr(t, st.name, errs[0], st.want)
	}
	cv, err := s.Conversation(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	if cv.Title != "new name" || cv.Members != 3 || cv.Kind != app.Group || cv.Left {
		t.Errorf("group: got title %q members %d left %v, want \"new name\" 3 false", cv.Title, cv.Members, cv.Left)
	}
	ms, _ := s.Members(ctx, conv)
	admins := map[app.PeerKey]bool{}
	for _, m := range ms {
		admins[m.Key] = m.Admin
	}
	if len(ms) != 3 || !admins[a.key] || !admins[b.key] || admins[me.key] {
		t.Errorf("members: got %+v, want a and b admins, me member", ms)
	}
	// System messages use peer IDs.
	msgs, _ := s.Messages(ctx, conv, app.Cursor{}, 100)
	var system []string
	for _, m := range msgs {
		if m.System != "" {
			system = append(system, m.System)
		}
	}
	want := []string{"created the group “g”", "made " + b.key.String() + " an admin", "added " + d.key.String(),
		"left", "renamed the group to old name", "renamed the group to new name", "removed " + d.key.String()}
	if len(system) != len(want) {
		t.Fatalf("system messages: got %q, want %q", system, want)
	}
	for i := range want {
		if system[i] != want[i] {
			t.Errorf("system message %d: got %q, want %q", i, system[i], want[i])
		}
	}
	shared, _ := s.SharedConversations(ctx, d.key)
	if len(shared) != 1 || shared[0] != conv {
		t.Errorf("SharedConversations(d): got %v, want [%v]", shared, conv)
	}
	// Me removed: Left.
	mustIngest(t, s, me, a.ev(t, conv, 30, remove(me)))
	if cv, _ := s.Conversation(ctx, conv); !cv.Left {
		t.Errorf("after removal: Left is false, want true")
	}
}

func TestGroupLimits(t *testing.T) {
	s := openStore(t)
	me, a := newPeer(1), newPeer(2)
	many := make([]*peer, 0, 251)
	for i := 0; i < 250; i++ {
		many = append(many, newPeer(10+i))
	}
	errs := ingest(t, s, me, a.ev(t, randConv(), 1, create("too big", append(many, me)...)))
	wantErr(t, "create with 252 members", errs[0], app.ErrTooLarge)

	conv := group(t, s, me, a, many[:248]...) // 249 with a
	errs = ingest(t, s, me, a.ev(t, conv, 2, add(me, newPeer(1000))))
	wantErr(t, "add to 251", errs[0], app.ErrTooLarge)
	errs = ingest(t, s, me, a.ev(t, conv, 3, add(me)))
	wantErr(t, "add to 250", errs[0], nil)
	if cv, _ := s.Conversation(ctx, conv); cv.Members != 250 {
		t.Errorf("members: got %d, want 250", cv.Members)
	}
	// A second create for a known group is refused.
	errs = ingest(t, s, me, me.ev(t, conv, 4, create("again")))
	wantErr(t, "second create", errs[0], app.ErrInvalid)
}

// TestRefusedAfterWriteLeavesNoTrace covers the slow path of Ingest: an
// event refused after it created its conversation is undone, and the
// rest of the batch still applies.
func TestRefusedAfterWriteLeavesNoTrace(t *testing.T) {
	s := openStore(t)
	me, bob, carol := newPeer(1), newPeer(2), newPeer(3)
	bad := app.DirectConvID(me.key, bob.key, false)
	good := app.DirectConvID(me.key, carol.key, false)
	errs := ingest(t, s, me, bob.ev(t, bad, 1, rename("nope")), carol.ev(t, good, 1, text("hi")))
	wantErr(t, "rename creating a 1:1", errs[0], app.ErrInvalid)
	wantErr(t, "text in the same batch", errs[1], nil)
	if _, err := s.Conversation(ctx, bad); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("refused conversation: got %v, want ErrNotFound", err)
	}
	if c, err := s.Conversation(ctx, good); err != nil || c.Unread != 1 {
		t.Errorf("good conversation: got %+v, %v", c, err)
	}
	var n int
	s.r.QueryRow(`SELECT count(*) FROM events`).Scan(&n)
	if n != 1 {
		t.Errorf("events stored: got %d, want 1", n)
	}
}

// TestIDsMerge merges ids_new into ids every few events, so that events
// are looked up by ID in either table, in the batch that moved them and
// after a reopen.
func TestIDsMerge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kite.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	s.mergeIDsAt = func(int64) int { return 5 }
	me, bob := newPeer(1), newPeer(2)
	conv, err := s.CreateDirect(ctx, me.key, bob.key, false, app.Primary)
	if err != nil {
		t.Fatal(err)
	}
	rows := func(table string) int {
		t.Helper()
		var n int
		if err := s.r.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var all []app.Incoming
	lamport := uint64(0)
	next := func(body func(n int) *pb.Body) app.Incoming {
		lamport++
		return bob.ev(t, conv, lamport, body(len(all)))
	}
	say := func(n int) *pb.Body { return text(fmt.Sprintf("message %d", n)) }
	// Batches of 3: ids_new reaches 5 in every second batch and is moved.
	for i, want := range []struct{ new, old int }{{3, 0}, {0, 6}, {3, 6}, {0, 12}} {
		var evs []app.Incoming
		for j := range 3 {
			body := say
			if i == 3 && j == 2 {
				// A reaction to a message moved two batches ago, in the
				// batch that moves its own ID.
				body = func(int) *pb.Body { return react(all[0].Event.ID, "👍") }
			}
			evs = append(evs, next(body))
			all = append(all, evs[j])
		}
		mustIngest(t, s, me, evs...)
		if n, o := rows("ids_new"), rows("ids"); n != want.new || o != want.old {
			t.Fatalf("after batch %d: ids_new %d and ids %d rows, want %d and %d", i, n, o, want.new, want.old)
		}
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	s.mergeIDsAt = func(int64) int { return 5 }
	// An own message after the reopen: ids_new counts 1 of 5, so none is
	// moved.
	mine, err := appendBody(t, s, me, conv, text("mine"))
	if err != nil {
		t.Fatal(err)
	}
	if n := rows("ids_new"); n != 1 {
		t.Errorf("after reopen and append: ids_new %d rows, want 1", n)
	}
	// Sending never waits for a merge; the next batch received merges.
	s.mergeIDsAt = func(int64) int { return 1 }
	if _, err := appendBody(t, s, me, conv, text("mine again")); err != nil {
		t.Fatal(err)
	}
	if n := rows("ids_new"); n != 2 {
		t.Errorf("after a second append: ids_new %d rows, want 2", n)
	}
	all = append(all, next(say))
	mustIngest(t, s, me, all[len(all)-1])
	if n, o := rows("ids_new"), rows("ids"); n != 0 || o != 15 {
		t.Errorf("after the next batch: ids_new %d and ids %d rows, want 0 and 15", n, o)
	}
	for i, in := range all {
		if ev, err := s.Event(ctx, in.Event.ID); err != nil || ev.ID != in.Event.ID {
			t.Errorf("Event %d: got %s, %v", i, ev.ID.Short(), err)
		}
		if in.Event.Kind != app.KindText {
			if _, err := s.Message(ctx, in.Event.ID); !errors.Is(err, app.ErrNotFound) {
				t.Errorf("Message of reaction %d: got %v, want ErrNotFound", i, err)
			}
			continue
		}
		if id, err := s.MessageByPrefix(ctx, in.Event.ID.String()[:10]); err != nil || id != in.Event.ID {
			t.Errorf("MessageByPrefix %d: got %s, %v", i, id.Short(), err)
		}
	}
	if m := mustMessage(t, s, all[0].Event.ID); emojis(m) != "👍" {
		t.Errorf("reaction across a merge: got %q, want 👍", emojis(m))
	}
	if m := mustMessage(t, s, mine.ID); m.Text != "mine" {
		t.Errorf("own message: got %q, want mine", m.Text)
	}
}

func TestMergeIDsAt(t *testing.T) {
	for _, tt := range []struct {
		events   int64
		min, max int
	}{
		{0, 1 << 15, 1 << 15},
		{100_000, 1 << 15, 1 << 15},
		{1_000_000, 37_000, 38_000},
		{10_000_000, 118_000, 119_000},
	} {
		if got := mergeIDsAt(tt.events); got < tt.min || got > tt.max {
			t.Errorf("mergeIDsAt(%d): got %d, want %d to %d", tt.events, got, tt.min, tt.max)
		}
	}
}
