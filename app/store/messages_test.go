package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"kite/app"
	"kite/app/pb"
)

// direct makes the 1:1 of me and bob, seen from me.
// directAt opens the store at path with a 1:1 between two test peers,
// for tests that close and reopen the file themselves.
func directAt(t *testing.T, path string) (*Store, *peer, *peer, app.ConvID) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	me, bob := newPeer(1), newPeer(2)
	conv, err := s.CreateDirect(ctx, me.key, bob.key, false, app.Primary)
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	return s, me, bob, conv
}

func direct(t *testing.T) (*Store, *peer, *peer, app.ConvID) {
	t.Helper()
	s := openStore(t)
	me, bob := newPeer(1), newPeer(2)
	conv, err := s.CreateDirect(ctx, me.key, bob.key, false, app.Primary)
	if err != nil {
		t.Fatal(err)
	}
	return s, me, bob, conv
}

func emojis(m app.Message) string {
	var s string
	for _, r := range m.Reactions {
		s += r.Emoji
	}
	return s
}

func TestReactionsLatestWins(t *testing.T) {
	for _, order := range []string{"in order", "reversed", "before target"} {
		t.Run(order, func(t *testing.T) {
			s, me, bob, conv := direct(t)
			msg := bob.ev(t, conv, 1, text("hi"))
			r1 := me.ev(t, conv, 2, react(msg.Event.ID, "👍"))
			r2 := me.ev(t, conv, 3, react(msg.Event.ID, "❤️"))
			b1 := bob.ev(t, conv, 4, react(msg.Event.ID, "😂"))
			b2 := bob.ev(t, conv, 5, react(msg.Event.ID, ""))
			switch order {
			case "in order":
				mustIngest(t, s, me, msg, r1, r2, b1, b2)
			case "reversed":
				// r2 is stored before r1 (chains differ per conv only by
				// author; use separate peers' order): me's chain must be
				// in order, so reverse across authors.
				mustIngest(t, s, me, msg, b1, b2, r1, r2)
			case "before target":
				mustIngest(t, s, me, r1, r2)
				mustIngest(t, s, me, msg, b1, b2)
			}
			m := mustMessage(t, s, msg.Event.ID)
			if got := emojis(m); got != "❤️" {
				t.Errorf("reactions: got %q, want ❤️ only (bob's removed)", got)
			}
		})
	}
	t.Run("older position arriving later loses", func(t *testing.T) {
		s, me, bob, conv := direct(t)
		msg := bob.ev(t, conv, 1, text("hi"))
		mustIngest(t, s, me, msg)
		// me reacts at lamport 9 first (Append-like) then an old
		// reaction from bob at lamport 3 arrives after bob's newer one
		// would be impossible in one chain, so compare across the
		// reaction row: newer position replaces, older does not.
		mustIngest(t, s, me, bob.ev(t, conv, 9, react(msg.Event.ID, "🔥")))
		mustIngest(t, s, me, bob.ev(t, conv, 5, react(msg.Event.ID, "🧊")))
		if got := emojis(mustMessage(t, s, msg.Event.ID)); got != "🔥" {
			t.Errorf("reactions: got %q, want 🔥 (newest by position)", got)
		}
	})
}

