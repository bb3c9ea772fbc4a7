package node

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"

	"kite/app"
	"kite/app/blobs"
)

// withBlobs gives p a blob store capped at max bytes.
func withBlobs(t *testing.T, p *testPeer, max int64) *blobs.Store {
	t.Helper()
	st, err := blobs.Open(filepath.Join(t.TempDir(), "blobs"), max)
	if err != nil {
		t.Fatal(err)
	}
	p.svc.SetBlobs(st)
	return st
}

// randomFile writes n random bytes (seed printed) and returns the path
// and SHA-256 of the bytes.
func randomFile(t *testing.T, n int) (string, [32]byte) {
	t.Helper()
	seed := rand.Uint64()
	t.Logf("random file of %d bytes, seed %d", n, seed)
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for k := range 8 {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	path := filepath.Join(t.TempDir(), "file.bin")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, sha256.Sum256(b)
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return [32]byte(h.Sum(nil))
}

// pair makes two befriended, connected peers with blob stores.
func blobPair(t *testing.T, capA, capB int64) (a, b *testPeer, sa, sb *blobs.Store, conv app.ConvID) {
	t.Helper()
	a, b = newPeer(t, "ada"), newPeer(t, "bob")
	sa, sb = withBlobs(t, a, capA), withBlobs(t, b, capB)
	befriend(t, a, b)
	waitFor(t, 10*time.Second, "ada and bob connect", func() bool { return a.connected(b) && b.connected(a) })
	conv, err := a.svc.Direct(context.Background(), b.key, false)
	if err != nil {
		t.Fatal(err)
	}
	return a, b, sa, sb, conv
}

func sendFile(t *testing.T, p *testPeer, conv app.ConvID, path string) (app.Event, app.Hash) {
	t.Helper()
	ev, err := p.svc.SendFile(context.Background(), conv, path, app.MediaOptions{Caption: "here"})
	if err != nil {
		t.Fatalf("send file: %v", err)
	}
	m, err := p.svc.Message(context.Background(), ev.ID)
	if err != nil || m.Media == nil {
		t.Fatalf("sent media message: %v", err)
	}
	return ev, m.Media.Hash
}

func TestBlobTransfer20MiB(t *testing.T) {
	a, b, _, sb, conv := blobPair(t, 0, 0)
	updates, cancel := b.svc.Subscribe(4096, nil)
	defer cancel()
	path, sum := randomFile(t, 20<<20)
	start := time.Now()
	ev, h := sendFile(t, a, conv, path)
	waitFor(t, 30*time.Second, "bob has the blob", func() bool { return sb.Has(h) })
	took := time.Since(start)
	t.Logf("20 MiB in %v (%.0f MB/s)", took, 20*1.048576/took.Seconds())
	if got := fileSum(t, sb.Path(h)); got != sum {
		t.Fatalf("received file: got sha256 %x, want %x", got[:8], sum[:8])
	}
	// Progress went out, ending at the total, naming ada.
	var last app.Update
	for len(updates) > 0 {
		if u := <-updates; u.Kind == app.UpdTransfer && u.Hash == h {
			last = u
		}
	}
	if last.Done != 20<<20 || last.Total != 20<<20 || last.Err != nil {
		t.Errorf("last progress: got %d/%d err %v, want %d/%d", last.Done, last.Total, last.Err, 20<<20, 20<<20)
	}
	// Bob can save it; the transfers list shows it done, from ada.
	dst := filepath.Join(t.TempDir(), "saved.bin")
	if err := b.svc.SaveMedia(context.Background(), ev.ID, dst); err != nil {
		t.Fatal(err)
	}
	if got := fileSum(t, dst); got != sum {
		t.Fatalf("saved file differs")
	}
	ts := b.svc.Transfers()
	if len(ts) != 1 || ts[0].Peer != a.key || !ts[0].Finished() {
		t.Errorf("bob's transfers: got %+v, want one finished from ada", ts)
	}
}

func TestBlobResumeAfterDisconnect(t *testing.T) {
	a, b, _, sb, conv := blobPair(t, 0, 0)
	// Slow ada down so the disconnect lands in the middle.
	slow := func(h app.Hash, i int, data []byte) []byte { time.Sleep(8 * time.Millisecond); return data }
	waitFor(t, 5*time.Second, "blob state", func() bool { return a.node.blobs != nil })
	a.node.blobs.tamper.Store(&slow)
	const size = 20 << 20
	updates, cancel := b.svc.Subscribe(4096, nil)
	defer cancel()
	path, sum := randomFile(t, size)
	_, h := sendFile(t, a, conv, path)
	var doneAt int64
	deadline := time.After(30 * time.Second)
	for doneAt == 0 {
		select {
		case u := <-updates:
			if u.Kind == app.UpdTransfer && u.Hash == h && u.Total > 0 && u.Done >= u.Total/2 {
				doneAt = u.Done
			}
		case <-deadline:
			t.Fatal("no progress to half way")
		}
	}
	if err := a.node.Disconnect(b.key); err != nil {
		t.Fatal(err)
	}
	servedAt := a.node.blobs.served.Load()
	t.Logf("disconnected at %d of %d bytes (%d served)", doneAt, size, servedAt)
	if doneAt >= size {
		t.Fatalf("the transfer finished before the disconnect")
	}
	waitFor(t, 60*time.Second, "bob has the blob after reconnecting", func() bool { return sb.Has(h) })
	if got := fileSum(t, sb.Path(h)); got != sum {
		t.Fatalf("received file: got sha256 %x, want %x", got[:8], sum[:8])
	}
	after := a.node.blobs.served.Load() - servedAt
	// What was done is not sent again: what is left, plus at most the
	// requests in flight at the disconnect and the manifest.
	limit := int64(size) - doneAt + (blobWindow+2)*blobChunk + 64<<10
	t.Logf("served after the reconnect: %d bytes (limit %d)", after, limit)
	if after > limit {
		t.Fatalf("served %d bytes after the reconnect; want ≤ %d (finished chunks sent again?)", after, limit)
	}
}

func TestBlobCorruptChunkRefetched(t *testing.T) {
	a, b, _, sb, conv := blobPair(t, 0, 0)
	var bad atomic.Int32
	evil := func(h app.Hash, i int, data []byte) []byte {
		if i == 3 && bad.Add(1) <= 2 {
			data[100] ^= 0xff // a malicious or broken peer
		}
		return data
	}
	waitFor(t, 5*time.Second, "blob state", func() bool { return a.node.blobs != nil })
	a.node.blobs.tamper.Store(&evil)
	path, sum := randomFile(t, 4<<20)
	_, h := sendFile(t, a, conv, path)
	waitFor(t, 30*time.Second, "bob has the blob", func() bool { return sb.Has(h) })
	if got := fileSum(t, sb.Path(h)); got != sum {
		t.Fatalf("received file: got sha256 %x, want %x", got[:8], sum[:8])
	}
	if n := bad.Load(); n < 3 {
		t.Fatalf("chunk 3 served %d times; want the two bad copies refused and a third asked for", n)
	}
	_ = b
}

func TestBlobOverCap(t *testing.T) {
	ctx := context.Background()
	t.Run("sender", func(t *testing.T) {
		a, _, _, _, conv := blobPair(t, 1<<20, 0)
		path, _ := randomFile(t, 2<<20)
		_, err := a.svc.SendFile(ctx, conv, path, app.MediaOptions{})
		if !errors.Is(err, app.ErrTooLarge) {
			t.Fatalf("send over the cap: got %v, want ErrTooLarge", err)
		}
		if ms, _ := a.svc.Messages(ctx, conv, app.Cursor{}, 10); len(ms) != 0 {
			t.Fatalf("messages after a refused send: got %d, want 0", len(ms))
		}
	})
	t.Run("receiver", func(t *testing.T) {
		a, b, _, sb, conv := blobPair(t, 0, 1<<20)
		updates, cancel := b.svc.Subscribe(4096, nil)
		defer cancel()
		path, _ := randomFile(t, 2<<20)
		_, h := sendFile(t, a, conv, path)
		var refused app.Update
		deadline := time.After(10 * time.Second)
		for refused.Err == nil {
			select {
			case u := <-updates:
				if u.Kind == app.UpdTransfer && u.Hash == h {
					refused = u
				}
			case <-deadline:
				t.Fatal("no refusal on the receiving side")
			}
		}
		if !errors.Is(refused.Err, app.ErrTooLarge) || app.Plain(refused.Err) == "" {
			t.Fatalf("refusal: got %v, want ErrTooLarge in plain words", refused.Err)
		}
		t.Logf("bob says: %s", app.Plain(refused.Err))
		time.Sleep(300 * time.Millisecond)
		if sb.Has(h) {
			t.Fatal("bob stored a blob over his cap")
		}
		if p, _ := sb.Pending(); len(p) != 0 {
			t.Fatalf("bob keeps a partial over his cap: %v", p)
		}
	})
}

// TestBlobFairness: two transfers at once share the peer: when the first
// is done, the second is well along.
func TestBlobFairness(t *testing.T) {
	a, b, _, sb, conv := blobPair(t, 0, 0)
	slow := func(h app.Hash, i int, data []byte) []byte { time.Sleep(15 * time.Millisecond); return data }
	waitFor(t, 5*time.Second, "blob state", func() bool { return a.node.blobs != nil })
	a.node.blobs.tamper.Store(&slow)
	updates, cancel := b.svc.Subscribe(4096, nil)
	defer cancel()
	p1, _ := randomFile(t, 8<<20)
	p2, _ := randomFile(t, 8<<20)
	_, h1 := sendFile(t, a, conv, p1)
	_, h2 := sendFile(t, a, conv, p2)
	progress := map[app.Hash]int64{}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case u := <-updates:
			if u.Kind != app.UpdTransfer {
				continue
			}
			progress[u.Hash] = u.Done
			if u.Total > 0 && u.Done == u.Total {
				other := h2
				if u.Hash == h2 {
					other = h1
				}
				got := progress[other]
				b.node.blobs.mu.Lock()
				if t := b.node.blobs.transfers[other]; t != nil {
					got, _ = t.part.Progress()
				}
				b.node.blobs.mu.Unlock()
				t.Logf("when one transfer finished the other had %d of %d bytes", got, u.Total)
				if got < u.Total/4 {
					t.Fatalf("when one transfer finished the other had %d of %d bytes; want them to share", got, u.Total)
				}
				waitFor(t, 30*time.Second, "both blobs", func() bool { return sb.Has(h1) && sb.Has(h2) })
				return
			}
		case <-deadline:
			t.Fatal("transfers did not finish")
		}
	}
}

