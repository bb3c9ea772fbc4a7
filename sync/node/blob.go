package node

// /kite/blob/1.0.0 — content-addressed media and files (DESIGN.md §4),
// fetched in 256 KiB chunks from any connected peer that shares the
// conversation of the media event naming the blob.
//
//	requester                                   responder
//	  |  open /kite/blob/1.0.0 (one per peer,      |
//	  |  for every transfer from that peer)        |
//	  |--- Want{event, hash} --------------------->|  Message(event) is media kept in
//	  |                                            |  the chat with this hash, the
//	  |                                            |  requester Shares its conv, and
//	  |                                            |  the blob is here
//	  |<-- Manifest{hash, size ‖ chunk hashes} ----|  or Error{hash, code, words}
//	  |  root == hash? size ≤ my cap?              |
//	  |  (else refuse: Progress with the error)    |
//	  |--- Get{hash, i} -------------------------->|  pipelined: ≤ blobWindow in flight
//	  |--- Get{hash', j} ------------------------->|  per peer, taken round-robin
//	  |<-- Chunk{hash, i, 256 KiB} ----------------|  across the active transfers
//	  |  verify against the manifest, write,       |
//	  |  Progress(hash, done, total)               |
//	  |<-- Chunk{hash', j, …} ---------------------|
//	  |  …                                         |
//	  |  close once nothing is left to ask         |  close
//
// Answers come in the order of the requests. A Get is only answered for a
// hash this stream was given the manifest of. Frames are a uvarint length
// and a body of at most 1 MiB (a 2 GiB blob's manifest is 256 KiB),
// checked before anything is allocated; a body is a type byte and fixed
// fields. Every read and write has a deadline; a malformed or unexpected
// frame resets the stream. A chunk that does not match its manifest is
// refused, fetched again, and its sender is asked for nothing more of that
// blob for a while.
//
// Partial blobs live on disk (app/blobs), so a transfer resumes after a
// disconnect or a restart, asking only for the chunks still missing.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"

	"kite/app"
	"kite/sync/wire"
)

// ProtoBlob is the blob protocol's ID.
const ProtoBlob = "/kite/blob/1.0.0"

// Files is what the blob protocol needs of the domain; *app.Service is
// one.
type Files interface {
	Message(ctx context.Context, id app.EventID) (app.Message, error)
	// Blobs is the blob store, nil when there is none.
	Blobs() app.BlobStore
	ProgressFrom(h app.Hash, peer app.PeerKey, done, total int64, err error)
}

const (
	blobChunk        = 256 << 10
	blobWindow       = 8 // chunk requests in flight per peer
	maxBlobRequest   = 80
	maxBlobErrorText = 200
	blobIdle         = 45 * time.Second // a stream with nothing asked or answered
	blobStall        = 30 * time.Second // an answer that does not come
	blobWriteTimeout = 30 * time.Second
	blobTick         = 2 * time.Second
	blobReport       = 200 * time.Millisecond // progress updates per transfer
	blobStrikes      = 3                      // bad chunks before a peer is skipped
)

// Message types.
const (
	blobWant     = 1 // event[32] hash[32]
	blobGet      = 2 // hash[32] index[4]
	blobManifest = 3 // hash[32] manifest…
	blobData     = 4 // hash[32] index[4] bytes…
	blobError    = 5 // hash[32] code[1] words…
)

// Error codes.
const (
	blobUnavailable = 1 // no such media event shared with the requester
	blobMissing     = 2 // the responder does not have the blob (yet)
)

// blobMsg is one frame of /kite/blob/1.0.0.
type blobMsg struct {
	typ   byte
	event app.EventID
	hash  app.Hash
	index uint32
	code  byte
	data  []byte // manifest, chunk or error words
}

var errBlobFrame = errors.New("node: blob: malformed frame")

