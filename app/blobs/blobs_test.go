package blobs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"kite/app"
)

func randomBytes(t *testing.T, n int, seed uint64) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func openStore(t *testing.T, max int64) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), max)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rootOf computes the blob hash the long way, as DESIGN.md states it.
func rootOf(data []byte) app.Hash {
	h := sha256.New()
	h.Write([]byte("kite/blob/v1\x00"))
	binary.Write(h, binary.BigEndian, uint64(len(data)))
	for off := 0; off < len(data); off += ChunkSize {
		c := sha256.Sum256(data[off:min(off+ChunkSize, len(data))])
		h.Write(c[:])
	}
	return app.Hash(h.Sum(nil))
}

func TestImportSizes(t *testing.T) {
	s := openStore(t, 0)
	for _, n := range []int{0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 3*ChunkSize + 17} {
		data := randomBytes(t, n, uint64(n))
		h, size, err := s.Import(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("import %d bytes: %v", n, err)
		}
		if size != int64(n) {
			t.Errorf("import %d bytes: got size %d", n, size)
		}
		if want := rootOf(data); h != want {
			t.Errorf("import %d bytes: got hash %x, want %x", n, h[:6], want[:6])
		}
		if bh := app.BlobHash(data); bh != h {
			t.Errorf("app.BlobHash of %d bytes: got %x, want the store's %x", n, bh[:6], h[:6])
		}
		got, err := os.ReadFile(s.Path(h))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes: err %v, equal %v", n, err, bytes.Equal(got, data))
		}
		mb, err := s.Manifest(h)
		if err != nil {
			t.Fatal(err)
		}
		m, err := VerifyManifest(h, mb)
		if err != nil || len(m.Chunks) != NumChunks(int64(n)) {
			t.Fatalf("manifest of %d bytes: %v, %d chunks", n, err, len(m.Chunks))
		}
		for i := range m.Chunks {
			c, err := s.ReadChunk(h, i, nil)
			if err != nil || sha256.Sum256(c) != m.Chunks[i] {
				t.Fatalf("chunk %d of %d bytes: %v", i, n, err)
			}
		}
		if _, err := s.ReadChunk(h, len(m.Chunks), nil); err == nil {
			t.Errorf("chunk past the end: got no error")
		}
	}
	// Importing the same bytes again is the same blob.
	data := randomBytes(t, 1000, 1000)
	h1, _, _ := s.Import(bytes.NewReader(data))
	h2, _, err := s.Import(bytes.NewReader(data))
	if err != nil || h1 != h2 {
		t.Fatalf("import twice: %v, %x vs %x", err, h1[:4], h2[:4])
	}
}

