-- store.FactsVersion: raised by every transaction that adds, changes or
-- removes an activity of the user, so that the standings projector can
-- keep an athlete's facts between events and read only what changed.
ALTER TABLE users ADD COLUMN facts_version bigint NOT NULL DEFAULT 0;