// TestBlobRefusedToStrangers: a peer outside the conversation gets
// nothing, even with the event ID and the hash.
func TestBlobRefusedToStrangers(t *testing.T) {
	a, _, _, _, conv := blobPair(t, 0, 0)
	eve := newPeer(t, "eve")
	path, _ := randomFile(t, 1<<20)
	ev, h := sendFile(t, a, conv, path)
	ctx := context.Background()
	if err := eve.node.Connect(ctx, a.node.Addrs()); err != nil {
		t.Fatal(err)
	}
	s, err := eve.node.h.NewStream(ctx, a.node.ID(), protocol.ID(ProtoBlob))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Reset()
	s.SetDeadline(time.Now().Add(10 * time.Second))
	w := bufio.NewWriter(s)
	writeBlobMsg(w, &blobMsg{typ: blobWant, event: ev.ID, hash: h}, nil)
	w.Flush()
	m, err := newBlobReader(s, 1<<20).read()
	if err != nil {
		t.Fatal(err)
	}
	if m.typ != blobError || m.code != blobUnavailable {
		t.Fatalf("a stranger's Want: got type %d code %d, want an error", m.typ, m.code)
	}
	// Asking for a chunk without a manifest resets the stream.
	writeBlobMsg(w, &blobMsg{typ: blobGet, hash: h, index: 0}, nil)
	w.Flush()
	if m, err := newBlobReader(s, 1<<20).read(); err == nil {
		t.Fatalf("a chunk without a manifest: got type %d, want the stream reset", m.typ)
	}
}

