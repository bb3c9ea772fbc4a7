package node

// /kite/mailbox/1.0.0 — holding events for people who are away
// (DESIGN.md §8, app/mailbox.go). Three exchanges, one per stream:
//
//	depositor S                         mailbox M (kite serve --mailbox)
//	  |--- Deposit{owner, events} ------->|  only S's own events, verified;
//	  |<-- DepositReply{held, receipts} --|  M serves its contacts only
//	  |    … more Deposits …              |
//
//	owner O                             mailbox M
//	  |--- Drain ------------------------>|  O is authenticated by Noise
//	  |<-- Events[≤256, ≤512 KiB] --------|  oldest first; empty: done
//	  |  Service.Ingest (PathMailbox)     |
//	  |--- Taken{receipts} -------------->|  M drops them, keeps receipts
//	  |--- Drain ------------------------>|  for S's next deposit
//	  |    …                              |
//
//	mailbox M                           owner O
//	  |--- Notify ----------------------->|  new deposits while O is
//	  |  close                            |  connected: O drains
//
// S deposits for each away contact that names a mailbox: its own events that
// peer has not acknowledged (app.Service.Undelivered), when it appends
// one and every Resync. O drains on connecting to M, on Notify and every
// Resync. Frames are capped as on /kite/sync; a bad frame resets the
// stream.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"kite/app"
	"kite/sync/wire"
)

const (
	mailboxTimeout = 30 * time.Second // per frame on a mailbox stream
	maxDrainRounds = 1 << 12          // batches in one drain, a bound on a looping mailbox
	undeliveredMax = 4 * app.MaxDepositEvents
)

// Mailboxes is the mailbox part of the domain (app/mailbox.go).
type Mailboxes interface {
	Mailbox(ctx context.Context) (app.MailboxRef, bool)
	MailboxOf(ctx context.Context, peer app.PeerKey) (app.MailboxRef, bool)
	Serves(ctx context.Context, owner app.PeerKey) bool
	Deposit(ctx context.Context, depositor, owner app.PeerKey, evs []app.Event) ([]app.EventID, []app.MailboxReceipt, error)
	Held(ctx context.Context, owner app.PeerKey, after int64, limit, maxBytes int) ([]app.HeldEvent, error)
	Release(ctx context.Context, owner app.PeerKey, rs []app.MailboxReceipt) error
	Undelivered(ctx context.Context, peer app.PeerKey, limit int) ([]app.Event, error)
	ApplyReceipts(ctx context.Context, owner app.PeerKey, rs []app.MailboxReceipt) error
}

// mailboxState is the depositor's memory of one away peer: what its
// mailbox holds from here and what the peer refused, so neither is sent
// again in this run.
type mailboxState struct {
	held    map[app.EventID]bool
	refused map[app.EventID]bool
	// asked is set once receipts were asked for in this run: events
	// that a peer got from its mailbox before a restart here stay
	// unacknowledged until then.
	asked bool
}

// startMailbox serves the protocol and runs the depositor and drain
// loops.
func (n *Node) startMailbox(ctx context.Context) {
	n.mboxKick = make(chan struct{}, 1)
	n.drainKick = make(chan struct{}, 1)
	n.mbox = make(map[app.PeerKey]*mailboxState)
	n.h.SetStreamHandler(protocol.ID(wire.ProtoMailbox), n.handleMailbox)
	n.goRun(func() { n.depositLoop(ctx) })
	n.goRun(func() { n.drainLoop(ctx) })
}

