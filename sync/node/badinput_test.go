package node

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"

	"kite/app"
	"kite/sync/wire"
)

// TestBadInput sends bob what no honest node sends; each is refused with
// nothing stored, and bob keeps syncing with ann throughout.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	a, b := newPeer(t, "ann"), newPeer(t, "bob")
	befriend(t, a, b)
	m := newRaw(t)
	if _, err := b.svc.AddContact(ctx, m.id.ContactCode("mal", nil).String()); err != nil {
		t.Fatal(err)
	}
	m.dial(b)
	waitFor(t, 10*time.Second, "ann–bob connected", func() bool { return a.connected(b) })
	convMB := app.DirectConvID(m.key, b.key, false)
	convAB, err := a.svc.Direct(ctx, b.key, false)
	if err != nil {
		t.Fatal(err)
	}
	group, err := a.svc.CreateGroup(ctx, "ab", []app.PeerKey{b.key}, false)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "bob knows the group", func() bool { _, err := b.svc.Conversation(ctx, group); return err == nil })

	// ann keeps talking to bob while the attacks go on.
	stop := make(chan struct{})
	var sent []app.EventID
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			ev, err := a.svc.SendText(ctx, convAB, "still here", app.EventID{})
			if err == nil {
				sent = append(sent, ev.ID)
			}
		}
	}()

	good := chain(t, m.id, convMB, 3)

	t.Run("forged signature", func(t *testing.T) {
		ev := good[0]
		ev.Sig = append([]byte(nil), ev.Sig...)
		ev.Sig[5] ^= 1
		rs := m.open(b)
		rs.send(t, ev)
		rs.waitReset(t)
		if b.storedEvent(ev.ID) {
			t.Fatal("forged event stored")
		}
		// The same event with its real signature is stored: the refusal
		// was for the forgery.
		rs = m.open(b)
		rs.send(t, good[0])
		waitFor(t, 10*time.Second, "the genuine event stored", func() bool { return b.storedEvent(good[0].ID) })
	})

	t.Run("re-signed under another author", func(t *testing.T) {
		// ann's conversation with bob, signed by mal as if his.
		waitFor(t, 10*time.Second, "bob knows ann's chat", func() bool { _, err := b.svc.Conversation(ctx, convAB); return err == nil })
		ev := textEvent(t, m.id, convAB, 1, app.EventID{}, 100, "not yours")
		rs := m.open(b)
		rs.send(t, ev)
		waitFor(t, 10*time.Second, "a refusal", func() bool { return len(rs.tally()) > 0 })
		if b.storedEvent(ev.ID) {
			t.Fatalf("re-signed event stored; answers %v", rs.tally())
		}
		t.Logf("answers: %v", rs.tally())
	})

	t.Run("non-member in a group", func(t *testing.T) {
		ev := textEvent(t, m.id, group, 1, app.EventID{}, 50, "let me in")
		rs := m.open(b)
		rs.send(t, ev)
		waitFor(t, 10*time.Second, "a refusal", func() bool { return rs.tally()["not_member"] == 1 })
		if b.storedEvent(ev.ID) {
			t.Fatal("non-member's event stored")
		}
	})

	t.Run("replayed 1000 times", func(t *testing.T) {
		rs := m.open(b)
		rs.send(t, good[0])
		copies := make([]app.Event, 100)
		for i := range copies {
			copies[i] = good[1]
		}
		for range 10 {
			rs.send(t, copies...)
		}
		waitFor(t, 10*time.Second, "acks for every frame", func() bool { return rs.tally()["ack"] >= 11 })
		n := 0
		for _, msg := range b.history(convMB) {
			if msg.ID == good[1].ID {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("replayed event stored %d times, want 1", n)
		}
	})

	t.Run("reordered and duplicated", func(t *testing.T) {
		seed := rand.Uint64()
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, 0))
		// A contact of bob's whose log mal relays, shuffled.
		r := newIdentity(t)
		if _, err := b.svc.AddContact(ctx, r.ContactCode("rel", nil).String()); err != nil {
			t.Fatal(err)
		}
		conv := app.DirectConvID(app.PeerKeyOf(r.SignPub), b.key, false)
		evs := chain(t, r, conv, 60)
		var mixed []app.Event
		for _, ev := range evs[10:] {
			mixed = append(mixed, ev)
			if rng.IntN(3) == 0 {
				mixed = append(mixed, ev)
			}
		}
		rng.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
		rs := m.open(b)
		rs.send(t, mixed...) // predecessors missing: nothing can be stored yet
		waitFor(t, 10*time.Second, "a Want", func() bool {
			rs.mu.Lock()
			defer rs.mu.Unlock()
			for _, f := range rs.got {
				if w := f.GetWant(); w != nil && string(w.Conv) == string(conv[:]) {
					return true
				}
			}
			return false
		})
		first := slices.Clone(evs[:10])
		rng.Shuffle(len(first), func(i, j int) { first[i], first[j] = first[j], first[i] })
		rs.send(t, first...)
		rs.send(t, mixed...)
		waitFor(t, 10*time.Second, "all 60 stored", func() bool { return b.storedEvent(evs[59].ID) })
		got := b.history(conv)
		if len(got) != 60 {
			t.Fatalf("got %d messages, want 60", len(got))
		}
		for i, msg := range got {
			if msg.ID != evs[i].ID {
				t.Fatalf("message %d: got %s, want %s", i, msg.ID.Short(), evs[i].ID.Short())
			}
		}
	})

	for _, tc := range []struct {
		name   string
		prefix []byte
	}{
		{"length prefix 2^32-1", binary.AppendUvarint(nil, 1<<32-1)},
		{"frame of 1 MiB + 1", binary.AppendUvarint(nil, wire.MaxFrame+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := m.open(b)
			writeRaw(t, rs.s, tc.prefix)
			_, _ = rs.s.Write(make([]byte, 64<<10)) // the start of the "frame"
			rs.waitReset(t)
		})
	}

	close(stop)
	wg.Wait()
	last, err := a.svc.SendText(ctx, convAB, "after the attacks", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "bob still syncs with ann", func() bool { return b.has(last.ID) })
	for _, id := range sent {
		if !b.has(id) {
			t.Errorf("ann's message %s sent during the attacks is missing", id.Short())
		}
	}
	if len(sent) == 0 {
		t.Error("ann sent nothing during the attacks")
	}
}

