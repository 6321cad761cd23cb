-- Accounts, sign-in sessions, the follow graph and invites.
CREATE TABLE users (
    id                 text PRIMARY KEY,
    email              text NOT NULL UNIQUE,
    password_hash      text NOT NULL,
    name               text NOT NULL,
    role               text NOT NULL CHECK (role IN ('athlete', 'admin')),
    status             text NOT NULL CHECK (status IN ('active', 'disabled')),
    birth_date         date,
    height_m           double precision,
    weight_kg          double precision,
    gender             text NOT NULL DEFAULT '',
    goals              text NOT NULL DEFAULT '',
    time_zone          text NOT NULL DEFAULT '',
    units              text NOT NULL,
    resting_hr         integer,
    max_hr             integer,
    ftp_w              integer,
    default_visibility text NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);

CREATE TABLE sessions (
    id         text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE refresh_tokens (
    hash       bytea PRIMARY KEY,
    session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);

CREATE TABLE follows (
    follower_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);
CREATE INDEX follows_followee ON follows (followee_id, created_at, follower_id);
CREATE INDEX follows_follower ON follows (follower_id, created_at, followee_id);

CREATE TABLE invites (
    code_hash  bytea PRIMARY KEY,
    created_by text REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_by    text REFERENCES users (id) ON DELETE SET NULL,
    used_at    timestamptz
);
