package blobs

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"kite/app"
)

// syncEvery is how many chunks are written between two fsyncs of a
// partial's data and bitmap. A crash loses at most this many chunks of
// progress; Finish verifies everything anyway.
const syncEvery = 32

// Partial is a blob being received. Its directory holds the event that
// asked for it (ref), the manifest once known, the data file (sparse, at
// its final size) and a bitmap of one byte per chunk; all survive a
// restart, so a transfer resumes where it stopped. One owner at a time:
// the Store hands out one Partial per hash.
type Partial struct {
	s   *Store
	h   app.Hash
	dir string

	mu       sync.Mutex // mu guards the fields below.
	m        *Manifest
	data     *os.File
	bitmap   *os.File
	have     []byte
	done     int64
	unsynced int
	closed   bool
}

var _ app.BlobPartial = (*Partial)(nil)

// Begin starts (or resumes) receiving blob h for the media event ref.
// manifest may be nil when it is not known yet; SetManifest gives it
// later. A partial already on disk is reopened with what it holds.
func (s *Store) Begin(h app.Hash, ref app.EventID, manifest []byte) (*Partial, error) {
	s.mu.Lock()
	if p := s.open[h]; p != nil {
		s.mu.Unlock()
		if manifest != nil {
			if err := p.SetManifest(manifest); err != nil {
				return nil, err
			}
		}
		return p, nil
	}
	if s.Has(h) {
		s.mu.Unlock()
		return nil, fmt.Errorf("blobs: begin: blob %x is already here", h[:6])
	}
	defer s.mu.Unlock()
	p := &Partial{s: s, h: h, dir: s.partialDir(h)}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return nil, fmt.Errorf("blobs: begin: %w", err)
	}
	refPath := filepath.Join(p.dir, "ref")
	if old, err := os.ReadFile(refPath); err != nil || len(old) != len(ref) {
		if err := writeFileSync(refPath, ref[:]); err != nil {
			return nil, fmt.Errorf("blobs: begin: %w", err)
		}
		if err := syncDir(filepath.Dir(p.dir)); err != nil {
			return nil, fmt.Errorf("blobs: begin: %w", err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(p.dir, "manifest")); err == nil {
		if err := p.load(b); err != nil {
			// A damaged partial is started again from nothing.
			p.reset()
		}
	}
	if manifest != nil {
		if err := p.SetManifest(manifest); err != nil {
			p.closeFiles()
			return nil, err
		}
	}
	s.open[h] = p
	return p, nil
}

// load opens the files of a partial whose manifest is on disk.
func (p *Partial) load(mb []byte) error {
	m, err := VerifyManifest(p.h, mb)
	if err != nil {
		return err
	}
	if m.Size > p.s.max {
		return tooLarge(m.Size, p.s.max)
	}
	data, err := os.OpenFile(filepath.Join(p.dir, "data"), os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	bitmap, err := os.OpenFile(filepath.Join(p.dir, "bitmap"), os.O_RDWR, 0o600)
	if err != nil {
		data.Close()
		return err
	}
	have := make([]byte, len(m.Chunks))
	n, _ := io.ReadFull(bitmap, have)
	if fi, err := data.Stat(); err != nil || fi.Size() != m.Size || n != len(have) {
		data.Close()
		bitmap.Close()
		return errors.New("blobs: partial files do not match the manifest")
	}
	p.m, p.data, p.bitmap, p.have = &m, data, bitmap, have
	p.done = 0
	for i, b := range have {
		if b != 0 {
			p.have[i] = 1
			p.done += int64(m.ChunkLen(i))
		}
	}
	return nil
}

// reset forgets everything but ref.
func (p *Partial) reset() {
	for _, name := range []string{"manifest", "data", "bitmap"} {
		os.Remove(filepath.Join(p.dir, name))
	}
	p.m, p.data, p.bitmap, p.have, p.done = nil, nil, nil, nil, 0
}

// HasManifest reports whether the manifest is known.
func (p *Partial) HasManifest() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m != nil
}

// SetManifest checks b against the blob's hash and the store's size cap
// and persists it with an empty data file and bitmap. Setting the same
// manifest again does nothing.
func (p *Partial) SetManifest(b []byte) error {
	m, err := VerifyManifest(p.h, b)
	if err != nil {
		return err
	}
	if m.Size > p.s.max {
		return tooLarge(m.Size, p.s.max)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("blobs: partial is closed")
	}
	if p.m != nil {
		return nil // the root fixes the manifest: it is the same one
	}
	data, err := os.OpenFile(filepath.Join(p.dir, "data"), os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("blobs: set manifest: %w", err)
	}
	fail := func(err error) error {
		data.Close()
		return fmt.Errorf("blobs: set manifest: %w", err)
	}
	if err := data.Truncate(m.Size); err != nil {
		return fail(err)
	}
	have := make([]byte, len(m.Chunks))
	if err := writeFileSync(filepath.Join(p.dir, "bitmap"), have); err != nil {
		return fail(err)
	}
	bitmap, err := os.OpenFile(filepath.Join(p.dir, "bitmap"), os.O_RDWR, 0o600)
	if err != nil {
		return fail(err)
	}
	if err := data.Sync(); err != nil {
		bitmap.Close()
		return fail(err)
	}
	// The manifest last: its presence says the other files are ready.
	if err := writeFileSync(filepath.Join(p.dir, "manifest"), b); err != nil {
		bitmap.Close()
		return fail(err)
	}
	if err := syncDir(p.dir); err != nil {
		bitmap.Close()
		return fail(err)
	}
	p.m, p.data, p.bitmap, p.have, p.done = &m, data, bitmap, have, 0
	return nil
}

// Missing lists the chunks still to fetch, in order; nil until the
// manifest is known.
func (p *Partial) Missing() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for i, b := range p.have {
		if b == 0 {
			out = append(out, i)
		}
	}
	return out
}

