package node

// /kite/ephemeral/1.0.0 — view-once media, from the sender's memory to
// one recipient's memory (DESIGN.md §6). The recipient asks; the sender
// answers only the peer the copy was sealed for.
//
//	recipient                                 sender
//	  |  open /kite/ephemeral/1.0.0              |
//	  |--- Request{event ID} ------------------->|  deadline 15 s to ask, frames ≤ 64 B
//	  |                                          |  Service.SealedEphemeral(id, remote peer)
//	  |<-- Refused{code, reason} ----------------|  not held (gone) / not sealed for you: close
//	  |            or                            |
//	  |<-- Header{total sealed bytes} -----------|  deadline grows with the size
//	  |<-- Chunk{≤ 1 MiB - 1} ------------------|
//	  |<-- Chunk … until total ------------------|
//	  |  total == size in the signed event?      |
//	  |  Service.StoreEphemeral: open with the   |
//	  |  shared box key, check SHA-256 = event   |
//	  |--- Ack ---------------------------------->|  Service.EphemeralDelivered: zero and drop
//	  |            or                            |
//	  |--- Refused{bad} ------------------------->|  keep the copy (another try may work)
//	  |  close                                   |  close
//
// A malformed frame, a chunk beyond the announced total or a total other
// than the event's size resets the stream. Every buffer of sealed bytes is
// zeroed when the exchange ends; the plaintext exists only inside the
// Service.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"

	"kite/app"
	"kite/sync/wire"
)

const (
	ephAskTimeout = 15 * time.Second
	// ephRate is the slowest transfer rate a deadline allows for.
	ephRate         = 128 << 10 // bytes per second
	maxEphAskFrame  = 64
	maxEphInitAlloc = 4 << 20
)

// Ephemeral is the part of the domain the ephemeral protocol needs;
// *app.Service satisfies it. The Node finds it on its Service by type
// assertion, so fakes without view-once support still run.
type Ephemeral interface {
	SealedEphemeral(msg app.EventID, to app.PeerKey) ([]byte, error)
	EphemeralDelivered(msg app.EventID, to app.PeerKey)
	StoreEphemeral(ctx context.Context, msg app.EventID, from app.PeerKey, sealed []byte) error
	FetchEphemeral(ctx context.Context, msg app.EventID) error
	EphemeralState(msg app.EventID) string
	SetEphemeralFetcher(f app.EphemeralFetcher)
}

var _ Ephemeral = (*app.Service)(nil)

// ephDeadline is how long moving size bytes may take.
func ephDeadline(size int) time.Duration {
	return ephAskTimeout + time.Duration(size/ephRate)*time.Second
}

// refusedError is the sender's refusal, mapped to the domain's sentinels:
// EphGone → app.ErrTooLate, EphNotYours → app.ErrNotMember.
func refusedError(f wire.EphFrame) error {
	switch f.Code {
	case wire.EphGone:
		return fmt.Errorf("node: ephemeral: %w: %s", app.ErrTooLate, f.Reason)
	case wire.EphNotYours:
		return fmt.Errorf("node: ephemeral: %w: %s", app.ErrNotMember, f.Reason)
	}
	return fmt.Errorf("node: ephemeral: %w: %s", app.ErrRefused, f.Reason)
}