func TestImportTooLarge(t *testing.T) {
	s := openStore(t, 3*ChunkSize)
	_, _, err := s.Import(io.LimitReader(zeroReader{}, 3*ChunkSize+1))
	if !errors.Is(err, app.ErrTooLarge) {
		t.Fatalf("import over the cap: got %v, want ErrTooLarge", err)
	}
	if msg := app.Plain(err); msg == "" || msg == "That is too large." {
		t.Errorf("plain words: got %q", msg)
	}
	tmps, _ := os.ReadDir(filepath.Join(s.dir, "tmp"))
	if len(tmps) != 0 {
		t.Errorf("temp files left after a refused import: %d", len(tmps))
	}
	if _, _, err := s.Import(io.LimitReader(zeroReader{}, 3*ChunkSize)); err != nil {
		t.Fatalf("import at the cap: %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestImportFlatMemory: a large import does not hold the file.
func TestImportFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 256 MiB")
	}
	s := openStore(t, 0)
	var before, after runtimeMem
	before.read()
	if _, _, err := s.Import(io.LimitReader(zeroReader{}, 256<<20)); err != nil {
		t.Fatal(err)
	}
	after.read()
	if grew := int64(after.total) - int64(before.total); grew > 16<<20 {
		t.Errorf("importing 256 MiB allocated %d MiB; want memory flat", grew>>20)
	}
}

func TestManifestDecodeGarbage(t *testing.T) {
	good := Manifest{Size: ChunkSize + 5, Chunks: []app.Hash{{1}, {2}}}
	for _, b := range [][]byte{
		nil, {1, 2, 3}, make([]byte, 8+31),
		append(binary.BigEndian.AppendUint64(nil, ChunkSize+5), make([]byte, 32)...), // too few chunks
		append(binary.BigEndian.AppendUint64(nil, 5), make([]byte, 64)...),           // too many
		append(binary.BigEndian.AppendUint64(nil, 1<<62), make([]byte, 32)...),       // absurd size
		append(binary.BigEndian.AppendUint64(nil, ^uint64(0)), make([]byte, 32)...),  // negative as int64
		append(binary.BigEndian.AppendUint64(nil, 0), make([]byte, 32)...),           // empty with a chunk
	} {
		if _, err := DecodeManifest(b); !errors.Is(err, ErrBadManifest) {
			t.Errorf("decode %x: got %v, want ErrBadManifest", b, err)
		}
	}
	m, err := DecodeManifest(good.Encode())
	if err != nil || m.Root() != good.Root() {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := VerifyManifest(app.Hash{9}, good.Encode()); !errors.Is(err, ErrBadManifest) {
		t.Errorf("manifest of another hash: got %v", err)
	}
}

func FuzzDecodeManifest(f *testing.F) {
	f.Add(Manifest{Size: 3, Chunks: []app.Hash{{1}}}.Encode())
	f.Add(Manifest{}.Encode())
	f.Add([]byte{0, 0, 0, 0, 0, 4, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeManifest(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Encode(), b) {
			t.Fatalf("decode then encode: got %x, want %x", m.Encode(), b)
		}
		// A store never takes a manifest that is not the blob's.
		s := openStore(t, 0)
		p, err := s.Begin(app.Hash{1}, app.EventID{2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Discard()
		if err := p.SetManifest(b); err == nil && m.Root() != (app.Hash{1}) {
			t.Fatalf("a manifest of another blob was accepted")
		}
	})
}

// receive copies a blob from src to dst chunk by chunk, stopping after
// stop chunks (-1: all).
func receive(t *testing.T, src, dst *Store, h app.Hash, stop int) *Partial {
	t.Helper()
	mb, err := src.Manifest(h)
	if err != nil {
		t.Fatal(err)
	}
	p, err := dst.Begin(h, app.EventID{7}, mb)
	if err != nil {
		t.Fatal(err)
	}
	for k, i := range p.Missing() {
		if k == stop {
			break
		}
		c, err := src.ReadChunk(h, i, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.WriteChunk(i, c); err != nil {
			t.Fatalf("write chunk %d: %v", i, err)
		}
	}
	return p
}

func TestReceiveRefusesBadChunks(t *testing.T) {
	src, dst := openStore(t, 0), openStore(t, 0)
	data := randomBytes(t, 5*ChunkSize+100, 5)
	h, _, _ := src.Import(bytes.NewReader(data))
	p := receive(t, src, dst, h, 0)
	good, _ := src.ReadChunk(h, 1, nil)
	bad := bytes.Clone(good)
	bad[100] ^= 1
	for _, tc := range []struct {
		i    int
		data []byte
	}{
		{1, bad}, {1, good[:10]}, {1, append(bytes.Clone(good), 0)}, {-1, good}, {6, good}, {2, good}, {5, nil},
	} {
		if err := p.WriteChunk(tc.i, tc.data); !errors.Is(err, ErrBadChunk) {
			t.Errorf("chunk %d of %d bytes: got %v, want ErrBadChunk", tc.i, len(tc.data), err)
		}
	}
	if done, _ := p.Progress(); done != 0 {
		t.Errorf("progress after bad chunks: got %d, want 0", done)
	}
	if err := p.Finish(); err == nil {
		t.Fatalf("finish with chunks missing: got no error")
	}
	// Garbage manifests are refused too.
	if err := p.SetManifest([]byte("garbage")); !errors.Is(err, ErrBadManifest) {
		t.Errorf("garbage manifest: got %v", err)
	}
	p.Discard()
	if _, err := dst.Begin(h, app.EventID{7}, Manifest{Size: 1, Chunks: []app.Hash{{}}}.Encode()); !errors.Is(err, ErrBadManifest) {
		t.Errorf("begin with another blob's manifest: got %v", err)
	}
}

func TestReceiveResumesAfterReopen(t *testing.T) {
	src := openStore(t, 0)
	dir := t.TempDir()
	dst, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 9*ChunkSize+1, 9)
	h, _, _ := src.Import(bytes.NewReader(data))
	p := receive(t, src, dst, h, 4)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// A restart: a new Store on the same directory.
	dst, err = Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	pend, err := dst.Pending()
	if err != nil || len(pend) != 1 || pend[0].Hash != h || pend[0].Ref != (app.EventID{7}) {
		t.Fatalf("pending after reopen: got %+v, %v", pend, err)
	}
	p, err = dst.Begin(h, pend[0].Ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	done, total := p.Progress()
	if done != 4*ChunkSize || total != int64(len(data)) {
		t.Fatalf("progress after reopen: got %d/%d, want %d/%d", done, total, 4*ChunkSize, len(data))
	}
	missing := p.Missing()
	if len(missing) != 6 || missing[0] != 4 {
		t.Fatalf("missing after reopen: got %v", missing)
	}
	for _, i := range missing {
		c, _ := src.ReadChunk(h, i, nil)
		if err := p.WriteChunk(i, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Finish(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst.Path(h))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("received blob differs (%v)", err)
	}
	if pend, _ := dst.Pending(); len(pend) != 0 {
		t.Errorf("pending after finish: %v", pend)
	}
	if !dst.Has(h) {
		t.Errorf("Has after finish: false")
	}
}

// TestFinishCatchesTornData: a chunk damaged on disk after it was
// written (a crash, a bad disk) is found at Finish and fetched again.
func TestFinishCatchesTornData(t *testing.T) {
	src, dst := openStore(t, 0), openStore(t, 0)
	data := randomBytes(t, 3*ChunkSize, 3)
	h, _, _ := src.Import(bytes.NewReader(data))
	p := receive(t, src, dst, h, -1)
	if _, err := p.data.WriteAt([]byte{0xff, 0xfe}, ChunkSize+10); err != nil {
		t.Fatal(err)
	}
	if err := p.Finish(); !errors.Is(err, ErrBadChunk) {
		t.Fatalf("finish with torn data: got %v, want ErrBadChunk", err)
	}
	if m := p.Missing(); len(m) != 1 || m[0] != 1 {
		t.Fatalf("missing after torn finish: got %v, want [1]", m)
	}
	c, _ := src.ReadChunk(h, 1, nil)
	if err := p.WriteChunk(1, c); err != nil {
		t.Fatal(err)
	}
	if err := p.Finish(); err != nil {
		t.Fatal(err)
	}
}

func TestReceiveOverCap(t *testing.T) {
	src, dst := openStore(t, 0), openStore(t, 2*ChunkSize)
	h, _, _ := src.Import(io.LimitReader(zeroReader{}, 2*ChunkSize+1))
	mb, _ := src.Manifest(h)
	_, err := dst.Begin(h, app.EventID{1}, mb)
	if !errors.Is(err, app.ErrTooLarge) {
		t.Fatalf("receive over the cap: got %v, want ErrTooLarge", err)
	}
}

func TestPendingIgnoresJunk(t *testing.T) {
	s := openStore(t, 0)
	os.MkdirAll(filepath.Join(s.dir, "partial", "not-hex"), 0o700)
	os.MkdirAll(filepath.Join(s.dir, "partial", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"), 0o700)
	pend, err := s.Pending()
	if err != nil || len(pend) != 0 {
		t.Fatalf("pending with junk: got %v, %v", pend, err)
	}
	// A partial with a damaged manifest starts again from nothing.
	h := app.Hash{0: 0x00, 1: 0x11}
	p, err := s.Begin(h, app.EventID{3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	os.WriteFile(filepath.Join(s.partialDir(h), "manifest"), []byte("junk"), 0o600)
	p, err = s.Begin(h, app.EventID{3}, nil)
	if err != nil || p.HasManifest() {
		t.Fatalf("reopen a damaged partial: %v, has manifest %v", err, p != nil && p.HasManifest())
	}
}

// runtimeMem is the bytes allocated so far (cumulative), to show that
// an operation's allocations do not grow with the data.
type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.total = ms.TotalAlloc
}

func TestDelete(t *testing.T) {
	s := openStore(t, 0)
	gone := randomBytes(t, ChunkSize+5, 1)
	kept := randomBytes(t, 100, 2)
	h, _, err := s.Import(bytes.NewReader(gone))
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := s.Import(bytes.NewReader(kept))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Manifest(h); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(h); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if s.Has(h) {
		t.Error("the deleted blob is still here")
	}
	for _, path := range []string{s.Path(h), s.manifestPath(h)} {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after delete: got %v, want it gone", filepath.Base(path), err)
		}
	}
	if _, err := s.Open(h); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("open a deleted blob: got %v, want ErrNotFound", err)
	}
	if err := s.Delete(h); err != nil {
		t.Errorf("delete again: got %v, want nil", err)
	}
	if got, err := os.ReadFile(s.Path(k)); err != nil || !bytes.Equal(got, kept) {
		t.Errorf("the other blob after a delete: err %v, equal %v", err, bytes.Equal(got, kept))
	}
	// The same bytes can come back.
	if h2, _, err := s.Import(bytes.NewReader(gone)); err != nil || h2 != h || !s.Has(h) {
		t.Errorf("import after delete: hash %x (want %x), err %v, has %v", h2[:6], h[:6], err, s.Has(h))
	}
}
