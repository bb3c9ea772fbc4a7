package blobs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"kite/app"
)

// Store is a content-addressed file store in one directory:
//
//	DIR/ab/abcd…            a complete blob, named by its hash (read-only)
//	DIR/ab/abcd….manifest   its manifest, kept so peers are served at once
//	DIR/partial/abcd…/      a blob being received: ref, manifest, data, bitmap
//	DIR/tmp/                imports in progress (emptied on Open)
//
// Every method is safe for concurrent use.
type Store struct {
	dir string
	max int64

	mu   sync.Mutex // mu guards the field below.
	open map[app.Hash]*Partial
}

var _ app.BlobStore = (*Store)(nil)

// Open opens (making it if needed) the store in dir. Blobs larger than
// maxSize are refused; zero or less means DefaultMaxSize.
func Open(dir string, maxSize int64) (*Store, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	for _, d := range []string{dir, filepath.Join(dir, "partial"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("blobs: open: %w", err)
		}
	}
	// Imports cut short by a crash leave temp files: nothing refers to them.
	tmps, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	for _, e := range tmps {
		os.Remove(filepath.Join(dir, "tmp", e.Name()))
	}
	return &Store{dir: dir, max: maxSize, open: make(map[app.Hash]*Partial)}, nil
}

// MaxSize is the largest blob the store accepts.
func (s *Store) MaxSize() int64 { return s.max }

// Path is where the complete blob h is (or will be).
func (s *Store) Path(h app.Hash) string {
	x := hex.EncodeToString(h[:])
	return filepath.Join(s.dir, x[:2], x)
}

func (s *Store) manifestPath(h app.Hash) string { return s.Path(h) + ".manifest" }

func (s *Store) partialDir(h app.Hash) string {
	return filepath.Join(s.dir, "partial", hex.EncodeToString(h[:]))
}

// Has reports whether the complete blob h is here.
func (s *Store) Has(h app.Hash) bool {
	fi, err := os.Stat(s.Path(h))
	return err == nil && fi.Mode().IsRegular()
}

// Open opens the complete blob h for reading.
func (s *Store) Open(h app.Hash) (*os.File, error) {
	f, err := os.Open(s.Path(h))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("blobs: %x: %w", h[:6], app.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("blobs: open blob: %w", err)
	}
	return f, nil
}

// Delete removes the complete blob h and its manifest; a blob that is
// not here is no error. Blobs are shared by content, so the caller makes
// sure nothing refers to h any more.
func (s *Store) Delete(h app.Hash) error {
	s.mu.Lock() // against Begin, which checks Has under mu
	defer s.mu.Unlock()
	for _, path := range []string{s.Path(h), s.manifestPath(h)} {
		// Blobs are read-only, which some systems honour for removal.
		if err := os.Chmod(path, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("blobs: delete: %w", err)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("blobs: delete: %w", err)
		}
	}
	if err := syncDir(filepath.Dir(s.Path(h))); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("blobs: delete: %w", err)
	}
	return nil
}

func tooLarge(size, max int64) error {
	return app.Userf(app.ErrTooLarge, "the file is %s; the largest file Kite sends is %s", app.HumanBytes(size), app.HumanBytes(max))
}

// Import copies r into the store and returns the blob's hash and size.
// Memory stays flat whatever the size: the bytes go to a temp file chunk
// by chunk and are renamed into place once hashed. More than MaxSize
// bytes is refused with an error matching app.ErrTooLarge.
func (s *Store) Import(r io.Reader) (app.Hash, int64, error) {
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "import-*")
	if err != nil {
		return app.Hash{}, 0, fmt.Errorf("blobs: import: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // after a successful rename this finds nothing
	}()
	buf := make([]byte, ChunkSize)
	var m Manifest
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			if m.Size+int64(n) > s.max {
				return app.Hash{}, 0, tooLarge(m.Size+int64(n), s.max)
			}
			m.Chunks = append(m.Chunks, sha256.Sum256(buf[:n]))
			m.Size += int64(n)
			if _, err := tmp.Write(buf[:n]); err != nil {
				return app.Hash{}, 0, fmt.Errorf("blobs: import: %w", err)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return app.Hash{}, 0, fmt.Errorf("blobs: import: read: %w", rerr)
		}
	}
	h := m.Root()
	if s.Has(h) {
		return h, m.Size, nil
	}
	if err := tmp.Sync(); err != nil {
		return app.Hash{}, 0, fmt.Errorf("blobs: import: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return app.Hash{}, 0, fmt.Errorf("blobs: import: %w", err)
	}
	if err := s.place(tmp.Name(), h, m); err != nil {
		return app.Hash{}, 0, err
	}
	return h, m.Size, nil
}

