// Package blobs is Kite's content-addressed file store: photos, videos,
// voice messages and files kept once under DATA_DIR/blobs, named by a hash
// that commits to every 256 KiB chunk (see Manifest), so a blob can be
// received from untrusted peers chunk by verified chunk and resumed after
// a restart. It owns files only: no SQL, no network, and it never holds a
// whole file in memory.
package blobs
