package standings

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/leaderboard"
	"github.com/stridehq/stride/ranker"
	"github.com/stridehq/stride/ranker/memrank"
	"github.com/stridehq/stride/store"
)

// readStore is a Reader's store with users in memory; it records the name
// queries made and fails the test on UserByID, which a leaderboard read
// must not need.
type readStore struct {
	*memStore
	t       *testing.T
	mu      sync.Mutex
	names   map[string]string
	queries [][]string
}

func (s *readStore) UserByID(context.Context, string) (*stride.User, error) {
	s.t.Error("UserByID called: the viewer is given")
	return nil, stride.Errorf(stride.ENOTFOUND, "User not found.")
}

func (s *readStore) UserNames(_ context.Context, ids []string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, slices.Sorted(slices.Values(ids)))
	out := map[string]string{}
	for _, id := range ids {
		if n, ok := s.names[id]; ok {
			out[id] = n
		}
	}
	return out, nil
}

func (s *readStore) IsFollowing(context.Context, string, string) (bool, error) { return false, nil }

func (s *readStore) Following(context.Context, string, stride.Page) ([]store.FollowEntry, string, error) {
	return nil, "", nil
}

func (s *readStore) takeQueries() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queries
	s.queries = nil
	return q
}

func TestLeaderboardOneRankerReadAndCachedNames(t *testing.T) {
	ctx := context.Background()
	rk := memrank.New(memrank.Options{})
	defer rk.Close()
	st := &readStore{memStore: newMemStore(), t: t, names: map[string]string{}}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	r := NewReader(st, rk, func() time.Time { return now })
	q := BoardQuery{Metric: leaderboard.Distance, Period: leaderboard.All, Scope: ScopeGlobal}
	board, err := r.resolve(&stride.User{}, q)
	if err != nil {
		t.Fatal(err)
	}
	var ups []ranker.Update
	for i := range 30 {
		id := fmt.Sprintf("u%02d", i)
		st.names[id] = "Athlete " + id
		ups = append(ups, ranker.Update{Board: board.Name(), Member: id, Score: float64(1000 - i)})
	}
	if err := rk.Set(ctx, ups...); err != nil {
		t.Fatal(err)
	}
	viewer := &stride.User{ID: "u15", Name: "Fresh name"}

	q.AroundMe, q.Page.Limit = true, 10
	page, err := r.Leaderboard(ctx, viewer, q)
	if err != nil {
		t.Fatal(err)
	}
	if page.Board.Athletes != 30 || page.Me == nil || page.Me.Rank != 16 || page.Me.Name != "Fresh name" || len(page.Entries) != 11 {
		t.Fatalf("around me = %+v, me %+v, %d entries", page.Board, page.Me, len(page.Entries))
	}
	for i, e := range page.Entries {
		want := "Athlete " + e.UserID
		if e.UserID == viewer.ID {
			want = viewer.Name
		}
		if e.Rank != 11+i || e.Name != want {
			t.Errorf("entry %d = %+v, want rank %d, name %q", i, e, 11+i, want)
		}
	}
	// One query, for the others on the page: the viewer's name is known.
	if qs := st.takeQueries(); len(qs) != 1 || len(qs[0]) != 10 || slices.Contains(qs[0], viewer.ID) {
		t.Errorf("name queries = %v, want one of the 10 others", qs)
	}

	// Names are cached: a rename shows only once the cache entry expires.
	st.names["u14"] = "Renamed"
	if _, err := r.Leaderboard(ctx, viewer, q); err != nil {
		t.Fatal(err)
	}
	if qs := st.takeQueries(); len(qs) != 0 {
		t.Errorf("second read queried names %v; want all cached", qs)
	}

	// A top page overlapping the cached ones asks only for the misses.
	q.AroundMe, q.Page.Limit = false, 20
	page, err = r.Leaderboard(ctx, viewer, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 20 || page.NextCursor == nil || page.Me == nil || page.Me.Rank != 16 {
		t.Fatalf("top 20 = %d entries, next %v, me %+v", len(page.Entries), page.NextCursor, page.Me)
	}
	if qs := st.takeQueries(); len(qs) != 1 || len(qs[0]) != 10 {
		t.Errorf("name queries = %v, want one of the 10 not cached (u00-u09)", qs)
	}

	// A deleted account leaves the ranker, so it leaves the page, whatever
	// the cache holds.
	if err := rk.RemoveMember(ctx, "u14"); err != nil {
		t.Fatal(err)
	}
	page, err = r.Leaderboard(ctx, viewer, q)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Entries {
		if e.UserID == "u14" {
			t.Errorf("a removed member is still shown: %+v", e)
		}
	}
	if page.Board.Athletes != 29 {
		t.Errorf("athletes = %d, want 29", page.Board.Athletes)
	}

	// Top (realtime pushes) reads the same cache.
	top, err := r.Top(ctx, board, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Entries) != 5 || top.Entries[0].Name != "Athlete u00" || top.Board.Athletes != 29 {
		t.Errorf("top = %+v", top)
	}
	if qs := st.takeQueries(); len(qs) != 0 {
		t.Errorf("top queried names %v; want all cached", qs)
	}
}

// While the boards are being filled, a leaderboard read and a realtime
// push's read answer "unavailable, retry" instead of an empty or partial
// board, and read nothing; once filled, both read.
func TestBoardsFilling(t *testing.T) {
	ctx := context.Background()
	rk := memrank.New(memrank.Options{})
	defer rk.Close()
	st := &readStore{memStore: newMemStore(), t: t, names: map[string]string{"u1": "Ann"}}
	r := NewReader(st, rk, func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) })
	q := BoardQuery{Metric: leaderboard.Distance, Period: leaderboard.All, Scope: ScopeGlobal, Page: stride.Page{Limit: 10}}
	board, err := r.resolve(&stride.User{}, q)
	if err != nil {
		t.Fatal(err)
	}
	if err := rk.Set(ctx, ranker.Update{Board: board.Name(), Member: "u1", Score: 5000}); err != nil {
		t.Fatal(err)
	}
	viewer := &stride.User{ID: "u1", Name: "Ann"}

	r.BoardsFilling()
	_, err = r.Leaderboard(ctx, viewer, q)
	var serr *stride.Error
	if !errors.As(err, &serr) || serr.Code != stride.EUNAVAILABLE || serr.RetryAfter <= 0 {
		t.Fatalf("leaderboard while filling: %v, want unavailable with a retry-after", err)
	}
	if _, err := r.Top(ctx, board, 10); stride.ErrorCode(err) != stride.EUNAVAILABLE {
		t.Fatalf("top while filling: %v", err)
	}
	if n := len(st.queries); n != 0 {
		t.Fatalf("%d name reads while filling", n)
	}

	r.BoardsFilled()
	page, err := r.Leaderboard(ctx, viewer, q)
	if err != nil || len(page.Entries) != 1 || page.Entries[0].UserID != "u1" {
		t.Fatalf("leaderboard once filled: %+v, %v", page, err)
	}
	if top, err := r.Top(ctx, board, 10); err != nil || len(top.Entries) != 1 {
		t.Fatalf("top once filled: %+v, %v", top, err)
	}
}

