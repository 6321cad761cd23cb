package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

// AcceptUpload implements store.Ingest. Concurrent calls share commits: the
// request runs in its own savepoint of the committer's next transaction, and
// the call returns after that transaction's commit (see groupcommit.go).
func (db *DB) AcceptUpload(ctx context.Context, up *stride.Upload, ev store.OutboxEvent, idem *store.IdempotencyRecord) (*store.IdempotencyRecord, error) {
	opts, err := json.Marshal(up.Options)
	if err != nil {
		return nil, fmt.Errorf("encode upload options: %w", err)
	}
	var existing *store.IdempotencyRecord
	size := int64(len(up.Body) + len(ev.Payload))
	err = db.group.do(ctx, size, func(ctx context.Context, b *batchTx) error {
		var err error
		existing, err = acceptUpload(ctx, b, up, string(opts), ev, idem)
		return err
	})
	if err != nil {
		return nil, err
	}
	return existing, nil
}

// acceptUpload writes one accepted upload inside its savepoint.
func acceptUpload(ctx context.Context, b *batchTx, up *stride.Upload, opts string, ev store.OutboxEvent, idem *store.IdempotencyRecord) (*store.IdempotencyRecord, error) {
	if idem != nil {
		row, err := b.queryRow(ctx, `SELECT `+idemColumns+` FROM idempotency_keys
			WHERE user_id = ? AND key = ? AND expires_at > ?`, idem.UserID, idem.Key, micros(idem.CreatedAt))
		if err != nil {
			return nil, fmt.Errorf("load idempotency key: %w", err)
		}
		rec, err := scanIdempotency(row)
		if err == nil {
			// Also when an earlier request of this same batch took the key.
			return rec, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("load idempotency key: %w", err)
		}
		// An expired record with the same key is replaced.
		if _, err := b.exec(ctx, `DELETE FROM idempotency_keys WHERE user_id = ? AND key = ?`, idem.UserID, idem.Key); err != nil {
			return nil, fmt.Errorf("replace expired idempotency key: %w", err)
		}
		if _, err := b.exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, location, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, idem.UserID, idem.Key, idem.RequestHash, idem.Status, idem.Body, idem.Location,
			micros(idem.CreatedAt), micros(idem.ExpiresAt)); err != nil {
			if isForeignKeyViolation(err) {
				return nil, notFound("User")
			}
			return nil, fmt.Errorf("store idempotency key: %w", err)
		}
	}
	_, err := b.exec(ctx, `INSERT INTO uploads (id, user_id, status, format, content_type, filename, content_hash,
		size_bytes, body, blob_key, external_id, options, attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
		up.ID, up.UserID, up.Status, up.Format, up.ContentType, up.Filename, up.ContentHash, up.SizeBytes, nonNil(up.Body), up.BlobKey,
		up.ExternalID, opts, micros(up.CreatedAt), micros(up.UpdatedAt))
	if isForeignKeyViolation(err) {
		return nil, notFound("User")
	}
	if err != nil {
		return nil, fmt.Errorf("insert upload %s: %w", up.ID, err)
	}
	if _, err := b.exec(ctx, `INSERT INTO outbox (event_id, type, key, payload, created_at) VALUES (?, ?, ?, ?, ?)`,
		ev.ID, ev.Type, ev.Key, ev.Payload, micros(ev.CreatedAt)); err != nil {
		return nil, fmt.Errorf("insert outbox event %s: %w", ev.ID, err)
	}
	return nil, nil
}

func insertOutbox(ctx context.Context, tx *sql.Tx, ev store.OutboxEvent) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO outbox (event_id, type, key, payload, created_at) VALUES (?, ?, ?, ?, ?)`,
		ev.ID, ev.Type, ev.Key, ev.Payload, micros(ev.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert outbox event %s: %w", ev.ID, err)
	}
	return nil
}

const idemColumns = `user_id, key, request_hash, status, body, location, created_at, expires_at`

func scanIdempotency(row rowScanner) (*store.IdempotencyRecord, error) {
	var r store.IdempotencyRecord
	var created, expires int64
	if err := row.Scan(&r.UserID, &r.Key, &r.RequestHash, &r.Status, &r.Body, &r.Location, &created, &expires); err != nil {
		return nil, err
	}
	r.CreatedAt, r.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &r, nil
}

