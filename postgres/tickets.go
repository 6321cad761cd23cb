package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

// CreateTicket implements store.Tickets.
func (db *DB) CreateTicket(ctx context.Context, t store.Ticket) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM realtime_tickets WHERE expires_at <= now()`); err != nil {
		return fmt.Errorf("purge tickets: %w", err)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO realtime_tickets (hash, user_id, session_id, token_expires_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		t.Hash, t.UserID, t.SessionID, t.TokenExpiresAt, t.ExpiresAt); err != nil {
		return fmt.Errorf("create ticket: %w", err)
	}
	return nil
}

// ConsumeTicket implements store.Tickets.
func (db *DB) ConsumeTicket(ctx context.Context, hash []byte, now time.Time) (*store.Ticket, error) {
	t := store.Ticket{Hash: hash}
	err := db.pool.QueryRow(ctx, `DELETE FROM realtime_tickets WHERE hash = $1 AND expires_at > $2
		RETURNING user_id, session_id, token_expires_at, expires_at`, hash, now).Scan(&t.UserID, &t.SessionID, &t.TokenExpiresAt, &t.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, stride.Errorf(stride.EUNAUTHORIZED, "The ticket is unknown, used or expired.")
	}
	if err != nil {
		return nil, fmt.Errorf("consume ticket: %w", err)
	}
	t.TokenExpiresAt, t.ExpiresAt = t.TokenExpiresAt.UTC(), t.ExpiresAt.UTC()
	return &t, nil
}
