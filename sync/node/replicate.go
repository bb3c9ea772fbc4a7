package node

// /kite/sync/1.0.0 — one long-lived stream per connected pair; the peer
// with the smaller peer ID opens it (an extra stream from either side
// replaces the previous one).
//
//	A (smaller ID)                          B
//	  |  open /kite/sync/1.0.0                |
//	  |--- Hello{conv → [(author, seq)]} ---->|  both send Hello at once,
//	  |<-- Hello{conv → [(author, seq)]} -----|  for every shared conversation
//	  |                                       |
//	  |--- Events[≤256, ≤512 KiB] ----------->|  what B lacks, oldest first
//	  |<-- Events[…] -------------------------|  (lamport order across authors)
//	  |                                       |  Service.Ingest: one transaction
//	  |<-- Ack{ids} / Refused{conv,reason} ---|  after commit
//	  |  Service.Delivered / Service.Refused  |
//	  |                                       |
//	  |<-- Want{conv, have} ------------------|  an event's predecessors are
//	  |--- Events[…] ------------------------>|  missing: ask from what B has
//	  |                                       |
//	  |--- Events (live, as appended) ------->|  own events, and in groups
//	  |<-- Events (live) ---------------------|  other members' (forwarding)
//	  |--- Hello (every Resync) ------------->|  anti-entropy and keep-alive
//
// Each read has an idle deadline of three Resync periods; each write a
// deadline of a minute. A frame over 1 MiB, an event that does not verify
// or an unexpected message resets the stream; the peer is redialled later
// as any other.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"kite/app"
	"kite/sync/wire"
)

const (
	maxBatchEvents = 256
	maxBatchBytes  = 512 << 10
	maxFrameEvents = 4096 // events in one received frame
	maxHelloBytes  = 512 << 10
	maxPending     = 1 << 12 // queued control frames or requests before the peer is cut off
	maxUnacked     = 1 << 17 // sent events remembered for their ack
	writeTimeout   = time.Minute
	wantEvery      = 2 * time.Second // at most one Want per conversation this often
)

