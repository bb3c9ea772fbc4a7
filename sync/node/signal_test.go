package node

import (
	"context"
	"testing"
	"time"

	"kite/app"
)

func TestSignals(t *testing.T) {
	ctx := context.Background()
	a, b := newPeer(t, "ann"), newPeer(t, "bob")
	befriend(t, a, b)
	waitFor(t, 10*time.Second, "connected", func() bool { return a.connected(b) && b.connected(a) })
	conv, err := a.svc.Direct(ctx, b.key, false)
	if err != nil {
		t.Fatal(err)
	}
	first, err := a.svc.SendText(ctx, conv, "hi", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "bob has the chat", func() bool { return b.has(first.ID) })

	// Presence: online on connect.
	waitFor(t, 10*time.Second, "ann online for bob", func() bool { return b.svc.Presence(ctx, a.key).Online })

	// Typing reaches bob, and ends by itself after TypingTimeout.
	ups, cancel := b.svc.Subscribe(256, nil)
	defer cancel()
	a.svc.SetTyping(conv, true)
	var on, off time.Time
	deadline := time.After(TypingTimeout + 10*time.Second)
	for off.IsZero() {
		select {
		case u := <-ups:
			if u.Kind == app.UpdTyping && u.Peer == a.key && u.Conv == conv {
				if u.Typing && on.IsZero() {
					on = time.Now()
				} else if !u.Typing && !on.IsZero() {
					off = time.Now()
				}
			}
		case <-deadline:
			t.Fatalf("typing: on at %v, never ended", on)
		}
	}
	if d := off.Sub(on); d < TypingTimeout-500*time.Millisecond || d > TypingTimeout+2*time.Second {
		t.Errorf("typing ended after %v, want about %v", d, TypingTimeout)
	}

	// Seen with read receipts on: ann's message shows as seen.
	if err := b.svc.MarkSeen(ctx, conv, app.EventID{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "ann's message seen", func() bool { return a.status(first.ID) == app.StatusSeen })

	// Read receipts off: nothing is sent.
	if _, err := b.svc.UpdateSettings(ctx, func(s *app.Settings) { s.ReadReceipts = false; s.ActivityStatus = false }); err != nil {
		t.Fatal(err)
	}
	second, err := a.svc.SendText(ctx, conv, "again", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "second delivered", func() bool { return a.status(second.ID) == app.StatusDelivered })
	if err := b.svc.MarkSeen(ctx, conv, app.EventID{}); err != nil {
		t.Fatal(err)
	}
	// Activity status off: bob now tells ann it is hidden.
	waitFor(t, 10*time.Second, "bob hidden for ann", func() bool { return a.svc.Presence(ctx, b.key).Hidden })
	time.Sleep(500 * time.Millisecond)
	if s := a.status(second.ID); s != app.StatusDelivered {
		t.Errorf("with read receipts off: got status %q, want %q", s, app.StatusDelivered)
	}
}

func TestBlockedAcrossRestart(t *testing.T) {
	ctx := context.Background()
	a, b := newPeer(t, "ann"), newPeer(t, "bob")
	befriend(t, a, b)
	waitFor(t, 10*time.Second, "connected", func() bool { return a.connected(b) })
	if err := b.svc.Block(ctx, a.key); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "bob drops ann", func() bool { return !a.connected(b) && !b.connected(a) })
	dial := func() error {
		dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		return a.node.Connect(dctx, b.node.Addrs())
	}
	if err := dial(); err == nil && a.connected(b) {
		// A secured connection is closed by bob's gater right after the
		// handshake; what matters is that none stays.
		time.Sleep(300 * time.Millisecond)
	}
	if a.connected(b) || b.connected(a) {
		t.Fatal("blocked peer connected")
	}

	// Restart bob's node on the same store: the block holds.
	b.stop()
	n, err := New(Params{Service: b.svc, Identity: b.id, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, DataDir: t.TempDir(), Log: testLogger(t), Redial: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b.node = n
	b.start()
	_ = dial()
	time.Sleep(time.Second)
	if a.connected(b) || b.connected(a) {
		t.Fatal("blocked peer connected after bob's restart")
	}
	if err := b.svc.Unblock(ctx, a.key); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "connected after unblock", func() bool { _ = dial(); return a.connected(b) })
}

func TestKeptPort(t *testing.T) {
	dir := t.TempDir()
	n := &Node{params: Params{DataDir: dir}}
	if err := writeFile(dir+"/port", "41234\n"); err != nil {
		t.Fatal(err)
	}
	got, port, err := n.listenAddrs()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/ip4/0.0.0.0/tcp/41234", "/ip4/0.0.0.0/udp/41234/quic-v1"}
	if port != 41234 || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %v (port %d), want %v", got, port, want)
	}
	n.params.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	if got, _, _ := n.listenAddrs(); len(got) != 1 || got[0] != "/ip4/127.0.0.1/tcp/0" {
		t.Errorf("explicit Listen: got %v", got)
	}
}
