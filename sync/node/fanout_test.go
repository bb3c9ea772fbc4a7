package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"kite/app"
)

// TestFanOutToALargeGroup: a sender connected to 140 members (past
// libp2p's default of about 128 sessions per service) gets a message to
// every one of them.
func TestFanOutToALargeGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 141 nodes")
	}
	const n = 140
	ctx := context.Background()
	sender := newPeer(t, "sender")
	var keys []app.PeerKey
	var members []*testPeer
	for i := range n {
		p := newPeer(t, fmt.Sprintf("m%d", i))
		befriend(t, sender, p)
		members = append(members, p)
		keys = append(keys, p.key)
	}
	waitFor(t, 60*time.Second, "the sender connects to every member", func() bool { return len(sender.node.Peers()) >= n })
	conv, err := sender.svc.CreateGroup(ctx, "big", keys, false)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := sender.svc.SendText(ctx, conv, "hello everyone", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "every member has the message", func() bool {
		for _, p := range members {
			if !p.has(ev.ID) {
				return false
			}
		}
		return true
	})
}
