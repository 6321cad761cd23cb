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

// CreateSession implements store.Sessions.
func (db *DB) CreateSession(ctx context.Context, s store.Session, first store.RefreshToken) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			s.ID, s.UserID, s.CreatedAt, s.ExpiresAt)
		if isViolation(err, foreignKeyViolation) {
			return notFound("User")
		}
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		return insertRefreshToken(ctx, tx, first)
	})
}

func insertRefreshToken(ctx context.Context, tx pgx.Tx, t store.RefreshToken) error {
	_, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		t.Hash, t.SessionID, t.CreatedAt, t.ExpiresAt)
	if err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// RotateRefreshToken implements store.Sessions.
func (db *DB) RotateRefreshToken(ctx context.Context, presented []byte, next store.RefreshToken, now time.Time) (store.Session, error) {
	var s store.Session
	var reused bool
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var (
			tokenExpires      time.Time
			usedAt, revokedAt *time.Time
		)
		// FOR UPDATE serializes two concurrent rotations of one token, so
		// exactly one wins and the other is seen as a reuse.
		err := tx.QueryRow(ctx, `SELECT t.expires_at, t.used_at, s.id, s.user_id, s.created_at, s.expires_at, s.revoked_at
			FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = $1 FOR UPDATE`, presented).
			Scan(&tokenExpires, &usedAt, &s.ID, &s.UserID, &s.CreatedAt, &s.ExpiresAt, &revokedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return unauthorized()
		}
		if err != nil {
			return fmt.Errorf("load refresh token: %w", err)
		}
		s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
		if revokedAt != nil {
			return unauthorized()
		}
		if usedAt != nil {
			reused = true
			_, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = $1 WHERE id = $2`, now, s.ID)
			return err
		}
		if !now.Before(tokenExpires) || !now.Before(s.ExpiresAt) {
			return unauthorized()
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2`, now, presented); err != nil {
			return fmt.Errorf("mark refresh token used: %w", err)
		}
		next.SessionID = s.ID
		return insertRefreshToken(ctx, tx, next)
	})
	if err != nil {
		return store.Session{}, err
	}
	if reused {
		return store.Session{}, stride.Errorf(stride.ETOKENREUSED, "This refresh token was already used; the session has been revoked. Sign in again.")
	}
	return s, nil
}

// RevokeSession implements store.Sessions.
func (db *DB) RevokeSession(ctx context.Context, userID, sessionID string, now time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE sessions SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2 AND user_id = $3`,
		now, sessionID, userID)
	if err != nil {
		return fmt.Errorf("revoke session %s: %w", sessionID, err)
	}
	return nil
}

// PurgeSessions implements store.Sessions.
func (db *DB) PurgeSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// SessionUser implements store.Sessions.
func (db *DB) SessionUser(ctx context.Context, sessionID string, now time.Time) (*stride.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+store.QualifyColumns("u.", userColumns)+` FROM sessions s
		JOIN users u ON u.id = s.user_id
		WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.status = 'active'`, sessionID, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, unauthorized()
	}
	if err != nil {
		return nil, fmt.Errorf("load session %s: %w", sessionID, err)
	}
	return u, nil
}