// appendBlobMsg appends m's body (no length prefix).
func appendBlobMsg(dst []byte, m *blobMsg) []byte {
	dst = append(dst, m.typ)
	switch m.typ {
	case blobWant:
		dst = append(dst, m.event[:]...)
		dst = append(dst, m.hash[:]...)
	case blobGet:
		dst = append(dst, m.hash[:]...)
		dst = binary.BigEndian.AppendUint32(dst, m.index)
	case blobManifest:
		dst = append(dst, m.hash[:]...)
		dst = append(dst, m.data...)
	case blobData:
		dst = append(dst, m.hash[:]...)
		dst = binary.BigEndian.AppendUint32(dst, m.index)
		dst = append(dst, m.data...)
	case blobError:
		dst = append(dst, m.hash[:]...)
		dst = append(dst, m.code)
		dst = append(dst, m.data...)
	}
	return dst
}

// decodeBlobMsg parses a body. data aliases b. Anything it accepts,
// appendBlobMsg encodes to the same bytes.
func decodeBlobMsg(b []byte) (*blobMsg, error) {
	if len(b) == 0 {
		return nil, errBlobFrame
	}
	m := &blobMsg{typ: b[0]}
	b = b[1:]
	fixed := map[byte]int{blobWant: 64, blobGet: 36, blobManifest: 32, blobData: 36, blobError: 33}[m.typ]
	switch {
	case fixed == 0:
		return nil, fmt.Errorf("%w: type %d", errBlobFrame, m.typ)
	case len(b) < fixed, (m.typ == blobWant || m.typ == blobGet) && len(b) != fixed:
		return nil, fmt.Errorf("%w: %d bytes for type %d", errBlobFrame, len(b), m.typ)
	}
	switch m.typ {
	case blobWant:
		copy(m.event[:], b)
		copy(m.hash[:], b[32:])
	case blobGet:
		copy(m.hash[:], b)
		m.index = binary.BigEndian.Uint32(b[32:])
	case blobManifest:
		copy(m.hash[:], b)
		m.data = b[32:]
	case blobData:
		copy(m.hash[:], b)
		m.index = binary.BigEndian.Uint32(b[32:])
		m.data = b[36:]
	case blobError:
		copy(m.hash[:], b)
		m.code = b[32]
		m.data = b[33:]
		if len(m.data) > maxBlobErrorText || !utf8.Valid(m.data) {
			return nil, fmt.Errorf("%w: error words", errBlobFrame)
		}
	}
	return m, nil
}

// blobReader reads frames with a reused buffer.
type blobReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

func newBlobReader(r io.Reader, max int) *blobReader {
	return &blobReader{r: bufio.NewReaderSize(r, 64<<10), max: min(max, wire.MaxFrame)}
}

// read returns the next frame; its data is valid until the next read.
func (r *blobReader) read() (*blobMsg, error) {
	n, err := binary.ReadUvarint(r.r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("node: blob: read: %w", err)
	}
	if n == 0 || n > uint64(r.max) {
		return nil, fmt.Errorf("%w: frame of %d bytes", errBlobFrame, n)
	}
	if cap(r.buf) < int(n) {
		r.buf = make([]byte, n)
	}
	b := r.buf[:n]
	if _, err := io.ReadFull(r.r, b); err != nil {
		return nil, fmt.Errorf("node: blob: read: %w", io.ErrUnexpectedEOF)
	}
	return decodeBlobMsg(b)
}

// writeBlobMsg writes one length-prefixed frame to w (buffered).
func writeBlobMsg(w *bufio.Writer, m *blobMsg, scratch []byte) ([]byte, error) {
	b := appendBlobMsg(scratch[:0], m)
	if len(b) > wire.MaxFrame {
		return scratch, fmt.Errorf("%w: %d bytes", errBlobFrame, len(b))
	}
	var pre [binary.MaxVarintLen64]byte
	if _, err := w.Write(pre[:binary.PutUvarint(pre[:], uint64(len(b)))]); err != nil {
		return b, err
	}
	_, err := w.Write(b)
	return b, err
}

