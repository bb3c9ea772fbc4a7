package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"kite/app/pb"
	"kite/crypto/seal"
)

// sealedKind reports whether an event of kind k carries content that an
// end-to-end conversation seals. Group operations and unsends stay
// readable so every member (and relay) can validate the log.
func sealedKind(k Kind) bool {
	switch k {
	case KindText, KindReaction, KindEdit, KindShare, KindPoll, KindVote, KindMedia:
		return true
	}
	return false
}

// recipients are the box keys an E2E event is sealed to: the other side
// of a 1:1, or every current member of a group but this device.
func (s *Service) recipients(ctx context.Context, c Conversation) (map[PeerKey]*[32]byte, error) {
	var keys []PeerKey
	if c.Kind == Direct {
		keys = []PeerKey{c.Peer}
	} else {
		ms, err := s.store.Members(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("app: read members: %w", err)
		}
		for _, m := range ms {
			if m.Key != s.me {
				keys = append(keys, m.Key)
			}
		}
	}
	out := make(map[PeerKey]*[32]byte, len(keys))
	for _, k := range keys {
		sh, err := s.sharedKey(ctx, k)
		if err != nil {
			return nil, err
		}
		out[k] = sh
	}
	return out, nil
}

// sharedKey is the precomputed NaCl box key with peer, cached.
func (s *Service) sharedKey(ctx context.Context, peer PeerKey) (*[32]byte, error) {
	p, err := s.store.Person(ctx, peer)
	if err != nil {
		return nil, Userf(ErrInvalid, "no encryption key for %s yet", peer)
	}
	return s.sharedKeyOf(peer, p)
}

// sharedKeyOf is sharedKey for a person already read.
func (s *Service) sharedKeyOf(peer PeerKey, p Person) (*[32]byte, error) {
	if p.BoxKey.IsZero() {
		return nil, Userf(ErrInvalid, "no encryption key for %s yet", peer)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh, ok := s.shared[peer]; ok && !p.KeyChanged {
		return sh, nil
	}
	bk := [32]byte(p.BoxKey)
	sh := seal.Precompute(&bk, s.id.BoxPriv)
	s.shared[peer] = sh
	return sh, nil
}

// sealBody seals body for an event at pos: in a 1:1 with NaCl box to the
// peer; in a group under a fresh secretbox key boxed to each recipient.
func (s *Service) sealBody(c Conversation, pos Position, body *pb.Body, to map[PeerKey]*[32]byte) ([]byte, error) {
	plain, err := proto.MarshalOptions{Deterministic: true}.Marshal(&pb.Sealed{Conv: c.ID[:], Author: s.me[:], Seq: pos.Seq, Body: body})
	if err != nil {
		return nil, fmt.Errorf("app: seal: %w", err)
	}
	env := &pb.Envelope{}
	if c.Kind == Direct {
		if env.Ciphertext, err = seal.BoxShared(plain, to[c.Peer]); err != nil {
			return nil, fmt.Errorf("app: seal: %w", err)
		}
	} else {
		key, err := seal.NewSecretKey()
		if err != nil {
			return nil, fmt.Errorf("app: seal: %w", err)
		}
		if env.Ciphertext, err = seal.Secret(plain, key); err != nil {
			return nil, fmt.Errorf("app: seal: %w", err)
		}
		for k, sh := range to {
			boxed, err := seal.BoxShared(key[:], sh)
			if err != nil {
				return nil, fmt.Errorf("app: seal: %w", err)
			}
			env.Keys = append(env.Keys, &pb.RecipientKey{Recipient: append([]byte(nil), k[:]...), Key: boxed})
		}
		clear(key[:])
	}
	envBytes, err := proto.MarshalOptions{Deterministic: true}.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("app: seal: %w", err)
	}
	return EncodeBody(&pb.Body{Content: &pb.Body_Sealed{Sealed: envBytes}})
}

// errNotAddressed: a group envelope sealed to others only, as after this
// device left or was removed. It is stored and relayed unread.
var errNotAddressed = errors.New("envelope not addressed to this device")

// openBody opens an envelope addressed to this device and checks that it
// belongs where it was found.
func (s *Service) openBody(ctx context.Context, ev Event, envBytes []byte, look *lookups) (*pb.Body, error) {
	var env pb.Envelope
	if err := proto.Unmarshal(envBytes, &env); err != nil {
		return nil, fmt.Errorf("%w: envelope: %v", ErrBadEvent, err)
	}
	if ev.Author == s.me {
		return nil, fmt.Errorf("%w: own sealed event arrived from the network", errNotAddressed)
	}
	var mine []byte
	for _, rk := range env.Keys {
		if bytes.Equal(rk.Recipient, s.me[:]) {
			mine = rk.Key
		}
	}
	if len(env.Keys) > 0 && mine == nil {
		return nil, errNotAddressed
	}
	author, err := look.person(ctx, s.store, ev.Author)
	if err != nil {
		return nil, err
	}
	sh, err := s.sharedKeyOf(ev.Author, author)
	if err != nil {
		// The author's box key arrives with their profile; until then
		// the event waits, as one with missing predecessors does.
		return nil, fmt.Errorf("%w: no box key for the author yet", ErrMissing)
	}
	var plain []byte
	if len(env.Keys) == 0 {
		if plain, err = seal.OpenShared(env.Ciphertext, sh); err != nil {
			return nil, fmt.Errorf("%w: envelope does not open: %v", ErrBadEvent, err)
		}
	} else {
		kb, err := seal.OpenShared(mine, sh)
		if err != nil || len(kb) != 32 {
			return nil, fmt.Errorf("%w: message key does not open", ErrBadEvent)
		}
		var key [32]byte
		copy(key[:], kb)
		plain, err = seal.OpenSecret(env.Ciphertext, &key)
		clear(key[:])
		if err != nil {
			return nil, fmt.Errorf("%w: envelope does not open: %v", ErrBadEvent, err)
		}
	}
	var sp pb.Sealed
	if err := proto.Unmarshal(plain, &sp); err != nil || sp.Body == nil {
		return nil, fmt.Errorf("%w: sealed content", ErrBadEvent)
	}
	if !bytes.Equal(sp.Conv, ev.Conv[:]) || !bytes.Equal(sp.Author, ev.Author[:]) || sp.Seq != ev.Seq {
		return nil, fmt.Errorf("%w: envelope replayed from another conversation or position", ErrBadEvent)
	}
	if BodyKind(sp.Body) != ev.Kind {
		return nil, fmt.Errorf("%w: sealed body is not a %v", ErrBadEvent, ev.Kind)
	}
	return sp.Body, nil
}