// fakeFiles serves one media event over ServeBlobs, without libp2p.
type fakeFiles struct {
	msg   app.Message
	store app.BlobStore
	mu    sync.Mutex
}

func (f *fakeFiles) Message(ctx context.Context, id app.EventID) (app.Message, error) {
	if id != f.msg.ID {
		return app.Message{}, app.ErrNotFound
	}
	return f.msg, nil
}
func (f *fakeFiles) Blobs() app.BlobStore                                    { return f.store }
func (f *fakeFiles) ProgressFrom(app.Hash, app.PeerKey, int64, int64, error) {}

func TestServeBlobsOverPipe(t *testing.T) {
	st, _ := blobs.Open(t.TempDir(), 0)
	data := bytes.Repeat([]byte("kite"), 200_000)
	h, n, _ := st.Import(bytes.NewReader(data))
	f := &fakeFiles{store: st, msg: app.Message{ID: app.EventID{1}, Conv: app.ConvID{2},
		Media: &app.Media{Hash: h, Size: uint64(n)}}}
	client, server := pipePair()
	done := make(chan error, 1)
	go func() {
		done <- ServeBlobs(context.Background(), server, f, func(c app.ConvID) bool { return c == (app.ConvID{2}) }, nil)
		server.Close()
	}()
	w := bufio.NewWriter(client)
	r := newBlobReader(client, 1<<20)
	writeBlobMsg(w, &blobMsg{typ: blobWant, event: app.EventID{1}, hash: h}, nil)
	for i := range blobs.NumChunks(n) {
		writeBlobMsg(w, &blobMsg{typ: blobGet, hash: h, index: uint32(i)}, nil)
	}
	w.Flush()
	m, err := r.read()
	if err != nil || m.typ != blobManifest {
		t.Fatalf("want: got %v, %v", m, err)
	}
	man, err := blobs.VerifyManifest(h, m.data)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for i := range man.Chunks {
		m, err := r.read()
		if err != nil || m.typ != blobData || int(m.index) != i || sha256.Sum256(m.data) != man.Chunks[i] {
			t.Fatalf("chunk %d: %v", i, err)
		}
		got = append(got, m.data...)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("chunks do not make the blob")
	}
	client.Close()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

type pipeEnd struct {
	io.Reader
	io.WriteCloser
}

func pipePair() (*pipeEnd, *pipeEnd) {
	r1, w1 := io.Pipe()
	r2, w2 := io.Pipe()
	return &pipeEnd{r1, w2}, &pipeEnd{r2, w1}
}

func FuzzBlobMsg(f *testing.F) {
	f.Add(appendBlobMsg(nil, &blobMsg{typ: blobWant}))
	f.Add(appendBlobMsg(nil, &blobMsg{typ: blobGet, index: 7}))
	f.Add(appendBlobMsg(nil, &blobMsg{typ: blobData, index: 1, data: []byte("abc")}))
	f.Add(appendBlobMsg(nil, &blobMsg{typ: blobError, code: 1, data: []byte("no")}))
	f.Add(appendBlobMsg(nil, &blobMsg{typ: blobManifest, data: make([]byte, 40)}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeBlobMsg(b)
		if err != nil {
			return
		}
		if again := appendBlobMsg(nil, m); !bytes.Equal(again, b) {
			t.Fatalf("decode then encode: got %x, want %x", again, b)
		}
	})
}
