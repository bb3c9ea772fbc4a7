package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"kite/app/media"
	"kite/app/pb"
)

// MaxViewOnceBytes caps view-once media: it is held in memory on both
// sides (DESIGN.md §6).
const MaxViewOnceBytes = 100 << 20

// MaxPhotoBytes caps a photo file: photos are decoded and re-encoded in
// memory to strip their metadata.
const MaxPhotoBytes = 50 << 20

// BlobStore is the content-addressed file store (app/blobs implements it):
// what SendFile and SaveMedia need, and what the network needs to serve
// and receive blobs. A blob's hash commits to its size and to the hash of
// every 256 KiB chunk, listed in its manifest.
type BlobStore interface {
	// Import copies r into the store; more than MaxSize is ErrTooLarge.
	Import(r io.Reader) (Hash, int64, error)
	Has(h Hash) bool
	// Path is where the complete blob is on disk.
	Path(h Hash) string
	MaxSize() int64
	// Manifest is the encoded manifest of a complete blob.
	Manifest(h Hash) ([]byte, error)
	// ReadChunk reads chunk i of a complete blob into buf.
	ReadChunk(h Hash, i int, buf []byte) ([]byte, error)
	// Receive starts or resumes receiving h for the media event ref; the
	// partial survives restarts until finished or discarded.
	Receive(h Hash, ref EventID) (BlobPartial, error)
	// Pending lists the partials on disk, to resume after a restart.
	Pending() ([]PendingBlob, error)
}

// BlobPartial is a blob being received, chunk by verified chunk.
type BlobPartial interface {
	HasManifest() bool
	// SetManifest checks the manifest against the hash and the size cap.
	SetManifest(b []byte) error
	Missing() []int
	// WriteChunk verifies chunk i against the manifest and stores it.
	WriteChunk(i int, data []byte) error
	// Progress is bytes here of total (-1 until the manifest is known).
	Progress() (done, total int64)
	// Finish verifies the whole blob and moves it into the store.
	Finish() error
	Close() error
	Discard() error
}

// PendingBlob is a partial blob left on disk and the event it is for.
type PendingBlob struct {
	Hash Hash
	Ref  EventID
}

// Transfer is one blob moving, for the transfers list.
type Transfer struct {
	Hash      Hash      `json:"hash"`
	Direction string    `json:"direction"` // "download" or "import"
	Name      string    `json:"name,omitempty"`
	Done      int64     `json:"done"`
	Total     int64     `json:"total"` // -1 while unknown
	Peer      PeerKey   `json:"peer,omitzero"`
	Error     string    `json:"error,omitempty"`
	Updated   time.Time `json:"updated"`
}

// Finished reports whether the transfer is over, well or not.
func (t Transfer) Finished() bool { return t.Error != "" || (t.Total >= 0 && t.Done >= t.Total) }

// files is the Service's file state: the blob store and the transfers in
// progress.
type files struct {
	mu        sync.Mutex // mu guards the fields below.
	blobs     BlobStore
	transfers map[string]*Transfer // by hash hex, or "import:" + path
}

// SetBlobs gives the Service its blob store; without one, files cannot be
// sent or received.
func (s *Service) SetBlobs(b BlobStore) {
	s.files.mu.Lock()
	s.files.blobs = b
	s.files.mu.Unlock()
}

// Blobs is the blob store, nil when there is none; the network serves and
// receives blobs through it.
func (s *Service) Blobs() BlobStore {
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	return s.files.blobs
}

func (s *Service) record(key string, update func(t *Transfer)) {
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	if s.files.transfers == nil {
		s.files.transfers = make(map[string]*Transfer)
	}
	t := s.files.transfers[key]
	if t == nil {
		t = &Transfer{Direction: "download", Total: -1}
		s.files.transfers[key] = t
	}
	update(t)
	t.Updated = s.now()
}

// ProgressFrom records and publishes how far a download of h from peer
// got; the network calls it.
func (s *Service) ProgressFrom(h Hash, peer PeerKey, done, total int64, err error) {
	s.record(fmt.Sprintf("%x", h[:]), func(t *Transfer) {
		t.Hash, t.Done, t.Total = h, done, total
		if !peer.IsZero() {
			t.Peer = peer
		}
		t.Error = ""
		if err != nil {
			t.Error = Plain(err)
		}
	})
	s.bus.Publish(Update{Kind: UpdTransfer, Hash: h, Peer: peer, Done: done, Total: total, Err: err})
}