func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// handleMailbox serves a stream opened by a depositor, an owner, or (for
// Notify) this device's mailbox.
func (n *Node) handleMailbox(st network.Stream) {
	if err := st.Scope().SetService("kite.mailbox"); err != nil {
		st.Reset()
		return
	}
	from, ok := keyOf(st.Conn().RemotePeer())
	if !ok {
		st.Reset()
		return
	}
	r, w := wire.NewReader(st), wire.NewWriter(st)
	_ = st.SetDeadline(time.Now().Add(mailboxTimeout))
	f, err := r.ReadFrame()
	if err != nil {
		st.Reset()
		return
	}
	switch {
	case f.GetDeposit() != nil:
		err = n.serveDeposits(st, r, w, from, f)
	case f.GetDrain() != nil:
		err = n.serveDrain(st, r, w, from)
	case f.GetNotify() != nil:
		if ref, ok := n.svc.Mailbox(n.ctx); ok && ref.Key == from {
			kick(n.drainKick)
		}
	default:
		err = errors.New("unexpected first frame")
	}
	if err != nil && !errors.Is(err, errStreamDone) {
		n.log.Debug("mailbox: serve", "peer", from, "err", err)
		st.Reset()
		return
	}
	st.Close()
}

// errStreamDone ends a served stream normally: the other side closed it.
var errStreamDone = errors.New("stream done")

// serveDeposits is the mailbox's side of deposits: it holds what it may
// and answers each Deposit with what it holds and the receipts waiting.
func (n *Node) serveDeposits(st network.Stream, r *wire.Reader, w *wire.Writer, from app.PeerKey, f *wire.Frame) error {
	ctx := n.ctx
	for {
		d := f.GetDeposit()
		if d == nil {
			return errors.New("expected a deposit")
		}
		reply := &wire.DepositReply{}
		owner, ok := id32(d.GetOwner())
		if !ok {
			return errors.New("bad owner")
		}
		evs, err := n.depositedEvents(from, d.GetEvents())
		if err != nil {
			return err
		}
		held, receipts, err := n.svc.Deposit(ctx, from, app.PeerKey(owner), evs)
		switch {
		case errors.Is(err, app.ErrBlocked):
			reply.Refused = "blocked"
		case errors.Is(err, app.ErrRefused):
			reply.Refused = "not_served"
		case errors.Is(err, app.ErrTooLarge):
			reply.Refused = "too_large"
		case err != nil:
			return err
		}
		for _, id := range held {
			reply.Held = append(reply.Held, id[:])
		}
		reply.Receipts = receiptsPB(receipts)
		if err := w.WriteFrame(&wire.Frame{Msg: &wire.Frame_DepositReply{DepositReply: reply}}); err != nil {
			return err
		}
		_ = st.SetDeadline(time.Now().Add(mailboxTimeout))
		if f, err = r.ReadFrame(); err != nil {
			return errStreamDone
		}
	}
}

// depositedEvents decodes and verifies a deposit: every event signed by
// its author, and that author the depositor, so a mailbox holds nothing
// a depositor did not write.
func (n *Node) depositedEvents(from app.PeerKey, raw [][]byte) ([]app.Event, error) {
	if len(raw) > app.MaxDepositEvents {
		return nil, fmt.Errorf("%d events in one deposit", len(raw))
	}
	evs, err := decodeBatch(raw)
	if err != nil {
		return nil, err
	}
	for _, ev := range evs {
		if ev.Author != from {
			return nil, errors.New("deposit of an event by someone else")
		}
	}
	return evs, nil
}

// serveDrain is the mailbox's side of a drain by owner.
func (n *Node) serveDrain(st network.Stream, r *wire.Reader, w *wire.Writer, owner app.PeerKey) error {
	ctx := n.ctx
	if !n.svc.Serves(ctx, owner) {
		return errors.New("drain by someone this device is not a mailbox for")
	}
	var after int64 // events left behind by the owner are not sent again in this drain
	for range maxDrainRounds {
		hs, err := n.svc.Held(ctx, owner, after, maxBatchEvents, maxBatchBytes)
		if err != nil {
			return err
		}
		batch := &wire.Events{}
		for _, h := range hs {
			batch.Events = append(batch.Events, h.Data)
			after = h.RID
		}
		if err := w.WriteFrame(&wire.Frame{Msg: &wire.Frame_Events{Events: batch}}); err != nil {
			return err
		}
		if len(hs) == 0 {
			return nil
		}
		_ = st.SetDeadline(time.Now().Add(mailboxTimeout))
		f, err := r.ReadFrame()
		if err != nil {
			return err
		}
		t := f.GetTaken()
		if t == nil {
			return errors.New("expected taken")
		}
		rs, err := receiptsOf(t.GetReceipts())
		if err != nil {
			return err
		}
		if err := n.svc.Release(ctx, owner, rs); err != nil {
			return err
		}
		if f, err = r.ReadFrame(); err != nil || f.GetDrain() == nil {
			return errStreamDone
		}
	}
	return nil
}

