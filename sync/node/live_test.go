package node

import (
	"context"
	"testing"
	"time"

	"kite/app"
)

func TestLiveMessagesAndAcks(t *testing.T) {
	ctx := context.Background()
	a, b := newPeer(t, "ann"), newPeer(t, "bob")
	befriend(t, a, b)
	waitFor(t, 10*time.Second, "ann and bob connected", func() bool { return a.connected(b) && b.connected(a) })

	conv, err := a.svc.Direct(ctx, b.key, false)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := a.svc.SendText(ctx, conv, "hello bob", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "bob has ann's message", func() bool { return b.has(ev.ID) })
	waitFor(t, 10*time.Second, "ann's message delivered", func() bool { return a.status(ev.ID) == app.StatusDelivered })
	m, err := b.svc.Message(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "hello bob" || m.Path != app.PathLAN {
		t.Errorf("bob's copy: got text %q path %q, want %q %q", m.Text, m.Path, "hello bob", app.PathLAN)
	}

	reply, err := b.svc.SendText(ctx, conv, "hi ann", ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "ann has bob's reply", func() bool { return a.has(reply.ID) })
	waitFor(t, 10*time.Second, "bob's reply delivered", func() bool { return b.status(reply.ID) == app.StatusDelivered })

	// Profiles were exchanged on connect.
	p, err := a.svc.Person(ctx, b.key)
	if err != nil || p.Name != "Test bob" {
		t.Errorf("ann's view of bob: got %+v, %v; want the name from bob's profile", p, err)
	}
	if got := digest(a.history(conv)); got != digest(b.history(conv)) {
		t.Errorf("histories differ: ann %s, bob %s", got, digest(b.history(conv)))
	}
	for _, pi := range a.node.Peers() {
		if pi.Transport != "tcp" || !pi.LAN {
			t.Errorf("peer info: got %+v, want tcp on the LAN", pi)
		}
	}
}
