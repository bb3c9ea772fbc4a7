package node

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// mdnsNotifee turns mDNS answers into nearby peers and connections.
type mdnsNotifee struct{ n *Node }

func (m *mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	n := m.n
	if ai.ID == n.h.ID() || n.ctx.Err() != nil {
		return
	}
	k, ok := keyOf(ai.ID)
	if !ok {
		return
	}
	addrs := addrStrings(ai)
	n.mu.Lock()
	nb := n.nearby[ai.ID]
	if nb == nil {
		nb = &Nearby{Key: k}
		n.nearby[ai.ID] = nb
	}
	nb.Addrs, nb.Seen = addrs, time.Now()
	n.mu.Unlock()
	if p, err := n.svc.Person(n.ctx, k); err == nil {
		n.sawProfile(ai.ID, p)
	}
	n.svc.NetworkChanged()
	n.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, 10*time.Minute)
	n.remember(ai.ID, addrs)
	if n.h.Network().Connectedness(ai.ID) != network.Connected {
		n.goRun(func() { n.dialNow(n.ctx, ai.ID) })
	}
}

// redial is the redial state of one known peer.
type redial struct {
	addrs     []string
	connected bool
	dialing   bool
	delay     time.Duration
	next      time.Time
}

const (
	maxRedial     = 5 * time.Minute
	maxKnownAddrs = 16
	knownFile     = "peers.json"
)

// remember adds a peer (and addresses) to keep reaching.
func (n *Node) remember(p peer.ID, addrs []string) {
	if p == n.h.ID() {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	r := n.known[p]
	if r == nil {
		r = &redial{delay: n.redial}
		n.known[p] = r
	}
	for _, a := range addrs {
		if !slices.Contains(r.addrs, a) && len(r.addrs) < maxKnownAddrs {
			r.addrs = append(r.addrs, a)
		}
	}
	if n.h.Network().Connectedness(p) == network.Connected {
		r.connected, r.delay = true, n.redial
	}
}

func (n *Node) markDisconnected(p peer.ID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if r := n.known[p]; r != nil {
		r.connected = false
		r.next = time.Now().Add(r.delay)
	}
}

func (n *Node) forget(p peer.ID) {
	n.mu.Lock()
	delete(n.known, p)
	n.mu.Unlock()
}

// redialLoop reconnects to known peers with exponential backoff and
// saves the set to DataDir so peers seen before are reached again after a
// restart.
func (n *Node) redialLoop(ctx context.Context) {
	tick := time.NewTicker(max(n.redial/2, 200*time.Millisecond))
	defer tick.Stop()
	// Contacts come and go through the Service's updates (onUpdate);
	// the redial set is only saved now and then.
	save := time.NewTicker(30 * time.Second)
	defer save.Stop()
	defer n.saveKnown()
	for {
		select {
		case <-ctx.Done():
			return
		case <-save.C:
			n.saveKnown()
		case <-tick.C:
		}
		now := time.Now()
		var due []peer.ID
		n.mu.Lock()
		for p, r := range n.known {
			if r.connected || r.dialing || now.Before(r.next) {
				continue
			}
			if n.allow != nil && !n.allow(p) {
				continue
			}
			r.next = now.Add(r.delay)
			r.delay = min(2*r.delay, maxRedial)
			if len(r.addrs) == 0 && n.dhtRef.Load() == nil && len(n.h.Peerstore().Addrs(p)) == 0 {
				continue // nowhere to dial: a failed dial without dialing (10,000 such contacts held 100 MB)
			}
			r.dialing = true
			due = append(due, p)
		}
		n.mu.Unlock()
		for _, p := range due {
			n.goRun(func() { n.dialNow(ctx, p) })
		}
	}
}

// dialNow dials p at its known addresses (or through the DHT).
func (n *Node) dialNow(ctx context.Context, p peer.ID) {
	defer func() {
		n.mu.Lock()
		if r := n.known[p]; r != nil {
			r.dialing = false
		}
		n.mu.Unlock()
	}()
	if n.h.Network().Connectedness(p) == network.Connected {
		return
	}
	n.mu.Lock()
	var addrs []string
	if r := n.known[p]; r != nil {
		addrs = slices.Clone(r.addrs)
	}
	n.mu.Unlock()
	if err := n.dialAt(ctx, p, addrs); err != nil {
		n.log.Debug("redial", "peer", p, "err", err)
	}
}

// dialAt connects to p at addrs (multiaddrs, with or without p's
// /p2p/ part; others' are skipped), within 15 s.
func (n *Node) dialAt(ctx context.Context, p peer.ID, addrs []string) error {
	ai := peer.AddrInfo{ID: p}
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			continue
		}
		if t, id := peer.SplitAddr(a); t != nil && (id == "" || id == p) {
			ai.Addrs = append(ai.Addrs, t)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return n.h.Connect(ctx, ai)
}

// loadKnown fills the redial set from contacts and DataDir/peers.json.
func (n *Node) loadKnown() {
	n.loadContacts(n.ctx)
	if n.params.DataDir == "" {
		return
	}
	b, err := os.ReadFile(filepath.Join(n.params.DataDir, knownFile))
	if err != nil {
		return
	}
	var m map[string][]string
	if err := json.Unmarshal(b, &m); err != nil {
		n.log.Warn("read known peers", "err", err)
		return
	}
	for id, addrs := range m {
		p, err := peer.Decode(id)
		if err != nil {
			continue
		}
		if k, ok := keyOf(p); !ok || n.svc.Blocked(n.ctx, k) {
			continue
		}
		n.remember(p, addrs)
	}
}

// loadContacts adds every contact (with the addresses of its code).
func (n *Node) loadContacts(ctx context.Context) {
	ps, err := n.svc.People(ctx, true)
	if err != nil {
		n.log.Warn("read contacts", "err", err)
		return
	}
	for _, person := range ps {
		if person.Blocked {
			continue
		}
		if p, err := peerIDOf(person.Key); err == nil {
			n.remember(p, person.Addrs)
		}
	}
}

// saveKnown writes the redial set with the addresses peers were last
// reached at.
func (n *Node) saveKnown() {
	if n.params.DataDir == "" {
		return
	}
	m := make(map[string][]string)
	n.mu.Lock()
	for p, r := range n.known {
		addrs := slices.Clone(r.addrs)
		for _, a := range n.h.Peerstore().Addrs(p) {
			if s := a.String(); !slices.Contains(addrs, s) && len(addrs) < maxKnownAddrs && !isRelayed(a) {
				addrs = append(addrs, s)
			}
		}
		m[p.String()] = addrs
	}
	n.mu.Unlock()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return
	}
	tmp := filepath.Join(n.params.DataDir, knownFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		n.log.Debug("save known peers", "err", err)
		return
	}
	if err := os.Rename(tmp, filepath.Join(n.params.DataDir, knownFile)); err != nil {
		n.log.Debug("save known peers", "err", err)
	}
}
