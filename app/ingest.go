package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kite/app/pb"
)

// Refusal is why this device refuses a stranger's events; the network
// sends the reason code back so the sender can say it in plain words.
type Refusal string

const (
	RefuseNone      Refusal = ""
	RefuseNobody    Refusal = "nobody"    // the recipient accepts messages from no one new
	RefuseContacts  Refusal = "contacts"  // the recipient accepts messages from contacts only
	RefuseBlocked   Refusal = "blocked"   // the recipient blocked the sender
	RefusePending   Refusal = "pending"   // a request is already waiting for an answer
	RefuseTooLarge  Refusal = "too_large" // strangers may send short text only
	RefuseRateLimit Refusal = "rate"      // too many new requests this hour
)

// RefusalText is the plain sentence a sender sees for a refusal.
func RefusalText(r Refusal) string {
	switch r {
	case RefuseNobody:
		return "They are not accepting messages from new people."
	case RefuseContacts:
		return "They only accept messages from their contacts."
	case RefuseBlocked:
		return "You can't message this account."
	case RefusePending:
		return "Your message request is waiting for an answer."
	case RefuseTooLarge:
		return "Until they accept your request you can send short text messages only."
	case RefuseRateLimit:
		return "They are getting too many requests; try again later."
	}
	return ""
}

// RefusedError carries a Refusal through the error chain.
type RefusedError struct{ Reason Refusal }

func (e *RefusedError) Error() string { return "refused: " + RefusalText(e.Reason) }
func (e *RefusedError) Unwrap() error { return ErrRefused }

// Ingest applies events that arrived from the network, each already
// verified by DecodeEvent. It decodes (and for E2E opens) bodies, applies
// privacy and stranger limits, and stores the batch in one transaction.
func (s *Service) Ingest(ctx context.Context, evs []Event, path Path, via PeerKey) ([]Outcome, error) {
	out := make([]Outcome, len(evs))
	var batch []Incoming
	var idx []int
	look := &lookups{convs: map[ConvID]convLookup{}, people: map[PeerKey]personLookup{}}
	for i, ev := range evs {
		out[i].ID = ev.ID
		in, err := s.incoming(ctx, ev, look)
		if err != nil {
			out[i].Err = err
			continue
		}
		in.Path, in.Via = path, via
		batch = append(batch, in)
		idx = append(idx, i)
	}
	if len(batch) == 0 {
		return out, nil
	}
	res, err := s.store.Ingest(ctx, s.me, batch)
	if err != nil {
		return nil, fmt.Errorf("app: ingest: %w", err)
	}
	byConv := make(map[ConvID][]Event)
	var order []ConvID
	for j, r := range res {
		out[idx[j]].Err = r.Err
		if r.Err == nil {
			s.noteEphemeral(batch[j])
			ev := batch[j].Event
			if _, ok := byConv[ev.Conv]; !ok {
				order = append(order, ev.Conv)
			}
			byConv[ev.Conv] = append(byConv[ev.Conv], ev)
		}
	}
	for _, c := range order {
		s.bus.Publish(Update{Kind: UpdEvents, Conv: c, Events: byConv[c]})
	}
	return out, nil
}

