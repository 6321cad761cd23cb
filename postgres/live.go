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

var _ store.Live = (*DB)(nil)

const liveColumns = `id, user_id, sport, name, visibility, status, started_at, updated_at, last_batch, points, upload_id`

func scanLive(row pgx.Row) (*store.LiveActivity, error) {
	var a store.LiveActivity
	var upload *string
	if err := row.Scan(&a.ID, &a.UserID, &a.Sport, &a.Name, &a.Visibility, &a.Status, &a.StartedAt, &a.UpdatedAt, &a.LastBatch,
		&a.Points, &upload); err != nil {
		return nil, err
	}
	a.StartedAt, a.UpdatedAt = a.StartedAt.UTC(), a.UpdatedAt.UTC()
	if upload != nil {
		a.UploadID = *upload
	}
	return &a, nil
}

// CreateLive implements store.Live. It sets a's Status, LastBatch, Points
// and UploadID to what a new live activity starts with, as stored.
func (db *DB) CreateLive(ctx context.Context, a *store.LiveActivity) error {
	updated := a.UpdatedAt
	if updated.IsZero() {
		updated = a.StartedAt
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO live_activities (id, user_id, sport, name, visibility, status, started_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.ID, a.UserID, a.Sport, a.Name, a.Visibility, store.LiveRecording, a.StartedAt, updated)
	switch {
	case isViolation(err, foreignKeyViolation):
		return notFound("User")
	case isViolation(err, uniqueViolation):
		return stride.Errorf(stride.ECONFLICT, "A live activity with this id already exists.")
	case err != nil:
		return fmt.Errorf("create live activity %s: %w", a.ID, err)
	}
	a.Status, a.UpdatedAt, a.LastBatch, a.Points, a.UploadID = store.LiveRecording, updated, 0, 0, ""
	return nil
}

// LiveActivity implements store.Live.
func (db *DB) LiveActivity(ctx context.Context, id string) (*store.LiveActivity, error) {
	a, err := scanLive(db.pool.QueryRow(ctx, `SELECT `+liveColumns+` FROM live_activities WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("Live activity")
	}
	if err != nil {
		return nil, fmt.Errorf("load live activity %s: %w", id, err)
	}
	return a, nil
}

// ActiveLive implements store.Live.
func (db *DB) ActiveLive(ctx context.Context, userID string) ([]store.LiveActivity, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+liveColumns+` FROM live_activities
		WHERE user_id = $1 AND status IN ('recording', 'paused') ORDER BY started_at DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list live activities of %s: %w", userID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.LiveActivity, error) {
		a, err := scanLive(r)
		if err != nil {
			return store.LiveActivity{}, err
		}
		return *a, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list live activities of %s: %w", userID, err)
	}
	return out, nil
}

// lockLive reads what every write of a live activity decides on, with the
// row locked until the transaction ends: two connections of one device
// appending the same batch queue here, and the second then sees the
// first's last_batch.
func lockLive(ctx context.Context, tx pgx.Tx, liveID string) (status string, last int64, upload string, err error) {
	err = tx.QueryRow(ctx, `SELECT status, last_batch, coalesce(upload_id, '') FROM live_activities WHERE id = $1 FOR UPDATE`,
		liveID).Scan(&status, &last, &upload)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, "", notFound("Live activity")
	}
	return status, last, upload, err
}

// AppendLive implements store.Live.
func (db *DB) AppendLive(ctx context.Context, liveID string, batch int64, points []byte, count int, now time.Time) (bool, error) {
	if err := store.CheckLiveAppend(batch, count); err != nil {
		return false, err
	}
	var duplicate bool
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		status, last, _, err := lockLive(ctx, tx, liveID)
		switch {
		case err != nil:
			return err
		case status == store.LiveFinished:
			return store.LiveFinishedError()
		case batch <= last:
			duplicate = true
			return nil
		case batch > last+1:
			return store.LiveGapError(batch, last)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO live_batches (live_id, batch, points, count, received_at) VALUES ($1, $2, $3, $4, $5)`,
			liveID, batch, nonNil(points), count, now); err != nil {
			return fmt.Errorf("insert batch: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE live_activities SET last_batch = $2, points = points + $3, updated_at = $4 WHERE id = $1`,
			liveID, batch, count, now); err != nil {
			return fmt.Errorf("advance last batch: %w", err)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("append batch %d to live activity %s: %w", batch, liveID, err)
	}
	return duplicate, nil
}

// SetLiveStatus implements store.Live.
func (db *DB) SetLiveStatus(ctx context.Context, liveID, status string, now time.Time) error {
	if err := store.CheckLiveStatus(status); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		cur, _, _, err := lockLive(ctx, tx, liveID)
		if err != nil {
			return err
		}
		if cur == store.LiveFinished {
			return store.LiveFinishedError()
		}
		_, err = tx.Exec(ctx, `UPDATE live_activities SET status = $2, updated_at = $3 WHERE id = $1`, liveID, status, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("set live activity %s %s: %w", liveID, status, err)
	}
	return nil
}

// FinishLive implements store.Live.
func (db *DB) FinishLive(ctx context.Context, liveID, uploadID string, now time.Time) error {
	if err := store.CheckLiveFinish(uploadID); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		status, _, upload, err := lockLive(ctx, tx, liveID)
		switch {
		case err != nil:
			return err
		case status == store.LiveFinished && upload == uploadID:
			return nil
		case status == store.LiveFinished:
			return store.LiveFinishedAsError(upload)
		}
		_, err = tx.Exec(ctx, `UPDATE live_activities SET status = 'finished', upload_id = $2, finished_at = $3, updated_at = $3
			WHERE id = $1`, liveID, uploadID, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish live activity %s: %w", liveID, err)
	}
	return nil
}

// LiveBatches implements store.Live.
func (db *DB) LiveBatches(ctx context.Context, liveID string, after int64, limit int) ([]store.LiveBatch, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT live_id, batch, points, count, received_at FROM live_batches
		WHERE live_id = $1 AND batch > $2 ORDER BY batch LIMIT $3`, liveID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read batches of live activity %s: %w", liveID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.LiveBatch, error) {
		var b store.LiveBatch
		err := r.Scan(&b.LiveID, &b.Batch, &b.Points, &b.Count, &b.ReceivedAt)
		b.ReceivedAt = b.ReceivedAt.UTC()
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("read batches of live activity %s: %w", liveID, err)
	}
	return out, nil
}

// PurgeLive implements store.Live. Unlike SQLite's single writer, nothing
// here waits for the purge but the rows it deletes, so one statement.
func (db *DB) PurgeLive(ctx context.Context, cutoff, staleCutoff time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM live_activities
		WHERE (status = 'finished' AND finished_at < $1) OR (status IN ('recording', 'paused') AND updated_at < $2)`,
		cutoff, staleCutoff)
	if err != nil {
		return 0, fmt.Errorf("purge live activities: %w", err)
	}
	return tag.RowsAffected(), nil
}
