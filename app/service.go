package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"kite/app/pb"
	"kite/crypto/keys"
)

// Limits of what people can send and do.
const (
	MaxTextRunes     = 4096
	MaxRecipients    = 15
	MaxGroupMembers  = 250
	MaxGroupName     = 100
	EditWindow       = 15 * time.Minute
	MaxStrangerBytes = 1024 // a body from a stranger before the request is accepted
	MaxNewRequests   = 20   // new requests accepted per hour, in total
)

// Params are what a Service is built from.
type Params struct {
	Store    Store
	Identity *keys.Identity
	Now      func() time.Time // defaults to time.Now
	Log      *slog.Logger     // defaults to slog.Default()
}

// Service carries out every user action and applies what the network
// delivers. It is the only writer of the store.
type Service struct {
	store Store
	id    *keys.Identity
	me    PeerKey
	now   func() time.Time
	log   *slog.Logger
	bus   Bus
	files files // blob store and transfers (files.go)

	mu          sync.Mutex // mu guards the fields below.
	presence    map[PeerKey]Presence
	shared      map[PeerKey]*[32]byte // precomputed box keys
	requests    []time.Time           // when recent requests were accepted, for the hourly cap
	refused     int                   // requests refused by the caps
	refusals    map[ConvID]Refusal    // the last refusal per conversation
	previews    PreviewFunc           // link previews when sending; nil is off
	mailboxHost bool                  // holds events for contacts (mailbox.go)

	eph ephemeralMemory // view-once media, in memory only (ephemeral.go)

	// groups holds what admission needs of the group conversations
	// (ConvID → ConvBrief) seen so far. It never goes stale: rows are
	// never deleted, a group's E2E flag is fixed when it is made, and
	// admission reads no folder of a group.
	groups sync.Map
}

// Presence is what a peer last said of itself.
type Presence struct {
	Online     bool      `json:"online"`
	LastActive time.Time `json:"last_active"`
	Hidden     bool      `json:"hidden"` // the peer does not share activity status
}

// New makes a Service.
func New(p Params) *Service {
	s := &Service{
		store:    p.Store,
		id:       p.Identity,
		me:       PeerKeyOf(p.Identity.SignPub),
		now:      p.Now,
		log:      p.Log,
		presence: make(map[PeerKey]Presence),
		shared:   make(map[PeerKey]*[32]byte),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Me is this device's identity.
func (s *Service) Me() PeerKey { return s.me }

// Identity is this device's key pair, for the network layer.
func (s *Service) Identity() *keys.Identity { return s.id }

// Subscribe returns a channel of the updates want accepts (all when it
// is nil) and its cancel function; see Bus.Subscribe.
func (s *Service) Subscribe(buffer int, want func(Update) bool) (<-chan Update, func()) {
	return s.bus.Subscribe(buffer, want)
}

// Observe calls f with every update in the publisher's goroutine; see
// Bus.Observe.
func (s *Service) Observe(f func(Update)) (stop func()) { return s.bus.Observe(f) }

// Run purges disappearing messages on time until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if err := s.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("purge expired messages", "err", err)
		}
		select {
		case <-ctx.Done():
			s.dropEphemeral()
			return nil
		case <-t.C:
			s.expireEphemeral()
		}
	}
}

// PurgeExpired purges disappearing messages whose time has come.
func (s *Service) PurgeExpired(ctx context.Context) error {
	convs, err := s.store.PurgeExpired(ctx, s.now())
	if err != nil {
		return fmt.Errorf("app: purge expired: %w", err)
	}
	for _, c := range convs {
		s.bus.Publish(Update{Kind: UpdConversation, Conv: c})
	}
	return nil
}

// checkText validates message text.
func checkText(text string) error {
	if !utf8.ValidString(text) {
		return Userf(ErrInvalid, "the message is not valid UTF-8 text")
	}
	if strings.TrimSpace(text) == "" {
		return Userf(ErrInvalid, "the message is empty")
	}
	if n := utf8.RuneCountInString(text); n > MaxTextRunes {
		return Userf(ErrTooLarge, "the message has %d characters; the limit is %d", n, MaxTextRunes)
	}
	return nil
}

