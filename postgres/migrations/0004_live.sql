-- Live activities: recordings a device streams as numbered batches of
-- points, each stored before it is acknowledged.
CREATE TABLE live_activities (
    id          text PRIMARY KEY,
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sport       text NOT NULL,
    name        text NOT NULL DEFAULT '',
    visibility  text NOT NULL CHECK (visibility IN ('public', 'followers', 'private')),
    status      text NOT NULL CHECK (status IN ('recording', 'paused', 'finished')),
    started_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    last_batch  bigint NOT NULL DEFAULT 0,
    points      integer NOT NULL DEFAULT 0,
    upload_id   text,
    finished_at timestamptz,
    -- A finished activity always says when and as which upload.
    CHECK ((status = 'finished') = (upload_id IS NOT NULL AND finished_at IS NOT NULL))
);
-- ActiveLive. A user has a handful of live activities, so no sort column.
CREATE INDEX live_activities_user ON live_activities (user_id, status);
-- PurgeLive: finished ones by finished_at; the unfinished ones are few
-- (one per recording device) and filtered on updated_at from the table.
-- No index holds updated_at, last_batch or points, so the update of every
-- append can be a heap-only tuple update.
CREATE INDEX live_activities_purge ON live_activities (status, finished_at);

-- Batches as the device sent them (a JSON array), one row per batch; the
-- primary key serves replay in order and the cascade from the activity.
CREATE TABLE live_batches (
    live_id     text NOT NULL REFERENCES live_activities (id) ON DELETE CASCADE,
    batch       bigint NOT NULL CHECK (batch > 0),
    points      bytea NOT NULL,
    count       integer NOT NULL CHECK (count >= 0),
    received_at timestamptz NOT NULL,
    PRIMARY KEY (live_id, batch)
);
