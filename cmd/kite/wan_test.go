package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kite/app"
	"kite/app/localapi"
)

// The wide-network tests run real `kite serve` processes in network
// namespaces made for the test and joined by veth pairs. The namespaces
// have no link to the machine's own network, so nothing they send can
// leave them. They need root, `ip netns` and (for the NATs) iptables;
// without them the tests skip and say why.

// lab is a set of network namespaces for one test.
type lab struct {
	t   *testing.T
	tag string            // unique per test run
	ns  map[string]string // role → namespace name
	n   int               // veth pairs made
}

func newLab(t *testing.T, roles ...string) *lab {
	t.Helper()
	if testing.Short() {
		t.Skip("makes network namespaces and starts processes")
	}
	l := &lab{t: t, tag: fmt.Sprintf("%04x", rand.IntN(1<<16)), ns: map[string]string{}}
	// Delete what exists even when the test fails half-way; processes
	// started later are stopped first (cleanups run last-in, first-out).
	t.Cleanup(func() {
		for _, n := range l.ns {
			if out, err := exec.Command("ip", "netns", "del", n).CombinedOutput(); err != nil {
				t.Logf("cleanup: ip netns del %s: %v %s", n, err, out)
			}
		}
	})
	for _, r := range roles {
		name := fmt.Sprintf("kite-%s-%d-%s", r, os.Getpid(), l.tag)
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			t.Skipf("skipped: this test needs root and `ip netns` to make network namespaces (%v: %s)", err, strings.TrimSpace(string(out)))
		}
		l.ns[r] = name
		l.ip(r, "link", "set", "lo", "up")
	}
	return l
}

// run runs a command in the namespace of role, failing the test if it fails.
func (l *lab) run(role string, args ...string) {
	l.t.Helper()
	full := append([]string{"netns", "exec", l.ns[role]}, args...)
	if out, err := exec.Command("ip", full...).CombinedOutput(); err != nil {
		l.t.Fatalf("in %s: %s: %v: %s", role, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
}

func (l *lab) ip(role string, args ...string) {
	l.t.Helper()
	l.run(role, append([]string{"ip"}, args...)...)
}

// link joins two namespaces with a veth pair, addresses each end (CIDR)
// and returns the interface names.
func (l *lab) link(a, addrA, b, addrB string) (ifA, ifB string) {
	l.t.Helper()
	l.n++
	ifA, ifB = fmt.Sprintf("kv%s%da", l.tag, l.n), fmt.Sprintf("kv%s%db", l.tag, l.n)
	if out, err := exec.Command("ip", "link", "add", ifA, "netns", l.ns[a], "type", "veth", "peer", "name", ifB, "netns", l.ns[b]).CombinedOutput(); err != nil {
		l.t.Fatalf("veth %s-%s: %v: %s", a, b, err, out)
	}
	l.ip(a, "addr", "add", addrA, "dev", ifA)
	l.ip(b, "addr", "add", addrB, "dev", ifB)
	l.ip(a, "link", "set", ifA, "up")
	l.ip(b, "link", "set", ifB, "up")
	return ifA, ifB
}

func (l *lab) forwarding(role string, on bool) {
	l.t.Helper()
	v := map[bool]string{true: "1", false: "0"}[on]
	l.run(role, "sysctl", "-q", "-w", "net.ipv4.ip_forward="+v)
}

// reaches reports whether a TCP connection from role to addr (host:port)
// opens within 3 s.
func (l *lab) reaches(role, addr string) bool {
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command("ip", "netns", "exec", l.ns[role], "timeout", "3", "bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/%s/%s", host, port))
	return cmd.Run() == nil
}

// serveIn starts `kite serve` on dir inside the namespace of role.
func (l *lab) serveIn(role, dir string, args ...string) *proc {
	l.t.Helper()
	argv := append([]string{"netns", "exec", l.ns[role], kiteBin(l.t), "serve", "--data-dir", dir, "--no-mdns"}, args...)
	cmd := exec.Command("ip", argv...)
	if os.Getenv("GOLOG_LOG_LEVEL") == "" {
		// libp2p's own logs go to serve.log, which a failing test prints;
		// the hole puncher's say why it did not punch.
		cmd.Env = append(os.Environ(), "GOLOG_LOG_LEVEL=error,p2p-holepunch=debug")
	}
	return startProc(l.t, dir, cmd)
}

func (p *proc) me() localapi.Me {
	p.t.Helper()
	var me localapi.Me
	p.do(http.MethodGet, "/v1/me", nil, &me)
	return me
}

// circuits are p's addresses through a relay.
func (p *proc) circuits() []string {
	var out []string
	for _, a := range p.me().Addrs {
		if strings.Contains(a, "/p2p-circuit/") {
			out = append(out, a)
		}
	}
	return out
}

// peerVia is how p is connected to key, from `kite peers --json`; "" when
// it is not.
func peerVia(t *testing.T, dir string, key app.PeerKey) localapi.ConnectedPeer {
	t.Helper()
	var ps []localapi.ConnectedPeer
	out := mustKite(t, "peers", "--json", "--data-dir", dir)
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatalf("kite peers --json: %v: %q", err, out)
	}
	for _, p := range ps {
		if p.PeerID == key.String() {
			return p
		}
	}
	return localapi.ConnectedPeer{}
}