type deadlineSetter interface {
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// ServeBlobs is the responder's side over any stream: it answers Want
// and Get until the requester closes. A protocol error is returned (the
// caller resets the stream).
func ServeBlobs(ctx context.Context, rw io.ReadWriter, svc Files, shares func(app.ConvID) bool, tamper func(app.Hash, int, []byte) []byte) error {
	dl, _ := rw.(deadlineSetter)
	r := newBlobReader(rw, maxBlobRequest)
	w := bufio.NewWriterSize(rw, 64<<10)
	allowed := make(map[app.Hash]bool)
	var chunk, scratch []byte
	for {
		if dl != nil {
			_ = dl.SetReadDeadline(time.Now().Add(blobIdle))
		}
		m, err := r.read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var out *blobMsg
		switch m.typ {
		case blobWant:
			out = answerWant(ctx, svc, shares, m)
			if out.typ == blobManifest {
				allowed[m.hash] = true
			}
		case blobGet:
			if !allowed[m.hash] {
				return fmt.Errorf("%w: chunk of a blob not asked for", errBlobFrame)
			}
			store := svc.Blobs()
			if store == nil {
				out = &blobMsg{typ: blobError, hash: m.hash, code: blobMissing, data: []byte("no file store")}
				break
			}
			chunk, err = store.ReadChunk(m.hash, int(m.index), chunk)
			if err != nil {
				out = &blobMsg{typ: blobError, hash: m.hash, code: blobMissing, data: []byte("no such chunk")}
				break
			}
			data := chunk
			if tamper != nil {
				data = tamper(m.hash, int(m.index), slices.Clone(chunk))
			}
			out = &blobMsg{typ: blobData, hash: m.hash, index: m.index, data: data}
		default:
			return fmt.Errorf("%w: unexpected type %d", errBlobFrame, m.typ)
		}
		if dl != nil {
			_ = dl.SetWriteDeadline(time.Now().Add(blobWriteTimeout))
		}
		if scratch, err = writeBlobMsg(w, out, scratch); err != nil {
			return err
		}
		if cap(scratch) > 2*blobChunk {
			scratch = nil
		}
		if r.r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
}

// answerWant checks that the requester may have the blob and answers with
// its manifest or an error. Every refusal looks the same, so a stranger
// learns nothing of what exists.
func answerWant(ctx context.Context, svc Files, shares func(app.ConvID) bool, m *blobMsg) *blobMsg {
	no := &blobMsg{typ: blobError, hash: m.hash, code: blobUnavailable, data: []byte("not available")}
	msg, err := svc.Message(ctx, m.event)
	if err != nil || msg.Media == nil || msg.Media.Mode != app.ModeKeep || msg.Media.Hash != m.hash || msg.Unsent || msg.Expired {
		return no
	}
	if !shares(msg.Conv) {
		return no
	}
	store := svc.Blobs()
	if store == nil || !store.Has(m.hash) {
		return &blobMsg{typ: blobError, hash: m.hash, code: blobMissing, data: []byte("not here yet")}
	}
	mb, err := store.Manifest(m.hash)
	if err != nil {
		return &blobMsg{typ: blobError, hash: m.hash, code: blobMissing, data: []byte("not readable")}
	}
	return &blobMsg{typ: blobManifest, hash: m.hash, data: mb}
}

func (n *Node) handleBlob(s network.Stream) {
	if err := s.Scope().SetService("kite.blob"); err != nil {
		s.Reset()
		return
	}
	from, ok := keyOf(s.Conn().RemotePeer())
	if !ok {
		s.Reset()
		return
	}
	b := n.blobs
	var tamper func(app.Hash, int, []byte) []byte
	if f := b.tamper.Load(); f != nil {
		tamper = *f
	}
	shares := func(conv app.ConvID) bool { return n.svc.Shares(n.ctx, from, conv) }
	counted := &countingRW{ReadWriter: s, served: &b.served, dl: s}
	if err := ServeBlobs(n.ctx, counted, n.svc, shares, tamper); err != nil {
		n.log.Debug("blob: serve", "peer", s.Conn().RemotePeer(), "err", err)
		s.Reset()
		return
	}
	s.Close()
}

// countingRW counts the bytes a blob stream sent (tests read it).
type countingRW struct {
	io.ReadWriter
	served *atomic.Int64
	dl     deadlineSetter
}

func (c *countingRW) Write(p []byte) (int, error) {
	n, err := c.ReadWriter.Write(p)
	c.served.Add(int64(n))
	return n, err
}
func (c *countingRW) SetReadDeadline(t time.Time) error  { return c.dl.SetReadDeadline(t) }
func (c *countingRW) SetWriteDeadline(t time.Time) error { return c.dl.SetWriteDeadline(t) }

// blobState is the node's side of blob transfers: the downloads in
// progress and one stream per peer they are fetched from.
type blobState struct {
	n    *Node
	kick chan struct{}

	// For tests: tamper changes chunks this node serves; served counts
	// the bytes it sent.
	tamper atomic.Pointer[func(app.Hash, int, []byte) []byte]
	served atomic.Int64

	mu        sync.Mutex // mu guards the fields below.
	transfers map[app.Hash]*transfer
	order     []app.Hash // round-robin order
	rr        int
	conns     map[peer.ID]*blobConn
}

// transfer is one blob being downloaded.
type transfer struct {
	h        app.Hash
	ref      app.EventID
	conv     app.ConvID
	author   app.PeerKey
	size     int64 // as the event says, until the manifest is known
	part     app.BlobPartial
	queue    []int // chunks to ask for, in order
	inflight int   // chunk requests out
	asked    bool  // a Want for the manifest is out
	finish   bool  // Finish is running
	shares   map[peer.ID]bool
	skip     map[peer.ID]time.Time // peers not to ask until then
	strikes  map[peer.ID]int
	reported time.Time
}

// blobConn is the stream to one peer, shared by every transfer.
type blobConn struct {
	p       peer.ID
	key     app.PeerKey
	s       network.Stream // nil while it opens
	out     chan *blobMsg
	pending []blobMsg         // requests out, in order
	auth    map[app.Hash]int8 // 1 Want out, 2 manifest given
	since   time.Time         // when the oldest pending request was sent
	closed  bool
}

func newBlobState(n *Node) *blobState {
	return &blobState{
		n: n, kick: make(chan struct{}, 1),
		transfers: make(map[app.Hash]*transfer),
		conns:     make(map[peer.ID]*blobConn),
	}
}

// startBlobs serves /kite/blob/1.0.0 and runs downloads until ctx ends.
func (n *Node) startBlobs(ctx context.Context) {
	n.blobs = newBlobState(n)
	n.h.SetStreamHandler(protocol.ID(ProtoBlob), n.handleBlob)
	updates, unsubscribe := n.svc.Subscribe(1024, func(u app.Update) bool {
		if u.Kind != app.UpdEvents {
			return false
		}
		for _, ev := range u.Events {
			if ev.Kind == app.KindMedia && ev.Author != n.me {
				return true
			}
		}
		return false
	})
	conns, err := n.h.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged), eventbus.BufSize(256))
	if err != nil {
		unsubscribe()
		n.log.Warn("blob: subscribe to connections", "err", err)
		return
	}
	n.goRun(func() {
		defer unsubscribe()
		defer conns.Close()
		n.blobs.run(ctx, updates, conns.Out())
	})
}

