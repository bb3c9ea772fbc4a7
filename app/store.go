package app

import (
	"context"
	"time"

	"kite/app/pb"
)

// Store is everything the Service keeps on disk. app/store implements it on
// SQLite; every method is safe for concurrent use.
type Store interface {
	LogStore
	ViewStore
	PeopleStore
	StateStore
	MailboxStore
	Close() error
}

// Incoming is a verified event with its decoded (and, for E2E, opened)
// body. Body is nil when the event's body was purged or cannot be read
// here; the event is still stored and relayed.
type Incoming struct {
	Event Event
	Body  *pb.Body
	Path  Path
	Via   PeerKey // for PathRelay and PathMailbox
}

// Outcome is what Ingest did with one event.
type Outcome struct {
	ID  EventID
	Err error // nil: stored; ErrDuplicate, ErrFork, ErrMissing, ErrNotMember, ErrNotAdmin, ErrNotFound (unknown conversation), ErrBadEvent
}

// LogStore keeps the per-author signed logs and updates the derived tables
// (messages, reactions, members, receipts, summaries, search index) in the
// same transaction as each event.
//
// The rules it applies to every event, own or remote (DESIGN.md §3):
//   - (conv, author, seq) must follow the author's last stored event:
//     seq = last+1 and prev = that event's ID, else ErrMissing (the sender
//     retries). The same ID again is ErrDuplicate; a different event at a
//     stored seq is ErrFork, the first one kept and the author flagged.
//   - A conversation becomes known by its first event: a GroupCreate at seq
//     1 creates a group; an event whose conv equals DirectConvID(self,
//     author, e2e) creates that 1:1 (Folder Requests unless the author is a
//     contact). Anything else for an unknown conversation is ErrNotFound.
//   - Group events are valid only if the author may do them at the event's
//     display position (lamport, author, seq), judged from the group ops
//     stored before that position: any member may post, rename, theme and
//     set disappearing; admins add, remove and promote; create makes the
//     creator admin. ErrNotMember / ErrNotAdmin otherwise.
//   - Unsend: only by the target's author; purges the target's body,
//     text, search entry, thumbnail and reactions, in either arrival order.
//     Edit: only by the target's author; the newest edit by position wins.
//     Reaction: one per (author, target), newest by position wins; empty
//     removes. Vote: likewise per (voter, poll); -1 withdraws.
type LogStore interface {
	// Append writes one of self's own events: inside one write
	// transaction it reads self's next position in d.Conv, calls sign to
	// make the event, inserts it and applies it, and commits with
	// synchronous=FULL before returning.
	Append(ctx context.Context, self PeerKey, d Draft, sign func(Position) (Event, error)) (Event, error)
	// Ingest stores remote events, a batch in one transaction, oldest
	// first as given; one Outcome per event, in order.
	Ingest(ctx context.Context, self PeerKey, evs []Incoming) ([]Outcome, error)
	// Versions is the version vector of conv: author → highest
	// contiguous seq.
	Versions(ctx context.Context, conv ConvID) (map[PeerKey]uint64, error)
	// EventsAfter returns up to limit of author's events in conv with seq
	// > after, oldest first, bodies included unless purged.
	EventsAfter(ctx context.Context, conv ConvID, author PeerKey, after uint64, limit int) ([]Event, error)
	Event(ctx context.Context, id EventID) (Event, error)
	// SharedConversations lists the conversations peer takes part in
	// (is or was a member of, or the other side of a 1:1).
	SharedConversations(ctx context.Context, peer PeerKey) ([]ConvID, error)
	// PurgeExpired purges bodies whose disappearing time is at or before
	// now, as Unsend does, and returns the conversations touched.
	PurgeExpired(ctx context.Context, now time.Time) ([]ConvID, error)
}

// ViewStore reads the derived tables, in pages by keyset.
type ViewStore interface {
	Inbox(ctx context.Context, q InboxQuery) ([]Conversation, error)
	Conversation(ctx context.Context, id ConvID) (Conversation, error)
	// ConvBrief is the little of a conversation that admitting an event
	// needs, read without the joins of Conversation; ErrNotFound if none.
	ConvBrief(ctx context.Context, id ConvID) (ConvBrief, error)
	// Messages returns up to limit messages strictly before before (zero
	// Cursor: from the newest), in ascending display order. Messages
	// deleted for me and those before a cleared point are left out.
	Messages(ctx context.Context, conv ConvID, before Cursor, limit int) ([]Message, error)
	Message(ctx context.Context, id EventID) (Message, error)
	// MessageByPrefix resolves a hex prefix (at least 8 digits) of a
	// message ID; ErrAmbiguous when several match.
	MessageByPrefix(ctx context.Context, prefix string) (EventID, error)
	Members(ctx context.Context, conv ConvID) ([]Member, error)
	// Search runs a full-text query (terms are prefix-matched) over
	// message text, hashtags and captions, newest first; zero conv
	// searches everywhere.
	Search(ctx context.Context, query string, conv ConvID, limit int) ([]Message, error)
	// UnreadTotal counts unread messages in unmuted Primary conversations.
	UnreadTotal(ctx context.Context) (int, error)
}

// PeopleStore keeps what is known of peers.
type PeopleStore interface {
	Person(ctx context.Context, key PeerKey) (Person, error)
	PersonByHandle(ctx context.Context, handle string) (Person, error) // contacts first; ErrAmbiguous
	People(ctx context.Context, contactsOnly bool) ([]Person, error)
	// PutPerson inserts or updates a peer; update changes only the
	// fields it sets.
	PutPerson(ctx context.Context, key PeerKey, update func(*Person)) (Person, error)
}

// ConvState is the local, never synced, state of a conversation.
type ConvState struct {
	Folder     Folder
	Pinned     bool
	Archived   bool
	MutedUntil time.Time
}

// StateStore keeps local state: per-conversation settings, seen
// positions, delivery, settings and profile.
type StateStore interface {
	// CreateDirect makes the 1:1 conversation with peer if missing.
	CreateDirect(ctx context.Context, self, peer PeerKey, e2e bool, folder Folder) (ConvID, error)
	SetConvState(ctx context.Context, conv ConvID, update func(*ConvState)) error
	DeleteForMe(ctx context.Context, msg EventID) error
	// ClearConversation hides every message up to now on this device and
	// the conversation itself until a new message arrives.
	ClearConversation(ctx context.Context, conv ConvID) error
	// MarkSeen records that member has seen conv up to the message at
	// upTo (and earlier ones); it never moves backwards. For self it
	// recomputes the unread count.
	MarkSeen(ctx context.Context, conv ConvID, member PeerKey, upTo EventID) error
	// MarkDelivered records that peers have stored these own events and
	// returns the conversations where that is news.
	MarkDelivered(ctx context.Context, ds []Delivery) ([]ConvID, error)
	Settings(ctx context.Context) (Settings, error)
	SaveSettings(ctx context.Context, s Settings) error
	Profile(ctx context.Context) (Profile, error)
	SaveProfile(ctx context.Context, p Profile) error
	// SaveReport keeps a report of a conversation locally with the
	// reported messages.
	SaveReport(ctx context.Context, conv ConvID, reason string, msgs []EventID) error
}