// deadliner is what a session needs of a stream: network.Stream and
// net.Conn both are one.
type deadliner interface {
	io.ReadWriter
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// session is one sync stream with one peer. Three goroutines share it:
// the reader (ingests, queues acks and requests), the pusher (serves
// Hello and Want, pushes live events) and the writer (the only one that
// writes to the stream; control frames first).
type session struct {
	n      *Node
	rw     deadliner
	peer   peer.ID
	key    app.PeerKey
	path   app.Path // for events authored by the peer
	idle   time.Duration
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	data     chan *wire.Frame // pusher → writer
	inbox    chan []app.Event // reader → ingester: verified batches, in order
	live     chan liveEvents  // node update loop → pusher
	kick     chan struct{}    // the pusher has requests or must resync
	ctrlKick chan struct{}    // the writer has control frames

	// shared caches SharedConversations(peer); the pusher owns it.
	shared   map[app.ConvID]bool
	sharedAt time.Time
	// wants is when a Want was last sent per conversation; the
	// ingester owns it.
	wants map[app.ConvID]time.Time

	mu     sync.Mutex // mu guards the fields below.
	ctrl   []*wire.Frame
	reqs   []*wire.Frame
	resync bool
	sent   map[app.EventID]app.PeerKey // sent, not yet acked → author
}

type liveEvents struct {
	conv app.ConvID
	evs  []app.Event
}

func (n *Node) newSession(rw deadliner, p peer.ID, key app.PeerKey, path app.Path) *session {
	ctx, cancel := context.WithCancel(n.ctx)
	return &session{
		n: n, rw: rw, peer: p, key: key, path: path,
		idle: 3*n.resync + 10*time.Second,
		ctx:  ctx, cancel: cancel, done: make(chan struct{}),
		data:     make(chan *wire.Frame, 4),
		inbox:    make(chan []app.Event, 2),
		live:     make(chan liveEvents, 256),
		kick:     make(chan struct{}, 1),
		ctrlKick: make(chan struct{}, 1),
		wants:    make(map[app.ConvID]time.Time),
		sent:     make(map[app.EventID]app.PeerKey),
	}
}

func (s *session) stop() { s.cancel() }

// run serves the session until the peer closes it, an error, or stop.
func (s *session) run() error {
	defer close(s.done)
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	wg.Add(4)
	go func() { defer wg.Done(); errc <- s.writeLoop() }()
	go func() { defer wg.Done(); errc <- s.pushLoop() }()
	go func() {
		defer wg.Done()
		err := s.ingestLoop()
		if err != nil {
			s.cancel() // the reader stops too
		}
		errc <- err
	}()
	go func() {
		// Unblock reads and writes when the session ends.
		defer wg.Done()
		<-s.ctx.Done()
		now := time.Now()
		_ = s.rw.SetReadDeadline(now)
		_ = s.rw.SetWriteDeadline(now)
	}()
	err := s.readLoop()
	s.cancel()
	wg.Wait()
	close(errc)
	for e := range errc {
		if err == nil && e != nil {
			err = e
		}
	}
	return err
}

func (s *session) fail(ctx error) error {
	if s.ctx.Err() != nil {
		return nil // ended on purpose
	}
	return ctx
}

// kickPusher wakes the pusher.
func (s *session) kickPusher() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// offer hands live events to the pusher without ever blocking the node;
// when the session is behind, it resyncs with a Hello instead.
func (s *session) offer(conv app.ConvID, evs []app.Event) {
	select {
	case s.live <- liveEvents{conv: conv, evs: evs}:
	default:
		s.mu.Lock()
		s.resync = true
		s.mu.Unlock()
		s.kickPusher()
	}
}

// queueCtrl queues acks, refusals and wants ahead of data.
func (s *session) queueCtrl(fs ...*wire.Frame) error {
	if len(fs) == 0 {
		return nil
	}
	s.mu.Lock()
	s.ctrl = append(s.ctrl, fs...)
	n := len(s.ctrl)
	s.mu.Unlock()
	if n > maxPending {
		return errors.New("node: sync: peer does not read its acks")
	}
	select {
	case s.ctrlKick <- struct{}{}:
	default:
	}
	return nil
}

func (s *session) writeLoop() error {
	w := wire.NewWriter(s.rw)
	write := func(f *wire.Frame) error {
		_ = s.rw.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := w.WriteFrame(f); err != nil {
			s.cancel()
			return s.fail(fmt.Errorf("node: sync: write: %w", err))
		}
		return nil
	}
	for {
		s.mu.Lock()
		ctrl := s.ctrl
		s.ctrl = nil
		s.mu.Unlock()
		for _, f := range ctrl {
			if err := write(f); err != nil {
				return err
			}
		}
		select {
		case <-s.ctx.Done():
			return nil
		case <-s.ctrlKick:
		case f := <-s.data:
			if err := write(f); err != nil {
				return err
			}
		}
	}
}

func (s *session) readLoop() error {
	r := wire.NewReader(s.rw)
	for {
		_ = s.rw.SetReadDeadline(time.Now().Add(s.idle))
		f, err := r.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return s.fail(fmt.Errorf("node: sync: read: %w", err))
		}
		switch m := f.Msg.(type) {
		case *wire.Frame_Hello, *wire.Frame_Want:
			s.mu.Lock()
			s.reqs = append(s.reqs, f)
			n := len(s.reqs)
			s.mu.Unlock()
			if n > maxPending {
				return s.fail(errors.New("node: sync: too many requests queued"))
			}
			s.kickPusher()
		case *wire.Frame_Events:
			// Verify here, store on the ingester: the next batch's
			// signatures are checked while this one is committed.
			evs, err := decodeBatch(m.Events.GetEvents())
			if err != nil {
				return s.fail(err)
			}
			select {
			case s.inbox <- evs:
			case <-s.ctx.Done():
				return nil
			}
		case *wire.Frame_Ack:
			s.acked(m.Ack.GetIds())
		case *wire.Frame_Refused:
			s.refused(m.Refused)
		default:
			return s.fail(fmt.Errorf("node: sync: unexpected %T", m))
		}
	}
}

// decodeBatch verifies one received batch (its signatures checked as
// batches on every core: the one per-event CPU cost worth having,
// DESIGN.md §10). A replay inside the batch is kept once.
func decodeBatch(raw [][]byte) ([]app.Event, error) {
	if len(raw) > maxFrameEvents {
		return nil, fmt.Errorf("node: sync: %d events in one frame", len(raw))
	}
	decoded, errs := app.DecodeEvents(raw)
	evs := make([]app.Event, 0, len(raw))
	seen := make(map[app.EventID]bool, len(raw))
	for i, ev := range decoded {
		if errs[i] != nil {
			return nil, fmt.Errorf("node: sync: event %d of %d: %w", i, len(raw), errs[i])
		}
		if !seen[ev.ID] {
			seen[ev.ID] = true
			evs = append(evs, ev)
		}
	}
	return evs, nil
}