func (b *blobState) run(ctx context.Context, updates <-chan app.Update, conns <-chan any) {
	b.resume(ctx)
	t := time.NewTicker(blobTick)
	defer t.Stop()
	defer b.closeAll()
	for {
		select {
		case <-ctx.Done():
			return
		case u, ok := <-updates:
			if !ok {
				return
			}
			if u.Kind == app.UpdEvents {
				for _, ev := range u.Events {
					if ev.Kind == app.KindMedia && ev.Author != b.n.me {
						b.want(ctx, ev.ID)
					}
				}
			}
		case e, ok := <-conns:
			if !ok {
				return
			}
			if ev := e.(event.EvtPeerConnectednessChanged); ev.Connectedness != network.Connected {
				b.mu.Lock()
				if c := b.conns[ev.Peer]; c != nil {
					b.dropLocked(c, nil)
				}
				b.mu.Unlock()
			}
		case <-t.C:
		case <-b.kick:
		}
		b.schedule(ctx)
	}
}

// resume picks up the partial blobs left on disk.
func (b *blobState) resume(ctx context.Context) {
	store := b.n.svc.Blobs()
	if store == nil {
		return
	}
	pend, err := store.Pending()
	if err != nil {
		b.n.log.Warn("blob: list partial blobs", "err", err)
		return
	}
	for _, p := range pend {
		b.want(ctx, p.Ref)
	}
}

