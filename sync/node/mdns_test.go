package node

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kite/app"
)

// The mDNS test needs multicast, which loopback lacks: it makes two
// network namespaces joined by a veth pair (10.77.0.1/24 and 10.77.0.2/24,
// inside the namespaces only) and re-executes this test binary in each,
// as TestMDNSChild. Each child runs a node with mDNS on its namespace's
// address only; they must find each other, exchange profiles, and carry
// a message request from one to the other.

const (
	envChild = "KITE_NETNS_CHILD" // "a" or "b"
	envDir   = "KITE_NETNS_DIR"   // shared directory for peer keys
)

var netnsAddr = map[string]string{"a": "10.77.0.1", "b": "10.77.0.2"}

func run(t *testing.T, args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func TestMDNSNetns(t *testing.T) {
	if os.Getenv(envChild) != "" {
		t.Skip("inside a namespace child")
	}
	suffix := fmt.Sprintf("%d-%04x", os.Getpid(), rand.IntN(1<<16))
	ns := map[string]string{"a": "kite-mdns-a-" + suffix, "b": "kite-mdns-b-" + suffix}
	if err := run(t, "ip", "netns", "add", ns["a"]); err != nil {
		t.Skipf("mDNS test skipped: it needs root and `ip netns` to make two network namespaces (%v)", err)
	}
	t.Cleanup(func() {
		for _, n := range ns {
			if err := run(t, "ip", "netns", "del", n); err != nil {
				t.Logf("cleanup: %v", err)
			}
		}
	})
	veth := map[string]string{"a": "kva" + suffix[len(suffix)-4:], "b": "kvb" + suffix[len(suffix)-4:]}
	steps := [][]string{
		{"ip", "netns", "add", ns["b"]},
		{"ip", "link", "add", veth["a"], "netns", ns["a"], "type", "veth", "peer", "name", veth["b"], "netns", ns["b"]},
	}
	for _, r := range []string{"a", "b"} {
		steps = append(steps,
			[]string{"ip", "-n", ns[r], "addr", "add", netnsAddr[r] + "/24", "dev", veth[r]},
			[]string{"ip", "-n", ns[r], "link", "set", "lo", "up"},
			[]string{"ip", "-n", ns[r], "link", "set", veth[r], "up", "multicast", "on"},
		)
	}
	for _, s := range steps {
		if err := run(t, s...); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	var wg sync.WaitGroup
	outs := make(map[string][]byte)
	errs := make(map[string]error)
	var mu sync.Mutex
	for _, r := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns[r], os.Args[0], "-test.run", "^TestMDNSChild$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), envChild+"="+r, envDir+"="+dir)
			out, err := cmd.CombinedOutput()
			mu.Lock()
			outs[r], errs[r] = out, err
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, r := range []string{"a", "b"} {
		if errs[r] != nil || !strings.Contains(string(outs[r]), "MDNS-CHILD-OK") {
			t.Errorf("child %s: %v\n%s", r, errs[r], outs[r])
		}
	}
}

// TestMDNSChild runs inside a namespace made by TestMDNSNetns.
func TestMDNSChild(t *testing.T) {
	role := os.Getenv(envChild)
	if role == "" {
		t.Skip("run by TestMDNSNetns inside a network namespace")
	}
	other := map[string]string{"a": "b", "b": "a"}[role]
	dir := os.Getenv(envDir)
	ctx := context.Background()
	p := newPeer(t, "ns"+role, func(p *Params) {
		p.Listen = []string{"/ip4/" + netnsAddr[role] + "/tcp/0"}
		p.MDNS = true
	})
	if err := os.WriteFile(filepath.Join(dir, role+".key"), []byte(hex.EncodeToString(p.key[:])), 0o600); err != nil {
		t.Fatal(err)
	}
	var otherKey app.PeerKey
	waitFor(t, 30*time.Second, "the other child's key", func() bool {
		b, err := os.ReadFile(filepath.Join(dir, other+".key"))
		if err != nil {
			return false
		}
		k, err := hex.DecodeString(string(b))
		if err != nil || len(k) != 32 {
			return false
		}
		otherKey = app.PeerKeyOf(k)
		return true
	})
	waitFor(t, 45*time.Second, "the other peer nearby, connected and named", func() bool {
		named := false
		for _, nb := range p.node.Nearby() {
			named = named || nb.Key == otherKey && nb.Name == "Test ns"+other && nb.Handle == "ns"+other
		}
		lan := false
		for _, pi := range p.node.Peers() {
			lan = lan || pi.Key == otherKey && pi.LAN
		}
		return named && lan
	})
	if role == "a" {
		conv, err := p.svc.Direct(ctx, otherKey, false)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := p.svc.SendText(ctx, conv, "hello over the LAN", app.EventID{})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the request delivered", func() bool { return p.status(ev.ID) == app.StatusDelivered })
	} else {
		waitFor(t, 30*time.Second, "a message request from a", func() bool {
			cs, err := p.svc.Inbox(ctx, app.InboxQuery{Folder: app.Requests, Limit: 10})
			return err == nil && len(cs) == 1 && cs[0].Peer == otherKey
		})
		// Stay up until a has seen its ack.
		time.Sleep(2 * time.Second)
	}
	t.Log("MDNS-CHILD-OK")
}
