package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

var _ store.Standings = (*DB)(nil)

// factsSelect is the columns scanFacts reads.
const factsSelect = `SELECT a.id, coalesce(a.parent_id, ''), a.user_id, a.sport, a.start_time, a.local_date,
		coalesce(p.visibility, a.visibility), a.indoor, a.virtual, a.distance_m, a.moving_s, a.elapsed_s, a.ascent_m, a.efforts
	FROM activities a LEFT JOIN activities p ON p.id = a.parent_id`

// qActivityFacts reads from the index activities_facts alone (0007), in
// its order: it runs on every event of the athlete.
const qActivityFacts = factsSelect + `
	WHERE a.user_id = ? AND NOT EXISTS (SELECT 1 FROM activities c WHERE c.parent_id = a.id)
	ORDER BY a.start_time, a.id`

// qFactsOfUsers is qActivityFacts for the users of a JSON array, read from
// the same index, one user after another.
const qFactsOfUsers = factsSelect + `
	WHERE a.user_id IN (SELECT value FROM json_each(?)) AND NOT EXISTS (SELECT 1 FROM activities c WHERE c.parent_id = a.id)
	ORDER BY a.user_id, a.start_time, a.id`

// qFactsOfActivity is qActivityFacts for one activity: itself, or its legs.
// The unary + keeps SQLite off the user_id index, which would walk the
// athlete's history; the activity's id and its legs' parent_id are lookups.
const qFactsOfActivity = factsSelect + `
	WHERE +a.user_id = ? AND (a.id = ? OR a.parent_id = ?) AND NOT EXISTS (SELECT 1 FROM activities c WHERE c.parent_id = a.id)
	ORDER BY a.start_time, a.id`

const qFactsVersion = `SELECT facts_version FROM users WHERE id = ?`

// ActivityFacts implements store.Standings. A leg takes its parent's
// visibility from the parent row, so a leg can never be seen where its
// multisport activity cannot.
func (db *DB) ActivityFacts(ctx context.Context, userID string) ([]stride.ActivityFacts, error) {
	rows, err := db.query(ctx, qActivityFacts, userID)
	if err != nil {
		return nil, fmt.Errorf("list activity facts of %s: %w", userID, err)
	}
	out, err := scanFacts(rows)
	if err != nil {
		return nil, fmt.Errorf("list activity facts of %s: %w", userID, err)
	}
	return out, nil
}

// ActivityFactsOfUsers implements store.Standings.
func (db *DB) ActivityFactsOfUsers(ctx context.Context, userIDs []string) (map[string][]stride.ActivityFacts, error) {
	ids, err := json.Marshal(userIDs)
	if err != nil {
		return nil, fmt.Errorf("list activity facts of %d users: %w", len(userIDs), err)
	}
	rows, err := db.query(ctx, qFactsOfUsers, string(ids))
	if err != nil {
		return nil, fmt.Errorf("list activity facts of %d users: %w", len(userIDs), err)
	}
	facts, err := scanFacts(rows)
	if err != nil {
		return nil, fmt.Errorf("list activity facts of %d users: %w", len(userIDs), err)
	}
	return store.FactsByUser(facts), nil
}

// VersionedFacts implements store.Standings.
func (db *DB) VersionedFacts(ctx context.Context, userID string) (store.FactsVersion, []stride.ActivityFacts, error) {
	v, facts, err := db.versionedFacts(ctx, userID, qActivityFacts, userID)
	if err != nil {
		return 0, nil, fmt.Errorf("list activity facts of %s: %w", userID, err)
	}
	return v, facts, nil
}

// FactsOfActivity implements store.Standings.
func (db *DB) FactsOfActivity(ctx context.Context, userID, activityID string) (store.FactsVersion, []stride.ActivityFacts, error) {
	v, facts, err := db.versionedFacts(ctx, userID, qFactsOfActivity, userID, activityID, activityID)
	if err != nil {
		return 0, nil, fmt.Errorf("read the facts of activity %s: %w", activityID, err)
	}
	return v, facts, nil
}

// versionedFacts reads the user's facts version and the facts query in one
// read transaction: in WAL mode its first read fixes the snapshot that the
// second one sees too.
func (db *DB) versionedFacts(ctx context.Context, userID, query string, args ...any) (store.FactsVersion, []stride.ActivityFacts, error) {
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read only: nothing to keep or lose
	var v int64
	if err := db.txQueryRow(ctx, tx, qFactsVersion, userID).Scan(&v); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("read the facts version: %w", err)
	}
	rows, err := db.txQuery(ctx, tx, query, args...)
	if err != nil {
		return 0, nil, err
	}
	facts, err := scanFacts(rows)
	if err != nil {
		return 0, nil, err
	}
	return store.FactsVersion(v), facts, nil
}

