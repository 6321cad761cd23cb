package standings

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/internal/testenv"
	"github.com/stridehq/stride/leaderboard"
	"github.com/stridehq/stride/ranker"
	"github.com/stridehq/stride/ranker/memrank"
	"github.com/stridehq/stride/redis"
	"github.com/stridehq/stride/store"
)

// memStore is the projector's view of a store, in memory: activity facts
// the test sets, and the standings and events the projector saves.
type memStore struct {
	mu           sync.Mutex
	facts        map[string][]stride.ActivityFacts
	achievements map[string][]stride.Achievement
	records      map[string][]stride.Record
	events       []store.OutboxEvent
	// version and seen model store.FactsVersion for facts the tests edit
	// in place: each activity whose facts differ from those last seen
	// raises the version by one, as a transaction of its own would.
	version map[string]store.FactsVersion
	seen    map[string][]stride.ActivityFacts
	// factsRead counts the facts read, whole histories and single
	// activities alike.
	factsRead int
}

func newMemStore() *memStore {
	return &memStore{facts: map[string][]stride.ActivityFacts{}, achievements: map[string][]stride.Achievement{}, records: map[string][]stride.Record{},
		version: map[string]store.FactsVersion{}, seen: map[string][]stride.ActivityFacts{}}
}

func (m *memStore) ActivityFacts(_ context.Context, userID string) ([]stride.ActivityFacts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.factsRead += len(m.facts[userID])
	return slices.Clone(m.facts[userID]), nil
}

func (m *memStore) ActivityFactsOfUsers(_ context.Context, userIDs []string) (map[string][]stride.ActivityFacts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]stride.ActivityFacts{}
	for _, id := range userIDs {
		if facts := m.facts[id]; len(facts) > 0 {
			m.factsRead += len(facts)
			out[id] = slices.Clone(facts)
		}
	}
	return out, nil
}

func (m *memStore) VersionedFacts(_ context.Context, userID string) (store.FactsVersion, []stride.ActivityFacts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.factsRead += len(m.facts[userID])
	return m.syncVersion(userID), slices.Clone(m.facts[userID]), nil
}

func (m *memStore) FactsOfActivity(_ context.Context, userID, activityID string) (store.FactsVersion, []stride.ActivityFacts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []stride.ActivityFacts
	for _, f := range m.facts[userID] {
		if f.ActivityID == activityID || f.ParentID == activityID {
			out = append(out, f)
		}
	}
	m.factsRead += len(out)
	return m.syncVersion(userID), out, nil
}

// syncVersion raises userID's version by the number of activities changed
// since the last read, and returns it; 0 for a user without facts, as
// for a user that does not exist.
func (m *memStore) syncVersion(userID string) store.FactsVersion {
	byID := func(facts []stride.ActivityFacts) map[string]stride.ActivityFacts {
		out := map[string]stride.ActivityFacts{}
		for _, f := range facts {
			out[f.ActivityID] = f
		}
		return out
	}
	was, is := byID(m.seen[userID]), byID(m.facts[userID])
	for id, f := range is {
		if g, ok := was[id]; !ok || !reflect.DeepEqual(f, g) {
			m.version[userID]++
		}
	}
	for id := range was {
		if _, ok := is[id]; !ok {
			m.version[userID]++
		}
	}
	m.seen[userID] = slices.Clone(m.facts[userID])
	if len(m.facts[userID]) == 0 {
		return 0
	}
	return m.version[userID]
}

func (m *memStore) Achievements(_ context.Context, userID string) ([]stride.Achievement, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.achievements[userID]), nil
}

func (m *memStore) Records(_ context.Context, userID string) ([]stride.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.records[userID]), nil
}

func (m *memStore) SaveStandings(_ context.Context, userID string, a []stride.Achievement, r []stride.Record, events []store.OutboxEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.achievements[userID], m.records[userID] = a, r
	m.events = append(m.events, events...)
	return nil
}

