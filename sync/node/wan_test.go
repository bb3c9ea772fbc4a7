package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"kite/app"
	"kite/crypto/keys"
)

// TestDHTPeerRouting: hosts on 127.0.0.1 all bootstrapped from one
// always-on node. Ada adds Bob from a contact code with no address (and
// no mDNS): her node finds Bob's addresses in the DHT, connects, and her
// message is stored at Bob.
func TestDHTPeerRouting(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small DHT")
	}
	ctx := context.Background()
	boot := newPeer(t, "boot", func(p *Params) { p.DHT, p.RelayService = true, true })
	joined := func(p *Params) { p.DHT, p.Bootstrap = true, boot.node.Addrs() }
	// Two more always-on nodes make the DHT more than one server; cleo and
	// dan are devices that only use it.
	servers := []*testPeer{boot,
		newPeer(t, "srv1", joined, func(p *Params) { p.RelayService = true }),
		newPeer(t, "srv2", joined, func(p *Params) { p.RelayService = true }),
	}
	ada, bob, cleo := newPeer(t, "ada", joined), newPeer(t, "bob", joined), newPeer(t, "cleo", joined)
	for _, p := range append(servers, ada, bob, cleo) {
		if p.node.dht == nil {
			t.Fatalf("%s: no DHT although Params.DHT is set", p.name)
		}
	}
	for _, p := range []*testPeer{servers[1], servers[2], ada, bob, cleo} {
		waitFor(t, 20*time.Second, p.name+" bootstraps from boot", func() bool {
			return p.node.h.Network().Connectedness(boot.node.ID()) == network.Connected
		})
	}
	// The always-on nodes serve the DHT: each finds the others in its
	// routing table.
	for _, s := range servers {
		waitFor(t, 30*time.Second, s.name+" has the other servers in its routing table", func() bool {
			return s.node.dht.RoutingTable().Size() >= len(servers)-1
		})
	}

	// What Ada knows of Bob before: nothing but his key.
	if got := ada.node.h.Peerstore().Addrs(bob.node.ID()); len(got) != 0 {
		t.Fatalf("ada knows addresses of bob before looking him up: %v", got)
	}
	if ada.connected(bob) {
		t.Fatal("ada is connected to bob before adding him")
	}
	code := bob.id.ContactCode("bob", nil).String()
	if cc, err := keys.ParseContactCode(code); err != nil || len(cc.Addrs) != 0 {
		t.Fatalf("bob's code: %v, %d addresses; want a code with none", err, len(cc.Addrs))
	}
	if _, err := ada.svc.AddContact(ctx, code); err != nil {
		t.Fatalf("ada adds bob: %v", err)
	}
	waitFor(t, 30*time.Second, "ada connected to bob through a DHT lookup", func() bool { return ada.connected(bob) })
	if !hasAnyAddr(ada.node.h.Peerstore().Addrs(bob.node.ID()), bob.node.h.Addrs()) {
		t.Fatalf("ada's addresses for bob %v: want one of bob's %v", ada.node.h.Peerstore().Addrs(bob.node.ID()), bob.node.h.Addrs())
	}

	conv, err := ada.svc.Direct(ctx, bob.key, false)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ada.svc.SendText(ctx, conv, "found you in the DHT", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "ada's message stored at bob", func() bool { return bob.has(ev.ID) })
	m, err := bob.svc.Message(ctx, ev.ID)
	if err != nil || m.Text != "found you in the DHT" || m.Author != ada.key {
		t.Fatalf("bob's copy: %+v, %v", m, err)
	}
	waitFor(t, 15*time.Second, "ada sees it delivered", func() bool { return ada.status(ev.ID) == app.StatusDelivered })

	// The lookup itself, from a device that has never met bob.
	if got := cleo.node.h.Peerstore().Addrs(bob.node.ID()); len(got) != 0 {
		t.Fatalf("cleo knows addresses of bob before looking him up: %v", got)
	}
	fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ai, err := cleo.node.dht.FindPeer(fctx, bob.node.ID())
	if err != nil {
		t.Fatalf("cleo looks bob up: %v", err)
	}
	if !hasAnyAddr(ai.Addrs, bob.node.h.Addrs()) {
		t.Fatalf("DHT answer for bob: %v; want one of %v", ai.Addrs, bob.node.h.Addrs())
	}
}

func hasAnyAddr(got, want []ma.Multiaddr) bool {
	for _, a := range got {
		if slices.ContainsFunc(want, a.Equal) {
			return true
		}
	}
	return false
}

