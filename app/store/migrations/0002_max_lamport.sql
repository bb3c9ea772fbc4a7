-- The highest lamport stored per conversation, for appending own events,
-- replaces the events (conv, lamport) index: one random-page index fewer
-- to write on every ingested event.
ALTER TABLE conversations ADD COLUMN max_lamport INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET max_lamport = coalesce((SELECT max(lamport) FROM events WHERE events.conv = conversations.id), 0);
DROP INDEX events_lamport;
