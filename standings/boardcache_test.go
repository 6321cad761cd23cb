package standings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/leaderboard"
	"github.com/stridehq/stride/ranker"
	"github.com/stridehq/stride/ranker/memrank"
)

// countingRanker counts Window reads: pages (limit > 0) and a member's own
// entry (limit 0). gate, when set, holds page reads until it is closed
// (or sent to); the next failNext page reads fail.
type countingRanker struct {
	ranker.Ranker
	pages, own atomic.Int64
	gate       chan struct{}
	failNext   atomic.Int64
}

func (c *countingRanker) Window(ctx context.Context, board, member string, offset, limit int, around bool) (ranker.Window, error) {
	if limit == 0 {
		c.own.Add(1)
	} else {
		c.pages.Add(1)
		fail := c.failNext.Add(-1) >= 0
		if c.gate != nil {
			<-c.gate
		}
		if fail {
			return ranker.Window{}, errors.New("ranker down")
		}
	}
	return c.Ranker.Window(ctx, board, member, offset, limit, around)
}

func (c *countingRanker) counts() (pages, own int64) {
	return c.pages.Swap(0), c.own.Swap(0)
}

// cacheFixture is a Reader with the board cache over a memrank board of
// athletes u00..u(n-1), u00 first, and a clock for the cache.
type cacheFixture struct {
	t     *testing.T
	rk    *countingRanker
	st    *readStore
	r     *Reader
	plain *Reader // the same without the cache
	board leaderboard.Board
	q     BoardQuery

	mu  sync.Mutex
	now time.Time
}

func newCacheFixture(t *testing.T, n int) *cacheFixture {
	t.Helper()
	mem := memrank.New(memrank.Options{})
	t.Cleanup(func() { mem.Close() })
	f := &cacheFixture{t: t, rk: &countingRanker{Ranker: mem}, now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	f.st = &readStore{memStore: newMemStore(), t: t, names: map[string]string{}}
	periods := func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }
	f.r = NewReader(f.st, f.rk, periods)
	f.r.BoardCacheTTL = time.Second
	f.r.boards.now = f.clock
	f.plain = NewReader(f.st, mem, periods)
	f.q = BoardQuery{Metric: leaderboard.Distance, Sport: "running", Period: leaderboard.Week, Scope: ScopeGlobal, Page: stride.Page{Limit: 10}}
	var err error
	if f.board, err = f.r.resolve(&stride.User{}, f.q); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprintf("u%02d", i)
		f.st.names[id] = "Athlete " + id
		f.set(id, float64(1000-i))
	}
	f.rk.counts()
	return f
}