func TestEdits(t *testing.T) {
	t.Run("non-author refused", func(t *testing.T) {
		s, me, bob, conv := direct(t)
		msg := bob.ev(t, conv, 1, text("original"))
		mustIngest(t, s, me, msg)
		_, err := appendBody(t, s, me, conv, edit(msg.Event.ID, "hacked"))
		wantErr(t, "append edit", err, app.ErrNotAuthor)
		m := mustMessage(t, s, msg.Event.ID)
		if m.Text != "original" || m.Edited {
			t.Errorf("after refused edit: got %q edited=%v, want original", m.Text, m.Edited)
		}
	})
	for _, early := range []bool{false, true} {
		t.Run(fmt.Sprintf("edit before target %v", early), func(t *testing.T) {
			s, me, bob, conv := direct(t)
			msg := bob.ev(t, conv, 1, text("original words"))
			e1 := bob.ev(t, conv, 5, edit(msg.Event.ID, "second version"))
			e2 := bob.ev(t, conv, 6, edit(msg.Event.ID, "final version"))
			if early {
				// Edits from another device path arrive first (they wait).
				mustIngest(t, s, me, e2Only(t, s, me, msg, e1, e2)...)
			} else {
				mustIngest(t, s, me, msg, e1, e2)
			}
			m := mustMessage(t, s, msg.Event.ID)
			if m.Text != "final version" || !m.Edited {
				t.Errorf("edited: got %q edited=%v, want \"final version\" true", m.Text, m.Edited)
			}
			if r, _ := s.Search(ctx, "final", conv, 10); len(r) != 1 {
				t.Errorf("search new text: got %d, want 1", len(r))
			}
			if r, _ := s.Search(ctx, "original", conv, 10); len(r) != 0 {
				t.Errorf("search old text: got %d, want 0", len(r))
			}
			c, _ := s.Conversation(ctx, conv)
			if c.Last == nil || c.Last.Text != "final version" {
				t.Errorf("preview: got %+v, want \"final version\"", c.Last)
			}
		})
	}
}

// e2Only stores the edits before their target by writing them under a
// target that is not yet stored: the chain requires msg first for the
// same author, so the edits here come from the same author's later seqs
// inserted directly after a pending check. It returns what is left.
func e2Only(t *testing.T, s *Store, me *peer, msg app.Incoming, edits ...app.Incoming) []app.Incoming {
	t.Helper()
	// The chain makes a target always precede its author's edits, so the
	// "edit first" order can only happen for the derived tables: insert
	// the edit rows the way a pending edit is kept, then ingest all.
	for _, e := range edits {
		if _, err := s.w.Exec(`INSERT INTO edits (target, pos, conv, author, text) VALUES (?, ?, ?, ?, ?)`,
			msg.Event.ID[:], evPos(e.Event), e.Event.Conv[:], e.Event.Author[:], e.Body.GetEdit().GetText()); err != nil {
			t.Fatal(err)
		}
	}
	return []app.Incoming{msg}
}

