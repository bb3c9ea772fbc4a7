package node

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"kite/app"
)

// cuts is a test's partition: pairs of peers that may not connect.
type cuts struct {
	mu  sync.Mutex // mu guards the field below.
	cut map[[2]peer.ID]bool
}

func pair(a, b peer.ID) [2]peer.ID {
	if a > b {
		a, b = b, a
	}
	return [2]peer.ID{a, b}
}

func (c *cuts) set(a, b *testPeer, cut bool) {
	c.mu.Lock()
	if c.cut == nil {
		c.cut = make(map[[2]peer.ID]bool)
	}
	c.cut[pair(a.node.ID(), b.node.ID())] = cut
	c.mu.Unlock()
	if cut {
		_ = a.node.Disconnect(b.key)
	}
}

func (c *cuts) heal() {
	c.mu.Lock()
	clear(c.cut)
	c.mu.Unlock()
}

// attach makes p's gater and redialer obey the partition.
func (c *cuts) attach(p *testPeer) {
	self := p.node.ID()
	p.node.allow = func(q peer.ID) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !c.cut[pair(self, q)]
	}
}

func TestGroupForwarding(t *testing.T) {
	ctx := context.Background()
	var net cuts
	a, b, c := newPeer(t, "ann"), newPeer(t, "bob"), newPeer(t, "cat")
	for _, p := range []*testPeer{a, b, c} {
		net.attach(p)
	}
	net.set(a, c, true) // ann and cat never meet: bob carries everything
	befriend(t, a, b, c)
	waitFor(t, 10*time.Second, "ann–bob and bob–cat connected", func() bool { return a.connected(b) && b.connected(c) })
	if a.connected(c) {
		t.Fatalf("ann and cat connected through the partition")
	}

	g, err := a.svc.CreateGroup(ctx, "trio", []app.PeerKey{b.key, c.key}, false)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := a.svc.SendText(ctx, g, "from ann", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "cat has ann's message through bob", func() bool { return c.has(ev.ID) })
	m, err := c.svc.Message(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Path != app.PathRelay || m.Via != b.key {
		t.Errorf("cat's copy: got path %q via %s, want %q via bob", m.Path, m.Via, app.PathRelay)
	}
	reply, err := c.svc.SendText(ctx, g, "from cat", ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "ann has cat's reply through bob", func() bool { return a.has(reply.ID) })
	if _, err := a.svc.RenameGroup(ctx, g, "trio!"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "cat sees the rename", func() bool {
		cv, err := c.svc.Conversation(ctx, g)
		return err == nil && cv.Title == "trio!"
	})
	waitFor(t, 15*time.Second, "identical histories", func() bool {
		d := digest(a.history(g))
		return d == digest(b.history(g)) && d == digest(c.history(g))
	})
}

// TestCatchUpAfterAbsence: a peer that was away comes back and gets the
// backlog from its Hello, in order, with group operations first.
func TestCatchUpAfterAbsence(t *testing.T) {
	ctx := context.Background()
	var net cuts
	a, b := newPeer(t, "ann"), newPeer(t, "bob")
	net.attach(a)
	net.attach(b)
	befriend(t, a, b)
	waitFor(t, 10*time.Second, "connected", func() bool { return a.connected(b) })
	net.set(a, b, true)
	waitFor(t, 10*time.Second, "disconnected", func() bool { return !a.connected(b) && !b.connected(a) })

	g, err := a.svc.CreateGroup(ctx, "pair", []app.PeerKey{b.key}, false)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := a.svc.Direct(ctx, b.key, false)
	if err != nil {
		t.Fatal(err)
	}
	var last app.Event
	for i := range 600 { // more than two batches
		conv := g
		if i%2 == 1 {
			conv = direct
		}
		if last, err = a.svc.SendText(ctx, conv, "backlog", app.EventID{}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if a.connected(b) {
		t.Fatal("reconnected through the partition")
	}
	net.heal()
	waitFor(t, 30*time.Second, "bob caught up", func() bool { return b.has(last.ID) })
	waitFor(t, 15*time.Second, "identical histories", func() bool {
		return digest(a.history(g)) == digest(b.history(g)) && digest(a.history(direct)) == digest(b.history(direct))
	})
	waitFor(t, 15*time.Second, "the last message delivered", func() bool { return a.status(last.ID) == app.StatusDelivered })
	if n := len(b.history(g)); n < 301 {
		t.Errorf("bob's group history: got %d messages, want at least 301", n)
	}
}