// IdempotencyRecord implements store.Ingest.
func (db *DB) IdempotencyRecord(ctx context.Context, userID, key string, now time.Time) (*store.IdempotencyRecord, error) {
	r, err := scanIdempotency(db.queryRow(ctx, `SELECT `+idemColumns+` FROM idempotency_keys
		WHERE user_id = ? AND key = ? AND expires_at > ?`, userID, key, micros(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Idempotency key")
	}
	if err != nil {
		return nil, fmt.Errorf("load idempotency key: %w", err)
	}
	return r, nil
}

// PurgeIdempotency implements store.Ingest.
func (db *DB) PurgeIdempotency(ctx context.Context, now time.Time) (int64, error) {
	res, err := db.write.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= ?`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return res.RowsAffected()
}

const uploadColumns = `id, user_id, status, format, content_type, filename, content_hash, size_bytes, blob_key, external_id,
	options, activity_id, problem, attempts, created_at, updated_at`

func scanUpload(row rowScanner, extra ...any) (*stride.Upload, error) {
	var (
		u                stride.Upload
		opts             string
		activityID, prob sql.NullString
		created, updated int64
	)
	dest := append([]any{&u.ID, &u.UserID, &u.Status, &u.Format, &u.ContentType, &u.Filename, &u.ContentHash, &u.SizeBytes,
		&u.BlobKey, &u.ExternalID, &opts, &activityID, &prob, &u.Attempts, &created, &updated}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(opts), &u.Options); err != nil {
		return nil, fmt.Errorf("upload %s options: %w", u.ID, err)
	}
	u.ActivityID = activityID.String
	if prob.Valid {
		u.Problem = &stride.UploadProblem{}
		if err := json.Unmarshal([]byte(prob.String), u.Problem); err != nil {
			return nil, fmt.Errorf("upload %s problem: %w", u.ID, err)
		}
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &u, nil
}

// Upload implements store.Ingest.
func (db *DB) Upload(ctx context.Context, id string) (*stride.Upload, error) {
	u, err := scanUpload(db.queryRow(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Upload")
	}
	if err != nil {
		return nil, fmt.Errorf("load upload %s: %w", id, err)
	}
	return u, nil
}

// ClaimUpload implements store.Ingest.
func (db *DB) ClaimUpload(ctx context.Context, id string, now time.Time) (*stride.Upload, error) {
	var u *stride.Upload
	hot := db.hotStatements(ctx)
	// Through the committer, so that the claims of concurrent handlers
	// (and whatever else is being written) share one fsync.
	err := db.group.do(ctx, claimSize, func(ctx context.Context, b *batchTx) error {
		tx := b.tx
		u = nil
		_, err := hot.exec(ctx, tx, qClaimUpload, micros(now), id)
		if err != nil {
			return fmt.Errorf("claim upload %s: %w", id, err)
		}
		var body []byte
		u, err = scanUpload(hot.queryRow(ctx, tx, qClaimedUpload, id), &body)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Upload")
		}
		if err != nil {
			return fmt.Errorf("load upload %s: %w", id, err)
		}
		u.Body = body
		return nil
	})
	return u, err
}

// claimSize is what a claim counts against a batch's MaxBatchBytes: it
// writes one small row.
const claimSize = 256

// FailUpload implements store.Ingest.
func (db *DB) FailUpload(ctx context.Context, id string, p stride.UploadProblem, now time.Time) error {
	prob, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = db.write.ExecContext(ctx, `UPDATE uploads SET status = 'failed', problem = ?, updated_at = ?
		WHERE id = ? AND status IN ('queued', 'processing')`, string(prob), micros(now), id)
	if err != nil {
		return fmt.Errorf("fail upload %s: %w", id, err)
	}
	return nil
}

// The statements of the worker's transaction, prepared once (see hot.go).
const (
	qClaimUpload = `UPDATE uploads SET status = 'processing', attempts = attempts + 1, updated_at = ?
			WHERE id = ? AND status IN ('queued', 'processing')`
	qClaimedUpload = `SELECT ` + uploadColumns + `, body FROM uploads WHERE id = ?`
	qUploadOutcome = `SELECT status, activity_id FROM uploads WHERE id = ?`
	// qFindDuplicate is three lookups, one per unique index of 0002: as
	// one WHERE with ORs, SQLite walked every activity of the athlete,
	// inside the worker's write transaction.
	qFindDuplicate = `SELECT id FROM activities WHERE user_id = ?1 AND parent_id IS NULL AND content_hash = ?2
		UNION ALL SELECT id FROM activities WHERE user_id = ?1 AND parent_id IS NULL AND external_id <> '' AND external_id = ?3
		UNION ALL SELECT id FROM activities WHERE user_id = ?1 AND parent_id IS NULL AND start_time = ?4
		LIMIT 1`
	qFinishUpload  = `UPDATE uploads SET status = ?, activity_id = ?, updated_at = ? WHERE id = ?`
	qInsertStreams = `INSERT INTO activity_streams (activity_id, data) VALUES (?, ?)`
	qInsertOutbox  = `INSERT INTO outbox (event_id, type, key, payload, created_at) VALUES (?, ?, ?, ?, ?)`
	// qBumpFactsVersion goes in every transaction that adds, changes or
	// removes an activity (store.FactsVersion).
	qBumpFactsVersion = `UPDATE users SET facts_version = facts_version + 1 WHERE id = ?`
)

// CompleteUpload implements store.Ingest.
func (db *DB) CompleteUpload(ctx context.Context, uploadID string, c store.Completion, now time.Time) (string, string, error) {
	var status, activityID string
	hot := db.hotStatements(ctx)
	size := int64(4096)
	for _, data := range c.Streams {
		size += int64(len(data))
	}
	// Through the committer, as ClaimUpload.
	err := db.group.do(ctx, size, func(ctx context.Context, b *batchTx) error {
		tx := b.tx
		status, activityID = "", ""
		var cur string
		var curActivity sql.NullString
		err := hot.queryRow(ctx, tx, qUploadOutcome, uploadID).Scan(&cur, &curActivity)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Upload")
		}
		if err != nil {
			return fmt.Errorf("load upload %s: %w", uploadID, err)
		}
		if cur != stride.UploadQueued && cur != stride.UploadProcessing {
			status, activityID = cur, curActivity.String
			return nil
		}
		a := c.Activity
		var dup string
		err = hot.queryRow(ctx, tx, qFindDuplicate, a.UserID, a.ContentHash, a.ExternalID, micros(a.StartTime)).Scan(&dup)
		switch {
		case err == nil:
			status, activityID = stride.UploadDuplicate, dup
		case errors.Is(err, sql.ErrNoRows):
			if err := insertActivity(ctx, hot, tx, a, c.Streams); err != nil {
				return err
			}
			if err := hot.insertOutbox(ctx, tx, c.Event); err != nil {
				return err
			}
			if _, err := hot.exec(ctx, tx, qBumpFactsVersion, a.UserID); err != nil {
				return fmt.Errorf("raise the facts version of %s: %w", a.UserID, err)
			}
			status, activityID = stride.UploadDone, a.ID
		default:
			return fmt.Errorf("look for a duplicate of upload %s: %w", uploadID, err)
		}
		_, err = hot.exec(ctx, tx, qFinishUpload, status, activityID, micros(now), uploadID)
		return err
	})
	if err != nil {
		return "", "", fmt.Errorf("complete upload %s: %w", uploadID, err)
	}
	return status, activityID, nil
}

func jsonOrNull(v []float64) any {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func insertActivity(ctx context.Context, hot *hotStatements, tx *sql.Tx, a *stride.Activity, streams map[string][]byte) error {
	details := a.Details
	if len(details) == 0 {
		details = json.RawMessage("{}")
	}
	var parent any
	if a.ParentID != "" {
		parent = a.ParentID
	}
	efforts, err := effortsJSON(a.Efforts)
	if err != nil {
		return fmt.Errorf("activity %s: %w", a.ID, err)
	}
	_, err = hot.exec(ctx, tx, qInsertActivity,
		a.ID, a.UserID, a.UploadID, parent, a.Sport, a.SubSport, a.Name, a.Description, a.Visibility, a.Indoor, a.Virtual,
		micros(a.StartTime), micros(a.EndTime), a.LocalStart, a.TimeZone, a.UTCOffsetS, a.ElapsedS, a.TimerS, a.MovingS,
		a.DistanceM, a.AscentM, a.DescentM, a.AvgSpeedMps, a.MaxSpeedMps, a.AvgHR, a.MaxHR, a.Calories, a.Polyline,
		jsonOrNull(a.BBox), jsonOrNull(a.StartLatLng), jsonOrNull(a.EndLatLng), string(details), a.ContentHash, a.ExternalID,
		a.Device, micros(a.CreatedAt), micros(a.UpdatedAt), efforts, stride.LocalDate(a.LocalStart, a.StartTime))
	if err != nil {
		return fmt.Errorf("insert activity %s: %w", a.ID, err)
	}
	if data, ok := streams[a.ID]; ok {
		if _, err := hot.exec(ctx, tx, qInsertStreams, a.ID, data); err != nil {
			return fmt.Errorf("insert streams of %s: %w", a.ID, err)
		}
	}
	for i := range a.Children {
		if err := insertActivity(ctx, hot, tx, &a.Children[i], streams); err != nil {
			return err
		}
	}
	return nil
}

const qInsertActivity = `INSERT INTO activities (` + activityColumns + `, local_date)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// effortsJSON encodes best efforts for the efforts column: none is an empty
// object, never null, so that every row decodes to a map.
func effortsJSON(e map[string]float64) (string, error) {
	if len(e) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("encode efforts: %w", err)
	}
	return string(b), nil
}

const activityColumns = `id, user_id, upload_id, parent_id, sport, sub_sport, name, description, visibility, indoor, virtual,
	start_time, end_time, local_start, time_zone, utc_offset_s, elapsed_s, timer_s, moving_s, distance_m, ascent_m,
	descent_m, avg_speed_mps, max_speed_mps, avg_hr, max_hr, calories, polyline, bbox, start_latlng, end_latlng, details,
	content_hash, external_id, device, created_at, updated_at, efforts`

func scanActivity(row rowScanner) (*stride.Activity, error) {
	var (
		a                        stride.Activity
		parent                   sql.NullString
		start, end, created, upd int64
		offset                   sql.NullInt64
		avgHR, maxHR             sql.NullFloat64
		bbox, startLL, endLL     sql.NullString
		details, efforts         string
	)
	err := row.Scan(&a.ID, &a.UserID, &a.UploadID, &parent, &a.Sport, &a.SubSport, &a.Name, &a.Description, &a.Visibility,
		&a.Indoor, &a.Virtual, &start, &end, &a.LocalStart, &a.TimeZone, &offset, &a.ElapsedS, &a.TimerS, &a.MovingS,
		&a.DistanceM, &a.AscentM, &a.DescentM, &a.AvgSpeedMps, &a.MaxSpeedMps, &avgHR, &maxHR, &a.Calories, &a.Polyline,
		&bbox, &startLL, &endLL, &details, &a.ContentHash, &a.ExternalID, &a.Device, &created, &upd, &efforts)
	if err != nil {
		return nil, err
	}
	a.ParentID = parent.String
	a.StartTime, a.EndTime, a.CreatedAt, a.UpdatedAt = fromMicros(start), fromMicros(end), fromMicros(created), fromMicros(upd)
	a.UTCOffsetS = nullInt(offset)
	a.AvgHR, a.MaxHR = nullFloat(avgHR), nullFloat(maxHR)
	for _, f := range []struct {
		src sql.NullString
		dst *[]float64
	}{{bbox, &a.BBox}, {startLL, &a.StartLatLng}, {endLL, &a.EndLatLng}} {
		if f.src.Valid {
			if err := json.Unmarshal([]byte(f.src.String), f.dst); err != nil {
				return nil, fmt.Errorf("activity %s: %w", a.ID, err)
			}
		}
	}
	a.Details = json.RawMessage(details)
	if err := json.Unmarshal([]byte(efforts), &a.Efforts); err != nil {
		return nil, fmt.Errorf("activity %s efforts: %w", a.ID, err)
	}
	return &a, nil
}

// Activity implements store.Ingest.
func (db *DB) Activity(ctx context.Context, id string) (*stride.Activity, error) {
	return loadActivity(ctx, db.read, id, "")
}

// querier is the read side shared by the read pool and a write
// transaction, which must see its own state.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadActivity reads an activity with its children; cond (with its args)
// narrows which activity may be found, e.g. only the owner's.
func loadActivity(ctx context.Context, q querier, id, cond string, args ...any) (*stride.Activity, error) {
	a, err := scanActivity(q.QueryRowContext(ctx, `SELECT `+activityColumns+` FROM activities WHERE id = ?`+cond,
		append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Activity")
	}
	if err != nil {
		return nil, fmt.Errorf("load activity %s: %w", id, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+activityColumns+` FROM activities WHERE parent_id = ? ORDER BY start_time, id`, id)
	if err != nil {
		return nil, fmt.Errorf("load children of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanActivity(rows)
		if err != nil {
			return nil, fmt.Errorf("load children of %s: %w", id, err)
		}
		a.Children = append(a.Children, *c)
	}
	return a, rows.Err()
}

// ActivityStreams implements store.Ingest.
func (db *DB) ActivityStreams(ctx context.Context, id string) ([]byte, error) {
	var data []byte
	err := db.queryRow(ctx, `SELECT data FROM activity_streams WHERE activity_id = ?`, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("Streams")
	}
	if err != nil {
		return nil, fmt.Errorf("load streams of %s: %w", id, err)
	}
	return data, nil
}

// ListActivities implements store.Ingest.
func (db *DB) ListActivities(ctx context.Context, userID string, f store.ActivityFilter, page stride.Page) ([]stride.Activity, string, error) {
	limit := store.PageLimit(page)
	where := []string{"user_id = ?", "parent_id IS NULL"}
	args := []any{userID}
	if page.Cursor != "" {
		t, id, err := store.DecodeCursor(page.Cursor)
		if err != nil {
			return nil, "", err
		}
		where = append(where, "(start_time, id) < (?, ?)")
		args = append(args, micros(t), id)
	}
	if f.Sport != "" {
		where, args = append(where, "sport = ?"), append(args, f.Sport)
	}
	if !f.After.IsZero() {
		where, args = append(where, "start_time >= ?"), append(args, micros(f.After))
	}
	if !f.Before.IsZero() {
		where, args = append(where, "start_time < ?"), append(args, micros(f.Before))
	}
	if len(f.Visibilities) > 0 {
		where = append(where, "visibility IN (?"+strings.Repeat(", ?", len(f.Visibilities)-1)+")")
		for _, v := range f.Visibilities {
			args = append(args, v)
		}
	}
	args = append(args, limit+1)
	rows, err := db.read.QueryContext(ctx, `SELECT `+activityColumns+` FROM activities WHERE `+strings.Join(where, " AND ")+`
		ORDER BY start_time DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list activities of %s: %w", userID, err)
	}
	defer rows.Close()
	var out []stride.Activity
	for rows.Next() {
		a, err := scanActivity(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list activities of %s: %w", userID, err)
		}
		out = append(out, *a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list activities of %s: %w", userID, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeCursor(out[limit-1].StartTime, out[limit-1].ID)
	}
	return out, next, nil
}

// StaleUploads implements store.Ingest.
func (db *DB) StaleUploads(ctx context.Context, cutoff time.Time, limit int) ([]stride.Upload, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+uploadColumns+` FROM uploads
		WHERE status IN ('queued', 'processing') AND updated_at < ? ORDER BY updated_at LIMIT ?`, micros(cutoff), limit)
	if err != nil {
		return nil, fmt.Errorf("list stale uploads: %w", err)
	}
	defer rows.Close()
	var out []stride.Upload
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return nil, fmt.Errorf("list stale uploads: %w", err)
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

// TouchUpload implements store.Ingest.
func (db *DB) TouchUpload(ctx context.Context, id string, now time.Time) error {
	if _, err := db.write.ExecContext(ctx, `UPDATE uploads SET updated_at = ? WHERE id = ?`, micros(now), id); err != nil {
		return fmt.Errorf("touch upload %s: %w", id, err)
	}
	return nil
}

const qPendingOutbox = `SELECT seq, event_id, type, key, payload, created_at FROM outbox ORDER BY seq LIMIT ?`

// PendingOutbox implements store.Ingest.
func (db *DB) PendingOutbox(ctx context.Context, limit int) ([]store.OutboxEvent, error) {
	st, err := db.readStmts.get(ctx, qPendingOutbox)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	rows, err := st.QueryContext(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var out []store.OutboxEvent
	for rows.Next() {
		var e store.OutboxEvent
		var created int64
		if err := rows.Scan(&e.Seq, &e.ID, &e.Type, &e.Key, &e.Payload, &created); err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		e.CreatedAt = fromMicros(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// qDeleteOutbox takes the sequence numbers as one JSON array, so that the
// statement text is the same for every batch and can stay prepared.
const qDeleteOutbox = `DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))`

// DeleteOutbox implements store.Ingest. The deletion rides on the next
// group commit rather than taking the writer for a transaction and an
// fsync of its own between two batches of uploads: a deletion lost in a
// crash only means the events are published again, which consumers
// deduplicate.
func (db *DB) DeleteOutbox(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	list := make([]byte, 0, 2+len(seqs)*8)
	list = append(list, '[')
	for i, s := range seqs {
		if i > 0 {
			list = append(list, ',')
		}
		list = strconv.AppendInt(list, s, 10)
	}
	list = append(list, ']')
	err := db.group.do(ctx, int64(len(list)), func(ctx context.Context, b *batchTx) error {
		_, err := b.exec(ctx, qDeleteOutbox, string(list))
		return err
	})
	if err != nil {
		return fmt.Errorf("delete published outbox events: %w", err)
	}
	return nil
}

// nonNil stores an absent body as an empty one: the column is NOT NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
