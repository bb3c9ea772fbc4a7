package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"kite/app"
	"kite/app/pb"
	"kite/crypto/seal"
	"kite/sync/wire"
)

// ephPair is ada and bob, contacts and connected, with a 1:1.
func ephPair(t *testing.T) (a, b *testPeer, conv app.ConvID) {
	t.Helper()
	a, b = newPeer(t, "ada"), newPeer(t, "bob")
	befriend(t, a, b)
	waitFor(t, 10*time.Second, "ada and bob connect", func() bool { return a.connected(b) && b.connected(a) })
	conv, err := a.svc.Direct(context.Background(), b.key, false)
	if err != nil {
		t.Fatal(err)
	}
	return a, b, conv
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sendViewOnce(t *testing.T, p *testPeer, conv app.ConvID, data []byte, mode uint32) app.Event {
	t.Helper()
	ev, err := p.svc.SendEphemeral(context.Background(), conv, data, &pb.Media{Mode: mode, Mime: "image/png", Name: "p.png"})
	if err != nil {
		t.Fatalf("send view-once: %v", err)
	}
	return ev
}

// TestEphemeralOverTheNetwork: 5 MiB of view-once media arrives in bob's
// memory by itself, is viewed once, and ada sees it opened.
func TestEphemeralOverTheNetwork(t *testing.T) {
	ctx := context.Background()
	a, b, conv := ephPair(t)
	data := randomBytes(t, 5<<20)
	ev := sendViewOnce(t, a, conv, data, app.ModeViewOnce)
	waitFor(t, 15*time.Second, "bob fetches it on arrival", func() bool { return b.svc.EphemeralState(ev.ID) == app.EphemeralReady })
	// Ada drops her copy when bob's ack arrives, just after he has it.
	waitFor(t, 5*time.Second, "ada drops her copy after delivery", func() bool {
		_, err := a.svc.SealedEphemeral(ev.ID, b.key)
		return errors.Is(err, app.ErrTooLate)
	})
	got, release, err := b.svc.ViewEphemeral(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("viewed bytes differ from what was sent")
	}
	release()
	waitFor(t, 10*time.Second, "ada sees opened", func() bool {
		m, err := a.svc.Message(ctx, ev.ID)
		return err == nil && m.Media.Opened
	})
	if _, _, err := b.svc.ViewEphemeral(ctx, ev.ID); !errors.Is(err, app.ErrTooLate) {
		t.Fatalf("second view: got %v, want ErrTooLate", err)
	}
}

// TestEphemeralWrongPeerRefused: a third peer that asks for bob's copy is
// refused, and the copy stays for bob.
func TestEphemeralWrongPeerRefused(t *testing.T) {
	ctx := context.Background()
	a, b, conv := ephPair(t)
	c := newPeer(t, "cleo")
	befriend(t, a, c)
	waitFor(t, 10*time.Second, "cleo connects to ada", func() bool { return c.connected(a) })
	b.svc.SetEphemeralFetcher(nil) // keep bob from fetching it first
	data := randomBytes(t, 1000)
	ev := sendViewOnce(t, a, conv, data, app.ModeViewOnce)
	err := c.node.FetchEphemeral(ctx, ev.ID, a.key, len(data)+seal.Overhead)
	if !errors.Is(err, app.ErrNotMember) {
		t.Fatalf("cleo asks for bob's copy: got %v, want ErrNotMember", err)
	}
	if _, err := a.svc.SealedEphemeral(ev.ID, b.key); err != nil {
		t.Fatalf("bob's copy after cleo's try: %v", err)
	}
	waitFor(t, 10*time.Second, "bob has the event", func() bool { return b.has(ev.ID) })
	if err := b.node.FetchEphemeral(ctx, ev.ID, a.key, len(data)+seal.Overhead); err != nil {
		t.Fatalf("bob fetches: %v", err)
	}
	if st := b.svc.EphemeralState(ev.ID); st != app.EphemeralReady {
		t.Fatalf("bob's state: got %q, want ready", st)
	}
}

// tamperer serves a sealed copy with one byte flipped.
type tamperer struct {
	Ephemeral
	delivered bool
}

func (t *tamperer) SealedEphemeral(msg app.EventID, to app.PeerKey) ([]byte, error) {
	b, err := t.Ephemeral.SealedEphemeral(msg, to)
	if err == nil {
		b[len(b)/2] ^= 0x40
	}
	return b, err
}

func (t *tamperer) EphemeralDelivered(app.EventID, app.PeerKey) { t.delivered = true }

// countingConn counts the frames one side writes (one Write per frame).
type countingConn struct {
	net.Conn
	writes int
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes++
	return c.Conn.Write(b)
}

// exchange runs the protocol between sender and recipient over a pipe.
func exchange(t *testing.T, sender Ephemeral, from, to *testPeer, msg app.EventID, size int) (answerErr, requestErr error, frames int) {
	t.Helper()
	x, y := net.Pipe()
	cx := &countingConn{Conn: x}
	done := make(chan error, 1)
	go func() {
		err := AnswerEphemeral(cx, to.key, sender, nil)
		x.Close()
		done <- err
	}()
	requestErr = RequestEphemeral(y, msg, size, func(sealed []byte) error {
		return to.svc.StoreEphemeral(context.Background(), msg, from.key, sealed)
	})
	y.Close()
	return <-done, requestErr, cx.writes
}

func TestEphemeralExchange(t *testing.T) {
	a, b, conv := ephPair(t)
	b.svc.SetEphemeralFetcher(nil) // the exchange runs over a pipe
	data := randomBytes(t, 5<<20)
	ev := sendViewOnce(t, a, conv, data, app.ModeAllowReplay)
	deliverEvents(t, a, b, conv)
	size := len(data) + seal.Overhead

	// Tampered sealed bytes: bob refuses, ada keeps the copy.
	tam := &tamperer{Ephemeral: a.svc}
	aerr, rerr, _ := exchange(t, tam, a, b, ev.ID, size)
	if !errors.Is(rerr, app.ErrBadEvent) {
		t.Fatalf("tampered copy at bob: got %v, want ErrBadEvent", rerr)
	}
	if !errors.Is(aerr, errEphAnswered) || tam.delivered {
		t.Fatalf("tampered copy at ada: got %v, delivered %v; want refused, not delivered", aerr, tam.delivered)
	}
	if st := b.svc.EphemeralState(ev.ID); st != app.EphemeralWaiting {
		t.Fatalf("bob's state after the tampered copy: got %q, want waiting", st)
	}

	// A wrong size announced by the event: refused before any chunk.
	_, rerr, _ = exchange(t, a.svc, a, b, ev.ID, size-1)
	if !errors.Is(rerr, app.ErrBadEvent) {
		t.Fatalf("size other than the event's: got %v, want ErrBadEvent", rerr)
	}

	// The real thing: 5 MiB in several frames of at most 1 MiB.
	aerr, rerr, frames := exchange(t, a.svc, a, b, ev.ID, size)
	if aerr != nil || rerr != nil {
		t.Fatalf("exchange: ada %v, bob %v", aerr, rerr)
	}
	if want := 1 + (size+wire.MaxEphemeralChunk-1)/wire.MaxEphemeralChunk; frames != want || frames < 6 {
		t.Fatalf("frames from ada: got %d, want %d (a header and 1 MiB chunks)", frames, want)
	}
	got, release, err := b.svc.ViewEphemeral(context.Background(), ev.ID)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("view: %v, equal %v", err, bytes.Equal(got, data))
	}
	release()
	if _, err := a.svc.SealedEphemeral(ev.ID, b.key); !errors.Is(err, app.ErrTooLate) {
		t.Fatalf("ada's copy after the ack: got %v, want ErrTooLate", err)
	}
	// Asked again: refused as gone.
	aerr, rerr, _ = exchange(t, a.svc, a, b, ev.ID, size)
	if !errors.Is(rerr, app.ErrTooLate) || !errors.Is(aerr, errEphAnswered) {
		t.Fatalf("asked again: ada %v, bob %v; want gone", aerr, rerr)
	}
}

