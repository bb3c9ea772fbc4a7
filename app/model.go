package app

import (
	"fmt"
	"time"
)

// ConvKind tells a 1:1 conversation from a group.
type ConvKind int

const (
	Direct ConvKind = 1
	Group  ConvKind = 2
)

func (k ConvKind) String() string {
	if k == Group {
		return "group"
	}
	return "direct"
}

// Folder is where a conversation shows in the inbox.
type Folder string

const (
	Primary  Folder = "primary"
	General  Folder = "general"
	Requests Folder = "requests"
)

// ParseFolder accepts the folder names people type.
func ParseFolder(s string) (Folder, error) {
	switch f := Folder(s); f {
	case Primary, General, Requests:
		return f, nil
	case "":
		return Primary, nil
	}
	return "", Userf(ErrInvalid, "unknown folder %q: use primary, general or requests", s)
}

// MutedForever is the MutedUntil of a chat muted until turned off.
var MutedForever = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Disappearing message settings, in seconds; AfterSeen purges a message
// once it has been seen.
const (
	DisappearOff       int64 = 0
	DisappearAfterSeen int64 = -1
)

// Preview is the last visible message of a conversation, for the inbox.
type Preview struct {
	Author PeerKey   `json:"author"`
	Kind   Kind      `json:"kind"`
	Text   string    `json:"text"` // text, or a short description ("sent a photo")
	Time   time.Time `json:"time"`
	Unsent bool      `json:"unsent"`
}

// Conversation is one row of the inbox, read from the per-conversation
// summary the store keeps, never from the messages.
type Conversation struct {
	ID         ConvID    `json:"id"`
	Kind       ConvKind  `json:"kind"`
	E2E        bool      `json:"e2e"`
	Title      string    `json:"title"` // group name, or the peer's name or handle
	Peer       PeerKey   `json:"peer"`  // direct only
	Folder     Folder    `json:"folder"`
	Pinned     bool      `json:"pinned"`
	Archived   bool      `json:"archived"`
	MutedUntil time.Time `json:"muted_until,omitzero"`
	Theme      string    `json:"theme"`
	Disappear  int64     `json:"disappear"` // seconds; see DisappearOff
	Last       *Preview  `json:"last,omitempty"`
	LastAt     time.Time `json:"last_at"` // inbox order
	Unread     int       `json:"unread"`
	Members    int       `json:"members"`
	Left       bool      `json:"left"` // this device is no longer a member
}

// Muted reports whether the conversation is muted at now.
func (c Conversation) Muted(now time.Time) bool { return now.Before(c.MutedUntil) }

// Member is a group member, or one side of a 1:1.
type Member struct {
	Key   PeerKey `json:"key"`
	Admin bool    `json:"admin"`
	Name  string  `json:"name"`
}

// Reaction is one person's current reaction to a message.
type Reaction struct {
	Author PeerKey `json:"author"`
	Emoji  string  `json:"emoji"`
}

// Share is a shared contact card, location, hashtag or link.
type Share struct {
	Type      string  `json:"type"` // contact, location, hashtag, link
	Code      string  `json:"code,omitempty"`
	Name      string  `json:"name,omitempty"`
	Latitude  float64 `json:"latitude,omitempty"`
	Longitude float64 `json:"longitude,omitempty"`
	Label     string  `json:"label,omitempty"`
	Hashtag   string  `json:"hashtag,omitempty"`
	Link      string  `json:"link,omitempty"`
	Caption   string  `json:"caption,omitempty"`
	// A link's preview, fetched by the sender (title, description and a
	// small JPEG); a text message with a link carries one too.
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Image       []byte `json:"image,omitempty"`
}

// PollOption is one answer of a poll with its current count.
type PollOption struct {
	Text  string `json:"text"`
	Votes int    `json:"votes"`
}

// Poll is a poll with its results. Mine is this device's vote, -1 for none.
type Poll struct {
	Question string       `json:"question"`
	Options  []PollOption `json:"options"`
	Mine     int          `json:"mine"`
}

// Media describes a photo, video, voice message or file. The bytes are a
// blob (or, for view-once, held in memory); the thumbnail travels inline.
type Media struct {
	Hash       Hash   `json:"hash"`
	Size       uint64 `json:"size"`
	MIME       string `json:"mime"`
	Name       string `json:"name"`
	Width      int    `json:"width,omitempty"`
	Height     int    `json:"height,omitempty"`
	DurationMs int    `json:"duration_ms,omitempty"`
	Thumbnail  []byte `json:"-"`
	Mode       int    `json:"mode"` // 0 keep, 1 view once, 2 allow one replay
	Caption    string `json:"caption,omitempty"`
	Opened     bool   `json:"opened"`
}

// Path says how an event reached this device.
type Path string

const (
	PathLocal   Path = "local"   // written here
	PathLAN     Path = "lan"     // direct from its author on the LAN
	PathWAN     Path = "wan"     // direct from its author across the internet
	PathRelay   Path = "relay"   // forwarded by another peer (Via names it)
	PathMailbox Path = "mailbox" // drained from a mailbox (Via names it)
)

