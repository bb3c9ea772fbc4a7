package node

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/control"
	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"kite/app"
	"kite/sync/wire"
)

// gater refuses blocked peers and peers whose identity is not an Ed25519
// key (every Kite device's is). It asks the Service each time, so a block
// holds across restarts and takes effect at once.
type gater struct{ n *Node }

func (g *gater) allowed(p peer.ID) bool {
	k, ok := keyOf(p)
	if !ok || g.n.allow != nil && !g.n.allow(p) {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return !g.n.svc.Blocked(ctx, k)
}

func (g *gater) InterceptPeerDial(p peer.ID) bool                 { return g.allowed(p) }
func (g *gater) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return true }
func (g *gater) InterceptAccept(network.ConnMultiaddrs) bool      { return true }
func (g *gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return g.allowed(p)
}
func (g *gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

// Per-peer resource limits. Contacts get room for media and busy groups;
// strangers get enough to send a message request and no more.
var (
	contactLimit = rcmgr.BaseLimit{
		Streams: 512, StreamsInbound: 256, StreamsOutbound: 256,
		Conns: 8, ConnsInbound: 4, ConnsOutbound: 4, FD: 4,
		Memory: 128 << 20,
	}
	strangerLimit = rcmgr.BaseLimit{
		Streams: 48, StreamsInbound: 24, StreamsOutbound: 24,
		Conns: 4, ConnsInbound: 2, ConnsOutbound: 2, FD: 2,
		Memory: 24 << 20,
	}
	// protocolPeerLimits bound each Kite protocol per peer: one sync
	// stream is the rule (a second replaces the first), profile and
	// signal streams are short-lived.
	protocolPeerLimits = map[string]rcmgr.BaseLimit{
		wire.ProtoSync:    {Streams: 4, StreamsInbound: 2, StreamsOutbound: 2, Memory: 8 << 20},
		wire.ProtoProfile: {Streams: 8, StreamsInbound: 4, StreamsOutbound: 4, Memory: 1 << 20},
		wire.ProtoSignal:  {Streams: 16, StreamsInbound: 8, StreamsOutbound: 8, Memory: 1 << 20},
	}
)

// limiter is libp2p's scaled default limiter with Kite's per-peer limits.
// A peer's limit is taken when its scope is made, so a stranger who
// becomes a contact gets the larger limit from its next connection.
type limiter struct {
	rcmgr.Limiter
	isContact func(peer.ID) bool
}

// systemLimit lets a device hold a connection to every member of a few
// full groups (250 members each); libp2p's scaled defaults stop near 128
// outbound connections, which cut a group's fan-out in half.
var systemLimit = rcmgr.ResourceLimits{
	Conns: 1024, ConnsInbound: 512, ConnsOutbound: 512,
	Streams: 8192, StreamsInbound: 4096, StreamsOutbound: 4096,
	Memory: 3 << 29, // 1.5 GiB of reservations, whatever the machine's RAM
}

// serviceLimit bounds each Kite protocol and service across all peers.
// Every sync session reserves 2 MiB (two frames) in the kite.sync
// service; libp2p's scaled default of about 256 MiB per service held 128
// sessions, which capped a 250-member group's fan-out at 131 members.
// Per-peer limits still bound what each peer can take.
var serviceLimit = rcmgr.ResourceLimits{
	Streams: 8192, StreamsInbound: 4096, StreamsOutbound: 4096,
	Memory: 2 << 30,
}

func newLimiter(isContact func(peer.ID) bool) *limiter {
	limits := rcmgr.PartialLimitConfig{
		System: systemLimit, Transient: systemLimit,
		ServiceDefault: serviceLimit, ProtocolDefault: serviceLimit,
	}.Build(rcmgr.DefaultLimits.AutoScale())
	return &limiter{Limiter: rcmgr.NewFixedLimiter(limits), isContact: isContact}
}

func (l *limiter) GetPeerLimits(p peer.ID) rcmgr.Limit {
	if l.isContact(p) {
		return contactLimit
	}
	return strangerLimit
}

func (l *limiter) GetProtocolPeerLimits(proto protocol.ID) rcmgr.Limit {
	if lim, ok := protocolPeerLimits[string(proto)]; ok {
		return lim
	}
	return l.Limiter.GetProtocolPeerLimits(proto)
}

// isContactPeer reads the node's contact set (the limiter must not block
// on the store).
func (n *Node) isContactPeer(p peer.ID) bool { return n.contacts.has(p) }

// refreshContacts brings the contact set up to date: with a zero key it
// reads every contact, otherwise just that person, whom it returns. A
// node that many contacts reach at once applies a profile for each of
// them, and a whole reload per profile made that quadratic.
func (n *Node) refreshContacts(ctx context.Context, key app.PeerKey) (app.Person, bool) {
	if key.IsZero() {
		ps, err := n.svc.People(ctx, true)
		if err != nil {
			n.log.Warn("read contacts", "err", err)
			return app.Person{}, false
		}
		n.contacts.replace(n.me, ps)
		return app.Person{}, false
	}
	p, err := n.svc.Person(ctx, key)
	switch {
	case errors.Is(err, app.ErrNotFound):
		p = app.Person{Key: key} // not a contact
	case err != nil:
		n.log.Warn("read contact", "peer", key, "err", err)
		return app.Person{}, false
	}
	n.contacts.put(n.me, p)
	return p, true
}

// contactSet is the node's copy of who its contacts are and which of
// them name a mailbox, so the limiter and the depositor never read the
// store. It is loaded whole at start and kept up person by person.
type contactSet struct {
	mu        sync.RWMutex
	peers     map[peer.ID]bool
	mailboxes map[app.PeerKey]app.MailboxRef
}

func (c *contactSet) replace(me app.PeerKey, ps []app.Person) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.peers = make(map[peer.ID]bool, len(ps))
	c.mailboxes = make(map[app.PeerKey]app.MailboxRef)
	for _, p := range ps {
		c.putLocked(me, p)
	}
}