func (f *cacheFixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *cacheFixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func (f *cacheFixture) set(member string, score float64) {
	f.t.Helper()
	if err := f.rk.Set(context.Background(), ranker.Update{Board: f.board.Name(), Member: member, Score: score}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *cacheFixture) viewer(id string) *stride.User {
	return &stride.User{ID: id, Name: "Athlete " + id}
}

func (f *cacheFixture) read(viewer *stride.User, q BoardQuery) *BoardPage {
	f.t.Helper()
	p, err := f.r.Leaderboard(context.Background(), viewer, q)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// expectReads checks the ranker reads made since the last check.
func (f *cacheFixture) expectReads(what string, pages, own int64) {
	f.t.Helper()
	if p, o := f.rk.counts(); p != pages || o != own {
		f.t.Errorf("%s: %d page and %d own reads, want %d and %d", what, p, o, pages, own)
	}
}

// same checks that a page reads (and encodes) as the uncached Reader's
// does for the same viewer.
func (f *cacheFixture) same(what string, viewer *stride.User, q BoardQuery, got *BoardPage) {
	f.t.Helper()
	want, err := f.plain.Leaderboard(context.Background(), viewer, q)
	if err != nil {
		f.t.Fatal(err)
	}
	g, err := got.AppendJSON(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		f.t.Fatal(err)
	}
	if string(g) != string(w) {
		f.t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func TestBoardCacheHitsAndMe(t *testing.T) {
	f := newCacheFixture(t, 30)
	far, near := f.viewer("u25"), f.viewer("u03")

	p := f.read(far, f.q)
	f.expectReads("first read", 1, 0)
	f.same("first read", far, f.q, p)
	if p.Me == nil || p.Me.Rank != 26 || len(p.Entries) != 10 || p.Board.Athletes != 30 || p.NextCursor == nil || p.entriesJSON == nil {
		t.Fatalf("first read = %+v", p)
	}

	// Another viewer off the page: their own entry only.
	p = f.read(f.viewer("u20"), f.q)
	f.expectReads("a hit, viewer off the page", 0, 1)
	f.same("a hit, viewer off the page", f.viewer("u20"), f.q, p)

	// A viewer on the page: nothing read at all.
	p = f.read(near, f.q)
	f.expectReads("a hit, viewer on the page", 0, 0)
	f.same("a hit, viewer on the page", near, f.q, p)
	if p.Me == nil || p.Me.Rank != 4 || p.Me.UserID != "u03" || p.entriesJSON == nil {
		t.Errorf("me on the page = %+v", p.Me)
	}

	// A viewer who is on no board.
	p = f.read(f.viewer("nobody"), f.q)
	f.expectReads("a hit, viewer not ranked", 0, 1)
	if p.Me != nil || p.Board.Athletes != 30 {
		t.Errorf("unranked viewer: me %+v, %d athletes", p.Me, p.Board.Athletes)
	}

	// The viewer's own name is current, in me and in the entries, and only
	// in their copy.
	renamed := &stride.User{ID: "u03", Name: "Renamed <&>"}
	p = f.read(renamed, f.q)
	f.same("renamed viewer on the page", renamed, f.q, p)
	if p.Entries[3].Name != renamed.Name || p.Me.Name != renamed.Name || p.entriesJSON != nil {
		t.Errorf("renamed viewer: entry %+v, me %+v", p.Entries[3], p.Me)
	}
	if p = f.read(far, f.q); p.Entries[3].Name != "Athlete u03" {
		t.Errorf("another viewer sees %q: the renamed viewer's copy leaked into the cache", p.Entries[3].Name)
	}

	// The next page and the same page with another limit are pages of
	// their own; a hit on each after.
	q2 := f.q
	q2.Page.Cursor = *p.NextCursor
	q3 := f.q
	q3.Page.Limit = 5
	f.rk.counts()
	for range 3 {
		f.same("second page", far, q2, f.read(far, q2))
		f.same("limit 5", far, q3, f.read(far, q3))
	}
	f.expectReads("two more pages, three times", 2, 4)

	// The last page: no cursor, viewer on it.
	q4 := f.q
	q4.Page.Cursor = *encodeOffset(20)
	if p = f.read(far, q4); p.NextCursor != nil || len(p.Entries) != 10 || p.Me.Rank != 26 {
		t.Errorf("last page = %+v", p)
	}
	f.same("last page", far, q4, p)
}

func TestBoardCacheTTL(t *testing.T) {
	f := newCacheFixture(t, 30)
	v := f.viewer("u25")
	f.read(v, f.q)
	f.expectReads("first read", 1, 0)

	// u29 takes the lead, unannounced: the page is stale until the TTL.
	f.set("u29", 2000)
	f.advance(999 * time.Millisecond)
	if p := f.read(v, f.q); p.Entries[0].UserID != "u00" {
		t.Errorf("within the TTL, leader %s; want the cached u00", p.Entries[0].UserID)
	}
	f.expectReads("within the TTL", 0, 1)
	f.advance(time.Millisecond)
	p := f.read(v, f.q)
	f.expectReads("at the TTL", 1, 0)
	if p.Entries[0].UserID != "u29" {
		t.Errorf("after the TTL, leader %s; want u29", p.Entries[0].UserID)
	}
	f.same("after the TTL", v, f.q, p)

	// Zero disables the cache.
	f.r.BoardCacheTTL = 0
	for range 3 {
		f.read(v, f.q)
	}
	f.expectReads("cache disabled", 3, 0)
}

func TestBoardCacheBoardsChanged(t *testing.T) {
	v := &stride.User{ID: "u25", Name: "Athlete u25"}
	week := "week:2026-W48"
	for _, c := range []struct {
		name    string
		sport   string // of the board read: "" for all sports
		ch      ChangedBoards
		dropped bool
	}{
		{"same sport and period", "running", ChangedBoards{UserID: "x", Sports: []string{"all", "running"}, Periods: []string{"all:all", week}}, true},
		{"all sports board, another sport", "", ChangedBoards{UserID: "x", Sports: []string{"cycling"}, Periods: []string{week}}, true},
		{"another sport", "running", ChangedBoards{UserID: "x", Sports: []string{"all", "cycling"}, Periods: []string{week}}, false},
		{"another period", "running", ChangedBoards{UserID: "x", Sports: []string{"running"}, Periods: []string{"week:2026-W47", "month:2026-11"}}, false},
		{"all sports board, another period", "", ChangedBoards{UserID: "x", Sports: []string{"all"}, Periods: []string{"year:2025"}}, false},
		{"nothing named", "running", ChangedBoards{UserID: "x"}, false},
		{"a deleted account", "running", ChangedBoards{UserID: "x", All: true}, true},
		{"a deleted account, all sports", "", ChangedBoards{UserID: "x", All: true}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newCacheFixture(t, 30)
			q := f.q
			q.Sport = c.sport
			b, err := f.r.resolve(v, q)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.rk.Set(context.Background(), ranker.Update{Board: b.Name(), Member: "u00", Score: 1000}); err != nil {
				t.Fatal(err)
			}
			f.read(v, q)
			f.expectReads("first read", 1, 0)
			// A new leader, then the announcement.
			if err := f.rk.Set(context.Background(), ranker.Update{Board: b.Name(), Member: "new", Score: 5000}); err != nil {
				t.Fatal(err)
			}
			f.r.BoardsChanged(c.ch)
			p := f.read(v, q)
			pages := int64(0)
			if c.dropped {
				pages = 1
				f.same("after the change", v, q, p)
			} else if p.Entries[0].UserID != "u00" {
				t.Errorf("kept page shows %v first", p.Entries[0])
			}
			f.expectReads("after "+fmt.Sprintf("%+v", c.ch), pages, 1-pages)
		})
	}
}

func TestBoardCacheProjectorInvalidates(t *testing.T) {
	ctx := context.Background()
	mem := memrank.New(memrank.Options{})
	defer mem.Close()
	st := newMemStore()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	p := NewProjector(st, mem, &crashingBus{}, slog.New(slog.DiscardHandler), clock, "test")
	rs := &readStore{memStore: st, t: t, names: map[string]string{"ann": "Ann", "bob": "Bob"}}
	r := NewReader(rs, mem, clock)
	r.BoardCacheTTL = time.Hour
	q := BoardQuery{Metric: leaderboard.Distance, Period: leaderboard.Week, Scope: ScopeGlobal}
	ann := &stride.User{ID: "ann", Name: "Ann"}
	read := func() string {
		t.Helper()
		page, err := r.Leaderboard(ctx, ann, q)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, e := range page.Entries {
			s = append(s, fmt.Sprintf("%s=%g", e.UserID, e.Value))
		}
		return strings.Join(s, " ")
	}
	handle := func(user, activity string) {
		t.Helper()
		if err := p.Handle(ctx, delivery(t, ingest.EventProcessed, ingest.ProcessedData{ActivityID: activity, UserID: user})); err != nil {
			t.Fatal(err)
		}
	}

	st.facts["ann"] = []stride.ActivityFacts{run("a1", "ann", "2026-11-24", stride.VisibilityPublic, 5)}
	handle("ann", "a1")
	if got := read(); got != "ann=5000" {
		t.Fatalf("board = %q", got)
	}
	// Without the hook, the cached page stays (the test can fail).
	st.facts["bob"] = []stride.ActivityFacts{run("b1", "bob", "2026-11-24", stride.VisibilityPublic, 7)}
	handle("bob", "b1")
	if got := read(); got != "ann=5000" {
		t.Fatalf("board = %q, want the cached page", got)
	}
	p.OnBoardsChanged = r.BoardsChanged
	st.facts["bob"] = append(st.facts["bob"], run("b2", "bob", "2026-11-25", stride.VisibilityPublic, 1))
	handle("bob", "b2")
	if got := read(); got != "bob=8000 ann=5000" {
		t.Errorf("after Bob's run, board = %q", got)
	}
	// A deleted account (the store drops its activities).
	delete(st.facts, "bob")
	if err := p.Handle(ctx, delivery(t, account.EventUserDeleted, account.DeletedData{UserID: "bob"})); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "ann=5000" {
		t.Errorf("after Bob's deletion, board = %q", got)
	}
	// A rebuild.
	st.facts["ann"] = append(st.facts["ann"], run("a2", "ann", "2026-11-25", stride.VisibilityPublic, 2))
	if _, err := p.RebuildLeaderboards(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "ann=7000" {
		t.Errorf("after a rebuild, board = %q", got)
	}
}

func TestBoardCacheNeverCaches(t *testing.T) {
	f := newCacheFixture(t, 30)
	v := f.viewer("u25")
	around := f.q
	around.AroundMe = true
	following := f.q
	following.Scope = ScopeFollowing
	for range 3 {
		f.same("around me", v, around, f.read(v, around))
	}
	f.expectReads("around me, three times", 3, 0)
	for range 3 {
		f.read(v, following)
	}
	f.expectReads("following, three times", 0, 0) // not read with Window at all
	if n := len(f.r.boards.m); n != 0 {
		t.Errorf("%d pages cached; want none", n)
	}
}

func TestBoardCacheViewerNowOnStalePage(t *testing.T) {
	f := newCacheFixture(t, 30)
	f.read(f.viewer("u00"), f.q)
	f.expectReads("first read", 1, 0)
	// u25 moves up to 3rd, unannounced: the cached page does not show them,
	// and they would see it. Their read is uncached and refills the page.
	f.set("u25", 998.5)
	v := f.viewer("u25")
	p := f.read(v, f.q)
	f.expectReads("viewer on the page now", 1, 1)
	f.same("viewer on the page now", v, f.q, p)
	if p.Me.Rank != 3 || p.Entries[2].UserID != "u25" {
		t.Errorf("me %+v, third %+v", p.Me, p.Entries[2])
	}
	p = f.read(f.viewer("u20"), f.q)
	f.expectReads("next read", 1, 0)
	if p.Entries[2].UserID != "u25" {
		t.Errorf("the refilled page has %+v third", p.Entries[2])
	}
}

func TestBoardCacheBounded(t *testing.T) {
	f := newCacheFixture(t, 30)
	f.r.BoardCacheSize = 4
	v := f.viewer("u25")
	for i := range 20 {
		q := f.q
		q.Page.Limit = 1
		q.Page.Cursor = *encodeOffset(i)
		f.same(fmt.Sprint("page ", i), v, q, f.read(v, q))
		if n := len(f.r.boards.m); n > 4 {
			t.Fatalf("%d pages cached, bound 4", n)
		}
	}
	// Expired pages go first.
	f.advance(time.Hour)
	f.read(v, f.q)
	if n := len(f.r.boards.m); n != 1 {
		t.Errorf("%d pages cached after the others expired, want 1", n)
	}
}

func TestBoardCacheErrors(t *testing.T) {
	f := newCacheFixture(t, 30)
	v := f.viewer("u25")
	f.rk.failNext.Store(1)
	if _, err := f.r.Leaderboard(context.Background(), v, f.q); err == nil {
		t.Fatal("read with the ranker down succeeded")
	}
	f.rk.counts()
	f.same("after a failure", v, f.q, f.read(v, f.q))
	f.expectReads("after a failure", 1, 0) // the failure was not cached

	// A waiter whose leader fails reads for itself.
	f.advance(time.Hour)
	f.rk.gate = make(chan struct{})
	f.rk.failNext.Store(1) // only the leader's read fails
	errs := make(chan error, 2)
	go func() { _, err := f.r.Leaderboard(context.Background(), v, f.q); errs <- err }()
	waitFor(t, func() bool { return f.rk.pages.Load() == 1 })
	var page *BoardPage
	go func() {
		var err error
		page, err = f.r.Leaderboard(context.Background(), f.viewer("u20"), f.q)
		errs <- err
	}()
	waitFor(t, func() bool {
		f.r.boards.mu.Lock()
		defer f.r.boards.mu.Unlock()
		return len(f.r.boards.m) == 1
	})
	time.Sleep(10 * time.Millisecond) // let the waiter wait
	go func() {
		for range 2 {
			f.rk.gate <- struct{}{}
		}
	}()
	first, second := <-errs, <-errs
	if first == nil || second != nil {
		t.Fatalf("leader and waiter: %v, %v; want the leader's failure only", first, second)
	}
	f.same("a waiter after the leader failed", f.viewer("u20"), f.q, page)
	f.expectReads("leader failed", 2, 0)
	// A waiter gives up with its own context.
	f.advance(time.Hour)
	f.rk.counts()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _, err := f.r.Leaderboard(context.Background(), v, f.q); errs <- err }()
	waitFor(t, func() bool { return f.rk.pages.Load() == 1 })
	go func() { _, err := f.r.Leaderboard(ctx, v, f.q); errs <- err }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled waiter: %v", err)
	}
	f.rk.gate <- struct{}{}
	if err := <-errs; err != nil {
		t.Errorf("leader: %v", err)
	}
}

func TestBoardCacheConcurrent(t *testing.T) {
	f := newCacheFixture(t, 200)
	ctx := context.Background()
	q := f.q
	q.Page.Limit = 100

	// 64 concurrent misses on one page make one ranker read.
	f.rk.gate = make(chan struct{})
	var wg sync.WaitGroup
	pages := make([]*BoardPage, 64)
	for i := range pages {
		wg.Go(func() {
			p, err := f.r.Leaderboard(ctx, f.viewer(fmt.Sprintf("u%02d", 100+i)), q)
			if err != nil {
				t.Error(err)
			}
			pages[i] = p
		})
	}
	waitFor(t, func() bool { return f.rk.pages.Load() >= 1 })
	time.Sleep(20 * time.Millisecond) // let the others reach the cache
	close(f.rk.gate)
	wg.Wait()
	f.rk.gate = nil
	f.expectReads("64 concurrent misses", 1, 63)
	for i, p := range pages {
		if p == nil || len(p.Entries) != 100 || p.Me == nil || p.Me.Rank != 101+i {
			t.Fatalf("reader %d got %+v", i, p)
		}
	}

	// Readers, writers and invalidations at once (run with -race): every
	// page is a consistent ranking, and a viewer on it is ranked where it
	// shows them.
	stop := make(chan struct{})
	var writers sync.WaitGroup
	writers.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			m := fmt.Sprintf("u%02d", i*37%200)
			f.set(m, float64(500+i%1000))
			f.r.BoardsChanged(ChangedBoards{UserID: m, Sports: []string{"all", "running"}, Periods: []string{"week:2026-W48"}})
			f.advance(100 * time.Millisecond)
		}
	})
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				qq := q
				if i%3 == 0 {
					qq.Page.Limit = 10
				}
				v := f.viewer(fmt.Sprintf("u%02d", (g*13+i*7)%200))
				p, err := f.r.Leaderboard(ctx, v, qq)
				if err != nil {
					t.Error(err)
					return
				}
				for j, e := range p.Entries {
					if e.Rank != j+1 || e.Name != "Athlete "+e.UserID || j > 0 && p.Entries[j-1].Value < e.Value {
						t.Errorf("entry %d = %+v after %+v", j, e, p.Entries[max(j-1, 0)])
						return
					}
					if e.UserID == v.ID && (p.Me == nil || p.Me.Rank != e.Rank || p.Me.Value != e.Value) {
						t.Errorf("viewer %s: entry %+v, me %+v", v.ID, e, p.Me)
					}
				}
				if p.Me == nil || p.Board.Athletes != 200 {
					t.Errorf("viewer %s: me %+v, %d athletes", v.ID, p.Me, p.Board.Athletes)
				}
				if _, err := p.AppendJSON(nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	writers.Wait()
}

func TestBoardPageAppendJSON(t *testing.T) {
	// AppendJSON writes the fields json.Marshal does: a field added to
	// BoardPage must be added there too.
	fields := []string{"Board", "Entries", "Me", "NextCursor"}
	if got := exportedFields(BoardPage{}); !slices.Equal(got, fields) {
		t.Fatalf("BoardPage fields %v; AppendJSON writes %v", got, fields)
	}
	entries := []Standing{{Rank: 1, UserID: "a", Name: "Ann <b>&\u2028é", Value: 1.5e21}, {Rank: 2, UserID: "b", Name: "", Value: -0.25}}
	enc, _ := json.Marshal(entries)
	cursor := "xyz"
	for _, p := range []BoardPage{
		{Board: BoardInfo{Type: "distance", Sport: "all", Period: "week", PeriodKey: "2026-W48", From: "2026-11-23", To: "2026-11-29", Scope: "global", Indoor: "include", Unit: "m", Athletes: 2},
			Entries: entries, entriesJSON: enc, Me: &Standing{Rank: 2, UserID: "b", Name: "B\"ob", Value: 3}, NextCursor: &cursor},
		{Board: BoardInfo{Type: "activities", PeriodKey: "all"}, Entries: []Standing{}, entriesJSON: []byte("[]")},
		{Entries: entries},
		{},
	} {
		want, _ := json.Marshal(&p)
		for _, prefix := range []string{"", "prefix"} {
			var dst []byte
			if prefix != "" {
				dst = []byte(prefix)
			}
			got, err := p.AppendJSON(dst)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != prefix+string(want) {
				t.Errorf("AppendJSON = %s\n want %s%s", got, prefix, want)
			}
		}
	}
	if got, err := (*BoardPage)(nil).AppendJSON(nil); string(got) != "null" || err != nil {
		t.Errorf("nil page: %s, %v", got, err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

func exportedFields(v any) []string {
	var out []string
	for f := range reflect.TypeOf(v).Fields() {
		if f.IsExported() {
			out = append(out, f.Name)
		}
	}
	return out
}
