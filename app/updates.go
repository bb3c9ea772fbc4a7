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

// Bus fans updates out to subscribers and observers. A slow subscriber
// loses updates rather than blocking the sender: updates say what to
// re-read, they are never the only copy of anything.
type Bus struct {
	mu   sync.Mutex // mu guards the fields below.
	subs map[chan Update]func(Update) bool
	obs  map[*func(Update)]struct{}
}

// Subscribe returns a channel of the updates want accepts (all of them
// when want is nil) and a function that ends the subscription and closes
// the channel. want runs in the publisher's goroutine: a subscriber that
// says what it needs is not woken for the rest, and on a busy machine
// each needless wake-up delays the goroutines that matter.
func (b *Bus) Subscribe(buffer int, want func(Update) bool) (<-chan Update, func()) {
	if want == nil {
		want = func(Update) bool { return true }
	}
	ch := make(chan Update, buffer)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = make(map[chan Update]func(Update) bool)
	}
	b.subs[ch] = want
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

// Observe calls f with every update, in the publisher's goroutine, after
// the subscribers have theirs; stop ends it. f must return at once and
// must not publish. It is for work that has to start with no goroutine
// hand-over in between, such as pushing a message just sent to peers:
// handing it to another goroutine first costs a scheduling delay, which
// on a small machine is a good part of the whole trip.
func (b *Bus) Observe(f func(Update)) (stop func()) {
	key := &f
	b.mu.Lock()
	if b.obs == nil {
		b.obs = make(map[*func(Update)]struct{})
	}
	b.obs[key] = struct{}{}
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.obs, key)
		b.mu.Unlock()
	}
}

// Publish sends u to every subscriber that wants it and has room, then
// hands it to the observers. Observers come last so that the goroutine
// an observer wakes is the one the scheduler runs next.
func (b *Bus) Publish(u Update) {
	b.mu.Lock()
	for ch, want := range b.subs {
		if !want(u) {
			continue
		}
		select {
		case ch <- u:
		default:
		}
	}
	var obs []func(Update)
	for f := range b.obs {
		obs = append(obs, *f)
	}
	b.mu.Unlock()
	for _, f := range obs {
		f(u)
	}
}
