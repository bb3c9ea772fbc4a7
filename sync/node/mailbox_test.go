package node

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"kite/app"
	"kite/sync/wire"

	"github.com/libp2p/go-libp2p/core/protocol"
)

// mailboxTrio is ann, olga (who names a mailbox) and box (the mailbox,
// olga's contact), with a partition to send olga away.
func mailboxTrio(t *testing.T) (a, o, m *testPeer, net *cuts) {
	t.Helper()
	ctx := context.Background()
	net = &cuts{}
	a, o, m = newPeer(t, "ann"), newPeer(t, "olga"), newPeer(t, "box")
	for _, p := range []*testPeer{a, o, m} {
		net.attach(p)
	}
	net.set(a, m, true) // ann never meets the mailbox before she needs it
	m.svc.SetMailboxHost(true)
	befriend(t, a, o)
	befriend(t, o, m)
	waitFor(t, 10*time.Second, "olga connected to ann and the mailbox", func() bool { return o.connected(a) && o.connected(m) })
	if _, err := o.svc.SetMailbox(ctx, m.key); err != nil {
		t.Fatalf("olga names her mailbox: %v", err)
	}
	waitFor(t, 10*time.Second, "ann knows olga's mailbox", func() bool {
		p, err := a.svc.Person(ctx, o.key)
		return err == nil && p.Mailbox != nil && p.Mailbox.Key == m.key
	})
	net.heal() // ann may reach the mailbox now, and only through olga's profile
	return a, o, m, net
}

