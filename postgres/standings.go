package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

var _ store.Standings = (*DB)(nil)

const (
	factsColumns = `SELECT a.id, coalesce(a.parent_id, ''), a.user_id, a.sport, a.start_time, a.local_date,
			coalesce(p.visibility, a.visibility), a.indoor, a.virtual, a.distance_m, a.moving_s, a.elapsed_s, a.ascent_m, a.efforts::text
		FROM activities a LEFT JOIN activities p ON p.id = a.parent_id`
	qActivityFacts = factsColumns + `
		WHERE a.user_id = $1 AND NOT EXISTS (SELECT 1 FROM activities c WHERE c.parent_id = a.id)
		ORDER BY a.start_time, a.id`
	// qFactsOfUsers is qActivityFacts for several users, one after another.
	qFactsOfUsers = factsColumns + `
		WHERE a.user_id = ANY($1) AND NOT EXISTS (SELECT 1 FROM activities c WHERE c.parent_id = a.id)
		ORDER BY a.user_id, a.start_time, a.id`
	// qFactsOfActivity is qActivityFacts for one activity: itself, or its legs.
	qFactsOfActivity = factsColumns + `
		WHERE a.user_id = $1 AND (a.id = $2 OR a.parent_id = $2) AND NOT EXISTS (SELECT 1 FROM activities c WHERE c.parent_id = a.id)
		ORDER BY a.start_time, a.id`
)

// ActivityFacts implements store.Standings. A leg takes its parent's
// visibility from the parent row, so a leg can never be seen where its
// multisport activity cannot.
func (db *DB) ActivityFacts(ctx context.Context, userID string) ([]stride.ActivityFacts, error) {
	out, err := collectFacts(db.pool.Query(ctx, qActivityFacts, userID))
	if err != nil {
		return nil, fmt.Errorf("list activity facts of %s: %w", userID, err)
	}
	return out, nil
}

// ActivityFactsOfUsers implements store.Standings.
func (db *DB) ActivityFactsOfUsers(ctx context.Context, userIDs []string) (map[string][]stride.ActivityFacts, error) {
	facts, err := collectFacts(db.pool.Query(ctx, qFactsOfUsers, userIDs))
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
	v, facts, err := db.versionedFacts(ctx, userID, qFactsOfActivity, userID, activityID)
	if err != nil {
		return 0, nil, fmt.Errorf("read the facts of activity %s: %w", activityID, err)
	}
	return v, facts, nil
}

// versionedFacts reads the user's facts version and the facts query in one
// repeatable-read transaction, so that both see the same snapshot.
func (db *DB) versionedFacts(ctx context.Context, userID, query string, args ...any) (store.FactsVersion, []stride.ActivityFacts, error) {
	var (
		v     int64
		facts []stride.ActivityFacts
	)
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT facts_version FROM users WHERE id = $1`, userID).Scan(&v)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read the facts version: %w", err)
		}
		facts, err = collectFacts(tx.Query(ctx, query, args...))
		return err
	})
	return store.FactsVersion(v), facts, err
}

// collectFacts reads the rows of qActivityFacts or qFactsOfActivity.
func collectFacts(rows pgx.Rows, err error) ([]stride.ActivityFacts, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (stride.ActivityFacts, error) {
		var f stride.ActivityFacts
		var efforts string
		if err := r.Scan(&f.ActivityID, &f.ParentID, &f.UserID, &f.Sport, &f.StartTime, &f.LocalDate, &f.Visibility, &f.Indoor,
			&f.Virtual, &f.DistanceM, &f.MovingS, &f.ElapsedS, &f.AscentM, &efforts); err != nil {
			return f, err
		}
		f.StartTime = f.StartTime.UTC()
		// Most activities have none (manual entries, rides without
		// power): decoding "{}" for each was a hot spot of the projector.
		if efforts != "{}" {
			if err := json.Unmarshal([]byte(efforts), &f.Efforts); err != nil {
				return f, fmt.Errorf("activity %s efforts: %w", f.ActivityID, err)
			}
		}
		return f, nil
	})
}

// Achievements implements store.Standings.
func (db *DB) Achievements(ctx context.Context, userID string) ([]stride.Achievement, error) {
	rows, err := db.pool.Query(ctx, `SELECT user_id, type, activity_id, achieved_at, value, description
		FROM achievements WHERE user_id = $1 ORDER BY achieved_at, type`, userID)
	if err != nil {
		return nil, fmt.Errorf("list achievements of %s: %w", userID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (stride.Achievement, error) {
		var a stride.Achievement
		err := r.Scan(&a.UserID, &a.Type, &a.ActivityID, &a.AchievedAt, &a.Value, &a.Description)
		a.AchievedAt = a.AchievedAt.UTC()
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("list achievements of %s: %w", userID, err)
	}
	return out, nil
}

// Records implements store.Standings.
func (db *DB) Records(ctx context.Context, userID string) ([]stride.Record, error) {
	rows, err := db.pool.Query(ctx, `SELECT user_id, effort, activity_id, achieved_at, value, previous_value, previous_activity_id
		FROM records WHERE user_id = $1 ORDER BY effort, achieved_at, activity_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list records of %s: %w", userID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (stride.Record, error) {
		var rec stride.Record
		err := r.Scan(&rec.UserID, &rec.Effort, &rec.ActivityID, &rec.AchievedAt, &rec.Value, &rec.PreviousValue, &rec.PreviousActivityID)
		rec.AchievedAt = rec.AchievedAt.UTC()
		return rec, err
	})
	if err != nil {
		return nil, fmt.Errorf("list records of %s: %w", userID, err)
	}
	return out, nil
}

// SaveStandings implements store.Standings.
func (db *DB) SaveStandings(ctx context.Context, userID string, achievements []stride.Achievement, records []stride.Record, events []store.OutboxEvent) error {
	if err := store.CheckStandings(userID, achievements, records); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// The key-share lock makes a concurrent account deletion wait for
		// this transaction (and then cascade to what it wrote), instead of
		// failing the inserts below.
		var found string
		err := tx.QueryRow(ctx, `SELECT id FROM users WHERE id = $1 FOR KEY SHARE`, userID).Scan(&found)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("look up the user: %w", err)
		}
		for _, q := range []string{`DELETE FROM achievements WHERE user_id = $1`, `DELETE FROM records WHERE user_id = $1`} {
			if _, err := tx.Exec(ctx, q, userID); err != nil {
				return fmt.Errorf("clear the previous standings: %w", err)
			}
		}
		if len(achievements) > 0 {
			rows := make([][]any, len(achievements))
			for i, a := range achievements {
				rows[i] = []any{userID, a.Type, a.ActivityID, a.AchievedAt, a.Value, a.Description}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"achievements"},
				[]string{"user_id", "type", "activity_id", "achieved_at", "value", "description"}, pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("insert achievements: %w", err)
			}
		}
		if len(records) > 0 {
			rows := make([][]any, len(records))
			for i, r := range records {
				rows[i] = []any{userID, r.Effort, r.ActivityID, r.AchievedAt, r.Value, r.PreviousValue, r.PreviousActivityID}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"records"},
				[]string{"user_id", "effort", "activity_id", "achieved_at", "value", "previous_value", "previous_activity_id"},
				pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("insert records: %w", err)
			}
		}
		for _, ev := range events {
			if err := insertOutbox(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save standings of %s: %w", userID, err)
	}
	return nil
}
