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

// UpdateActivity implements store.Ingest.
func (db *DB) UpdateActivity(ctx context.Context, userID, id string, upd store.ActivityUpdate, ev store.OutboxEvent, now time.Time) (*stride.Activity, error) {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE activities SET name = coalesce($1, name), description = coalesce($2, description),
			visibility = coalesce($3, visibility), sport = coalesce($4, sport), updated_at = $5
			WHERE id = $6 AND user_id = $7 AND parent_id IS NULL`,
			upd.Name, upd.Description, upd.Visibility, upd.Sport, now, id, userID)
		if err != nil {
			return fmt.Errorf("update activity %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return notFound("Activity")
		}
		// Children share the parent's visibility: a private triathlon must
		// not leave its legs public.
		if upd.Visibility != nil {
			if _, err := tx.Exec(ctx, `UPDATE activities SET visibility = $1, updated_at = $2 WHERE parent_id = $3`,
				*upd.Visibility, now, id); err != nil {
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
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var uploadID string
		err := tx.QueryRow(ctx, `SELECT upload_id FROM activities WHERE id = $1 AND user_id = $2 AND parent_id IS NULL FOR UPDATE`, id, userID).Scan(&uploadID)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("Activity")
		}
		if err != nil {
			return fmt.Errorf("load activity %s: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM activities WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete activity %s: %w", id, err)
		}
		// Uploads that ended as this activity (or duplicates of it) no
		// longer point anywhere.
		if _, err := tx.Exec(ctx, `UPDATE uploads SET activity_id = NULL WHERE activity_id = $1`, id); err != nil {
			return fmt.Errorf("detach uploads of %s: %w", id, err)
		}
		return insertOutbox(ctx, tx, ev)
	})
}