// messagesJSON is `kite messages CONV --json` on dir.
func messagesJSON(t *testing.T, dir, conv string) []app.Message {
	t.Helper()
	var ms []app.Message
	out := mustKite(t, "messages", conv, "--json", "--data-dir", dir)
	if err := json.Unmarshal([]byte(out), &ms); err != nil {
		t.Fatalf("kite messages --json: %v: %q", err, out)
	}
	return ms
}

func serveLog(p *proc) string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "serve.log"))
	return string(b)
}

// TestRelayNetns: ada and bob cannot reach each other; both reach the
// relay, an always-on `kite serve --relay-service` in the middle that
// forwards no packets. Each keeps a slot on it (`--relay`), they add each
// other's contact codes, and `kite send` from ada lands in bob's
// `kite messages`, while `kite peers --json` shows the connection as
// relayed.
//
//	ada 10.91.1.2 ── 10.91.1.1 [relay: 10.91.0.1, forwarding off] 10.91.2.1 ── 10.91.2.2 bob
func TestRelayNetns(t *testing.T) {
	l := newLab(t, "ada", "relay", "bob")
	l.link("ada", "10.91.1.2/24", "relay", "10.91.1.1/24")
	l.link("relay", "10.91.2.1/24", "bob", "10.91.2.2/24")
	l.forwarding("relay", false)
	// The relay's one address, as a public host has: local to it, routed
	// to it by each side.
	l.ip("relay", "addr", "add", "10.91.0.1/32", "dev", "lo")
	l.ip("ada", "route", "add", "10.91.0.1/32", "via", "10.91.1.1")
	l.ip("bob", "route", "add", "10.91.0.1/32", "via", "10.91.2.1")

	dr, da, db := initDir(t, "relay"), initDir(t, "ada"), initDir(t, "bob")
	r := l.serveIn("relay", dr, "--listen", "/ip4/0.0.0.0/tcp/4001", "--relay-service")
	relayAddr := "/ip4/10.91.0.1/tcp/4001/p2p/" + r.key.String()
	a := l.serveIn("ada", da, "--listen", "/ip4/10.91.1.2/tcp/4002", "--relay", relayAddr)
	b := l.serveIn("bob", db, "--listen", "/ip4/10.91.2.2/tcp/4003", "--relay", relayAddr)

	if !l.reaches("ada", "10.91.0.1:4001") || !l.reaches("bob", "10.91.0.1:4001") {
		t.Fatal("ada or bob cannot reach the relay; the topology is wrong")
	}
	if l.reaches("ada", "10.91.2.2:4003") || l.reaches("bob", "10.91.1.2:4002") {
		t.Fatal("ada and bob reach each other directly; the test would prove nothing")
	}
	for _, p := range []*proc{a, b} {
		waitFor(t, 30*time.Second, filepath.Base(p.dir)+" holds a slot on the relay", func() bool { return len(p.circuits()) > 0 })
	}
	for _, c := range a.circuits() {
		if !strings.HasPrefix(c, relayAddr+"/p2p-circuit/p2p/") {
			t.Fatalf("ada's circuit address %s: want %s/p2p-circuit/p2p/<ada>", c, relayAddr)
		}
	}

	// Contact codes are taken now, with the relayed addresses in them.
	mustKite(t, "contacts", "add", a.me().Code, "--data-dir", db)
	mustKite(t, "contacts", "add", b.me().Code, "--data-dir", da)
	waitFor(t, 30*time.Second, "ada connected to bob", func() bool { return peerVia(t, da, b.key).PeerID != "" })
	if via := peerVia(t, da, b.key); via.Transport != "relay" || via.LAN {
		t.Fatalf("kite peers --json at ada shows bob as %+v; want transport relay, not LAN", via)
	}
	if via := peerVia(t, db, a.key); via.Transport != "relay" {
		t.Fatalf("kite peers --json at bob shows ada as %+v; want transport relay", via)
	}

	mustKite(t, "send", "bob", "hello through the relay", "--data-dir", da)
	waitFor(t, 20*time.Second, "the message in bob's kite messages", func() bool {
		return strings.Contains(mustKite(t, "messages", "ada", "--data-dir", db), "hello through the relay")
	})
	ms := messagesJSON(t, db, "ada")
	if len(ms) != 1 || ms[0].Author != a.key || ms[0].Path != app.PathWAN {
		t.Fatalf("bob's messages from ada: %+v; want one, by ada, path %q", ms, app.PathWAN)
	}
	// And back.
	mustKite(t, "send", "ada", "and back", "--data-dir", db)
	waitFor(t, 20*time.Second, "bob's answer at ada", func() bool {
		return strings.Contains(mustKite(t, "messages", "bob", "--data-dir", da), "and back")
	})
	if via := peerVia(t, da, b.key); via.Transport != "relay" {
		t.Fatalf("after the exchange, ada's connection to bob: %+v; want still relay (there is no other path)", via)
	}
}

