package app

import (
	"crypto/sha256"
	"encoding/binary"
)

// BlobChunkSize is the unit in which blobs are hashed, sent and checked:
// 256 KiB.
const BlobChunkSize = 256 << 10

// blobDomain separates blob hashes from every other SHA-256 in Kite.
const blobDomain = "kite/blob/v1\x00"

// BlobRoot is the hash of a blob of size bytes whose chunks hash to
// chunks: SHA-256(domain || size as 8 bytes big-endian || each chunk
// hash in order). The blob store (app/blobs) names blobs by it.
func BlobRoot(size int64, chunks []Hash) Hash {
	h := sha256.New()
	h.Write([]byte(blobDomain))
	var sz [8]byte
	binary.BigEndian.PutUint64(sz[:], uint64(size))
	h.Write(sz[:])
	for _, c := range chunks {
		h.Write(c[:])
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

// BlobHash is the hash data would have in the blob store, so a small
// payload (an avatar) can be checked before anything is stored.
func BlobHash(data []byte) Hash {
	var chunks []Hash
	for off := 0; off < len(data); off += BlobChunkSize {
		chunks = append(chunks, sha256.Sum256(data[off:min(off+BlobChunkSize, len(data))]))
	}
	return BlobRoot(int64(len(data)), chunks)
}
