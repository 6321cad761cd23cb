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

var _ store.Live = (*DB)(nil)

// The writes of live activities go through the committer (groupcommit.go):
// every recording device appends about once a second, and a commit of its
// own per append would spend the single writer on fsyncs. The committer
// also runs one job at a time, which is what makes the read-then-write of
// AppendLive safe for two connections of one device racing.

const liveColumns = `id, user_id, sport, name, visibility, status, started_at, updated_at, last_batch, points, upload_id`

func scanLive(row rowScanner) (*store.LiveActivity, error) {
	var (
		a                store.LiveActivity
		started, updated int64
		upload           sql.NullString
	)
	if err := row.Scan(&a.ID, &a.UserID, &a.Sport, &a.Name, &a.Visibility, &a.Status, &started, &updated, &a.LastBatch,
		&a.Points, &upload); err != nil {
		return nil, err
	}
	a.StartedAt, a.UpdatedAt, a.UploadID = fromMicros(started), fromMicros(updated), upload.String
	return &a, nil
}

// CreateLive implements store.Live. It sets a's Status, LastBatch, Points
// and UploadID to what a new live activity starts with, as stored.
func (db *DB) CreateLive(ctx context.Context, a *store.LiveActivity) error {
	updated := a.UpdatedAt
	if updated.IsZero() {
		updated = a.StartedAt
	}
	err := db.group.do(ctx, 256, func(ctx context.Context, b *batchTx) error {
		_, err := b.exec(ctx, `INSERT INTO live_activities (id, user_id, sport, name, visibility, status, started_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.UserID, a.Sport, a.Name, a.Visibility, store.LiveRecording, micros(a.StartedAt), micros(updated))
		switch {
		case isForeignKeyViolation(err):
			return notFound("User")
		case isUniqueViolation(err):
			return stride.Errorf(stride.ECONFLICT, "A live activity with this id already exists.")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create live activity %s: %w", a.ID, err)
	}
	a.Status, a.UpdatedAt, a.LastBatch, a.Points, a.UploadID = store.LiveRecording, updated, 0, 0, ""
	return nil
}

const qLiveActivity = `SELECT ` + liveColumns + ` FROM live_activities WHERE id = ?`

// LiveActivity implements store.Live.
func (db *DB) LiveActivity(ctx context.Context, id string) (*store.LiveActivity, error) {
	// Read by every watcher that (re)connects: prepared once.
	st, err := db.readStmts.get(ctx, qLiveActivity)
	if err != nil {
		return nil, fmt.Errorf("load live activity %s: %w", id, err)
	}
	a, err := scanLive(st.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Live activity")
	}
	if err != nil {
		return nil, fmt.Errorf("load live activity %s: %w", id, err)
	}
	return a, nil
}

// ActiveLive implements store.Live.
func (db *DB) ActiveLive(ctx context.Context, userID string) ([]store.LiveActivity, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+liveColumns+` FROM live_activities
		WHERE user_id = ? AND status IN ('recording', 'paused') ORDER BY started_at DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list live activities of %s: %w", userID, err)
	}
	defer rows.Close()
	var out []store.LiveActivity
	for rows.Next() {
		a, err := scanLive(rows)
		if err != nil {
			return nil, fmt.Errorf("list live activities of %s: %w", userID, err)
		}
		out = append(out, *a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list live activities of %s: %w", userID, err)
	}
	return out, nil
}

// liveState reads what every write of a live activity decides on, inside
// the committer's transaction.
func liveState(ctx context.Context, b *batchTx, liveID string) (status string, last int64, upload string, err error) {
	row, err := b.queryRow(ctx, `SELECT status, last_batch, coalesce(upload_id, '') FROM live_activities WHERE id = ?`, liveID)
	if err != nil {
		return "", 0, "", err
	}
	err = row.Scan(&status, &last, &upload)
	if errors.Is(err, sql.ErrNoRows) {
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
	err := db.group.do(ctx, int64(len(points)), func(ctx context.Context, b *batchTx) error {
		duplicate = false // a second run of the batch starts afresh
		status, last, _, err := liveState(ctx, b, liveID)
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
		if _, err := b.exec(ctx, `INSERT INTO live_batches (live_id, batch, points, count, received_at) VALUES (?, ?, ?, ?, ?)`,
			liveID, batch, nonNil(points), count, micros(now)); err != nil {
			return fmt.Errorf("insert batch: %w", err)
		}
		if _, err := b.exec(ctx, `UPDATE live_activities SET last_batch = ?, points = points + ?, updated_at = ? WHERE id = ?`,
			batch, count, micros(now), liveID); err != nil {
			return fmt.Errorf("advance last batch: %w", err)
		}
		return nil
	})
	if err != nil {
		// duplicate is not read: when ctx ended first, the job may still be
		// running and writing it.
		return false, fmt.Errorf("append batch %d to live activity %s: %w", batch, liveID, err)
	}
	return duplicate, nil
}

// SetLiveStatus implements store.Live.
func (db *DB) SetLiveStatus(ctx context.Context, liveID, status string, now time.Time) error {
	if err := store.CheckLiveStatus(status); err != nil {
		return err
	}
	err := db.group.do(ctx, 64, func(ctx context.Context, b *batchTx) error {
		cur, _, _, err := liveState(ctx, b, liveID)
		if err != nil {
			return err
		}
		if cur == store.LiveFinished {
			return store.LiveFinishedError()
		}
		_, err = b.exec(ctx, `UPDATE live_activities SET status = ?, updated_at = ? WHERE id = ?`, status, micros(now), liveID)
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
	err := db.group.do(ctx, 64, func(ctx context.Context, b *batchTx) error {
		status, _, upload, err := liveState(ctx, b, liveID)
		switch {
		case err != nil:
			return err
		case status == store.LiveFinished && upload == uploadID:
			return nil
		case status == store.LiveFinished:
			return store.LiveFinishedAsError(upload)
		}
		_, err = b.exec(ctx, `UPDATE live_activities SET status = 'finished', upload_id = ?, finished_at = ?, updated_at = ?
			WHERE id = ?`, uploadID, micros(now), micros(now), liveID)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish live activity %s: %w", liveID, err)
	}
	return nil
}

const qLiveBatches = `SELECT live_id, batch, points, count, received_at FROM live_batches
	WHERE live_id = ? AND batch > ? ORDER BY batch LIMIT ?`

// LiveBatches implements store.Live.
func (db *DB) LiveBatches(ctx context.Context, liveID string, after int64, limit int) ([]store.LiveBatch, error) {
	if limit <= 0 {
		return nil, nil
	}
	// Every watcher catching up reads here: prepared once.
	st, err := db.readStmts.get(ctx, qLiveBatches)
	if err != nil {
		return nil, fmt.Errorf("read batches of live activity %s: %w", liveID, err)
	}
	rows, err := st.QueryContext(ctx, liveID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read batches of live activity %s: %w", liveID, err)
	}
	defer rows.Close()
	var out []store.LiveBatch
	for rows.Next() {
		var b store.LiveBatch
		var received int64
		if err := rows.Scan(&b.LiveID, &b.Batch, &b.Points, &b.Count, &received); err != nil {
			return nil, fmt.Errorf("read batches of live activity %s: %w", liveID, err)
		}
		b.ReceivedAt = fromMicros(received)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read batches of live activity %s: %w", liveID, err)
	}
	return out, nil
}

// purgeLiveChunk is how many live activities one purge transaction
// deletes. Each has up to hours of one-second batches, and the writer it
// holds is the one every append waits for, so the purge goes in small
// transactions the committer's batches can slip between.
const purgeLiveChunk = 8

// PurgeLive implements store.Live.
func (db *DB) PurgeLive(ctx context.Context, cutoff, staleCutoff time.Time) (int64, error) {
	var total int64
	for {
		res, err := db.write.ExecContext(ctx, `DELETE FROM live_activities WHERE id IN (
			SELECT id FROM live_activities WHERE status = 'finished' AND finished_at < ?
			UNION ALL
			SELECT id FROM live_activities WHERE status IN ('recording', 'paused') AND updated_at < ?
			LIMIT ?)`, micros(cutoff), micros(staleCutoff), purgeLiveChunk)
		if err != nil {
			return total, fmt.Errorf("purge live activities: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("purge live activities: %w", err)
		}
		total += n
		if n < purgeLiveChunk {
			return total, nil
		}
	}
}