func (m *memStore) ListUsers(_ context.Context, page stride.Page) ([]stride.User, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id := range m.facts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	users := make([]stride.User, len(ids))
	for i, id := range ids {
		users[i] = stride.User{ID: id}
	}
	return users, "", nil
}

func (m *memStore) eventTypes() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for _, e := range m.events {
		out[e.Type]++
	}
	return out
}

// crashingBus fails the first n publishes: the projector has written the
// ranker but dies before acknowledging, as a process killed at that point.
type crashingBus struct {
	mu        sync.Mutex
	failures  int
	published []bus.Event
}

func (b *crashingBus) Publish(_ context.Context, events ...bus.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures > 0 {
		b.failures--
		return errors.New("killed between the ranker write and the ack")
	}
	b.published = append(b.published, events...)
	return nil
}

func rankers(t *testing.T) map[string]func(t *testing.T) ranker.Ranker {
	return map[string]func(t *testing.T) ranker.Ranker{
		"memrank": func(t *testing.T) ranker.Ranker { return memrank.New(memrank.Options{}) },
		"redis": func(t *testing.T) ranker.Ranker {
			ctx := context.Background()
			testenv.Reachable(t, "Redis", testenv.RedisURL())
			prefix := testenv.Name("stride_test_standings") + ":"
			r, err := redis.Open(ctx, testenv.RedisURL(), redis.Options{Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				r.Close()
				testenv.DeleteRedisKeys(t, prefix)
			})
			return r
		},
	}
}

func delivery(t testing.TB, typ string, data any) bus.Delivery {
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return bus.Delivery{Event: bus.Event{ID: stride.NewID(time.Now()), Type: typ, Data: raw}, Attempt: 1}
}

func run(id, user, date, vis string, km float64) stride.ActivityFacts {
	d, _ := time.Parse(time.DateOnly, date)
	return stride.ActivityFacts{ActivityID: id, UserID: user, Sport: "running", StartTime: d.Add(7 * time.Hour), LocalDate: date,
		Visibility: vis, DistanceM: km * 1000, MovingS: km * 300, ElapsedS: km * 310}
}

