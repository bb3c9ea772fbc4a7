-- 0001: the signed logs and every derived table.
--
-- Positions in display order (lamport, author, seq) are stored as one
-- 48-byte BLOB "pos" = big-endian lamport (8) || author (32) || big-endian
-- seq (8): SQLite compares BLOBs with memcmp, so pos < ? is exactly
-- (lamport, author, seq) < (?, ?, ?) and a single index column serves it.
-- Times are unix milliseconds.

CREATE TABLE conversations (
    id            BLOB PRIMARY KEY,
    kind          INTEGER NOT NULL,            -- app.ConvKind
    e2e           INTEGER NOT NULL DEFAULT 0,
    name          TEXT    NOT NULL DEFAULT '',
    name_pos      BLOB,
    peer          BLOB,                        -- direct: the other side
    creator       BLOB,
    created_at    INTEGER NOT NULL,
    folder        TEXT    NOT NULL DEFAULT 'primary',
    pinned        INTEGER NOT NULL DEFAULT 0,
    archived      INTEGER NOT NULL DEFAULT 0,
    muted_until   INTEGER NOT NULL DEFAULT 0,
    theme         TEXT    NOT NULL DEFAULT '',
    theme_pos     BLOB,
    disappear     INTEGER NOT NULL DEFAULT 0,
    disappear_pos BLOB,
    cleared_pos   BLOB    NOT NULL DEFAULT X'',  -- messages at or before are hidden here
    hidden        INTEGER NOT NULL DEFAULT 0,    -- cleared, no newer message yet
    -- summary, kept in the same transaction as the events
    last_pos      BLOB,
    last_author   BLOB,
    last_kind     INTEGER,
    last_text     TEXT,
    last_time     INTEGER,
    last_unsent   INTEGER NOT NULL DEFAULT 0,
    last_at       INTEGER NOT NULL,
    unread        INTEGER NOT NULL DEFAULT 0,
    members       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_folder  ON conversations (archived, folder, pinned, last_at, id);
CREATE INDEX conversations_archive ON conversations (archived, pinned, last_at, id);
CREATE INDEX conversations_peer    ON conversations (peer) WHERE peer IS NOT NULL;
CREATE INDEX conversations_unread  ON conversations (folder) WHERE unread > 0;

CREATE TABLE events (
    id          BLOB PRIMARY KEY,
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
    received_at INTEGER NOT NULL,
    UNIQUE (conv, author, seq)
);
CREATE INDEX events_lamport ON events (conv, lamport);

-- One row per message-like event (text, share, poll, media, group op).
CREATE TABLE messages (
    rid            INTEGER PRIMARY KEY,        -- messages_fts rowid
    id             BLOB    NOT NULL UNIQUE REFERENCES events (id),
    conv           BLOB    NOT NULL REFERENCES conversations (id),
    author         BLOB    NOT NULL,
    seq            INTEGER NOT NULL,
    lamport        INTEGER NOT NULL,
    pos            BLOB    NOT NULL,
    time           INTEGER NOT NULL,
    kind           INTEGER NOT NULL,
    text           TEXT    NOT NULL DEFAULT '',
    search         TEXT    NOT NULL DEFAULT '',  -- what messages_fts holds for this row
    preview        TEXT    NOT NULL DEFAULT '',
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
CREATE INDEX messages_pos ON messages (conv, pos);
CREATE INDEX messages_expiry ON messages (expires_at) WHERE expires_at IS NOT NULL AND unsent = 0 AND expired = 0;

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text, content = '', contentless_delete = 1, tokenize = 'unicode61'
);

CREATE TABLE edits (
    target BLOB NOT NULL,
    pos    BLOB NOT NULL,
    conv   BLOB NOT NULL,
    author BLOB NOT NULL,
    text   TEXT NOT NULL,
    PRIMARY KEY (target, pos)
) WITHOUT ROWID;

CREATE TABLE reactions (
    target BLOB NOT NULL,
    author BLOB NOT NULL,
    conv   BLOB NOT NULL,
    emoji  TEXT NOT NULL,           -- '' removed; the row keeps the position
    pos    BLOB NOT NULL,
    PRIMARY KEY (target, author)
) WITHOUT ROWID;

CREATE TABLE votes (
    poll   BLOB    NOT NULL,
    voter  BLOB    NOT NULL,
    conv   BLOB    NOT NULL,
    option INTEGER NOT NULL,        -- -1 withdrawn
    pos    BLOB    NOT NULL,
    PRIMARY KEY (poll, voter)
) WITHOUT ROWID;

-- Unsends whose target has not arrived yet (and those applied).
CREATE TABLE unsends (
    target BLOB NOT NULL,
    author BLOB NOT NULL,
    conv   BLOB NOT NULL,
    pos    BLOB NOT NULL,
    PRIMARY KEY (target, author)
) WITHOUT ROWID;

CREATE TABLE opened (
    target BLOB NOT NULL,
    author BLOB NOT NULL,
    PRIMARY KEY (target, author)
) WITHOUT ROWID;

-- Every membership change, by position; members is derived from it.
CREATE TABLE member_log (
    conv   BLOB NOT NULL REFERENCES conversations (id),
    member BLOB NOT NULL,
    pos    BLOB NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('join', 'admin', 'leave')),
    event  BLOB NOT NULL,
    PRIMARY KEY (conv, member, pos)
) WITHOUT ROWID;
CREATE INDEX member_log_member ON member_log (member);

CREATE TABLE members (
    conv   BLOB    NOT NULL REFERENCES conversations (id),
    member BLOB    NOT NULL,
    admin  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conv, member)
) WITHOUT ROWID;

CREATE TABLE seen (
    conv   BLOB NOT NULL REFERENCES conversations (id),
    member BLOB NOT NULL,
    pos    BLOB NOT NULL,
    event  BLOB NOT NULL,
    PRIMARY KEY (conv, member)
) WITHOUT ROWID;

CREATE TABLE delivered (
    event BLOB NOT NULL,
    peer  BLOB NOT NULL,
    at    INTEGER NOT NULL,
    PRIMARY KEY (event, peer)
) WITHOUT ROWID;

CREATE TABLE forks (
    conv     BLOB    NOT NULL,
    author   BLOB    NOT NULL,
    seq      INTEGER NOT NULL,
    first_id BLOB    NOT NULL,
    other_id BLOB    NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (conv, author, seq, other_id)
) WITHOUT ROWID;

CREATE TABLE people (
    key         BLOB PRIMARY KEY,
    handle      TEXT    NOT NULL DEFAULT '',
    handle_lc   TEXT    NOT NULL DEFAULT '',
    name        TEXT    NOT NULL DEFAULT '',
    bio         TEXT    NOT NULL DEFAULT '',
    avatar      BLOB,
    box_key     BLOB,
    addrs       TEXT    NOT NULL DEFAULT '[]',
    contact     INTEGER NOT NULL DEFAULT 0,
    blocked     INTEGER NOT NULL DEFAULT 0,
    restricted  INTEGER NOT NULL DEFAULT 0,
    version     INTEGER NOT NULL DEFAULT 0,
    key_changed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX people_handle ON people (handle_lc);

-- Settings, profile and this device's key, as JSON values.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE reports (
    id       INTEGER PRIMARY KEY,
    conv     BLOB    NOT NULL,
    reason   TEXT    NOT NULL,
    messages TEXT    NOT NULL,   -- JSON snapshot of the reported messages
    at       INTEGER NOT NULL
);
