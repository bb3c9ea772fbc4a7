-- Delivery becomes a watermark per conversation and peer. A peer stores
-- an author's events in seq order (an event whose predecessor is missing
-- waits for it), so "it stored my event N" says it holds all of mine up
-- to N. One row per conversation and peer replaces one per own event and
-- peer: acking a backlog was a random insert per event.
CREATE TABLE delivered_upto (
    conv BLOB    NOT NULL,
    peer BLOB    NOT NULL,
    seq  INTEGER NOT NULL, -- own events up to seq are stored at peer
    PRIMARY KEY (conv, peer)
) WITHOUT ROWID;

INSERT INTO delivered_upto (conv, peer, seq)
    SELECT e.conv, d.peer, max(e.seq)
    FROM delivered d
    JOIN event_ids x ON x.prefix = substr(d.event, 1, 8)
    JOIN events e ON e.rid = x.rid AND e.id = d.event
    GROUP BY e.conv, d.peer;

DROP TABLE delivered;
