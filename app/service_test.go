package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kite/app"
	"kite/app/media"
	"kite/crypto/keys"
)

func TestSendTextValidation(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	conv, err := a.svc.Resolve(ctx, "bob", false)
	if err != nil {
		t.Fatalf("resolve bob: %v", err)
	}
	tests := []struct {
		name string
		text string
		want error
	}{
		{"empty", "", app.ErrInvalid},
		{"spaces", "   \n ", app.ErrInvalid},
		{"4097 characters", strings.Repeat("é", 4097), app.ErrTooLarge},
		{"invalid utf-8", "hi \xff\xfe", app.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.svc.SendText(ctx, conv, tt.text, app.EventID{})
			wantErr(t, "send", err, tt.want)
		})
	}
	if n := len(mustMessages(t, a, conv)); n != 0 {
		t.Fatalf("after refused sends: got %d messages, want 0", n)
	}
	if _, err := a.svc.SendText(ctx, conv, strings.Repeat("é", 4096), app.EventID{}); err != nil {
		t.Fatalf("4096 characters: got %v, want success", err)
	}
	if _, err := a.svc.SendText(ctx, app.ConvID{1}, "hi", app.EventID{}); err == nil {
		t.Fatal("unknown conversation: got nil error")
	} else {
		wantErr(t, "unknown conversation", err, app.ErrNotFound)
	}
}

