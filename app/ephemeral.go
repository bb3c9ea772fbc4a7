package app

// View-once media (DESIGN.md §6). The bytes of a view-once or
// allow-one-replay photo or video live in memory only:
//
//   - The sender seals them once per recipient (NaCl box under the
//     precomputed shared key) and keeps the sealed copies in this
//     Service's memory, keyed by event ID and recipient. The log gets a
//     KindMedia event with the metadata and the SHA-256 of the plaintext,
//     never a thumbnail.
//   - The network moves a recipient's sealed copy over
//     /kite/ephemeral/1.0.0, to that recipient only, and hands it to
//     StoreEphemeral, which opens it, checks the hash and keeps the
//     plaintext in memory. The sender zeroes and drops the copy once the
//     recipient acknowledged it.
//   - ViewEphemeral hands the plaintext out for one view (two with
//     ModeAllowReplay); the caller's release zeroes it. The first view
//     appends a KindOpened event, so the sender sees "Opened".
//   - Nothing here is ever written to the store, a file or a log. A
//     restart forgets everything: an unviewed item is then "expired" on
//     both sides. So does EphemeralTTL, and Run's end zeroes every buffer.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"kite/app/pb"
	"kite/crypto/seal"
)

// Limits of view-once media.
const (
	// MaxEphemeralBytes is the largest view-once photo or video.
	MaxEphemeralBytes = 100 << 20
	// EphemeralTTL is how long view-once media waits in memory, on
	// either side, before it expires unviewed.
	EphemeralTTL = 7 * 24 * time.Hour
	// maxEphemeralMemory bounds all sealed copies and received plaintext
	// held at once.
	maxEphemeralMemory = 1 << 30
)

// States of view-once media, for the UI (EphemeralState).
const (
	// EphemeralWaiting: received, not in memory yet (being fetched, or
	// the sender is away); for the sender: not opened yet.
	EphemeralWaiting = "waiting"
	// EphemeralReady: in memory here, can be viewed.
	EphemeralReady = "ready"
	// EphemeralViewed: viewed (all views used); for the sender: opened
	// (in a group, by every recipient).
	EphemeralViewed = "viewed"
	// EphemeralExpired: gone unviewed (a restart, or EphemeralTTL).
	EphemeralExpired = "expired"
)

// EphemeralFetcher pulls a recipient's sealed copy of view-once media
// from its sender; the network implements it and registers with
// SetEphemeralFetcher. FetchEphemeral hands what it gets to
// StoreEphemeral and returns that call's error; when the sender no longer
// holds the copy it returns an error matching ErrTooLate.
type EphemeralFetcher interface {
	FetchEphemeral(ctx context.Context, msg EventID, from PeerKey, sealedSize int) error
}

// ephemeralMemory is the Service's view-once media.
type ephemeralMemory struct {
	mu      sync.Mutex // mu guards the fields below.
	fetcher EphemeralFetcher
	sent    map[EventID]*sentMedia
	got     map[EventID]*heldMedia
	held    int64 // bytes in sent and got
}

// sentMedia is view-once media this device sent.
type sentMedia struct {
	conv   ConvID
	at     time.Time
	to     map[PeerKey]bool   // every recipient
	sealed map[PeerKey][]byte // copies not yet delivered
}

// heldMedia is view-once media sent to this device.
type heldMedia struct {
	conv   ConvID
	from   PeerKey
	at     time.Time
	mode   int
	data   []byte // plaintext once fetched; nil before, and after the last view
	views  int    // views left once fetched
	viewed bool   // viewed at least once
	fetch  *fetchCall
}

// fetchCall is one fetch in flight; others asking wait for it.
type fetchCall struct {
	done chan struct{}
	err  error
}

// SetEphemeralFetcher registers the network's fetcher; nil removes it.
func (s *Service) SetEphemeralFetcher(f EphemeralFetcher) {
	s.eph.mu.Lock()
	s.eph.fetcher = f
	s.eph.mu.Unlock()
}