// TestStreamFlood: a stranger opening streams by the thousand is held by
// the resource manager while a contact still syncs.
func TestStreamFlood(t *testing.T) {
	ctx := context.Background()
	total := 10000
	if testing.Short() {
		total = 500
	}
	a, b := newPeer(t, "ann"), newPeer(t, "bob")
	befriend(t, a, b)
	m := newRaw(t)
	m.dial(b)
	waitFor(t, 10*time.Second, "ann–bob connected", func() bool { return a.connected(b) })
	conv, err := a.svc.Direct(ctx, b.key, false)
	if err != nil {
		t.Fatal(err)
	}

	var opened, refused atomic.Int64
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				s, err := m.h.NewStream(sctx, b.node.ID(), protocol.ID(wire.ProtoSignal))
				cancel()
				if err != nil {
					refused.Add(1)
					continue
				}
				// Held open, never written: the node must bound these.
				if _, err := s.Write(nil); err != nil {
					refused.Add(1)
					continue
				}
				opened.Add(1)
			}
		}()
	}
	var ids []app.EventID
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			if ev, err := a.svc.SendText(ctx, conv, "during the flood", app.EventID{}); err == nil {
				ids = append(ids, ev.ID)
			}
			_ = i
			time.Sleep(20 * time.Millisecond)
		}
	}()
	for i := range total {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	<-done
	var inbound int
	if err := b.node.h.Network().ResourceManager().ViewPeer(m.h.ID(), func(s network.PeerScope) error {
		inbound = s.Stat().NumStreamsInbound
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d streams: %d opened (lazily), %d refused at once; bob holds %d", total, opened.Load(), refused.Load(), inbound)
	if refused.Load() == 0 {
		t.Errorf("all %d streams were accepted, want the resource manager to refuse most", total)
	}
	if inbound > strangerLimit.StreamsInbound {
		t.Errorf("bob holds %d inbound streams of a stranger, want at most %d", inbound, strangerLimit.StreamsInbound)
	}
	for _, id := range ids {
		waitFor(t, 15*time.Second, "ann's message during the flood", func() bool { return b.has(id) })
	}
}

// TestRequestFlood: message requests from 100 fresh identities; at most
// MaxNewRequests land, the rest are refused with the rate reason.
func TestRequestFlood(t *testing.T) {
	b := newPeer(t, "bob")
	m := newRaw(t)
	m.dial(b)
	rs := m.open(b)
	var evs []app.Event
	for range 100 {
		r := newIdentity(t)
		conv := app.DirectConvID(app.PeerKeyOf(r.SignPub), b.key, false)
		evs = append(evs, textEvent(t, r, conv, 1, app.EventID{}, 1, "hi, can we talk?"))
	}
	for _, ev := range evs {
		rs.send(t, ev)
	}
	waitFor(t, 20*time.Second, "an answer to every request", func() bool {
		c := rs.tally()
		return c["ack"]+c[string(app.RefuseRateLimit)] == 100
	})
	c := rs.tally()
	if c["ack"] != app.MaxNewRequests || c[string(app.RefuseRateLimit)] != 100-app.MaxNewRequests {
		t.Fatalf("got %v, want %d stored and %d refused for rate", c, app.MaxNewRequests, 100-app.MaxNewRequests)
	}
	reqs, err := b.svc.Inbox(context.Background(), app.InboxQuery{Folder: app.Requests, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != app.MaxNewRequests {
		t.Errorf("requests in bob's inbox: got %d, want %d", len(reqs), app.MaxNewRequests)
	}
}
