package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stridehq/stride/internal/e2e"
)

// TestDeletedAccountLeavesLeaderboards: an athlete who deletes their
// account is taken off the boards at once, not left ranked (nameless) until
// the periods expire. Ann leads Bob on the week and all-time boards, so
// Bob's rank 1 and a count of one athlete afterwards show that she was
// removed from the ranker, not merely hidden by the reader.
func TestDeletedAccountLeavesLeaderboards(t *testing.T) {
	for _, p := range standingsPipelines {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			env := append(p.env(t), "STRIDE_JWT_SECRET="+testSecret, "STRIDE_LOG_FORMAT=json")
			srv := e2e.Start(t, strideBin, t.TempDir(), env...)
			c := e2e.NewClient(t, srv.URL)
			ann := register(t, c, "ann@example.com", "Ann")
			bob := register(t, c, "bob@example.com", "Bob")

			day := time.Now().UTC().AddDate(0, 0, -1).Truncate(24 * time.Hour)
			run := func(g grant, hour int, km float64) {
				t.Helper()
				body := fmt.Sprintf(`{"sport": "running", "start_time": %q, "distance_m": %g, "elapsed_s": %d, "visibility": "public"}`,
					day.Add(time.Duration(hour)*time.Hour).Format(time.RFC3339), km*1000, int(km*300))
				r := c.Do("POST", "/api/v1/activities", g.AccessToken, []byte(body))
				wantStatus(t, r, http.StatusAccepted)
				var a accepted
				r.JSON(t, &a)
				if st := waitUpload(t, c, g.AccessToken, a.UploadID); st.Status != "done" {
					t.Fatalf("%s ended %s", body, st.Status)
				}
			}
			run(ann, 7, 12)
			run(bob, 8, 10)

			boards := []struct {
				name string
				q    map[string]string
			}{
				{"week", map[string]string{"sport": "running", "date": day.Format(time.DateOnly)}},
				{"all time", map[string]string{"period": "all"}},
			}
			query := func(kv map[string]string) []string {
				var out []string
				for k, v := range kv {
					out = append(out, k, v)
				}
				return out
			}
			for _, b := range boards {
				waitBoard(t, c, bob.AccessToken, "distance", params(query(b.q)...), "Ann=12000 Bob=10000")
			}

			wantStatus(t, c.Do("DELETE", "/api/v1/users/me", ann.AccessToken, nil), http.StatusNoContent)
			for _, b := range boards {
				pg := waitBoard(t, c, bob.AccessToken, "distance", params(query(b.q)...), "Bob=10000")
				if pg.Board.Athletes != 1 || len(pg.Entries) != 1 || pg.Entries[0].Rank != 1 || pg.Entries[0].UserID != bob.User.ID {
					t.Errorf("%s board after Ann's deletion: %d athletes, entries %+v; want Bob alone at rank 1", b.name, pg.Board.Athletes, pg.Entries)
				}
				if pg.Me == nil || pg.Me.Rank != 1 {
					t.Errorf("%s board: Bob's standing %+v, want rank 1", b.name, pg.Me)
				}
			}
		})
	}
}