// Transfers lists the transfers in progress and those that ended in the
// last half minute (failures: ten minutes), oldest first.
func (s *Service) Transfers() []Transfer {
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	now := s.now()
	out := []Transfer{}
	for k, t := range s.files.transfers {
		keep := 30 * time.Second
		if t.Error != "" {
			keep = 10 * time.Minute
		}
		if t.Finished() && now.Sub(t.Updated) > keep {
			delete(s.files.transfers, k)
			continue
		}
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b Transfer) int { return a.Updated.Compare(b.Updated) })
	return out
}

func (s *Service) transfer(h Hash) (Transfer, bool) {
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	t, ok := s.files.transfers[fmt.Sprintf("%x", h[:])]
	if !ok {
		return Transfer{}, false
	}
	return *t, true
}

// SendFile sends the file at path to conv. Keep mode (0) imports it into
// the blob store — streaming, whatever its size — and appends a media
// event; the recipients fetch the bytes over the network. View-once modes
// read the file into memory and hand it to SendEphemeral. Size limits are
// checked before anything is sent.
func (s *Service) SendFile(ctx context.Context, conv ConvID, path string, opts MediaOptions) (Event, error) {
	if !utf8.ValidString(opts.Caption) || utf8.RuneCountInString(opts.Caption) > MaxTextRunes {
		return Event{}, Userf(ErrInvalid, "a caption is at most %d characters of text", MaxTextRunes)
	}
	if opts.Mode < ModeKeep || opts.Mode > ModeAllowReplay {
		return Event{}, Userf(ErrInvalid, "unknown media mode %d", opts.Mode)
	}
	c, err := s.writable(ctx, conv)
	if err != nil {
		return Event{}, err
	}
	m := &pb.Media{Caption: strings.TrimSpace(opts.Caption), Mode: uint32(opts.Mode)}
	if !opts.ReplyTo.IsZero() {
		if err := s.inConv(ctx, opts.ReplyTo, conv); err != nil {
			return Event{}, err
		}
		m.ReplyTo = opts.ReplyTo[:]
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return Event{}, Userf(ErrNotFound, "no file %s", path)
	}
	if err != nil {
		return Event{}, Userf(ErrInvalid, "cannot read %s: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Event{}, fmt.Errorf("app: send file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Event{}, Userf(ErrInvalid, "%s is not a file", path)
	}
	m.Name = filepath.Base(path)
	kind, err := describe(f, fi.Size(), m)
	if err != nil {
		return Event{}, err
	}
	if opts.Voice && !strings.HasPrefix(m.Mime, "audio/") {
		return Event{}, Userf(ErrInvalid, "a voice message is an audio recording, not %s", m.Mime)
	}
	// Photos kept in the chat are sent as media.PreparePhoto makes them:
	// upright, without EXIF or GPS, with an inline thumbnail. They are
	// small enough to decode in memory; anything else streams from the
	// file. View-once photos are cleaned the same way below, in memory.
	var photo []byte
	if kind == media.KindPhoto && opts.Mode == ModeKeep {
		if fi.Size() > MaxPhotoBytes {
			return Event{}, Userf(ErrTooLarge, "%s is %s; a photo is at most %s (send it as a file inside a zip to keep it as it is)", m.Name, HumanBytes(fi.Size()), HumanBytes(MaxPhotoBytes))
		}
		raw, err := io.ReadAll(io.LimitReader(f, MaxPhotoBytes+1))
		if err != nil {
			return Event{}, fmt.Errorf("app: send file: read: %w", err)
		}
		clean, mt, w, h, thumb, err := media.PreparePhoto(raw)
		if err != nil {
			return Event{}, Userf(ErrInvalid, "%s could not be sent as a photo: %s", m.Name, plainMedia(err))
		}
		photo, m.Mime, m.Width, m.Height, m.Thumbnail = clean, mt, uint32(w), uint32(h), thumb
	}

	if opts.Mode != ModeKeep {
		if fi.Size() > MaxViewOnceBytes {
			return Event{}, Userf(ErrTooLarge, "%s is %s; view-once media is at most %s", m.Name, HumanBytes(fi.Size()), HumanBytes(MaxViewOnceBytes))
		}
		data, err := io.ReadAll(io.LimitReader(f, MaxViewOnceBytes+1))
		if err != nil {
			return Event{}, fmt.Errorf("app: send file: read: %w", err)
		}
		if len(data) > MaxViewOnceBytes {
			return Event{}, Userf(ErrTooLarge, "%s is larger than %s; view-once media is at most that", m.Name, HumanBytes(MaxViewOnceBytes))
		}
		if kind == media.KindPhoto {
			// Metadata (EXIF location above all) goes, as for kept
			// photos; no thumbnail is made: nothing of it may linger.
			clean, mt, w, h, _, err := media.PreparePhoto(data)
			clear(data)
			if err != nil {
				return Event{}, Userf(ErrInvalid, "%s could not be sent as a photo: %s", m.Name, plainMedia(err))
			}
			data, m.Mime, m.Width, m.Height = clean, mt, uint32(w), uint32(h)
		}
		m.Size = uint64(len(data))
		ev, err := s.SendEphemeral(ctx, conv, data, m)
		clear(data) // SendEphemeral keeps sealed copies only
		return ev, err
	}

	store := s.Blobs()
	if store == nil {
		return Event{}, Userf(ErrInvalid, "this Kite has no file store: files cannot be sent")
	}
	if fi.Size() > store.MaxSize() {
		return Event{}, Userf(ErrTooLarge, "%s is %s; the largest file Kite sends is %s", m.Name, HumanBytes(fi.Size()), HumanBytes(store.MaxSize()))
	}
	key := "import:" + path
	s.record(key, func(t *Transfer) { t.Direction, t.Name, t.Total = "import", m.Name, fi.Size() })
	var src io.Reader = f
	if photo != nil {
		src = bytes.NewReader(photo)
		s.record(key, func(t *Transfer) { t.Total = int64(len(photo)) })
	}
	h, n, err := store.Import(&countingReader{r: src, add: func(k int64) {
		s.record(key, func(t *Transfer) { t.Done += k })
	}})
	s.record(key, func(t *Transfer) {
		t.Hash = h
		if err != nil {
			t.Error = Plain(err)
		} else {
			t.Done, t.Total = n, n
		}
	})
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return Event{}, err
		}
		return Event{}, fmt.Errorf("app: send file: %w", err)
	}
	m.Hash, m.Size = h[:], uint64(n)
	return s.append(ctx, c, KindMedia, &pb.Body{Content: &pb.Body_Media{Media: m}})
}