// RequestEphemeral is the recipient's side over any stream: it asks for
// msg, reads exactly size sealed bytes, hands them to accept and answers
// with an ack when accept returns nil. The buffer is zeroed afterwards.
func RequestEphemeral(rw io.ReadWriter, msg app.EventID, size int, accept func(sealed []byte) error) error {
	w := wire.NewWriter(rw)
	if err := w.WriteEph(wire.EphFrame{Type: wire.EphRequest, ID: msg}); err != nil {
		return err
	}
	r := wire.NewReader(rw)
	f, err := r.ReadEph()
	if err != nil {
		return fmt.Errorf("node: ephemeral: read answer: %w", err)
	}
	switch f.Type {
	case wire.EphRefused:
		return refusedError(f)
	case wire.EphHeader:
	default:
		return fmt.Errorf("node: ephemeral: expected a header, got frame type %d", f.Type)
	}
	if f.Total != uint64(size) {
		return fmt.Errorf("node: ephemeral: %w: sender announces %d bytes, the event says %d", app.ErrBadEvent, f.Total, size)
	}
	buf := make([]byte, 0, min(size, maxEphInitAlloc))
	defer func() { clear(buf[:cap(buf)]) }()
	for len(buf) < size {
		f, err := r.ReadEph()
		if err != nil {
			return fmt.Errorf("node: ephemeral: read chunk: %w", err)
		}
		if f.Type != wire.EphChunk {
			return fmt.Errorf("node: ephemeral: expected a chunk, got frame type %d", f.Type)
		}
		if len(buf)+len(f.Data) > size {
			return fmt.Errorf("node: ephemeral: %w: more bytes than announced", app.ErrBadEvent)
		}
		if len(buf)+len(f.Data) > cap(buf) {
			// Grow by hand so the old buffer is zeroed, not left behind.
			nb := make([]byte, len(buf), min(size, max(2*cap(buf), len(buf)+len(f.Data))))
			copy(nb, buf)
			clear(buf[:cap(buf)])
			buf = nb
		}
		buf = append(buf, f.Data...)
	}
	if err := accept(buf); err != nil {
		_ = w.WriteEph(wire.EphFrame{Type: wire.EphRefused, Code: wire.EphBad, Reason: "does not open or match"})
		return err
	}
	return w.WriteEph(wire.EphFrame{Type: wire.EphAck})
}

// errEphAnswered: the sender refused with a frame; the stream ends
// cleanly.
var errEphAnswered = errors.New("node: ephemeral: refused")

// AnswerEphemeral is the sender's side over any stream: remote is the
// authenticated peer at the other end, the only one whose copy it sends.
// extend, when not nil, is told how long the transfer may take once the
// size is known.
func AnswerEphemeral(rw io.ReadWriter, remote app.PeerKey, svc Ephemeral, extend func(time.Duration)) error {
	r := wire.NewReaderMax(rw, maxEphAskFrame)
	f, err := r.ReadEph()
	if err != nil {
		return fmt.Errorf("node: ephemeral: read request: %w", err)
	}
	if f.Type != wire.EphRequest {
		return fmt.Errorf("node: ephemeral: expected a request, got frame type %d", f.Type)
	}
	msg := f.ID
	w := wire.NewWriter(rw)
	sealed, err := svc.SealedEphemeral(msg, remote)
	if err != nil {
		code, reason := wire.EphGone, "no longer held"
		if errors.Is(err, app.ErrNotMember) {
			code, reason = wire.EphNotYours, "not sealed for you"
		}
		if werr := w.WriteEph(wire.EphFrame{Type: wire.EphRefused, Code: code, Reason: reason}); werr != nil {
			return werr
		}
		return fmt.Errorf("%w: %w", errEphAnswered, err)
	}
	defer clear(sealed)
	if extend != nil {
		extend(ephDeadline(len(sealed)))
	}
	if err := w.WriteEph(wire.EphFrame{Type: wire.EphHeader, Total: uint64(len(sealed))}); err != nil {
		return err
	}
	for off := 0; off < len(sealed); off += wire.MaxEphemeralChunk {
		end := min(off+wire.MaxEphemeralChunk, len(sealed))
		if err := w.WriteEph(wire.EphFrame{Type: wire.EphChunk, Data: sealed[off:end]}); err != nil {
			return err
		}
	}
	f, err = r.ReadEph()
	if err != nil {
		return fmt.Errorf("node: ephemeral: read ack: %w", err)
	}
	switch f.Type {
	case wire.EphAck:
		svc.EphemeralDelivered(msg, remote)
		return nil
	case wire.EphRefused:
		return fmt.Errorf("%w by the recipient: %s", errEphAnswered, f.Reason)
	}
	return fmt.Errorf("node: ephemeral: expected an ack, got frame type %d", f.Type)
}

