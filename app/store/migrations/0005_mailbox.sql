-- Mailboxes (DESIGN.md §8).

-- The mailbox a peer names in its signed profile: JSON app.MailboxRef.
ALTER TABLE people ADD COLUMN mailbox TEXT;

-- Events this device holds as a mailbox for its owners, as they travel
-- (signed; sealed for E2E chats). rid is arrival order.
CREATE TABLE held (
    rid       INTEGER PRIMARY KEY,
    owner     BLOB    NOT NULL,
    id        BLOB    NOT NULL,
    depositor BLOB    NOT NULL,
    data      BLOB    NOT NULL,
    size      INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    UNIQUE (owner, id)
);
-- Covers the quota counts per owner and depositor.
CREATE INDEX held_quota ON held (owner, depositor, size);

-- What became of held events once their owner took them, until the
-- depositor asks.
CREATE TABLE held_receipts (
    depositor BLOB    NOT NULL,
    owner     BLOB    NOT NULL,
    id        BLOB    NOT NULL,
    conv      BLOB    NOT NULL,
    refusal   TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (depositor, owner, id)
) WITHOUT ROWID;