// countingReader reports how many bytes went through it.
type countingReader struct {
	r    io.Reader
	add  func(int64)
	acc  int64
	last time.Time
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.acc += int64(n)
	if c.acc >= 4<<20 || err != nil || time.Since(c.last) > 100*time.Millisecond {
		c.add(c.acc)
		c.acc, c.last = 0, time.Now()
	}
	return n, err
}

// describe fills in m's MIME type, dimensions and duration from the
// file's header (kite/app/media) and returns its kind. A file whose
// content is no known media format goes as a plain file.
func describe(f *os.File, size int64, m *pb.Media) (string, error) {
	info, err := media.Inspect(f, size, m.Name)
	switch {
	case errors.Is(err, media.ErrTooLarge):
		return "", Userf(ErrTooLarge, "%s has more than %d million pixels: make it smaller first", m.Name, media.MaxPixels/1_000_000)
	case err != nil:
		info = media.Info{Kind: media.KindFile}
	}
	m.Mime = info.MIME
	if m.Mime == "" || m.Mime == "application/octet-stream" {
		// The content says nothing: the extension may.
		if t := mime.TypeByExtension(strings.ToLower(filepath.Ext(m.Name))); t != "" && !isMediaMIME(t) {
			m.Mime = t
		} else {
			m.Mime = "application/octet-stream"
		}
	}
	m.Width, m.Height, m.DurationMs = uint32(info.Width), uint32(info.Height), uint32(info.DurationMs)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("app: send file: %w", err)
	}
	return info.Kind, nil
}

// isMediaMIME: a name that claims a photo, video or sound the content did
// not bear out is not believed.
func isMediaMIME(t string) bool {
	return strings.HasPrefix(t, "image/") || strings.HasPrefix(t, "video/") || strings.HasPrefix(t, "audio/")
}

