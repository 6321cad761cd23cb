-- Live activities: recordings a device streams as numbered batches of
-- points, each stored before it is acknowledged. Times are Unix
-- microseconds (UTC).
CREATE TABLE live_activities (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sport       TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    visibility  TEXT NOT NULL CHECK (visibility IN ('public', 'followers', 'private')),
    status      TEXT NOT NULL CHECK (status IN ('recording', 'paused', 'finished')),
    started_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    last_batch  INTEGER NOT NULL DEFAULT 0,
    points      INTEGER NOT NULL DEFAULT 0,
    upload_id   TEXT,
    finished_at INTEGER,
    -- A finished activity always says when and as which upload.
    CHECK ((status = 'finished') = (upload_id IS NOT NULL AND finished_at IS NOT NULL))
) STRICT;
-- ActiveLive. A user has a handful of live activities, so no sort column.
CREATE INDEX live_activities_user ON live_activities (user_id, status);
-- PurgeLive: finished ones by finished_at; the unfinished ones are few
-- (one per recording device) and filtered on updated_at from the table.
-- No index holds updated_at, last_batch or points, so the update of every
-- append touches the table row only.
CREATE INDEX live_activities_purge ON live_activities (status, finished_at);

-- Batches as the device sent them (a JSON array), one row per batch; the
-- primary key serves replay in order and the cascade from the activity.
CREATE TABLE live_batches (
    live_id     TEXT NOT NULL REFERENCES live_activities (id) ON DELETE CASCADE,
    batch       INTEGER NOT NULL CHECK (batch > 0),
    points      BLOB NOT NULL,
    count       INTEGER NOT NULL CHECK (count >= 0),
    received_at INTEGER NOT NULL,
    PRIMARY KEY (live_id, batch)
) STRICT;
