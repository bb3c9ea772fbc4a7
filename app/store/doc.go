// Package store is Kite's on-disk state: app.Store implemented on SQLite
// (mattn/go-sqlite3, built with the sqlite_fts5 tag).
//
// It owns the schema (numbered migrations embedded from migrations/ and
// applied in one transaction, tracked by PRAGMA user_version), every SQL
// statement of the program, the signed per-author event logs, and the
// tables derived from them in the same transaction as each event:
// messages, edits, reactions, votes, membership, seen positions,
// delivery receipts and conversation summaries. The FTS5 search index
// follows in batches and is caught up before every search (fts.go).
//
// It applies exactly the rules documented on app.LogStore (chain order,
// forks, membership and authorship at an event's display position) and
// nothing more: it never decides what a user may do beyond that contract,
// never verifies signatures or opens sealed bodies (the caller hands it
// verified events and decoded bodies), never talks to the network and
// never imports ui or sync packages.
//
// Concurrency: one writer connection (SetMaxOpenConns(1), BEGIN
// IMMEDIATE) serialises every write; reads go through a separate
// query_only pool and see the last committed state (WAL).
//
// Durability: own events (Append) commit with synchronous=FULL, so they
// are durable before they are sent and a crash never lets the device
// reuse a seq. Everything else commits with NORMAL: in WAL mode that
// survives a crash of Kite, and what a power loss takes (the last remote
// batches, local state) peers resend or people redo. The fsync per commit
// was most of the live-delivery latency.
//
// Search returns matches newest first by arrival (FTS rowid), which FTS5
// walks backwards and stops at the limit; sorting by display position
// would sort every match of a common word first.
//
// Event IDs are hashes, so an index on them takes each insert on a random
// page: at a million events a batch rewrote about one page of such an
// index per event, and two of them were most of what ingest wrote. So no
// index is keyed by the whole ID (see migrations/0004_ids.sql): a message
// row shares its event's rid (messages.rid = events.rid = messages_fts
// rowid), and rids are found by the first 8 bytes of the ID in two small
// tables, ids_new for new IDs and ids for the rest, which Ingest merges in
// key order once ids_new is large (mergeIDsAt). Look-ups go through the
// view event_ids and then compare the whole ID (ridsOf).
//
// Display positions (lamport, author, seq) are stored as one 48-byte BLOB
// (see posKey) so that a single memcmp-ordered column serves keyset pages
// and "before this position" lookups.
package store