// writable reads a conversation this device can write to.
func (s *Service) writable(ctx context.Context, conv ConvID) (Conversation, error) {
	c, err := s.store.Conversation(ctx, conv)
	if errors.Is(err, ErrNotFound) {
		return c, Userf(ErrNotFound, "no conversation %s", conv.String()[:12])
	}
	if err != nil {
		return c, fmt.Errorf("app: read conversation: %w", err)
	}
	if c.Left {
		return c, Userf(ErrNotMember, "you are no longer in this group")
	}
	if c.Kind == Direct {
		p, err := s.store.Person(ctx, c.Peer)
		if err == nil && p.Blocked {
			return c, Userf(ErrBlocked, "you blocked %s; unblock them to send", p.DisplayName())
		}
	}
	return c, nil
}

// append writes one of this device's own events and announces it.
func (s *Service) append(ctx context.Context, c Conversation, kind Kind, body *pb.Body) (Event, error) {
	return s.appendThen(ctx, c, kind, body, nil)
}

// appendThen is append with signed, when not nil, called with the signed
// event inside the write, before the event is committed and announced.
func (s *Service) appendThen(ctx context.Context, c Conversation, kind Kind, body *pb.Body, signed func(Event)) (Event, error) {
	plain, err := EncodeBody(body)
	if err != nil {
		return Event{}, fmt.Errorf("app: encode body: %w", err)
	}
	var recipients map[PeerKey]*[32]byte
	if c.E2E && sealedKind(kind) {
		if recipients, err = s.recipients(ctx, c); err != nil {
			return Event{}, err
		}
	}
	ev, err := s.store.Append(ctx, s.me, Draft{Conv: c.ID, Kind: kind, Body: body, Time: s.now()},
		func(pos Position) (Event, error) {
			raw := plain
			if recipients != nil {
				if raw, err = s.sealBody(c, pos, body, recipients); err != nil {
					return Event{}, err
				}
			}
			ev, err := SignEvent(s.id.SignPriv, c.ID, kind, raw, pos, s.now())
			if err == nil && signed != nil {
				signed(ev)
			}
			return ev, err
		})
	if err != nil {
		return Event{}, fmt.Errorf("app: append %v: %w", kind, err)
	}
	s.bus.Publish(Update{Kind: UpdEvents, Conv: c.ID, Events: []Event{ev}})
	return ev, nil
}

// Resolve turns what a person typed — a handle, a peer ID or a
// conversation ID — into a conversation, making the 1:1 if needed.
func (s *Service) Resolve(ctx context.Context, to string, e2e bool) (ConvID, error) {
	to = strings.TrimSpace(to)
	if to == "" {
		return ConvID{}, Userf(ErrInvalid, "say who to send to: a handle, a peer ID or a conversation ID")
	}
	if len(to) == 64 {
		if c, err := ParseConvID(to); err == nil {
			if _, err := s.store.Conversation(ctx, c); err != nil {
				return ConvID{}, Userf(ErrNotFound, "no conversation %s", to[:12])
			}
			return c, nil
		}
	}
	var peer PeerKey
	if k, err := ParsePeer(to); err == nil {
		peer = k
	} else {
		p, err := s.store.PersonByHandle(ctx, strings.TrimPrefix(to, "@"))
		switch {
		case errors.Is(err, ErrNotFound):
			return ConvID{}, Userf(ErrNotFound, "no one called %q: add them with their contact code first", to)
		case errors.Is(err, ErrAmbiguous):
			return ConvID{}, Userf(ErrAmbiguous, "several people are called %q: use their peer ID", to)
		case err != nil:
			return ConvID{}, fmt.Errorf("app: resolve %q: %w", to, err)
		}
		peer = p.Key
	}
	return s.Direct(ctx, peer, e2e)
}

// Direct returns the 1:1 conversation with peer, making it if needed.
func (s *Service) Direct(ctx context.Context, peer PeerKey, e2e bool) (ConvID, error) {
	if peer == s.me {
		return ConvID{}, Userf(ErrInvalid, "you cannot message yourself")
	}
	p, err := s.store.Person(ctx, peer)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return ConvID{}, fmt.Errorf("app: read person: %w", err)
	}
	if p.Blocked {
		return ConvID{}, Userf(ErrBlocked, "you blocked %s; unblock them to send", p.DisplayName())
	}
	if e2e && p.BoxKey.IsZero() {
		return ConvID{}, Userf(ErrInvalid, "no encryption key for %s yet: add their contact code first", peer)
	}
	id, err := s.store.CreateDirect(ctx, s.me, peer, e2e, Primary)
	if err != nil {
		return ConvID{}, fmt.Errorf("app: create conversation: %w", err)
	}
	return id, nil
}

func randomConvID() (ConvID, error) {
	var c ConvID
	_, err := rand.Read(c[:])
	return c, err
}