// notifyOwner tells a connected owner that its mailbox has new events.
func (n *Node) notifyOwner(ctx context.Context, owner app.PeerKey) {
	p, err := peerIDOf(owner)
	if err != nil || n.h.Network().Connectedness(p) != network.Connected || !n.svc.Serves(ctx, owner) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, mailboxTimeout)
	defer cancel()
	st, err := n.h.NewStream(ctx, p, protocol.ID(wire.ProtoMailbox))
	if err != nil {
		n.log.Debug("mailbox: notify", "peer", p, "err", err)
		return
	}
	_ = st.SetDeadline(time.Now().Add(mailboxTimeout))
	if err := wire.NewWriter(st).WriteFrame(&wire.Frame{Msg: &wire.Frame_Notify{Notify: &wire.Notify{}}}); err != nil {
		st.Reset()
		return
	}
	st.Close()
}

// drainLoop drains this device's mailbox when kicked and every Resync
// while connected to it.
func (n *Node) drainLoop(ctx context.Context) {
	n.onKickOrTick(ctx, n.drainKick, func() {
		ref, ok := n.svc.Mailbox(ctx)
		if !ok {
			return
		}
		p, err := peerIDOf(ref.Key)
		if err != nil || n.h.Network().Connectedness(p) != network.Connected {
			return
		}
		if err := n.drain(ctx, p, ref.Key); err != nil {
			n.log.Info("mailbox: drain", "mailbox", p, "err", err)
		}
	})
}

// onKickOrTick runs pass on every kick and every Resync until ctx ends.
func (n *Node) onKickOrTick(ctx context.Context, kick <-chan struct{}, pass func()) {
	t := time.NewTicker(n.resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-kick:
		}
		pass()
	}
}

// drain takes everything the mailbox holds for this device, batch by
// batch. Events that wait for others (a predecessor, a group op) are
// tried again at the end; those that still wait stay in the mailbox.
func (n *Node) drain(ctx context.Context, p peer.ID, box app.PeerKey) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	st, err := n.openMailbox(ctx, p)
	if err != nil {
		return err
	}
	defer st.Close()
	var waiting []app.Event
	drained := 0
	for range maxDrainRounds {
		f, err := st.ask(&wire.Frame{Msg: &wire.Frame_Drain{Drain: &wire.Drain{}}})
		if err != nil {
			return err
		}
		batch := f.GetEvents()
		if batch == nil {
			st.Reset()
			return errors.New("expected events")
		}
		if len(batch.GetEvents()) == 0 {
			break
		}
		rs, wait, err := n.takeBatch(ctx, batch.GetEvents(), box)
		if err != nil {
			st.Reset()
			return err
		}
		waiting = append(waiting, wait...)
		drained += len(rs)
		if err := st.w.WriteFrame(&wire.Frame{Msg: &wire.Frame_Taken{Taken: &wire.Taken{Receipts: receiptsPB(rs)}}}); err != nil {
			st.Reset()
			return err
		}
	}
	if len(waiting) > 0 {
		// A second chance now that the whole mailbox is in; what still
		// waits is not taken, so the mailbox keeps it for next time.
		if _, err := n.ingest(ctx, waiting, box, app.PathMailbox); err != nil {
			return err
		}
	}
	if drained > 0 {
		n.log.Info("mailbox: drained", "mailbox", p, "events", drained)
	}
	return nil
}