// incoming decodes one event's body and checks who may send it here.
func (s *Service) incoming(ctx context.Context, ev Event, look *lookups) (Incoming, error) {
	in := Incoming{Event: ev}
	cl, err := s.convLookup(ctx, ev, look)
	if err != nil {
		return in, err
	}
	c, known := cl.c, cl.known
	if ev.Author != s.me {
		if err := s.admit(ctx, ev, c, known, look); err != nil {
			return in, err
		}
		if !known {
			// Later events of the batch find the conversation made by
			// this one: a new request takes one slot, not one per event.
			made := ConvBrief{Kind: Direct, Folder: Requests, E2E: ev.Conv == DirectConvID(s.me, ev.Author, true)}
			if ev.Kind == KindGroupCreate {
				made = ConvBrief{Kind: Group, Folder: Primary}
			}
			look.convs[ev.Conv] = convLookup{c: made, known: true}
		}
	}
	if ev.Body == nil {
		return in, nil
	}
	body, err := DecodeBody(ev.Kind, ev.Body)
	if err != nil {
		return in, err
	}
	if sealed, ok := body.Content.(*pb.Body_Sealed); ok {
		body, err = s.openBody(ctx, ev, sealed.Sealed, look)
		if errors.Is(err, errNotAddressed) {
			// Sealed to others only: stored and relayed unread, as
			// other members may still need it.
			return in, nil
		}
		if err != nil {
			return in, err
		}
	} else if known && c.E2E && sealedKind(ev.Kind) {
		return in, fmt.Errorf("%w: plaintext %v in an end-to-end conversation", ErrBadEvent, ev.Kind)
	}
	in.Body = body
	return in, nil
}

// convLookup is look.conv, from s.groups for a group already seen: a
// group message reaches every member at once, and this read was 8 % of
// the CPU of a fan-out to 250 members.
func (s *Service) convLookup(ctx context.Context, ev Event, look *lookups) (convLookup, error) {
	if c, ok := s.groups.Load(ev.Conv); ok {
		return convLookup{c: c.(ConvBrief), known: true}, nil
	}
	cl, err := look.conv(ctx, s.store, ev.Conv)
	if err != nil || !cl.known || cl.c.Kind != Group {
		return cl, err
	}
	s.groups.Store(ev.Conv, cl.c)
	return cl, nil
}

// isDirect reports whether ev is in a 1:1 conversation of this device
// with its author.
func (s *Service) isDirect(ev Event) bool {
	return ev.Conv == DirectConvID(s.me, ev.Author, false) || ev.Conv == DirectConvID(s.me, ev.Author, true)
}

// admit applies blocks, privacy and the stranger limits to an event by
// someone else.
func (s *Service) admit(ctx context.Context, ev Event, c ConvBrief, known bool, look *lookups) error {
	if !s.isDirect(ev) {
		return nil // groups: a blocked member's events are stored, and hidden
	}
	p, err := look.person(ctx, s.store, ev.Author)
	if err != nil {
		return err
	}
	if p.Blocked {
		return &RefusedError{Reason: RefuseBlocked}
	}
	if p.Contact {
		return nil
	}
	if !known {
		st, err := s.store.Settings(ctx)
		if err != nil {
			return fmt.Errorf("app: read settings: %w", err)
		}
		switch st.WhoCanMessage {
		case Nobody:
			return &RefusedError{Reason: RefuseNobody}
		case ContactsOnly:
			return &RefusedError{Reason: RefuseContacts}
		}
		if !s.takeRequestSlot() {
			return &RefusedError{Reason: RefuseRateLimit}
		}
	}
	if known && c.Folder != Requests {
		return nil
	}
	// A stranger's request: short text only until it is accepted.
	if ev.Kind != KindText || len(ev.Body) > MaxStrangerBytes {
		s.countRefused()
		return &RefusedError{Reason: RefuseTooLarge}
	}
	return nil
}

// takeRequestSlot counts a new request against the hourly cap.
func (s *Service) takeRequestSlot() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	keep := s.requests[:0]
	for _, t := range s.requests {
		if now.Sub(t) < time.Hour {
			keep = append(keep, t)
		}
	}
	s.requests = keep
	if len(s.requests) >= MaxNewRequests {
		s.refused++
		return false
	}
	s.requests = append(s.requests, now)
	return true
}

func (s *Service) countRefused() {
	s.mu.Lock()
	s.refused++
	s.mu.Unlock()
}

// RefusedRequests counts stranger events refused by the limits.
func (s *Service) RefusedRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Delivery is a peer's ack: it has stored these own events.
type Delivery struct {
	By  PeerKey
	IDs []EventID
}

