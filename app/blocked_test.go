package app_test

import (
	"context"
	"testing"

	"kite/app"
)

// TestGroupHidesBlockedAuthors: a group page leaves out what blocked
// members wrote, and only that.
func TestGroupHidesBlockedAuthors(t *testing.T) {
	ctx := context.Background()
	a, b, c := newDevice(t, "ada"), newDevice(t, "bob"), newDevice(t, "cat")
	befriend(t, a, b)
	befriend(t, a, c)
	g, err := a.svc.CreateGroup(ctx, "Climbing", []app.PeerKey{b.key, c.key}, false)
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, a, b, g)
	deliver(t, a, c, g)
	if _, err := b.svc.SendText(ctx, g, "from bob", app.EventID{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.SendText(ctx, g, "from cat", app.EventID{}); err != nil {
		t.Fatal(err)
	}
	deliver(t, b, a, g)
	deliver(t, c, a, g)
	texts := func() map[string]bool {
		out := make(map[string]bool)
		for _, m := range mustMessages(t, a, g) {
			out[m.Text] = true
		}
		return out
	}
	if got := texts(); !got["from bob"] || !got["from cat"] {
		t.Fatalf("before blocking: got %v, want both messages", got)
	}
	if err := a.svc.Block(ctx, c.key); err != nil {
		t.Fatal(err)
	}
	if got := texts(); !got["from bob"] || got["from cat"] {
		t.Fatalf("after blocking cat: got %v, want bob's message only", got)
	}
}
