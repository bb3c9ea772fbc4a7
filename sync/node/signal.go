package node

// /kite/signal/1.0.0 — ephemeral state, never stored as log: typing,
// presence and seen positions. One short stream per burst of signals.
//
//	sender                                 receiver
//	  |  open /kite/signal/1.0.0              |
//	  |--- Signal{typing conv on} ----------->|  deadline 10 s, frames ≤ 4 KiB,
//	  |--- Signal{…} (≤ 16 per stream) ------>|  at most 16 per stream
//	  |  close                                |  Service.ReceiveTyping / SetPresence /
//	  |                                       |  ReceiveSeen; close
//
// Typing and seen are accepted only for conversations shared with the
// sender; the receiver ends "typing" itself after TypingTimeout of
// silence. Presence says online on connect (hidden when this device's
// activity status is off); seen is sent only with read receipts on and
// never for a conversation still in Requests or with a restricted peer.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"kite/app"
	"kite/sync/wire"
)

const (
	// TypingTimeout ends a peer's "typing" when it says nothing more.
	TypingTimeout   = 5 * time.Second
	typingRepeat    = 2 * time.Second // a sender repeats "typing" at most this often
	signalTimeout   = 10 * time.Second
	maxSignalFrame  = 4 << 10
	maxSignalFrames = 16
)

type typingKey struct {
	conv app.ConvID
	peer app.PeerKey
}

type typingSent struct {
	on bool
	at time.Time
}

// ReadSignals is the receiver's side over any stream: it reads up to
// maxSignalFrames signals until the sender closes and calls apply on each.
func ReadSignals(r io.Reader, apply func(*wire.Signal) error) error {
	fr := wire.NewReaderMax(r, maxSignalFrame)
	for range maxSignalFrames {
		f, err := fr.ReadFrame()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		sig := f.GetSignal()
		if sig == nil {
			return errors.New("node: signal: not a signal")
		}
		if err := apply(sig); err != nil {
			return err
		}
	}
	return errors.New("node: signal: too many signals on one stream")
}

func (n *Node) handleSignal(st network.Stream) {
	if err := st.Scope().SetService("kite.signal"); err != nil {
		st.Reset()
		return
	}
	p := st.Conn().RemotePeer()
	from, ok := keyOf(p)
	if !ok {
		st.Reset()
		return
	}
	_ = st.SetDeadline(time.Now().Add(signalTimeout))
	ctx, cancel := context.WithTimeout(n.ctx, signalTimeout)
	defer cancel()
	err := ReadSignals(st, func(sig *wire.Signal) error { return n.applySignal(ctx, p, from, sig) })
	if err != nil {
		n.log.Debug("signal: refused", "peer", p, "err", err)
		st.Reset()
		return
	}
	st.Close()
}

// applySignal applies one signal from peer p.
func (n *Node) applySignal(ctx context.Context, p peer.ID, from app.PeerKey, sig *wire.Signal) error {
	switch w := sig.What.(type) {
	case *wire.Signal_Typing:
		conv, ok := id32(w.Typing.GetConv())
		if !ok {
			return errors.New("node: signal: bad conversation")
		}
		if !n.shares(ctx, from, conv) {
			return nil // quietly ignored: not the peer's conversation
		}
		n.receiveTyping(conv, from, w.Typing.GetOn())
	case *wire.Signal_Presence:
		pr := w.Presence
		n.mu.Lock()
		n.hidden[p] = pr.GetHidden()
		n.mu.Unlock()
		var last time.Time
		if pr.GetLastActive() > 0 {
			last = time.UnixMilli(pr.GetLastActive())
		}
		if pr.GetHidden() {
			n.svc.SetPresence(from, app.Presence{Hidden: true})
		} else {
			n.svc.SetPresence(from, app.Presence{Online: pr.GetOnline(), LastActive: last})
		}
		if v := pr.GetProfileVersion(); v > 0 {
			if known, err := n.svc.Person(ctx, from); err == nil && known.Version < v {
				n.goRun(func() { n.fetchProfile(n.ctx, p) })
			}
		}
	case *wire.Signal_Seen:
		conv, ok1 := id32(w.Seen.GetConv())
		ev, ok2 := id32(w.Seen.GetEvent())
		if !ok1 || !ok2 {
			return errors.New("node: signal: bad seen position")
		}
		if !n.shares(ctx, from, conv) {
			return nil
		}
		if err := n.svc.ReceiveSeen(ctx, conv, from, ev); err != nil {
			n.log.Debug("signal: seen not applied", "peer", p, "err", err)
		}
	default:
		return fmt.Errorf("node: signal: unknown %T", w)
	}
	return nil
}

// shares reports whether conv is one the peer takes part in.
func (n *Node) shares(ctx context.Context, peer app.PeerKey, conv app.ConvID) bool {
	cs, err := n.svc.SharedConversations(ctx, peer)
	return err == nil && slices.Contains(cs, conv)
}