// SendEphemeral sends view-once media (m.Mode ModeViewOnce or
// ModeAllowReplay) to conv. data is sealed to every other member and held
// in this device's memory only; the event carries m's metadata (MIME,
// name, size, dimensions, duration, caption, reply) and the SHA-256 of
// data, never a thumbnail. SendEphemeral keeps no reference to data: the
// caller should clear it when done.
func (s *Service) SendEphemeral(ctx context.Context, conv ConvID, data []byte, m *pb.Media) (Event, error) {
	if m == nil || (m.GetMode() != ModeViewOnce && m.GetMode() != ModeAllowReplay) {
		return Event{}, Userf(ErrInvalid, "view-once media is sent to view once or to allow one replay")
	}
	if len(data) == 0 {
		return Event{}, Userf(ErrInvalid, "the file is empty")
	}
	if len(data) > MaxEphemeralBytes {
		return Event{}, Userf(ErrTooLarge, "view-once media is at most %d MiB; this is %.1f MiB",
			MaxEphemeralBytes>>20, float64(len(data))/(1<<20))
	}
	c, err := s.writable(ctx, conv)
	if err != nil {
		return Event{}, err
	}
	if len(m.GetReplyTo()) > 0 {
		id, err := eventIDOf(m.GetReplyTo())
		if err != nil {
			return Event{}, Userf(ErrInvalid, "the message to reply to is not a message ID")
		}
		if err := s.inConv(ctx, id, conv); err != nil {
			return Event{}, err
		}
	}
	to, err := s.recipients(ctx, c)
	if err != nil {
		return Event{}, err
	}
	if len(to) == 0 {
		return Event{}, Userf(ErrInvalid, "there is no one else in this conversation to send it to")
	}
	need := int64(len(to)) * int64(len(data)+seal.Overhead)
	s.eph.mu.Lock()
	full := s.eph.held+need > maxEphemeralMemory
	s.eph.mu.Unlock()
	if full {
		return Event{}, Userf(ErrTooLarge, "too much view-once media is waiting to be viewed; try again later")
	}
	sealed := make(map[PeerKey][]byte, len(to))
	rec := make(map[PeerKey]bool, len(to))
	for k, sh := range to {
		b, err := seal.BoxShared(data, sh)
		if err != nil {
			zeroAll(sealed)
			return Event{}, fmt.Errorf("app: seal view-once media: %w", err)
		}
		sealed[k], rec[k] = b, true
	}
	sum := sha256.Sum256(data)
	media := &pb.Media{
		Hash: sum[:], Size: uint64(len(data)), Mime: m.GetMime(), Name: m.GetName(),
		Width: m.GetWidth(), Height: m.GetHeight(), DurationMs: m.GetDurationMs(),
		Mode: m.GetMode(), Caption: m.GetCaption(), ReplyTo: m.GetReplyTo(),
		// No thumbnail: a view-once photo leaves no picture behind.
	}
	var id EventID
	ev, err := s.appendThen(ctx, c, KindMedia, &pb.Body{Content: &pb.Body_Media{Media: media}}, func(ev Event) {
		// Held before the event is committed and announced, so a
		// recipient that asks at once finds its copy.
		id = ev.ID
		s.eph.mu.Lock()
		if s.eph.sent == nil {
			s.eph.sent = make(map[EventID]*sentMedia)
		}
		s.eph.sent[ev.ID] = &sentMedia{conv: c.ID, at: s.now(), to: rec, sealed: sealed}
		s.eph.held += need
		s.eph.mu.Unlock()
	})
	if err != nil {
		s.eph.mu.Lock()
		if o := s.eph.sent[id]; o != nil && !id.IsZero() {
			s.eph.dropSent(id, o)
		}
		s.eph.mu.Unlock()
		zeroAll(sealed)
		return Event{}, err
	}
	s.bus.Publish(Update{Kind: UpdEphemeral, Conv: c.ID, Event: ev.ID, Peer: s.me})
	return ev, nil
}

// SealedEphemeral returns a copy of the sealed bytes of msg for to, for
// the network to send. Only the recipient a copy was sealed for gets it:
// anyone else gets ErrNotMember; a copy already delivered or expired,
// ErrTooLate.
func (s *Service) SealedEphemeral(msg EventID, to PeerKey) ([]byte, error) {
	s.eph.mu.Lock()
	defer s.eph.mu.Unlock()
	o := s.eph.sent[msg]
	switch {
	case o == nil:
		return nil, fmt.Errorf("app: view-once %s: %w: not held here (expired, or sent before a restart)", msg.Short(), ErrTooLate)
	case !o.to[to]:
		return nil, fmt.Errorf("app: view-once %s: %w: not sealed for %s", msg.Short(), ErrNotMember, to)
	case o.sealed[to] == nil:
		return nil, fmt.Errorf("app: view-once %s: %w: already delivered to %s", msg.Short(), ErrTooLate, to)
	}
	return bytes.Clone(o.sealed[to]), nil
}

