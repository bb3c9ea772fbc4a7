package store

import (
	"context"
	"testing"
	"time"

	"kite/app"
)

// Hold keeps to every limit, and the IDs it returns are exactly what it
// holds.
func TestHoldLimits(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	owner, ann, bob := newPeer(1).key, newPeer(2).key, newPeer(3).key
	now := time.Now()
	ev := func(from app.PeerKey, i, size int) app.HeldEvent {
		var id app.EventID
		id[0], id[1], id[2] = from[0], byte(i), byte(i>>8)
		return app.HeldEvent{ID: id, From: from, Data: make([]byte, size), At: now}
	}
	lim := app.MailboxLimits{Events: 5, Bytes: 1000, PerSender: 3, Before: now.Add(-time.Hour)}

	// Ann may have three waiting, not four.
	held, err := s.Hold(ctx, owner, []app.HeldEvent{ev(ann, 1, 10), ev(ann, 2, 10), ev(ann, 3, 10), ev(ann, 4, 10)}, lim)
	if err != nil || len(held) != 3 {
		t.Fatalf("ann's four: held %d, %v; want 3", len(held), err)
	}
	// Bob fills the owner's five; a sixth is over the count.
	held, _ = s.Hold(ctx, owner, []app.HeldEvent{ev(bob, 1, 10), ev(bob, 2, 10), ev(bob, 3, 10)}, lim)
	if len(held) != 2 {
		t.Fatalf("bob's three with two places left: held %d", len(held))
	}
	// What is held already is reported held, over the limit or not.
	held, _ = s.Hold(ctx, owner, []app.HeldEvent{ev(ann, 1, 10)}, lim)
	if len(held) != 1 {
		t.Errorf("re-deposit of a held event: held %d, want 1", len(held))
	}
	// Bytes: another owner, one event too large for what is left.
	other := newPeer(4).key
	held, _ = s.Hold(ctx, other, []app.HeldEvent{ev(ann, 1, 600), ev(ann, 2, 600)}, lim)
	if len(held) != 1 {
		t.Errorf("1,200 bytes against a 1,000-byte limit: held %d, want 1", len(held))
	}
	hs, err := s.Holdings(ctx)
	if err != nil || len(hs) != 2 {
		t.Fatalf("holdings: %+v %v", hs, err)
	}
	for _, h := range hs {
		if h.Owner == owner && (h.Events != 5 || h.Bytes != 50) || h.Owner == other && (h.Events != 1 || h.Bytes != 600) {
			t.Errorf("holding %+v", h)
		}
	}
	// Held in arrival order, in byte-bounded batches.
	batch, _ := s.Held(ctx, owner, 0, 10, 25)
	if len(batch) != 2 || batch[0].From != ann || batch[0].RID >= batch[1].RID {
		t.Errorf("first batch of at most 25 bytes: %+v", batch)
	}
}
