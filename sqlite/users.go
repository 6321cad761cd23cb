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

const userColumns = `id, email, name, role, status, birth_date, height_m, weight_kg, gender, goals,
	time_zone, units, resting_hr, max_hr, ftp_w, default_visibility, created_at, updated_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanUser(row rowScanner, extra ...any) (*stride.User, error) {
	var (
		u                  stride.User
		birth              sql.NullString
		height, weight     sql.NullFloat64
		resting, maxHR     sql.NullInt64
		ftp                sql.NullInt64
		createdAt, updated int64
	)
	dest := append([]any{&u.ID, &u.Email, &u.Name, &u.Role, &u.Status, &birth, &height, &weight, &u.Gender, &u.Goals,
		&u.TimeZone, &u.Units, &resting, &maxHR, &ftp, &u.DefaultVisibility, &createdAt, &updated}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if birth.Valid {
		d, err := stride.ParseDate(birth.String)
		if err != nil {
			return nil, fmt.Errorf("user %s: stored birth date %q: %w", u.ID, birth.String, err)
		}
		u.BirthDate = &d
	}
	u.HeightM = nullFloat(height)
	u.WeightKg = nullFloat(weight)
	u.RestingHR = nullInt(resting)
	u.MaxHR = nullInt(maxHR)
	u.FTPW = nullInt(ftp)
	u.CreatedAt = fromMicros(createdAt)
	u.UpdatedAt = fromMicros(updated)
	return &u, nil
}

func nullFloat(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	return &v.Float64
}

func nullInt(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	i := int(v.Int64)
	return &i
}

func dateArg(d *stride.Date) any {
	if d == nil {
		return nil
	}
	return d.String()
}

// CreateUser implements store.Users.
func (db *DB) CreateUser(ctx context.Context, u *stride.User, passwordHash string, inviteHash []byte) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`, password_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Email, u.Name, u.Role, u.Status, dateArg(u.BirthDate), u.HeightM, u.WeightKg, u.Gender, u.Goals,
			u.TimeZone, u.Units, u.RestingHR, u.MaxHR, u.FTPW, u.DefaultVisibility, micros(u.CreatedAt), micros(u.UpdatedAt),
			passwordHash)
		if isUniqueViolation(err) {
			return stride.Errorf(stride.ECONFLICT, "An account with this email already exists.")
		}
		if err != nil {
			return fmt.Errorf("insert user %s: %w", u.ID, err)
		}
		if inviteHash == nil {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE invites SET used_by = ?, used_at = ?
			WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?`,
			u.ID, micros(u.CreatedAt), inviteHash, micros(u.CreatedAt))
		if err != nil {
			return fmt.Errorf("consume invite: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return stride.Errorf(stride.EREGISTRATION, "The invite code is unknown, used or expired.")
		}
		return nil
	})
}

// UserByID implements store.Users.
func (db *DB) UserByID(ctx context.Context, id string) (*stride.User, error) {
	u, err := scanUser(db.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
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
	u, err := scanUser(db.read.QueryRowContext(ctx,
		`SELECT `+userColumns+`, password_hash FROM users WHERE email = ?`, email), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", notFound("User")
	}
	if err != nil {
		return nil, "", fmt.Errorf("load credentials: %w", err)
	}
	return u, hash, nil
}

// UpdateProfile implements store.Users.
func (db *DB) UpdateProfile(ctx context.Context, u *stride.User) error {
	res, err := db.write.ExecContext(ctx, `UPDATE users SET name = ?, birth_date = ?, height_m = ?, weight_kg = ?,
		gender = ?, goals = ?, time_zone = ?, units = ?, resting_hr = ?, max_hr = ?, ftp_w = ?,
		default_visibility = ?, updated_at = ? WHERE id = ?`,
		u.Name, dateArg(u.BirthDate), u.HeightM, u.WeightKg, u.Gender, u.Goals, u.TimeZone, u.Units,
		u.RestingHR, u.MaxHR, u.FTPW, u.DefaultVisibility, micros(u.UpdatedAt), u.ID)
	if err != nil {
		return fmt.Errorf("update user %s: %w", u.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("User")
	}
	return nil
}

// SetUserStatus implements store.Users.
func (db *DB) SetUserStatus(ctx context.Context, id, status string, now time.Time) error {
	res, err := db.write.ExecContext(ctx, `UPDATE users SET status = ?, updated_at = ? WHERE id = ?`, status, micros(now), id)
	if err != nil {
		return fmt.Errorf("set status of user %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("User")
	}
	return nil
}

// ListUsers implements store.Users.
func (db *DB) ListUsers(ctx context.Context, page stride.Page) ([]stride.User, string, error) {
	limit := store.PageLimit(page)
	after := int64(-1 << 63)
	afterID := ""
	if page.Cursor != "" {
		t, id, err := store.DecodeCursor(page.Cursor)
		if err != nil {
			return nil, "", err
		}
		after, afterID = micros(t), id
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users
		WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?`, after, afterID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []stride.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list users: %w", err)
		}
		out = append(out, *u)
	}
	if err := rows.Err(); err != nil {
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
	return db.inTx(ctx, func(tx *sql.Tx) error {
		// Unsent events about the account go too: they would only describe
		// data that no longer exists.
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE key = ?`, id); err != nil {
			return fmt.Errorf("delete outbox events of user %s: %w", id, err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete user %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("User")
		}
		// After the purge above, which would otherwise take it too.
		return insertOutbox(ctx, tx, ev)
	})
}

// CreateInvite implements store.Invites.
func (db *DB) CreateInvite(ctx context.Context, inv store.Invite) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO invites (code_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		inv.CodeHash, inv.CreatedBy, micros(inv.CreatedAt), micros(inv.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create invite: %w", err)
	}
	return nil
}