// mediaBlob reads a kept media message whose bytes are (or will be) a blob.
func (s *Service) mediaBlob(ctx context.Context, msg EventID) (Message, BlobStore, error) {
	m, err := s.message(ctx, msg)
	if err != nil {
		return m, nil, err
	}
	switch {
	case m.Unsent || m.Expired:
		return m, nil, Userf(ErrInvalid, "that message is gone")
	case m.Media == nil:
		return m, nil, Userf(ErrInvalid, "message %s has no photo, video or file", msg.Short())
	case m.Media.Mode != ModeKeep:
		return m, nil, Userf(ErrInvalid, "view-once media cannot be saved or opened outside Kite")
	}
	store := s.Blobs()
	if store == nil {
		return m, nil, Userf(ErrInvalid, "this Kite has no file store")
	}
	if store.Has(m.Media.Hash) {
		return m, store, nil
	}
	t, ok := s.transfer(m.Media.Hash)
	switch {
	case ok && t.Error != "":
		return m, nil, Userf(ErrInvalid, "%s could not be downloaded: %s", m.Media.Name, t.Error)
	case ok && t.Total > 0:
		return m, nil, Userf(ErrInvalid, "%s is still downloading: %d%% (%s of %s)", m.Media.Name,
			t.Done*100/t.Total, HumanBytes(t.Done), HumanBytes(t.Total))
	}
	return m, nil, Userf(ErrInvalid, "%s has not arrived yet: it downloads when the sender is online", m.Media.Name)
}