// takeBatch ingests one drained batch. It returns a receipt for each
// event dealt with (stored, already here, or refused) and the events
// that wait for others.
func (n *Node) takeBatch(ctx context.Context, raw [][]byte, box app.PeerKey) ([]app.MailboxReceipt, []app.Event, error) {
	if len(raw) > maxFrameEvents {
		return nil, nil, fmt.Errorf("%d events in one batch", len(raw))
	}
	var (
		rs   []app.MailboxReceipt
		evs  []app.Event
		wait []app.Event
	)
	decoded, errs := app.DecodeEvents(raw)
	for i, ev := range decoded {
		if errs[i] != nil {
			// The mailbox verified it on deposit, so this mailbox is
			// broken or lying; the event is skipped, not taken.
			n.log.Warn("mailbox: drained a bad event", "err", errs[i])
			continue
		}
		evs = append(evs, ev)
	}
	errs, err := n.ingest(ctx, evs, box, app.PathMailbox)
	if err != nil {
		return nil, nil, err
	}
	for i, ev := range evs {
		switch e := errs[i]; {
		case e == nil || errors.Is(e, app.ErrDuplicate):
			rs = append(rs, app.MailboxReceipt{ID: ev.ID, Conv: ev.Conv})
		case errors.Is(e, app.ErrMissing):
			wait = append(wait, ev)
		default:
			rs = append(rs, app.MailboxReceipt{ID: ev.ID, Conv: ev.Conv, Refusal: app.Refusal(reasonOf(e))})
		}
	}
	return rs, wait, nil
}

// depositLoop deposits for away peers when kicked and every Resync.
func (n *Node) depositLoop(ctx context.Context) {
	n.onKickOrTick(ctx, n.mboxKick, func() {
		for owner, ref := range n.contacts.boxes() {
			p, err := peerIDOf(owner)
			if err != nil {
				continue
			}
			// Reachable directly, sync delivers; receipts for what the
			// mailbox got earlier are still collected.
			away := n.h.Network().Connectedness(p) != network.Connected
			if err := n.depositFor(ctx, owner, ref, away); err != nil {
				n.log.Info("mailbox: deposit", "owner", p, "mailbox", ref.Key, "err", err)
			}
		}
	})
}

// depositFor sends owner's mailbox what owner still lacks from here when
// owner is away, and collects receipts for earlier deposits.
func (n *Node) depositFor(ctx context.Context, owner app.PeerKey, ref app.MailboxRef, away bool) error {
	evs, err := n.svc.Undelivered(ctx, owner, undeliveredMax)
	if err != nil {
		return err
	}
	n.mu.Lock()
	ms := n.mbox[owner]
	if ms == nil {
		ms = &mailboxState{held: map[app.EventID]bool{}, refused: map[app.EventID]bool{}}
		n.mbox[owner] = ms
	}
	// Forget what was delivered since: it is no longer undelivered.
	still := make(map[app.EventID]bool, len(ms.held))
	var fresh []app.Event
	for _, ev := range evs {
		switch {
		case ms.held[ev.ID]:
			still[ev.ID] = true
		case away && !ms.refused[ev.ID]:
			fresh = append(fresh, ev)
		}
	}
	ms.held = still
	wantReceipts := len(ms.held) > 0 || !ms.asked && len(evs) > 0
	ms.asked = true
	n.mu.Unlock()
	if len(fresh) == 0 && !wantReceipts {
		return nil
	}

	p, err := n.dialMailbox(ctx, ref)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	st, err := n.openMailbox(ctx, p)
	if err != nil {
		return err
	}
	defer st.Close()
	for first := true; first || len(fresh) > 0; first = false {
		d := &wire.Deposit{Owner: owner[:]}
		size := 0
		for len(fresh) > 0 && len(d.Events) < app.MaxDepositEvents {
			b := fresh[0].Marshal()
			if len(d.Events) > 0 && size+len(b) > maxBatchBytes {
				break
			}
			d.Events, size, fresh = append(d.Events, b), size+len(b), fresh[1:]
		}
		f, err := st.ask(&wire.Frame{Msg: &wire.Frame_Deposit{Deposit: d}})
		if err != nil {
			return err
		}
		reply := f.GetDepositReply()
		if reply == nil {
			st.Reset()
			return errors.New("expected a deposit reply")
		}
		if reply.GetRefused() != "" {
			return fmt.Errorf("mailbox refused: %s", reply.GetRefused())
		}
		rs, err := receiptsOf(reply.GetReceipts())
		if err != nil {
			st.Reset()
			return err
		}
		n.applyReceipts(ctx, owner, ms, reply.GetHeld(), rs)
	}
	return nil
}

