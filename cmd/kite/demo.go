package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"kite/app"
	"kite/app/pb"
	"kite/crypto/keys"
)

func (c *cli) demo(args []string) error {
	var g globals
	var msgs, convs int
	var seed uint64
	fs := flagSet("demo", &g)
	fs.IntVar(&msgs, "messages", 10000, "how many messages in all")
	fs.IntVar(&convs, "conversations", 100, "how many conversations")
	fs.Uint64Var(&seed, "seed", 1, "random seed, so runs compare")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "seed" {
		return usagef("usage: kite demo seed [--messages N] [--conversations M] [--seed S]")
	}
	if convs < 1 || msgs < convs {
		return usagef("demo seed: at least one conversation and one message per conversation")
	}
	dir, err := g.resolveDataDir()
	if err != nil {
		return err
	}
	pass, err := readPassphrase(g.passphraseFile)
	if err != nil {
		return err
	}
	if !keys.Exists(dir) {
		if _, err := createIdentity(c.ctx, dir, "you", "You", pass); err != nil {
			return err
		}
	}
	inst, err := openDir(dir, pass, logger(c.errOut, slog.LevelWarn))
	if err != nil {
		return err
	}
	defer inst.Close()
	start := time.Now()
	n, inStore, err := seedDemo(c.ctx, inst, msgs, convs, seed)
	if err != nil {
		return err
	}
	el := time.Since(start)
	// Overall includes making and signing the events; ingest is the time
	// the store spent storing them with derived tables and search.
	fmt.Fprintf(c.out, "seeded %d messages in %d conversations in %v (%.0f events/s overall; ingest %.0f events/s), seed %d\n",
		n, convs, el.Round(time.Millisecond), float64(n)/el.Seconds(), float64(n)/inStore.Seconds(), seed)
	return nil
}

var demoWords = strings.Fields(`hey hi hello sure ok thanks see you later tomorrow tonight lunch coffee
meeting photo trip beach mountain kite wind sunny rain park dinner movie music game weekend friday
monday plan call ready done great awesome cool nice love haha yes no maybe soon now where when
how why what train bus bike walk home work office school book read write code ship launch test`)

var demoNames = strings.Fields(`Ada Ben Cleo Dev Eli Fay Gus Hana Ivo Jade Kai Lena Milo Nia Omar
Pia Quin Rosa Sami Tara Umi Vic Wren Xan Yara Zed`)

// demoConv is one conversation to generate.
type demoConv struct {
	id       app.ConvID
	members  []ed25519.PrivateKey // [0] is self
	group    bool
	stranger bool // a message request: only the stranger writes
	name     string
	n        int
}