func TestUnsend(t *testing.T) {
	t.Run("purges body, search and reactions", func(t *testing.T) {
		s, me, bob, conv := direct(t)
		msg := bob.ev(t, conv, 1, text("secret plans"))
		mustIngest(t, s, me, msg, me.ev(t, conv, 2, react(msg.Event.ID, "👍")))
		if r, _ := s.Search(ctx, "secret", conv, 10); len(r) != 1 {
			t.Fatalf("search before unsend: got %d, want 1", len(r))
		}
		wantErr(t, "unsend by non-author", ingest(t, s, me, me.ev(t, conv, 3, unsend(msg.Event.ID)))[0], app.ErrNotAuthor)
		mustIngest(t, s, me, bob.ev(t, conv, 4, unsend(msg.Event.ID)))
		m := mustMessage(t, s, msg.Event.ID)
		if !m.Unsent || m.Text != "" || len(m.Reactions) != 0 {
			t.Errorf("after unsend: got unsent=%v text=%q reactions=%d, want true \"\" 0", m.Unsent, m.Text, len(m.Reactions))
		}
		ev, _ := s.Event(ctx, msg.Event.ID)
		if ev.Body != nil {
			t.Errorf("event body after unsend: got %d bytes, want nil", len(ev.Body))
		}
		if r, _ := s.Search(ctx, "secret", conv, 10); len(r) != 0 {
			t.Errorf("search after unsend: got %d, want 0", len(r))
		}
		c, _ := s.Conversation(ctx, conv)
		if c.Last == nil || !c.Last.Unsent || c.Last.Text != "unsent a message" || c.Unread != 0 {
			t.Errorf("summary: got %+v unread %d, want unsent preview and 0 unread", c.Last, c.Unread)
		}
		// A reaction arriving after the unsend stays hidden.
		mustIngest(t, s, me, me.ev(t, conv, 5, react(msg.Event.ID, "😮")))
		if got := emojis(mustMessage(t, s, msg.Event.ID)); got != "" {
			t.Errorf("reaction after unsend: got %q, want none", got)
		}
	})
	t.Run("tombstone before target", func(t *testing.T) {
		s, me, bob, conv := direct(t)
		// Another author's message gets unsent by a tombstone that was
		// kept first: simulate it as the pending row, like edits.
		msg := bob.ev(t, conv, 1, text("gone soon"))
		un := bob.ev(t, conv, 2, unsend(msg.Event.ID))
		if _, err := s.w.Exec(`INSERT INTO unsends (target, author, conv, pos) VALUES (?, ?, ?, ?)`,
			msg.Event.ID[:], bob.key[:], conv[:], evPos(un.Event)); err != nil {
			t.Fatal(err)
		}
		mustIngest(t, s, me, msg)
		m := mustMessage(t, s, msg.Event.ID)
		if !m.Unsent || m.Text != "" {
			t.Errorf("target after tombstone: got unsent=%v text=%q", m.Unsent, m.Text)
		}
		if r, _ := s.Search(ctx, "gone", conv, 10); len(r) != 0 {
			t.Errorf("search: got %d results, want 0", len(r))
		}
	})
	t.Run("group: unsend and edit of a target from another author arrive first", func(t *testing.T) {
		s := openStore(t)
		me, a, b := newPeer(1), newPeer(2), newPeer(3)
		conv := group(t, s, me, a, me, b)
		msg := b.ev(t, conv, 5, text("original"))
		// a (not the author) edits and unsends before the target arrives:
		// they are kept, then ignored when the target shows a is not its author.
		mustIngest(t, s, me, a.ev(t, conv, 6, edit(msg.Event.ID, "a's words")), a.ev(t, conv, 7, unsend(msg.Event.ID)))
		mustIngest(t, s, me, msg)
		m := mustMessage(t, s, msg.Event.ID)
		if m.Text != "original" || m.Unsent || m.Edited {
			t.Errorf("target: got %q unsent=%v edited=%v, want untouched", m.Text, m.Unsent, m.Edited)
		}
		// Now b's own edit and unsend apply.
		mustIngest(t, s, me, b.ev(t, conv, 8, edit(msg.Event.ID, "b's edit")))
		if m := mustMessage(t, s, msg.Event.ID); m.Text != "b's edit" {
			t.Errorf("b's edit: got %q", m.Text)
		}
		mustIngest(t, s, me, b.ev(t, conv, 9, unsend(msg.Event.ID)))
		if m := mustMessage(t, s, msg.Event.ID); !m.Unsent {
			t.Errorf("b's unsend: not unsent")
		}
	})
}

func TestVotes(t *testing.T) {
	s := openStore(t)
	me, a, b := newPeer(1), newPeer(2), newPeer(3)
	conv := group(t, s, me, a, me, b)
	p := a.ev(t, conv, 2, poll("lunch?", "pizza", "sushi"))
	mustIngest(t, s, me, p)
	for _, st := range []struct {
		name string
		v    app.Incoming
		want error
	}{
		{"a votes pizza", a.ev(t, conv, 3, vote(p.Event.ID, 0)), nil},
		{"b votes sushi", b.ev(t, conv, 4, vote(p.Event.ID, 1)), nil},
		{"out of range", b.ev(t, conv, 5, vote(p.Event.ID, 2)), app.ErrInvalid},
	} {
		wantErr(t, st.name, ingest(t, s, me, st.v)[0], st.want)
	}
	if _, err := appendBody(t, s, me, conv, vote(p.Event.ID, 1)); err != nil {
		t.Fatal(err)
	}
	m := mustMessage(t, s, p.Event.ID)
	if m.Poll == nil || m.Poll.Options[0].Votes != 1 || m.Poll.Options[1].Votes != 2 || m.Poll.Mine != 1 {
		t.Fatalf("poll: got %+v, want pizza 1, sushi 2, mine 1", m.Poll)
	}
	mustIngest(t, s, me, a.ev(t, conv, 20, vote(p.Event.ID, -1)))
	if _, err := appendBody(t, s, me, conv, vote(p.Event.ID, 0)); err != nil {
		t.Fatal(err)
	}
	m = mustMessage(t, s, p.Event.ID)
	if m.Poll.Options[0].Votes != 1 || m.Poll.Options[1].Votes != 1 || m.Poll.Mine != 0 {
		t.Errorf("poll after withdraw and change: got %+v, want pizza 1 (me), sushi 1", m.Poll)
	}
	if m.Poll.Question != "lunch?" || m.Poll.Options[0].Text != "pizza" {
		t.Errorf("poll text: got %+v", m.Poll)
	}
}

