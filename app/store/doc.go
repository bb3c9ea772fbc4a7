// Package store is Kite's on-disk state: app.Store implemented on SQLite
// (mattn/go-sqlite3, built with the sqlite_fts5 tag).
//
// It owns the schema (numbered migrations embedded from migrations/ and
// applied in one transaction, tracked by PRAGMA user_version), every SQL
// statement of the program, the signed per-author event logs, and the
// tables derived from them in the same transaction as each event:
// messages, edits, reactions, votes, membership, seen positions,
// delivery receipts, conversation summaries and the FTS5 search index.
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
// Durability: the writer runs with synchronous=FULL. Own events must be
// durable before they are sent (a crash must never let the device reuse a
// seq), and remote events are committed a batch per transaction, so one
// WAL fsync per batch costs little; keeping a single setting avoids
// switching PRAGMAs on the shared writer connection.
//
// Display positions (lamport, author, seq) are stored as one 48-byte BLOB
// (see posKey) so that a single memcmp-ordered column serves keyset pages
// and "before this position" lookups.
package store
