package node

// The wide network: peers that are not on the LAN.
//
//   - Params.DHT: a Kademlia DHT (protocol prefix /kite) for peer routing,
//     so a contact code with no address is enough to find a peer; AutoNAT;
//     autorelay fed by relays found in the DHT.
//   - Params.Relays: static relays. The node keeps a reservation on each
//     (whatever AutoNAT concludes) and advertises <relay>/p2p-circuit
//     addresses, in its contact code, identify and the DHT.
//   - Params.RelayService: this node is an always-on public node: it offers
//     circuit relay v2 to others and, with the DHT, serves it (server mode).
//   - Always: the relay client transport (a contact code may carry a relay
//     address) and hole punching (DCUtR), which upgrades a relayed
//     connection to a direct one when both NATs allow it; relayed
//     connections to a peer also reached directly are then closed, so
//     sessions move off the relay.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"

	"kite/crypto/keys"
)

const (
	// reserveTimeout bounds one reservation attempt on a static relay.
	reserveTimeout = 30 * time.Second
	// maxReserveRetry caps the backoff between failed reservations, so a
	// static relay that comes back is used again within a minute.
	maxReserveRetry = time.Minute
	// directGrace is how long a relayed connection stays after a direct
	// one to the same peer appears: the hole punch that made it finishes
	// its exchange on the relayed connection first.
	directGrace = 2 * time.Second
)

// relayResources bound what --relay-service gives away. A circuit carries
// whole Kite sessions, so it has no time or byte cap: libp2p marks a
// capped circuit "limited" and opens no application stream on it, which
// would leave peers behind NATs connected but mute. The bounds are on
// counts instead: reservations in all, per IP and per ASN, circuits per
// peer, and the copy buffer per circuit; per-peer resource-manager
// limits (gate.go) bound streams and memory on top.
func relayResources() relayv2.Resources {
	r := relayv2.DefaultResources()
	r.Limit = nil
	r.ReservationTTL = time.Hour
	r.MaxReservations = 128
	r.MaxReservationsPerIP = 8
	r.MaxReservationsPerASN = 32
	r.MaxCircuits = 16
	r.BufferSize = 4 << 10
	return r
}

// relayState is what the static relays give this node.
type relayState struct {
	infos []peer.AddrInfo // Params.Relays, parsed

	mu       sync.Mutex                 // mu guards the field below.
	circuits map[peer.ID][]ma.Multiaddr // our addresses through each relay holding a slot for us
}

// wideOptions are the libp2p options for the wide network (see the top of
// this file).
func (n *Node) wideOptions(p Params) ([]libp2p.Option, error) {
	relays, err := addrInfos(p.Relays)
	if err != nil {
		return nil, fmt.Errorf("node: relays: %w (a relay address ends in /p2p/<its peer ID>)", err)
	}
	for _, r := range relays {
		if len(r.Addrs) == 0 {
			return nil, fmt.Errorf("node: relay %s: no address to reach it at", r.ID)
		}
	}
	n.relays.infos = relays
	n.relays.circuits = make(map[peer.ID][]ma.Multiaddr)
	opts := []libp2p.Option{
		libp2p.EnableRelay(),
		libp2p.EnableHolePunching(),
		libp2p.AddrsFactory(n.withCircuits),
	}
	if p.RelayService {
		// libp2p starts the relay service only once AutoNAT finds the
		// node public. Running one is saying the node is public, and
		// AutoNAT cannot confirm it on a network of private addresses
		// (its servers dial back public addresses only).
		opts = append(opts,
			libp2p.EnableRelayService(relayv2.WithResources(relayResources())),
			libp2p.ForceReachabilityPublic(),
		)
	}
	if !p.DHT {
		return opts, nil
	}
	bs, err := addrInfos(p.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("node: bootstrap peers: %w", err)
	}
	mode := dht.ModeAuto // server once AutoNAT finds the node public
	if p.RelayService {
		mode = dht.ModeServer
	}
	// The DHT dials its bootstrap peers as soon as it is made, which is
	// before the host listens. Such a connection leaves from a random port,
	// so the address the bootstrap peer observes is no listen address and
	// libp2p drops it: a node behind a NAT then never learns its public
	// address, and hole punching never starts. So the bootstrap peers are
	// given only once Run serves (Run then calls Bootstrap).
	bootstrap := func() []peer.AddrInfo {
		select {
		case <-n.ready:
			return bs
		default:
			return nil
		}
	}
	return append(opts,
		libp2p.Routing(func(h host.Host) (routing.PeerRouting, error) {
			d, err := dht.New(h, dht.Mode(mode), dht.ProtocolPrefix("/kite"), dht.BootstrapPeersFunc(bootstrap))
			if err == nil {
				n.dht = d
				n.dhtRef.Store(d)
			}
			return d, err
		}),
		libp2p.EnableNATService(),
		// Kite networks have few relays: take the first one found rather
		// than wait minutes for four candidates, and retry a refusing
		// relay within minutes, not an hour.
		libp2p.EnableAutoRelayWithPeerSource(n.relayCandidates,
			autorelay.WithMinCandidates(1),
			autorelay.WithBackoff(5*time.Minute),
		),
	), nil
}