// ingestLoop stores verified batches in the order they arrived.
func (s *session) ingestLoop() error {
	for {
		select {
		case <-s.ctx.Done():
			return nil
		case evs := <-s.inbox:
			if err := s.receive(evs); err != nil {
				return s.fail(err)
			}
		}
	}
}

// receive ingests and answers one verified batch.
func (s *session) receive(evs []app.Event) error {
	if len(evs) == 0 {
		return nil
	}
	for _, ev := range evs {
		s.n.origin.put(ev.ID, s.peer) // before Ingest announces them
	}
	outs, err := s.n.ingest(s.ctx, evs, s.key, s.path)
	if err != nil {
		return fmt.Errorf("node: sync: ingest: %w", err)
	}
	var ack [][]byte
	type refKey struct {
		conv   app.ConvID
		reason string
	}
	refusals := make(map[refKey][][]byte)
	var refOrder []refKey
	want := make(map[app.ConvID]bool)
	for i, ev := range evs {
		err := outs[i]
		switch {
		case err == nil || errors.Is(err, app.ErrDuplicate):
			ack = append(ack, ev.ID[:])
			continue
		case retryable(err):
			want[ev.Conv] = true
			if errors.Is(err, app.ErrMissing) {
				continue // not refused: it will come again after the Want
			}
		}
		k := refKey{ev.Conv, reasonOf(err)}
		if _, ok := refusals[k]; !ok {
			refOrder = append(refOrder, k)
		}
		refusals[k] = append(refusals[k], ev.ID[:])
		s.n.log.Debug("sync: event not stored", "peer", s.peer, "event", ev.ID.Short(), "err", err)
	}
	var fs []*wire.Frame
	for len(ack) > 0 {
		k := min(len(ack), 4096)
		fs = append(fs, &wire.Frame{Msg: &wire.Frame_Ack{Ack: &wire.Ack{Ids: ack[:k]}}})
		ack = ack[k:]
	}
	for _, k := range refOrder {
		fs = append(fs, &wire.Frame{Msg: &wire.Frame_Refused{Refused: &wire.Refused{Conv: k.conv[:], Reason: k.reason, Ids: refusals[k]}}})
	}
	now := time.Now()
	for conv := range want {
		if now.Sub(s.wants[conv]) < wantEvery {
			continue
		}
		s.wants[conv] = now
		have, err := s.n.svc.Versions(s.ctx, conv)
		if err != nil {
			return fmt.Errorf("node: sync: %w", err)
		}
		fs = append(fs, &wire.Frame{Msg: &wire.Frame_Want{Want: &wire.Want{Conv: conv[:], Have: versionsPB(have)}}})
	}
	return s.queueCtrl(fs...)
}

// retryable errors may go away once other events arrive: predecessors by
// the same author, or group operations by others.
func retryable(err error) bool {
	return errors.Is(err, app.ErrMissing) || errors.Is(err, app.ErrNotFound) ||
		errors.Is(err, app.ErrNotMember) || errors.Is(err, app.ErrNotAdmin)
}

// reasonOf is the wire reason code of an outcome.
func reasonOf(err error) string {
	var re *app.RefusedError
	switch {
	case errors.As(err, &re):
		return string(re.Reason)
	case errors.Is(err, app.ErrNotMember):
		return "not_member"
	case errors.Is(err, app.ErrNotAdmin):
		return "not_admin"
	case errors.Is(err, app.ErrFork):
		return "fork"
	case errors.Is(err, app.ErrNotFound):
		return "unknown_conversation"
	case errors.Is(err, app.ErrBadSignature):
		return "bad_signature"
	case errors.Is(err, app.ErrBadEvent):
		return "bad_event"
	}
	return "invalid"
}

// refusal is the app.Refusal a reason code stands for, if any.
func refusal(code string) (app.Refusal, bool) {
	switch r := app.Refusal(code); r {
	case app.RefuseNobody, app.RefuseContacts, app.RefuseBlocked, app.RefusePending, app.RefuseTooLarge, app.RefuseRateLimit:
		return r, true
	}
	return "", false
}

