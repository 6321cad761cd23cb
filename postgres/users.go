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

const userColumns = `id, email, name, role, status, birth_date, height_m, weight_kg, gender, goals,
	time_zone, units, resting_hr, max_hr, ftp_w, default_visibility, created_at, updated_at`

func scanUser(row pgx.Row, extra ...any) (*stride.User, error) {
	var (
		u     stride.User
		birth *time.Time
	)
	dest := append([]any{&u.ID, &u.Email, &u.Name, &u.Role, &u.Status, &birth, &u.HeightM, &u.WeightKg, &u.Gender, &u.Goals,
		&u.TimeZone, &u.Units, &u.RestingHR, &u.MaxHR, &u.FTPW, &u.DefaultVisibility, &u.CreatedAt, &u.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if birth != nil {
		u.BirthDate = &stride.Date{Year: birth.Year(), Month: birth.Month(), Day: birth.Day()}
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

func dateArg(d *stride.Date) any {
	if d == nil {
		return nil
	}
	return d.String()
}

// CreateUser implements store.Users.
func (db *DB) CreateUser(ctx context.Context, u *stride.User, passwordHash string, inviteHash []byte) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO users (`+userColumns+`, password_hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
			u.ID, u.Email, u.Name, u.Role, u.Status, dateArg(u.BirthDate), u.HeightM, u.WeightKg, u.Gender, u.Goals,
			u.TimeZone, u.Units, u.RestingHR, u.MaxHR, u.FTPW, u.DefaultVisibility, u.CreatedAt, u.UpdatedAt, passwordHash)
		if isViolation(err, uniqueViolation) {
			return stride.Errorf(stride.ECONFLICT, "An account with this email already exists.")
		}
		if err != nil {
			return fmt.Errorf("insert user %s: %w", u.ID, err)
		}
		if inviteHash == nil {
			return nil
		}
		tag, err := tx.Exec(ctx, `UPDATE invites SET used_by = $1, used_at = $2
			WHERE code_hash = $3 AND used_at IS NULL AND expires_at > $2`, u.ID, u.CreatedAt, inviteHash)
		if err != nil {
			return fmt.Errorf("consume invite: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return stride.Errorf(stride.EREGISTRATION, "The invite code is unknown, used or expired.")
		}
		return nil
	})
}

// UserByID implements store.Users.
func (db *DB) UserByID(ctx context.Context, id string) (*stride.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("User")
	}
	if err != nil {
		return nil, fmt.Errorf("load user %s: %w", id, err)
	}
	return u, nil
}

// UserCredentials implements store.Users.
func (db *DB) UserCredentials(ctx context.Context, email string) (*stride.User, string, error) {
	var hash string
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = $1`, email), &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", notFound("User")
	}
	if err != nil {
		return nil, "", fmt.Errorf("load credentials: %w", err)
	}
	return u, hash, nil
}

// UpdateProfile implements store.Users.
func (db *DB) UpdateProfile(ctx context.Context, u *stride.User) error {
	tag, err := db.pool.Exec(ctx, `UPDATE users SET name = $1, birth_date = $2, height_m = $3, weight_kg = $4,
		gender = $5, goals = $6, time_zone = $7, units = $8, resting_hr = $9, max_hr = $10, ftp_w = $11,
		default_visibility = $12, updated_at = $13 WHERE id = $14`,
		u.Name, dateArg(u.BirthDate), u.HeightM, u.WeightKg, u.Gender, u.Goals, u.TimeZone, u.Units,
		u.RestingHR, u.MaxHR, u.FTPW, u.DefaultVisibility, u.UpdatedAt, u.ID)
	if err != nil {
		return fmt.Errorf("update user %s: %w", u.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("User")
	}
	return nil
}

// SetUserStatus implements store.Users.
func (db *DB) SetUserStatus(ctx context.Context, id, status string, now time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE users SET status = $1, updated_at = $2 WHERE id = $3`, status, now, id)
	if err != nil {
		return fmt.Errorf("set status of user %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("User")
	}
	return nil
}

// ListUsers implements store.Users.
func (db *DB) ListUsers(ctx context.Context, page stride.Page) ([]stride.User, string, error) {
	limit := store.PageLimit(page)
	after, afterID := time.Unix(-62135596800, 0), "" // year 1: before any account
	if page.Cursor != "" {
		var err error
		if after, afterID, err = store.DecodeCursor(page.Cursor); err != nil {
			return nil, "", err
		}
	}
	rows, err := db.pool.Query(ctx, `SELECT `+userColumns+` FROM users
		WHERE (created_at, id) > ($1, $2) ORDER BY created_at, id LIMIT $3`, after, afterID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (stride.User, error) {
		u, err := scanUser(r)
		if err != nil {
			return stride.User{}, err
		}
		return *u, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = store.EncodeCursor(last.CreatedAt, last.ID)
	}
	return out, next, nil
}

// DeleteUser implements store.Users. Foreign keys cascade to everything the
// account owns.
func (db *DB) DeleteUser(ctx context.Context, id string, ev store.OutboxEvent) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// Unsent events about the account go too: they would only describe
		// data that no longer exists.
		if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE key = $1`, id); err != nil {
			return fmt.Errorf("delete outbox events of user %s: %w", id, err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete user %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return notFound("User")
		}
		// After the purge above, which would otherwise take it too.
		return insertOutbox(ctx, tx, ev)
	})
}

// CreateInvite implements store.Invites.
func (db *DB) CreateInvite(ctx context.Context, inv store.Invite) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO invites (code_hash, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		inv.CodeHash, inv.CreatedBy, inv.CreatedAt, inv.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create invite: %w", err)
	}
	return nil
}