// place moves a complete, verified file into the store with its manifest.
func (s *Store) place(from string, h app.Hash, m Manifest) error {
	dst := s.Path(h)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("blobs: place: %w", err)
	}
	if err := writeFileSync(s.manifestPath(h), m.Encode()); err != nil {
		return fmt.Errorf("blobs: place: %w", err)
	}
	if err := os.Chmod(from, 0o400); err != nil {
		return fmt.Errorf("blobs: place: %w", err)
	}
	if err := os.Rename(from, dst); err != nil {
		return fmt.Errorf("blobs: place: %w", err)
	}
	return syncDir(filepath.Dir(dst))
}

// Manifest returns the encoded manifest of the complete blob h.
func (s *Store) Manifest(h app.Hash) ([]byte, error) {
	if b, err := os.ReadFile(s.manifestPath(h)); err == nil {
		if _, err := VerifyManifest(h, b); err == nil {
			return b, nil
		}
	}
	// Missing or damaged: compute it again from the blob.
	f, err := s.Open(h)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var m Manifest
	buf := make([]byte, ChunkSize)
	for {
		n, rerr := io.ReadFull(f, buf)
		if n > 0 {
			m.Chunks = append(m.Chunks, sha256.Sum256(buf[:n]))
			m.Size += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("blobs: manifest: %w", rerr)
		}
	}
	if m.Root() != h {
		return nil, fmt.Errorf("blobs: blob %x is damaged on disk", h[:6])
	}
	b := m.Encode()
	if err := writeFileSync(s.manifestPath(h), b); err != nil {
		return nil, fmt.Errorf("blobs: manifest: %w", err)
	}
	return b, nil
}

// ReadChunk reads chunk i of the complete blob h into buf (grown if
// needed) and returns it.
func (s *Store) ReadChunk(h app.Hash, i int, buf []byte) ([]byte, error) {
	f, err := s.Open(h)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("blobs: read chunk: %w", err)
	}
	if i < 0 || i >= NumChunks(fi.Size()) {
		return nil, fmt.Errorf("blobs: read chunk %d of %d: %w", i, NumChunks(fi.Size()), app.ErrInvalid)
	}
	n := int(min(ChunkSize, fi.Size()-int64(i)*ChunkSize))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := f.ReadAt(buf, int64(i)*ChunkSize); err != nil {
		return nil, fmt.Errorf("blobs: read chunk: %w", err)
	}
	return buf, nil
}

// Receive is Begin without a manifest, for app.BlobStore.
func (s *Store) Receive(h app.Hash, ref app.EventID) (app.BlobPartial, error) {
	p, err := s.Begin(h, ref, nil)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Pending lists the blobs being received, as left on disk.
func (s *Store) Pending() ([]app.PendingBlob, error) {
	es, err := os.ReadDir(filepath.Join(s.dir, "partial"))
	if err != nil {
		return nil, fmt.Errorf("blobs: pending: %w", err)
	}
	var out []app.PendingBlob
	for _, e := range es {
		var h app.Hash
		if b, err := hex.DecodeString(e.Name()); err != nil || len(b) != len(h) || !e.IsDir() {
			continue
		} else {
			copy(h[:], b)
		}
		ref, err := os.ReadFile(filepath.Join(s.dir, "partial", e.Name(), "ref"))
		if err != nil || len(ref) != len(app.EventID{}) {
			continue // torn before it was written: the event will ask again
		}
		out = append(out, app.PendingBlob{Hash: h, Ref: app.EventID(ref)})
	}
	return out, nil
}

func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !strings.Contains(err.Error(), "invalid argument") {
		return err
	}
	return nil
}
