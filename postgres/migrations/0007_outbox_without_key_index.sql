-- The outbox holds events only until the relay has published them, so it
-- is nearly empty whenever the bus is up. Its index on the partition key
-- (the athlete) served one statement, the purge of a deleted athlete's
-- unsent events, which can scan so small a table, while every insert and
-- every relayed deletion had to maintain it.
DROP INDEX outbox_key;