// seedDemo fills inst with generated conversations: one holds a tenth of
// all messages (the long conversation the benchmarks open), one in ten is
// a group, the rest are 1:1. Everything derives from seed.
func seedDemo(ctx context.Context, inst *instance, msgs, nconv int, seed uint64) (int, time.Duration, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x6b697465))
	me := inst.id.SignPriv
	self := app.PeerKeyOf(inst.id.SignPub)
	peers := make([]ed25519.PrivateKey, nconv)
	for i := range peers {
		var s [32]byte
		for j := range s {
			s[j] = byte(rng.UintN(256))
		}
		peers[i] = ed25519.NewKeyFromSeed(s[:])
	}
	// A few conversations are requests from strangers.
	strangers := 0
	if nconv >= 20 {
		strangers = 3
	}
	isStranger := func(i int) bool { return i >= 1 && i <= strangers }
	put := func(k ed25519.PrivateKey, i int) error {
		name := demoNames[i%len(demoNames)]
		if i >= len(demoNames) {
			name = fmt.Sprintf("%s %d", name, i/len(demoNames))
		}
		handle := strings.ToLower(strings.ReplaceAll(name, " ", "_"))
		_, err := inst.store.PutPerson(ctx, app.PeerKeyOf(k.Public().(ed25519.PublicKey)), func(p *app.Person) {
			p.Name, p.Handle, p.Contact = name, handle, !isStranger(i)
		})
		return err
	}
	convs := make([]demoConv, nconv)
	rest := msgs - msgs/10
	for i := range convs {
		dc := &convs[i]
		if err := put(peers[i], i); err != nil {
			return 0, 0, fmt.Errorf("demo: add person: %w", err)
		}
		switch {
		case i == 0:
			dc.n = msgs / 10
		case isStranger(i):
			dc.n = 1 + i%3
		case i == nconv-1:
			dc.n = rest
		default:
			dc.n = max(1, min(rest-(nconv-1-i), msgs*9/10/max(1, nconv-1)))
		}
		if i > 0 {
			rest -= dc.n
		}
		dc.members = []ed25519.PrivateKey{me, peers[i]}
		if i%10 == 5 && nconv > 3 {
			dc.group = true
			dc.name = fmt.Sprintf("%s & friends", demoNames[i%len(demoNames)])
			dc.members = append(dc.members, peers[(i+1)%nconv], peers[(i+2)%nconv])
			for j := range dc.id {
				dc.id[j] = byte(rng.UintN(256))
			}
			dc.n = max(dc.n-1, 1)
		} else if isStranger(i) {
			dc.stranger = true
			dc.id = app.DirectConvID(self, app.PeerKeyOf(peers[i].Public().(ed25519.PublicKey)), false)
		} else {
			id, err := inst.store.CreateDirect(ctx, self, app.PeerKeyOf(peers[i].Public().(ed25519.PublicKey)), false, app.Primary)
			if err != nil {
				return 0, 0, fmt.Errorf("demo: create conversation: %w", err)
			}
			dc.id = id
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []app.Incoming, 4)
	workers := max(1, runtime.GOMAXPROCS(0)-1)
	end := time.Now()
	for w := range workers {
		g.Go(func() error {
			wrng := rand.New(rand.NewPCG(seed+uint64(w)+1, 7))
			var batch []app.Incoming
			flush := func() error {
				if len(batch) == 0 {
					return nil
				}
				select {
				case batches <- batch:
				case <-gctx.Done():
					return gctx.Err()
				}
				batch = nil
				return nil
			}
			for i := w; i < len(convs); i += workers {
				evs, err := genConv(convs[i], end, wrng)
				if err != nil {
					return err
				}
				for _, in := range evs {
					batch = append(batch, in)
					if len(batch) == 1000 {
						if err := flush(); err != nil {
							return err
						}
					}
				}
			}
			return flush()
		})
	}
	// One signer runs beside the store, so the time in Ingest is the
	// store's own (on 2 cores each has one).
	total := 0
	var inStore time.Duration
	done := make(chan error, 1)
	go func() {
		var err error
		for b := range batches {
			if err != nil {
				continue
			}
			var outs []app.Outcome
			t0 := time.Now()
			outs, err = inst.store.Ingest(ctx, self, b)
			inStore += time.Since(t0)
			if err == nil {
				for _, o := range outs {
					if o.Err != nil && err == nil {
						err = fmt.Errorf("demo: event %s: %w", o.ID.Short(), o.Err)
					}
				}
				total += len(b)
			}
		}
		done <- err
	}()
	gerr := g.Wait()
	close(batches)
	if err := errors.Join(gerr, <-done); err != nil {
		return total, inStore, err
	}
	return total, inStore, nil
}

// genConv makes the events of one conversation, in log order.
func genConv(dc demoConv, end time.Time, rng *rand.Rand) ([]app.Incoming, error) {
	type log struct {
		seq  uint64
		prev app.EventID
	}
	logs := make([]log, len(dc.members))
	var out []app.Incoming
	var lamport uint64
	// Spread the conversation over up to 90 days, ending in the last two
	// days before end, in order.
	step := time.Duration(rng.Int64N(int64(90*24*time.Hour)/int64(dc.n+1)) + 1)
	start := end.Add(-time.Duration(rng.Int64N(int64(48*time.Hour))) - time.Duration(dc.n+1)*step)
	k := 0
	add := func(who int, kind app.Kind, body *pb.Body) error {
		raw, err := app.EncodeBody(body)
		if err != nil {
			return err
		}
		l := &logs[who]
		lamport++
		k++
		at := start.Add(time.Duration(k)*step + time.Duration(rng.Int64N(int64(step)/3+1)))
		if at.After(end) {
			at = end // a group's create event makes one step more
		}
		ev, err := app.SignEvent(dc.members[who], dc.id, kind, raw, app.Position{Seq: l.seq + 1, Prev: l.prev, Lamport: lamport}, at)
		if err != nil {
			return err
		}
		l.seq, l.prev = ev.Seq, ev.ID
		out = append(out, app.Incoming{Event: ev, Body: body, Path: app.PathLocal})
		return nil
	}
	if dc.group {
		var ms [][]byte
		for _, m := range dc.members {
			ms = append(ms, m.Public().(ed25519.PublicKey))
		}
		if err := add(0, app.KindGroupCreate, &pb.Body{Content: &pb.Body_GroupCreate{GroupCreate: &pb.GroupCreate{Name: dc.name, Members: ms}}}); err != nil {
			return nil, err
		}
	}
	for range dc.n {
		n := 2 + rng.IntN(10)
		words := make([]string, n)
		for j := range words {
			words[j] = demoWords[rng.IntN(len(demoWords))]
		}
		text := strings.ToUpper(words[0][:1]) + strings.Join(words, " ")[1:]
		who := rng.IntN(len(dc.members))
		if dc.stranger {
			who = 1
		}
		if err := add(who, app.KindText, &pb.Body{Content: &pb.Body_Text{Text: &pb.Text{Text: text}}}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
