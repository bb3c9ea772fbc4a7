package node

// /kite/profile/1.0.0 — signed profiles, exchanged on every new connection
// (each side asks the other).
//
//	asker                               answerer
//	  |  open /kite/profile/1.0.0          |
//	  |--- ProfileRequest ---------------->|  deadline 10 s, frames ≤ 16 KiB
//	  |                                    |  Service.SignedProfile
//	  |<-- Profile{data, sig} -------------|
//	  |  Service.ApplyProfile(from, …)     |  close
//	  |  close                             |
//
// A malformed frame, a profile of another peer or a bad signature resets
// the stream; nothing is stored.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"kite/app"
	"kite/sync/wire"
)

const (
	profileTimeout  = 10 * time.Second
	maxProfileFrame = 128 << 10 // a profile carries its avatar (≤ 48 KiB, base64 in JSON)
)

// ExchangeProfile is the asker's side over any stream: it sends a request
// and returns the signed profile it gets back.
func ExchangeProfile(rw io.ReadWriter) (data, sig []byte, err error) {
	if err := wire.NewWriter(rw).WriteFrame(&wire.Frame{Msg: &wire.Frame_ProfileRequest{ProfileRequest: &wire.ProfileRequest{}}}); err != nil {
		return nil, nil, err
	}
	f, err := wire.NewReaderMax(rw, maxProfileFrame).ReadFrame()
	if err != nil {
		return nil, nil, err
	}
	p := f.GetProfile()
	if p == nil {
		return nil, nil, errors.New("node: profile: answer is not a profile")
	}
	return p.Data, p.Sig, nil
}

// AnswerProfile is the answerer's side over any stream.
func AnswerProfile(ctx context.Context, rw io.ReadWriter, svc Directory) error {
	f, err := wire.NewReaderMax(rw, maxProfileFrame).ReadFrame()
	if err != nil {
		return err
	}
	if f.GetProfileRequest() == nil {
		return errors.New("node: profile: expected a request")
	}
	data, sig, err := svc.SignedProfile(ctx)
	if err != nil {
		return fmt.Errorf("node: profile: %w", err)
	}
	return wire.NewWriter(rw).WriteFrame(&wire.Frame{Msg: &wire.Frame_Profile{Profile: &wire.Profile{Data: data, Sig: sig}}})
}

func (n *Node) handleProfile(s network.Stream) {
	if err := s.Scope().SetService("kite.profile"); err != nil {
		s.Reset()
		return
	}
	_ = s.SetDeadline(time.Now().Add(profileTimeout))
	ctx, cancel := context.WithTimeout(n.ctx, profileTimeout)
	defer cancel()
	if err := AnswerProfile(ctx, s, n.svc); err != nil {
		n.log.Debug("profile: answer", "peer", s.Conn().RemotePeer(), "err", err)
		s.Reset()
		return
	}
	s.Close()
}

// fetchProfile asks p for its profile and applies it.
func (n *Node) fetchProfile(ctx context.Context, p peer.ID) {
	from, ok := keyOf(p)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, profileTimeout)
	defer cancel()
	s, err := n.h.NewStream(ctx, p, protocol.ID(wire.ProtoProfile))
	if err != nil {
		n.log.Debug("profile: open stream", "peer", p, "err", err)
		return
	}
	_ = s.SetDeadline(time.Now().Add(profileTimeout))
	data, sig, err := ExchangeProfile(s)
	if err != nil {
		n.log.Debug("profile: exchange", "peer", p, "err", err)
		s.Reset()
		return
	}
	s.Close()
	person, err := n.svc.ApplyProfile(ctx, from, data, sig)
	if err != nil {
		n.log.Info("profile: refused", "peer", p, "err", err)
		return
	}
	n.sawProfile(p, person)
}

// sawProfile fills in a nearby peer's name once its profile is known.
func (n *Node) sawProfile(p peer.ID, person app.Person) {
	n.mu.Lock()
	nb := n.nearby[p]
	if nb != nil {
		nb.Handle, nb.Name = person.Handle, person.Name
	}
	n.mu.Unlock()
	if nb != nil {
		n.svc.NetworkChanged()
	}
}