// want starts downloading the blob of a media event, unless it is here,
// view-once, too large or already on its way.
func (b *blobState) want(ctx context.Context, id app.EventID) {
	store := b.n.svc.Blobs()
	if store == nil {
		return
	}
	msg, err := b.n.svc.Message(ctx, id)
	if err != nil || msg.Media == nil || msg.Media.Mode != app.ModeKeep || msg.Author == b.n.me || msg.Unsent || msg.Expired {
		return
	}
	h := msg.Media.Hash
	if store.Has(h) {
		return
	}
	b.mu.Lock()
	_, busy := b.transfers[h]
	b.mu.Unlock()
	if busy {
		return
	}
	if int64(msg.Media.Size) > store.MaxSize() {
		b.n.svc.ProgressFrom(h, msg.Author, 0, int64(msg.Media.Size), app.Userf(app.ErrTooLarge,
			"%s is %s; this device takes files up to %s", msg.Media.Name, app.HumanBytes(int64(msg.Media.Size)), app.HumanBytes(store.MaxSize())))
		return
	}
	part, err := store.Receive(h, id)
	if err != nil {
		b.n.log.Warn("blob: start download", "hash", fmt.Sprintf("%x", h[:6]), "err", err)
		return
	}
	t := &transfer{
		h: h, ref: id, conv: msg.Conv, author: msg.Author, size: int64(msg.Media.Size), part: part,
		queue: part.Missing(), shares: make(map[peer.ID]bool), skip: make(map[peer.ID]time.Time), strikes: make(map[peer.ID]int),
	}
	b.mu.Lock()
	b.transfers[h] = t
	b.order = append(b.order, h)
	b.mu.Unlock()
	done, total := part.Progress()
	if total < 0 {
		total = t.size
	}
	b.n.svc.ProgressFrom(h, app.PeerKey{}, done, total, nil)
	if total >= 0 && done >= total && part.HasManifest() {
		b.mu.Lock()
		b.maybeFinishLocked(t)
		b.mu.Unlock()
	}
}

