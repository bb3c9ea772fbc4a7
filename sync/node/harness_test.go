package node

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kite/app"
	"kite/app/store"
	"kite/crypto/keys"
)

// testPeer is one Kite device in a test: identity, real store, Service and
// Node on 127.0.0.1.
type testPeer struct {
	t      testing.TB
	name   string
	id     *keys.Identity
	key    app.PeerKey
	st     *store.Store
	svc    *app.Service
	node   *Node
	cancel context.CancelFunc
	done   chan error
}

type peerOpt func(*Params)

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("KITE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("t", t.Name())
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newPeer(t testing.TB, name string, opts ...peerOpt) *testPeer {
	t.Helper()
	p := makePeer(t, name, opts...)
	p.start()
	return p
}

// makePeer is newPeer without starting the node.
func makePeer(t testing.TB, name string, opts ...peerOpt) *testPeer {
	t.Helper()
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "kite.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	log := testLogger(t).With("peer", name)
	svc := app.New(app.Params{Store: st, Identity: id, Log: log})
	if _, err := svc.SetProfile(context.Background(), name, "Test "+name, ""); err != nil {
		t.Fatalf("set profile: %v", err)
	}
	p := Params{
		Service: svc, Identity: id, DataDir: dir, Log: log,
		Listen: []string{"/ip4/127.0.0.1/tcp/0"},
		Resync: 2 * time.Second, Redial: 300 * time.Millisecond,
	}
	for _, o := range opts {
		o(&p)
	}
	n, err := New(p)
	if err != nil {
		t.Fatalf("new node: %v", err)
	}
	tp := &testPeer{t: t, name: name, id: id, key: app.PeerKeyOf(id.SignPub), st: st, svc: svc, node: n, done: make(chan error, 1)}
	t.Cleanup(func() {
		tp.stop()
		st.Close()
	})
	return tp
}

func (p *testPeer) start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() { p.done <- p.node.Run(ctx) }()
	select {
	case <-p.node.Ready():
	case err := <-p.done:
		p.t.Fatalf("%s: run: %v", p.name, err)
	case <-time.After(10 * time.Second):
		p.t.Fatalf("%s: node not ready", p.name)
	}
}

func (p *testPeer) stop() {
	if p.cancel == nil {
		return
	}
	p.cancel()
	p.cancel = nil
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Errorf("%s: run: %v", p.name, err)
		}
	case <-time.After(20 * time.Second):
		p.t.Errorf("%s: node did not stop", p.name)
	}
}

func (p *testPeer) code() string {
	return p.id.ContactCode(p.name, p.node.Addrs()).String()
}

// befriend makes a and b contacts of each other (each dials the other).
func befriend(t testing.TB, ps ...*testPeer) {
	t.Helper()
	ctx := context.Background()
	for _, a := range ps {
		for _, b := range ps {
			if a == b {
				continue
			}
			if _, err := a.svc.AddContact(ctx, b.code()); err != nil {
				t.Fatalf("%s adds %s: %v", a.name, b.name, err)
			}
		}
	}
}

func (p *testPeer) connected(q *testPeer) bool {
	for _, pi := range p.node.Peers() {
		if pi.Key == q.key {
			return true
		}
	}
	return false
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// history is every message of conv on p, oldest first.
func (p *testPeer) history(conv app.ConvID) []app.Message {
	p.t.Helper()
	ctx := context.Background()
	var all []app.Message
	before := app.Cursor{}
	for {
		page, err := p.svc.Messages(ctx, conv, before, 500)
		if err != nil {
			return nil
		}
		all = append(page, all...)
		if len(page) < 500 {
			return all
		}
		before = app.CursorOf(page[0])
	}
}

// digest hashes the ordered message IDs with their visible state.
func digest(ms []app.Message) string {
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "%x|%s|%v|%v|%d|", m.ID, m.Text, m.Unsent, m.Edited, len(m.Reactions))
		for _, r := range m.Reactions {
			fmt.Fprintf(h, "%x=%s,", r.Author, r.Emoji)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:16]
}

func (p *testPeer) has(id app.EventID) bool {
	_, err := p.svc.Message(context.Background(), id)
	return err == nil
}

func (p *testPeer) status(id app.EventID) app.Status {
	m, err := p.svc.Message(context.Background(), id)
	if err != nil {
		return ""
	}
	return m.Status
}

func newIdentity(t *testing.T) *keys.Identity {
	t.Helper()
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
