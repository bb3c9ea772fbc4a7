package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"kite/app"
	"kite/crypto/keys"
	"kite/sync/wire"
)

// MDNSService is the DNS-SD service name Kite peers announce on the LAN,
// so mDNS finds Kite peers and no other libp2p software.
const MDNSService = "_kite-p2p._udp"

// Params are what a Node is built from.
type Params struct {
	Service  Service
	Identity *keys.Identity
	// Listen are multiaddrs; empty listens on /ip4/0.0.0.0/tcp/P and
	// /ip4/0.0.0.0/udp/P/quic-v1, P chosen once and kept in DataDir/port.
	Listen  []string
	DataDir string
	MDNS    bool // LAN discovery
	// DHT turns on the wide network: a Kademlia DHT (protocol prefix
	// /kite) bootstrapped from Bootstrap, AutoNAT, relay v2 client and
	// hole punching.
	DHT       bool
	Bootstrap []string
	// RelayService makes this an always-on public node (wan.go): it
	// offers circuit relay v2 to others and, with DHT, serves the DHT.
	RelayService bool
	// Relays are relays (multiaddrs with /p2p/<id>) this node keeps a
	// slot on and advertises <relay>/p2p-circuit addresses through.
	Relays []string
	Log    *slog.Logger

	// Resync is how often a sync session repeats its Hello (anti-entropy,
	// and keep-alive); zero means 30 s.
	Resync time.Duration
	// Redial is the first redial delay to a known peer, doubled up to
	// 5 minutes while it stays away; zero means 2 s.
	Redial time.Duration
}

// Nearby is a Kite peer found on the LAN by mDNS.
type Nearby struct {
	Key    app.PeerKey
	Handle string
	Name   string
	Addrs  []string
	Seen   time.Time
}

// PeerInfo is one connected peer.
type PeerInfo struct {
	Key       app.PeerKey
	Addr      string
	Transport string // "tcp", "quic" or "relay"
	LAN       bool
}

// Node is a running Kite peer.
type Node struct {
	svc    Service
	log    *slog.Logger
	h      host.Host
	me     app.PeerKey
	params Params
	dht    *dht.IpfsDHT
	dhtRef atomic.Pointer[dht.IpfsDHT] // for autorelay, which may ask early
	relays relayState                  // static relays (wan.go)
	// allow, when set (tests), is consulted by the gater and the
	// redialer: a way to partition peers.
	allow  func(peer.ID) bool
	resync time.Duration
	redial time.Duration

	limits   *limiter
	contacts contactSet // kept up from the Service's updates
	acks     ackQueue   // sessions → ackLoop

	// ctx is the Run context, set before any handler is registered.
	ctx   context.Context
	wg    sync.WaitGroup
	ready chan struct{} // closed once Run serves the protocols

	mu       sync.Mutex // mu guards the fields below.
	sessions map[peer.ID]*session
	openers  map[peer.ID]int // openRunning or openAgain while an opener runs
	nearby   map[peer.ID]*Nearby
	known    map[peer.ID]*redial // peers to keep reaching
	origin   originCache
	typing   map[typingKey]*time.Timer
	sentTyp  map[app.ConvID]typingSent
	hidden   map[peer.ID]bool
	running  bool
	blobs    *blobState // blob.go; set by Run

	// Mailboxes (mailbox.go), set by Run: kicks for the depositor and
	// drain loops, and the depositor's memory per away peer (under mu).
	mboxKick  chan struct{}
	drainKick chan struct{}
	mbox      map[app.PeerKey]*mailboxState
}

