package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// The projector runs the facts query on every event of an athlete, over
// their whole history: it must be answered from its index, in the index's
// order, without touching the table's large columns or sorting.
func TestActivityFactsPlan(t *testing.T) {
	all := queryPlan(t, qActivityFacts, "u1")
	if !strings.Contains(all, "SEARCH a USING COVERING INDEX activities_facts") || strings.Contains(all, "TEMP B-TREE") {
		t.Fatalf("the facts query is not answered from its index in order:\n%s", all)
	}
	// The rebuild's read of a page of athletes: the same index, user by user.
	several := queryPlan(t, qFactsOfUsers, `["u1","u2"]`)
	if !strings.Contains(several, "SEARCH a USING COVERING INDEX activities_facts (user_id=?)") || strings.Contains(several, "TEMP B-TREE") {
		t.Fatalf("the facts query of several users is not answered from its index in order:\n%s", several)
	}
}

// The worker's duplicate check (inside its write transaction) and the
// projector's read of one new activity run on every upload: neither may
// walk the athlete's history, which the index on user_id alone would do.
func TestPerUploadLookupsDoNotWalkTheHistory(t *testing.T) {
	for name, c := range map[string]struct {
		query string
		args  []any
		want  []string
	}{
		"duplicate check": {qFindDuplicate, []any{"u1", []byte("h"), "e", 1},
			[]string{"activities_same_content", "activities_same_external_id", "activities_same_start"}},
		"facts of one activity": {qFactsOfActivity, []any{"u1", "a1", "a1"},
			[]string{"MULTI-INDEX OR", "sqlite_autoindex_activities_1 (id=?)", "activities_parent (parent_id=?)"}},
		// Not per upload but per deleted activity, and it holds the writer:
		// a scan of every upload ever accepted is worse than a history.
		"detaching a deleted activity's uploads": {qDetachUploads, []any{"a1"},
			[]string{"SEARCH uploads USING INDEX uploads_activity_id (activity_id=?)"}},
	} {
		plan := queryPlan(t, c.query, c.args...)
		for _, w := range c.want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: the plan does not use %s:\n%s", name, w, plan)
			}
		}
		if strings.Contains(plan, "(user_id=?)") {
			t.Errorf("%s: the plan walks the athlete's activities:\n%s", name, plan)
		}
	}
}

func queryPlan(t *testing.T, query string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	db := openGroupDB(t, GroupCommitOptions{})
	rows, err := db.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

// BenchmarkActivityFacts reads the facts of an athlete with 2,000 GPS
// activities, each with a 4 KB polyline and 6 KB of details, as the
// projector does on each of their events.
func BenchmarkActivityFacts(b *testing.B) {
	ctx := context.Background()
	db := openGroupDB(b, GroupCommitOptions{})
	u := createUser(b, db, "a@example.com")
	if _, err := db.write.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
		INSERT INTO activities (id, user_id, upload_id, sport, visibility, start_time, end_time, elapsed_s, timer_s, moving_s,
			distance_m, ascent_m, descent_m, avg_speed_mps, max_speed_mps, calories, polyline, details, created_at, updated_at,
			local_date, efforts)
		SELECT printf('a%05d', i), ?, 'up', 'running', 'public', i * 86400000000, i * 86400000000 + 3600000000, 3600, 3600,
			3500, 10000, 50, 50, 3, 4, 500, hex(randomblob(2000)), '{"x":"' || hex(randomblob(3000)) || '"}', 0, 0,
			date(i * 86400, 'unixepoch'), '{"best_5k":1200}' FROM n`, u.ID); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		facts, err := db.ActivityFacts(ctx, u.ID)
		if err != nil || len(facts) != 2000 {
			b.Fatalf("%d facts, %v", len(facts), err)
		}
	}
}

// BenchmarkRebuildReads reads the facts of a page of 200 athletes with one
// activity each, as a leaderboard rebuild does for every page of
// athletes: one read per athlete, or one read for the page.
func BenchmarkRebuildReads(b *testing.B) {
	ctx := context.Background()
	db := openGroupDB(b, GroupCommitOptions{})
	ids := make([]string, 200)
	for i := range ids {
		ids[i] = createUser(b, db, fmt.Sprintf("athlete%d@example.com", i)).ID
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO activities (id, user_id, upload_id, sport, visibility, start_time,
			end_time, elapsed_s, timer_s, moving_s, distance_m, ascent_m, descent_m, avg_speed_mps, max_speed_mps, calories,
			polyline, details, created_at, updated_at, local_date, efforts)
		SELECT 'a' || id, id, 'up', 'running', 'public', 86400000000, 86400000000 + 3600000000, 3600, 3600, 3500, 10000, 50,
			50, 3, 4, 500, '', '{}', 0, 0, '1970-01-02', '{"best_5k":1200}' FROM users`); err != nil {
		b.Fatal(err)
	}
	b.Run("PerAthlete", func(b *testing.B) {
		for b.Loop() {
			for _, id := range ids {
				if facts, err := db.ActivityFacts(ctx, id); err != nil || len(facts) != 1 {
					b.Fatalf("%d facts, %v", len(facts), err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ids)), "ns/athlete")
	})
	b.Run("PerPage", func(b *testing.B) {
		for b.Loop() {
			if facts, err := db.ActivityFactsOfUsers(ctx, ids); err != nil || len(facts) != len(ids) {
				b.Fatalf("facts of %d athletes, %v", len(facts), err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ids)), "ns/athlete")
	})
}