func TestNameCache(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c := newNameCache(time.Minute, 50, clock)
	db := map[string]string{"a": "Ana", "b": "Ben"}
	var asked [][]string
	load := func(_ context.Context, ids []string) (map[string]string, error) {
		asked = append(asked, slices.Clone(ids))
		out := map[string]string{}
		for _, id := range ids {
			if n, ok := db[id]; ok {
				out[id] = n
			}
		}
		return out, nil
	}
	got, err := c.lookup(ctx, []string{"a", "b", "gone"}, load)
	if err != nil || got["a"] != "Ana" || got["b"] != "Ben" || len(got) != 2 {
		t.Fatalf("lookup = %v, %v", got, err)
	}
	db["a"] = "Anna"
	got, _ = c.lookup(ctx, []string{"a", "gone"}, load)
	if got["a"] != "Ana" {
		t.Errorf("within the TTL, a = %q, want the cached Ana", got["a"])
	}
	// Ids without a name are not cached: asked again.
	if want := [][]string{{"a", "b", "gone"}, {"gone"}}; fmt.Sprint(asked) != fmt.Sprint(want) {
		t.Errorf("loads = %v, want %v", asked, want)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if got, _ := c.lookup(ctx, []string{"a"}, load); got["a"] != "Anna" {
		t.Errorf("after the TTL, a = %q, want Anna", got["a"])
	}

	// Bounded, and safe for concurrent use.
	for i := range 1000 {
		db[fmt.Sprint("u", i)] = fmt.Sprint("User ", i)
	}
	var wg sync.WaitGroup
	var loadMu sync.Mutex
	locked := func(ctx context.Context, ids []string) (map[string]string, error) {
		loadMu.Lock()
		defer loadMu.Unlock()
		return load(ctx, ids)
	}
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				id := fmt.Sprint("u", (g*131+i*7)%1000)
				got, err := c.lookup(ctx, []string{id}, locked)
				if err != nil || got[id] != db[id] {
					t.Errorf("lookup %s = %v, %v", id, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	c.mu.RLock()
	n := len(c.m)
	c.mu.RUnlock()
	if n > 50 {
		t.Errorf("cache holds %d names, bound 50", n)
	}
}