func (c *contactSet) put(me app.PeerKey, p app.Person) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.peers == nil {
		c.peers = make(map[peer.ID]bool)
		c.mailboxes = make(map[app.PeerKey]app.MailboxRef)
	}
	c.putLocked(me, p)
}

func (c *contactSet) putLocked(me app.PeerKey, p app.Person) {
	pid, err := peerIDOf(p.Key)
	if err != nil {
		return
	}
	if !p.Contact || p.Blocked {
		delete(c.peers, pid)
		delete(c.mailboxes, p.Key)
		return
	}
	c.peers[pid] = true
	if p.Mailbox != nil && p.Mailbox.Key != me {
		c.mailboxes[p.Key] = *p.Mailbox
	} else {
		delete(c.mailboxes, p.Key)
	}
}

func (c *contactSet) has(p peer.ID) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.peers[p]
}

// boxes is a copy of the contacts that name a mailbox.
func (c *contactSet) boxes() map[app.PeerKey]app.MailboxRef {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return maps.Clone(c.mailboxes)
}

// keyOf is the Kite identity of a peer ID; false for non-Ed25519 peers.
func keyOf(p peer.ID) (app.PeerKey, bool) {
	pub, err := p.ExtractPublicKey()
	if err != nil || pub.Type() != p2pcrypto.Ed25519 {
		return app.PeerKey{}, false
	}
	raw, err := pub.Raw()
	if err != nil || len(raw) != 32 {
		return app.PeerKey{}, false
	}
	return app.PeerKeyOf(raw), true
}

// peerIDOf is the libp2p peer ID of a Kite identity.
func peerIDOf(k app.PeerKey) (peer.ID, error) {
	pub, err := p2pcrypto.UnmarshalEd25519PublicKey(k[:])
	if err != nil {
		return "", err
	}
	return peer.IDFromPublicKey(pub)
}

// addrInfos parses addresses that end in /p2p/PEER-ID and groups them by
// peer, saying in plain words which one is wrong (they come from flags
// and the CLI).
func addrInfos(addrs []string) ([]peer.AddrInfo, error) {
	var mas []ma.Multiaddr
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, app.Userf(app.ErrInvalid, "%q is not an address such as /ip4/192.168.1.7/tcp/4001/p2p/PEER-ID: %v", s, err)
		}
		if _, err := peer.AddrInfoFromP2pAddr(a); err != nil {
			return nil, app.Userf(app.ErrInvalid, "%q does not say whose it is: end it with /p2p/ and the peer ID ('kite id' shows a device's)", s)
		}
		mas = append(mas, a)
	}
	return peer.AddrInfosFromP2pAddrs(mas...)
}

func addrStrings(ai peer.AddrInfo) []string {
	var out []string
	for _, a := range ai.Addrs {
		out = append(out, a.String())
	}
	return out
}

// isLAN reports whether a remote address is on this machine or the local
// network: loopback, private and link-local ranges.
func isLAN(a ma.Multiaddr) bool {
	if isRelayed(a) {
		return false
	}
	return manet.IsIPLoopback(a) || manet.IsPrivateAddr(a) || manet.IsIP6LinkLocal(a) || isIP4LinkLocal(a)
}

func isIP4LinkLocal(a ma.Multiaddr) bool {
	ip, err := manet.ToIP(a)
	return err == nil && ip.To4() != nil && ip.IsLinkLocalUnicast()
}

func isRelayed(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

func transportOf(a ma.Multiaddr) string {
	switch {
	case isRelayed(a):
		return "relay"
	case hasProto(a, ma.P_QUIC_V1), hasProto(a, ma.P_QUIC):
		return "quic"
	}
	return "tcp"
}

func hasProto(a ma.Multiaddr, code int) bool {
	_, err := a.ValueForProtocol(code)
	return err == nil
}

// addrRank orders addresses: loopback, private, public, relayed.
func addrRank(a ma.Multiaddr) int {
	switch {
	case isRelayed(a):
		return 3
	case manet.IsIPLoopback(a):
		return 0
	case manet.IsPrivateAddr(a):
		return 1
	}
	return 2
}
