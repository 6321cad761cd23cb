-- Deleting an activity detaches the uploads that ended as it (or as a
-- duplicate of it): UPDATE uploads ... WHERE activity_id = ?. Without an
-- index that walked every upload ever accepted while holding the single
-- writer. Partial: an upload has no activity until the worker finishes it,
-- so acceptance, the hot path, writes nothing more.
CREATE INDEX uploads_activity_id ON uploads (activity_id) WHERE activity_id IS NOT NULL;
