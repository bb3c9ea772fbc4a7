package blobs

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"kite/app"
)

// ChunkSize is the unit of transfer and verification: 256 KiB.
const ChunkSize = app.BlobChunkSize

// DefaultMaxSize is the largest blob a store accepts unless told
// otherwise: 2 GiB.
const DefaultMaxSize = 2 << 30

// maxChunks bounds a decoded manifest, whatever the store's cap: its
// encoding must fit a 1 MiB wire frame with room to spare.
const maxChunks = (1<<20 - 1024) / sha256.Size

// ErrBadManifest and ErrBadChunk are what a peer's garbage turns into.
var (
	ErrBadManifest = errors.New("blobs: malformed manifest")
	ErrBadChunk    = errors.New("blobs: chunk does not match its hash")
)

// Manifest lists a blob's size and the SHA-256 of each ChunkSize chunk in
// order; its Root is the blob's hash, so every chunk can be checked on its
// own as it arrives.
type Manifest struct {
	Size   int64
	Chunks []app.Hash
}

// NumChunks is how many chunks a blob of size bytes has.
func NumChunks(size int64) int {
	if size <= 0 {
		return 0
	}
	return int((size + ChunkSize - 1) / ChunkSize)
}

// ChunkLen is the length of chunk i.
func (m Manifest) ChunkLen(i int) int {
	off := int64(i) * ChunkSize
	return int(min(ChunkSize, m.Size-off))
}

// Root is the blob hash (app.BlobRoot): SHA-256 over a domain, the size
// and each chunk hash in order.
func (m Manifest) Root() app.Hash { return app.BlobRoot(m.Size, m.Chunks) }

// Encode is the manifest's wire and disk form: the size as 8 bytes
// big-endian, then the chunk hashes.
func (m Manifest) Encode() []byte {
	b := make([]byte, 8, 8+len(m.Chunks)*sha256.Size)
	binary.BigEndian.PutUint64(b, uint64(m.Size))
	for _, c := range m.Chunks {
		b = append(b, c[:]...)
	}
	return b
}

// DecodeManifest parses an encoded manifest. The chunk count must be the
// one the size implies, so anything it accepts re-encodes to the same
// bytes.
func DecodeManifest(b []byte) (Manifest, error) {
	if len(b) < 8 || (len(b)-8)%sha256.Size != 0 {
		return Manifest{}, fmt.Errorf("%w: %d bytes", ErrBadManifest, len(b))
	}
	size := binary.BigEndian.Uint64(b)
	if size > uint64(maxChunks)*ChunkSize {
		return Manifest{}, fmt.Errorf("%w: size %d", ErrBadManifest, size)
	}
	n := (len(b) - 8) / sha256.Size
	if n != NumChunks(int64(size)) {
		return Manifest{}, fmt.Errorf("%w: %d chunks for %d bytes", ErrBadManifest, n, size)
	}
	m := Manifest{Size: int64(size), Chunks: make([]app.Hash, n)}
	for i := range m.Chunks {
		copy(m.Chunks[i][:], b[8+i*sha256.Size:])
	}
	return m, nil
}

// VerifyManifest decodes b and checks that it is the manifest of h.
func VerifyManifest(h app.Hash, b []byte) (Manifest, error) {
	m, err := DecodeManifest(b)
	if err != nil {
		return Manifest{}, err
	}
	if m.Root() != h {
		return Manifest{}, fmt.Errorf("%w: it is not the manifest of this blob", ErrBadManifest)
	}
	return m, nil
}
