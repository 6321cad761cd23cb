-- Deleting an activity detaches the uploads that ended as it (or as a
-- duplicate of it): UPDATE uploads ... WHERE activity_id = $1. Without an
-- index that scanned every upload ever accepted. Partial: an upload has no
-- activity until the worker finishes it, so acceptance writes nothing more.
CREATE INDEX uploads_activity_id ON uploads (activity_id) WHERE activity_id IS NOT NULL;
