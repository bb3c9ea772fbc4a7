package app

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// A mailbox is an always-on Kite device (`kite serve --mailbox`) that
// holds events for people who named it in their profile while they are
// away (DESIGN.md §8). The owner's contacts deposit their own events there
// when they cannot reach the owner; the owner drains it on connect. The
// mailbox keeps events as they travel (signed, and sealed for E2E chats),
// so it learns who wrote to whom and when, never what.
//
// Three roles, each with its own methods here:
//   - owner: SetMailbox / ClearMailbox name the mailbox in the signed
//     profile; drained events are ingested with PathMailbox.
//   - host: Deposit, Held, Release and Holdings; it serves only its own
//     contacts as owners, within MailboxLimits.
//   - depositor: Undelivered picks what an away peer still lacks, and
//     ApplyReceipts turns the mailbox's receipts into Delivered or a
//     refusal.

// Mailbox limits, per owner served.
const (
	MaxHeldEvents     = 20_000    // events held for one owner
	MaxHeldBytes      = 256 << 20 // bytes held for one owner
	MaxHeldPerSender  = 5_000     // events one depositor may have waiting for one owner
	MaxDepositEvents  = 256       // events in one deposit
	HeldFor           = 30 * 24 * time.Hour
	maxMailboxAddrs   = 4
	maxMailboxAddrLen = 256
)

// MailboxRef names a person's mailbox: its peer key and where to dial it.
type MailboxRef struct {
	Key   PeerKey  `json:"key"`
	Addrs []string `json:"addrs,omitempty"`
}

// MailboxLimits bound what a mailbox holds for one owner.
type MailboxLimits struct {
	Events, Bytes, PerSender int
	Before                   time.Time // held before this are dropped
}

// HeldEvent is an event a mailbox holds: its encoding as it travels.
type HeldEvent struct {
	RID  int64 // arrival order at the mailbox
	ID   EventID
	From PeerKey // the depositor
	Data []byte
	At   time.Time
}

// MailboxReceipt says what became of a held event: stored by its owner
// (Refusal empty), or refused by the owner with a reason code.
type MailboxReceipt struct {
	ID      EventID `json:"id"`
	Conv    ConvID  `json:"conv"`
	Refusal Refusal `json:"refusal,omitempty"`
}

// Holding is what a mailbox holds for one owner.
type Holding struct {
	Owner  PeerKey   `json:"owner"`
	Handle string    `json:"handle"`
	Events int       `json:"events"`
	Bytes  int64     `json:"bytes"`
	Oldest time.Time `json:"oldest"`
}

// MailboxStore keeps what this device holds as a mailbox for others, and
// answers which own events an away peer still lacks.
type MailboxStore interface {
	// Hold keeps events deposited by from for owner within lim, dropping
	// what is older than lim.Before first. It returns the IDs now held,
	// including those held before; events over a limit are left out.
	Hold(ctx context.Context, owner PeerKey, evs []HeldEvent, lim MailboxLimits) ([]EventID, error)
	// Held returns events held for owner that arrived after the one
	// with RID after, oldest first, up to limit events and about
	// maxBytes.
	Held(ctx context.Context, owner PeerKey, after int64, limit, maxBytes int) ([]HeldEvent, error)
	// Release drops held events the owner has dealt with and keeps a
	// receipt for each one's depositor.
	Release(ctx context.Context, owner PeerKey, rs []MailboxReceipt) error
	// TakeReceipts returns and forgets up to limit receipts for
	// depositor about owner.
	TakeReceipts(ctx context.Context, depositor, owner PeerKey, limit int) ([]MailboxReceipt, error)
	// Holdings summarises what is held, per owner.
	Holdings(ctx context.Context) ([]Holding, error)
	// Undelivered returns author's events in conv that peer has not
	// acknowledged, appended after since, oldest first.
	Undelivered(ctx context.Context, conv ConvID, author, peer PeerKey, since time.Time, limit int) ([]Event, error)
}