func TestDisappearing(t *testing.T) {
	s, me, bob, conv := direct(t)
	mustIngest(t, s, me, bob.ev(t, conv, 1, disappear(60)))
	msg := bob.ev(t, conv, 2, text("vanishing"))
	mustIngest(t, s, me, msg)
	m := mustMessage(t, s, msg.Event.ID)
	if want := msg.Event.Time.Add(time.Minute); !m.ExpiresAt.Equal(want) {
		t.Fatalf("expires at: got %v, want %v", m.ExpiresAt, want)
	}
	touched, err := s.PurgeExpired(ctx, msg.Event.Time.Add(59*time.Second))
	if err != nil || len(touched) != 0 {
		t.Fatalf("early purge: got %v, %v; want nothing", touched, err)
	}
	touched, err = s.PurgeExpired(ctx, msg.Event.Time.Add(time.Minute))
	if err != nil || len(touched) != 1 || touched[0] != conv {
		t.Fatalf("purge: got %v, %v; want [conv]", touched, err)
	}
	m = mustMessage(t, s, msg.Event.ID)
	if !m.Expired || m.Unsent || m.Text != "" {
		t.Errorf("after purge: got expired=%v unsent=%v text=%q", m.Expired, m.Unsent, m.Text)
	}
	if ev, _ := s.Event(ctx, msg.Event.ID); ev.Body != nil {
		t.Errorf("body kept after purge")
	}
	if r, _ := s.Search(ctx, "vanishing", conv, 10); len(r) != 0 {
		t.Errorf("search after purge: got %d, want 0", len(r))
	}

	// After seen.
	now := t0.Add(time.Hour)
	s.now = func() time.Time { return now }
	mustIngest(t, s, me, bob.ev(t, conv, 10, disappear(app.DisappearAfterSeen)))
	theirs := bob.ev(t, conv, 11, text("read me once"))
	mustIngest(t, s, me, theirs)
	mine, err := appendBody(t, s, me, conv, text("mine"))
	if err != nil {
		t.Fatal(err)
	}
	if m := mustMessage(t, s, theirs.Event.ID); !m.ExpiresAt.IsZero() {
		t.Fatalf("unseen message has expiry %v", m.ExpiresAt)
	}
	if err := s.MarkSeen(ctx, conv, me.key, theirs.Event.ID); err != nil {
		t.Fatal(err)
	}
	if m := mustMessage(t, s, theirs.Event.ID); !m.ExpiresAt.Equal(now) {
		t.Errorf("seen message: got expiry %v, want %v", m.ExpiresAt, now)
	}
	if m := mustMessage(t, s, mine.ID); !m.ExpiresAt.IsZero() {
		t.Errorf("own message unseen by bob has expiry %v", m.ExpiresAt)
	}
	if err := s.MarkSeen(ctx, conv, bob.key, mine.ID); err != nil {
		t.Fatal(err)
	}
	if m := mustMessage(t, s, mine.ID); !m.ExpiresAt.Equal(now) || m.Status != app.StatusSeen || m.SeenBy != 1 {
		t.Errorf("own message seen by bob: got expiry %v status %s seen by %d", m.ExpiresAt, m.Status, m.SeenBy)
	}
	touched, _ = s.PurgeExpired(ctx, now)
	if len(touched) != 1 {
		t.Errorf("after-seen purge: got %v, want one conversation", touched)
	}
}

