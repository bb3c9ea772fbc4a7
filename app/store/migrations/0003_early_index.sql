-- earlyTargets finds a conversation's edits and unsends whose target has
-- not arrived, once per batch: by conversation, not by scanning them all.
CREATE INDEX edits_conv ON edits (conv, target);
CREATE INDEX unsends_conv ON unsends (conv, target);