// Status is the delivery state of one's own message.
type Status string

const (
	StatusSending   Status = "sending"
	StatusDelivered Status = "delivered"
	StatusSeen      Status = "seen"
)

// Message is one row of a conversation view. Group operations show as
// messages too, with System set.
type Message struct {
	ID        EventID    `json:"id"`
	Conv      ConvID     `json:"conv"`
	Author    PeerKey    `json:"author"`
	Seq       uint64     `json:"seq"`
	Lamport   uint64     `json:"lamport"`
	Time      time.Time  `json:"time"`
	Kind      Kind       `json:"kind"`
	Text      string     `json:"text"` // current text, after edits; empty once unsent or expired
	ReplyTo   EventID    `json:"reply_to,omitzero"`
	Forwarded bool       `json:"forwarded"`
	Edited    bool       `json:"edited"`
	Unsent    bool       `json:"unsent"`
	Expired   bool       `json:"expired"` // purged by disappearing messages
	System    string     `json:"system,omitempty"`
	Reactions []Reaction `json:"reactions,omitempty"`
	Share     *Share     `json:"share,omitempty"`
	Poll      *Poll      `json:"poll,omitempty"`
	Media     *Media     `json:"media,omitempty"`
	Status    Status     `json:"status,omitempty"` // own messages
	SeenBy    int        `json:"seen_by"`          // own messages: members who have seen it
	Path      Path       `json:"path"`
	Via       PeerKey    `json:"via,omitzero"`
	ExpiresAt time.Time  `json:"expires_at,omitzero"`
}

// Cursor is a position in display order, (lamport, author, seq).
type Cursor struct {
	Lamport uint64
	Author  PeerKey
	Seq     uint64
}

// CursorOf is the display position of m.
func CursorOf(m Message) Cursor { return Cursor{Lamport: m.Lamport, Author: m.Author, Seq: m.Seq} }

// Person is what this device knows of a peer.
type Person struct {
	Key        PeerKey  `json:"key"`
	Handle     string   `json:"handle"`
	Name       string   `json:"name"`
	Bio        string   `json:"bio"`
	Avatar     Hash     `json:"avatar"`
	BoxKey     Hash     `json:"box_key"`
	Addrs      []string `json:"addrs"`
	Contact    bool     `json:"contact"`
	Blocked    bool     `json:"blocked"`
	Restricted bool     `json:"restricted"`
	Version    uint64   `json:"version"` // of the signed profile this came from
	KeyChanged bool     `json:"key_changed"`
	// Mailbox is where this peer's contacts deposit events while it is
	// away, from its signed profile.
	Mailbox *MailboxRef `json:"mailbox,omitempty"`
}

// DisplayName is the name to show for p.
func (p Person) DisplayName() string {
	switch {
	case p.Name != "":
		return p.Name
	case p.Handle != "":
		return "@" + p.Handle
	}
	return p.Key.String()[:16] + "…"
}

// WhoCanMessage is the privacy setting for new conversations.
type WhoCanMessage string

const (
	Everyone     WhoCanMessage = "everyone"
	ContactsOnly WhoCanMessage = "contacts"
	Nobody       WhoCanMessage = "nobody"
)

// Settings are this device's preferences.
type Settings struct {
	WhoCanMessage  WhoCanMessage `json:"who_can_message"`
	ActivityStatus bool          `json:"activity_status"`
	ReadReceipts   bool          `json:"read_receipts"`
	Notifications  bool          `json:"notifications"`
	Sound          bool          `json:"sound"`
	PauseAll       bool          `json:"pause_all"`
	Appearance     string        `json:"appearance"` // light, dark, system
	LinkPreviews   bool          `json:"link_previews"`
}

// DefaultSettings are what a new device starts with.
var DefaultSettings = Settings{
	WhoCanMessage: Everyone, ActivityStatus: true, ReadReceipts: true,
	Notifications: true, Sound: true, Appearance: "system", LinkPreviews: true,
}

// Profile is this device's public face.
type Profile struct {
	Handle  string `json:"handle"`
	Name    string `json:"name"`
	Bio     string `json:"bio"`
	Avatar  Hash   `json:"avatar"`
	Version uint64 `json:"version"`
	// Mailbox is the device that holds events for this one while it is
	// away (nil: none).
	Mailbox *MailboxRef `json:"mailbox,omitempty"`
}

// InboxQuery selects a page of the inbox. Pinned conversations come first
// on the first page (zero Before); the rest are newest first.
type InboxQuery struct {
	Folder     Folder
	Archived   bool // the archive instead of the folder
	UnreadOnly bool
	Before     *InboxCursor
	Limit      int
}

// InboxCursor is the position of the last row of the previous page.
type InboxCursor struct {
	LastAt time.Time
	ID     ConvID
}

// HumanBytes writes a size for people: 512 B, 1.5 MB, 2.1 GB.
func HumanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
