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

// UpdateActivity implements store.Ingest.
func (db *DB) UpdateActivity(ctx context.Context, userID, id string, upd store.ActivityUpdate, ev store.OutboxEvent, now time.Time) (*stride.Activity, error) {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE activities SET name = coalesce(?, name), description = coalesce(?, description),
			visibility = coalesce(?, visibility), sport = coalesce(?, sport), updated_at = ?
			WHERE id = ? AND user_id = ? AND parent_id IS NULL`,
			upd.Name, upd.Description, upd.Visibility, upd.Sport, micros(now), id, userID)
		if err != nil {
			return fmt.Errorf("update activity %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("Activity")
		}
		// Children share the parent's visibility: a private triathlon must
		// not leave its legs public.
		if upd.Visibility != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE activities SET visibility = ?, updated_at = ? WHERE parent_id = ?`,
				*upd.Visibility, micros(now), id); err != nil {
				return fmt.Errorf("update legs of %s: %w", id, err)
			}
		}
		return insertOutbox(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return db.Activity(ctx, id)
}

// DeleteActivity implements store.Ingest.
func (db *DB) DeleteActivity(ctx context.Context, userID, id string, ev store.OutboxEvent) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var uploadID string
		err := tx.QueryRowContext(ctx, `SELECT upload_id FROM activities WHERE id = ? AND user_id = ? AND parent_id IS NULL`, id, userID).Scan(&uploadID)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Activity")
		}
		if err != nil {
			return fmt.Errorf("load activity %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM activities WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete activity %s: %w", id, err)
		}
		// Uploads that ended as this activity (or duplicates of it) no
		// longer point anywhere.
		if _, err := tx.ExecContext(ctx, `UPDATE uploads SET activity_id = NULL WHERE activity_id = ?`, id); err != nil {
			return fmt.Errorf("detach uploads of %s: %w", id, err)
		}
		return insertOutbox(ctx, tx, ev)
	})
}
