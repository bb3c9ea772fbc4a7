package ui

import (
	"context"
	"time"

	"kite/app"
)

// The interfaces below are the parts of *app.Service the window uses,
// declared here, where they are consumed. Service is all of them.

// Reader reads what the window shows.
type Reader interface {
	Me() app.PeerKey
	Subscribe(buffer int, want func(app.Update) bool) (<-chan app.Update, func())
	Inbox(ctx context.Context, q app.InboxQuery) ([]app.Conversation, error)
	Conversation(ctx context.Context, id app.ConvID) (app.Conversation, error)
	Messages(ctx context.Context, conv app.ConvID, before app.Cursor, limit int) ([]app.Message, error)
	Message(ctx context.Context, id app.EventID) (app.Message, error)
	Search(ctx context.Context, query string, conv app.ConvID, limit int) ([]app.Message, error)
	Members(ctx context.Context, conv app.ConvID) ([]app.Member, error)
	UnreadTotal(ctx context.Context) (int, error)
	Presence(ctx context.Context, peer app.PeerKey) app.Presence
	Refusal(conv app.ConvID) app.Refusal
}

// Sender writes messages.
type Sender interface {
	SendText(ctx context.Context, conv app.ConvID, text string, replyTo app.EventID) (app.Event, error)
	React(ctx context.Context, msg app.EventID, emoji string) (app.Event, error)
	Edit(ctx context.Context, msg app.EventID, text string) (app.Event, error)
	Unsend(ctx context.Context, msg app.EventID) (app.Event, error)
	DeleteForMe(ctx context.Context, msg app.EventID) error
	Forward(ctx context.Context, msg app.EventID, tos []string) ([]app.Event, error)
	MarkSeen(ctx context.Context, conv app.ConvID, upTo app.EventID) error
	SetTyping(conv app.ConvID, typing bool)
}

// Chats changes a conversation's settings.
type Chats interface {
	Direct(ctx context.Context, peer app.PeerKey, e2e bool) (app.ConvID, error)
	Mute(ctx context.Context, conv app.ConvID, d time.Duration) error
	Pin(ctx context.Context, conv app.ConvID, on bool) error
	Archive(ctx context.Context, conv app.ConvID, on bool) error
	Move(ctx context.Context, conv app.ConvID, f app.Folder) error
	SetTheme(ctx context.Context, conv app.ConvID, theme string) (app.Event, error)
	SetDisappearing(ctx context.Context, conv app.ConvID, seconds int64) (app.Event, error)
	Report(ctx context.Context, conv app.ConvID, reason string) error
	DeleteConversation(ctx context.Context, conv app.ConvID) error
}

// Groups changes groups.
type Groups interface {
	CreateGroup(ctx context.Context, name string, members []app.PeerKey, e2e bool) (app.ConvID, error)
	RenameGroup(ctx context.Context, conv app.ConvID, name string) (app.Event, error)
	AddMembers(ctx context.Context, conv app.ConvID, add []app.PeerKey) (app.Event, error)
	RemoveMembers(ctx context.Context, conv app.ConvID, remove []app.PeerKey) (app.Event, error)
	PromoteAdmin(ctx context.Context, conv app.ConvID, who app.PeerKey) (app.Event, error)
	LeaveGroup(ctx context.Context, conv app.ConvID) (app.Event, error)
}

// People knows peers and requests.
type People interface {
	People(ctx context.Context, contactsOnly bool) ([]app.Person, error)
	Person(ctx context.Context, key app.PeerKey) (app.Person, error)
	AddContact(ctx context.Context, code string) (app.Person, error)
	Block(ctx context.Context, peer app.PeerKey) error
	Unblock(ctx context.Context, peer app.PeerKey) error
	Restrict(ctx context.Context, peer app.PeerKey, on bool) error
	AcceptRequest(ctx context.Context, conv app.ConvID) error
	DeleteRequest(ctx context.Context, conv app.ConvID) error
	BlockRequest(ctx context.Context, conv app.ConvID) error
	AcknowledgeKey(ctx context.Context, peer app.PeerKey) error
}

// Account is this device's profile and settings.
type Account interface {
	Profile(ctx context.Context) (app.Profile, error)
	SetProfile(ctx context.Context, handle, name, bio string) (app.Profile, error)
	ContactCode(ctx context.Context, addrs []string) (string, error)
	Settings(ctx context.Context) (app.Settings, error)
	UpdateSettings(ctx context.Context, update func(*app.Settings)) (app.Settings, error)
}

// Media sends, opens and saves photos, videos, voice messages and files,
// and shows view-once media.
type Media interface {
	SendFile(ctx context.Context, conv app.ConvID, path string, opts app.MediaOptions) (app.Event, error)
	SaveMedia(ctx context.Context, msg app.EventID, dst string) error
	MediaFile(ctx context.Context, msg app.EventID) (string, error)
	Transfers() []app.Transfer
	ViewEphemeral(ctx context.Context, msg app.EventID) (data []byte, release func(), err error)
	EphemeralState(msg app.EventID) string
	FetchEphemeral(ctx context.Context, msg app.EventID) error
}

// Avatars reads and sets profile pictures. Avatar fails (app.ErrNotFound)
// for someone without one: the window shows initials then.
type Avatars interface {
	SetAvatar(ctx context.Context, picture []byte) (app.Profile, error)
	Avatar(ctx context.Context, key app.PeerKey) ([]byte, error)
}

// Service is everything the window asks of the domain; *app.Service
// satisfies it.
type Service interface {
	Reader
	Sender
	Chats
	Groups
	People
	Account
	Media
	Avatars
}

var _ Service = (*app.Service)(nil)

// Peer is a connected or nearby peer as the network sees it.
type Peer struct {
	Key       app.PeerKey
	Name      string // handle or name the peer announced, if any
	Addr      string // the address in use, or the first one known
	Transport string // "LAN", "QUIC", "TCP", "relay" …
}

// Network is what the window shows of the node; cmd/kite adapts
// sync/node to it. It may be nil (no network).
type Network interface {
	Addrs() []string // this device's listen addresses
	Peers() []Peer   // connected now
	Nearby() []Peer  // found on the LAN (mDNS), connected or not
}
