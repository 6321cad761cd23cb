-- Uploads, the transactional outbox, idempotency keys, activities and their
-- compressed point streams.
CREATE TABLE uploads (
    id           text PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       text NOT NULL CHECK (status IN ('queued', 'processing', 'done', 'failed', 'duplicate')),
    format       text NOT NULL,
    content_type text NOT NULL DEFAULT '',
    filename     text NOT NULL DEFAULT '',
    content_hash bytea NOT NULL,
    size_bytes   integer NOT NULL,
    body         bytea NOT NULL,
    blob_key     text NOT NULL DEFAULT '', -- large bodies live in the blob store; body is then empty
    external_id  text NOT NULL DEFAULT '',
    options      text NOT NULL DEFAULT '{}',
    activity_id  text,
    problem      text,
    attempts     integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX uploads_user_id ON uploads (user_id);
CREATE INDEX uploads_unfinished ON uploads (updated_at) WHERE status IN ('queued', 'processing');

CREATE TABLE outbox (
    seq        bigserial PRIMARY KEY,
    event_id   text NOT NULL UNIQUE,
    type       text NOT NULL,
    key        text NOT NULL,
    payload    bytea NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX outbox_key ON outbox (key);

CREATE TABLE idempotency_keys (
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    status       integer NOT NULL,
    body         bytea NOT NULL,
    location     text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

CREATE TABLE activities (
    id            text PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    upload_id     text NOT NULL,
    parent_id     text REFERENCES activities (id) ON DELETE CASCADE,
    sport         text NOT NULL,
    sub_sport     text NOT NULL DEFAULT '',
    name          text NOT NULL DEFAULT '',
    description   text NOT NULL DEFAULT '',
    visibility    text NOT NULL CHECK (visibility IN ('public', 'followers', 'private')),
    indoor        boolean NOT NULL DEFAULT false,
    virtual       boolean NOT NULL DEFAULT false,
    start_time    timestamptz NOT NULL,
    end_time      timestamptz NOT NULL,
    local_start   text NOT NULL DEFAULT '',
    time_zone     text NOT NULL DEFAULT '',
    utc_offset_s  integer,
    elapsed_s     double precision NOT NULL,
    timer_s       double precision NOT NULL,
    moving_s      double precision NOT NULL,
    distance_m    double precision NOT NULL,
    ascent_m      double precision NOT NULL,
    descent_m     double precision NOT NULL,
    avg_speed_mps double precision NOT NULL,
    max_speed_mps double precision NOT NULL,
    avg_hr        double precision,
    max_hr        double precision,
    calories      double precision NOT NULL,
    polyline      text NOT NULL DEFAULT '',
    bbox          text,
    start_latlng  text,
    end_latlng    text,
    details       text NOT NULL DEFAULT '{}',
    content_hash  bytea,
    external_id   text NOT NULL DEFAULT '',
    device        text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
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
    activity_id text PRIMARY KEY REFERENCES activities (id) ON DELETE CASCADE,
    data        bytea NOT NULL
);