// Delivered records peers' acks, all in one transaction.
func (s *Service) Delivered(ctx context.Context, ds []Delivery) error {
	convs, err := s.store.MarkDelivered(ctx, ds)
	if err != nil {
		return fmt.Errorf("app: mark delivered: %w", err)
	}
	for _, c := range convs {
		s.bus.Publish(Update{Kind: UpdConversation, Conv: c})
	}
	return nil
}

// ReceiveSeen applies a peer's seen position.
func (s *Service) ReceiveSeen(ctx context.Context, conv ConvID, peer PeerKey, upTo EventID) error {
	if peer == s.me {
		return nil
	}
	if err := s.store.MarkSeen(ctx, conv, peer, upTo); err != nil {
		return fmt.Errorf("app: receive seen: %w", err)
	}
	s.bus.Publish(Update{Kind: UpdSeen, Conv: conv, Peer: peer, Seen: upTo})
	return nil
}

// SetTyping tells the network this device is (not) typing in conv.
func (s *Service) SetTyping(conv ConvID, typing bool) {
	s.bus.Publish(Update{Kind: UpdTyping, Conv: conv, Peer: s.me, Typing: typing})
}

// ReceiveTyping applies a peer's typing signal.
func (s *Service) ReceiveTyping(conv ConvID, peer PeerKey, typing bool) {
	if peer != s.me {
		s.bus.Publish(Update{Kind: UpdTyping, Conv: conv, Peer: peer, Typing: typing})
	}
}

// SetPresence records what a peer says of its presence.
func (s *Service) SetPresence(peer PeerKey, p Presence) {
	s.mu.Lock()
	s.presence[peer] = p
	s.mu.Unlock()
	s.bus.Publish(Update{Kind: UpdPresence, Peer: peer})
}

// Presence is what is known of a peer's presence. With activity status
// off this device neither shows nor sees it.
func (s *Service) Presence(ctx context.Context, peer PeerKey) Presence {
	st, err := s.store.Settings(ctx)
	if err != nil || !st.ActivityStatus {
		return Presence{Hidden: true}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.presence[peer]
}

// Refused records that peer refused this device's events in conv, so the
// CLI and GUI can say why in plain words.
func (s *Service) Refused(conv ConvID, peer PeerKey, reason Refusal) {
	s.mu.Lock()
	if s.refusals == nil {
		s.refusals = make(map[ConvID]Refusal)
	}
	s.refusals[conv] = reason
	s.mu.Unlock()
	s.bus.Publish(Update{Kind: UpdRefused, Conv: conv, Peer: peer, Reason: reason})
}

// Refusal is the last refusal peers gave for conv, if any.
func (s *Service) Refusal(conv ConvID) Refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refusals[conv]
}

// NetworkChanged tells subscribers that connections or nearby peers changed.
func (s *Service) NetworkChanged() { s.bus.Publish(Update{Kind: UpdNetwork}) }

// lookups remember, for one incoming batch, what the store said of each
// conversation and author, so a batch of hundreds of events reads each
// once rather than once per event.
type lookups struct {
	convs  map[ConvID]convLookup
	people map[PeerKey]personLookup
}

type convLookup struct {
	c     ConvBrief
	known bool
}

// ConvBrief is what admitting an event needs of its conversation.
type ConvBrief struct {
	Kind   ConvKind
	E2E    bool
	Folder Folder
}

type personLookup struct {
	p Person
}

func (l *lookups) conv(ctx context.Context, st Store, id ConvID) (convLookup, error) {
	if cl, ok := l.convs[id]; ok {
		return cl, nil
	}
	c, err := st.ConvBrief(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return convLookup{}, fmt.Errorf("app: read conversation: %w", err)
	}
	cl := convLookup{c: c, known: err == nil}
	l.convs[id] = cl
	return cl, nil
}

func (l *lookups) person(ctx context.Context, st Store, k PeerKey) (Person, error) {
	if pl, ok := l.people[k]; ok {
		return pl.p, nil
	}
	p, err := st.Person(ctx, k)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Person{}, fmt.Errorf("app: read person: %w", err)
	}
	l.people[k] = personLookup{p: p}
	return p, nil
}