func TestMailboxHoldsForAnAwayPeer(t *testing.T) {
	ctx := context.Background()
	a, o, m, net := mailboxTrio(t)

	// Olga goes away from everyone.
	net.set(o, a, true)
	net.set(o, m, true)
	waitFor(t, 10*time.Second, "olga away", func() bool { return !a.connected(o) && !m.connected(o) })

	plain, err := a.svc.Direct(ctx, o.key, false)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := a.svc.Direct(ctx, o.key, true)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "the secret word is marmalade"
	var sent []app.EventID
	for _, s := range []struct {
		conv app.ConvID
		text string
	}{{plain, "first while you were away"}, {plain, "second"}, {sealed, secret}} {
		ev, err := a.svc.SendText(ctx, s.conv, s.text, app.EventID{})
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, ev.ID)
	}
	waitFor(t, 15*time.Second, "the mailbox holds ann's three messages for olga", func() bool {
		hs, err := m.svc.Holdings(ctx)
		return err == nil && len(hs) == 1 && hs[0].Owner == o.key && hs[0].Events == 3
	})
	held, err := m.st.Held(ctx, o.key, 0, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	plainHeld := false // the two chats are deposited in either order
	for _, h := range held {
		if bytes.Contains(h.Data, []byte("marmalade")) {
			t.Errorf("the mailbox holds the E2E message's plaintext")
		}
		plainHeld = plainHeld || bytes.Contains(h.Data, []byte("first while you were away"))
	}
	if !plainHeld {
		t.Errorf("the plain message is not held as it was sent")
	}
	for _, id := range sent {
		if o.has(id) || a.status(id) == app.StatusDelivered {
			t.Fatalf("message %s reached olga or counts as delivered while she is away", id)
		}
	}

	// Olga comes back to her mailbox only: she drains it.
	net.set(o, m, false)
	waitFor(t, 15*time.Second, "olga has ann's messages from her mailbox", func() bool {
		for _, id := range sent {
			if !o.has(id) {
				return false
			}
		}
		return true
	})
	for i, id := range sent {
		msg, err := o.svc.Message(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Path != app.PathMailbox || msg.Via != m.key {
			t.Errorf("message %d: path %q via %s, want mailbox via the box", i, msg.Path, msg.Via)
		}
		if i == 2 && msg.Text != secret {
			t.Errorf("the E2E message reads %q at olga, want %q", msg.Text, secret)
		}
	}
	waitFor(t, 10*time.Second, "the mailbox is empty", func() bool {
		hs, err := m.svc.Holdings(ctx)
		return err == nil && len(hs) == 0
	})
	// Ann learns from the mailbox that olga has them, still apart.
	waitFor(t, 15*time.Second, "ann's messages delivered", func() bool {
		for _, id := range sent {
			if a.status(id) != app.StatusDelivered {
				return false
			}
		}
		return true
	})
	if a.connected(o) {
		t.Errorf("ann and olga met through the partition")
	}

	// Once they meet again nothing is sent twice or lost.
	net.heal()
	waitFor(t, 15*time.Second, "ann and olga connected", func() bool { return a.connected(o) })
	later, err := a.svc.SendText(ctx, plain, "and now directly", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "olga has the direct message", func() bool { return o.has(later.ID) })
	if got, want := digest(o.history(plain)), digest(a.history(plain)); got != want {
		t.Errorf("histories differ after the mailbox: olga %s, ann %s", got, want)
	}
}

func TestMailboxRefusals(t *testing.T) {
	ctx := context.Background()
	a, o, m, net := mailboxTrio(t)
	net.set(o, a, true)
	net.set(o, m, true)

	// A mailbox serves its own contacts only: ann is not the box's.
	conv, err := o.svc.Direct(ctx, a.key, false)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := o.svc.SendText(ctx, conv, "for ann", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.svc.Deposit(ctx, o.key, a.key, []app.Event{ev}); !errors.Is(err, app.ErrRefused) {
		t.Errorf("deposit for someone the box does not serve: got %v, want ErrRefused", err)
	}
	m.svc.SetMailboxHost(false)
	if _, _, err := m.svc.Deposit(ctx, a.key, o.key, nil); !errors.Is(err, app.ErrRefused) {
		t.Errorf("deposit at a device that is not a mailbox: got %v, want ErrRefused", err)
	}
	m.svc.SetMailboxHost(true)

	// Over the wire, a deposit of someone else's event resets the
	// stream and holds nothing: ann cannot make the box hold olga's.
	if err := a.node.Connect(ctx, m.node.Addrs()); err != nil {
		t.Fatal(err)
	}
	st, err := a.node.h.NewStream(ctx, m.node.ID(), protocol.ID(wire.ProtoMailbox))
	if err != nil {
		t.Fatal(err)
	}
	_ = st.SetDeadline(time.Now().Add(5 * time.Second))
	if err := wire.NewWriter(st).WriteFrame(&wire.Frame{Msg: &wire.Frame_Deposit{Deposit: &wire.Deposit{
		Owner: o.key[:], Events: [][]byte{ev.Marshal()}}}}); err != nil {
		t.Fatal(err)
	}
	if f, err := wire.NewReader(st).ReadFrame(); err == nil {
		t.Errorf("deposit of another author's event answered with %v, want the stream reset", f)
	}
	if hs, _ := m.svc.Holdings(ctx); len(hs) != 0 {
		t.Errorf("the box holds %+v after a forged deposit", hs)
	}
	// And a drain by someone it does not serve gets nothing.
	if _, err := m.svc.Held(ctx, a.key, 0, 10, 1<<20); !errors.Is(err, app.ErrRefused) {
		t.Errorf("drain by a non-owner: got %v, want ErrRefused", err)
	}
	// The box kept serving: olga's own deposit path still works.
	if held, _, err := m.svc.Deposit(ctx, a.key, o.key, nil); err != nil || len(held) != 0 {
		t.Errorf("empty deposit for olga: %v %v", held, err)
	}
}

// A stranger's message refused by its owner reaches the stranger as a
// refusal, through the mailbox.
func TestMailboxCarriesRefusals(t *testing.T) {
	ctx := context.Background()
	a, o, m, net := mailboxTrio(t)
	s := newPeer(t, "sam")
	net.attach(s)
	if _, err := o.svc.UpdateSettings(ctx, func(st *app.Settings) { st.WhoCanMessage = app.Nobody }); err != nil {
		t.Fatal(err)
	}
	// Sam meets olga once (so he has her profile), then she goes away.
	if _, err := s.svc.AddContact(ctx, o.code()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "sam knows olga's mailbox", func() bool {
		p, err := s.svc.Person(ctx, o.key)
		return err == nil && p.Mailbox != nil
	})
	for _, p := range []*testPeer{a, m, s} {
		net.set(o, p, true)
	}
	conv, err := s.svc.Direct(ctx, o.key, false)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := s.svc.SendText(ctx, conv, "hello stranger", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the box holds sam's message", func() bool {
		hs, _ := m.svc.Holdings(ctx)
		return len(hs) == 1 && hs[0].Events == 1
	})
	net.set(o, m, false)
	waitFor(t, 20*time.Second, "sam is told olga refused", func() bool { return s.svc.Refusal(conv) == app.RefuseNobody })
	if o.has(ev.ID) {
		t.Errorf("olga stored a refused message")
	}
	if s.status(ev.ID) == app.StatusDelivered {
		t.Errorf("a refused message counts as delivered")
	}
}