// TestRelayOptionsRefused: a static relay must name its peer and an
// address; a bad one is an error at start, not a silent no-op.
func TestRelayOptionsRefused(t *testing.T) {
	id := newIdentity(t)
	pid := peerIDFor(t, id)
	for _, tt := range []struct {
		name, relay, want string
	}{
		{"not a multiaddr", "relay.example.org:4001", "relays"},
		{"no peer ID", "/ip4/127.0.0.1/tcp/4001", "relays"},
		{"no address", "/p2p/" + pid.String(), "no address"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var n Node
			_, err := n.wideOptions(Params{Relays: []string{tt.relay}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("relay %q: got %v, want an error about %q", tt.relay, err, tt.want)
			}
		})
	}
}

func peerIDFor(t *testing.T, id *keys.Identity) peer.ID {
	t.Helper()
	p, err := peerIDOf(app.PeerKeyOf(id.SignPub))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCircuitAddrs: the addresses through a relay are each of its
// addresses with /p2p/<relay>/p2p-circuit, once each.
func TestCircuitAddrs(t *testing.T) {
	relay := peerIDFor(t, newIdentity(t))
	r := peer.AddrInfo{ID: relay, Addrs: []ma.Multiaddr{
		ma.StringCast("/ip4/10.0.0.1/tcp/4001"),
		ma.StringCast("/ip4/10.0.0.1/udp/4001/quic-v1"),
	}}
	vouched := []ma.Multiaddr{
		ma.StringCast("/ip4/10.0.0.1/tcp/4001/p2p/" + relay.String()), // the same again
		ma.StringCast("/ip4/198.51.100.7/tcp/4001/p2p/" + relay.String()),
	}
	var got []string
	for _, a := range circuitAddrs(r, vouched) {
		got = append(got, a.String())
	}
	c := "/p2p/" + relay.String() + "/p2p-circuit"
	want := []string{"/ip4/10.0.0.1/tcp/4001" + c, "/ip4/10.0.0.1/udp/4001/quic-v1" + c, "/ip4/198.51.100.7/tcp/4001" + c}
	if !slices.Equal(got, want) {
		t.Fatalf("circuit addrs:\n got %v\nwant %v", got, want)
	}
}

// TestShareableAddrs: a machine with many interfaces must still give a
// contact code others can parse (at most keys.MaxAddrs addresses), and
// the addresses dropped are the least useful elsewhere: loopback, then
// private; relayed and public ones stay.
func TestShareableAddrs(t *testing.T) {
	me := peerIDFor(t, newIdentity(t))
	relay := peerIDFor(t, newIdentity(t))
	var addrs []ma.Multiaddr
	for i := range 2 {
		addrs = append(addrs, ma.StringCast(fmt.Sprintf("/ip4/127.0.0.%d/tcp/4001", i+1)))
	}
	for i := range 15 {
		addrs = append(addrs, ma.StringCast(fmt.Sprintf("/ip4/10.0.%d.2/udp/4001/quic-v1", i)))
	}
	public := ma.StringCast("/ip4/1.2.3.4/tcp/4001")
	circuit := ma.StringCast("/ip4/1.2.3.5/tcp/4001/p2p/" + relay.String() + "/p2p-circuit")
	tooLong := ma.StringCast("/dns4/" + strings.Repeat("a", 200) + ".example/tcp/4001")
	addrs = append(addrs, circuit, public, tooLong, public)

	got := shareable(addrs, me)
	if len(got) != keys.MaxAddrs {
		t.Fatalf("got %d addresses, want %d: %v", len(got), keys.MaxAddrs, got)
	}
	suffix := "/p2p/" + me.String()
	for _, want := range []ma.Multiaddr{public, circuit} {
		if !slices.Contains(got, want.String()+suffix) {
			t.Errorf("%v dropped; want it kept", want)
		}
	}
	private := 0
	for _, a := range got {
		if strings.HasPrefix(a, "/ip4/127.") {
			t.Errorf("loopback %s kept while private addresses were dropped", a)
		}
		if strings.HasPrefix(a, "/ip4/10.") {
			private++
		}
		if strings.Contains(a, "example") {
			t.Errorf("%s is longer than a contact code allows", a)
		}
	}
	if private != keys.MaxAddrs-2 {
		t.Errorf("private addresses kept: got %d, want %d", private, keys.MaxAddrs-2)
	}
	// Ordered loopback, private, public, relayed.
	if last := got[len(got)-1]; last != circuit.String()+suffix {
		t.Errorf("last address: got %s, want the relayed one", last)
	}
	id := newIdentity(t)
	if _, err := keys.ParseContactCode(id.ContactCode("me", got).String()); err != nil {
		t.Fatalf("a contact code with the shareable addresses does not parse: %v", err)
	}

	// Few addresses: all kept, in rank order.
	few := shareable([]ma.Multiaddr{public, addrs[0], addrs[3]}, me)
	want := []string{addrs[0].String() + suffix, addrs[3].String() + suffix, public.String() + suffix}
	if !slices.Equal(few, want) {
		t.Fatalf("few addresses:\n got %v\nwant %v", few, want)
	}
}

// TestMoveOffRelay: when a peer is reached both through a relay and
// directly, the relayed connection is closed, the peers stay connected,
// and a message still gets through (on the direct connection).
func TestMoveOffRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes")
	}
	ctx := context.Background()
	relay := newPeer(t, "relay", func(p *Params) { p.RelayService = true })
	viaRelay := func(p *Params) { p.Relays = relay.node.Addrs() }
	ada, bob := newPeer(t, "ada", viaRelay), newPeer(t, "bob", viaRelay)
	circuitOf := func(p *testPeer) []string {
		var out []string
		for _, a := range p.node.Addrs() {
			if strings.Contains(a, "/p2p-circuit/") {
				out = append(out, a)
			}
		}
		return out
	}
	waitFor(t, 20*time.Second, "bob holds a slot on the relay", func() bool { return len(circuitOf(bob)) > 0 })
	// Ada reaches bob through the relay only at first.
	if err := ada.node.Connect(ctx, circuitOf(bob)); err != nil {
		t.Fatalf("ada connects to bob through the relay: %v", err)
	}
	if got := ada.node.relayedConns(bob.node.ID()); got != 1 {
		t.Fatalf("relayed connections from ada to bob: got %d, want 1", got)
	}
	// Then directly, as a hole punch would.
	direct := network.WithForceDirectDial(ctx, "the test stands in for a hole punch")
	if err := ada.node.h.Connect(direct, peer.AddrInfo{ID: bob.node.ID(), Addrs: bob.node.h.Network().ListenAddresses()}); err != nil {
		t.Fatalf("ada connects to bob directly: %v", err)
	}
	waitFor(t, 10*time.Second, "the relayed connection closed", func() bool {
		return ada.node.relayedConns(bob.node.ID()) == 0 && bob.node.relayedConns(ada.node.ID()) == 0
	})
	if !ada.connected(bob) {
		t.Fatal("ada and bob disconnected; want the direct connection kept")
	}
	for _, pi := range ada.node.Peers() {
		if pi.Key == bob.key && pi.Transport == "relay" {
			t.Fatalf("ada's peers show bob as %q; want direct", pi.Transport)
		}
	}
	befriend(t, ada, bob)
	conv, err := ada.svc.Direct(ctx, bob.key, false)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ada.svc.SendText(ctx, conv, "off the relay", app.EventID{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the message at bob", func() bool { return bob.has(ev.ID) })
	if m, _ := bob.svc.Message(ctx, ev.ID); m.Path != app.PathLAN {
		t.Fatalf("path of the message at bob: got %q, want %q (the direct loopback connection)", m.Path, app.PathLAN)
	}
}

// TestDHTBootstrapsFromListenPort: a node joins the DHT only once it
// listens, so its connection to the bootstrap peer leaves from its listen
// port (TCP port reuse), and the address the bootstrap peer observes is
// one a NAT maps back to it. Joining from New, before listening, left from
// a random port: libp2p then dropped the observed address, and a node
// behind a NAT never started hole punching.
func TestDHTBootstrapsFromListenPort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two nodes")
	}
	boot := newPeer(t, "boot", func(p *Params) { p.DHT, p.RelayService = true, true })
	ada := makePeer(t, "ada", func(p *Params) { p.DHT, p.Bootstrap = true, boot.node.Addrs() })
	time.Sleep(time.Second)
	if got := ada.node.h.Network().Connectedness(boot.node.ID()); got != network.NotConnected {
		t.Fatalf("before Run, ada's node is %v to the bootstrap peer; want not connected", got)
	}
	ada.start()
	waitFor(t, 10*time.Second, "ada bootstraps from boot", func() bool {
		return ada.node.h.Network().Connectedness(boot.node.ID()) == network.Connected
	})
	listen := ada.node.h.Network().ListenAddresses()
	for _, c := range ada.node.h.Network().ConnsToPeer(boot.node.ID()) {
		if c.Stat().Direction == network.DirOutbound && !slices.ContainsFunc(listen, c.LocalMultiaddr().Equal) {
			t.Fatalf("ada's connection to boot leaves from %v; want one of her listen addresses %v", c.LocalMultiaddr(), listen)
		}
	}
}
