package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

// CreateTicket implements store.Tickets.
func (db *DB) CreateTicket(ctx context.Context, t store.Ticket) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM realtime_tickets WHERE expires_at <= ?`, micros(time.Now())); err != nil {
			return fmt.Errorf("purge tickets: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO realtime_tickets (hash, user_id, session_id, token_expires_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			t.Hash, t.UserID, t.SessionID, micros(t.TokenExpiresAt), micros(t.ExpiresAt)); err != nil {
			return fmt.Errorf("create ticket: %w", err)
		}
		return nil
	})
}

// ConsumeTicket implements store.Tickets.
func (db *DB) ConsumeTicket(ctx context.Context, hash []byte, now time.Time) (*store.Ticket, error) {
	t := store.Ticket{Hash: hash}
	var tokenExp, exp int64
	err := db.write.QueryRowContext(ctx, `DELETE FROM realtime_tickets WHERE hash = ? AND expires_at > ?
		RETURNING user_id, session_id, token_expires_at, expires_at`, hash, micros(now)).Scan(&t.UserID, &t.SessionID, &tokenExp, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, stride.Errorf(stride.EUNAUTHORIZED, "The ticket is unknown, used or expired.")
	}
	if err != nil {
		return nil, fmt.Errorf("consume ticket: %w", err)
	}
	t.TokenExpiresAt, t.ExpiresAt = fromMicros(tokenExp), fromMicros(exp)
	return &t, nil
}
