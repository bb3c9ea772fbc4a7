package node

import (
	"context"

	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"kite/app"
	"kite/app/pb"
	"kite/crypto/keys"
	"kite/sync/wire"
)

// rawPeer is a libp2p host that speaks Kite's wire format by hand, to
// send what a well-behaved node never would.
type rawPeer struct {
	t   *testing.T
	id  *keys.Identity
	key app.PeerKey
	h   host.Host
}

func newRaw(t *testing.T) *rawPeer {
	t.Helper()
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := p2pcrypto.UnmarshalEd25519PrivateKey(id.SignPriv)
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.Identity(priv), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return &rawPeer{t: t, id: id, key: app.PeerKeyOf(id.SignPub), h: h}
}

func (r *rawPeer) dial(p *testPeer) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.h.Connect(ctx, peer.AddrInfo{ID: p.node.ID(), Addrs: p.node.h.Addrs()}); err != nil {
		r.t.Fatalf("raw dial: %v", err)
	}
}

// rawStream is a sync stream opened by hand; got collects what the node
// sends back, ended tells when the node closed or reset it.
type rawStream struct {
	s     network.Stream
	w     *wire.Writer
	mu    sync.Mutex // mu guards the fields below.
	got   []*wire.Frame
	err   error
	ended chan struct{}
}

func (r *rawPeer) open(p *testPeer) *rawStream {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := r.h.NewStream(ctx, p.node.ID(), protocol.ID(wire.ProtoSync))
	if err != nil {
		r.t.Fatalf("raw open sync stream: %v", err)
	}
	rs := &rawStream{s: s, w: wire.NewWriter(s), ended: make(chan struct{})}
	go func() {
		defer close(rs.ended)
		rd := wire.NewReader(s)
		for {
			f, err := rd.ReadFrame()
			rs.mu.Lock()
			if err != nil {
				rs.err = err
				rs.mu.Unlock()
				return
			}
			rs.got = append(rs.got, f)
			rs.mu.Unlock()
		}
	}()
	r.t.Cleanup(func() { s.Reset() })
	return rs
}

func (rs *rawStream) send(t *testing.T, evs ...app.Event) {
	t.Helper()
	raw := make([][]byte, len(evs))
	for i, ev := range evs {
		raw[i] = ev.Marshal()
	}
	if err := rs.w.WriteFrame(&wire.Frame{Msg: &wire.Frame_Events{Events: &wire.Events{Events: raw}}}); err != nil {
		t.Fatalf("raw send: %v", err)
	}
}

// waitReset waits until the node resets the stream.
func (rs *rawStream) waitReset(t *testing.T) {
	t.Helper()
	select {
	case <-rs.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the node did not reset the stream")
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.err == nil || errors.Is(rs.err, os.ErrDeadlineExceeded) {
		t.Fatalf("stream ended with %v, want a reset", rs.err)
	}
}

// refusedIDs counts refused event IDs by reason, acked IDs under "ack".
func (rs *rawStream) tally() map[string]int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	m := make(map[string]int)
	for _, f := range rs.got {
		switch x := f.Msg.(type) {
		case *wire.Frame_Ack:
			m["ack"] += len(x.Ack.Ids)
		case *wire.Frame_Refused:
			m[x.Refused.Reason] += len(x.Refused.Ids)
		}
	}
	return m
}

// textEvent signs a text event by id at the given position.
func textEvent(t *testing.T, id *keys.Identity, conv app.ConvID, seq uint64, prev app.EventID, lamport uint64, text string) app.Event {
	t.Helper()
	body, err := app.EncodeBody(&pb.Body{Content: &pb.Body_Text{Text: &pb.Text{Text: text}}})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := app.SignEvent(id.SignPriv, conv, app.KindText, body, app.Position{Seq: seq, Prev: prev, Lamport: lamport}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// chain signs n consecutive text events by id in conv.
func chain(t *testing.T, id *keys.Identity, conv app.ConvID, n int) []app.Event {
	var evs []app.Event
	var prev app.EventID
	for i := 1; i <= n; i++ {
		ev := textEvent(t, id, conv, uint64(i), prev, uint64(i), "m")
		evs = append(evs, ev)
		prev = ev.ID
	}
	return evs
}

func (p *testPeer) storedEvent(id app.EventID) bool {
	_, err := p.svc.Event(context.Background(), id)
	return err == nil
}

func writeRaw(t *testing.T, s network.Stream, b []byte) {
	t.Helper()
	if _, err := s.Write(b); err != nil {
		t.Fatalf("raw write: %v", err)
	}
}
