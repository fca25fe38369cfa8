-- An event's time is when its row is written, not when its transaction began: the row is
-- written last, just before the commit, so the time travels with the event as the moment
-- the fact was recorded, and event lag counts from there rather than from the start of a
-- request that may have waited on locks.
ALTER TABLE outbox ALTER COLUMN occurred_at SET DEFAULT clock_timestamp();