func TestUnreadAndSeen(t *testing.T) {
	s, me, bob, conv := direct(t)
	var ids []app.EventID
	for i := 1; i <= 5; i++ {
		in := bob.ev(t, conv, uint64(i), text(fmt.Sprintf("m%d", i)))
		ids = append(ids, in.Event.ID)
		mustIngest(t, s, me, in)
	}
	mine, _ := appendBody(t, s, me, conv, text("reply"))
	unread := func(want int) {
		t.Helper()
		c, err := s.Conversation(ctx, conv)
		if err != nil || c.Unread != want {
			t.Fatalf("unread: got %d (%v), want %d", c.Unread, err, want)
		}
		if n, _ := s.UnreadTotal(ctx); n != want {
			t.Fatalf("unread total: got %d, want %d", n, want)
		}
	}
	unread(5)
	if m := mustMessage(t, s, mine.ID); m.Status != app.StatusSending {
		t.Errorf("status: got %s, want sending", m.Status)
	}
	toBob := []app.Delivery{{By: bob.key, IDs: []app.EventID{mine.ID}}}
	touched, err := s.MarkDelivered(ctx, toBob)
	if err != nil {
		t.Fatal(err)
	}
	if len(touched) != 1 || touched[0] != conv {
		t.Errorf("delivered touched %v, want [%s]", touched, conv)
	}
	if again, err := s.MarkDelivered(ctx, toBob); err != nil || len(again) != 0 {
		t.Errorf("delivered again: touched %v, err %v; want nothing new", again, err)
	}
	if m := mustMessage(t, s, mine.ID); m.Status != app.StatusDelivered {
		t.Errorf("status: got %s, want delivered", m.Status)
	}
	if err := s.MarkSeen(ctx, conv, me.key, ids[2]); err != nil {
		t.Fatal(err)
	}
	unread(2)
	if err := s.MarkSeen(ctx, conv, me.key, ids[0]); err != nil {
		t.Fatal(err)
	}
	unread(2) // never backwards
	if err := s.DeleteForMe(ctx, ids[4]); err != nil {
		t.Fatal(err)
	}
	unread(1)
	c, _ := s.Conversation(ctx, conv)
	if c.Last == nil || c.Last.Text != "reply" {
		t.Errorf("preview: got %+v, want reply", c.Last)
	}
	mustIngest(t, s, me, bob.ev(t, conv, 20, text("new")))
	unread(2)
	// Muted conversations do not count in the total.
	s.SetConvState(ctx, conv, func(st *app.ConvState) { st.MutedUntil = app.MutedForever })
	if n, _ := s.UnreadTotal(ctx); n != 0 {
		t.Errorf("unread total while muted: got %d, want 0", n)
	}
	if err := s.MarkSeen(ctx, conv, me.key, randID()); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("MarkSeen of unknown message: got %v, want ErrNotFound", err)
	}
}

func randID() app.EventID { return app.EventID(randConv()) }

