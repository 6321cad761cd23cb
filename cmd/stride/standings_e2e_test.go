package main

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stridehq/stride/internal/e2e"
	"github.com/stridehq/stride/internal/testenv"
)

// standingsPipelines run the leaderboards on the embedded defaults (the
// in-memory ranker) and on PostgreSQL + NATS + Redis.
var standingsPipelines = []pipeline{
	pipelines[0],
	{"postgres+nats+redis", func(t *testing.T) []string {
		testenv.Reachable(t, "Redis", testenv.RedisURL())
		redisPrefix := testenv.Name("e2e_lb")
		t.Cleanup(func() { testenv.DeleteRedisKeys(t, redisPrefix) })
		return append(pipelines[1].env(t), "STRIDE_REDIS_URL="+testenv.RedisURL(), "STRIDE_REDIS_PREFIX="+redisPrefix)
	}},
}

type standing struct {
	Rank   int     `json:"rank"`
	UserID string  `json:"user_id"`
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
}

type boardPage struct {
	Board struct {
		PeriodKey string `json:"period_key"`
		From      string `json:"from"`
		Athletes  int    `json:"athletes"`
	} `json:"board"`
	Entries    []standing `json:"entries"`
	Me         *standing  `json:"me"`
	NextCursor *string    `json:"next_cursor"`
}

func readBoard(t *testing.T, c *e2e.Client, token, typ string, q url.Values) boardPage {
	t.Helper()
	r := c.Do("GET", "/api/v1/leaderboards/"+typ+"?"+q.Encode(), token, nil)
	wantStatus(t, r, 200)
	var p boardPage
	r.JSON(t, &p)
	return p
}

// entries renders a board as "name=value" in rank order, for comparison.
func entries(p boardPage) string {
	var parts []string
	for i, e := range p.Entries {
		if e.Rank != i+1 && len(p.Entries) == p.Board.Athletes {
			return fmt.Sprintf("rank %d at position %d", e.Rank, i+1)
		}
		parts = append(parts, fmt.Sprintf("%s=%g", e.Name, e.Value))
	}
	return strings.Join(parts, " ")
}

