package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kite/app"
	"kite/app/localapi"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// kiteBin builds the kite binary once per test run.
func kiteBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kitebin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kite")
		out, err := exec.Command("go", "build", "-tags", "sqlite_fts5", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is one running `kite serve`.
type proc struct {
	t    *testing.T
	dir  string
	cmd  *exec.Cmd
	api  *localapi.Client
	code string
	key  app.PeerKey
}

func startServe(t *testing.T, dir string) *proc {
	t.Helper()
	return startProc(t, dir, exec.Command(kiteBin(t), "serve", "--data-dir", dir, "--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns"))
}

// startProc starts cmd, a `kite serve` on dir, and waits for its API.
func startProc(t *testing.T, dir string, cmd *exec.Cmd) *proc {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(dir, "serve.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, dir: dir, cmd: cmd}
	t.Cleanup(func() {
		p.kill()
		logf.Close()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, ok := localapi.Dial(dir); ok {
			var me localapi.Me
			if c.Do(context.Background(), http.MethodGet, "/v1/me", nil, &me) == nil && len(me.Addrs) > 0 {
				p.api, p.code = c, me.Code
				p.key, _ = app.ParsePeer(me.PeerID)
				return p
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "serve.log"))
			t.Fatalf("kite serve on %s did not come up:\n%s", dir, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *proc) kill() {
	if p.cmd.Process != nil && p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

func (p *proc) do(method, path string, in, out any) {
	p.t.Helper()
	if err := p.api.Do(context.Background(), method, path, in, out); err != nil {
		p.t.Fatalf("%s %s on %s: %v", method, path, filepath.Base(p.dir), err)
	}
}

func (p *proc) send(to, text string) localapi.Sent {
	p.t.Helper()
	var out []localapi.Sent
	p.do(http.MethodPost, "/v1/send", localapi.SendReq{To: []string{to}, Text: text}, &out)
	return out[0]
}

func (p *proc) messages(conv string, limit int) []app.Message {
	p.t.Helper()
	var ms []app.Message
	if err := p.api.Do(context.Background(), http.MethodGet, fmt.Sprintf("/v1/conversations/%s/messages?limit=%d", conv, limit), nil, &ms); err != nil {
		return nil
	}
	return ms
}

// connectedPair starts ada and bob as `kite serve`, makes them contacts
// and waits until they are connected.
func connectedPair(t *testing.T) (a, b *proc, da, db string) {
	t.Helper()
	da, db = initDir(t, "ada"), initDir(t, "bob")
	a, b = startServe(t, da), startServe(t, db)
	a.do(http.MethodPost, "/v1/contacts", localapi.CodeReq{Code: b.code}, nil)
	b.do(http.MethodPost, "/v1/contacts", localapi.CodeReq{Code: a.code}, nil)
	waitFor(t, 10*time.Second, "ada and bob connect", func() bool {
		var ps []localapi.ConnectedPeer
		a.do(http.MethodGet, "/v1/peers", nil, &ps)
		return len(ps) == 1
	})
	return a, b, da, db
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func hasText(ms []app.Message, text string) bool {
	for _, m := range ms {
		if m.Text == text {
			return true
		}
	}
	return false
}

func TestThreeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	dirs := []string{initDir(t, "ada"), initDir(t, "bob"), initDir(t, "cleo")}
	ps := make([]*proc, 3)
	for i, d := range dirs {
		ps[i] = startServe(t, d)
	}
	for i, p := range ps {
		for j, q := range ps {
			if i != j {
				p.do(http.MethodPost, "/v1/contacts", localapi.CodeReq{Code: q.code}, nil)
			}
		}
	}
	a, b, c := ps[0], ps[1], ps[2]
	// 1:1: within a second.
	sent := a.send("bob", "hello bob")
	took := waitFor(t, 5*time.Second, "bob gets ada's message", func() bool { return hasText(b.messages("ada", 10), "hello bob") })
	t.Logf("1:1 delivered in %v", took)
	if took > time.Second {
		t.Errorf("1:1 delivery took %v; want ≤ 1s", took)
	}
	// Group of three.
	var g localapi.Sent
	a.do(http.MethodPost, "/v1/groups", localapi.GroupReq{Name: "Trio", Members: []string{"bob", "cleo"}}, &g)
	conv := g.Conv.String()
	waitFor(t, 5*time.Second, "the group reaches everyone", func() bool {
		return len(b.messages(conv, 5)) > 0 && len(c.messages(conv, 5)) > 0
	})
	c.send(conv, "hi from cleo")
	for _, p := range []*proc{a, b} {
		took := waitFor(t, 5*time.Second, "the group message arrives", func() bool { return hasText(p.messages(conv, 20), "hi from cleo") })
		if took > time.Second {
			t.Errorf("group delivery took %v; want ≤ 1s", took)
		}
	}
	// The CLI against a running instance goes through its API.
	out := mustKite(t, "messages", "ada", "--data-dir", dirs[1])
	if !strings.Contains(out, "hello bob") {
		t.Fatalf("kite messages via the running instance: got %q", out)
	}
	// Delivered status comes back to the sender.
	waitFor(t, 5*time.Second, "ada sees delivered", func() bool {
		var m app.Message
		a.api.Do(context.Background(), http.MethodGet, "/v1/messages/"+sent.ID.String(), nil, &m)
		return m.Status == app.StatusDelivered || m.Status == app.StatusSeen
	})
}

func TestKillDuringBacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes and sends 10,000 messages")
	}
	const n = 10000
	da, db := initDir(t, "ada"), initDir(t, "bob")
	a := startServe(t, da)
	b := startServe(t, db)
	a.do(http.MethodPost, "/v1/contacts", localapi.CodeReq{Code: b.code}, nil)
	b.do(http.MethodPost, "/v1/contacts", localapi.CodeReq{Code: a.code}, nil)
	first := a.send("bob", "m0")
	conv := first.Conv.String()
	waitFor(t, 5*time.Second, "first message", func() bool { return len(b.messages("ada", 1)) == 1 })
	b.kill()
	start := time.Now()
	for i := 1; i < n; i++ {
		a.send(conv, fmt.Sprintf("m%d", i))
	}
	t.Logf("queued %d messages while bob was away in %v", n-1, time.Since(start))
	b = startServe(t, db)
	got := func(p *proc) int {
		var cv localapi.Conversation
		if p.api.Do(context.Background(), http.MethodGet, "/v1/conversations/"+conv, nil, &cv) != nil {
			return 0
		}
		return cv.Unread
	}
	// kill -9 bob in the middle of the backlog.
	waitFor(t, 20*time.Second, "the backlog starts", func() bool { return got(b) > 1 })
	mid := got(b)
	b.kill()
	t.Logf("killed bob with %d of %d messages", mid, n)
	if mid >= n {
		t.Logf("the backlog finished before the kill; the restart still has to keep everything")
	}
	b = startServe(t, db)
	waitFor(t, 60*time.Second, "bob converges", func() bool { return got(b) == n })
	// Nothing lost, nothing twice, in order.
	ms := b.messages(conv, 500)
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[m.Text] {
			t.Fatalf("message %q twice", m.Text)
		}
		seen[m.Text] = true
	}
	if last := ms[len(ms)-1].Text; last != fmt.Sprintf("m%d", n-1) {
		t.Fatalf("newest at bob: got %q, want m%d", last, n-1)
	}
	var va, vb map[string]any
	_ = va
	_ = vb
	sc := bufio.NewScanner(strings.NewReader(mustKite(t, "messages", conv, "--limit", "3", "--data-dir", db)))
	lines := 0
	for sc.Scan() {
		lines++
	}
	if lines != 3 {
		t.Fatalf("kite messages --limit 3: got %d lines", lines)
	}
	_ = json.Marshal
}

func TestRefusalReachesSender(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	da, db := initDir(t, "ada"), initDir(t, "bob")
	mustKite(t, "settings", "set", "who-can-message", "nobody", "--data-dir", db)
	a, b := startServe(t, da), startServe(t, db)
	a.do(http.MethodPost, "/v1/contacts", localapi.CodeReq{Code: b.code}, nil)
	waitFor(t, 5*time.Second, "ada connects to bob", func() bool {
		var ps []localapi.ConnectedPeer
		a.do(http.MethodGet, "/v1/peers", nil, &ps)
		return len(ps) == 1
	})
	_, err := kite(t, "send", "bob", "hello?", "--data-dir", da)
	if err == nil || !strings.Contains(plain(err), "not accepting messages from new people") {
		t.Fatalf("send to someone who accepts nobody: got %v, want the refusal in plain words", err)
	}
	var reqs []localapi.Conversation
	b.do(http.MethodGet, "/v1/inbox?folder=requests", nil, &reqs)
	if len(reqs) != 0 {
		t.Fatalf("bob's requests: got %d, want 0", len(reqs))
	}
}