// nat makes role a home router: wan and lan interfaces, forwarding on,
// source NAT (MASQUERADE) out of wan, and nothing unsolicited in from wan.
func (l *lab) nat(role, wan string) {
	l.t.Helper()
	if _, err := exec.LookPath("iptables"); err != nil {
		l.t.Skip("skipped: this test needs iptables for its NATs (apt-get install iptables)")
	}
	l.forwarding(role, true)
	l.run(role, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", wan, "-j", "MASQUERADE")
	for _, chain := range []string{"INPUT", "FORWARD"} {
		l.run(role, "iptables", "-A", chain, "-i", wan, "-m", "conntrack", "--ctstate", "NEW,INVALID", "-j", "DROP")
	}
}

// TestHolePunchNetns: ada and bob are each behind a NAT that lets nothing
// unsolicited in; the relay is on the "internet" between the NATs. They
// use it as users would: `kite serve --dht --bootstrap RELAY`; AutoNAT
// finds them private, autorelay takes a slot on the relay found in the
// DHT, they connect through it, and DCUtR must upgrade the connection to
// a direct one through both NATs.
//
// go-libp2p punches holes only from public addresses (its hole punching
// service stays off until the host has one, and autorelay and the relay
// service ignore private relay addresses), so the internet part of this
// network uses 11.0.0.0/8: public to libp2p, and sealed in namespaces
// that have no link to anything else.
//
//	ada 192.168.1.2 ─ [nat-a 11.0.1.2] ─ 11.0.1.1 [relay 11.0.0.1, routes] 11.0.2.1 ─ [nat-b 11.0.2.2] ─ 192.168.2.2 bob
func TestHolePunchNetns(t *testing.T) {
	l := newLab(t, "ada", "nata", "relay", "natb", "bob")
	l.link("ada", "192.168.1.2/24", "nata", "192.168.1.1/24")
	wanA, _ := l.link("nata", "11.0.1.2/24", "relay", "11.0.1.1/24")
	_, wanB := l.link("relay", "11.0.2.1/24", "natb", "11.0.2.2/24")
	l.link("natb", "192.168.2.1/24", "bob", "192.168.2.2/24")
	l.ip("relay", "addr", "add", "11.0.0.1/32", "dev", "lo")
	l.forwarding("relay", true)
	l.ip("nata", "route", "add", "default", "via", "11.0.1.1")
	l.ip("natb", "route", "add", "default", "via", "11.0.2.1")
	l.ip("ada", "route", "add", "default", "via", "192.168.1.1")
	l.ip("bob", "route", "add", "default", "via", "192.168.2.1")
	l.nat("nata", wanA)
	l.nat("natb", wanB)

	dr, da, db := initDir(t, "relay"), initDir(t, "ada"), initDir(t, "bob")
	listen := func(ip, port string) []string {
		return []string{"--listen", "/ip4/" + ip + "/tcp/" + port, "--listen", "/ip4/" + ip + "/udp/" + port + "/quic-v1"}
	}
	r := l.serveIn("relay", dr, append(listen("0.0.0.0", "4001"), "--dht", "--relay-service")...)
	boot := "/ip4/11.0.0.1/tcp/4001/p2p/" + r.key.String()
	a := l.serveIn("ada", da, append(listen("192.168.1.2", "4002"), "--dht", "--bootstrap", boot)...)
	b := l.serveIn("bob", db, append(listen("192.168.2.2", "4003"), "--dht", "--bootstrap", boot)...)

	if !l.reaches("ada", "11.0.0.1:4001") || !l.reaches("bob", "11.0.0.1:4001") {
		t.Fatal("ada or bob cannot reach the relay; the topology is wrong")
	}
	if l.reaches("ada", "11.0.2.2:4003") || l.reaches("ada", "192.168.2.2:4003") || l.reaches("bob", "11.0.1.2:4002") {
		t.Fatal("ada and bob reach each other without a hole punch; the test would prove nothing")
	}
	start := time.Now()
	for _, p := range []*proc{a, b} {
		waitFor(t, 90*time.Second, filepath.Base(p.dir)+" holds a slot on the relay (AutoNAT, then autorelay)", func() bool { return len(p.circuits()) > 0 })
	}
	t.Logf("both behind their NATs and reachable through the relay after %v", time.Since(start).Round(time.Second))

	mustKite(t, "contacts", "add", a.me().Code, "--data-dir", db)
	mustKite(t, "contacts", "add", b.me().Code, "--data-dir", da)
	waitFor(t, 30*time.Second, "ada connected to bob", func() bool { return peerVia(t, da, b.key).PeerID != "" })
	start = time.Now()
	direct := func(dir string, key app.PeerKey, natIP string) bool {
		via := peerVia(t, dir, key)
		return via.Transport != "" && via.Transport != "relay" && strings.HasPrefix(via.Addr, "/ip4/"+natIP+"/")
	}
	deadline := time.Now().Add(60 * time.Second)
	for !(direct(da, b.key, "11.0.2.2") && direct(db, a.key, "11.0.1.2")) {
		if time.Now().After(deadline) {
			t.Fatalf("no direct connection through the NATs within 60 s: ada sees bob as %+v, bob sees ada as %+v\n--- ada's log:\n%s\n--- bob's log:\n%s",
				peerVia(t, da, b.key), peerVia(t, db, a.key), serveLog(a), serveLog(b))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("hole punched in %v: ada sees bob at %+v", time.Since(start).Round(time.Millisecond), peerVia(t, da, b.key))

	mustKite(t, "send", "bob", "hello through the hole", "--data-dir", da)
	waitFor(t, 20*time.Second, "the message in bob's kite messages", func() bool {
		return strings.Contains(mustKite(t, "messages", "ada", "--data-dir", db), "hello through the hole")
	})
	if ms := messagesJSON(t, db, "ada"); len(ms) != 1 || ms[0].Path != app.PathWAN {
		t.Fatalf("bob's messages from ada: %+v; want one, path %q", ms, app.PathWAN)
	}
	// The session moved off the relay: the relayed connections are gone.
	waitFor(t, 10*time.Second, "the relayed connection closed", func() bool {
		return strings.Contains(serveLog(a)+serveLog(b), "closing the relayed one")
	})
	if via := peerVia(t, da, b.key); via.Transport == "relay" {
		t.Fatalf("ada's connection to bob after the message: %+v; want direct", via)
	}
}
