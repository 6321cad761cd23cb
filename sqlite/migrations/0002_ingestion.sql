-- Uploads, the transactional outbox, idempotency keys, activities and their
-- compressed point streams.
CREATE TABLE uploads (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'done', 'failed', 'duplicate')),
    format       TEXT NOT NULL,
    content_type TEXT NOT NULL DEFAULT '',
    filename     TEXT NOT NULL DEFAULT '',
    content_hash BLOB NOT NULL,
    size_bytes   INTEGER NOT NULL,
    body         BLOB NOT NULL,
    blob_key     TEXT NOT NULL DEFAULT '', -- large bodies live in the blob store; body is then empty
    external_id  TEXT NOT NULL DEFAULT '',
    options      TEXT NOT NULL DEFAULT '{}',
    activity_id  TEXT,
    problem      TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX uploads_user_id ON uploads (user_id);
CREATE INDEX uploads_unfinished ON uploads (updated_at) WHERE status IN ('queued', 'processing');

CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL,
    key        TEXT NOT NULL,
    payload    BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_key ON outbox (key);

CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    status       INTEGER NOT NULL,
    body         BLOB NOT NULL,
    location     TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

CREATE TABLE activities (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    upload_id     TEXT NOT NULL,
    parent_id     TEXT REFERENCES activities (id) ON DELETE CASCADE,
    sport         TEXT NOT NULL,
    sub_sport     TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL DEFAULT '',
    description   TEXT NOT NULL DEFAULT '',
    visibility    TEXT NOT NULL CHECK (visibility IN ('public', 'followers', 'private')),
    indoor        INTEGER NOT NULL DEFAULT 0,
    virtual       INTEGER NOT NULL DEFAULT 0,
    start_time    INTEGER NOT NULL,
    end_time      INTEGER NOT NULL,
    local_start   TEXT NOT NULL DEFAULT '',
    time_zone     TEXT NOT NULL DEFAULT '',
    utc_offset_s  INTEGER,
    elapsed_s     REAL NOT NULL,
    timer_s       REAL NOT NULL,
    moving_s      REAL NOT NULL,
    distance_m    REAL NOT NULL,
    ascent_m      REAL NOT NULL,
    descent_m     REAL NOT NULL,
    avg_speed_mps REAL NOT NULL,
    max_speed_mps REAL NOT NULL,
    avg_hr        REAL,
    max_hr        REAL,
    calories      REAL NOT NULL,
    polyline      TEXT NOT NULL DEFAULT '',
    bbox          TEXT,
    start_latlng  TEXT,
    end_latlng    TEXT,
    details       TEXT NOT NULL DEFAULT '{}',
    content_hash  BLOB,
    external_id   TEXT NOT NULL DEFAULT '',
    device        TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
-- A user's history, newest first; and the three ways to recognise a workout
-- uploaded twice (same bytes, same device id, or the same start second in
-- any format or from a second device), enforced so that concurrent workers
-- cannot both insert it.
CREATE INDEX activities_history ON activities (user_id, start_time DESC, id DESC) WHERE parent_id IS NULL;
CREATE INDEX activities_parent ON activities (parent_id) WHERE parent_id IS NOT NULL;
CREATE UNIQUE INDEX activities_same_content ON activities (user_id, content_hash) WHERE parent_id IS NULL;
CREATE UNIQUE INDEX activities_same_external_id ON activities (user_id, external_id) WHERE parent_id IS NULL AND external_id <> '';
CREATE UNIQUE INDEX activities_same_start ON activities (user_id, start_time) WHERE parent_id IS NULL;

CREATE TABLE activity_streams (
    activity_id TEXT PRIMARY KEY REFERENCES activities (id) ON DELETE CASCADE,
    data        BLOB NOT NULL
) STRICT;