// TestEphemeralBadFrames: a request that is not a request, and a
// recipient that lies about the ack, reset the exchange.
func TestEphemeralBadFrames(t *testing.T) {
	a, b, conv := ephPair(t)
	b.svc.SetEphemeralFetcher(nil)
	ev := sendViewOnce(t, a, conv, randomBytes(t, 100), app.ModeViewOnce)
	x, y := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- AnswerEphemeral(x, b.key, a.svc, nil); x.Close() }()
	go func() {
		w := wire.NewWriter(y)
		_ = w.WriteEph(wire.EphFrame{Type: wire.EphAck})
		io.Copy(io.Discard, y)
	}()
	if err := <-done; err == nil || errors.Is(err, errEphAnswered) {
		t.Fatalf("ack instead of a request: got %v, want a protocol error (reset)", err)
	}
	y.Close()
	if _, err := a.svc.SealedEphemeral(ev.ID, b.key); err != nil {
		t.Fatalf("copy after a bad request: %v", err)
	}
}

// deliverEvents copies from's events in conv to to directly.
func deliverEvents(t *testing.T, from, to *testPeer, conv app.ConvID) {
	t.Helper()
	ctx := context.Background()
	waitFor(t, 10*time.Second, "events reach "+to.name, func() bool {
		vv, _ := from.svc.Versions(ctx, conv)
		have, _ := to.svc.Versions(ctx, conv)
		for author, seq := range vv {
			if have[author] < seq {
				evs, err := from.svc.EventsAfter(ctx, conv, author, have[author], 1000)
				if err != nil {
					return false
				}
				var wireEvs []app.Event
				for _, ev := range evs {
					d, err := app.DecodeEvent(ev.Marshal())
					if err != nil {
						t.Fatal(err)
					}
					wireEvs = append(wireEvs, d)
				}
				if _, err := to.svc.Ingest(ctx, wireEvs, app.PathLAN, from.key); err != nil {
					t.Fatal(err)
				}
				return false
			}
		}
		return true
	})
}
