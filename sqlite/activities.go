package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

// ownActivity reads, inside tx, the user's top-level activity as it is
// before a change, and builds the change's event from it.
func ownActivity(ctx context.Context, tx *sql.Tx, userID, id string, event func(before *stride.Activity) (store.OutboxEvent, error)) (store.OutboxEvent, error) {
	before, err := loadActivity(ctx, tx, id, ` AND user_id = ? AND parent_id IS NULL`, userID)
	if err != nil {
		return store.OutboxEvent{}, err
	}
	ev, err := event(before)
	if err != nil {
		return store.OutboxEvent{}, fmt.Errorf("build the event of activity %s: %w", id, err)
	}
	return ev, nil
}

// UpdateActivity implements store.Ingest.
func (db *DB) UpdateActivity(ctx context.Context, userID, id string, upd store.ActivityUpdate, event func(before *stride.Activity) (store.OutboxEvent, error), now time.Time) (*stride.Activity, error) {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		ev, err := ownActivity(ctx, tx, userID, id, event)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE activities SET name = coalesce(?, name), description = coalesce(?, description),
			visibility = coalesce(?, visibility), sport = coalesce(?, sport), updated_at = ?
			WHERE id = ?`,
			upd.Name, upd.Description, upd.Visibility, upd.Sport, micros(now), id); err != nil {
			return fmt.Errorf("update activity %s: %w", id, err)
		}
		// Children share the parent's visibility: a private triathlon must
		// not leave its legs public.
		if upd.Visibility != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE activities SET visibility = ?, updated_at = ? WHERE parent_id = ?`,
				*upd.Visibility, micros(now), id); err != nil {
				return fmt.Errorf("update legs of %s: %w", id, err)
			}
		}
		if _, err := tx.ExecContext(ctx, qBumpFactsVersion, userID); err != nil {
			return fmt.Errorf("raise the facts version of %s: %w", userID, err)
		}
		return insertOutbox(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return db.Activity(ctx, id)
}

// qDetachUploads is answered from the index uploads_activity_id (0010).
const qDetachUploads = `UPDATE uploads SET activity_id = NULL WHERE activity_id = ?`

// DeleteActivity implements store.Ingest.
func (db *DB) DeleteActivity(ctx context.Context, userID, id string, event func(before *stride.Activity) (store.OutboxEvent, error)) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		ev, err := ownActivity(ctx, tx, userID, id, event)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM activities WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete activity %s: %w", id, err)
		}
		// Uploads that ended as this activity (or duplicates of it) no
		// longer point anywhere.
		if _, err := tx.ExecContext(ctx, qDetachUploads, id); err != nil {
			return fmt.Errorf("detach uploads of %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, qBumpFactsVersion, userID); err != nil {
			return fmt.Errorf("raise the facts version of %s: %w", userID, err)
		}
		return insertOutbox(ctx, tx, ev)
	})
}
