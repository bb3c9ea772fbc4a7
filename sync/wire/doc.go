// Package wire owns the bytes of Kite's peer-to-peer protocols: the
// protocol IDs, the protobuf messages (wire.proto, generated wire.pb.go),
// and the framing — a uvarint length, at most MaxFrame bytes, then one
// deterministically encoded Frame.
//
// It is pure: it reads and writes io.Reader and io.Writer, so every
// exchange is tested without libp2p. It never imports libp2p, the store or
// the domain package, never verifies signatures (app.DecodeEvent does) and
// never allocates a frame before checking its length.
package wire
