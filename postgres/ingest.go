package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

// AcceptUpload implements store.Ingest.
func (db *DB) AcceptUpload(ctx context.Context, up *stride.Upload, ev store.OutboxEvent, idem *store.IdempotencyRecord) (*store.IdempotencyRecord, error) {
	if idem == nil {
		return nil, db.acceptPipelined(ctx, up, ev)
	}
	var existing *store.IdempotencyRecord
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// Insert first: a concurrent request with the same key waits on
		// the row lock and then sees the winner's record.
		tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, location, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (user_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = EXCLUDED.status,
				body = EXCLUDED.body, location = EXCLUDED.location, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
			WHERE idempotency_keys.expires_at <= EXCLUDED.created_at`,
			idem.UserID, idem.Key, idem.RequestHash, idem.Status, idem.Body, idem.Location, idem.CreatedAt, idem.ExpiresAt)
		if isViolation(err, foreignKeyViolation) {
			return notFound("User")
		}
		if err != nil {
			return fmt.Errorf("store idempotency key: %w", err)
		}
		if tag.RowsAffected() == 0 {
			rec, err := scanIdempotency(tx.QueryRow(ctx, `SELECT `+idemColumns+` FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
				idem.UserID, idem.Key))
			if err != nil {
				return fmt.Errorf("load idempotency key: %w", err)
			}
			existing = rec
			return nil
		}
		args, err := uploadArgs(up)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, qInsertUpload, args...); err != nil {
			return uploadError(up.ID, err)
		}
		return insertOutbox(ctx, tx, ev)
	})
	return existing, err
}

const qInsertUpload = `INSERT INTO uploads (id, user_id, status, format, content_type, filename, content_hash,
	size_bytes, body, blob_key, external_id, options, attempts, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14)`

func uploadArgs(up *stride.Upload) ([]any, error) {
	opts, err := json.Marshal(up.Options)
	if err != nil {
		return nil, err
	}
	return []any{up.ID, up.UserID, up.Status, up.Format, up.ContentType, up.Filename, up.ContentHash, up.SizeBytes, nonNil(up.Body),
		up.BlobKey, up.ExternalID, string(opts), up.CreatedAt, up.UpdatedAt}, nil
}

func uploadError(id string, err error) error {
	if isViolation(err, foreignKeyViolation) {
		return notFound("User")
	}
	return fmt.Errorf("insert upload %s: %w", id, err)
}

// acceptPipelined writes an upload without an idempotency key and its
// outbox event in one round trip: the two statements go in one pipeline
// with a single Sync, which PostgreSQL runs as one implicit transaction
// (both or neither, committed at the Sync). Four round trips (BEGIN, two
// INSERTs, COMMIT) were most of an acceptance's time here, each a wake-up
// of stride and of a backend (docs/benchmarks.md).
func (db *DB) acceptPipelined(ctx context.Context, up *stride.Upload, ev store.OutboxEvent) error {
	args, err := uploadArgs(up)
	if err != nil {
		return err
	}
	var b pgx.Batch
	b.Queue(qInsertUpload, args...)
	b.Queue(qInsertOutbox, ev.ID, ev.Type, ev.Key, ev.Payload, ev.CreatedAt)
	results := db.pool.SendBatch(ctx, &b)
	_, uploadErr := results.Exec()
	_, outboxErr := results.Exec()
	closeErr := results.Close()
	switch {
	case uploadErr != nil:
		return uploadError(up.ID, uploadErr)
	case outboxErr != nil:
		return fmt.Errorf("insert outbox event %s: %w", ev.ID, outboxErr)
	case closeErr != nil:
		return fmt.Errorf("accept upload %s: %w", up.ID, closeErr)
	}
	return nil
}

const qInsertOutbox = `INSERT INTO outbox (event_id, type, key, payload, created_at) VALUES ($1, $2, $3, $4, $5)`

func insertOutbox(ctx context.Context, tx pgx.Tx, ev store.OutboxEvent) error {
	_, err := tx.Exec(ctx, qInsertOutbox, ev.ID, ev.Type, ev.Key, ev.Payload, ev.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert outbox event %s: %w", ev.ID, err)
	}
	return nil
}

const idemColumns = `user_id, key, request_hash, status, body, location, created_at, expires_at`

func scanIdempotency(row pgx.Row) (*store.IdempotencyRecord, error) {
	var r store.IdempotencyRecord
	if err := row.Scan(&r.UserID, &r.Key, &r.RequestHash, &r.Status, &r.Body, &r.Location, &r.CreatedAt, &r.ExpiresAt); err != nil {
		return nil, err
	}
	r.CreatedAt, r.ExpiresAt = r.CreatedAt.UTC(), r.ExpiresAt.UTC()
	return &r, nil
}

