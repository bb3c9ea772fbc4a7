package app

import (
	"context"
	"fmt"
)

// The methods below serve the network layer: it reads the logs through
// them to answer a peer's version vector, and never writes but through
// Ingest.

// Versions is conv's version vector: author → highest contiguous seq.
func (s *Service) Versions(ctx context.Context, conv ConvID) (map[PeerKey]uint64, error) {
	v, err := s.store.Versions(ctx, conv)
	if err != nil {
		return nil, fmt.Errorf("app: versions: %w", err)
	}
	return v, nil
}

// EventsAfter reads up to limit of author's events in conv after seq.
func (s *Service) EventsAfter(ctx context.Context, conv ConvID, author PeerKey, after uint64, limit int) ([]Event, error) {
	evs, err := s.store.EventsAfter(ctx, conv, author, after, limit)
	if err != nil {
		return nil, fmt.Errorf("app: events after: %w", err)
	}
	return evs, nil
}

// SharedConversations lists the conversations peer takes part in.
func (s *Service) SharedConversations(ctx context.Context, peer PeerKey) ([]ConvID, error) {
	cs, err := s.store.SharedConversations(ctx, peer)
	if err != nil {
		return nil, fmt.Errorf("app: shared conversations: %w", err)
	}
	return cs, nil
}

// Event reads one stored event.
func (s *Service) Event(ctx context.Context, id EventID) (Event, error) {
	return s.store.Event(ctx, id)
}

// Blocked reports whether peer is blocked, for the connection gater.
func (s *Service) Blocked(ctx context.Context, peer PeerKey) bool {
	p, err := s.store.Person(ctx, peer)
	return err == nil && p.Blocked
}

// IsContact reports whether peer is a contact, for resource limits.
func (s *Service) IsContact(ctx context.Context, peer PeerKey) bool {
	p, err := s.store.Person(ctx, peer)
	return err == nil && p.Contact
}

// Shares reports whether peer is in conv now: the other side of a 1:1 or
// a current group member. Live events go only to such peers.
func (s *Service) Shares(ctx context.Context, peer PeerKey, conv ConvID) bool {
	c, err := s.store.Conversation(ctx, conv)
	if err != nil {
		return false
	}
	if c.Kind == Direct {
		return c.Peer == peer
	}
	ms, err := s.store.Members(ctx, conv)
	if err != nil {
		return false
	}
	for _, m := range ms {
		if m.Key == peer {
			return true
		}
	}
	return false
}