// EphemeralDelivered zeroes and drops to's sealed copy of msg: to has
// acknowledged it.
func (s *Service) EphemeralDelivered(msg EventID, to PeerKey) {
	s.eph.mu.Lock()
	o := s.eph.sent[msg]
	if o != nil {
		s.eph.dropCopy(o, to)
	}
	s.eph.mu.Unlock()
	if o != nil {
		s.bus.Publish(Update{Kind: UpdEphemeral, Conv: o.conv, Event: msg, Peer: to})
	}
}

// noteEphemeral follows view-once media through ingested events: media
// sent to this device starts waiting (and the network fetches it);
// an "opened" of this device's media drops that recipient's copy.
func (s *Service) noteEphemeral(in Incoming) {
	ev := in.Event
	if ev.Author == s.me || in.Body == nil {
		return
	}
	switch ev.Kind {
	case KindMedia:
		md := in.Body.GetMedia()
		if md == nil || md.GetMode() == ModeKeep {
			return
		}
		s.eph.mu.Lock()
		if s.eph.got == nil {
			s.eph.got = make(map[EventID]*heldMedia)
		}
		if s.eph.got[ev.ID] == nil {
			s.eph.got[ev.ID] = &heldMedia{conv: ev.Conv, from: ev.Author, at: s.now(), mode: int(md.GetMode())}
		}
		s.eph.mu.Unlock()
		s.bus.Publish(Update{Kind: UpdEphemeral, Conv: ev.Conv, Event: ev.ID, Peer: ev.Author})
	case KindOpened:
		target, err := eventIDOf(in.Body.GetOpened().GetTarget())
		if err != nil {
			return
		}
		s.eph.mu.Lock()
		o := s.eph.sent[target]
		if o != nil {
			s.eph.dropCopy(o, ev.Author)
		}
		s.eph.mu.Unlock()
		if o != nil {
			s.bus.Publish(Update{Kind: UpdEphemeral, Conv: ev.Conv, Event: target, Peer: ev.Author})
		}
	}
}

