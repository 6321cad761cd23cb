-- The outbox holds events only until the relay has published them, so it
-- is nearly empty whenever the bus is up. Its index on the partition key
-- (the athlete) served one statement, the purge of a deleted athlete's
-- unsent events, which can scan so small a table; meanwhile every group
-- commit of uploads from many athletes wrote one page of that index per
-- athlete to the write-ahead log.
DROP INDEX outbox_key;