// applyReceipts records a deposit reply: what the mailbox now holds, and
// what the owner did with earlier deposits.
func (n *Node) applyReceipts(ctx context.Context, owner app.PeerKey, ms *mailboxState, held [][]byte, rs []app.MailboxReceipt) {
	n.mu.Lock()
	for _, b := range held {
		if id, ok := id32(b); ok {
			ms.held[id] = true
		}
	}
	var known []app.MailboxReceipt // refusals the sender can be told about, and deliveries
	for _, r := range rs {
		delete(ms.held, r.ID)
		if r.Refusal != app.RefuseNone {
			ms.refused[r.ID] = true
			if _, ok := refusal(string(r.Refusal)); !ok {
				continue
			}
		}
		known = append(known, r)
	}
	n.mu.Unlock()
	if err := n.svc.ApplyReceipts(ctx, owner, known); err != nil {
		n.log.Warn("mailbox: receipts", "err", err)
	}
}

// dialMailbox connects to a mailbox at the addresses its owner gave.
func (n *Node) dialMailbox(ctx context.Context, ref app.MailboxRef) (peer.ID, error) {
	p, err := peerIDOf(ref.Key)
	if err != nil {
		return "", err
	}
	if n.h.Network().Connectedness(p) == network.Connected {
		return p, nil
	}
	if err := n.dialAt(ctx, p, ref.Addrs); err != nil {
		return "", fmt.Errorf("reach mailbox: %w", err)
	}
	return p, nil
}

// mailboxStream is this device's side of a /kite/mailbox stream.
type mailboxStream struct {
	network.Stream
	r *wire.Reader
	w *wire.Writer
}

func (n *Node) openMailbox(ctx context.Context, p peer.ID) (*mailboxStream, error) {
	st, err := n.h.NewStream(ctx, p, protocol.ID(wire.ProtoMailbox))
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	return &mailboxStream{Stream: st, r: wire.NewReader(st), w: wire.NewWriter(st)}, nil
}

// ask writes f and reads the answer within mailboxTimeout; on failure
// the stream is reset.
func (st *mailboxStream) ask(f *wire.Frame) (*wire.Frame, error) {
	_ = st.SetDeadline(time.Now().Add(mailboxTimeout))
	if err := st.w.WriteFrame(f); err != nil {
		st.Reset()
		return nil, err
	}
	ans, err := st.r.ReadFrame()
	if err != nil {
		st.Reset()
		return nil, err
	}
	return ans, nil
}

func receiptsPB(rs []app.MailboxReceipt) []*wire.Receipt {
	out := make([]*wire.Receipt, len(rs))
	for i, r := range rs {
		out[i] = &wire.Receipt{Id: r.ID[:], Conv: r.Conv[:], Refused: string(r.Refusal)}
	}
	return out
}

func receiptsOf(ps []*wire.Receipt) ([]app.MailboxReceipt, error) {
	if len(ps) > maxFrameEvents {
		return nil, fmt.Errorf("%d receipts in one frame", len(ps))
	}
	out := make([]app.MailboxReceipt, len(ps))
	for i, p := range ps {
		id, ok1 := id32(p.GetId())
		conv, ok2 := id32(p.GetConv())
		if !ok1 || !ok2 || len(p.GetRefused()) > 64 {
			return nil, errors.New("bad receipt")
		}
		out[i] = app.MailboxReceipt{ID: id, Conv: conv, Refusal: app.Refusal(p.GetRefused())}
	}
	return out, nil
}