// boardTotals reads a board whole.
func boardTotals(t *testing.T, r ranker.Ranker, board string) map[string]float64 {
	entries, err := r.Top(context.Background(), board, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, e := range entries {
		out[e.Member] = e.Score
	}
	return out
}

// storeTotals is the sum over the activities in the store, computed
// independently of the projector: what every board must show.
func storeTotals(s *memStore, tier leaderboard.Tier, first, last string) map[string]float64 {
	out := map[string]float64{}
	for user, facts := range s.facts {
		for _, f := range facts {
			if f.LocalDate < first || f.LocalDate > last || f.Visibility == stride.VisibilityPrivate ||
				(tier == leaderboard.TierPublic && f.Visibility != stride.VisibilityPublic) {
				continue
			}
			out[user] += f.DistanceM
		}
	}
	return out
}

func TestRedeliveryAfterCrashCountsOnce(t *testing.T) {
	for name, open := range rankers(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
			st := newMemStore()
			rk := open(t)
			b := &crashingBus{}
			p := NewProjector(st, rk, b, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return now }, "test")

			st.facts["ann"] = []stride.ActivityFacts{run("a1", "ann", "2026-11-16", stride.VisibilityPublic, 10)}
			st.facts["bob"] = []stride.ActivityFacts{run("b1", "bob", "2026-11-17", stride.VisibilityPublic, 8)}
			for _, u := range []string{"ann", "bob"} {
				if err := p.Handle(ctx, delivery(t, ingest.EventProcessed, ingest.ProcessedData{ActivityID: st.facts[u][0].ActivityID, UserID: u})); err != nil {
					t.Fatal(err)
				}
			}

			// Ann's second run: the process dies after writing the
			// ranker, twice, and the bus redelivers each time.
			st.facts["ann"] = append(st.facts["ann"], run("a2", "ann", "2026-11-18", stride.VisibilityPublic, 5))
			b.failures = 2
			d := delivery(t, ingest.EventProcessed, ingest.ProcessedData{ActivityID: "a2", UserID: "ann"})
			for attempt := 1; ; attempt++ {
				d.Attempt = attempt
				if err := p.Handle(ctx, d); err == nil {
					break
				} else if attempt > 3 {
					t.Fatal(err)
				}
			}
			// A follower-only run and a deletion, delivered twice each.
			st.facts["bob"] = append(st.facts["bob"], run("b2", "bob", "2026-11-19", stride.VisibilityFollowers, 3))
			for range 2 {
				if err := p.Handle(ctx, delivery(t, ingest.EventProcessed, ingest.ProcessedData{ActivityID: "b2", UserID: "bob"})); err != nil {
					t.Fatal(err)
				}
			}
			st.facts["ann"] = st.facts["ann"][1:]
			for range 2 {
				if err := p.Handle(ctx, delivery(t, ingest.EventDeleted, ingest.ChangedData{ActivityID: "a1", UserID: "ann",
					Before: []ingest.CountedAs{{Sport: "running", LocalDate: "2026-11-16"}}})); err != nil {
					t.Fatal(err)
				}
			}

			for _, tier := range []leaderboard.Tier{leaderboard.TierPublic, leaderboard.TierFollowers} {
				week := leaderboard.Board{Metric: leaderboard.Distance, Sport: "running", Period: leaderboard.PeriodOf(leaderboard.Week, now), Tier: tier, Env: leaderboard.EnvAll}
				first, last := week.Period.Bounds()
				got, want := boardTotals(t, rk, week.Name()), storeTotals(st, tier, first, last)
				if tier == leaderboard.TierFollowers {
					// Readers fall back to the public board for whom the
					// followers tier does not hold.
					for u, v := range boardTotals(t, rk, leaderboard.FollowersFallback(week).Name()) {
						if _, held := got[u]; !held {
							got[u] = v
						}
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%s: board %v, store %v", week.Name(), got, want)
				}
				for u, v := range want {
					if got[u] != v {
						t.Errorf("%s: %s has %v on the board, %v in the store", week.Name(), u, got[u], v)
					}
				}
			}
			// Redelivery announced nothing twice: Ann's first activity and
			// 5K runner came once, and deleting a1 took nothing new.
			// Ann: first_activity, 5k_runner, 10k_runner; Bob: first_activity, 5k_runner.
			if n := st.eventTypes()[EventAchievementUnlocked]; n != 5 {
				t.Errorf("%d achievement.unlocked events, want 5", n)
			}
			if n := len(b.published); n != 7 {
				t.Errorf("%d leaderboard.changed events, want one per successful handling (7)", n)
			}
			if got := st.achievements["ann"]; len(got) != 2 || got[0].ActivityID != "a2" {
				// After a1 is gone, a2 (5 km) still earns first_activity and 5k_runner; 10k_runner is lost.
				t.Errorf("ann's achievements after deleting a1: %+v", got)
			}

			// A rebuild from the store gives the same boards.
			before := boardTotals(t, rk, "distance:running:week:2026-W47:followers:all")
			if _, err := p.RebuildLeaderboards(ctx, st); err != nil {
				t.Fatal(err)
			}
			after := boardTotals(t, rk, "distance:running:week:2026-W47:followers:all")
			if len(before) != len(after) {
				t.Fatalf("rebuild changed the board: %v → %v", before, after)
			}
			for u, v := range before {
				if after[u] != v {
					t.Errorf("rebuild: %s %v → %v", u, v, after[u])
				}
			}
		})
	}
}