// New builds the libp2p host and starts listening; Run serves.
func New(p Params) (*Node, error) {
	if p.Service == nil || p.Identity == nil {
		return nil, errors.New("node: new: Service and Identity are required")
	}
	if p.Log == nil {
		p.Log = slog.Default()
	}
	n := &Node{
		acks:     ackQueue{kick: make(chan struct{}, 1)},
		svc:      p.Service,
		log:      p.Log.With("part", "node"),
		me:       app.PeerKeyOf(p.Identity.SignPub),
		params:   p,
		resync:   p.Resync,
		redial:   p.Redial,
		sessions: make(map[peer.ID]*session),
		openers:  make(map[peer.ID]int),
		nearby:   make(map[peer.ID]*Nearby),
		known:    make(map[peer.ID]*redial),
		typing:   make(map[typingKey]*time.Timer),
		sentTyp:  make(map[app.ConvID]typingSent),
		hidden:   make(map[peer.ID]bool),
		ready:    make(chan struct{}),
	}
	if n.resync <= 0 {
		n.resync = 30 * time.Second
	}
	if n.redial <= 0 {
		n.redial = 2 * time.Second
	}
	if p.Service.Me() != n.me {
		return nil, errors.New("node: new: the Service's identity is not Params.Identity")
	}
	priv, err := p2pcrypto.UnmarshalEd25519PrivateKey(p.Identity.SignPriv)
	if err != nil {
		return nil, fmt.Errorf("node: identity key: %w", err)
	}
	n.refreshContacts(context.Background(), app.PeerKey{})
	n.limits = newLimiter(n.isContactPeer)
	rm, err := rcmgr.NewResourceManager(n.limits)
	if err != nil {
		return nil, fmt.Errorf("node: resource manager: %w", err)
	}
	listen, port, err := n.listenAddrs()
	if err != nil {
		rm.Close()
		return nil, err
	}
	opts := []libp2p.Option{
		libp2p.Identity(priv),
		libp2p.ListenAddrStrings(listen...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionGater(&gater{n: n}),
		libp2p.UserAgent("kite"),
	}
	wide, err := n.wideOptions(p)
	if err != nil {
		rm.Close()
		return nil, err
	}
	opts = append(opts, wide...)
	h, err := libp2p.New(opts...)
	if err != nil && port != 0 {
		// The kept port is taken (another instance?): take a new one.
		n.log.Warn("kept port is busy, choosing another", "port", port, "err", err)
		if err2 := os.Remove(n.portFile()); err2 != nil && !errors.Is(err2, os.ErrNotExist) {
			n.log.Warn("remove port file", "err", err2)
		}
		if listen, _, err = n.listenAddrs(); err == nil {
			opts[1] = libp2p.ListenAddrStrings(listen...)
			h, err = libp2p.New(opts...)
		}
	}
	if err != nil {
		rm.Close()
		return nil, fmt.Errorf("node: start host: %w", err)
	}
	n.h = h
	return n, nil
}

// listenAddrs returns Params.Listen or the default pair on the kept port.
func (n *Node) listenAddrs() ([]string, int, error) {
	if len(n.params.Listen) > 0 {
		return n.params.Listen, 0, nil
	}
	port, err := n.keptPort()
	if err != nil {
		return nil, 0, err
	}
	return []string{
		fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", port),
		fmt.Sprintf("/ip4/0.0.0.0/udp/%d/quic-v1", port),
	}, port, nil
}

func (n *Node) portFile() string { return filepath.Join(n.params.DataDir, "port") }

// keptPort reads DataDir/port, or chooses a port free for both TCP and
// UDP and writes it there.
func (n *Node) keptPort() (int, error) {
	if n.params.DataDir == "" {
		return 0, errors.New("node: listen: no DataDir to keep the port in")
	}
	if b, err := os.ReadFile(n.portFile()); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p > 0 && p < 65536 {
			return p, nil
		}
	}
	for range 20 {
		l, err := net.Listen("tcp4", "0.0.0.0:0")
		if err != nil {
			return 0, fmt.Errorf("node: choose port: %w", err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp4", fmt.Sprintf("0.0.0.0:%d", p))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		if err := os.MkdirAll(n.params.DataDir, 0o700); err != nil {
			return 0, fmt.Errorf("node: keep port: %w", err)
		}
		if err := os.WriteFile(n.portFile(), []byte(strconv.Itoa(p)+"\n"), 0o600); err != nil {
			return 0, fmt.Errorf("node: keep port: %w", err)
		}
		return p, nil
	}
	return 0, errors.New("node: choose port: no port free for both TCP and UDP")
}

// Run serves until ctx ends, then closes the host.
func (n *Node) Run(ctx context.Context) error {
	n.mu.Lock()
	if n.running {
		n.mu.Unlock()
		return errors.New("node: run: already running")
	}
	n.running = true
	n.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	n.ctx = ctx
	defer func() {
		cancel()
		n.stopTyping()
		if err := n.h.Close(); err != nil {
			n.log.Warn("close host", "err", err)
		}
		n.wg.Wait()
	}()

	// New events go to the sessions from the goroutine that stored them,
	// everything else through Run's own loop.
	defer n.svc.Observe(func(u app.Update) {
		if u.Kind == app.UpdEvents {
			n.offer(u)
		}
	})()
	updates, unsubscribe := n.svc.Subscribe(4096, func(u app.Update) bool {
		switch u.Kind {
		case app.UpdMailbox, app.UpdTyping, app.UpdSeen, app.UpdContactAdded, app.UpdPeople, app.UpdSettings:
			return true
		}
		return false
	})
	defer unsubscribe()
	conns, err := n.h.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged), eventbus.BufSize(256))
	if err != nil {
		return fmt.Errorf("node: subscribe to connections: %w", err)
	}
	defer conns.Close()

	n.h.SetStreamHandler(protocol.ID(wire.ProtoProfile), n.handleProfile)
	n.h.SetStreamHandler(protocol.ID(wire.ProtoSync), n.handleSync)
	n.h.SetStreamHandler(protocol.ID(wire.ProtoSignal), n.handleSignal)
	n.startBlobs(ctx)
	n.serveEphemeral(ctx)
	n.startMailbox(ctx)
	n.goRun(func() { n.ackLoop(ctx) })
	close(n.ready)

	if n.params.MDNS {
		md := mdns.NewMdnsService(n.h, MDNSService, &mdnsNotifee{n: n})
		if err := md.Start(); err != nil {
			n.log.Warn("mdns: start", "err", err)
		} else {
			defer md.Close()
		}
	}
	if n.dht != nil {
		if err := n.dht.Bootstrap(ctx); err != nil {
			n.log.Warn("dht: bootstrap", "err", err)
		}
	}
	n.startWide(ctx)
	// Peers connected before Run (none normally) get their sessions now.
	for _, p := range n.h.Network().Peers() {
		n.onConnected(p)
	}
	n.loadKnown()
	n.goRun(func() { n.redialLoop(ctx) })
	n.log.Info("node running", "peer", n.h.ID().String(), "addrs", n.Addrs())

	for {
		select {
		case <-ctx.Done():
			n.sendOffline()
			return nil
		case e, ok := <-conns.Out():
			if !ok {
				return nil
			}
			ev := e.(event.EvtPeerConnectednessChanged)
			switch ev.Connectedness {
			case network.Connected:
				n.onConnected(ev.Peer)
			case network.NotConnected:
				n.onDisconnected(ev.Peer)
			}
		case u, ok := <-updates:
			if !ok {
				return nil
			}
			n.onUpdate(ctx, u)
		}
	}
}