// SetMailbox names peer, a contact, as this device's mailbox: the signed
// profile carries it (with the addresses known for it) to every contact.
func (s *Service) SetMailbox(ctx context.Context, peer PeerKey) (Profile, error) {
	if peer == s.me {
		return Profile{}, Userf(ErrInvalid, "your mailbox must be another device, one that stays online")
	}
	p, err := s.Person(ctx, peer)
	if err != nil {
		return Profile{}, err
	}
	if !p.Contact || p.Blocked {
		return Profile{}, Userf(ErrInvalid, "add the mailbox device as a contact first (kite contacts add CODE)")
	}
	ref := &MailboxRef{Key: peer, Addrs: mailboxAddrs(p.Addrs)}
	return s.changeProfile(ctx, func(pr *Profile) { pr.Mailbox = ref })
}

// ClearMailbox stops naming a mailbox.
func (s *Service) ClearMailbox(ctx context.Context) (Profile, error) {
	return s.changeProfile(ctx, func(pr *Profile) { pr.Mailbox = nil })
}

// Mailbox is this device's own mailbox, if it named one.
func (s *Service) Mailbox(ctx context.Context) (MailboxRef, bool) {
	p, err := s.Profile(ctx)
	if err != nil || p.Mailbox == nil {
		return MailboxRef{}, false
	}
	return *p.Mailbox, true
}

// mailboxAddrs keeps the addresses worth putting in a profile: dialable
// ones first as the store keeps them, bounded in number and length.
func mailboxAddrs(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		if len(out) == maxMailboxAddrs {
			break
		}
		if a != "" && len(a) <= maxMailboxAddrLen {
			out = append(out, a)
		}
	}
	return out
}

// checkMailboxRef validates a mailbox named in a peer's profile.
func checkMailboxRef(owner PeerKey, m *MailboxRef) error {
	if m == nil {
		return nil
	}
	if m.Key.IsZero() || m.Key == owner || len(m.Addrs) > maxMailboxAddrs {
		return fmt.Errorf("%w: profile mailbox", ErrBadEvent)
	}
	for _, a := range m.Addrs {
		if a == "" || len(a) > maxMailboxAddrLen || !strings.HasPrefix(a, "/") {
			return fmt.Errorf("%w: profile mailbox address", ErrBadEvent)
		}
	}
	return nil
}

// SetMailboxHost turns holding events for contacts on or off for this
// run (`kite serve --mailbox`).
func (s *Service) SetMailboxHost(on bool) {
	s.mu.Lock()
	s.mailboxHost = on
	s.mu.Unlock()
}

// MailboxHost reports whether this device holds events for its contacts.
func (s *Service) MailboxHost() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mailboxHost
}

// Serves reports whether this device is a mailbox for owner: it hosts
// mailboxes and owner is a contact it has not blocked.
func (s *Service) Serves(ctx context.Context, owner PeerKey) bool {
	if !s.MailboxHost() || owner == s.me {
		return false
	}
	p, err := s.store.Person(ctx, owner)
	return err == nil && p.Contact && !p.Blocked
}

// Deposit holds events from depositor for owner. They must already be
// verified (DecodeEvent). It returns the IDs held and the receipts
// waiting for depositor about owner. A mailbox refuses everything when it
// does not serve owner, or when depositor is blocked here.
func (s *Service) Deposit(ctx context.Context, depositor, owner PeerKey, evs []Event) (held []EventID, receipts []MailboxReceipt, err error) {
	if !s.Serves(ctx, owner) {
		return nil, nil, Userf(ErrRefused, "this device is not their mailbox")
	}
	if s.Blocked(ctx, depositor) {
		return nil, nil, Userf(ErrBlocked, "this mailbox does not take deposits from you")
	}
	if len(evs) > MaxDepositEvents {
		return nil, nil, Userf(ErrTooLarge, "at most %d events in one deposit", MaxDepositEvents)
	}
	if len(evs) > 0 {
		now := s.now()
		hs := make([]HeldEvent, len(evs))
		for i, ev := range evs {
			hs[i] = HeldEvent{ID: ev.ID, From: depositor, Data: ev.Marshal(), At: now}
		}
		held, err = s.store.Hold(ctx, owner, hs, MailboxLimits{
			Events: MaxHeldEvents, Bytes: MaxHeldBytes, PerSender: MaxHeldPerSender, Before: now.Add(-HeldFor)})
		if err != nil {
			return nil, nil, fmt.Errorf("app: hold deposit: %w", err)
		}
		s.bus.Publish(Update{Kind: UpdMailbox, Peer: owner})
	}
	receipts, err = s.store.TakeReceipts(ctx, depositor, owner, 4*MaxDepositEvents)
	if err != nil {
		return held, nil, fmt.Errorf("app: mailbox receipts: %w", err)
	}
	return held, receipts, nil
}

