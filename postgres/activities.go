package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

// ownActivity reads, inside tx, the user's top-level activity as it is
// before a change, locked until the change commits, and builds the change's
// event from it.
func ownActivity(ctx context.Context, tx pgx.Tx, userID, id string, event func(before *stride.Activity) (store.OutboxEvent, error)) (store.OutboxEvent, error) {
	before, err := loadActivity(ctx, tx, id, ` AND user_id = $2 AND parent_id IS NULL FOR UPDATE`, userID)
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
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		ev, err := ownActivity(ctx, tx, userID, id, event)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE activities SET name = coalesce($1, name), description = coalesce($2, description),
			visibility = coalesce($3, visibility), sport = coalesce($4, sport), updated_at = $5
			WHERE id = $6`,
			upd.Name, upd.Description, upd.Visibility, upd.Sport, now, id); err != nil {
			return fmt.Errorf("update activity %s: %w", id, err)
		}
		// Children share the parent's visibility: a private triathlon must
		// not leave its legs public.
		if upd.Visibility != nil {
			if _, err := tx.Exec(ctx, `UPDATE activities SET visibility = $1, updated_at = $2 WHERE parent_id = $3`,
				*upd.Visibility, now, id); err != nil {
				return fmt.Errorf("update legs of %s: %w", id, err)
			}
		}
		if _, err := tx.Exec(ctx, qBumpFactsVersion, userID); err != nil {
			return fmt.Errorf("raise the facts version of %s: %w", userID, err)
		}
		return insertOutbox(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return db.Activity(ctx, id)
}

// qBumpFactsVersion goes in every transaction that adds, changes or removes
// an activity (store.FactsVersion).
const qBumpFactsVersion = `UPDATE users SET facts_version = facts_version + 1 WHERE id = $1`

// DeleteActivity implements store.Ingest.
func (db *DB) DeleteActivity(ctx context.Context, userID, id string, event func(before *stride.Activity) (store.OutboxEvent, error)) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		ev, err := ownActivity(ctx, tx, userID, id, event)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM activities WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete activity %s: %w", id, err)
		}
		// Uploads that ended as this activity (or duplicates of it) no
		// longer point anywhere.
		if _, err := tx.Exec(ctx, `UPDATE uploads SET activity_id = NULL WHERE activity_id = $1`, id); err != nil {
			return fmt.Errorf("detach uploads of %s: %w", id, err)
		}
		if _, err := tx.Exec(ctx, qBumpFactsVersion, userID); err != nil {
			return fmt.Errorf("raise the facts version of %s: %w", userID, err)
		}
		return insertOutbox(ctx, tx, ev)
	})
}
