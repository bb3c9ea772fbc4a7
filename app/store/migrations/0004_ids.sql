-- 0004: no index keyed by the whole event ID is written per event.
--
-- Event IDs are hashes: every insert into an index on them lands on a
-- random page, so a batch of 1,000 events rewrote about 1,000 pages of
-- each such index, and at a million messages the two of them (events.id
-- and messages.id) were most of what a batch wrote to the WAL.
--
-- Now a message row shares its event's rid (messages.rid = events.rid,
-- also the messages_fts rowid), so messages need no ID index; and events
-- are found by ID through two small tables keyed by the first 8 bytes of
-- the ID (callers confirm the whole ID): new IDs go to ids_new, which
-- stays small, so a batch rewrites few of its pages; the store moves them
-- into ids once ids_new is large, in ID order, so each page of ids is
-- rewritten once for many IDs (a log-structured merge in two levels).
--
-- A text message's search and preview columns, almost always its text
-- again, are NULL when they equal it: the text was written three times.
--
-- events and messages are rebuilt (an automatic UNIQUE index cannot be
-- dropped, and the events rowid must be an INTEGER PRIMARY KEY to stay
-- stable across VACUUM). Message events keep their message's rid, so the
-- search index stays as it is; the other events are numbered after them.
-- migrate runs this with foreign keys off and checks them before commit.

CREATE TABLE events_new (
    rid         INTEGER PRIMARY KEY,           -- = messages.rid of its message, if any
    id          BLOB    NOT NULL,              -- unique as (conv, author, seq) is: it hashes them
    conv        BLOB    NOT NULL REFERENCES conversations (id),
    author      BLOB    NOT NULL,
    seq         INTEGER NOT NULL,
    prev        BLOB,
    lamport     INTEGER NOT NULL,
    time        INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    body_hash   BLOB    NOT NULL,
    header      BLOB    NOT NULL,
    sig         BLOB    NOT NULL,
    body        BLOB,                          -- NULL once purged
    path        TEXT    NOT NULL,
    via         BLOB,
    received_at INTEGER NOT NULL
);

INSERT INTO events_new (rid, id, conv, author, seq, prev, lamport, time, kind, body_hash, header, sig, body,
        path, via, received_at)
    SELECT m.rid, e.id, e.conv, e.author, e.seq, e.prev, e.lamport, e.time, e.kind, e.body_hash, e.header, e.sig,
        e.body, e.path, e.via, e.received_at
    FROM messages m JOIN events e ON e.id = m.id
    ORDER BY m.rid;

INSERT INTO events_new (id, conv, author, seq, prev, lamport, time, kind, body_hash, header, sig, body,
        path, via, received_at)
    SELECT e.id, e.conv, e.author, e.seq, e.prev, e.lamport, e.time, e.kind, e.body_hash, e.header, e.sig,
        e.body, e.path, e.via, e.received_at
    FROM events e
    WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = e.id)
    ORDER BY e.rowid;

CREATE TABLE messages_new (
    rid            INTEGER PRIMARY KEY REFERENCES events (rid),  -- its event's rid; messages_fts rowid
    id             BLOB    NOT NULL,           -- its event's ID, found through ids and ids_new
    conv           BLOB    NOT NULL REFERENCES conversations (id),
    author         BLOB    NOT NULL,
    seq            INTEGER NOT NULL,
    lamport        INTEGER NOT NULL,
    pos            BLOB    NOT NULL,
    time           INTEGER NOT NULL,
    kind           INTEGER NOT NULL,
    text           TEXT    NOT NULL DEFAULT '',
    search         TEXT,                         -- what messages_fts holds for this row; NULL: text
    preview        TEXT,                         -- the inbox line; NULL: text
    reply_to       BLOB,
    forwarded      INTEGER NOT NULL DEFAULT 0,
    edited         INTEGER NOT NULL DEFAULT 0,
    edit_pos       BLOB,
    unsent         INTEGER NOT NULL DEFAULT 0,
    expired        INTEGER NOT NULL DEFAULT 0,
    system         TEXT    NOT NULL DEFAULT '',
    share          TEXT,                         -- JSON app.Share
    poll           TEXT,                         -- JSON {question, options}
    media          TEXT,                         -- JSON app.Media without thumbnail
    thumbnail      BLOB,
    deleted        INTEGER NOT NULL DEFAULT 0,   -- deleted for me
    after_seen     INTEGER NOT NULL DEFAULT 0,   -- disappears once seen
    expires_at     INTEGER,
    path           TEXT    NOT NULL,
    via            BLOB
);

INSERT INTO messages_new (rid, id, conv, author, seq, lamport, pos, time, kind, text, search, preview,
        reply_to, forwarded, edited, edit_pos, unsent, expired, system, share, poll, media, thumbnail,
        deleted, after_seen, expires_at, path, via)
    SELECT rid, id, conv, author, seq, lamport, pos, time, kind, text,
        CASE WHEN search = text THEN NULL ELSE search END, CASE WHEN preview = text THEN NULL ELSE preview END,
        reply_to, forwarded, edited, edit_pos, unsent, expired, system, share, poll, media, thumbnail,
        deleted, after_seen, expires_at, path, via
    FROM messages
    ORDER BY rid;

DROP TABLE messages;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
ALTER TABLE messages_new RENAME TO messages;

-- Built after the copy: sorting once is far quicker than inserting.
CREATE UNIQUE INDEX events_chain ON events (conv, author, seq);
CREATE INDEX messages_pos ON messages (conv, pos);
CREATE INDEX messages_expiry ON messages (expires_at) WHERE expires_at IS NOT NULL AND unsent = 0 AND expired = 0;

-- Event rids by ID prefix: prefix = substr(events.id, 1, 8). Two events
-- may share a prefix; the whole ID tells them apart.
CREATE TABLE ids (
    prefix BLOB    NOT NULL,
    rid    INTEGER NOT NULL,
    PRIMARY KEY (prefix, rid)
) WITHOUT ROWID;
CREATE TABLE ids_new (
    prefix BLOB    NOT NULL,
    rid    INTEGER NOT NULL,
    PRIMARY KEY (prefix, rid)
) WITHOUT ROWID;
CREATE VIEW event_ids (prefix, rid) AS
    SELECT prefix, rid FROM ids_new UNION ALL SELECT prefix, rid FROM ids;

INSERT INTO ids (prefix, rid) SELECT substr(id, 1, 8), rid FROM events ORDER BY 1, 2;
