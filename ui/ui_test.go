package ui

import (
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"kite/app"
	"kite/app/pb"
	"kite/app/store"
	"kite/crypto/keys"
	"kite/crypto/seal"
)

// device is one Kite device on a real store.
type device struct {
	id  *keys.Identity
	svc *app.Service
	key app.PeerKey
}

func newDevice(t testing.TB, handle string) *device {
	t.Helper()
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "kite.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	d := &device{id: id, key: app.PeerKeyOf(id.SignPub)}
	d.svc = app.New(app.Params{Store: st, Identity: id})
	if _, err := d.svc.SetProfile(context.Background(), handle, strings.ToUpper(handle[:1])+handle[1:], ""); err != nil {
		t.Fatalf("set profile: %v", err)
	}
	return d
}

func (d *device) code() string {
	p, _ := d.svc.Profile(context.Background())
	return d.id.ContactCode(p.Handle, nil).String()
}

func befriend(t testing.TB, a, b *device) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.svc.AddContact(ctx, b.code()); err != nil {
		t.Fatalf("add contact: %v", err)
	}
	if _, err := b.svc.AddContact(ctx, a.code()); err != nil {
		t.Fatalf("add contact: %v", err)
	}
}

// deliver copies what to lacks of from's logs in conv, as the network would.
func deliver(t testing.TB, from, to *device, conv app.ConvID) {
	t.Helper()
	ctx := context.Background()
	have, err := to.svc.Versions(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	vv, err := from.svc.Versions(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	var evs []app.Event
	for author := range vv {
		more, err := from.svc.EventsAfter(ctx, conv, author, have[author], 10000)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, more...)
	}
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Lamport < evs[j-1].Lamport; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
	var wire []app.Event
	for _, ev := range evs {
		got, err := app.DecodeEvent(ev.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		wire = append(wire, got)
	}
	outs, err := to.svc.Ingest(ctx, wire, app.PathLAN, from.key)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Err != nil && !errors.Is(o.Err, app.ErrDuplicate) {
			t.Fatalf("deliver: %v", o.Err)
		}
	}
}

// stranger sends me a first message from someone I don't know.
func stranger(t *testing.T, me *device, text string) (*device, app.ConvID) {
	t.Helper()
	s := newDevice(t, "eve")
	conv := app.DirectConvID(me.key, s.key, false)
	body, err := app.EncodeBody(&pb.Body{Content: &pb.Body_Text{Text: &pb.Text{Text: text}}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := app.SignEvent(s.id.SignPriv, conv, app.KindText, body, app.Position{Seq: 1, Lamport: 1}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	outs, err := me.svc.Ingest(context.Background(), []app.Event{ev}, app.PathLAN, s.key)
	if err != nil || outs[0].Err != nil {
		t.Fatalf("ingest request: %v %v", err, outs)
	}
	return s, conv
}

type world struct {
	me, bob, carol *device
	direct, group  app.ConvID
	u              *UI
}

func newWorld(t testing.TB) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{me: newDevice(t, "alice"), bob: newDevice(t, "bob"), carol: newDevice(t, "carol")}
	befriend(t, w.me, w.bob)
	befriend(t, w.me, w.carol)
	befriend(t, w.bob, w.carol)
	var err error
	if w.direct, err = w.me.svc.Direct(ctx, w.bob.key, false); err != nil {
		t.Fatal(err)
	}
	if _, err := w.bob.svc.Direct(ctx, w.me.key, false); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"hi alice", "how are you?"} {
		if _, err := w.bob.svc.SendText(ctx, w.direct, s, app.EventID{}); err != nil {
			t.Fatal(err)
		}
	}
	deliver(t, w.bob, w.me, w.direct)
	if w.group, err = w.me.svc.CreateGroup(ctx, "Climbing", []app.PeerKey{w.bob.key, w.carol.key}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := w.me.svc.SendText(ctx, w.group, "saturday?", app.EventID{}); err != nil {
		t.Fatal(err)
	}
	a := test.NewTempApp(t)
	w.u = New(Params{App: a, Service: w.me.svc, DataDir: t.TempDir(), SafetyNumber: seal.SafetyNumber})
	// The test driver runs fyne.Do on the calling goroutine: serialize.
	// The test goroutine holds uiMu except while it settles, so the
	// background work applies to the UI only then.
	w.u.do = func(f func()) { uiMu.Lock(); defer uiMu.Unlock(); f() }
	uiMu.Lock()
	t.Cleanup(func() { w.u.cancel(); uiMu.Unlock(); w.u.wg.Wait() })
	t.Cleanup(w.u.cancel)
	w.u.ShowMain()
	settle(w.u)
	return w
}

// uiMu serializes what background work applies to the UI in tests.
var uiMu sync.Mutex

// settle lets the UI's background work run and waits for it to finish.
func settle(u *UI) {
	uiMu.Unlock()
	u.wg.Wait()
	uiMu.Lock()
}

// runUI runs u.Run, taking updates, until the test ends.
func runUI(t *testing.T, u *UI) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- u.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		uiMu.Unlock()
		defer uiMu.Lock()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	time.Sleep(50 * time.Millisecond) // let Run subscribe
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, u *UI, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 100; i++ {
		settle(u)
		if cond() {
			return
		}
		uiMu.Unlock()
		time.Sleep(50 * time.Millisecond)
		uiMu.Lock()
	}
	t.Fatalf("timed out waiting for %s", what)
}

func lastMessage(t *testing.T, d *device, conv app.ConvID) app.Message {
	t.Helper()
	ms, err := d.svc.Messages(context.Background(), conv, app.Cursor{}, 1)
	if err != nil || len(ms) == 0 {
		t.Fatalf("messages: %v (%d)", err, len(ms))
	}
	return ms[0]
}

func pressEnter(e *chatEntry) { e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) }

func menuItem(t *testing.T, items []*fyne.MenuItem, label string) *fyne.MenuItem {
	t.Helper()
	for _, it := range items {
		if it.Label == label {
			return it
		}
	}
	t.Fatalf("no menu item %q", label)
	return nil
}

func TestEveryScreenBuilds(t *testing.T) {
	w := newWorld(t)
	stranger(t, w.me, "hello, can we talk?")
	u := w.u
	if got := len(u.inbox.rows); got != 2 {
		t.Fatalf("inbox rows: got %d, want 2", got)
	}
	for _, tc := range []struct{ screen, page string }{
		{"inbox", "empty"}, {"direct", "chat"}, {"group", "chat"}, {"requests", "chat"},
		{"info", "info"}, {"new", "empty"}, {"settings", "settings"},
	} {
		u.ShowScreen(tc.screen)
		settle(u)
		if u.page != tc.page {
			t.Errorf("ShowScreen(%q): page %q, want %q", tc.screen, u.page, tc.page)
		}
	}
	u.ShowScreen("group")
	settle(u)
	if u.conv.c.Kind != app.Group || len(u.conv.rows) == 0 {
		t.Errorf("group screen: kind %v with %d rows", u.conv.c.Kind, len(u.conv.rows))
	}
	u.ShowScreen("requests")
	settle(u)
	if u.conv.c.Folder != app.Requests || u.conv.accept == nil {
		t.Errorf("requests screen: folder %q, request bar %v", u.conv.c.Folder, u.conv.accept != nil)
	}
	if !strings.Contains(u.inbox.tabs[2].Text, "(1)") {
		t.Errorf("requests tab %q, want a count of 1", u.inbox.tabs[2].Text)
	}
}

func TestSendReplyReactEditUnsend(t *testing.T) {
	w := newWorld(t)
	u := w.u
	ctx := context.Background()
	u.openConv(w.direct)
	settle(u)
	c := u.conv.compose

	// Send with Enter.
	test.Type(c.entry, "hello bob")
	pressEnter(c.entry)
	settle(u)
	m := lastMessage(t, w.me, w.direct)
	if m.Text != "hello bob" || m.Author != w.me.key {
		t.Fatalf("sent %q by %v, want hello bob by me", m.Text, m.Author)
	}
	if c.entry.Text != "" {
		t.Errorf("entry after send: %q, want empty", c.entry.Text)
	}
	if got := u.conv.rows[len(u.conv.rows)-1]; got.kind != rowStatus {
		t.Errorf("last row kind %v, want the status line", got.kind)
	}

	// Reply to bob's first message.
	first := u.conv.msgs[0]
	menuItem(t, u.conv.messageActions(first), "Reply").Action()
	if c.reply != first.ID || !c.banner.Visible() {
		t.Fatal("reply banner not shown")
	}
	test.Type(c.entry, "fine, thanks")
	pressEnter(c.entry)
	settle(u)
	m = lastMessage(t, w.me, w.direct)
	if m.ReplyTo != first.ID {
		t.Fatalf("reply to %v, want %v", m.ReplyTo.Short(), first.ID.Short())
	}
	found := false
	for _, r := range u.conv.rows {
		if r.kind == rowMsg && r.quote == "hi alice" {
			found = true
		}
	}
	if !found {
		t.Error("no reply quote row")
	}

	// Double tap sends ❤ on bob's message.
	for _, r := range u.conv.rows {
		if r.kind == rowMsg && u.conv.msgs[r.msg].ID == first.ID {
			row := newMsgRow(u.conv)
			row.set(0, r)
			test.DoubleTap(row)
		}
	}
	settle(u)
	got, err := w.me.svc.Message(ctx, first.ID)
	if err != nil || len(got.Reactions) != 1 || got.Reactions[0].Emoji != "❤️" {
		t.Fatalf("reactions %v (%v), want one ❤️", got.Reactions, err)
	}

	// Edit the reply.
	menuItem(t, u.conv.messageActions(m), "Edit").Action()
	if c.entry.Text != "fine, thanks" {
		t.Fatalf("edit puts %q in the entry", c.entry.Text)
	}
	c.entry.SetText("great, thanks")
	pressEnter(c.entry)
	settle(u)
	if got, _ := w.me.svc.Message(ctx, m.ID); got.Text != "great, thanks" || !got.Edited {
		t.Fatalf("after edit: %q edited=%v", got.Text, got.Edited)
	}

	// Unsend it.
	m, _ = w.me.svc.Message(ctx, m.ID)
	menuItem(t, u.conv.messageActions(m), "Unsend").Action()
	settle(u)
	if got, _ := w.me.svc.Message(ctx, m.ID); !got.Unsent {
		t.Fatal("message not unsent")
	}
	u.conv.refresh()
	settle(u)
	if r := u.conv.rows[u.conv.rowOf(m.ID)]; !r.italic || r.lines[0] != "You unsent a message" {
		t.Errorf("unsent row %q italic=%v", r.lines, r.italic)
	}
	// Unsend is not offered twice, and a gone message has no Reply.
	for _, it := range u.conv.messageActions(u.conv.msgs[u.conv.rows[u.conv.rowOf(m.ID)].msg]) {
		if it.Label == "Unsend" || it.Label == "Reply" {
			t.Errorf("menu of an unsent message offers %q", it.Label)
		}
	}
}

func TestAcceptRequestThroughUpdates(t *testing.T) {
	w := newWorld(t)
	u := w.u
	runUI(t, u)
	_, conv := stranger(t, w.me, "hi, it's eve from the meetup")
	eventually(t, u, "the request count", func() bool { return u.inbox.requests == 1 })
	u.inbox.setFolder(app.Requests)
	eventually(t, u, "the request row", func() bool { return len(u.inbox.rows) == 1 })
	if p := previewText(*u.inbox.rows[0].conv, u.me, false); p != "hi, it's eve from the meetup" {
		t.Errorf("request preview %q", p)
	}
	u.openConv(conv)
	settle(u)
	if u.conv.accept == nil || len(u.conv.msgs) != 1 {
		t.Fatalf("request view: %d messages", len(u.conv.msgs))
	}
	test.Tap(u.conv.accept)
	settle(u)
	c, err := w.me.svc.Conversation(context.Background(), conv)
	if err != nil || c.Folder != app.Primary {
		t.Fatalf("after accept: folder %q (%v), want primary", c.Folder, err)
	}
	eventually(t, u, "the request count to clear", func() bool { return u.inbox.requests == 0 })
}

func TestCreateGroupFromNewMessage(t *testing.T) {
	w := newWorld(t)
	u := w.u
	u.showNewMessage()
	settle(u)
	nm := u.newMsg
	if len(nm.pick.all) != 2 {
		t.Fatalf("candidates %d, want 2", len(nm.pick.all))
	}
	test.Type(nm.pick.search, "car")
	if len(nm.pick.shown) != 1 {
		t.Fatalf("search shows %d, want 1", len(nm.pick.shown))
	}
	nm.pick.toggle(w.bob.key, true)
	nm.pick.toggle(w.carol.key, true)
	if !nm.group.Visible() {
		t.Fatal("group name field hidden with two people")
	}
	test.Type(nm.group, "Book club")
	nm.submit()
	settle(u)
	if u.conv.c.Kind != app.Group || u.conv.c.Title != "Book club" {
		t.Fatalf("opened %v %q, want the new group", u.conv.c.Kind, u.conv.c.Title)
	}
	// One person opens the 1:1 instead.
	u.showNewMessage()
	settle(u)
	u.newMsg.pick.toggle(w.bob.key, true)
	u.newMsg.submit()
	settle(u)
	if u.conv.id != w.direct {
		t.Fatal("one person did not open the existing 1:1")
	}
}

func TestMuteAndBlockFromInfo(t *testing.T) {
	w := newWorld(t)
	u := w.u
	ctx := context.Background()
	u.openConv(w.direct)
	settle(u)
	u.showInfo()
	settle(u)
	p, ok := u.right.Objects[0], u.page == "info"
	if !ok || p == nil {
		t.Fatal("info panel not shown")
	}
	panel := newInfoPanel(u, u.conv.c)
	settle(u)
	panel.mute.SetSelected("For 8 hours")
	settle(u)
	c, _ := w.me.svc.Conversation(ctx, w.direct)
	if !c.Muted(time.Now()) || c.MutedUntil.After(time.Now().Add(9*time.Hour)) {
		t.Fatalf("muted until %v, want about 8h from now", c.MutedUntil)
	}
	panel.mute.SetSelected("Not muted")
	settle(u)
	if c, _ := w.me.svc.Conversation(ctx, w.direct); c.Muted(time.Now()) {
		t.Fatal("still muted")
	}
	u.act("block", func(ctx context.Context) error { return u.svc.Block(ctx, w.bob.key) }, panel.reload)
	settle(u)
	if p, _ := w.me.svc.Person(ctx, w.bob.key); !p.Blocked {
		t.Fatal("bob not blocked")
	}
	u.reloadAll()
	settle(u)
	u.conv.refreshBottom()
	if u.conv.bottom.Objects[0] == u.conv.compose.root {
		t.Error("composer still shown for a blocked person")
	}
	// A failed action shows a dialog with plain words instead of crashing.
	u.conv.compose.entry.SetText("still there?")
	pressEnter(u.conv.compose.entry)
	settle(u)
	if u.conv.compose.entry.Text != "still there?" {
		t.Errorf("text after a refused send: %q, want it kept", u.conv.compose.entry.Text)
	}
}

func TestSearchFindsPeopleAndMessages(t *testing.T) {
	w := newWorld(t)
	u := w.u
	test.Type(u.inbox.search, "saturday")
	settle(u)
	if len(u.inbox.rows) != 2 || u.inbox.rows[0].head != "Messages" || u.inbox.rows[1].msg == nil {
		t.Fatalf("search rows %+v", u.inbox.rows)
	}
	u.inbox.search.SetText("car")
	settle(u)
	if len(u.inbox.rows) < 2 || u.inbox.rows[1].person == nil || u.inbox.rows[1].person.Key != w.carol.key {
		t.Fatalf("people search rows %+v", u.inbox.rows)
	}
}

func TestOlderPagesLoad(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for i := 0; i < 120; i++ {
		if _, err := w.me.svc.SendText(ctx, w.direct, "message "+itoa(i), app.EventID{}); err != nil {
			t.Fatal(err)
		}
	}
	u := w.u
	u.openConv(w.direct)
	settle(u)
	if len(u.conv.msgs) != pageSize || !u.conv.hasOlder {
		t.Fatalf("first page: %d messages, older %v", len(u.conv.msgs), u.conv.hasOlder)
	}
	u.conv.loadOlder()
	settle(u)
	u.conv.loadOlder()
	settle(u)
	if got := len(u.conv.msgs); got != 122 || u.conv.hasOlder {
		t.Fatalf("after loading older: %d messages, older %v; want 122, false", got, u.conv.hasOlder)
	}
	for i := 1; i < len(u.conv.msgs); i++ {
		if !cursorLess(app.CursorOf(u.conv.msgs[i-1]), app.CursorOf(u.conv.msgs[i])) {
			t.Fatalf("messages out of order at %d", i)
		}
	}
}

func TestSettingsAndQR(t *testing.T) {
	w := newWorld(t)
	u := w.u
	u.showSettings()
	settle(u)
	s := newSettingsPage(u)
	settle(u)
	s.update("change the appearance", func(x *app.Settings) { x.Appearance = "dark" })
	settle(u)
	if u.theme.mode != "dark" {
		t.Fatalf("theme mode %q, want dark", u.theme.mode)
	}
	if st, _ := w.me.svc.Settings(context.Background()); st.Appearance != "dark" {
		t.Fatalf("saved appearance %q", st.Appearance)
	}
}

func TestUnlockShowsWrongPassphrase(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow("x")
	done := make(chan bool, 1)
	f := newUnlockForm(w, func(p string) error {
		if p != "right" {
			return app.Userf(app.ErrLocked, "Wrong passphrase.")
		}
		return nil
	}, func() { done <- true }, func(f func()) { f() })
	test.Type(f.pass, "wrong")
	test.Tap(f.unlock)
	if !f.msg.Visible() || f.msg.Text != "Wrong passphrase." {
		t.Fatalf("message %q visible=%v", f.msg.Text, f.msg.Visible())
	}
	test.Type(f.pass, "right")
	test.Tap(f.unlock)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("done not called")
	}
}