// FetchEphemeral asks the network to pull view-once media sent to this
// device into memory. It returns nil once it is ready to view. The
// network calls it by itself when the media arrives; the UI calls it to
// try again.
func (s *Service) FetchEphemeral(ctx context.Context, msg EventID) error {
	m, err := s.ephemeralMessage(ctx, msg)
	if err != nil {
		return err
	}
	if m.Author == s.me {
		return Userf(ErrInvalid, "your own view-once %s is for the people you sent it to", noun(m))
	}
	s.eph.mu.Lock()
	h := s.eph.got[msg]
	switch {
	case h == nil:
		s.eph.mu.Unlock()
		return s.goneErr(ctx, m)
	case h.data != nil:
		s.eph.mu.Unlock()
		return nil
	case h.viewed:
		s.eph.mu.Unlock()
		return Userf(ErrTooLate, "you already viewed this %s", noun(m))
	case h.fetch != nil:
		fc := h.fetch
		s.eph.mu.Unlock()
		select {
		case <-fc.done:
			return fc.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f := s.eph.fetcher
	if f == nil {
		s.eph.mu.Unlock()
		return Userf(ErrNotFound, "this %s is waiting for the sender to be online", noun(m))
	}
	fc := &fetchCall{done: make(chan struct{})}
	h.fetch = fc
	s.eph.mu.Unlock()

	err = f.FetchEphemeral(ctx, msg, m.Author, int(m.Media.Size)+seal.Overhead)
	s.eph.mu.Lock()
	h.fetch = nil
	if errors.Is(err, ErrTooLate) && s.eph.got[msg] == h && h.data == nil {
		// The sender no longer holds it: it expired there.
		delete(s.eph.got, msg)
	}
	s.eph.mu.Unlock()
	switch {
	case err == nil:
	case errors.Is(err, ErrTooLate):
		err = Userf(ErrTooLate, "this %s has expired", noun(m))
		s.bus.Publish(Update{Kind: UpdEphemeral, Conv: m.Conv, Event: msg, Peer: m.Author})
	default:
		var ue *UserError
		if !errors.As(err, &ue) {
			err = &UserError{Msg: fmt.Sprintf("could not get the %s from its sender: %v", noun(m), err), Err: ErrNotFound}
		}
	}
	fc.err = err
	close(fc.done)
	return err
}

// StoreEphemeral takes the sealed copy of msg that the network fetched
// from its sender: it opens it with the shared key of from, checks its
// size and SHA-256 against the signed event, and keeps the plaintext in
// memory for viewing. Nothing else keeps it.
func (s *Service) StoreEphemeral(ctx context.Context, msg EventID, from PeerKey, sealed []byte) error {
	m, err := s.ephemeralMessage(ctx, msg)
	if err != nil {
		return err
	}
	if m.Author != from || from == s.me {
		return fmt.Errorf("app: view-once %s: %w: sent by %s, not %s", msg.Short(), ErrInvalid, m.Author, from)
	}
	if len(sealed) != int(m.Media.Size)+seal.Overhead {
		return fmt.Errorf("app: view-once %s: %w: %d sealed bytes for %d of media", msg.Short(), ErrBadEvent, len(sealed), m.Media.Size)
	}
	s.eph.mu.Lock()
	h := s.eph.got[msg]
	switch {
	case h == nil:
		s.eph.mu.Unlock()
		return fmt.Errorf("app: view-once %s: %w: not waiting here (arrived before a restart)", msg.Short(), ErrTooLate)
	case h.data != nil:
		s.eph.mu.Unlock()
		return nil
	case h.viewed:
		s.eph.mu.Unlock()
		return fmt.Errorf("app: view-once %s: %w: already viewed", msg.Short(), ErrTooLate)
	case s.eph.held+int64(m.Media.Size) > maxEphemeralMemory:
		s.eph.mu.Unlock()
		return fmt.Errorf("app: view-once %s: %w: too much view-once media in memory", msg.Short(), ErrTooLarge)
	}
	s.eph.mu.Unlock()
	sh, err := s.sharedKey(ctx, from)
	if err != nil {
		return err
	}
	plain, err := seal.OpenShared(sealed, sh)
	if err != nil {
		return fmt.Errorf("app: view-once %s: %w: does not open: %v", msg.Short(), ErrBadEvent, err)
	}
	if Hash(sha256.Sum256(plain)) != m.Media.Hash {
		clear(plain)
		return fmt.Errorf("app: view-once %s: %w: does not match its hash", msg.Short(), ErrBadEvent)
	}
	s.eph.mu.Lock()
	if s.eph.got[msg] != h || h.data != nil || h.viewed {
		s.eph.mu.Unlock()
		clear(plain)
		return nil
	}
	h.data, h.views = plain, 1
	if h.mode == ModeAllowReplay {
		h.views = 2
	}
	s.eph.held += int64(len(plain))
	s.eph.mu.Unlock()
	s.bus.Publish(Update{Kind: UpdEphemeral, Conv: m.Conv, Event: msg, Peer: from})
	return nil
}

// ViewEphemeral counts one view of view-once media sent to this device
// and returns its bytes, fetching them first if they are still waiting.
// release zeroes the bytes: call it as soon as the viewer closes. A
// view-once item is viewed once; an allow-one-replay item twice; after
// that, and for anything that arrived before a restart, it is a plain
// error. The first view appends an "opened" event at once (not at
// release), so the sender sees "Opened" even if the viewer never closes
// cleanly.
func (s *Service) ViewEphemeral(ctx context.Context, msg EventID) (data []byte, release func(), err error) {
	m, err := s.ephemeralMessage(ctx, msg)
	if err != nil {
		return nil, nil, err
	}
	if m.Author == s.me {
		return nil, nil, Userf(ErrInvalid, "your own view-once %s is for the people you sent it to", noun(m))
	}
	if s.EphemeralState(msg) == EphemeralWaiting {
		if err := s.FetchEphemeral(ctx, msg); err != nil {
			return nil, nil, err
		}
	}
	s.eph.mu.Lock()
	h := s.eph.got[msg]
	switch {
	case h == nil:
		s.eph.mu.Unlock()
		return nil, nil, s.goneErr(ctx, m)
	case h.data == nil && h.viewed:
		s.eph.mu.Unlock()
		return nil, nil, Userf(ErrTooLate, "you already viewed this %s", noun(m))
	case h.data == nil:
		s.eph.mu.Unlock()
		return nil, nil, Userf(ErrNotFound, "this %s is waiting for the sender to be online", noun(m))
	}
	first := !h.viewed
	h.viewed = true
	h.views--
	if h.views <= 0 {
		data, h.data = h.data, nil
		s.eph.held -= int64(len(data))
	} else {
		data = bytes.Clone(h.data)
	}
	s.eph.mu.Unlock()
	release = sync.OnceFunc(func() { clear(data) })
	if first {
		if err := s.markOpened(ctx, m); err != nil {
			s.log.Warn("view-once: append opened", "msg", msg.Short(), "err", err)
		}
	}
	s.bus.Publish(Update{Kind: UpdEphemeral, Conv: m.Conv, Event: msg, Peer: s.me})
	return data, release, nil
}

// markOpened appends this device's "opened" of m.
func (s *Service) markOpened(ctx context.Context, m Message) error {
	c, err := s.writable(ctx, m.Conv)
	if err != nil {
		return err
	}
	_, err = s.append(ctx, c, KindOpened, &pb.Body{Content: &pb.Body_Opened{Opened: &pb.Target{Target: m.ID[:]}}})
	return err
}

// EphemeralState is the state of view-once media for the UI: one of
// EphemeralWaiting, EphemeralReady, EphemeralViewed, EphemeralExpired;
// empty for a message that is not view-once media. For one's own media
// it is waiting (not opened yet), viewed (opened; in a group by every
// recipient) or expired (gone unopened: a restart or EphemeralTTL).
func (s *Service) EphemeralState(msg EventID) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := s.store.Message(ctx, msg)
	if err != nil || m.Media == nil || m.Media.Mode == ModeKeep {
		return ""
	}
	if m.Author == s.me {
		by, _ := s.OpenedBy(ctx, msg)
		s.eph.mu.Lock()
		o := s.eph.sent[msg]
		var all bool
		if o != nil {
			all = true
			for k := range o.to {
				all = all && containsKey(by, k)
			}
		}
		s.eph.mu.Unlock()
		switch {
		case o != nil && all, o == nil && len(by) > 0:
			return EphemeralViewed
		case o != nil:
			return EphemeralWaiting
		}
		return EphemeralExpired
	}
	s.eph.mu.Lock()
	h := s.eph.got[msg]
	var st string
	switch {
	case h == nil:
	case h.data != nil:
		st = EphemeralReady
	case h.viewed:
		st = EphemeralViewed
	default:
		st = EphemeralWaiting
	}
	s.eph.mu.Unlock()
	if st != "" {
		return st
	}
	if by, _ := s.OpenedBy(ctx, msg); containsKey(by, s.me) {
		return EphemeralViewed
	}
	return EphemeralExpired
}

// openedByStore is the part of a Store that lists who opened a message;
// app/store implements it. Without it, OpenedBy reads the log.
type openedByStore interface {
	OpenedBy(ctx context.Context, target EventID) ([]PeerKey, error)
}

// OpenedBy lists the members who opened view-once media msg, from the
// "opened" events in the log (in a 1:1, at most the peer).
func (s *Service) OpenedBy(ctx context.Context, msg EventID) ([]PeerKey, error) {
	m, err := s.message(ctx, msg)
	if err != nil {
		return nil, err
	}
	if st, ok := s.store.(openedByStore); ok {
		by, err := st.OpenedBy(ctx, msg)
		if err != nil {
			return nil, fmt.Errorf("app: opened by: %w", err)
		}
		return by, nil
	}
	vv, err := s.store.Versions(ctx, m.Conv)
	if err != nil {
		return nil, fmt.Errorf("app: opened by: %w", err)
	}
	var by []PeerKey
	for author := range vv {
		for after := uint64(0); ; {
			evs, err := s.store.EventsAfter(ctx, m.Conv, author, after, 1000)
			if err != nil {
				return nil, fmt.Errorf("app: opened by: %w", err)
			}
			for _, ev := range evs {
				after = ev.Seq
				if ev.Kind != KindOpened || ev.Body == nil {
					continue
				}
				b, err := DecodeBody(KindOpened, ev.Body)
				if err == nil && bytes.Equal(b.GetOpened().GetTarget(), msg[:]) && !containsKey(by, author) {
					by = append(by, author)
				}
			}
			if len(evs) < 1000 {
				break
			}
		}
	}
	return by, nil
}

// expireEphemeral zeroes and drops what has waited EphemeralTTL.
func (s *Service) expireEphemeral() {
	now := s.now()
	var ups []Update
	s.eph.mu.Lock()
	for id, o := range s.eph.sent {
		if now.Sub(o.at) > EphemeralTTL {
			s.eph.dropSent(id, o)
			ups = append(ups, Update{Kind: UpdEphemeral, Conv: o.conv, Event: id, Peer: s.me})
		}
	}
	for id, h := range s.eph.got {
		if now.Sub(h.at) > EphemeralTTL {
			s.eph.dropGot(id, h)
			ups = append(ups, Update{Kind: UpdEphemeral, Conv: h.conv, Event: id, Peer: h.from})
		}
	}
	s.eph.mu.Unlock()
	for _, u := range ups {
		s.bus.Publish(u)
	}
}

// dropEphemeral zeroes and forgets all view-once media, as the process
// ends.
func (s *Service) dropEphemeral() {
	s.eph.mu.Lock()
	defer s.eph.mu.Unlock()
	for id, o := range s.eph.sent {
		s.eph.dropSent(id, o)
	}
	for id, h := range s.eph.got {
		s.eph.dropGot(id, h)
	}
}

// dropCopy zeroes and drops to's copy of o. Call with mu held.
func (e *ephemeralMemory) dropCopy(o *sentMedia, to PeerKey) {
	if b, ok := o.sealed[to]; ok {
		e.held -= int64(len(b))
		clear(b)
		delete(o.sealed, to)
	}
}

// dropSent zeroes and forgets o. Call with mu held.
func (e *ephemeralMemory) dropSent(id EventID, o *sentMedia) {
	for k := range o.sealed {
		e.dropCopy(o, k)
	}
	delete(e.sent, id)
}

// dropGot zeroes and forgets h. Call with mu held.
func (e *ephemeralMemory) dropGot(id EventID, h *heldMedia) {
	e.held -= int64(len(h.data))
	clear(h.data)
	h.data = nil
	delete(e.got, id)
}

// ephemeralMessage reads msg and checks it is view-once media.
func (s *Service) ephemeralMessage(ctx context.Context, msg EventID) (Message, error) {
	m, err := s.message(ctx, msg)
	if err != nil {
		return m, err
	}
	if m.Media == nil || m.Media.Mode == ModeKeep {
		return m, Userf(ErrInvalid, "message %s is not view-once media", msg.Short())
	}
	if m.Unsent || m.Expired {
		return m, Userf(ErrTooLate, "this %s is gone", noun(m))
	}
	return m, nil
}

// goneErr says why media sent to this device is no longer here.
func (s *Service) goneErr(ctx context.Context, m Message) error {
	if by, _ := s.OpenedBy(ctx, m.ID); containsKey(by, s.me) {
		return Userf(ErrTooLate, "you already viewed this %s", noun(m))
	}
	return Userf(ErrTooLate, "this %s has expired", noun(m))
}

// noun names media in plain words.
func noun(m Message) string {
	if m.Media != nil && strings.HasPrefix(m.Media.MIME, "video/") {
		return "video"
	}
	return "photo"
}

func containsKey(ks []PeerKey, k PeerKey) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func zeroAll(m map[PeerKey][]byte) {
	for _, b := range m {
		clear(b)
	}
}

func eventIDOf(b []byte) (EventID, error) {
	if len(b) != len(EventID{}) {
		return EventID{}, fmt.Errorf("%w: an event ID is 32 bytes, not %d", ErrInvalid, len(b))
	}
	return EventID(b), nil
}