// Held returns a batch of what this mailbox holds for owner, oldest
// first, after the held event numbered after (0: from the start).
func (s *Service) Held(ctx context.Context, owner PeerKey, after int64, limit, maxBytes int) ([]HeldEvent, error) {
	if !s.Serves(ctx, owner) {
		return nil, Userf(ErrRefused, "this device is not your mailbox")
	}
	hs, err := s.store.Held(ctx, owner, after, limit, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("app: held events: %w", err)
	}
	return hs, nil
}

// Release drops events owner has taken from this mailbox, keeping a
// receipt for their depositors.
func (s *Service) Release(ctx context.Context, owner PeerKey, rs []MailboxReceipt) error {
	if len(rs) == 0 {
		return nil
	}
	if err := s.store.Release(ctx, owner, rs); err != nil {
		return fmt.Errorf("app: release held events: %w", err)
	}
	s.bus.Publish(Update{Kind: UpdMailbox, Peer: owner})
	return nil
}

// Holdings lists what this mailbox holds, per owner.
func (s *Service) Holdings(ctx context.Context) ([]Holding, error) {
	hs, err := s.store.Holdings(ctx)
	if err != nil {
		return nil, fmt.Errorf("app: holdings: %w", err)
	}
	for i := range hs {
		if p, err := s.store.Person(ctx, hs[i].Owner); err == nil {
			hs[i].Handle = p.Handle
		}
	}
	return hs, nil
}

// MailboxOf is the mailbox peer named in its signed profile, if any.
func (s *Service) MailboxOf(ctx context.Context, peer PeerKey) (MailboxRef, bool) {
	p, err := s.store.Person(ctx, peer)
	if err != nil || p.Mailbox == nil || p.Blocked {
		return MailboxRef{}, false
	}
	return *p.Mailbox, true
}

// Undelivered returns own events that peer has not acknowledged, from
// every conversation shared with it, oldest first within each, at most
// limit; only what a mailbox would still hold (appended within HeldFor).
func (s *Service) Undelivered(ctx context.Context, peer PeerKey, limit int) ([]Event, error) {
	convs, err := s.store.SharedConversations(ctx, peer)
	if err != nil {
		return nil, fmt.Errorf("app: undelivered: %w", err)
	}
	since := s.now().Add(-HeldFor)
	var out []Event
	for _, c := range convs {
		if len(out) >= limit {
			break
		}
		evs, err := s.store.Undelivered(ctx, c, s.me, peer, since, limit-len(out))
		if err != nil {
			return nil, fmt.Errorf("app: undelivered: %w", err)
		}
		out = append(out, evs...)
	}
	return out, nil
}

// ApplyReceipts records what a mailbox reports of events this device
// deposited for owner: stored ones count as delivered, refused ones are
// shown as the owner's refusal.
func (s *Service) ApplyReceipts(ctx context.Context, owner PeerKey, rs []MailboxReceipt) error {
	var stored []EventID
	for _, r := range rs {
		if r.Refusal == RefuseNone {
			stored = append(stored, r.ID)
			continue
		}
		s.Refused(r.Conv, owner, r.Refusal)
	}
	if len(stored) == 0 {
		return nil
	}
	return s.Delivered(ctx, []Delivery{{By: owner, IDs: stored}})
}