// Progress is how many bytes are here of how many; total is -1 until the
// manifest is known.
func (p *Partial) Progress() (done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		return 0, -1
	}
	return p.done, p.m.Size
}

// WriteChunk verifies chunk i against the manifest and writes it. A chunk
// of the wrong length or hash is refused with ErrBadChunk; one already
// here is accepted and ignored.
func (p *Partial) WriteChunk(i int, data []byte) error {
	p.mu.Lock()
	m := p.m
	closed := p.closed
	p.mu.Unlock()
	switch {
	case closed:
		return errors.New("blobs: partial is closed")
	case m == nil:
		return errors.New("blobs: write chunk: no manifest yet")
	case i < 0 || i >= len(m.Chunks):
		return fmt.Errorf("%w: chunk %d of %d", ErrBadChunk, i, len(m.Chunks))
	case len(data) != m.ChunkLen(i):
		return fmt.Errorf("%w: chunk %d has %d bytes, want %d", ErrBadChunk, i, len(data), m.ChunkLen(i))
	case sha256.Sum256(data) != m.Chunks[i]:
		return fmt.Errorf("%w: chunk %d", ErrBadChunk, i)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("blobs: partial is closed")
	}
	if p.have[i] != 0 {
		return nil
	}
	if _, err := p.data.WriteAt(data, int64(i)*ChunkSize); err != nil {
		return fmt.Errorf("blobs: write chunk: %w", err)
	}
	if _, err := p.bitmap.WriteAt([]byte{1}, int64(i)); err != nil {
		return fmt.Errorf("blobs: write chunk: %w", err)
	}
	p.have[i] = 1
	p.done += int64(len(data))
	p.unsynced++
	if p.unsynced >= syncEvery {
		return p.syncLocked()
	}
	return nil
}

func (p *Partial) syncLocked() error {
	p.unsynced = 0
	if err := p.data.Sync(); err != nil {
		return fmt.Errorf("blobs: sync partial: %w", err)
	}
	if err := p.bitmap.Sync(); err != nil {
		return fmt.Errorf("blobs: sync partial: %w", err)
	}
	return nil
}

// Finish verifies the whole file against the manifest and moves it into
// the store. A chunk that does not verify (a crash tore it) is marked
// missing again and Finish fails with ErrBadChunk: fetch it and retry.
func (p *Partial) Finish() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("blobs: partial is closed")
	}
	if p.m == nil {
		return errors.New("blobs: finish: no manifest yet")
	}
	if i := bytes.IndexByte(p.have, 0); i >= 0 {
		return fmt.Errorf("blobs: finish: chunk %d is missing", i)
	}
	if err := p.syncLocked(); err != nil {
		return err
	}
	buf := make([]byte, ChunkSize)
	var bad []int
	for i, want := range p.m.Chunks {
		b := buf[:p.m.ChunkLen(i)]
		if _, err := p.data.ReadAt(b, int64(i)*ChunkSize); err != nil {
			return fmt.Errorf("blobs: finish: %w", err)
		}
		if sha256.Sum256(b) != want {
			bad = append(bad, i)
		}
	}
	if len(bad) > 0 {
		for _, i := range bad {
			p.have[i] = 0
			p.done -= int64(p.m.ChunkLen(i))
			p.bitmap.WriteAt([]byte{0}, int64(i))
		}
		p.bitmap.Sync()
		return fmt.Errorf("%w: %d chunks on disk do not verify", ErrBadChunk, len(bad))
	}
	p.data.Close()
	p.bitmap.Close()
	p.closed = true
	defer p.s.forget(p)
	if err := p.s.place(filepath.Join(p.dir, "data"), p.h, *p.m); err != nil {
		return err
	}
	return os.RemoveAll(p.dir)
}

// Close syncs and releases the files; the partial stays on disk to be
// resumed.
func (p *Partial) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.s.forget(p)
	return p.closeLocked()
}

// closeFiles closes a partial that was never handed out.
func (p *Partial) closeFiles() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeLocked()
}

func (p *Partial) closeLocked() error {
	if p.closed {
		return nil
	}
	p.closed = true
	var err error
	if p.data != nil {
		err = errors.Join(p.syncLocked(), p.data.Close(), p.bitmap.Close())
	}
	return err
}

// Discard closes the partial and deletes it.
func (p *Partial) Discard() error {
	p.Close()
	return os.RemoveAll(p.dir)
}

func (s *Store) forget(p *Partial) {
	s.mu.Lock()
	if s.open[p.h] == p {
		delete(s.open, p.h)
	}
	s.mu.Unlock()
}