func TestSendReplyReactEditUnsend(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	conv, _ := a.svc.Resolve(ctx, "bob", false)
	hi, err := a.svc.SendText(ctx, conv, "hi bob", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, a, b, conv)
	reply, err := b.svc.SendText(ctx, conv, "hi ada", hi.ID)
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	if _, err := b.svc.React(ctx, hi.ID, "❤"); err != nil {
		t.Fatalf("react: %v", err)
	}
	if _, err := b.svc.React(ctx, hi.ID, "😂"); err != nil {
		t.Fatalf("change reaction: %v", err)
	}
	deliver(t, b, a, conv)
	m, err := a.svc.Message(ctx, hi.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Reactions) != 1 || m.Reactions[0].Emoji != "😂" || m.Reactions[0].Author != b.key {
		t.Fatalf("reactions: got %+v, want one 😂 by bob", m.Reactions)
	}
	r, _ := a.svc.Message(ctx, reply.ID)
	if r.ReplyTo != hi.ID {
		t.Fatalf("reply_to: got %v, want %v", r.ReplyTo, hi.ID)
	}
	if _, err := b.svc.React(ctx, hi.ID, ""); err != nil {
		t.Fatalf("remove reaction: %v", err)
	}
	deliver(t, b, a, conv)
	if m, _ := a.svc.Message(ctx, hi.ID); len(m.Reactions) != 0 {
		t.Fatalf("after removing: got reactions %+v, want none", m.Reactions)
	}

	// Edits: own only, within 15 minutes.
	_, err = b.svc.Edit(ctx, hi.ID, "hacked")
	wantErr(t, "edit someone else's", err, app.ErrNotAuthor)
	if _, err := a.svc.Edit(ctx, hi.ID, "hi bob!"); err != nil {
		t.Fatalf("edit: %v", err)
	}
	deliver(t, a, b, conv)
	if m, _ := b.svc.Message(ctx, hi.ID); m.Text != "hi bob!" || !m.Edited {
		t.Fatalf("edited at bob: got %q edited=%v, want %q edited", m.Text, m.Edited, "hi bob!")
	}
	a.now = a.now.Add(16 * time.Minute)
	_, err = a.svc.Edit(ctx, hi.ID, "too late")
	wantErr(t, "edit after 16 minutes", err, app.ErrTooLate)

	// Unsend: own only; purges text and reactions everywhere.
	_, err = b.svc.Unsend(ctx, hi.ID)
	wantErr(t, "unsend someone else's", err, app.ErrNotAuthor)
	if _, err := b.svc.React(ctx, hi.ID, "👍"); err != nil {
		t.Fatal(err)
	}
	deliver(t, b, a, conv)
	if _, err := a.svc.Unsend(ctx, hi.ID); err != nil {
		t.Fatalf("unsend: %v", err)
	}
	deliver(t, a, b, conv)
	for _, d := range []*device{a, b} {
		m, err := d.svc.Message(ctx, hi.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Unsent || m.Text != "" || len(m.Reactions) != 0 {
			t.Fatalf("after unsend: got unsent=%v text=%q reactions=%v, want purged", m.Unsent, m.Text, m.Reactions)
		}
		if res, err := d.svc.Search(ctx, "bob", app.ConvID{}, 10); err != nil || len(res) != 0 {
			t.Fatalf("search after unsend: got %d results (%v), want 0", len(res), err)
		}
	}
	_, err = a.svc.Unsend(ctx, hi.ID)
	wantErr(t, "unsend twice", err, app.ErrInvalid)
	_, err = a.svc.React(ctx, app.EventID{9}, "❤")
	wantErr(t, "react to unknown message", err, app.ErrNotFound)
}

func TestDeleteForMeAndConversation(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	conv, _ := a.svc.Resolve(ctx, "bob", false)
	m1, _ := a.svc.SendText(ctx, conv, "one", app.EventID{})
	if _, err := a.svc.SendText(ctx, conv, "two", app.EventID{}); err != nil {
		t.Fatal(err)
	}
	deliver(t, a, b, conv)
	if err := b.svc.DeleteForMe(ctx, m1.ID); err != nil {
		t.Fatalf("delete for me: %v", err)
	}
	if ms := mustMessages(t, b, conv); len(ms) != 1 || ms[0].Text != "two" {
		t.Fatalf("bob after delete for me: got %d messages, want only %q", len(ms), "two")
	}
	if ms := mustMessages(t, a, conv); len(ms) != 2 {
		t.Fatalf("ada still has: got %d messages, want 2", len(ms))
	}
	if err := b.svc.DeleteConversation(ctx, conv); err != nil {
		t.Fatalf("delete conversation: %v", err)
	}
	if ms := mustMessages(t, b, conv); len(ms) != 0 {
		t.Fatalf("bob after deleting the chat: got %d messages, want 0", len(ms))
	}
	inbox, _ := b.svc.Inbox(ctx, app.InboxQuery{})
	if len(inbox) != 0 {
		t.Fatalf("bob's inbox after delete: got %d rows, want 0", len(inbox))
	}
	// A new message brings the chat back, with only the new message.
	if _, err := a.svc.SendText(ctx, conv, "three", app.EventID{}); err != nil {
		t.Fatal(err)
	}
	deliver(t, a, b, conv)
	if ms := mustMessages(t, b, conv); len(ms) != 1 || ms[0].Text != "three" {
		t.Fatalf("after a new message: got %v, want only %q", texts(ms), "three")
	}
	err := b.svc.DeleteForMe(ctx, app.EventID{7})
	wantErr(t, "delete unknown message", err, app.ErrNotFound)
}

func texts(ms []app.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

func TestSendToMany(t *testing.T) {
	ctx := context.Background()
	a := newDevice(t, "ada")
	var tos []string
	for i := range 16 {
		p := newDevice(t, fmt.Sprintf("p%d", i))
		if _, err := a.svc.AddContact(ctx, p.code()); err != nil {
			t.Fatal(err)
		}
		tos = append(tos, fmt.Sprintf("p%d", i))
	}
	_, err := a.svc.SendToMany(ctx, tos, "hello all", false)
	wantErr(t, "16 recipients", err, app.ErrTooLarge)
	if inbox, _ := a.svc.Inbox(ctx, app.InboxQuery{}); len(inbox) != 0 {
		t.Fatalf("after refusing 16: got %d conversations with messages, want 0", len(inbox))
	}
	_, err = a.svc.SendToMany(ctx, append(tos[:3:3], "nobody_here"), "hi", false)
	wantErr(t, "an unknown recipient", err, app.ErrNotFound)
	evs, err := a.svc.SendToMany(ctx, tos[:15], "hello all", false)
	if err != nil {
		t.Fatalf("15 recipients: %v", err)
	}
	if len(evs) != 15 {
		t.Fatalf("got %d events, want 15", len(evs))
	}
	// Forward one of them to two others.
	fw, err := a.svc.Forward(ctx, evs[0].ID, []string{"p1", "p2"})
	if err != nil || len(fw) != 2 {
		t.Fatalf("forward: got %d events, %v; want 2", len(fw), err)
	}
	m, _ := a.svc.Message(ctx, fw[0].ID)
	if m.Text != "hello all" || !m.Forwarded {
		t.Fatalf("forwarded: got %q forwarded=%v", m.Text, m.Forwarded)
	}
}

func TestGroups(t *testing.T) {
	ctx := context.Background()
	a, b, c, d := newDevice(t, "ada"), newDevice(t, "bob"), newDevice(t, "cleo"), newDevice(t, "dev")
	for _, p := range []*device{b, c, d} {
		befriend(t, a, p)
	}
	befriend(t, b, c)
	_, err := a.svc.CreateGroup(ctx, "", []app.PeerKey{b.key}, false)
	wantErr(t, "no name", err, app.ErrInvalid)
	_, err = a.svc.CreateGroup(ctx, "Trip", nil, false)
	wantErr(t, "no members", err, app.ErrInvalid)
	stranger := newDevice(t, "eve")
	_, err = a.svc.CreateGroup(ctx, "Trip", []app.PeerKey{stranger.key}, false)
	wantErr(t, "unknown member", err, app.ErrNotFound)

	g, err := a.svc.CreateGroup(ctx, "Trip", []app.PeerKey{b.key, c.key}, false)
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	deliver(t, a, b, g)
	deliver(t, a, c, g)
	if _, err := b.svc.SendText(ctx, g, "hello group", app.EventID{}); err != nil {
		t.Fatalf("member sends: %v", err)
	}
	// Only admins change membership.
	_, err = b.svc.AddMembers(ctx, g, []app.PeerKey{a.key})
	wantErr(t, "non-admin adds", err, app.ErrNotAdmin)
	if _, err := a.svc.RenameGroup(ctx, g, "Trip 2026"); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if _, err := a.svc.AddMembers(ctx, g, []app.PeerKey{d.key}); err != nil {
		t.Fatalf("add: %v", err)
	}
	_, err = a.svc.AddMembers(ctx, g, []app.PeerKey{d.key})
	wantErr(t, "add twice", err, app.ErrInvalid)
	if _, err := a.svc.PromoteAdmin(ctx, g, b.key); err != nil {
		t.Fatalf("promote: %v", err)
	}
	if _, err := a.svc.RemoveMembers(ctx, g, []app.PeerKey{c.key}); err != nil {
		t.Fatalf("remove: %v", err)
	}
	for _, p := range []*device{b, c, d} {
		deliver(t, a, p, g)
	}
	deliver(t, b, a, g)
	ms, err := b.svc.Members(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	got := map[app.PeerKey]bool{}
	for _, m := range ms {
		got[m.Key] = m.Admin
	}
	want := map[app.PeerKey]bool{a.key: true, b.key: true, d.key: false}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("members at bob: got %v, want %v", got, want)
	}
	conv, _ := b.svc.Conversation(ctx, g)
	if conv.Title != "Trip 2026" {
		t.Fatalf("title: got %q, want %q", conv.Title, "Trip 2026")
	}
	// The removed member can no longer act.
	_, err = c.svc.SendText(ctx, g, "still here?", app.EventID{})
	wantErr(t, "removed member sends", err, app.ErrNotMember)
	// An outsider's event is refused by the others.
	outsider := textEvent(t, stranger.id.SignPriv, g, "let me in", app.Position{Seq: 1, Lamport: 99})
	outs, err := a.svc.Ingest(ctx, []app.Event{outsider}, app.PathLAN, stranger.key)
	if err != nil || outs[0].Err == nil {
		t.Fatalf("outsider's event: got %v / %v, want refused", err, outs)
	}
	// Leave.
	if _, err := d.svc.LeaveGroup(ctx, g); err != nil {
		t.Fatalf("leave: %v", err)
	}
	_, err = d.svc.LeaveGroup(ctx, g)
	if err == nil {
		t.Fatal("leave twice: got nil error")
	}
	_, err = d.svc.SendText(ctx, g, "bye?", app.EventID{})
	wantErr(t, "send after leaving", err, app.ErrNotMember)
}

func TestGroupSizeLimit(t *testing.T) {
	ctx := context.Background()
	a := newDevice(t, "ada")
	var ks []app.PeerKey
	for range 250 {
		id, err := keys.Generate()
		if err != nil {
			t.Fatal(err)
		}
		code := id.ContactCode("", nil).String()
		p, err := a.svc.AddContact(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, p.Key)
	}
	_, err := a.svc.CreateGroup(ctx, "Too big", ks, false)
	wantErr(t, "251 members", err, app.ErrTooLarge)
	if _, err := a.svc.CreateGroup(ctx, "Full", ks[:249], false); err != nil {
		t.Fatalf("250 members: %v", err)
	}
}

func TestConversationSettings(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	conv, _ := a.svc.Resolve(ctx, "bob", false)
	if _, err := a.svc.SendText(ctx, conv, "hi", app.EventID{}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{time.Hour, 8 * time.Hour, 24 * time.Hour, app.MuteForever, 0} {
		if err := a.svc.Mute(ctx, conv, d); err != nil {
			t.Fatalf("mute %v: %v", d, err)
		}
		c, _ := a.svc.Conversation(ctx, conv)
		if got, want := c.Muted(a.now), d != 0; got != want {
			t.Fatalf("mute %v: muted=%v, want %v", d, got, want)
		}
	}
	wantErr(t, "mute 3h", a.svc.Mute(ctx, conv, 3*time.Hour), app.ErrInvalid)
	if err := a.svc.Pin(ctx, conv, true); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.Archive(ctx, conv, true); err != nil {
		t.Fatal(err)
	}
	c, _ := a.svc.Conversation(ctx, conv)
	if !c.Pinned || !c.Archived {
		t.Fatalf("pinned=%v archived=%v, want both", c.Pinned, c.Archived)
	}
	if archived, _ := a.svc.Inbox(ctx, app.InboxQuery{Archived: true}); len(archived) != 1 {
		t.Fatalf("archive view: got %d, want 1", len(archived))
	}
	if err := a.svc.Move(ctx, conv, app.General); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "move to requests", a.svc.Move(ctx, conv, app.Requests), app.ErrInvalid)
	if c, _ := a.svc.Conversation(ctx, conv); c.Folder != app.General {
		t.Fatalf("folder: got %v, want general", c.Folder)
	}
	if _, err := a.svc.SetTheme(ctx, conv, "ocean"); err != nil {
		t.Fatal(err)
	}
	_, err := a.svc.SetTheme(ctx, conv, "neon-pink")
	wantErr(t, "unknown theme", err, app.ErrInvalid)
	_, err = a.svc.SetDisappearing(ctx, conv, 42)
	wantErr(t, "disappearing 42s", err, app.ErrInvalid)
	deliver(t, a, b, conv)
	if c, _ := b.svc.Conversation(ctx, conv); c.Theme != "ocean" {
		t.Fatalf("theme at bob: got %q, want ocean", c.Theme)
	}
}

func TestDisappearingMessages(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	conv, _ := a.svc.Resolve(ctx, "bob", false)
	if _, err := a.svc.SetDisappearing(ctx, conv, 3600); err != nil {
		t.Fatal(err)
	}
	m, err := a.svc.SendText(ctx, conv, "secret plans", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, a, b, conv)
	for _, d := range []*device{a, b} {
		d.now = d.now.Add(59 * time.Minute)
		if err := d.svc.PurgeExpired(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.svc.Message(ctx, m.ID); got.Text != "secret plans" {
			t.Fatalf("after 59 minutes: got %q, want the text", got.Text)
		}
		d.now = d.now.Add(2 * time.Minute)
		if err := d.svc.PurgeExpired(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ := d.svc.Message(ctx, m.ID)
		if got.Text != "" || !got.Expired {
			t.Fatalf("after 61 minutes: got %q expired=%v, want purged", got.Text, got.Expired)
		}
		if res, _ := d.svc.Search(ctx, "secret", app.ConvID{}, 5); len(res) != 0 {
			t.Fatalf("search after expiry: got %d, want 0", len(res))
		}
	}
}

func TestRequestsAndPrivacy(t *testing.T) {
	ctx := context.Background()
	a, stranger := newDevice(t, "ada"), newDevice(t, "eve")
	// eve knows ada's code; ada does not know eve.
	if _, err := stranger.svc.AddContact(ctx, a.code()); err != nil {
		t.Fatal(err)
	}
	conv, _ := stranger.svc.Resolve(ctx, "ada", false)
	if _, err := stranger.svc.SendText(ctx, conv, "hi, we met at the fest", app.EventID{}); err != nil {
		t.Fatal(err)
	}
	deliver(t, stranger, a, conv)
	reqs, _ := a.svc.Inbox(ctx, app.InboxQuery{Folder: app.Requests})
	if len(reqs) != 1 || reqs[0].ID != conv {
		t.Fatalf("requests: got %d, want the stranger's chat", len(reqs))
	}
	if prim, _ := a.svc.Inbox(ctx, app.InboxQuery{Folder: app.Primary}); len(prim) != 0 {
		t.Fatalf("primary: got %d rows, want 0", len(prim))
	}
	// Strangers send short text only until accepted.
	if _, err := stranger.svc.SendText(ctx, conv, strings.Repeat("x", 2000), app.EventID{}); err != nil {
		t.Fatal(err)
	}
	if errs := deliverAll(t, stranger, a, conv); len(errs) != 1 {
		t.Fatalf("a 2,000-byte request: got %v, want one refusal", errs)
	}
	if err := a.svc.AcceptRequest(ctx, conv); err != nil {
		t.Fatalf("accept: %v", err)
	}
	if c, _ := a.svc.Conversation(ctx, conv); c.Folder != app.Primary {
		t.Fatalf("after accept: folder %v, want primary", c.Folder)
	}
	deliver(t, stranger, a, conv) // now the long one is fine
	wantErr(t, "accept twice", a.svc.AcceptRequest(ctx, conv), app.ErrInvalid)

	// Privacy: nobody / contacts.
	for _, who := range []app.WhoCanMessage{app.Nobody, app.ContactsOnly} {
		b := newDevice(t, "bob")
		if _, err := b.svc.UpdateSettings(ctx, func(s *app.Settings) { s.WhoCanMessage = who }); err != nil {
			t.Fatal(err)
		}
		x := newDevice(t, "xena")
		if _, err := x.svc.AddContact(ctx, b.code()); err != nil {
			t.Fatal(err)
		}
		c, _ := x.svc.Resolve(ctx, "bob", false)
		if _, err := x.svc.SendText(ctx, c, "hi", app.EventID{}); err != nil {
			t.Fatal(err)
		}
		errs := deliverAll(t, x, b, c)
		if len(errs) != 1 {
			t.Fatalf("who=%s: got %v, want one refusal", who, errs)
		}
		var re *app.RefusedError
		if !asRefused(errs[0], &re) || app.RefusalText(re.Reason) == "" {
			t.Fatalf("who=%s: got %v, want a RefusedError with a reason", who, errs[0])
		}
	}
	_, err := a.svc.UpdateSettings(ctx, func(s *app.Settings) { s.WhoCanMessage = "friends-of-friends" })
	wantErr(t, "bad privacy value", err, app.ErrInvalid)
}

func TestBlockAndRestrict(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	conv, _ := a.svc.Resolve(ctx, "bob", false)
	if err := a.svc.Block(ctx, b.key); err != nil {
		t.Fatal(err)
	}
	_, err := a.svc.SendText(ctx, conv, "hi", app.EventID{})
	wantErr(t, "send to a blocked peer", err, app.ErrBlocked)
	bconv, _ := b.svc.Resolve(ctx, "ada", false)
	if _, err := b.svc.SendText(ctx, bconv, "hello?", app.EventID{}); err != nil {
		t.Fatal(err)
	}
	if errs := deliverAll(t, b, a, conv); len(errs) != 1 {
		t.Fatalf("events from a blocked peer: got %v, want refused", errs)
	}
	if err := a.svc.Unblock(ctx, b.key); err != nil {
		t.Fatal(err)
	}
	deliver(t, b, a, conv)
	if err := a.svc.Restrict(ctx, b.key, true); err != nil {
		t.Fatal(err)
	}
	if c, _ := a.svc.Conversation(ctx, conv); c.Folder != app.General {
		t.Fatalf("restricted chat: folder %v, want general", c.Folder)
	}
	wantErr(t, "block yourself", a.svc.Block(ctx, a.key), app.ErrInvalid)
}

func TestBlockRequest(t *testing.T) {
	ctx := context.Background()
	a, stranger := newDevice(t, "ada"), newDevice(t, "eve")
	stranger.svc.AddContact(ctx, a.code())
	conv, _ := stranger.svc.Resolve(ctx, "ada", false)
	stranger.svc.SendText(ctx, conv, "buy crypto", app.EventID{})
	deliver(t, stranger, a, conv)
	if err := a.svc.BlockRequest(ctx, conv); err != nil {
		t.Fatalf("block request: %v", err)
	}
	if p, _ := a.svc.Person(ctx, stranger.key); !p.Blocked {
		t.Fatal("after block request: the sender is not blocked")
	}
	if reqs, _ := a.svc.Inbox(ctx, app.InboxQuery{Folder: app.Requests}); len(reqs) != 0 {
		t.Fatalf("requests after block: got %d, want 0", len(reqs))
	}
}

func TestSeenAndUnread(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	conv, _ := a.svc.Resolve(ctx, "bob", false)
	var last app.Event
	for i := range 3 {
		last, _ = a.svc.SendText(ctx, conv, fmt.Sprintf("m%d", i), app.EventID{})
	}
	deliver(t, a, b, conv)
	if n, _ := b.svc.UnreadTotal(ctx); n != 3 {
		t.Fatalf("unread total: got %d, want 3", n)
	}
	if err := b.svc.MarkSeen(ctx, conv, app.EventID{}); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.svc.UnreadTotal(ctx); n != 0 {
		t.Fatalf("unread after seen: got %d, want 0", n)
	}
	if err := a.svc.ReceiveSeen(ctx, conv, b.key, last.ID); err != nil {
		t.Fatal(err)
	}
	m, _ := a.svc.Message(ctx, last.ID)
	if m.Status != app.StatusSeen || m.SeenBy != 1 {
		t.Fatalf("own message: got status %q seen by %d, want seen by 1", m.Status, m.SeenBy)
	}
	wantErr(t, "seen of unknown conversation", b.svc.MarkSeen(ctx, app.ConvID{3}, app.EventID{}), app.ErrNotFound)
}

func TestSharesAndPolls(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	conv, _ := a.svc.Resolve(ctx, "bob", false)
	if _, err := a.svc.ShareLocation(ctx, conv, 48.8584, 2.2945, "Eiffel Tower"); err != nil {
		t.Fatal(err)
	}
	_, err := a.svc.ShareLocation(ctx, conv, 91, 0, "")
	wantErr(t, "latitude 91", err, app.ErrInvalid)
	if _, err := a.svc.ShareHashtag(ctx, conv, "#kitefest"); err != nil {
		t.Fatal(err)
	}
	_, err = a.svc.ShareHashtag(ctx, conv, "two words")
	wantErr(t, "hashtag with a space", err, app.ErrInvalid)
	if _, err := a.svc.ShareLink(ctx, conv, "https://example.org/x"); err != nil {
		t.Fatal(err)
	}
	_, err = a.svc.ShareLink(ctx, conv, "javascript:alert(1)")
	wantErr(t, "javascript link", err, app.ErrInvalid)
	if _, err := a.svc.ShareContact(ctx, conv, a.key); err != nil {
		t.Fatal(err)
	}
	res, err := a.svc.Search(ctx, "kitef", app.ConvID{}, 10)
	if err != nil || len(res) != 1 || res[0].Share == nil || res[0].Share.Hashtag != "kitefest" {
		t.Fatalf("hashtag search: got %d results (%v), want the hashtag", len(res), err)
	}
	_, err = a.svc.CreatePoll(ctx, conv, "Where?", []string{"beach"})
	wantErr(t, "poll with one option", err, app.ErrInvalid)
	_, err = a.svc.CreatePoll(ctx, conv, "Where?", strings.Fields("a b c d e f g h i j k"))
	wantErr(t, "poll with 11 options", err, app.ErrInvalid)
	poll, err := a.svc.CreatePoll(ctx, conv, "Where?", []string{"beach", "hills"})
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, a, b, conv)
	if _, err := b.svc.Vote(ctx, poll.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Vote(ctx, poll.ID, 1); err != nil {
		t.Fatalf("change vote: %v", err)
	}
	_, err = b.svc.Vote(ctx, poll.ID, 2)
	wantErr(t, "vote out of range", err, app.ErrInvalid)
	if _, err := a.svc.Vote(ctx, poll.ID, 1); err != nil {
		t.Fatal(err)
	}
	deliver(t, b, a, conv)
	m, _ := a.svc.Message(ctx, poll.ID)
	if m.Poll == nil || m.Poll.Options[0].Votes != 0 || m.Poll.Options[1].Votes != 2 || m.Poll.Mine != 1 {
		t.Fatalf("poll results: got %+v, want hills 2, beach 0, mine 1", m.Poll)
	}
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	conv, _ := a.svc.Resolve(ctx, "bob", false)
	for _, s := range []string{"kite festival saturday", "the wind is great", "kites everywhere"} {
		a.svc.SendText(ctx, conv, s, app.EventID{})
	}
	res, err := a.svc.Search(ctx, "kite", app.ConvID{}, 10)
	if err != nil || len(res) != 2 {
		t.Fatalf("prefix search: got %d (%v), want 2", len(res), err)
	}
	if res[0].Text != "kites everywhere" {
		t.Fatalf("newest first: got %q first", res[0].Text)
	}
	if res, _ := a.svc.Search(ctx, "wind", conv, 10); len(res) != 1 {
		t.Fatalf("in one conversation: got %d, want 1", len(res))
	}
	for _, q := range []string{`"`, `*`, `NEAR(`, `-`, `kite OR`, `a AND "b`} {
		if _, err := a.svc.Search(ctx, q, app.ConvID{}, 10); err != nil && !isInvalid(err) {
			t.Fatalf("hostile query %q: got %v, want results or a plain refusal", q, err)
		}
	}
	_, err = a.svc.Search(ctx, "   ", app.ConvID{}, 10)
	wantErr(t, "empty query", err, app.ErrInvalid)
}

func TestContactCodes(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	code := b.code()
	for _, bad := range []string{"", "kite:", "http://x", code[:len(code)-3], strings.Replace(code, "bob", "bib", 1), "kite:" + strings.Repeat("z", 60)} {
		_, err := a.svc.AddContact(ctx, bad)
		wantErr(t, fmt.Sprintf("code %q", bad), err, app.ErrInvalid)
	}
	if ps, _ := a.svc.People(ctx, false); len(ps) != 0 {
		t.Fatalf("after bad codes: got %d people, want 0", len(ps))
	}
	_, err := a.svc.AddContact(ctx, a.code())
	wantErr(t, "own code", err, app.ErrInvalid)
	p, err := a.svc.AddContact(ctx, code)
	if err != nil || p.Handle != "bob" || !p.Contact {
		t.Fatalf("add contact: got %+v, %v", p, err)
	}
}

func TestProfiles(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	_, err := a.svc.SetProfile(ctx, "Ada Lovelace", "", "")
	wantErr(t, "handle with a space", err, app.ErrInvalid)
	if _, err := a.svc.SetProfile(ctx, "ada", "Ada L.", "engines"); err != nil {
		t.Fatal(err)
	}
	data, sig, err := a.svc.SignedProfile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.ApplyProfile(ctx, b.key, data, sig); err == nil {
		t.Fatal("a profile delivered as someone else's: got nil error")
	}
	sig2 := append([]byte(nil), sig...)
	sig2[0] ^= 1
	if _, err := b.svc.ApplyProfile(ctx, a.key, data, sig2); err == nil {
		t.Fatal("forged profile signature: got nil error")
	}
	p, err := b.svc.ApplyProfile(ctx, a.key, data, sig)
	if err != nil || p.Name != "Ada L." || p.BoxKey != app.Hash(*a.id.BoxPub) {
		t.Fatalf("apply profile: got %+v, %v", p, err)
	}
}

func TestE2EConversation(t *testing.T) {
	ctx := context.Background()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	conv, err := a.svc.Resolve(ctx, "bob", true)
	if err != nil {
		t.Fatal(err)
	}
	if conv == app.DirectConvID(a.key, b.key, false) {
		t.Fatal("the e2e 1:1 has the same ID as the regular one")
	}
	const marker = "MARKER-e2e-7f3a"
	m, err := a.svc.SendText(ctx, conv, marker, app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(m.Body), marker) {
		t.Fatal("the stored body holds the plaintext")
	}
	deliver(t, a, b, conv)
	got, err := b.svc.Message(ctx, m.ID)
	if err != nil || got.Text != marker {
		t.Fatalf("bob reads: got %q (%v), want the text", got.Text, err)
	}
	c, _ := b.svc.Conversation(ctx, conv)
	if !c.E2E {
		t.Fatal("bob's conversation is not marked end-to-end")
	}
}

func TestCorruptKeyAndPassphrase(t *testing.T) {
	dir := t.TempDir()
	id, _ := keys.Generate()
	cheap := keys.KDFParams{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}
	if err := keys.Save(dir, id, []byte("correct horse"), cheap); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Load(dir, []byte("wrong")); err == nil || !strings.Contains(app.Plain(err)+err.Error(), "passphrase") {
		t.Fatalf("wrong passphrase: got %v", err)
	}
	got, err := keys.Load(dir, []byte("correct horse"))
	if err != nil || got.PeerID() != id.PeerID() {
		t.Fatalf("right passphrase: got %v, %v; want the same identity", got, err)
	}
}

func isInvalid(err error) bool { return err != nil && app.Plain(err) != "" && asInvalid(err) }

func TestLinkPreviewFetchedBySender(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><head><title>Kite festival</title><meta name="description" content="Kites over the bay"></head></html>`)
	}))
	defer srv.Close()
	a, b := newDevice(t, "ada"), newDevice(t, "bob")
	befriend(t, a, b)
	fetched := 0
	a.svc.SetLinkPreviews(func(ctx context.Context, u string) (media.Preview, error) {
		fetched++
		return media.FetchPreview(ctx, srv.Client(), u)
	})
	conv, _ := a.svc.Resolve(ctx, "bob", false)
	m, err := a.svc.SendText(ctx, conv, "look: "+srv.URL+"/fest", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, a, b, conv)
	got, _ := b.svc.Message(ctx, m.ID)
	if fetched != 1 || got.Share == nil || got.Share.Title != "Kite festival" || got.Share.Description != "Kites over the bay" {
		t.Fatalf("preview at the receiver: got %+v after %d fetches, want the sender's", got.Share, fetched)
	}
	// Off in settings: no fetch.
	a.svc.UpdateSettings(ctx, func(s *app.Settings) { s.LinkPreviews = false })
	if _, err := a.svc.SendText(ctx, conv, srv.URL, app.EventID{}); err != nil || fetched != 1 {
		t.Fatalf("with previews off: fetched %d times (%v), want 1", fetched, err)
	}
}