// receiveTyping applies a typing signal and ends it after TypingTimeout
// of silence.
func (n *Node) receiveTyping(conv app.ConvID, from app.PeerKey, on bool) {
	k := typingKey{conv, from}
	n.mu.Lock()
	if t := n.typing[k]; t != nil {
		t.Stop()
		delete(n.typing, k)
	}
	if on {
		var t *time.Timer
		t = time.AfterFunc(TypingTimeout, func() {
			n.mu.Lock()
			mine := n.typing[k] == t
			if mine {
				delete(n.typing, k)
			}
			n.mu.Unlock()
			if mine {
				n.svc.ReceiveTyping(conv, from, false)
			}
		})
		n.typing[k] = t
	}
	n.mu.Unlock()
	n.svc.ReceiveTyping(conv, from, on)
}

func (n *Node) stopTyping() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, t := range n.typing {
		t.Stop()
		delete(n.typing, k)
	}
}

// sendTyping tells the conversation's connected members this device is
// (not) typing; "typing" is repeated at most every typingRepeat.
func (n *Node) sendTyping(conv app.ConvID, on bool) {
	now := time.Now()
	n.mu.Lock()
	last := n.sentTyp[conv]
	skip := on && last.on && now.Sub(last.at) < typingRepeat || !on && !last.on
	if !skip {
		n.sentTyp[conv] = typingSent{on: on, at: now}
	}
	if !on {
		delete(n.sentTyp, conv)
	}
	n.mu.Unlock()
	if skip {
		return
	}
	f := &wire.Frame{Msg: &wire.Frame_Signal{Signal: &wire.Signal{What: &wire.Signal_Typing{Typing: &wire.Typing{Conv: conv[:], On: on}}}}}
	n.signalMembers(conv, false, f)
}

// sendSeen sends this device's seen position when read receipts are on
// and the conversation is not a pending request.
func (n *Node) sendSeen(conv app.ConvID, upTo app.EventID) {
	ctx, cancel := context.WithTimeout(n.ctx, signalTimeout)
	defer cancel()
	st, err := n.svc.Settings(ctx)
	if err != nil || !st.ReadReceipts {
		return
	}
	c, err := n.svc.Conversation(ctx, conv)
	if err != nil || c.Folder == app.Requests {
		return
	}
	f := &wire.Frame{Msg: &wire.Frame_Signal{Signal: &wire.Signal{What: &wire.Signal_Seen{Seen: &wire.Seen{Conv: conv[:], Event: upTo[:]}}}}}
	n.signalMembers(conv, true, f)
}

// signalMembers sends f to every connected peer sharing conv (skipping
// restricted peers when quiet), each in its own goroutine.
func (n *Node) signalMembers(conv app.ConvID, quiet bool, f *wire.Frame) {
	ctx := n.ctx
	for _, p := range n.h.Network().Peers() {
		k, ok := keyOf(p)
		if !ok {
			continue
		}
		n.goRun(func() {
			if !n.shares(ctx, k, conv) {
				return
			}
			if quiet {
				if person, err := n.svc.Person(ctx, k); err == nil && person.Restricted {
					return
				}
			}
			n.sendSignal(ctx, p, f)
		})
	}
}

// sendPresence tells p this device is online, or that its activity
// status is hidden.
func (n *Node) sendPresence(ctx context.Context, p peer.ID) {
	n.sendSignal(ctx, p, n.presenceFrame(ctx, true))
}

func (n *Node) presenceFrame(ctx context.Context, online bool) *wire.Frame {
	pr := &wire.Presence{Hidden: true}
	if st, err := n.svc.Settings(ctx); err == nil && st.ActivityStatus {
		pr = &wire.Presence{Online: online, LastActive: time.Now().UnixMilli()}
	}
	if prof, err := n.svc.Profile(ctx); err == nil {
		pr.ProfileVersion = prof.Version // peers with an older one ask for it
	}
	return &wire.Frame{Msg: &wire.Frame_Signal{Signal: &wire.Signal{What: &wire.Signal_Presence{Presence: pr}}}}
}

// sendOffline says goodbye to every connected peer, briefly.
func (n *Node) sendOffline() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	f := n.presenceFrame(ctx, false)
	for _, p := range n.h.Network().Peers() {
		n.goRun(func() { n.sendSignal(ctx, p, f) })
	}
}

func (n *Node) sendSignal(ctx context.Context, p peer.ID, fs ...*wire.Frame) {
	ctx, cancel := context.WithTimeout(ctx, signalTimeout)
	defer cancel()
	st, err := n.h.NewStream(ctx, p, protocol.ID(wire.ProtoSignal))
	if err != nil {
		n.log.Debug("signal: open stream", "peer", p, "err", err)
		return
	}
	_ = st.SetDeadline(time.Now().Add(signalTimeout))
	w := wire.NewWriter(st)
	for _, f := range fs {
		if err := w.WriteFrame(f); err != nil {
			n.log.Debug("signal: send", "peer", p, "err", err)
			st.Reset()
			return
		}
	}
	st.Close()
}