// SaveMedia copies the file of a kept media message to dst (a directory
// gets the file under its own name). View-once media, and files still
// downloading, are refused in plain words.
func (s *Service) SaveMedia(ctx context.Context, msg EventID, dst string) error {
	m, store, err := s.mediaBlob(ctx, msg)
	if err != nil {
		return err
	}
	if strings.TrimSpace(dst) == "" {
		return Userf(ErrInvalid, "say where to save the file")
	}
	if fi, err := os.Stat(dst); err == nil && fi.IsDir() {
		name := filepath.Base(filepath.Clean("/" + m.Media.Name))
		if name == "/" || name == "." || name == "" {
			name = fmt.Sprintf("%x", m.Media.Hash[:8])
		}
		dst = filepath.Join(dst, name)
	}
	src, err := os.Open(store.Path(m.Media.Hash))
	if err != nil {
		return fmt.Errorf("app: save media: %w", err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".kite-*")
	if err != nil {
		return Userf(ErrInvalid, "cannot write to %s: %v", filepath.Dir(dst), errors.Unwrap(err))
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return fmt.Errorf("app: save media: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("app: save media: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("app: save media: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("app: save media: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return Userf(ErrInvalid, "cannot save to %s: %v", dst, errors.Unwrap(err))
	}
	return nil
}

// MediaFile is the path of a kept media message's file, for opening it
// with the system's default application. Blobs are named by their hash,
// with no extension to pick the application by, so this is a second name
// for the blob that carries the file's own name (safeFileName): a hard
// link, or a copy where the file system has none, in
// BLOBS/named/HASH/NAME (HASH: the first 16 bytes, in hex). It is made
// on the first call and reused after. It must not be written to, and
// whatever deletes a blob must delete its named dir too: a hard link keeps
// the bytes on disk. View-once media is refused.
func (s *Service) MediaFile(ctx context.Context, msg EventID) (string, error) {
	m, store, err := s.mediaBlob(ctx, msg)
	if err != nil {
		return "", err
	}
	blob := store.Path(m.Media.Hash)
	// The store keeps blobs at BLOBS/ab/abcd…: named/ goes beside ab/, on
	// the same file system, so a hard link works.
	dir := filepath.Join(filepath.Dir(filepath.Dir(blob)), "named", fmt.Sprintf("%x", m.Media.Hash[:16]))
	p, err := namedCopy(blob, dir, safeFileName(m.Media.Name, m.Media.MIME))
	if err != nil {
		return "", fmt.Errorf("app: media file: %w", err)
	}
	return p, nil
}

// namedCopy makes dir/name a second name for the blob at blob, unless it
// already is one.
func namedCopy(blob, dir, name string) (string, error) {
	dst := filepath.Join(dir, name)
	bi, err := os.Stat(blob)
	if err != nil {
		return "", err
	}
	if sameBlob(bi, dst) {
		return dst, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	// Made under a temporary name and renamed into place, so a name that
	// exists is always complete. A leading dot keeps it apart from every
	// safe name.
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".new-%x", rnd))
	if err := os.Link(blob, tmp); err != nil {
		// No hard links on this file system (FAT, some network shares).
		if err := copyReadOnly(blob, tmp); err != nil {
			os.Remove(tmp)
			return "", err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		// Another call may have made it meanwhile, and Windows refuses to
		// replace a file that is open.
		if sameBlob(bi, dst) {
			return dst, nil
		}
		return "", err
	}
	return dst, nil
}

// sameBlob reports whether the file at p can stand for the blob bi: the
// blob itself (a hard link), or a read-only file of its size. Its bytes
// are not read again: blobs never change and only Kite writes here.
func sameBlob(bi os.FileInfo, p string) bool {
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	return os.SameFile(bi, fi) || (fi.Size() == bi.Size() && fi.Mode().Perm()&0o222 == 0)
}

// copyReadOnly copies the file src to dst and makes dst read-only, as
// blobs are.
func copyReadOnly(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, 0o400)
}

// maxFileName bounds a safe file name, in bytes: well inside every file
// system's limit, and leaves room for the data dir in Windows' 260.
const maxFileName = 100

// mimeExt is the usual extension of the MIME types Kite makes. Only these
// are ever added to a name: the sender chose the MIME type too, and the
// system's table would turn "application/x-msdownload" into ".exe", an
// extension the person never saw in the chat.
var mimeExt = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
	"video/mp4": ".mp4", "video/quicktime": ".mov", "video/webm": ".webm", "video/x-matroska": ".mkv", "video/ogg": ".ogv",
	"audio/wav": ".wav", "audio/mp4": ".m4a", "audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/webm": ".weba", "audio/x-matroska": ".mka",
	"application/pdf": ".pdf", "text/plain": ".txt",
}

// extFor is the extension for MIME type mt, "" if it is not in mimeExt.
func extFor(mt string) string {
	mt, _, _ = strings.Cut(mt, ";")
	return mimeExt[strings.ToLower(strings.TrimSpace(mt))]
}

// safeFileName turns a media's name, which its sender chose, into a file
// name that is safe on every system Kite runs on and names the right
// application: no directories, no control or invisible formatting
// characters (a right-to-left override can dress "exe" up as "gpj"), no
// characters Windows forbids, no leading dots (hidden files, "..") or
// trailing dots and spaces (Windows drops them, and with them the real
// extension), no device names, at most maxFileName bytes. The extension
// is the name's own; for a photo, video or sound whose name says another
// type (or none), and for any file without one, it comes from the MIME
// type if that is one of mimeExt.
func safeFileName(name, mt string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			// invalid UTF-8, control and invisible formatting: dropped
		case strings.ContainsRune(`<>:"|?*`, r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	clean := strings.Trim(b.String(), ". ")
	ext := filepath.Ext(clean)
	if !plainExt(ext) {
		ext = ""
	}
	stem := strings.TrimSuffix(clean, ext)
	if ext == "" || (isMediaMIME(mt) && !extMeans(ext, mt)) {
		if e := extFor(mt); e != "" {
			stem, ext = stem+ext, e
		}
	}
	stem = strings.TrimRight(stem, ". ")
	if stem == "" {
		stem = "file"
	}
	if dev, _, _ := strings.Cut(stem, "."); windowsDevice(dev) {
		stem = "_" + stem
	}
	// ext is at most 17 bytes: the stem keeps its first rune at least.
	for len(stem)+len(ext) > maxFileName {
		_, n := utf8.DecodeLastRuneInString(stem)
		stem = stem[:len(stem)-n]
	}
	return strings.TrimRight(stem, ". ") + ext
}

// plainExt: an extension is a dot and one to 16 ASCII letters or digits;
// anything else after the last dot is part of the name.
func plainExt(ext string) bool {
	if len(ext) < 2 || len(ext) > 17 {
		return false
	}
	for _, c := range ext[1:] {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// extMeans reports whether ext is an extension of MIME type mt.
func extMeans(ext, mt string) bool {
	mt, _, _ = strings.Cut(mt, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	ext = strings.ToLower(ext)
	if mimeExt[mt] == ext {
		return true
	}
	if t, _, _ := strings.Cut(mime.TypeByExtension(ext), ";"); strings.EqualFold(t, mt) {
		return true
	}
	es, _ := mime.ExtensionsByType(mt)
	return slices.Contains(es, ext)
}

// windowsDevice reports whether s is a name Windows keeps for a device
// (CON, NUL, COM1…), which it keeps whatever extension follows.
func windowsDevice(s string) bool {
	u := strings.ToUpper(strings.TrimRight(s, " "))
	switch u {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	for _, p := range []string{"COM", "LPT"} {
		if rest, ok := strings.CutPrefix(u, p); ok && utf8.RuneCountInString(rest) == 1 {
			r, _ := utf8.DecodeRuneInString(rest)
			return '0' <= r && r <= '9' || r == '¹' || r == '²' || r == '³'
		}
	}
	return false
}
