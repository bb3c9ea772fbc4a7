package node

import (
	"context"

	"kite/app"
)

// Service is the part of the domain the network needs; *app.Service
// satisfies it. It is split by concern so each piece stays small.
type Service interface {
	Replica
	Directory
	Signals
	Files
	Mailboxes
}

// Replica reads the logs to answer peers and applies what they send.
type Replica interface {
	Me() app.PeerKey
	Subscribe(buffer int, want func(app.Update) bool) (<-chan app.Update, func())
	Observe(f func(app.Update)) (stop func())
	SharedConversations(ctx context.Context, peer app.PeerKey) ([]app.ConvID, error)
	Shares(ctx context.Context, peer app.PeerKey, conv app.ConvID) bool
	Versions(ctx context.Context, conv app.ConvID) (map[app.PeerKey]uint64, error)
	EventsAfter(ctx context.Context, conv app.ConvID, author app.PeerKey, after uint64, limit int) ([]app.Event, error)
	Ingest(ctx context.Context, evs []app.Event, path app.Path, via app.PeerKey) ([]app.Outcome, error)
	Delivered(ctx context.Context, ds []app.Delivery) error
	Refused(conv app.ConvID, peer app.PeerKey, reason app.Refusal)
}

// Directory is what is known of people: blocks, contacts, profiles.
type Directory interface {
	Blocked(ctx context.Context, peer app.PeerKey) bool
	IsContact(ctx context.Context, peer app.PeerKey) bool
	People(ctx context.Context, contactsOnly bool) ([]app.Person, error)
	Person(ctx context.Context, key app.PeerKey) (app.Person, error)
	Profile(ctx context.Context) (app.Profile, error)
	SignedProfile(ctx context.Context) (data, sig []byte, err error)
	ApplyProfile(ctx context.Context, from app.PeerKey, data, sig []byte) (app.Person, error)
	NetworkChanged()
}

// Signals applies ephemeral state: typing, presence, seen positions.
type Signals interface {
	Settings(ctx context.Context) (app.Settings, error)
	Conversation(ctx context.Context, id app.ConvID) (app.Conversation, error)
	ReceiveTyping(conv app.ConvID, peer app.PeerKey, typing bool)
	ReceiveSeen(ctx context.Context, conv app.ConvID, peer app.PeerKey, upTo app.EventID) error
	SetPresence(peer app.PeerKey, p app.Presence)
}

var _ Service = (*app.Service)(nil)
