-- Single-use tickets for opening a WebSocket from a browser.
CREATE TABLE realtime_tickets (
    hash             BLOB PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id       TEXT NOT NULL,
    token_expires_at INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX realtime_tickets_expires ON realtime_tickets (expires_at);
