package app

import "sync"

// UpdateKind says what changed.
type UpdateKind int

const (
	// UpdEvents: events were appended here or ingested; Events holds them
	// (the network pushes them on, the UI refreshes Conv).
	UpdEvents UpdateKind = iota + 1
	// UpdConversation: local state of Conv changed (mute, pin, seen …).
	UpdConversation
	// UpdPeople: a person changed (contact added, blocked, profile).
	UpdPeople
	// UpdTyping: Peer started (Typing) or stopped typing in Conv; Peer is
	// self for this device's own typing, which the network sends on.
	UpdTyping
	// UpdPresence: Peer's presence changed.
	UpdPresence
	// UpdSeen: Peer's seen position in Conv moved; Peer is self for this
	// device's own, which the network sends on when receipts are on.
	UpdSeen
	// UpdSettings: settings or profile changed.
	UpdSettings
	// UpdContactAdded: a contact code was added; the network dials Addrs.
	UpdContactAdded
	// UpdRefused: Peer refused this device's events in Conv for Reason.
	UpdRefused
	// UpdNetwork: connections or nearby peers changed.
	UpdNetwork
	// UpdTransfer: a blob transfer moved: Hash, Done and Total bytes, Err
	// when it failed.
	UpdTransfer
	// UpdEphemeral: view-once media of Event changed (arrived, opened,
	// expired).
	UpdEphemeral
	// UpdMailbox: what this device holds as a mailbox for Peer changed;
	// the network tells Peer when it is connected.
	UpdMailbox
)

// Update is one change, published after it is committed.
type Update struct {
	Kind   UpdateKind
	Conv   ConvID
	Peer   PeerKey
	Events []Event
	Typing bool
	Seen   EventID
	Addrs  []string
	Reason Refusal
	// Transfers.
	Hash  Hash
	Done  int64
	Total int64
	Err   error
	Event EventID
}

// Bus fans updates out to subscribers. A slow subscriber loses updates
// rather than blocking the sender: updates say what to re-read, they are
// never the only copy of anything.
type Bus struct {
	mu   sync.Mutex // mu guards the fields below.
	subs map[chan Update]struct{}
}

// Subscribe returns a channel of updates and a function that ends the
// subscription and closes the channel.
func (b *Bus) Subscribe(buffer int) (<-chan Update, func()) {
	ch := make(chan Update, buffer)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = make(map[chan Update]struct{})
	}
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, ch)
			b.mu.Unlock()
			close(ch)
		})
	}
}

// Publish sends u to every subscriber that has room.
func (b *Bus) Publish(u Update) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- u:
		default:
		}
	}
}