// schedule opens streams to the peers that can serve a transfer and fills
// every stream's window.
func (b *blobState) schedule(ctx context.Context) {
	b.mu.Lock()
	if len(b.transfers) == 0 {
		for _, c := range b.conns {
			if len(c.pending) == 0 && c.s != nil {
				b.dropLocked(c, nil)
			}
		}
		b.mu.Unlock()
		return
	}
	ts := make([]*transfer, 0, len(b.transfers))
	for _, t := range b.transfers {
		ts = append(ts, t)
	}
	b.mu.Unlock()

	// Who shares what: read outside the lock (it reads the store).
	peers := b.n.h.Network().Peers()
	type share struct {
		t *transfer
		p peer.ID
		v bool
	}
	var found []share
	for _, t := range ts {
		for _, p := range peers {
			b.mu.Lock()
			_, known := t.shares[p]
			b.mu.Unlock()
			if !known {
				k, ok := keyOf(p)
				found = append(found, share{t, p, ok && b.n.svc.Shares(ctx, k, t.conv)})
			}
		}
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range found {
		f.t.shares[f.p] = f.v
	}
	now := time.Now()
	for _, p := range peers {
		if b.conns[p] != nil {
			continue
		}
		for _, t := range b.transfers {
			if t.shares[p] && now.After(t.skip[p]) && !t.finish {
				b.openLocked(ctx, p)
				break
			}
		}
	}
	for _, c := range b.conns {
		if c.s != nil && len(c.pending) > 0 && now.Sub(c.since) > blobStall {
			b.n.log.Debug("blob: peer stalled", "peer", c.p)
			b.dropLocked(c, errors.New("stalled"))
		}
	}
	b.pumpLocked()
}

// openLocked starts opening a stream to p.
func (b *blobState) openLocked(ctx context.Context, p peer.ID) {
	k, ok := keyOf(p)
	if !ok {
		return
	}
	c := &blobConn{p: p, key: k, out: make(chan *blobMsg, blobWindow+2), auth: make(map[app.Hash]int8)}
	b.conns[p] = c
	b.n.goRun(func() {
		octx, cancel := context.WithTimeout(ctx, 15*time.Second)
		s, err := b.n.h.NewStream(octx, p, protocol.ID(ProtoBlob))
		cancel()
		b.mu.Lock()
		if err != nil || c.closed {
			if err == nil {
				s.Reset()
			}
			b.n.log.Debug("blob: open stream", "peer", p, "err", err)
			if b.conns[p] == c {
				delete(b.conns, p)
			}
			c.closed = true
			// Do not retry at once: the next tick will.
			for _, t := range b.transfers {
				if err != nil {
					t.skip[p] = time.Now().Add(blobTick)
				}
			}
			b.mu.Unlock()
			return
		}
		c.s = s
		b.n.goRun(func() { b.writeLoop(c) })
		b.n.goRun(func() { b.readLoop(c) })
		b.pumpLocked()
		b.mu.Unlock()
	})
}

// pumpLocked fills every open stream's window with requests, taking the
// transfers in turn so that they share each peer fairly.
func (b *blobState) pumpLocked() {
	now := time.Now()
	for _, c := range b.conns {
		if c.s == nil || c.closed {
			continue
		}
		for len(c.pending) < blobWindow {
			req, ok := b.nextLocked(c, now)
			if !ok {
				break
			}
			if len(c.pending) == 0 {
				c.since = now
			}
			c.pending = append(c.pending, req)
			c.out <- &req // never blocks: pending ≤ blobWindow < cap(out)
		}
		if len(c.pending) == 0 && !b.usefulLocked(c, now) {
			b.dropLocked(c, nil)
		}
	}
}

// usefulLocked reports whether any transfer may still ask c's peer.
func (b *blobState) usefulLocked(c *blobConn, now time.Time) bool {
	for _, t := range b.transfers {
		if t.shares[c.p] && now.After(t.skip[c.p]) && !t.finish {
			return true
		}
	}
	return false
}

// nextLocked is the next request for c: round-robin over transfers.
func (b *blobState) nextLocked(c *blobConn, now time.Time) (blobMsg, bool) {
	n := len(b.order)
	for k := 0; k < n; k++ {
		i := (b.rr + k) % n
		t := b.transfers[b.order[i]]
		if t == nil || t.finish || !t.shares[c.p] || now.Before(t.skip[c.p]) {
			continue
		}
		switch c.auth[t.h] {
		case 0:
			if t.part.HasManifest() || !t.asked {
				c.auth[t.h] = 1
				if !t.part.HasManifest() {
					t.asked = true
				}
				b.rr = (i + 1) % n
				return blobMsg{typ: blobWant, event: t.ref, hash: t.h}, true
			}
		case 2:
			if len(t.queue) > 0 {
				idx := t.queue[0]
				t.queue = t.queue[1:]
				t.inflight++
				b.rr = (i + 1) % n
				return blobMsg{typ: blobGet, hash: t.h, index: uint32(idx)}, true
			}
		}
	}
	return blobMsg{}, false
}

func (b *blobState) writeLoop(c *blobConn) {
	w := bufio.NewWriterSize(c.s, 4096)
	var scratch []byte
	for m := range c.out {
		_ = c.s.SetWriteDeadline(time.Now().Add(blobWriteTimeout))
		var err error
		if scratch, err = writeBlobMsg(w, m, scratch); err == nil && len(c.out) == 0 {
			err = w.Flush()
		}
		if err != nil {
			b.mu.Lock()
			b.dropLocked(c, err)
			b.mu.Unlock()
			return
		}
	}
}

func (b *blobState) readLoop(c *blobConn) {
	r := newBlobReader(c.s, wire.MaxFrame)
	for {
		_ = c.s.SetReadDeadline(time.Now().Add(blobIdle))
		m, err := r.read()
		b.mu.Lock()
		if err == nil && len(c.pending) == 0 {
			err = fmt.Errorf("%w: an answer nobody asked for", errBlobFrame)
		}
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			b.dropLocked(c, err)
			b.mu.Unlock()
			return
		}
		req := c.pending[0]
		c.pending = c.pending[1:]
		c.since = time.Now()
		t := b.transfers[req.hash]
		b.mu.Unlock()

		if err := b.answer(c, req, m, t); err != nil {
			b.mu.Lock()
			b.dropLocked(c, err)
			b.mu.Unlock()
			return
		}
		b.mu.Lock()
		if t != nil {
			b.maybeFinishLocked(t)
		}
		b.pumpLocked()
		b.mu.Unlock()
	}
}