// serveEphemeral registers /kite/ephemeral/1.0.0, makes this node the
// Service's fetcher and fetches view-once media as it arrives, until ctx
// ends. Run calls it once.
func (n *Node) serveEphemeral(ctx context.Context) {
	eph, ok := n.svc.(Ephemeral)
	if !ok {
		return
	}
	n.h.SetStreamHandler(protocol.ID(wire.ProtoEphemeral), func(s network.Stream) { n.handleEphemeral(s, eph) })
	eph.SetEphemeralFetcher(n)
	updates, unsubscribe := n.svc.Subscribe(256, func(u app.Update) bool {
		return u.Kind == app.UpdEphemeral && u.Peer != n.me
	})
	n.goRun(func() {
		defer eph.SetEphemeralFetcher(nil)
		defer unsubscribe()
		for {
			select {
			case <-ctx.Done():
				return
			case u, ok := <-updates:
				if !ok {
					return
				}
				// Media for this device has arrived: pull it now so it
				// is ready to view. FetchEphemeral joins a fetch already
				// under way.
				if u.Kind != app.UpdEphemeral || u.Peer == n.me || u.Event.IsZero() || eph.EphemeralState(u.Event) != app.EphemeralWaiting {
					continue
				}
				if pid, err := peerIDOf(u.Peer); err != nil || n.h.Network().Connectedness(pid) != network.Connected {
					continue
				}
				msg := u.Event
				n.goRun(func() {
					if err := eph.FetchEphemeral(ctx, msg); err != nil {
						n.log.Debug("ephemeral: fetch on arrival", "msg", msg.Short(), "err", err)
					}
				})
			}
		}
	})
}

func (n *Node) handleEphemeral(s network.Stream, eph Ephemeral) {
	if err := s.Scope().SetService("kite.ephemeral"); err != nil {
		s.Reset()
		return
	}
	remote, ok := keyOf(s.Conn().RemotePeer())
	if !ok {
		s.Reset()
		return
	}
	_ = s.SetDeadline(time.Now().Add(ephAskTimeout))
	err := AnswerEphemeral(s, remote, eph, func(d time.Duration) { _ = s.SetDeadline(time.Now().Add(d)) })
	switch {
	case err == nil:
		s.Close()
	case errors.Is(err, errEphAnswered):
		n.log.Debug("ephemeral: refused", "peer", s.Conn().RemotePeer(), "err", err)
		s.Close()
	default:
		n.log.Debug("ephemeral: answer", "peer", s.Conn().RemotePeer(), "err", err)
		s.Reset()
	}
}

// FetchEphemeral implements app.EphemeralFetcher: it asks from for the
// copy of msg sealed to this device and hands it to the Service.
func (n *Node) FetchEphemeral(ctx context.Context, msg app.EventID, from app.PeerKey, sealedSize int) error {
	eph, ok := n.svc.(Ephemeral)
	if !ok {
		return errors.New("node: ephemeral: the service does not hold view-once media")
	}
	pid, err := peerIDOf(from)
	if err != nil {
		return fmt.Errorf("node: ephemeral: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, ephDeadline(sealedSize))
	defer cancel()
	s, err := n.h.NewStream(ctx, pid, protocol.ID(wire.ProtoEphemeral))
	if err != nil {
		return fmt.Errorf("node: ephemeral: open stream to %s: %w", from, err)
	}
	if err := s.Scope().SetService("kite.ephemeral"); err != nil {
		s.Reset()
		return fmt.Errorf("node: ephemeral: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}
	err = RequestEphemeral(s, msg, sealedSize, func(sealed []byte) error {
		return eph.StoreEphemeral(ctx, msg, from, sealed)
	})
	if err != nil {
		s.Reset()
		return err
	}
	return s.Close()
}
