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

func unauthorized() error {
	return stride.Errorf(stride.EUNAUTHORIZED, "The session has ended; sign in again.")
}

// CreateSession implements store.Sessions.
func (db *DB) CreateSession(ctx context.Context, s store.Session, first store.RefreshToken) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			s.ID, s.UserID, micros(s.CreatedAt), micros(s.ExpiresAt))
		if isForeignKeyViolation(err) {
			return notFound("User")
		}
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		return insertRefreshToken(ctx, tx, first)
	})
}

func insertRefreshToken(ctx context.Context, tx *sql.Tx, t store.RefreshToken) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		t.Hash, t.SessionID, micros(t.CreatedAt), micros(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// RotateRefreshToken implements store.Sessions.
func (db *DB) RotateRefreshToken(ctx context.Context, presented []byte, next store.RefreshToken, now time.Time) (store.Session, error) {
	var s store.Session
	var reused bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var (
			tokenExpires             int64
			usedAt, revokedAt        sql.NullInt64
			sessCreated, sessExpires int64
		)
		err := tx.QueryRowContext(ctx, `SELECT t.expires_at, t.used_at, s.id, s.user_id, s.created_at, s.expires_at, s.revoked_at
			FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.hash = ?`, presented).
			Scan(&tokenExpires, &usedAt, &s.ID, &s.UserID, &sessCreated, &sessExpires, &revokedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return unauthorized()
		}
		if err != nil {
			return fmt.Errorf("load refresh token: %w", err)
		}
		s.CreatedAt, s.ExpiresAt = fromMicros(sessCreated), fromMicros(sessExpires)
		if revokedAt.Valid {
			return unauthorized()
		}
		if usedAt.Valid {
			// Revoke in this same transaction and commit it: the theft
			// response must stick even though the caller gets an error.
			reused = true
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ?`, micros(now), s.ID)
			return err
		}
		if !now.Before(fromMicros(tokenExpires)) || !now.Before(s.ExpiresAt) {
			return unauthorized()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ? WHERE hash = ?`, micros(now), presented); err != nil {
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
	_, err := db.write.ExecContext(ctx, `UPDATE sessions SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND user_id = ?`,
		micros(now), sessionID, userID)
	if err != nil {
		return fmt.Errorf("revoke session %s: %w", sessionID, err)
	}
	return nil
}

// PurgeSessions implements store.Sessions.
func (db *DB) PurgeSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ? OR revoked_at < ?`, micros(cutoff), micros(cutoff))
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return res.RowsAffected()
}

// sessionUserQuery is SessionUser's query, a constant built once.
var sessionUserQuery = `SELECT ` + store.QualifyColumns("u.", userColumns) + ` FROM sessions s
	JOIN users u ON u.id = s.user_id
	WHERE s.id = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND u.status = 'active'`

// SessionUser implements store.Sessions.
func (db *DB) SessionUser(ctx context.Context, sessionID string, now time.Time) (*stride.User, error) {
	// Run on every authenticated request: prepared once (see stmtcache.go).
	st, err := db.readStmts.get(ctx, sessionUserQuery)
	if err != nil {
		return nil, fmt.Errorf("load session %s: %w", sessionID, err)
	}
	u, err := scanUser(st.QueryRowContext(ctx, sessionID, micros(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, unauthorized()
	}
	if err != nil {
		return nil, fmt.Errorf("load session %s: %w", sessionID, err)
	}
	return u, nil
}
