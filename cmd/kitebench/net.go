package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"kite/app"
	"kite/app/localapi"
	"kite/app/pb"
	"kite/app/store"
	"kite/crypto/keys"
	"kite/crypto/seal"
)

// peerProc is one `kite serve` on loopback.
type peerProc struct {
	name   string
	dir    string
	proc   *proc
	api    *localapi.Client
	peerID string
}

// initPeer makes an identity in a new data dir with `kite init`.
func (b *bench) initPeer(ctx context.Context, name string) (*peerProc, error) {
	dir := filepath.Join(b.tmp, fmt.Sprintf("%s-%d", name, time.Now().UnixNano()))
	out, err := b.kiteCmd(ctx, "init", "--handle", name, "--name", name, "--data-dir", dir, "--json")
	if err != nil {
		return nil, err
	}
	var r struct {
		PeerID string `json:"peer_id"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return nil, fmt.Errorf("kite init output %q: %w", out, err)
	}
	return &peerProc{name: name, dir: dir, peerID: r.PeerID}, nil
}

// serve starts `kite serve` on pp's data dir and waits for its local API.
func (b *bench) serve(ctx context.Context, pp *peerProc) error {
	env := []string{"KITE_LOG=warn"}
	if b.profiles != "" {
		b.served++
		env = append(env, "KITE_CPUPROFILE="+filepath.Join(b.profiles, fmt.Sprintf("%02d-%s.pprof", b.served, pp.name)))
	}
	p, err := b.spawn("kite serve "+pp.name, env, b.kite, "serve", "--data-dir", pp.dir,
		"--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns")
	if err != nil {
		return err
	}
	pp.proc = p
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				return fmt.Errorf("kite serve %s ended: %v: %s", pp.name, p.err, strings.TrimSpace(p.errb.String()))
			}
			if strings.HasPrefix(l, "listening on") {
				for time.Now().Before(deadline) {
					if c, ok := localapi.Dial(pp.dir); ok {
						pp.api = c
						return nil
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		case <-time.After(time.Until(deadline)):
			return fmt.Errorf("kite serve %s did not start in 60 s: %s", pp.name, strings.TrimSpace(p.errb.String()))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// befriend makes a and c contacts of each other by their contact codes
// (which carry their listen addresses) and waits until they are connected.
func befriend(ctx context.Context, a, c *peerProc) error {
	var ma, mc struct {
		Code string `json:"contact_code"`
	}
	if err := a.api.Do(ctx, "GET", "/v1/me", nil, &ma); err != nil {
		return err
	}
	if err := c.api.Do(ctx, "GET", "/v1/me", nil, &mc); err != nil {
		return err
	}
	if err := c.api.Do(ctx, "POST", "/v1/contacts", localapi.CodeReq{Code: ma.Code}, nil); err != nil {
		return fmt.Errorf("add contact: %w", err)
	}
	if err := a.api.Do(ctx, "POST", "/v1/contacts", localapi.CodeReq{Code: mc.Code}, nil); err != nil {
		return fmt.Errorf("add contact: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var peers []struct {
			PeerID string `json:"peer_id"`
		}
		if err := a.api.Do(ctx, "GET", "/v1/peers", nil, &peers); err != nil {
			return err
		}
		for _, p := range peers {
			if p.PeerID == c.peerID {
				return nil
			}
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return errors.New("the two peers did not connect in 30 s")
}

// arrivals follows a peer's /v1/events stream and notes when each event
// ID was announced.
type arrivals struct {
	mu   sync.Mutex
	at   map[string]time.Time
	wake chan struct{}
	err  error
}

func watchEvents(ctx context.Context, pp *peerProc) (*arrivals, error) {
	body, err := pp.api.Stream(ctx, "/v1/events")
	if err != nil {
		return nil, err
	}
	a := &arrivals{at: map[string]time.Time{}, wake: make(chan struct{}, 1)}
	go func() {
		defer body.Close()
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			now := time.Now()
			var u struct {
				Type   string   `json:"type"`
				Events []string `json:"events"`
			}
			if json.Unmarshal(sc.Bytes(), &u) != nil || u.Type != "events" {
				continue
			}
			a.mu.Lock()
			for _, id := range u.Events {
				if _, ok := a.at[id]; !ok {
					a.at[id] = now
				}
			}
			a.mu.Unlock()
			select {
			case a.wake <- struct{}{}:
			default:
			}
		}
		a.mu.Lock()
		a.err = errors.Join(sc.Err(), errors.New("event stream ended"))
		a.mu.Unlock()
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}()
	return a, nil
}

// wait returns when id arrived.
func (a *arrivals) wait(ctx context.Context, id string, timeout time.Duration) (time.Time, error) {
	deadline := time.After(timeout)
	for {
		a.mu.Lock()
		t, ok := a.at[id]
		err := a.err
		a.mu.Unlock()
		if ok {
			return t, nil
		}
		if err != nil {
			return time.Time{}, err
		}
		select {
		case <-a.wake:
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			return time.Time{}, fmt.Errorf("event %s did not arrive in %v", id[:8], timeout)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// livePair is two connected `kite serve` processes.
func (b *bench) livePair(ctx context.Context) (a, c *peerProc, err error) {
	if a, err = b.initPeer(ctx, "alice"); err != nil {
		return nil, nil, err
	}
	if c, err = b.initPeer(ctx, "bob"); err != nil {
		return nil, nil, err
	}
	if err = b.serve(ctx, a); err != nil {
		return nil, nil, err
	}
	if err = b.serve(ctx, c); err != nil {
		return nil, nil, err
	}
	if err = befriend(ctx, a, c); err != nil {
		return nil, nil, err
	}
	return a, c, nil
}

// liveLatency sends n plain and n E2E texts from a through its local API,
// alternating, paced, and times each until c's event stream announces it
// (stored at c). Alternating puts both kinds under the same conditions:
// run one after the other, the E2E overhead was mostly the machine's
// drift between the two runs.
func liveLatency(ctx context.Context, logf func(string, ...any), a, c *peerProc, n int) (plain, e2e []float64, first time.Duration, err error) {
	arr, err := watchEvents(ctx, c)
	if err != nil {
		return nil, nil, 0, err
	}
	rng := rand.New(rand.NewPCG(demoSeed, 3))
	var firstArrival time.Duration
	defer func() { logf("  first send arrived after %v", firstArrival.Round(time.Millisecond)) }()
	const warmup = 20 // of each kind
	for i := range 2 * (n + warmup) {
		// Each pair of sends swaps its order, so neither kind always
		// follows the other.
		sealed := (i%2 == 1) != (i/2%2 == 1)
		text := fmt.Sprintf("%s %s %d", demoWords[rng.IntN(len(demoWords))], demoWords[rng.IntN(len(demoWords))], i)
		var res []struct {
			ID string `json:"id"`
		}
		t := time.Now()
		if err := a.api.Do(ctx, "POST", "/v1/send", localapi.SendReq{To: []string{c.peerID}, Text: text, E2E: sealed}, &res); err != nil {
			return nil, nil, 0, fmt.Errorf("send: %w", err)
		}
		if len(res) != 1 {
			return nil, nil, 0, fmt.Errorf("send: %d events", len(res))
		}
		// The first sends also wait for the sync session to come up.
		timeout := 10 * time.Second
		if i < 2 {
			timeout = 90 * time.Second
		}
		got, err := arr.wait(ctx, res[0].ID, timeout)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("send %d: %w", i, err)
		}
		if i == 0 {
			firstArrival = got.Sub(t)
		}
		if i >= 2*warmup {
			if sealed {
				e2e = append(e2e, ms(got.Sub(t)))
			} else {
				plain = append(plain, ms(got.Sub(t)))
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return plain, e2e, firstArrival, nil
}

// backlog generates n texts from a to c in a's store before either
// runs, then starts both, makes them contacts and times until c has the
// last one. It returns the seconds and the time spent generating.
func (b *bench) backlog(ctx context.Context, n int, e2e bool) (secs float64, err error) {
	a, err := b.initPeer(ctx, "alice")
	if err != nil {
		return 0, err
	}
	c, err := b.initPeer(ctx, "bob")
	if err != nil {
		return 0, err
	}
	gen := time.Now()
	last, err := generateBacklog(ctx, a.dir, c.dir, n, e2e)
	if err != nil {
		return 0, fmt.Errorf("generate backlog: %w", err)
	}
	b.logf("  generated %d %s events in %v", n, map[bool]string{false: "plain", true: "E2E"}[e2e], time.Since(gen).Round(time.Millisecond))
	if err := b.serve(ctx, a); err != nil {
		return 0, err
	}
	if err := b.serve(ctx, c); err != nil {
		return 0, err
	}
	defer a.proc.stop()
	defer c.proc.stop()
	t := time.Now()
	if err := befriend(ctx, a, c); err != nil {
		return 0, err
	}
	path := "/v1/messages/" + hex.EncodeToString(last[:])
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		var m json.RawMessage
		err := c.api.Do(ctx, "GET", path, nil, &m)
		if err == nil {
			secs = time.Since(t).Seconds()
			break
		}
		var ae *localapi.APIError
		if !errors.As(err, &ae) {
			return 0, err
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if secs == 0 {
		return 0, fmt.Errorf("the receiver did not get the last of %d events in 5 minutes", n)
	}
	// Check that all arrived: the receiver's unread count.
	var conv struct {
		Unread int `json:"unread"`
	}
	convID := app.DirectConvID(app.PeerKeyOf(mustPub(a.peerID)), app.PeerKeyOf(mustPub(c.peerID)), e2e)
	if err := c.api.Do(ctx, "GET", "/v1/conversations/"+hex.EncodeToString(convID[:]), nil, &conv); err == nil && conv.Unread != n {
		b.logf("  note: receiver shows %d unread of %d", conv.Unread, n)
	}
	return secs, nil
}

func mustPub(peerID string) []byte {
	k, err := keys.ParsePeerID(peerID)
	if err != nil {
		return make([]byte, 32)
	}
	return k
}

// generateBacklog writes n signed texts by the owner of fromDir in the 1:1
// with the owner of toDir straight into fromDir's store (batches of 1,000),
// sealed to the peer when e2e, as the Service would have. It returns the
// last event's ID.
func generateBacklog(ctx context.Context, fromDir, toDir string, n int, e2e bool) (app.EventID, error) {
	me, err := keys.Load(fromDir, nil)
	if err != nil {
		return app.EventID{}, err
	}
	peer, err := keys.Load(toDir, nil)
	if err != nil {
		return app.EventID{}, err
	}
	st, err := store.Open(filepath.Join(fromDir, "kite.db"))
	if err != nil {
		return app.EventID{}, err
	}
	defer st.Close()
	self, other := app.PeerKeyOf(me.SignPub), app.PeerKeyOf(peer.SignPub)
	conv, err := st.CreateDirect(ctx, self, other, e2e, app.Primary)
	if err != nil {
		return app.EventID{}, err
	}
	shared := seal.Precompute(peer.BoxPub, me.BoxPriv)
	rng := rand.New(rand.NewPCG(demoSeed, 5))
	base := time.Now().Add(-7 * 24 * time.Hour)
	var prev app.EventID
	var batch []app.Incoming
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		outs, err := st.Ingest(ctx, self, batch)
		if err != nil {
			return err
		}
		for _, o := range outs {
			if o.Err != nil {
				return fmt.Errorf("event %s: %w", o.ID.Short(), o.Err)
			}
		}
		batch = batch[:0]
		return nil
	}
	for i := 1; i <= n; i++ {
		words := make([]string, 2+rng.IntN(10))
		for j := range words {
			words[j] = demoWords[rng.IntN(len(demoWords))]
		}
		body := &pb.Body{Content: &pb.Body_Text{Text: &pb.Text{Text: strings.Join(words, " ")}}}
		pos := app.Position{Seq: uint64(i), Prev: prev, Lamport: uint64(i)}
		var raw []byte
		if e2e {
			plain, err := proto.MarshalOptions{Deterministic: true}.Marshal(&pb.Sealed{Conv: conv[:], Author: self[:], Seq: pos.Seq, Body: body})
			if err != nil {
				return app.EventID{}, err
			}
			ct, err := seal.BoxShared(plain, shared)
			if err != nil {
				return app.EventID{}, err
			}
			env, err := proto.MarshalOptions{Deterministic: true}.Marshal(&pb.Envelope{Ciphertext: ct})
			if err != nil {
				return app.EventID{}, err
			}
			raw, err = app.EncodeBody(&pb.Body{Content: &pb.Body_Sealed{Sealed: env}})
			if err != nil {
				return app.EventID{}, err
			}
		} else if raw, err = app.EncodeBody(body); err != nil {
			return app.EventID{}, err
		}
		ev, err := app.SignEvent(me.SignPriv, conv, app.KindText, raw, pos, base.Add(time.Duration(i)*time.Second))
		if err != nil {
			return app.EventID{}, err
		}
		prev = ev.ID
		batch = append(batch, app.Incoming{Event: ev, Body: body, Path: app.PathLocal})
		if len(batch) == 1000 {
			if err := flush(); err != nil {
				return app.EventID{}, err
			}
		}
	}
	if err := flush(); err != nil {
		return app.EventID{}, err
	}
	return prev, ctx.Err()
}

func (b *bench) netBench(ctx context.Context) error {
	const g = "net"
	sz := b.sz
	base := len(b.rep.Rows)
	b.rep.Rows = append(b.rep.Rows,
		Row{Group: g, Metric: "live send → stored at receiver, 2 processes, p50", Unit: "ms", Goal: Goal{"≤", 1}},
		Row{Group: g, Metric: "live send → stored at receiver, 2 processes, p99", Unit: "ms", Goal: Goal{"≤", 5}},
		Row{Group: g, Metric: fmt.Sprintf("backlog sync of %s messages between fresh peers", num(float64(sz.backlog))), Unit: "s", Goal: Goal{"≤", 5}},
		Row{Group: g, Metric: "E2E overhead on live latency (p50)", Unit: "%", Goal: Goal{"≤", 10}},
		Row{Group: g, Metric: fmt.Sprintf("E2E overhead on backlog (%s messages)", num(float64(sz.backlog2))), Unit: "%", Goal: Goal{"≤", 20}},
		Row{Group: g, Metric: "bare libp2p small-message throughput (256 B)", Unit: "msgs/s"},
	)
	row := func(i int) *Row { return &b.rep.Rows[base+i] }

	// The floors first: they need nothing of Kite.
	b.logf("  bare libp2p echo between two processes")
	echo, err := b.echoFloor(ctx, 100000, 100)
	if err != nil {
		return fmt.Errorf("echo floor: %w", err)
	}
	b.echo = echo
	rttP50, rttP99 := percentile(echo.RTTs, 50), percentile(echo.RTTs, 99)
	smallRate := float64(echo.SmallMsgs) / echo.SmallSecs
	b.logf("  echo RTT p50 %s ms, p99 %s ms; %s msgs/s of 256 B; bulk %s MB/s", num(rttP50), num(rttP99), num(smallRate),
		num(float64(echo.BulkBytes)/echo.BulkSecs/1e6))
	// A sent event is committed with synchronous=FULL before it leaves
	// (DESIGN.md §3), so one durable commit is part of the live floor.
	commits, err := durableCommits(ctx, filepath.Join(b.tmp, "fsync.db"), 300)
	if err != nil {
		return fmt.Errorf("durable commit floor: %w", err)
	}
	c50, c99 := percentile(commits, 50), percentile(commits, 99)
	b.logf("  bare durable SQLite commit p50 %s ms, p99 %s ms", num(c50), num(c99))
	row(0).Floor, row(0).FloorName = f(rttP50/2+c50), "½ bare echo RTT + bare durable commit"
	row(1).Floor, row(1).FloorName = f(rttP99/2+c99), "½ bare echo RTT + bare durable commit"
	row(2).Floor, row(2).FloorName = f(float64(sz.backlog)/smallRate), "bare stream, 256 B msgs"
	row(5).Kite = f(smallRate)
	row(5).Note = fmt.Sprintf("a floor only: %d messages of 256 B, one stream write each; echo RTT of 100 B p50 %s ms / p99 %s ms over %d round trips",
		echo.SmallMsgs, num(rttP50), num(rttP99), len(echo.RTTs))

	if ok, why := b.haveKite(); !ok {
		return errors.New(why)
	}
	if _, err := b.kiteCmd(ctx, "help"); err != nil {
		return err
	}

	// Live latency, plain then E2E, on one connected pair.
	a, c, err := b.livePair(ctx)
	if err != nil {
		return fmt.Errorf("start two peers: %w", err)
	}
	b.logf("  live latency: %d paced sends of each kind", sz.liveSends)
	plain, e2e, first, err := liveLatency(ctx, b.logf, a, c, sz.liveSends)
	if err != nil {
		return fmt.Errorf("live latency: %w", err)
	}
	row(0).Kite, row(1).Kite = f(percentile(plain, 50)), f(percentile(plain, 99))
	row(0).Note = fmt.Sprintf("%d plain sends through A's local API, alternating with as many E2E ones, paced 5 ms; arrival seen on B's /v1/events stream (both local API hops included); after 20 warm-up sends of each kind; the very first send after connecting arrived after %v; the floor's durable commit (one row, WAL, synchronous=FULL, this disk) is p50 %s ms / p99 %s ms",
		len(plain), first.Round(time.Millisecond), num(c50), num(c99))
	p50, e50 := percentile(plain, 50), percentile(e2e, 50)
	row(3).Kite = f((e50/p50 - 1) * 100)
	row(3).Note = fmt.Sprintf("E2E p50 %s ms / p99 %s ms vs plain p50 %s ms / p99 %s ms, the two kinds alternating on one connected pair", num(e50), num(percentile(e2e, 99)), num(p50), num(percentile(plain, 99)))
	b.logf("  live p50 %s / p99 %s ms; E2E p50 %s / p99 %s ms", num(p50), num(percentile(plain, 99)), num(e50), num(percentile(e2e, 99)))
	a.proc.stop()
	c.proc.stop()

	// Backlog at two sizes, and E2E beside plain at the second: three
	// of each, alternating and swapping order, compared by their
	// medians, since one slow moment of the machine in a single pair
	// moved the overhead by 20 points.
	var plains, sealeds []float64
	for i := range 6 {
		e2e := (i%2 == 1) != (i/2%2 == 1)
		secs, err := b.backlog(ctx, sz.backlog2, e2e)
		if err != nil {
			return fmt.Errorf("backlog (E2E %v): %w", e2e, err)
		}
		if e2e {
			b.logf("  backlog %d E2E: %.2f s", sz.backlog2, secs)
			sealeds = append(sealeds, secs)
		} else {
			b.logf("  backlog %d: %.2f s", sz.backlog2, secs)
			plains = append(plains, secs)
		}
	}
	secs2, secsE := percentile(plains, 50), percentile(sealeds, 50)
	row(4).Kite = f((secsE/secs2 - 1) * 100)
	row(4).Note = fmt.Sprintf("median of 3 runs each, alternating: E2E %.2f s vs plain %.2f s for %s messages", secsE, secs2, num(float64(sz.backlog2)))
	secs, err := b.backlog(ctx, sz.backlog, false)
	if err != nil {
		return fmt.Errorf("backlog: %w", err)
	}
	b.logf("  backlog %d: %.2f s", sz.backlog, secs)
	row(2).Kite = f(secs)
	row(2).Note = fmt.Sprintf("generated into A's store before start; timed from the contact exchange to B storing the last; %s events/s",
		num(float64(sz.backlog)/secs))
	b.scale(Scale{Metric: "backlog sync time", Param: "messages", Unit: "s", N1: float64(sz.backlog2), V1: secs2, N2: float64(sz.backlog), V2: secs})
	return nil
}

// durableCommits times n one-row commits to a fresh SQLite database in WAL
// mode with synchronous=FULL, in ms: what the disk charges for making one
// event durable.
func durableCommits(ctx context.Context, path string, n int) ([]float64, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=FULL")
	if err != nil {
		return nil, err
	}
	defer os.Remove(path)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)`); err != nil {
		return nil, err
	}
	row := make([]byte, 300)
	out := make([]float64, 0, n)
	for range n {
		start := time.Now()
		if _, err := db.ExecContext(ctx, `INSERT INTO t (v) VALUES (?)`, row); err != nil {
			return nil, err
		}
		out = append(out, float64(time.Since(start).Microseconds())/1000)
	}
	return out, nil
}