// answer applies one answer to the request it answers. An error ends the
// stream.
func (b *blobState) answer(c *blobConn, req blobMsg, m *blobMsg, t *transfer) error {
	if m.hash != req.hash {
		return fmt.Errorf("%w: answer for another blob", errBlobFrame)
	}
	switch {
	case req.typ == blobWant && m.typ == blobManifest:
		var err error
		if t != nil && !t.part.HasManifest() {
			err = t.part.SetManifest(m.data)
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if t == nil {
			return nil
		}
		t.asked = false
		switch {
		case errors.Is(err, app.ErrTooLarge):
			b.failLocked(t, c.key, err)
			return nil
		case err != nil:
			b.n.log.Info("blob: bad manifest", "peer", c.p, "err", err)
			t.skip[c.p] = time.Now().Add(5 * time.Minute)
			c.auth[t.h] = 0
			return nil
		}
		c.auth[t.h] = 2
		if t.queue == nil && t.inflight == 0 {
			t.queue = t.part.Missing()
		}
		b.reportLocked(t, c.key, true)
	case req.typ == blobWant && m.typ == blobError:
		b.mu.Lock()
		defer b.mu.Unlock()
		c.auth[req.hash] = 0
		if t != nil {
			t.asked = false
			wait := 10 * time.Second
			if m.code == blobUnavailable {
				wait = time.Minute
			}
			t.skip[c.p] = time.Now().Add(wait)
		}
	case req.typ == blobGet && m.typ == blobData:
		if m.index != req.index {
			return fmt.Errorf("%w: chunk %d for a request of %d", errBlobFrame, m.index, req.index)
		}
		var err error
		if t != nil {
			err = t.part.WriteChunk(int(m.index), m.data)
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if t == nil {
			return nil
		}
		t.inflight--
		if err != nil {
			// A bad chunk: ask again, from this peer at most a few times.
			t.queue = append([]int{int(m.index)}, t.queue...)
			t.strikes[c.p]++
			b.n.log.Info("blob: chunk refused", "peer", c.p, "chunk", m.index, "err", err)
			if t.strikes[c.p] >= blobStrikes {
				t.skip[c.p] = time.Now().Add(5 * time.Minute)
			}
			return nil
		}
		b.reportLocked(t, c.key, false)
	case req.typ == blobGet && m.typ == blobError:
		b.mu.Lock()
		defer b.mu.Unlock()
		if t != nil {
			t.inflight--
			t.queue = append([]int{int(req.index)}, t.queue...)
			t.skip[c.p] = time.Now().Add(10 * time.Second)
		}
	default:
		return fmt.Errorf("%w: answer of type %d to a request of type %d", errBlobFrame, m.typ, req.typ)
	}
	return nil
}

// reportLocked publishes progress, at most every blobReport.
func (b *blobState) reportLocked(t *transfer, from app.PeerKey, now bool) {
	if !now && time.Since(t.reported) < blobReport {
		return
	}
	t.reported = time.Now()
	done, total := t.part.Progress()
	b.n.svc.ProgressFrom(t.h, from, done, total, nil)
}

// maybeFinishLocked moves a transfer with every chunk in to the store.
func (b *blobState) maybeFinishLocked(t *transfer) {
	if t.finish || t.inflight > 0 || len(t.queue) > 0 || !t.part.HasManifest() || b.transfers[t.h] != t {
		return
	}
	if len(t.part.Missing()) > 0 {
		t.queue = t.part.Missing()
		return
	}
	t.finish = true
	b.n.goRun(func() {
		err := t.part.Finish()
		done, total := t.part.Progress()
		b.mu.Lock()
		defer b.mu.Unlock()
		t.finish = false
		if err != nil {
			b.n.log.Warn("blob: finish", "hash", fmt.Sprintf("%x", t.h[:6]), "err", err)
			t.queue = t.part.Missing()
			select {
			case b.kick <- struct{}{}:
			default:
			}
			return
		}
		b.removeLocked(t)
		b.n.svc.ProgressFrom(t.h, app.PeerKey{}, total, total, nil)
		_ = done
		select {
		case b.kick <- struct{}{}:
		default:
		}
	})
}

// failLocked ends a transfer for good with err, shown to the person.
func (b *blobState) failLocked(t *transfer, from app.PeerKey, err error) {
	b.removeLocked(t)
	if derr := t.part.Discard(); derr != nil {
		b.n.log.Warn("blob: discard", "err", derr)
	}
	b.n.svc.ProgressFrom(t.h, from, 0, t.size, err)
}

func (b *blobState) removeLocked(t *transfer) {
	delete(b.transfers, t.h)
	if i := slices.Index(b.order, t.h); i >= 0 {
		b.order = slices.Delete(b.order, i, i+1)
		if b.rr > i {
			b.rr--
		}
	}
}

// dropLocked ends c; what it had asked for goes back to the queues.
func (b *blobState) dropLocked(c *blobConn, err error) {
	if c.closed {
		return
	}
	c.closed = true
	if b.conns[c.p] == c {
		delete(b.conns, c.p)
	}
	for _, req := range c.pending {
		t := b.transfers[req.hash]
		if t == nil {
			continue
		}
		switch req.typ {
		case blobGet:
			t.inflight--
			t.queue = append(t.queue, int(req.index))
		case blobWant:
			t.asked = false
		}
	}
	for _, t := range b.transfers {
		slices.Sort(t.queue)
	}
	c.pending = nil
	close(c.out)
	if c.s != nil {
		if err != nil {
			b.n.log.Debug("blob: stream ends", "peer", c.p, "err", err)
			c.s.Reset()
		} else {
			c.s.Close()
		}
	}
}

// closeAll ends every stream and closes the partials (they stay on disk).
func (b *blobState) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		b.dropLocked(c, nil)
	}
	for _, t := range b.transfers {
		if !t.finish {
			t.part.Close()
		}
	}
}