func TestFirstRunChecksHandle(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow("x")
	created := make(chan string, 1)
	f := newFirstRunForm(w, func(h, n, p string, _ []byte) error { created <- h + "|" + n + "|" + p; return nil }, nil, func(f func()) { f() })
	test.Type(f.handle, "Not A Handle")
	test.Tap(f.create)
	if !f.msg.Visible() || !strings.Contains(f.msg.Text, "handle") {
		t.Fatalf("message %q", f.msg.Text)
	}
	f.handle.SetText("alice")
	test.Type(f.name, "Alice")
	test.Type(f.pass, "pw")
	test.Type(f.confirm, "pw")
	test.Tap(f.create)
	select {
	case got := <-created:
		if got != "alice|Alice|pw" {
			t.Fatalf("created %q", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("create not called")
	}
}

var _ = ed25519.PublicKeySize

// TestNotifications: a new message from someone else in an unmuted
// Primary chat that is not open in front makes a notification, with the
// chime when sound is on; muted chats and paused notifications stay quiet.
func TestNotifications(t *testing.T) {
	w := newWorld(t)
	u := w.u
	ctx := context.Background()
	chimes := 0
	u.chime = func() { chimes++ }
	u.focused = false
	send := func(text string) []app.Event {
		ev, err := w.bob.svc.SendText(ctx, w.direct, text, app.EventID{})
		if err != nil {
			t.Fatal(err)
		}
		deliver(t, w.bob, w.me, w.direct)
		return []app.Event{ev}
	}
	evs := send("are you coming tonight?")
	test.AssertNotificationSent(t, fyne.NewNotification("@bob", "are you coming tonight?"), func() {
		uiMu.Unlock()
		u.notify(ctx, w.direct, evs)
		uiMu.Lock()
	})
	if chimes != 1 {
		t.Fatalf("chimes with sound on: got %d, want 1", chimes)
	}
	if _, err := w.me.svc.UpdateSettings(ctx, func(s *app.Settings) { s.Sound = false }); err != nil {
		t.Fatal(err)
	}
	evs = send("hello?")
	test.AssertNotificationSent(t, fyne.NewNotification("@bob", "hello?"), func() {
		uiMu.Unlock()
		u.notify(ctx, w.direct, evs)
		uiMu.Lock()
	})
	if chimes != 1 {
		t.Fatalf("chimes with sound off: got %d, want still 1", chimes)
	}
	for name, quiet := range map[string]func(){
		"muted": func() { w.me.svc.Mute(ctx, w.direct, app.MuteForever) },
		"paused": func() {
			w.me.svc.Mute(ctx, w.direct, 0)
			w.me.svc.UpdateSettings(ctx, func(s *app.Settings) { s.PauseAll = true })
		},
	} {
		quiet()
		evs = send("psst (" + name + ")")
		test.AssertNotificationSent(t, nil, func() {
			uiMu.Unlock()
			u.notify(ctx, w.direct, evs)
			uiMu.Lock()
		})
	}
}