// scanFacts reads the rows of qActivityFacts or qFactsOfActivity, and
// closes them.
func scanFacts(rows *sql.Rows) ([]stride.ActivityFacts, error) {
	defer rows.Close()
	var out []stride.ActivityFacts
	for rows.Next() {
		var (
			f       stride.ActivityFacts
			start   int64
			efforts string
		)
		if err := rows.Scan(&f.ActivityID, &f.ParentID, &f.UserID, &f.Sport, &start, &f.LocalDate, &f.Visibility, &f.Indoor,
			&f.Virtual, &f.DistanceM, &f.MovingS, &f.ElapsedS, &f.AscentM, &efforts); err != nil {
			return nil, err
		}
		f.StartTime = fromMicros(start)
		// Most activities have none (manual entries, rides without
		// power): decoding "{}" for each was a hot spot of the projector.
		if efforts != "{}" {
			if err := json.Unmarshal([]byte(efforts), &f.Efforts); err != nil {
				return nil, fmt.Errorf("activity %s efforts: %w", f.ActivityID, err)
			}
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Achievements implements store.Standings.
func (db *DB) Achievements(ctx context.Context, userID string) ([]stride.Achievement, error) {
	rows, err := db.query(ctx, `SELECT user_id, type, activity_id, achieved_at, value, description
		FROM achievements WHERE user_id = ? ORDER BY achieved_at, type`, userID)
	if err != nil {
		return nil, fmt.Errorf("list achievements of %s: %w", userID, err)
	}
	defer rows.Close()
	var out []stride.Achievement
	for rows.Next() {
		var a stride.Achievement
		var at int64
		if err := rows.Scan(&a.UserID, &a.Type, &a.ActivityID, &at, &a.Value, &a.Description); err != nil {
			return nil, fmt.Errorf("list achievements of %s: %w", userID, err)
		}
		a.AchievedAt = fromMicros(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list achievements of %s: %w", userID, err)
	}
	return out, nil
}

// Records implements store.Standings.
func (db *DB) Records(ctx context.Context, userID string) ([]stride.Record, error) {
	rows, err := db.query(ctx, `SELECT user_id, effort, activity_id, achieved_at, value, previous_value, previous_activity_id
		FROM records WHERE user_id = ? ORDER BY effort, achieved_at, activity_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list records of %s: %w", userID, err)
	}
	defer rows.Close()
	var out []stride.Record
	for rows.Next() {
		var r stride.Record
		var at int64
		var prev sql.NullFloat64
		if err := rows.Scan(&r.UserID, &r.Effort, &r.ActivityID, &at, &r.Value, &prev, &r.PreviousActivityID); err != nil {
			return nil, fmt.Errorf("list records of %s: %w", userID, err)
		}
		r.AchievedAt, r.PreviousValue = fromMicros(at), nullFloat(prev)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list records of %s: %w", userID, err)
	}
	return out, nil
}

// SaveStandings implements store.Standings. It shares commits with
// concurrent uploads (see groupcommit.go): the projection runs once per
// processed upload, and a commit of its own each time would double the
// fsyncs of the busiest path.
func (db *DB) SaveStandings(ctx context.Context, userID string, achievements []stride.Achievement, records []stride.Record, events []store.OutboxEvent) error {
	if err := store.CheckStandings(userID, achievements, records); err != nil {
		return err
	}
	size := int64(64 * (len(achievements) + len(records)))
	for _, ev := range events {
		size += int64(len(ev.Payload))
	}
	err := db.group.do(ctx, size, func(ctx context.Context, b *batchTx) error {
		return saveStandings(ctx, b, userID, achievements, records, events)
	})
	if err != nil {
		return fmt.Errorf("save standings of %s: %w", userID, err)
	}
	return nil
}

func saveStandings(ctx context.Context, b *batchTx, userID string, achievements []stride.Achievement, records []stride.Record, events []store.OutboxEvent) error {
	row, err := b.queryRow(ctx, `SELECT count(*) FROM users WHERE id = ?`, userID)
	if err != nil {
		return fmt.Errorf("look up the user: %w", err)
	}
	var n int
	if err := row.Scan(&n); err != nil {
		return fmt.Errorf("look up the user: %w", err)
	}
	if n == 0 {
		return nil
	}
	for _, q := range []string{`DELETE FROM achievements WHERE user_id = ?`, `DELETE FROM records WHERE user_id = ?`} {
		if _, err := b.exec(ctx, q, userID); err != nil {
			return fmt.Errorf("clear the previous standings: %w", err)
		}
	}
	for _, a := range achievements {
		if _, err := b.exec(ctx, `INSERT INTO achievements (user_id, type, activity_id, achieved_at, value, description)
			VALUES (?, ?, ?, ?, ?, ?)`, userID, a.Type, a.ActivityID, micros(a.AchievedAt), a.Value, a.Description); err != nil {
			return fmt.Errorf("insert achievement %s: %w", a.Type, err)
		}
	}
	for _, r := range records {
		if _, err := b.exec(ctx, `INSERT INTO records (user_id, effort, activity_id, achieved_at, value, previous_value, previous_activity_id)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, userID, r.Effort, r.ActivityID, micros(r.AchievedAt), r.Value, r.PreviousValue,
			r.PreviousActivityID); err != nil {
			return fmt.Errorf("insert record %s of %s: %w", r.Effort, r.ActivityID, err)
		}
	}
	for _, ev := range events {
		if _, err := b.exec(ctx, qInsertOutbox, ev.ID, ev.Type, ev.Key, ev.Payload, micros(ev.CreatedAt)); err != nil {
			return fmt.Errorf("insert outbox event %s: %w", ev.ID, err)
		}
	}
	return nil
}