// goRun starts f as a goroutine that Run waits for.
func (n *Node) goRun(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// offer hands newly stored events to every session's pusher. It runs in
// the goroutine that stored them and never blocks.
func (n *Node) offer(u app.Update) {
	n.mu.Lock()
	ss := make([]*session, 0, len(n.sessions))
	for _, s := range n.sessions {
		ss = append(ss, s)
	}
	n.mu.Unlock()
	for _, s := range ss {
		s.offer(u.Conv, u.Events)
	}
	if len(u.Events) > 0 && u.Events[0].Author == n.me {
		kick(n.mboxKick) // for members who are away
	}
}

// onUpdate reacts to a change in the domain. Run subscribes to just the
// kinds handled here: keep its filter and these cases together.
func (n *Node) onUpdate(ctx context.Context, u app.Update) {
	switch u.Kind {
	case app.UpdMailbox:
		n.goRun(func() { n.notifyOwner(ctx, u.Peer) })
	case app.UpdTyping:
		if u.Peer == n.me {
			n.sendTyping(u.Conv, u.Typing)
		}
	case app.UpdSeen:
		if u.Peer == n.me {
			n.sendSeen(u.Conv, u.Seen)
		}
	case app.UpdContactAdded:
		n.refreshContacts(ctx, u.Peer)
		if pid, err := peerIDOf(u.Peer); err == nil {
			n.remember(pid, u.Addrs)
			n.goRun(func() { n.dialNow(ctx, pid) })
		}
	case app.UpdPeople:
		p, ok := n.refreshContacts(ctx, u.Peer)
		pid, err := peerIDOf(u.Peer)
		if !ok || err != nil {
			break
		}
		switch {
		case p.Blocked:
			n.forget(pid)
			if err := n.h.Network().ClosePeer(pid); err != nil {
				n.log.Debug("close blocked peer", "peer", pid, "err", err)
			}
		case p.Contact:
			n.remember(pid, p.Addrs) // back from a block, say
		}
	case app.UpdSettings:
		kick(n.drainKick) // the mailbox may have changed
		for _, p := range n.h.Network().Peers() {
			n.goRun(func() { n.sendPresence(ctx, p) })
		}
	}
}

// onConnected starts what every new connection gets: the profile
// exchange, presence, and the sync session.
func (n *Node) onConnected(p peer.ID) {
	ctx := n.ctx
	n.svc.NetworkChanged()
	if n.worthKeeping(ctx, p) {
		n.remember(p, nil)
	}
	n.goRun(func() { n.fetchProfile(ctx, p) })
	n.goRun(func() { n.sendPresence(ctx, p) })
	if k, ok := keyOf(p); ok {
		if ref, ok := n.svc.Mailbox(ctx); ok && ref.Key == k {
			kick(n.drainKick)
		}
		if _, ok := n.svc.MailboxOf(ctx, k); ok {
			kick(n.mboxKick) // receipts for what p got from its mailbox
		}
	}
	if n.h.ID() < p {
		n.mu.Lock()
		start := n.openers[p] == 0
		if start {
			n.openers[p] = openRunning
		} else {
			n.openers[p] = openAgain
		}
		n.mu.Unlock()
		if start {
			n.goRun(func() { n.openSessions(ctx, p) })
		}
	}
}

func (n *Node) onDisconnected(p peer.ID) {
	n.svc.NetworkChanged()
	n.mu.Lock()
	s := n.sessions[p]
	hidden := n.hidden[p]
	n.mu.Unlock()
	if s != nil {
		s.stop()
	}
	kick(n.mboxKick) // what p has not acknowledged goes to its mailbox, if any
	if k, ok := keyOf(p); ok {
		n.svc.SetPresence(k, app.Presence{Online: false, LastActive: time.Now(), Hidden: hidden})
	}
	n.markDisconnected(p)
}

// Addrs are this node's addresses with /p2p/<id>, loopback first, then
// private, public and relayed ones; at most as many as a contact code
// holds, the most useful elsewhere kept (see shareable).
func (n *Node) Addrs() []string { return shareable(n.h.Addrs(), n.h.ID()) }

// Ready is closed once Run serves the protocols.
func (n *Node) Ready() <-chan struct{} { return n.ready }

// ID is this node's libp2p peer ID.
func (n *Node) ID() peer.ID { return n.h.ID() }

// Connect dials the peers the addresses name (each with /p2p/<id>).
func (n *Node) Connect(ctx context.Context, addrs []string) error {
	infos, err := addrInfos(addrs)
	if err != nil {
		return fmt.Errorf("node: connect: %w", err)
	}
	if len(infos) == 0 {
		return app.Userf(app.ErrInvalid, "say which address to connect to")
	}
	var failed []string
	for _, ai := range infos {
		if ai.ID == n.h.ID() {
			continue
		}
		n.remember(ai.ID, addrStrings(ai))
		if err := n.h.Connect(ctx, ai); err != nil {
			failed = append(failed, fmt.Sprintf("could not reach %s at %s: %v", ai.ID, strings.Join(addrStrings(ai), ", "), err))
		}
	}
	if len(failed) > 0 {
		return app.Userf(app.ErrUnreachable, "%s", strings.Join(failed, "; "))
	}
	return nil
}

// Disconnect closes every connection to the peer (used by tests and the
// UI's "go offline for this peer"); the redialer will reach it again.
func (n *Node) Disconnect(key app.PeerKey) error {
	pid, err := peerIDOf(key)
	if err != nil {
		return err
	}
	return n.h.Network().ClosePeer(pid)
}

// Peers lists connected peers, one entry each (a direct connection is
// preferred over a relayed one).
func (n *Node) Peers() []PeerInfo {
	var out []PeerInfo
	ids := make(map[app.PeerKey]string) // sorting encodes each key once
	for _, p := range n.h.Network().Peers() {
		k, ok := keyOf(p)
		if !ok {
			continue
		}
		var best *PeerInfo
		for _, c := range n.h.Network().ConnsToPeer(p) {
			a := c.RemoteMultiaddr()
			pi := PeerInfo{Key: k, Addr: a.String(), Transport: transportOf(a), LAN: isLAN(a)}
			if best == nil || best.Transport == "relay" && pi.Transport != "relay" {
				best = &pi
			}
		}
		if best != nil {
			out = append(out, *best)
			ids[k] = p.String()
		}
	}
	slices.SortFunc(out, func(a, b PeerInfo) int { return strings.Compare(ids[a.Key], ids[b.Key]) })
	return out
}

// Nearby lists Kite peers found on the LAN in the last 10 minutes.
func (n *Node) Nearby() []Nearby {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []Nearby
	for p, nb := range n.nearby {
		if time.Since(nb.Seen) > 10*time.Minute {
			delete(n.nearby, p)
			continue
		}
		c := *nb
		c.Addrs = slices.Clone(nb.Addrs)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Nearby) int { return strings.Compare(a.Key.String(), b.Key.String()) })
	return out
}

// worthKeeping says whether p is someone to keep reaching: a contact, a
// peer nearby on the LAN, or one this device shares a conversation with.
// DHT neighbours, relays and depositors at a mailbox connect too; they
// are not redialled or saved.
func (n *Node) worthKeeping(ctx context.Context, p peer.ID) bool {
	k, ok := keyOf(p)
	if !ok {
		return false
	}
	n.mu.Lock()
	nearby := n.nearby[p] != nil
	n.mu.Unlock()
	if nearby || n.svc.IsContact(ctx, k) {
		return true
	}
	convs, err := n.svc.SharedConversations(ctx, k)
	return err == nil && len(convs) > 0
}