// startWide starts what the wide network runs beside the host: a keeper
// per static relay, and the move off relays once a direct connection
// exists. Both end with ctx.
func (n *Node) startWide(ctx context.Context) {
	for _, r := range n.relays.infos {
		n.goRun(func() { n.keepReservation(ctx, r) })
	}
	nb := &network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		if isRelayed(c.RemoteMultiaddr()) || ctx.Err() != nil {
			return
		}
		p := c.RemotePeer()
		if n.relayedConns(p) == 0 {
			return
		}
		n.goRun(func() {
			if sleep(ctx, directGrace) {
				n.closeRelayed(p)
			}
		})
	}}
	n.h.Network().Notify(nb)
	n.goRun(func() {
		<-ctx.Done()
		n.h.Network().StopNotify(nb)
	})
}

func (n *Node) relayedConns(p peer.ID) int {
	k := 0
	for _, c := range n.h.Network().ConnsToPeer(p) {
		if isRelayed(c.RemoteMultiaddr()) {
			k++
		}
	}
	return k
}

// closeRelayed closes the relayed connections to p while a direct one
// exists. A sync stream stays on the connection it was opened on, so this
// is what moves a session off the relay: the opener reopens it on the
// direct connection.
func (n *Node) closeRelayed(p peer.ID) {
	conns := n.h.Network().ConnsToPeer(p)
	if !slices.ContainsFunc(conns, func(c network.Conn) bool { return !isRelayed(c.RemoteMultiaddr()) }) {
		return
	}
	for _, c := range conns {
		if isRelayed(c.RemoteMultiaddr()) {
			n.log.Info("direct connection made: closing the relayed one", "peer", p, "relayed", c.RemoteMultiaddr())
			if err := c.Close(); err != nil {
				n.log.Debug("close relayed connection", "peer", p, "err", err)
			}
		}
	}
}

// keepReservation holds a slot on one static relay: it reserves at once,
// again halfway to the reservation's end, and again as soon as the
// connection to the relay drops (the relay forgets the slot then).
// Failures are retried with backoff up to maxReserveRetry.
func (n *Node) keepReservation(ctx context.Context, r peer.AddrInfo) {
	sub, err := n.h.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged), eventbus.BufSize(64))
	if err != nil {
		n.log.Warn("relay: subscribe to connections", "err", err)
		return
	}
	defer sub.Close()
	retry := n.redial
	for {
		rctx, cancel := context.WithTimeout(ctx, reserveTimeout)
		rsvp, err := client.Reserve(rctx, n.h, r)
		cancel()
		if ctx.Err() != nil {
			return
		}
		var wait time.Duration
		if err != nil {
			n.setCircuits(r.ID, nil)
			n.log.Info("relay: no reservation", "relay", r.ID, "retry", retry, "err", err)
			wait, retry = retry, min(2*retry, maxReserveRetry)
		} else {
			n.setCircuits(r.ID, circuitAddrs(r, rsvp.Addrs))
			n.log.Info("relay: reserved a slot", "relay", r.ID, "until", rsvp.Expiration.Format(time.RFC3339))
			wait, retry = max(time.Until(rsvp.Expiration)/2, time.Second), n.redial
		}
		if !waitRelay(ctx, sub, r.ID, wait) {
			return
		}
	}
}