// IdempotencyRecord implements store.Ingest.
func (db *DB) IdempotencyRecord(ctx context.Context, userID, key string, now time.Time) (*store.IdempotencyRecord, error) {
	r, err := scanIdempotency(db.pool.QueryRow(ctx, `SELECT `+idemColumns+` FROM idempotency_keys
		WHERE user_id = $1 AND key = $2 AND expires_at > $3`, userID, key, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("Idempotency key")
	}
	if err != nil {
		return nil, fmt.Errorf("load idempotency key: %w", err)
	}
	return r, nil
}

// PurgeIdempotency implements store.Ingest.
func (db *DB) PurgeIdempotency(ctx context.Context, now time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

const uploadColumns = `id, user_id, status, format, content_type, filename, content_hash, size_bytes, blob_key, external_id,
	options, activity_id, problem, attempts, created_at, updated_at`

func scanUpload(row pgx.Row, extra ...any) (*stride.Upload, error) {
	var (
		u                stride.Upload
		opts             string
		activityID, prob *string
	)
	dest := append([]any{&u.ID, &u.UserID, &u.Status, &u.Format, &u.ContentType, &u.Filename, &u.ContentHash, &u.SizeBytes,
		&u.BlobKey, &u.ExternalID, &opts, &activityID, &prob, &u.Attempts, &u.CreatedAt, &u.UpdatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(opts), &u.Options); err != nil {
		return nil, fmt.Errorf("upload %s options: %w", u.ID, err)
	}
	if activityID != nil {
		u.ActivityID = *activityID
	}
	if prob != nil {
		u.Problem = &stride.UploadProblem{}
		if err := json.Unmarshal([]byte(*prob), u.Problem); err != nil {
			return nil, fmt.Errorf("upload %s problem: %w", u.ID, err)
		}
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

// Upload implements store.Ingest.
func (db *DB) Upload(ctx context.Context, id string) (*stride.Upload, error) {
	u, err := scanUpload(db.pool.QueryRow(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE uploads SET status = 'processing', attempts = attempts + 1, updated_at = $1
			WHERE id = $2 AND status IN ('queued', 'processing')`, now, id)
		if err != nil {
			return fmt.Errorf("claim upload %s: %w", id, err)
		}
		var body []byte
		u, err = scanUpload(tx.QueryRow(ctx, `SELECT `+uploadColumns+`, body FROM uploads WHERE id = $1`, id), &body)
		if errors.Is(err, pgx.ErrNoRows) {
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

// FailUpload implements store.Ingest.
func (db *DB) FailUpload(ctx context.Context, id string, p stride.UploadProblem, now time.Time) error {
	prob, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = db.pool.Exec(ctx, `UPDATE uploads SET status = 'failed', problem = $1, updated_at = $2
		WHERE id = $3 AND status IN ('queued', 'processing')`, string(prob), now, id)
	if err != nil {
		return fmt.Errorf("fail upload %s: %w", id, err)
	}
	return nil
}

// CompleteUpload implements store.Ingest.
func (db *DB) CompleteUpload(ctx context.Context, uploadID string, c store.Completion, now time.Time) (string, string, error) {
	// Two workers may complete two uploads of the same workout at once; the
	// unique indexes make one of them fail, and its retry sees the winner.
	for attempt := 0; ; attempt++ {
		status, id, err := db.completeUpload(ctx, uploadID, c, now)
		if err != nil && attempt < 2 && isViolation(err, uniqueViolation) {
			continue
		}
		if err != nil {
			return "", "", fmt.Errorf("complete upload %s: %w", uploadID, err)
		}
		return status, id, nil
	}
}

func (db *DB) completeUpload(ctx context.Context, uploadID string, c store.Completion, now time.Time) (status, activityID string, err error) {
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var cur string
		var curActivity *string
		err := tx.QueryRow(ctx, `SELECT status, activity_id FROM uploads WHERE id = $1 FOR UPDATE`, uploadID).Scan(&cur, &curActivity)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("Upload")
		}
		if err != nil {
			return fmt.Errorf("load upload %s: %w", uploadID, err)
		}
		if cur != stride.UploadQueued && cur != stride.UploadProcessing {
			status = cur
			if curActivity != nil {
				activityID = *curActivity
			}
			return nil
		}
		a := c.Activity
		var dup string
		err = tx.QueryRow(ctx, `SELECT id FROM activities WHERE user_id = $1 AND parent_id IS NULL
			AND (content_hash = $2 OR (external_id <> '' AND external_id = $3) OR start_time = $4) LIMIT 1`,
			a.UserID, a.ContentHash, a.ExternalID, a.StartTime).Scan(&dup)
		switch {
		case err == nil:
			status, activityID = stride.UploadDuplicate, dup
		case errors.Is(err, pgx.ErrNoRows):
			if err := insertActivity(ctx, tx, a, c.Streams); err != nil {
				return err
			}
			if err := insertOutbox(ctx, tx, c.Event); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, qBumpFactsVersion, a.UserID); err != nil {
				return fmt.Errorf("raise the facts version of %s: %w", a.UserID, err)
			}
			status, activityID = stride.UploadDone, a.ID
		default:
			return fmt.Errorf("look for a duplicate: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE uploads SET status = $1, activity_id = $2, updated_at = $3 WHERE id = $4`,
			status, activityID, now, uploadID)
		return err
	})
	return status, activityID, err
}

func jsonOrNull(v []float64) any {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func insertActivity(ctx context.Context, tx pgx.Tx, a *stride.Activity, streams map[string][]byte) error {
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
	placeholders := make([]string, 39)
	for i := range placeholders {
		placeholders[i] = "$" + strconv.Itoa(i+1)
	}
	_, err = tx.Exec(ctx, `INSERT INTO activities (`+activityColumns+`, local_date) VALUES (`+strings.Join(placeholders, ", ")+`)`,
		a.ID, a.UserID, a.UploadID, parent, a.Sport, a.SubSport, a.Name, a.Description, a.Visibility, a.Indoor, a.Virtual,
		a.StartTime, a.EndTime, a.LocalStart, a.TimeZone, a.UTCOffsetS, a.ElapsedS, a.TimerS, a.MovingS,
		a.DistanceM, a.AscentM, a.DescentM, a.AvgSpeedMps, a.MaxSpeedMps, a.AvgHR, a.MaxHR, a.Calories, a.Polyline,
		jsonOrNull(a.BBox), jsonOrNull(a.StartLatLng), jsonOrNull(a.EndLatLng), string(details), a.ContentHash, a.ExternalID,
		a.Device, a.CreatedAt, a.UpdatedAt, efforts, stride.LocalDate(a.LocalStart, a.StartTime))
	if err != nil {
		return fmt.Errorf("insert activity %s: %w", a.ID, err)
	}
	if data, ok := streams[a.ID]; ok {
		if _, err := tx.Exec(ctx, `INSERT INTO activity_streams (activity_id, data) VALUES ($1, $2)`, a.ID, data); err != nil {
			return fmt.Errorf("insert streams of %s: %w", a.ID, err)
		}
	}
	for i := range a.Children {
		if err := insertActivity(ctx, tx, &a.Children[i], streams); err != nil {
			return err
		}
	}
	return nil
}

const activityColumns = `id, user_id, upload_id, parent_id, sport, sub_sport, name, description, visibility, indoor, virtual,
	start_time, end_time, local_start, time_zone, utc_offset_s, elapsed_s, timer_s, moving_s, distance_m, ascent_m,
	descent_m, avg_speed_mps, max_speed_mps, avg_hr, max_hr, calories, polyline, bbox, start_latlng, end_latlng, details,
	content_hash, external_id, device, created_at, updated_at, efforts`

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

func scanActivity(row pgx.Row) (*stride.Activity, error) {
	var (
		a                    stride.Activity
		parent               *string
		bbox, startLL, endLL *string
		details, efforts     string
	)
	err := row.Scan(&a.ID, &a.UserID, &a.UploadID, &parent, &a.Sport, &a.SubSport, &a.Name, &a.Description, &a.Visibility,
		&a.Indoor, &a.Virtual, &a.StartTime, &a.EndTime, &a.LocalStart, &a.TimeZone, &a.UTCOffsetS, &a.ElapsedS, &a.TimerS,
		&a.MovingS, &a.DistanceM, &a.AscentM, &a.DescentM, &a.AvgSpeedMps, &a.MaxSpeedMps, &a.AvgHR, &a.MaxHR, &a.Calories,
		&a.Polyline, &bbox, &startLL, &endLL, &details, &a.ContentHash, &a.ExternalID, &a.Device, &a.CreatedAt, &a.UpdatedAt, &efforts)
	if err != nil {
		return nil, err
	}
	if parent != nil {
		a.ParentID = *parent
	}
	a.StartTime, a.EndTime, a.CreatedAt, a.UpdatedAt = a.StartTime.UTC(), a.EndTime.UTC(), a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	for _, f := range []struct {
		src *string
		dst *[]float64
	}{{bbox, &a.BBox}, {startLL, &a.StartLatLng}, {endLL, &a.EndLatLng}} {
		if f.src != nil {
			if err := json.Unmarshal([]byte(*f.src), f.dst); err != nil {
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

func collectActivities(rows pgx.Rows) ([]stride.Activity, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (stride.Activity, error) {
		a, err := scanActivity(r)
		if err != nil {
			return stride.Activity{}, err
		}
		return *a, nil
	})
}

// Activity implements store.Ingest.
func (db *DB) Activity(ctx context.Context, id string) (*stride.Activity, error) {
	return loadActivity(ctx, db.pool, id, "")
}

// querier is the read side shared by the pool and a transaction, which
// must see its own state.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// loadActivity reads an activity with its children; cond (with its args,
// numbered from $2) narrows which activity may be found, e.g. only the
// owner's.
func loadActivity(ctx context.Context, q querier, id, cond string, args ...any) (*stride.Activity, error) {
	a, err := scanActivity(q.QueryRow(ctx, `SELECT `+activityColumns+` FROM activities WHERE id = $1`+cond,
		append([]any{id}, args...)...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("Activity")
	}
	if err != nil {
		return nil, fmt.Errorf("load activity %s: %w", id, err)
	}
	rows, err := q.Query(ctx, `SELECT `+activityColumns+` FROM activities WHERE parent_id = $1 ORDER BY start_time, id`, id)
	if err != nil {
		return nil, fmt.Errorf("load children of %s: %w", id, err)
	}
	if a.Children, err = collectActivities(rows); err != nil {
		return nil, fmt.Errorf("load children of %s: %w", id, err)
	}
	return a, nil
}

// ActivityStreams implements store.Ingest.
func (db *DB) ActivityStreams(ctx context.Context, id string) ([]byte, error) {
	var data []byte
	err := db.pool.QueryRow(ctx, `SELECT data FROM activity_streams WHERE activity_id = $1`, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
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
	where := []string{"user_id = $1", "parent_id IS NULL"}
	args := []any{userID}
	add := func(cond string, vals ...any) {
		for range vals {
			cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)+1), 1)
			args = append(args, vals[0])
			vals = vals[1:]
		}
		where = append(where, cond)
	}
	if page.Cursor != "" {
		t, id, err := store.DecodeCursor(page.Cursor)
		if err != nil {
			return nil, "", err
		}
		add("(start_time, id) < (?, ?)", t, id)
	}
	if f.Sport != "" {
		add("sport = ?", f.Sport)
	}
	if !f.After.IsZero() {
		add("start_time >= ?", f.After)
	}
	if !f.Before.IsZero() {
		add("start_time < ?", f.Before)
	}
	if len(f.Visibilities) > 0 {
		add("visibility = ANY(?)", f.Visibilities)
	}
	args = append(args, limit+1)
	rows, err := db.pool.Query(ctx, `SELECT `+activityColumns+` FROM activities WHERE `+strings.Join(where, " AND ")+`
		ORDER BY start_time DESC, id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list activities of %s: %w", userID, err)
	}
	out, err := collectActivities(rows)
	if err != nil {
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
	rows, err := db.pool.Query(ctx, `SELECT `+uploadColumns+` FROM uploads
		WHERE status IN ('queued', 'processing') AND updated_at < $1 ORDER BY updated_at LIMIT $2`, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("list stale uploads: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (stride.Upload, error) {
		u, err := scanUpload(r)
		if err != nil {
			return stride.Upload{}, err
		}
		return *u, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list stale uploads: %w", err)
	}
	return out, nil
}

// TouchUpload implements store.Ingest.
func (db *DB) TouchUpload(ctx context.Context, id string, now time.Time) error {
	if _, err := db.pool.Exec(ctx, `UPDATE uploads SET updated_at = $1 WHERE id = $2`, now, id); err != nil {
		return fmt.Errorf("touch upload %s: %w", id, err)
	}
	return nil
}

// PendingOutbox implements store.Ingest.
func (db *DB) PendingOutbox(ctx context.Context, limit int) ([]store.OutboxEvent, error) {
	rows, err := db.pool.Query(ctx, `SELECT seq, event_id, type, key, payload, created_at FROM outbox ORDER BY seq LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.OutboxEvent, error) {
		var e store.OutboxEvent
		err := r.Scan(&e.Seq, &e.ID, &e.Type, &e.Key, &e.Payload, &e.CreatedAt)
		e.CreatedAt = e.CreatedAt.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return out, nil
}

// DeleteOutbox implements store.Ingest.
func (db *DB) DeleteOutbox(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM outbox WHERE seq = ANY($1)`, seqs); err != nil {
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