// A group message is acked by every member in one batch; each member's
// watermark moves, and IDs that are not own events are skipped.
func TestMarkDeliveredGroupBatch(t *testing.T) {
	s := openStore(t)
	me, admin := newPeer(1), newPeer(2)
	members := []*peer{me, admin, newPeer(3), newPeer(4), newPeer(5)}
	conv := group(t, s, me, admin, members...)
	first, err := appendBody(t, s, me, conv, text("one"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := appendBody(t, s, me, conv, text("two"))
	if err != nil {
		t.Fatal(err)
	}
	theirs := admin.ev(t, conv, 2, text("not mine"))
	mustIngest(t, s, me, theirs)
	var ds []app.Delivery
	for i, m := range members[1:] {
		ids := []app.EventID{second.ID, theirs.Event.ID, randID()}
		if i == 0 {
			ids = []app.EventID{first.ID} // this one has only the first so far
		}
		ds = append(ds, app.Delivery{By: m.key, IDs: ids})
	}
	touched, err := s.MarkDelivered(ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	if len(touched) != 1 || touched[0] != conv {
		t.Errorf("touched %v, want [%s]", touched, conv)
	}
	for i, m := range members[1:] {
		want := second.Seq
		if i == 0 {
			want = first.Seq
		}
		var got uint64
		if err := s.r.QueryRow(`SELECT seq FROM delivered_upto WHERE conv = ? AND peer = ?`, conv[:], m.key[:]).Scan(&got); err != nil || got != want {
			t.Errorf("member %d: delivered up to %d (%v), want %d", i+1, got, err, want)
		}
	}
	var rows int
	if err := s.r.QueryRow(`SELECT count(*) FROM delivered_upto`).Scan(&rows); err != nil || rows != len(members)-1 {
		t.Errorf("delivered_upto has %d rows (%v), want %d", rows, err, len(members)-1)
	}
}

func TestClearConversation(t *testing.T) {
	s, me, bob, conv := direct(t)
	mustIngest(t, s, me, bob.ev(t, conv, 1, text("old stuff")))
	if err := s.ClearConversation(ctx, conv); err != nil {
		t.Fatal(err)
	}
	if ms, _ := s.Messages(ctx, conv, app.Cursor{}, 10); len(ms) != 0 {
		t.Errorf("messages after clear: got %d, want 0", len(ms))
	}
	if cs, _ := s.Inbox(ctx, app.InboxQuery{}); len(cs) != 0 {
		t.Errorf("inbox after clear: got %d, want 0", len(cs))
	}
	if r, _ := s.Search(ctx, "old", app.ConvID{}, 10); len(r) != 0 {
		t.Errorf("search after clear: got %d, want 0", len(r))
	}
	mustIngest(t, s, me, bob.ev(t, conv, 2, text("new stuff")))
	ms, _ := s.Messages(ctx, conv, app.Cursor{}, 10)
	if len(ms) != 1 || ms[0].Text != "new stuff" {
		t.Errorf("messages after new one: got %d, want just the new one", len(ms))
	}
	if cs, _ := s.Inbox(ctx, app.InboxQuery{}); len(cs) != 1 || cs[0].Unread != 1 {
		t.Errorf("inbox after new message: got %d rows, want 1 with 1 unread", len(cs))
	}
}

func TestMediaAndShares(t *testing.T) {
	s, me, bob, conv := direct(t)
	tests := []struct {
		body    *pb.Body
		preview string
	}{
		{media("image/jpeg", "beach"), "sent a photo"},
		{media("video/mp4", ""), "sent a video"},
		{media("audio/ogg", ""), "sent a voice message"},
		{media("application/pdf", ""), "sent a file"},
		{&pb.Body{Content: &pb.Body_Share{Share: &pb.Share{What: &pb.Share_Hashtag{Hashtag: "golang"}}}}, "shared #golang"},
		{&pb.Body{Content: &pb.Body_Share{Share: &pb.Share{What: &pb.Share_Link{Link: "https://x.y"}}}}, "shared a link"},
		{&pb.Body{Content: &pb.Body_Share{Share: &pb.Share{What: &pb.Share_Location{Location: &pb.Location{Label: "home"}}}}}, "shared a location"},
		{&pb.Body{Content: &pb.Body_Share{Share: &pb.Share{What: &pb.Share_Contact{Contact: &pb.Contact{Name: "Zed"}}}}}, "shared a contact"},
		{poll("q?", "a", "b"), "created a poll"},
	}
	for i, tt := range tests {
		in := bob.ev(t, conv, uint64(i+1), tt.body)
		mustIngest(t, s, me, in)
		c, _ := s.Conversation(ctx, conv)
		if c.Last == nil || c.Last.Text != tt.preview || c.Last.Kind != in.Event.Kind {
			t.Errorf("preview %d: got %+v, want %q", i, c.Last, tt.preview)
		}
	}
	photo := bob.chainID(t, conv, 1, s)
	m := mustMessage(t, s, photo)
	if m.Media == nil || m.Media.Caption != "beach" || len(m.Media.Thumbnail) != 3 || m.Media.Opened {
		t.Fatalf("media: got %+v", m.Media)
	}
	_, err := appendBody(t, s, me, conv, &pb.Body{Content: &pb.Body_Opened{Opened: &pb.Target{Target: photo[:]}}})
	if err != nil {
		t.Fatal(err)
	}
	if m := mustMessage(t, s, photo); !m.Media.Opened {
		t.Errorf("media not opened")
	}
	for q, want := range map[string]int{"beach": 1, "#golang": 1, "gol": 1, "home": 1, "Zed": 1} {
		if r, err := s.Search(ctx, q, conv, 10); err != nil || len(r) != want {
			t.Errorf("search %q: got %d (%v), want %d", q, len(r), err, want)
		}
	}
}

// chainID is the ID of p's event at seq in conv.
func (p *peer) chainID(t *testing.T, conv app.ConvID, seq uint64, s *Store) app.EventID {
	t.Helper()
	evs, err := s.EventsAfter(ctx, conv, p.key, seq-1, 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("EventsAfter: %v", err)
	}
	return evs[0].ID
}

func TestNilBodyStored(t *testing.T) {
	s, me, bob, conv := direct(t)
	in := bob.ev(t, conv, 1, text("purged upstream"))
	in.Body, in.Event.Body = nil, nil
	mustIngest(t, s, me, in)
	m := mustMessage(t, s, in.Event.ID)
	if !m.Unsent || m.Text != "" {
		t.Errorf("purged message: got unsent=%v text=%q", m.Unsent, m.Text)
	}
}

// A reaction that arrives before a target which comes already purged
// (the sender relays it after an unsend) leaves no reaction behind, as
// on a device that saw the unsend itself.
func TestReactionBeforePurgedTarget(t *testing.T) {
	s := openStore(t)
	me, a, x := newPeer(1), newPeer(2), newPeer(3)
	g := group(t, s, me, a, x)
	target := a.ev(t, g, 10, text("soon gone"))
	reaction := x.ev(t, g, 11, react(target.Event.ID, "👍"))
	mustIngest(t, s, me, reaction)
	target.Body = nil
	target.Event.Body = nil
	mustIngest(t, s, me, target)
	m := mustMessage(t, s, target.Event.ID)
	if !m.Unsent || len(m.Reactions) != 0 {
		t.Fatalf("got unsent=%v reactions=%v, want unsent with none", m.Unsent, m.Reactions)
	}
}

// TestPreviewLine checks the inbox line both as a message arrives and as
// it is recomputed from the stored rows (search and preview are kept only
// when they differ from the text).
func TestPreviewLine(t *testing.T) {
	s, me, bob, conv := direct(t)
	long := strings.Repeat("many words\n", 30)
	m1 := bob.ev(t, conv, 1, text(long))
	m2 := bob.ev(t, conv, 2, text("spaced   out\twords"))
	m3 := bob.ev(t, conv, 3, media("image/png", ""))
	m4 := bob.ev(t, conv, 4, text("last"))
	mustIngest(t, s, me, m1, m2, m3, m4)
	shortLong := shorten(long)
	if !strings.HasSuffix(shortLong, "…") || strings.Contains(shortLong, "\n") {
		t.Fatalf("shorten: got %q", shortLong)
	}
	line := func() string {
		t.Helper()
		c, err := s.Conversation(ctx, conv)
		if err != nil || c.Last == nil {
			t.Fatalf("conversation: got %+v, %v", c.Last, err)
		}
		return c.Last.Text
	}
	for _, step := range []struct {
		deleted *app.Incoming
		want    string
	}{
		{nil, "last"},
		{&m4, "sent a photo"},
		{&m3, "spaced out words"},
		{&m2, shortLong},
	} {
		if step.deleted != nil {
			if err := s.DeleteForMe(ctx, step.deleted.Event.ID); err != nil {
				t.Fatal(err)
			}
		}
		if got := line(); got != step.want {
			t.Errorf("inbox line: got %q, want %q", got, step.want)
		}
	}
	mustIngest(t, s, me, bob.ev(t, conv, 5, edit(m1.Event.ID, "now short")))
	if got := line(); got != "now short" {
		t.Errorf("after edit: got %q, want \"now short\"", got)
	}
	m6 := bob.ev(t, conv, 6, text("x"))
	mustIngest(t, s, me, m6)
	if err := s.DeleteForMe(ctx, m6.Event.ID); err != nil {
		t.Fatal(err)
	}
	if got := line(); got != "now short" {
		t.Errorf("recomputed after edit: got %q, want \"now short\"", got)
	}
	if r, _ := s.Search(ctx, "short", conv, 10); len(r) != 1 || r[0].ID != m1.Event.ID {
		t.Errorf("search the edited text: got %d results, want m1", len(r))
	}
}
