package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"kite/app"
)

// TestRandomPartitions: hosts in one group (and pairwise chats) are split
// at random, write during the splits (texts, replies, reactions, edits,
// unsends, renames, a member added late), are disconnected and
// reconnected, and after healing every peer has the identical ordered
// history and every event anyone wrote.
func TestRandomPartitions(t *testing.T) {
	ctx := context.Background()
	seed := rand.Uint64()
	if v := os.Getenv("KITE_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (KITE_SEED=%d to repeat the choices)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed>>7))
	hosts, rounds := 8, 8
	if testing.Short() {
		hosts, rounds = 4, 4
	}
	var net cuts
	ps := make([]*testPeer, hosts)
	for i := range ps {
		ps[i] = newPeer(t, fmt.Sprintf("p%d", i))
		net.attach(ps[i])
	}
	befriend(t, ps...)
	waitFor(t, 20*time.Second, "everyone connected", func() bool {
		for _, p := range ps {
			if len(p.node.Peers()) < hosts-1 {
				return false
			}
		}
		return true
	})
	admin, late := ps[0], ps[hosts-1]
	var members []app.PeerKey
	for _, p := range ps[1 : hosts-1] {
		members = append(members, p.key)
	}
	g, err := admin.svc.CreateGroup(ctx, "storm", members, false)
	if err != nil {
		t.Fatal(err)
	}
	inGroup := map[*testPeer]bool{}
	for _, p := range ps[:hosts-1] {
		inGroup[p] = true
	}
	direct, err := ps[1].svc.Direct(ctx, ps[2].key, false)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the group everywhere", func() bool {
		for _, p := range ps[:hosts-1] {
			if _, err := p.svc.Conversation(ctx, g); err != nil {
				return false
			}
		}
		return true
	})

	var written []app.EventID
	own := map[*testPeer][]app.EventID{} // own text messages, for edits and unsends
	act := func(p *testPeer) {
		conv := g
		if (p == ps[1] || p == ps[2]) && rng.IntN(4) == 0 {
			conv = direct
		}
		if conv == g && !inGroup[p] {
			if _, err := p.svc.Conversation(ctx, g); err != nil {
				return // not yet told it was added
			}
			inGroup[p] = true
		}
		var ev app.Event
		var err error
		hist := p.history(conv)
		switch k := rng.IntN(10); {
		case k < 5 || len(hist) == 0:
			var reply app.EventID
			if len(hist) > 0 && rng.IntN(3) == 0 {
				reply = hist[rng.IntN(len(hist))].ID
			}
			ev, err = p.svc.SendText(ctx, conv, fmt.Sprintf("%s says %d", p.name, rng.IntN(1000)), reply)
			if err == nil {
				own[p] = append(own[p], ev.ID)
			}
		case k < 7:
			target := hist[rng.IntN(len(hist))]
			if target.Unsent || target.System != "" {
				return
			}
			ev, err = p.svc.React(ctx, target.ID, []string{"❤️", "😂", "👍", ""}[rng.IntN(4)])
		case k < 8 && len(own[p]) > 0:
			ev, err = p.svc.Edit(ctx, own[p][rng.IntN(len(own[p]))], fmt.Sprintf("%s edited", p.name))
		case k < 9 && len(own[p]) > 0:
			i := rng.IntN(len(own[p]))
			ev, err = p.svc.Unsend(ctx, own[p][i])
			own[p] = append(own[p][:i], own[p][i+1:]...)
		default:
			if conv == g {
				ev, err = p.svc.RenameGroup(ctx, g, fmt.Sprintf("storm %d", rng.IntN(100)))
			}
		}
		if err != nil {
			t.Logf("%s: %v (skipped)", p.name, err)
			return
		}
		if !ev.ID.IsZero() {
			written = append(written, ev.ID)
		}
	}

	for round := range rounds {
		net.heal()
		side := make([]int, hosts)
		for i := range side {
			side[i] = rng.IntN(3) // 0 and 1: two halves; 2: also cut from half the others
		}
		for i := range ps {
			for j := i + 1; j < hosts; j++ {
				if side[i] != side[j] && (side[i] != 2 && side[j] != 2 || rng.IntN(2) == 0) {
					net.set(ps[i], ps[j], true)
				}
			}
		}
		for range hosts * 2 {
			act(ps[rng.IntN(hosts)])
		}
		if round == rounds/2 {
			ev, err := admin.svc.AddMembers(ctx, g, []app.PeerKey{late.key})
			if err != nil {
				t.Fatal(err)
			}
			written = append(written, ev.ID)
		}
		time.Sleep(time.Duration(100+rng.IntN(300)) * time.Millisecond)
	}
	net.heal()
	start := time.Now()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, p := range ps {
			h := p.history(g)
			v, _ := p.svc.Versions(ctx, g)
			vs := map[string]uint64{}
			for k, n := range v {
				vs[k.String()[len(k.String())-6:]] = n
			}
			t.Logf("%s: %d messages, digest %s, versions %v, peers %d", p.name, len(h), digest(h), vs, len(p.node.Peers()))
			for _, m := range h {
				t.Logf("   %s %s l=%d text=%q unsent=%v edited=%v reactions=%v", m.ID.Short(), m.Author.String()[len(m.Author.String())-6:], m.Lamport, m.Text, m.Unsent, m.Edited, m.Reactions)
			}
		}
	})
	waitFor(t, 60*time.Second, "identical histories after healing", func() bool {
		for _, conv := range []app.ConvID{g, direct} {
			var want string
			for i, p := range ps {
				if conv == direct && p != ps[1] && p != ps[2] {
					continue
				}
				d := digest(p.history(conv))
				if i > 0 && d != want && want != "" {
					return false
				}
				want = d
			}
		}
		return true
	})
	t.Logf("%d events written in %d rounds on %d hosts; converged %v after healing", len(written), rounds, hosts, time.Since(start).Round(time.Millisecond))
	for _, id := range written {
		for _, p := range ps {
			ev, err := p.svc.Event(ctx, id)
			if err != nil && (p == ps[1] || p == ps[2] || ev.Conv == g) {
				if e0, err0 := ps[1].svc.Event(ctx, id); err0 == nil && e0.Conv == direct && p != ps[1] && p != ps[2] {
					continue
				}
				t.Errorf("%s lacks event %s", p.name, id.Short())
			}
		}
	}
	hist := admin.history(g)
	if len(hist) == 0 {
		t.Fatal("empty group history")
	}
	if _, err := late.svc.Conversation(ctx, g); err != nil {
		t.Errorf("the late member does not know the group: %v", err)
	}
	for _, p := range ps {
		cv, _ := p.svc.Conversation(ctx, g)
		if ac, _ := admin.svc.Conversation(ctx, g); cv.Title != ac.Title {
			t.Errorf("%s calls the group %q, the admin %q", p.name, cv.Title, ac.Title)
		}
	}
}
