-- Single-use tickets for opening a WebSocket from a browser.
CREATE TABLE realtime_tickets (
    hash             bytea PRIMARY KEY,
    user_id          text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id       text NOT NULL,
    token_expires_at timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL
);

CREATE INDEX realtime_tickets_expires ON realtime_tickets (expires_at);
