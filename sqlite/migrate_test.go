package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"io/fs"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/stridehq/stride/activity"
	"github.com/stridehq/stride/store"
)

// migrateTo applies the migrations up to version, as Migrate would.
func migrateTo(t *testing.T, db *DB, version int) {
	t.Helper()
	ctx := context.Background()
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	migrations, err := store.LoadMigrations(sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:version] {
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			t.Fatalf("apply %s: %v", m.Name, err)
		}
	}
}

// The standings migration derives each stored activity's day and best
// efforts as the worker now does for new ones.
func TestStandingsMigrationBackfills(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "stride.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	migrateTo(t, db, 2)
	if _, err := db.write.ExecContext(ctx, `INSERT INTO users (id, email, password_hash, name, role, status, units,
		default_visibility, created_at, updated_at) VALUES ('u1', 'u1@example.com', 'x', 'U', 'athlete', 'active', 'metric', 'public', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	// The worker stores the analysis metrics embedded in details.
	metrics := activity.Metrics{
		BestEfforts: []activity.BestEffort{{Name: "400m", ElapsedS: 71.5}, {Name: "1 mile", ElapsedS: 330}, {Name: "5k", ElapsedS: 1234.5},
			{Name: "half_marathon", ElapsedS: 6000}, {Name: "marathon", ElapsedS: 0}, {Name: "50k", ElapsedS: 9000}},
		Power: &activity.PowerMetrics{Avg: 200, Best: []activity.BestPower{{DurationS: 5, Watts: 800}, {DurationS: 60, Watts: 450.5},
			{DurationS: 1200, Watts: 260}, {DurationS: 3600, Watts: 240}}},
	}
	withEfforts, err := json.Marshal(struct {
		activity.Metrics
		TimerS float64 `json:"timer_s"`
	}{metrics, 3600})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 15, 3, 30, 0, 0, time.UTC)
	for _, r := range []struct{ id, localStart, details string }{
		{"with-efforts", "2026-03-14T22:30:00-05:00", string(withEfforts)},
		{"no-local-start", "", `{"splits_km":[]}`},
		{"bad-local-start", "2026-02-30T10:00:00+01:00", `{}`},
		{"power-only", "2026-03-15T04:30:00+01:00", `{"power":{"best":[{"duration_s":300,"watts":310}]}}`},
	} {
		if _, err := db.write.ExecContext(ctx, `INSERT INTO activities (id, user_id, upload_id, sport, visibility, start_time, end_time,
			local_start, elapsed_s, timer_s, moving_s, distance_m, ascent_m, descent_m, avg_speed_mps, max_speed_mps, calories, details,
			created_at, updated_at) VALUES (?, 'u1', 'up', 'running', 'public', ?, ?, ?, 0, 0, 0, 0, 0, 0, 0, 0, 0, ?, 0, 0)`,
			r.id, micros(start), micros(start), r.localStart, r.details); err != nil {
			t.Fatal(err)
		}
		start = start.Add(time.Hour)
	}
	if applied, err := db.Migrate(ctx); err != nil || len(applied) == 0 {
		t.Fatalf("Migrate = %v, %v", applied, err)
	}
	facts, err := db.ActivityFacts(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		date    string
		efforts map[string]float64
	}{
		"with-efforts":    {"2026-03-14", (&activity.Analysis{Metrics: metrics}).EffortValues()},
		"no-local-start":  {"2026-03-15", map[string]float64{}},
		"bad-local-start": {"2026-03-15", map[string]float64{}},
		"power-only":      {"2026-03-15", map[string]float64{"power_5m": 310}},
	}
	if len(facts) != len(want) {
		t.Fatalf("%d facts, want %d", len(facts), len(want))
	}
	for _, f := range facts {
		w := want[f.ActivityID]
		if f.LocalDate != w.date || !maps.Equal(f.Efforts, w.efforts) {
			t.Errorf("%s: date %s efforts %v, want %s %v", f.ActivityID, f.LocalDate, f.Efforts, w.date, w.efforts)
		}
	}
}
