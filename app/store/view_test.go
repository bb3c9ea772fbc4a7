package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"kite/app"
)

func TestMessagesKeysetPages(t *testing.T) {
	s, me, bob, conv := direct(t)
	const n = 53
	var batch []app.Incoming
	for i := 1; i <= n; i++ {
		// Same lamport for both authors every few messages: ties are
		// broken by author, then seq.
		p := bob
		if i%3 == 0 {
			p = me
		}
		batch = append(batch, p.ev(t, conv, uint64(i/2+1), text(fmt.Sprintf("m%d", i))))
	}
	mustIngest(t, s, me, batch...)
	var all []app.Message
	cur := app.Cursor{}
	for pages := 0; ; pages++ {
		page, err := s.Messages(ctx, conv, cur, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if pages > 10 {
			t.Fatal("too many pages")
		}
		all = append(page, all...)
		cur = app.CursorOf(page[0])
	}
	if len(all) != n {
		t.Fatalf("paged messages: got %d, want %d", len(all), n)
	}
	seen := map[app.EventID]bool{}
	for i, m := range all {
		if seen[m.ID] {
			t.Fatalf("duplicate message %s", m.ID.Short())
		}
		seen[m.ID] = true
		if i > 0 {
			a, b := posKey(all[i-1].Lamport, all[i-1].Author, all[i-1].Seq), posKey(m.Lamport, m.Author, m.Seq)
			if string(a) >= string(b) {
				t.Fatalf("order at %d: %v then %v", i, app.CursorOf(all[i-1]), app.CursorOf(m))
			}
		}
	}
}

func TestInboxPages(t *testing.T) {
	s := openStore(t)
	me := newPeer(1)
	var convs []app.ConvID
	var ps []*peer
	for i := 0; i < 12; i++ {
		p := newPeer(100 + i)
		ps = append(ps, p)
		conv := app.DirectConvID(me.key, p.key, false)
		mustIngest(t, s, me, p.ev(t, conv, 1, text("hi")))
		convs = append(convs, conv) // convs[i] has last_at t0+1s, ties broken by id
		if _, err := s.PutPerson(ctx, p.key, func(pp *app.Person) { pp.Handle = fmt.Sprintf("p%d", i) }); err != nil {
			t.Fatal(err)
		}
	}
	// Give distinct times: a newer message in some.
	for i := 0; i < 12; i++ {
		p := ps[i]
		mustIngest(t, s, me, p.ev(t, convs[i], uint64(2+i), text("later")))
	}
	set := func(i int, f func(*app.ConvState)) {
		if err := s.SetConvState(ctx, convs[i], f); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{0, 1, 2, 3} { // move to primary; the rest stay in requests
		set(i, func(st *app.ConvState) { st.Folder = app.Primary })
	}
	set(1, func(st *app.ConvState) { st.Pinned = true })
	set(2, func(st *app.ConvState) { st.Archived = true })
	set(5, func(st *app.ConvState) { st.Archived = true; st.Folder = app.General })
	if err := s.MarkSeen(ctx, convs[3], me.key, s.mustLast(t, convs[3], ps[3].key)); err != nil {
		t.Fatal(err)
	}

	ids := func(cs []app.Conversation) []int {
		var out []int
		for _, c := range cs {
			for i, id := range convs {
				if id == c.ID {
					out = append(out, i)
				}
			}
		}
		return out
	}
	page := func(q app.InboxQuery) []int {
		t.Helper()
		var all []int
		for {
			cs, err := s.Inbox(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) == 0 {
				return all
			}
			all = append(all, ids(cs)...)
			last := cs[len(cs)-1]
			q.Before = &app.InboxCursor{LastAt: last.LastAt, ID: last.ID}
			if len(all) > 20 {
				t.Fatal("paging does not end")
			}
		}
	}
	tests := []struct {
		name string
		q    app.InboxQuery
		want []int
	}{
		{"primary, pinned first", app.InboxQuery{Folder: app.Primary, Limit: 1}, []int{1, 3, 0}},
		{"primary unread only", app.InboxQuery{Folder: app.Primary, UnreadOnly: true, Limit: 2}, []int{1, 0}},
		{"requests", app.InboxQuery{Folder: app.Requests, Limit: 3}, []int{11, 10, 9, 8, 7, 6, 4}},
		{"archive", app.InboxQuery{Archived: true, Limit: 1}, []int{5, 2}},
		{"general", app.InboxQuery{Folder: app.General}, nil},
	}
	for _, tt := range tests {
		got := page(tt.q)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	cs, _ := s.Inbox(ctx, app.InboxQuery{Folder: app.Primary})
	if cs[0].Title != "@p1" || !cs[0].Pinned || cs[0].Last == nil || cs[0].Last.Text != "later" {
		t.Errorf("first row: got %+v", cs[0])
	}
}

func TestSearch(t *testing.T) {
	s, me, bob, conv := direct(t)
	other := app.DirectConvID(me.key, newPeer(3).key, false)
	mustIngest(t, s, me, bob.ev(t, conv, 1, text("Meeting about the budget tomorrow")),
		bob.ev(t, conv, 2, text("budgeting is fun")), newPeer(3).ev(t, other, 3, text("budget elsewhere")))
	tests := []struct {
		q    string
		conv app.ConvID
		want int
	}{
		{"budg", conv, 2},
		{"budg", app.ConvID{}, 3},
		{"BUDGET tomorrow", conv, 1},
		{"meet", conv, 1},
		{"nothing", conv, 0},
		{`budget"`, conv, 2},
		{`"budget" OR tomorrow`, conv, 0}, // OR is a word here, not syntax
		{`NEAR(budget tomorrow)`, conv, 0},
		{`budget*`, conv, 2},
		{`-budget`, conv, 2},
		{`budget AND`, conv, 0},
		{`col:budget`, conv, 0},
		{`^budget`, conv, 2},
	}
	for _, tt := range tests {
		got, err := s.Search(ctx, tt.q, tt.conv, 10)
		if err != nil || len(got) != tt.want {
			t.Errorf("Search(%q): got %d results (%v), want %d", tt.q, len(got), err, tt.want)
		}
	}
	// Newest first.
	got, _ := s.Search(ctx, "budg", conv, 10)
	if len(got) == 2 && got[0].Lamport < got[1].Lamport {
		t.Errorf("order: got lamports %d, %d; want newest first", got[0].Lamport, got[1].Lamport)
	}
	for _, q := range []string{"", "   ", `"`, `* - ( )`, `""`} {
		if _, err := s.Search(ctx, q, conv, 10); !errors.Is(err, app.ErrInvalid) {
			t.Errorf("Search(%q): got %v, want ErrInvalid", q, err)
		}
	}
}

func TestMessageByPrefix(t *testing.T) {
	s, me, bob, conv := direct(t)
	in := bob.ev(t, conv, 1, text("x"))
	mustIngest(t, s, me, in)
	full := in.Event.ID.String()
	for _, tt := range []struct {
		p    string
		want error
	}{
		{full[:8], nil}, {strings.ToUpper(full[:9]), nil}, {full, nil},
		{full[:7], app.ErrInvalid}, {"zzzzzzzz", app.ErrInvalid},
		{flip(full[:10]), app.ErrNotFound},
	} {
		id, err := s.MessageByPrefix(ctx, tt.p)
		wantErr(t, "prefix "+tt.p, err, tt.want)
		if tt.want == nil && id != in.Event.ID {
			t.Errorf("prefix %s: got %s", tt.p, id.Short())
		}
	}
	// Two messages sharing a prefix: insert a fake row.
	var twin app.EventID = in.Event.ID
	twin[31] ^= 1
	res, err := s.w.Exec(`INSERT INTO events (id, conv, author, seq, prev, lamport, time, kind, body_hash,
			header, sig, body, path, via, received_at)
		SELECT ?, conv, author, seq + 100, prev, lamport, time, kind, body_hash,
			header, sig, body, path, via, received_at FROM events WHERE id = ?`, twin[:], in.Event.ID[:])
	if err != nil {
		t.Fatal(err)
	}
	rid, err := res.LastInsertId()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`INSERT INTO ids_new (prefix, rid) VALUES (?, ?)`, twin[:8], rid); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`INSERT INTO messages (rid, id, conv, author, seq, lamport, pos, time, kind, path)
		SELECT ?, ?, conv, author, seq + 100, lamport, pos || X'00', time, kind, path FROM messages WHERE id = ?`,
		rid, twin[:], in.Event.ID[:]); err != nil {
		t.Fatal(err)
	}
	_, err = s.MessageByPrefix(ctx, full[:12])
	wantErr(t, "ambiguous prefix", err, app.ErrAmbiguous)
}

func flip(h string) string {
	if h[0] == '0' {
		return "1" + h[1:]
	}
	return "0" + h[1:]
}

func TestPeople(t *testing.T) {
	s := openStore(t)
	a, b, c := newPeer(1), newPeer(2), newPeer(3)
	put := func(p *peer, handle string, contact bool) {
		if _, err := s.PutPerson(ctx, p.key, func(pp *app.Person) { pp.Handle = handle; pp.Contact = contact }); err != nil {
			t.Fatal(err)
		}
	}
	put(a, "Alice", false)
	put(b, "alice", false)
	_, err := s.PersonByHandle(ctx, "alice")
	wantErr(t, "two non-contacts", err, app.ErrAmbiguous)
	put(c, "ALICE", true)
	p, err := s.PersonByHandle(ctx, "@Alice")
	if err != nil || p.Key != c.key {
		t.Errorf("contact first: got %v, %v; want c", p.Key, err)
	}
	_, err = s.PersonByHandle(ctx, "bob")
	wantErr(t, "unknown handle", err, app.ErrNotFound)
	// Update changes only what it sets.
	if _, err := s.PutPerson(ctx, c.key, func(pp *app.Person) { pp.Name = "Alice C"; pp.Addrs = []string{"/ip4/1.2.3.4"} }); err != nil {
		t.Fatal(err)
	}
	p, _ = s.Person(ctx, c.key)
	if p.Handle != "ALICE" || !p.Contact || p.Name != "Alice C" || len(p.Addrs) != 1 {
		t.Errorf("after update: got %+v", p)
	}
	if ps, _ := s.People(ctx, true); len(ps) != 1 {
		t.Errorf("contacts: got %d, want 1", len(ps))
	}
	if ps, _ := s.People(ctx, false); len(ps) != 3 {
		t.Errorf("people: got %d, want 3", len(ps))
	}
	_, err = s.Person(ctx, newPeer(9).key)
	wantErr(t, "unknown person", err, app.ErrNotFound)
}

func TestSettingsProfileReport(t *testing.T) {
	s, me, bob, conv := direct(t)
	st, err := s.Settings(ctx)
	if err != nil || st != app.DefaultSettings {
		t.Fatalf("default settings: got %+v, %v", st, err)
	}
	st.Sound = false
	if err := s.SaveSettings(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Settings(ctx); got != st {
		t.Errorf("settings: got %+v, want %+v", got, st)
	}
	if _, err := s.Profile(ctx); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("profile before save: got %v, want ErrNotFound", err)
	}
	pr := app.Profile{Handle: "me", Name: "Me", Version: 3}
	if err := s.SaveProfile(ctx, pr); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Profile(ctx); got != pr {
		t.Errorf("profile: got %+v, want %+v", got, pr)
	}
	in := bob.ev(t, conv, 1, text("spam"))
	mustIngest(t, s, me, in)
	if err := s.SaveReport(ctx, conv, "spam", []app.EventID{in.Event.ID}); err != nil {
		t.Fatal(err)
	}
	var msgs string
	s.r.QueryRow(`SELECT messages FROM reports`).Scan(&msgs)
	if !strings.Contains(msgs, `"text":"spam"`) {
		t.Errorf("report snapshot: got %s", msgs)
	}
}

// TestQueryPlans checks that the page queries use indexes.
func TestQueryPlans(t *testing.T) {
	s, _, _, conv := direct(t)
	pos := posKey(5, app.PeerKey{}, 1)
	id := randConv()
	queries := map[string][]any{
		`SELECT ` + convCols + ` WHERE c.archived = 0 AND c.hidden = 0 AND c.folder = 'primary' AND c.pinned = 0
			AND (c.last_at, c.id) < (?2, ?3) ORDER BY c.last_at DESC, c.id DESC LIMIT 50`: {nil, 5, conv[:]},
		`SELECT ` + convCols + ` WHERE c.archived = 1 AND c.hidden = 0 AND c.pinned = 1
			ORDER BY c.last_at DESC, c.id DESC LIMIT 50`: {nil},
		`SELECT ` + msgCols + ` FROM messages m WHERE m.conv = ? AND m.pos > ? AND m.deleted = 0 AND m.pos < ?
			ORDER BY m.pos DESC LIMIT 50`: {conv[:], []byte{}, pos},
		`SELECT coalesce(sum(unread), 0) FROM conversations
			WHERE unread > 0 AND folder = 'primary' AND archived = 0 AND hidden = 0 AND muted_until <= 5`: nil,
		// Look-ups by event ID go through ids_new and ids.
		`SELECT ` + msgCols + ` FROM messages m WHERE m.rid IN ` + ridsOf + ` AND m.id = ?1`: {id[:]},
		`SELECT ` + eventCols + ` FROM events WHERE rid IN ` + ridsOf + ` AND id = ?1`:       {id[:]},
		`SELECT m.id FROM event_ids x JOIN messages m ON m.rid = x.rid
			WHERE x.prefix BETWEEN substr(?1, 1, 8) AND substr(?2, 1, 8) AND m.id BETWEEN ?1 AND ?2 LIMIT 2`: {id[:], id[:]},
		`SELECT target FROM edits e WHERE e.conv = ?1 AND NOT EXISTS (SELECT 1 FROM event_ids x
			JOIN messages m ON m.rid = x.rid WHERE x.prefix = substr(e.target, 1, 8) AND m.id = e.target)`: {conv[:]},
	}
	for q, args := range queries {
		rows, err := s.r.Query(`EXPLAIN QUERY PLAN `+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			rows.Scan(&id, &parent, &unused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		if testing.Verbose() {
			t.Logf("%.60q…: %q", q, plan)
		}
		for _, d := range plan {
			if strings.HasPrefix(d, "SCAN") && !strings.Contains(d, "USING") || strings.Contains(d, "TEMP B-TREE") {
				t.Errorf("plan for %.60q…: %q", q, plan)
			}
		}
	}
}