// TestUserDeletedLeavesBoards deletes an athlete who is on many boards,
// alone on some: user.deleted takes them off all of them and leaves the
// others where they were, and a redelivery changes nothing.
func TestUserDeletedLeavesBoards(t *testing.T) {
	for name, open := range rankers(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
			st := newMemStore()
			rk := open(t)
			b := &crashingBus{}
			p := NewProjector(st, rk, b, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return now }, "test")
			if !p.ConsumerConfig().Wants(account.EventUserDeleted) {
				t.Fatalf("the projector does not subscribe to %s", account.EventUserDeleted)
			}

			ride := run("a2", "ann", "2026-10-05", stride.VisibilityPublic, 30)
			ride.Sport = "cycling" // a sport, and a month, where Ann is alone
			st.facts["ann"] = []stride.ActivityFacts{run("a1", "ann", "2026-11-16", stride.VisibilityPublic, 10), ride}
			st.facts["bob"] = []stride.ActivityFacts{run("b1", "bob", "2026-11-17", stride.VisibilityPublic, 8)}
			for _, f := range append(slices.Clone(st.facts["ann"]), st.facts["bob"]...) {
				if err := p.Handle(ctx, delivery(t, ingest.EventProcessed, ingest.ProcessedData{ActivityID: f.ActivityID, UserID: f.UserID})); err != nil {
					t.Fatal(err)
				}
			}
			var touched []leaderboard.Touched
			for _, f := range st.facts["ann"] {
				touched = append(touched, leaderboard.Touched{Sport: f.Sport, LocalDate: f.LocalDate})
			}
			scores, err := leaderboard.Scores(st.facts["ann"], touched)
			if err != nil {
				t.Fatal(err)
			}
			bobBefore := map[string]map[string]float64{}
			alone := 0
			for _, sc := range scores {
				if !sc.Present {
					continue
				}
				board := sc.Board.Name()
				if _, ok, err := rk.Rank(ctx, board, "ann"); err != nil || !ok {
					t.Fatalf("before the deletion ann is not on %s: %v", board, err)
				}
				bobBefore[board] = boardTotals(t, rk, board)
				delete(bobBefore[board], "ann")
				if len(bobBefore[board]) == 0 {
					alone++
				}
			}
			if alone == 0 || alone == len(bobBefore) {
				t.Fatalf("ann is alone on %d of her %d boards; the test needs some of each", alone, len(bobBefore))
			}

			// The store's cascade, then its event, delivered twice.
			st.mu.Lock()
			delete(st.facts, "ann")
			delete(st.achievements, "ann")
			delete(st.records, "ann")
			st.mu.Unlock()
			published := len(b.published)
			for range 2 {
				if err := p.Handle(ctx, delivery(t, account.EventUserDeleted, account.DeletedData{UserID: "ann"})); err != nil {
					t.Fatal(err)
				}
			}
			for board, want := range bobBefore {
				got := boardTotals(t, rk, board)
				if len(got) != len(want) {
					t.Errorf("%s after the deletion = %v, want %v", board, got, want)
					continue
				}
				for u, v := range want {
					if got[u] != v {
						t.Errorf("%s: %s has %v, had %v before the deletion", board, u, got[u], v)
					}
				}
				if len(want) == 0 {
					if n, err := rk.Size(ctx, board); err != nil || n != 0 {
						t.Errorf("%s, where ann was alone: size %d, %v", board, n, err)
					}
				}
			}
			// Each handling tells watchers that every board may have
			// changed: the athlete's sports and periods are gone.
			if n := len(b.published) - published; n != 2 {
				t.Errorf("the deletion published %d events, want one per handling (2)", n)
			}
			for _, ev := range b.published[published:] {
				var ch ChangedBoards
				if err := json.Unmarshal(ev.Data, &ch); err != nil || !ch.All || ch.UserID != "ann" {
					t.Errorf("deletion event %s: %+v, %v", ev.Data, ch, err)
				}
			}
			// A late activity event of the deleted athlete finds no facts
			// and puts nothing back.
			if err := p.Handle(ctx, delivery(t, ingest.EventProcessed, ingest.ProcessedData{ActivityID: "a1", UserID: "ann"})); err != nil {
				t.Fatal(err)
			}
			for board := range bobBefore {
				if _, ok, err := rk.Rank(ctx, board, "ann"); err != nil || ok {
					t.Errorf("ann back on %s after a late event: %v", board, err)
				}
			}
			if err := p.Handle(ctx, delivery(t, account.EventUserDeleted, account.DeletedData{})); err == nil {
				t.Error("user.deleted without a user id was accepted")
			}
		})
	}
}