// ingest stores a batch from peer: events it authored with the
// connection's path, the others as relayed by it. Events that fail for
// want of other events in the batch are tried again while the batch makes
// progress, so order across authors never loses an event.
func (n *Node) ingest(ctx context.Context, evs []app.Event, from app.PeerKey, path app.Path) ([]error, error) {
	errs := make([]error, len(evs))
	pending := make([]int, len(evs))
	for i := range pending {
		pending[i] = i
	}
	// Display order respects causality (lamport grows along each log and
	// past every event its author had seen), so a reordered batch is
	// stored in one pass.
	slices.SortStableFunc(pending, func(i, j int) int {
		switch {
		case before(evs[i], evs[j]):
			return -1
		case before(evs[j], evs[i]):
			return 1
		}
		return 0
	})
	for pass := 0; len(pending) > 0 && pass < 8; pass++ {
		var direct, relayed []int
		for _, i := range pending {
			if evs[i].Author == from {
				direct = append(direct, i)
			} else {
				relayed = append(relayed, i)
			}
		}
		stored := 0
		var retry []int
		for _, group := range [][]int{direct, relayed} {
			if len(group) == 0 {
				continue
			}
			batch := make([]app.Event, len(group))
			for j, i := range group {
				batch[j] = evs[i]
			}
			p, via := path, app.PeerKey{}
			switch {
			case path == app.PathMailbox:
				via = from
			case evs[group[0]].Author != from:
				p, via = app.PathRelay, from
			}
			outs, err := n.svc.Ingest(ctx, batch, p, via)
			if err != nil {
				return nil, err
			}
			for j, i := range group {
				errs[i] = outs[j].Err
				switch {
				case outs[j].Err == nil:
					stored++
				case retryable(outs[j].Err):
					retry = append(retry, i)
				}
			}
		}
		if stored == 0 {
			break
		}
		pending = retry // still in display order
	}
	return errs, nil
}

func (s *session) acked(ids [][]byte) {
	var mine []app.EventID
	s.mu.Lock()
	for _, b := range ids {
		id, ok := id32(b)
		if !ok {
			continue
		}
		if author, ok := s.sent[id]; ok {
			delete(s.sent, id)
			if author == s.n.me {
				mine = append(mine, app.EventID(id))
			}
		}
	}
	s.mu.Unlock()
	if len(mine) > 0 {
		s.n.acks.add(app.Delivery{By: s.key, IDs: mine})
	}
}

// ackQueue gathers peers' acks of own events for one writer: a group
// message is acked by every member at about the same moment, and a
// commit per ack made the sender's disk the slowest member.
type ackQueue struct {
	mu      sync.Mutex
	pending []app.Delivery
	kick    chan struct{}
}