// waitRelay waits d, or until the connection to relay drops; false when
// ctx ends.
func waitRelay(ctx context.Context, sub event.Subscription, relay peer.ID, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case e, ok := <-sub.Out():
			if !ok {
				return false
			}
			if ev := e.(event.EvtPeerConnectednessChanged); ev.Peer == relay && ev.Connectedness == network.NotConnected {
				return true
			}
		}
	}
}

// circuitAddrs are this node's addresses through relay r: each address
// of r (those it was named by and those it vouched for in the
// reservation) with /p2p/<relay>/p2p-circuit.
func circuitAddrs(r peer.AddrInfo, vouched []ma.Multiaddr) []ma.Multiaddr {
	suffix := ma.StringCast("/p2p/" + r.ID.String() + "/p2p-circuit")
	var out []ma.Multiaddr
	for _, a := range append(slices.Clone(r.Addrs), vouched...) {
		if isRelayed(a) {
			continue
		}
		if t, _ := peer.SplitAddr(a); t != nil {
			a = t
		}
		c := a.Encapsulate(suffix)
		if !slices.ContainsFunc(out, c.Equal) {
			out = append(out, c)
		}
	}
	return out
}

func (n *Node) setCircuits(relay peer.ID, addrs []ma.Multiaddr) {
	n.relays.mu.Lock()
	defer n.relays.mu.Unlock()
	if len(addrs) == 0 {
		delete(n.relays.circuits, relay)
	} else {
		n.relays.circuits[relay] = addrs
	}
}

// withCircuits is the host's address factory: the listen addresses and
// the addresses through static relays holding a slot for this node.
// libp2p applies it to everything it announces (identify, the DHT).
func (n *Node) withCircuits(addrs []ma.Multiaddr) []ma.Multiaddr {
	out := slices.Clone(addrs)
	n.relays.mu.Lock()
	defer n.relays.mu.Unlock()
	for _, r := range n.relays.infos {
		for _, c := range n.relays.circuits[r.ID] {
			if !slices.ContainsFunc(out, c.Equal) {
				out = append(out, c)
			}
		}
	}
	return out
}

// relayCandidates feeds autorelay with peers from the DHT routing table
// (autorelay keeps those that offer a relay). Static relays are not
// among them: keepReservation holds those whatever AutoNAT says, while
// autorelay looks for relays only once AutoNAT finds the node private.
func (n *Node) relayCandidates(ctx context.Context, num int) <-chan peer.AddrInfo {
	ch := make(chan peer.AddrInfo, num)
	defer close(ch)
	d := n.dhtRef.Load()
	if d == nil {
		return ch
	}
	for _, p := range d.RoutingTable().ListPeers() {
		if len(ch) == num {
			break
		}
		if addrs := n.h.Peerstore().Addrs(p); len(addrs) > 0 {
			ch <- peer.AddrInfo{ID: p, Addrs: addrs}
		}
	}
	return ch
}

// shareable picks, from this node's addresses, those to give out (in a
// contact code, to the local API): at most keys.MaxAddrs, each short
// enough for a contact code, each with /p2p/<id>. When there are too
// many it keeps the most useful to someone elsewhere: relayed and public
// addresses before private ones, loopback last. The result is ordered
// loopback, private, public, relayed.
func shareable(addrs []ma.Multiaddr, id peer.ID) []string {
	suffix := "/p2p/" + id.String()
	var keep []ma.Multiaddr
	for _, a := range addrs {
		if len(a.String()+suffix) <= keys.MaxAddrLen && !slices.ContainsFunc(keep, a.Equal) {
			keep = append(keep, a)
		}
	}
	if len(keep) > keys.MaxAddrs {
		useful := func(a ma.Multiaddr) int {
			switch addrRank(a) {
			case 0:
				return 2 // loopback
			case 1:
				return 1 // private
			}
			return 0 // public or relayed
		}
		slices.SortStableFunc(keep, func(a, b ma.Multiaddr) int { return useful(a) - useful(b) })
		keep = keep[:keys.MaxAddrs]
	}
	slices.SortStableFunc(keep, func(a, b ma.Multiaddr) int { return addrRank(a) - addrRank(b) })
	out := make([]string, 0, len(keep))
	for _, a := range keep {
		out = append(out, a.String()+suffix)
	}
	return out
}