// waitBoard polls until the board reads want (the projection is
// asynchronous) and fails after a while.
func waitBoard(t *testing.T, c *e2e.Client, token, typ string, q url.Values, want string) boardPage {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := readBoard(t, c, token, typ, q)
		if entries(p) == want {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("board %s?%s = %q, want %q", typ, q.Encode(), entries(p), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func params(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

func TestLeaderboardsEndToEnd(t *testing.T) {
	corpus := testenv.Corpus(t)
	for _, p := range standingsPipelines {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			env := append(p.env(t), "STRIDE_JWT_SECRET="+testSecret, "STRIDE_LOG_FORMAT=json")
			dataDir := t.TempDir()
			srv := e2e.Start(t, strideBin, dataDir, env...)
			c := e2e.NewClient(t, srv.URL)
			ann := register(t, c, "ann@example.com", "Ann")
			bob := register(t, c, "bob@example.com", "Bob")
			cat := register(t, c, "cat@example.com", "Cat")
			wantStatus(t, c.Do("POST", "/api/v1/users/"+bob.User.ID+"/follow", cat.AccessToken, nil), 204)
			// Ann lives in Tokyo: her activities count by Tokyo dates.
			wantStatus(t, c.Do("PATCH", "/api/v1/users/me", ann.AccessToken, map[string]any{"time_zone": "Asia/Tokyo"}), 200)

			// Last week, whatever today is: boards of a finished week.
			y, m, d := time.Now().UTC().Date()
			today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
			thisMonday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
			lastMonday := thisMonday.AddDate(0, 0, -7)
			at := func(days int, clock string) string {
				hh, mm := 0, 0
				fmt.Sscanf(clock, "%d:%d", &hh, &mm)
				return lastMonday.AddDate(0, 0, days).Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute).Format(time.RFC3339)
			}
			upload := func(g grant, body string) string {
				t.Helper()
				r := c.Do("POST", "/api/v1/activities", g.AccessToken, []byte(body))
				wantStatus(t, r, 202)
				var a accepted
				r.JSON(t, &a)
				st := waitUpload(t, c, g.AccessToken, a.UploadID)
				if st.Status != "done" {
					t.Fatalf("%s ended %s", body, st.Status)
				}
				return *st.ActivityID
			}
			manual := func(g grant, sport, start string, km float64, minutes int, vis string) string {
				return upload(g, fmt.Sprintf(`{"sport": %q, "start_time": %q, "distance_m": %g, "elapsed_s": %d, "visibility": %q}`,
					sport, start, km*1000, minutes*60, vis))
			}
			annRun := manual(ann, "running", at(2, "07:00"), 10, 50, "public")
			bobRun := manual(bob, "running", at(2, "08:00"), 10, 55, "public")
			manual(bob, "running", at(3, "08:00"), 5, 30, "followers")
			manual(ann, "running", at(4, "06:00"), 42.2, 240, "private")
			manual(bob, "treadmill_running", at(4, "18:00"), 4, 25, "public")
			// 00:30 on this week's Monday in Tokyo is Sunday 15:30 UTC of
			// last week: it counts in Ann's this week.
			manual(ann, "running", at(6, "15:30"), 3, 20, "public")

			lastWeek := lastMonday.AddDate(0, 0, 2).Format(time.DateOnly)
			thisWeek := thisMonday.Format(time.DateOnly)
			running := params("sport", "running", "date", lastWeek)
			// A tie at 10 km: the smaller user id first (Ann registered
			// first, and ids sort by creation time).
			p := waitBoard(t, c, cat.AccessToken, "distance", running, "Ann=10000 Bob=10000")
			if p.Board.From != lastMonday.Format(time.DateOnly) || p.Me != nil {
				t.Fatalf("board %+v: want last week, and no standing for Cat", p.Board)
			}
			waitBoard(t, c, cat.AccessToken, "distance", params("sport", "running", "date", thisWeek), "Ann=3000")
			// Followers-only counts for who follows; private never.
			waitBoard(t, c, cat.AccessToken, "distance", params("sport", "running", "date", lastWeek, "scope", "following"), "Bob=15000")
			waitBoard(t, c, ann.AccessToken, "distance", params("sport", "running", "date", lastWeek, "scope", "following"), "Ann=10000")
			// Indoor: the treadmill run counts in all sports unless excluded.
			waitBoard(t, c, cat.AccessToken, "distance", params("date", lastWeek), "Bob=14000 Ann=10000")
			waitBoard(t, c, cat.AccessToken, "distance", params("date", lastWeek, "indoor", "exclude"), "Ann=10000 Bob=10000")
			waitBoard(t, c, cat.AccessToken, "activities", params("date", lastWeek), "Bob=2 Ann=1")
			// around=me and the caller's standing.
			p = readBoard(t, c, bob.AccessToken, "distance", params("date", lastWeek, "around", "me", "limit", "2"))
			if p.Me == nil || p.Me.Rank != 1 || p.Me.Value != 14000 {
				t.Fatalf("Bob's standing %+v", p.Me)
			}
			// Pages.
			p = readBoard(t, c, cat.AccessToken, "distance", params("date", lastWeek, "limit", "1"))
			if entries(p) != "Bob=14000" || p.NextCursor == nil {
				t.Fatalf("first page %q, cursor %v", entries(p), p.NextCursor)
			}
			p = readBoard(t, c, cat.AccessToken, "distance", params("date", lastWeek, "limit", "1", "cursor", *p.NextCursor))
			if entries(p) != "Ann=10000" || p.Entries[0].Rank != 2 || p.NextCursor != nil {
				t.Fatalf("second page %q %+v", entries(p), p)
			}

			// Edits and deletes move the boards.
			wantStatus(t, c.Do("PATCH", "/api/v1/activities/"+annRun, ann.AccessToken, map[string]any{"sport": "trail_running"}), 200)
			waitBoard(t, c, cat.AccessToken, "distance", running, "Bob=10000")
			waitBoard(t, c, cat.AccessToken, "distance", params("sport", "trail_running", "date", lastWeek), "Ann=10000")
			wantStatus(t, c.Do("DELETE", "/api/v1/activities/"+bobRun, bob.AccessToken, nil), 204)
			waitBoard(t, c, cat.AccessToken, "distance", running, "")
			waitBoard(t, c, cat.AccessToken, "distance", params("date", lastWeek), "Ann=10000 Bob=4000")
			wantStatus(t, c.Do("PATCH", "/api/v1/activities/"+annRun, ann.AccessToken, map[string]any{"visibility": "private"}), 200)
			waitBoard(t, c, cat.AccessToken, "distance", params("date", lastWeek), "Bob=4000")

			// Achievements: Ann's private marathon earns its badges; others
			// see the badge but not the activity.
			var ach struct {
				Items []struct {
					Type       string `json:"type"`
					ActivityID string `json:"activity_id"`
				} `json:"items"`
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				r := c.Do("GET", "/api/v1/users/"+ann.User.ID+"/achievements", bob.AccessToken, nil)
				wantStatus(t, r, 200)
				r.JSON(t, &ach)
				if len(ach.Items) >= 6 || time.Now().After(deadline) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			got := map[string]string{}
			for _, a := range ach.Items {
				got[a.Type] = a.ActivityID
			}
			for _, typ := range []string{"first_activity", "5k_runner", "10k_runner", "half_marathoner", "marathoner", "hour_of_power"} {
				if _, ok := got[typ]; !ok {
					t.Errorf("Ann lacks %s: %v", typ, got)
				}
			}
			if got["marathoner"] != "" {
				t.Errorf("Bob sees the private activity behind Ann's marathon: %v", got)
			}
			wantProblem(t, c.Do("GET", "/api/v1/users/nobody/achievements", bob.AccessToken, nil), 404, "not_found")

			// Records from real files: two runs, the faster 1 km is the
			// record, the other its previous.
			for _, f := range []string{"garmin-fr110-run-2013.fit", "garmin-vivoactivehr-run.fit"} {
				r := uploadFile(t, c, cat.AccessToken, filepath.Join(corpus, "fit", f))
				wantStatus(t, r, 202)
				var a accepted
				r.JSON(t, &a)
				if st := waitUpload(t, c, cat.AccessToken, a.UploadID); st.Status != "done" {
					t.Fatalf("%s ended %s", f, st.Status)
				}
			}
			var recs struct {
				Items []struct {
					Effort   string  `json:"effort"`
					Value    float64 `json:"value"`
					Previous *struct {
						Value float64 `json:"value"`
					} `json:"previous"`
				} `json:"items"`
			}
			deadline = time.Now().Add(20 * time.Second)
			for len(recs.Items) == 0 && time.Now().Before(deadline) {
				r := c.Do("GET", "/api/v1/users/me/records", cat.AccessToken, nil)
				wantStatus(t, r, 200)
				r.JSON(t, &recs)
				time.Sleep(50 * time.Millisecond)
			}
			var oneK bool
			for _, rec := range recs.Items {
				if rec.Effort == "best_1k" {
					oneK = true
					if rec.Value <= 0 || (rec.Previous != nil && rec.Previous.Value <= rec.Value) {
						t.Errorf("1 km record %+v: a record beats its previous", rec)
					}
				}
			}
			if !oneK {
				t.Fatalf("no 1 km record from two runs: %+v", recs.Items)
			}

			// Bad requests.
			wantProblem(t, c.Do("GET", "/api/v1/leaderboards/speed", cat.AccessToken, nil), 404, "not_found")
			wantProblem(t, c.Do("GET", "/api/v1/leaderboards/distance?period=fortnight", cat.AccessToken, nil), 422, "invalid")
			wantProblem(t, c.Do("GET", "/api/v1/leaderboards/distance?sport=quidditch", cat.AccessToken, nil), 422, "invalid")
			wantProblem(t, c.Do("GET", "/api/v1/leaderboards/distance?date=yesterday", cat.AccessToken, nil), 422, "invalid")
			wantProblem(t, c.Do("GET", "/api/v1/leaderboards/distance?cursor=zzz", cat.AccessToken, nil), 422, "invalid")
			wantProblem(t, c.Do("GET", "/api/v1/leaderboards/distance", "", nil), 401, "unauthorized")

			// After a restart (the in-memory boards are rebuilt from the
			// database; Redis keeps its own) the boards read the same.
			before := map[string]string{}
			reads := []url.Values{params("date", lastWeek), params("date", thisWeek), params("period", "all"), params("sport", "trail_running", "date", lastWeek)}
			for _, q := range reads {
				before[q.Encode()] = entries(readBoard(t, c, cat.AccessToken, "distance", q))
			}
			srv.Stop(t)
			// With Redis: lose every board, then rebuild them from the
			// database with the command; they must read as the live
			// projection left them.
			if settings := envMap(env); settings["STRIDE_REDIS_URL"] != "" {
				testenv.DeleteRedisKeys(t, settings["STRIDE_REDIS_PREFIX"])
				out, stderr, err := runCommand(t, settings, "replay", "leaderboards")
				if err != nil || !strings.Contains(out, "boards") {
					t.Fatalf("stride replay leaderboards: %v\n%s%s", err, out, stderr)
				}
			}
			srv = e2e.Start(t, strideBin, dataDir, env...)
			c = e2e.NewClient(t, srv.URL)
			for _, q := range reads {
				waitBoard(t, c, cat.AccessToken, "distance", q, before[q.Encode()])
			}
		})
	}
}

// envMap turns KEY=value lines into a map, for runCommand.
func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
