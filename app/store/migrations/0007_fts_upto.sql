-- Search indexing is deferred. A single message written on its own used
-- to add a segment to messages_fts in its own transaction, about a
-- third of the pages and a good part of the CPU of delivering it. Now
-- messages_fts holds exactly the searchable message rows with
-- rid <= fts_state.upto; rows above it are indexed in batches
-- (Store.indexPending), and always before a search reads the index.
CREATE TABLE fts_state (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    upto INTEGER NOT NULL
);
INSERT INTO fts_state (id, upto) SELECT 1, coalesce(max(rid), 0) FROM messages;