func (q *ackQueue) add(d app.Delivery) {
	q.mu.Lock()
	q.pending = append(q.pending, d)
	q.mu.Unlock()
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

func (q *ackQueue) take() []app.Delivery {
	q.mu.Lock()
	defer q.mu.Unlock()
	ds := q.pending
	q.pending = nil
	return ds
}

// ackLoop records acks as they come, all those that came during the last
// write in the next one. Acks still queued at shutdown are written then.
func (n *Node) ackLoop(ctx context.Context) {
	write := func(ctx context.Context) {
		if ds := n.acks.take(); len(ds) > 0 {
			if err := n.svc.Delivered(ctx, ds); err != nil {
				n.log.Warn("sync: mark delivered", "acks", len(ds), "err", err)
			}
		}
	}
	for {
		select {
		case <-n.acks.kick:
			write(ctx)
		case <-ctx.Done():
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			write(ctx)
			cancel()
			return
		}
	}
}

func (s *session) refused(r *wire.Refused) {
	conv, ok := id32(r.GetConv())
	if !ok {
		return
	}
	s.mu.Lock()
	for _, b := range r.GetIds() {
		if id, ok := id32(b); ok {
			delete(s.sent, app.EventID(id))
		}
	}
	s.mu.Unlock()
	s.n.log.Info("sync: peer refused events", "peer", s.peer, "conv", app.ConvID(conv).String()[:12], "reason", r.GetReason(), "events", len(r.GetIds()))
	if reason, ok := refusal(r.GetReason()); ok {
		s.n.svc.Refused(app.ConvID(conv), s.key, reason)
	}
}

func (s *session) pushLoop() error {
	if err := s.sendHello(); err != nil {
		return s.fail(err)
	}
	t := time.NewTicker(s.n.resync)
	defer t.Stop()
	for {
		var err error
		select {
		case <-s.ctx.Done():
			return nil
		case <-t.C:
			err = s.sendHello()
		case l := <-s.live:
			err = s.pushLive(l.conv, l.evs)
		case <-s.kick:
			s.mu.Lock()
			reqs, resync := s.reqs, s.resync
			s.reqs, s.resync = nil, false
			s.mu.Unlock()
			if resync {
				err = s.sendHello()
			}
			for _, f := range reqs {
				if err != nil {
					break
				}
				err = s.serve(f)
			}
		}
		if err != nil {
			return s.fail(err)
		}
	}
}

// sharedWith reports whether conv is shared with the peer, refreshing the
// cache on a miss at most twice a second.
func (s *session) sharedWith(conv app.ConvID) (bool, error) {
	if s.shared[conv] {
		return true, nil
	}
	if time.Since(s.sharedAt) < 500*time.Millisecond && s.shared != nil {
		// A conversation made since the last load (the first message
		// to a new contact) is checked on its own, so it goes out now.
		if s.n.svc.Shares(s.ctx, s.key, conv) {
			s.shared[conv] = true
			return true, nil
		}
		return false, nil
	}
	if err := s.loadShared(); err != nil {
		return false, err
	}
	return s.shared[conv], nil
}

func (s *session) loadShared() error {
	cs, err := s.n.svc.SharedConversations(s.ctx, s.key)
	if err != nil {
		return fmt.Errorf("node: sync: %w", err)
	}
	m := make(map[app.ConvID]bool, len(cs))
	for _, c := range cs {
		m[c] = true
	}
	s.shared, s.sharedAt = m, time.Now()
	return nil
}

// sendHello sends the version vectors of every shared conversation, in
// as many frames as needed.
func (s *session) sendHello() error {
	if err := s.loadShared(); err != nil {
		return err
	}
	convs := make([]app.ConvID, 0, len(s.shared))
	for c := range s.shared {
		convs = append(convs, c)
	}
	slices.SortFunc(convs, func(a, b app.ConvID) int { return compareBytes(a[:], b[:]) })
	h := &wire.Hello{}
	size := 0
	flush := func(force bool) error {
		if len(h.Convs) == 0 && !force {
			return nil
		}
		f := &wire.Frame{Msg: &wire.Frame_Hello{Hello: h}}
		h, size = &wire.Hello{}, 0
		return s.send(f)
	}
	for _, c := range convs {
		v, err := s.n.svc.Versions(s.ctx, c)
		if err != nil {
			return fmt.Errorf("node: sync: %w", err)
		}
		cv := &wire.ConvVersions{Conv: c[:], Versions: versionsPB(v)}
		h.Convs = append(h.Convs, cv)
		size += 40 + 45*len(cv.Versions)
		if size > maxHelloBytes {
			if err := flush(false); err != nil {
				return err
			}
		}
	}
	return flush(true)
}

// send hands a frame to the writer.
func (s *session) send(f *wire.Frame) error {
	select {
	case s.data <- f:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// serve answers a peer's Hello or Want with what it lacks.
func (s *session) serve(f *wire.Frame) error {
	switch m := f.Msg.(type) {
	case *wire.Frame_Hello:
		have := make(map[app.ConvID]map[app.PeerKey]uint64)
		for _, cv := range m.Hello.GetConvs() {
			if c, ok := id32(cv.GetConv()); ok {
				have[app.ConvID(c)] = versionsOf(cv.GetVersions())
			}
		}
		if err := s.loadShared(); err != nil {
			return err
		}
		convs := make([]app.ConvID, 0, len(s.shared))
		for c := range s.shared {
			convs = append(convs, c)
		}
		slices.SortFunc(convs, func(a, b app.ConvID) int { return compareBytes(a[:], b[:]) })
		for _, c := range convs {
			if err := s.sendBacklog(c, have[c]); err != nil {
				return err
			}
		}
	case *wire.Frame_Want:
		c, ok := id32(m.Want.GetConv())
		if !ok {
			return nil
		}
		if shared, err := s.sharedWith(app.ConvID(c)); err != nil || !shared {
			return err // never serve a conversation the peer is not in
		}
		return s.sendBacklog(app.ConvID(c), versionsOf(m.Want.GetHave()))
	}
	return nil
}

// cursor walks one author's log during a backlog merge.
type cursor struct {
	author app.PeerKey
	after  uint64
	buf    []app.Event
	done   bool
}

// sendBacklog sends the peer conv's events it lacks according to have,
// merged across authors in display order (lamport, author, seq), so a
// group's create and adds come before the messages that need them.
func (s *session) sendBacklog(conv app.ConvID, have map[app.PeerKey]uint64) error {
	mine, err := s.n.svc.Versions(s.ctx, conv)
	if err != nil {
		return fmt.Errorf("node: sync: %w", err)
	}
	var cs []*cursor
	for a, seq := range mine {
		if seq > have[a] {
			cs = append(cs, &cursor{author: a, after: have[a]})
		}
	}
	if len(cs) == 0 {
		return nil
	}
	b := newBatcher(s)
	for {
		var best *cursor
		for _, c := range cs {
			if len(c.buf) == 0 && !c.done {
				evs, err := s.n.svc.EventsAfter(s.ctx, conv, c.author, c.after, maxBatchEvents)
				if err != nil {
					return fmt.Errorf("node: sync: %w", err)
				}
				c.buf, c.done = evs, len(evs) == 0
			}
			if len(c.buf) == 0 {
				continue
			}
			if best == nil || before(c.buf[0], best.buf[0]) {
				best = c
			}
		}
		if best == nil {
			return b.flush()
		}
		ev := best.buf[0]
		best.buf, best.after = best.buf[1:], ev.Seq
		if err := b.add(ev); err != nil {
			return err
		}
	}
}

// pushLive sends newly stored events the peer should have: not back to
// the peer that handed them over, not to their author, and only for
// conversations it takes part in.
func (s *session) pushLive(conv app.ConvID, evs []app.Event) error {
	if ok, err := s.sharedWith(conv); err != nil || !ok {
		return err
	}
	b := newBatcher(s)
	for _, ev := range evs {
		if ev.Author == s.key || s.n.origin.get(ev.ID) == s.peer {
			continue
		}
		if err := b.add(ev); err != nil {
			return err
		}
	}
	return b.flush()
}

// batcher groups events into frames of at most maxBatchEvents events and
// maxBatchBytes bytes, remembering each for its ack.
type batcher struct {
	s     *session
	raw   [][]byte
	ids   []app.EventID
	auth  []app.PeerKey
	bytes int
}

func newBatcher(s *session) *batcher { return &batcher{s: s} }

func (b *batcher) add(ev app.Event) error {
	raw := ev.Marshal()
	if len(raw)+16 > wire.MaxFrame {
		b.s.n.log.Warn("sync: event too large for a frame", "event", ev.ID.Short(), "bytes", len(raw))
		return nil
	}
	if len(b.raw) == maxBatchEvents || b.bytes+len(raw) > maxBatchBytes {
		if err := b.flush(); err != nil {
			return err
		}
	}
	b.raw = append(b.raw, raw)
	b.ids = append(b.ids, ev.ID)
	b.auth = append(b.auth, ev.Author)
	b.bytes += len(raw) + 4
	return nil
}

func (b *batcher) flush() error {
	if len(b.raw) == 0 {
		return nil
	}
	s := b.s
	s.mu.Lock()
	if len(s.sent) > maxUnacked {
		clear(s.sent) // a peer that never acks; forget, Hello will tell
	}
	for i, id := range b.ids {
		s.sent[id] = b.auth[i]
	}
	s.mu.Unlock()
	f := &wire.Frame{Msg: &wire.Frame_Events{Events: &wire.Events{Events: b.raw}}}
	b.raw, b.ids, b.auth, b.bytes = nil, nil, nil, 0
	return s.send(f)
}

// before is display order: (lamport, author, seq).
func before(a, b app.Event) bool {
	if a.Lamport != b.Lamport {
		return a.Lamport < b.Lamport
	}
	if c := compareBytes(a.Author[:], b.Author[:]); c != 0 {
		return c < 0
	}
	return a.Seq < b.Seq
}

func compareBytes(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

func id32(b []byte) ([32]byte, bool) {
	var id [32]byte
	if len(b) != 32 {
		return id, false
	}
	copy(id[:], b)
	return id, true
}

func versionsPB(v map[app.PeerKey]uint64) []*wire.Version {
	out := make([]*wire.Version, 0, len(v))
	for a, seq := range v {
		out = append(out, &wire.Version{Author: a[:], Seq: seq})
	}
	slices.SortFunc(out, func(a, b *wire.Version) int { return compareBytes(a.Author, b.Author) })
	return out
}

func versionsOf(vs []*wire.Version) map[app.PeerKey]uint64 {
	m := make(map[app.PeerKey]uint64, len(vs))
	for _, v := range vs {
		if a, ok := id32(v.GetAuthor()); ok {
			m[app.PeerKey(a)] = v.GetSeq()
		}
	}
	return m
}

// handleSync serves a sync stream the peer opened.
func (n *Node) handleSync(st network.Stream) {
	if err := st.Scope().SetService("kite.sync"); err != nil {
		st.Reset()
		return
	}
	n.serveSession(st)
}

// serveSession runs a sync session on st, replacing any previous one
// with the same peer, and closes or resets st when it ends.
func (n *Node) serveSession(st network.Stream) {
	p := st.Conn().RemotePeer()
	key, ok := keyOf(p)
	if !ok || n.ctx.Err() != nil {
		st.Reset()
		return
	}
	if err := st.Scope().ReserveMemory(2*wire.MaxFrame, network.ReservationPriorityMedium); err != nil {
		n.log.Debug("sync: no memory for a session", "peer", p, "err", err)
		st.Reset()
		return
	}
	defer st.Scope().ReleaseMemory(2 * wire.MaxFrame)
	path := app.PathWAN
	if isLAN(st.Conn().RemoteMultiaddr()) {
		path = app.PathLAN
	}
	s := n.newSession(st, p, key, path)
	n.mu.Lock()
	old := n.sessions[p]
	n.sessions[p] = s
	n.mu.Unlock()
	if old != nil {
		old.stop()
	}
	err := s.run()
	n.mu.Lock()
	if n.sessions[p] == s {
		delete(n.sessions, p)
	}
	n.mu.Unlock()
	if err != nil {
		n.log.Info("sync: session ended", "peer", p, "err", err)
		st.Reset()
		return
	}
	st.Close()
}

// openSessions keeps a sync session open with p while it is connected;
// it runs on the side with the smaller peer ID.
func (n *Node) openSessions(ctx context.Context, p peer.ID) {
	backoff := 500 * time.Millisecond
	for {
		for ctx.Err() == nil && n.h.Network().Connectedness(p) == network.Connected {
			n.mu.Lock()
			cur := n.sessions[p]
			n.mu.Unlock()
			if cur != nil {
				select {
				case <-cur.done:
				case <-ctx.Done():
				}
				continue
			}
			octx, cancel := context.WithTimeout(ctx, 10*time.Second)
			st, err := n.h.NewStream(octx, p, protocol.ID(wire.ProtoSync))
			cancel()
			if err == nil {
				if err = st.Scope().SetService("kite.sync"); err != nil {
					st.Reset()
				}
			}
			if err != nil {
				n.log.Debug("sync: open stream", "peer", p, "err", err)
			} else {
				start := time.Now()
				n.serveSession(st)
				if time.Since(start) > time.Minute {
					backoff = 500 * time.Millisecond
				}
			}
			if !sleep(ctx, backoff) {
				break
			}
			backoff = min(2*backoff, 30*time.Second)
		}
		n.mu.Lock()
		again := n.openers[p] == openAgain
		if again {
			n.openers[p] = openRunning
		} else {
			delete(n.openers, p)
		}
		n.mu.Unlock()
		if !again || ctx.Err() != nil {
			return
		}
	}
}

// Opener states per peer.
const (
	openRunning = 1
	openAgain   = 2 // connected again while the opener was finishing
)

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// originCache remembers which peer handed over each recently received
// event, so it is never pushed back to it. Two generations bound it.
type originCache struct {
	mu       sync.Mutex // mu guards the fields below.
	cur, old map[app.EventID]peer.ID
}

const originGeneration = 1 << 16

func (c *originCache) put(id app.EventID, p peer.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		c.cur = make(map[app.EventID]peer.ID)
	}
	if len(c.cur) >= originGeneration {
		c.old, c.cur = c.cur, make(map[app.EventID]peer.ID)
	}
	c.cur[id] = p
}

func (c *originCache) get(id app.EventID) peer.ID {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.cur[id]; ok {
		return p
	}
	return c.old[id]
}
