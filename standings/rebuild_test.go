package standings

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/ranker"
	"github.com/stridehq/stride/ranker/memrank"
)

// replaceSpy records the boards replaced, and refuses to replace one.
type replaceSpy struct {
	ranker.Ranker
	refuse string
	mu     sync.Mutex
	names  []string
}

var errReplaceRefused = errors.New("replace refused")

func (s *replaceSpy) Replace(ctx context.Context, name string, entries []ranker.Entry, expireAt time.Time) error {
	s.mu.Lock()
	s.names = append(s.names, name)
	s.mu.Unlock()
	if name == s.refuse {
		return errReplaceRefused
	}
	return s.Ranker.Replace(ctx, name, entries, expireAt)
}

// pagedUsers lists the store's users seven at a time, so that a rebuild's
// pages go to different scorers whose boards must be joined.
type pagedUsers struct{ st *memStore }

func (p pagedUsers) ListUsers(ctx context.Context, page stride.Page) ([]stride.User, string, error) {
	all, _, err := p.st.ListUsers(ctx, stride.Page{})
	if err != nil {
		return nil, "", err
	}
	from, _ := strconv.Atoi(page.Cursor)
	to := min(from+7, len(all))
	if to == len(all) {
		return all[from:to], "", nil
	}
	return all[from:to], strconv.Itoa(to), nil
}

// A rebuild writes every board of every athlete, skips the boards of
// periods past their retention, and reports a board the ranker refused
// (the others being written side by side must not hide it or hang).
func TestRebuildLeaderboards(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	st := newMemStore()
	for i := range 50 {
		id := fmt.Sprintf("athlete-%02d", i)
		st.facts[id] = []stride.ActivityFacts{
			{ActivityID: id + "-now", UserID: id, Sport: "running", StartTime: now, LocalDate: "2026-11-23",
				Visibility: stride.VisibilityPublic, DistanceM: float64(1000 + i), MovingS: 600, ElapsedS: 600, AscentM: 5},
			// Four years ago: its week, month and year are past retention.
			{ActivityID: id + "-old", UserID: id, Sport: "running", StartTime: now.AddDate(-4, 0, 0), LocalDate: "2022-11-23",
				Visibility: stride.VisibilityPublic, DistanceM: 500, MovingS: 300, ElapsedS: 300, AscentM: 1},
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := func() time.Time { return now }

	mem := memrank.New(memrank.Options{Now: clock})
	spy := &replaceSpy{Ranker: mem}
	stats, err := NewProjector(st, spy, &crashingBus{}, log, clock, "test").RebuildLeaderboards(ctx, pagedUsers{st})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Users != 50 || stats.Boards != len(spy.names) || stats.Entries != 50*stats.Boards {
		t.Fatalf("stats %+v, %d boards written: want 50 users, each on every board written", stats, len(spy.names))
	}
	for _, name := range spy.names {
		if strings.Contains(name, ":2022") {
			t.Errorf("board %s, past its retention, was written", name)
		}
	}
	all, err := mem.Top(ctx, "distance:running:all:all:public:all", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 50 || all[0].Member != "athlete-49" || all[0].Score != 1049+500 {
		t.Fatalf("all-time board: %d entries, first %+v", len(all), all[0])
	}
	if n, err := mem.Size(ctx, "distance:running:year:2022:public:all"); err != nil || n != 0 {
		t.Fatalf("a board past its retention holds %d entries (%v)", n, err)
	}

	refused := "distance:running:week:2026-W48:public:all"
	_, err = NewProjector(st, &replaceSpy{Ranker: memrank.New(memrank.Options{Now: clock}), refuse: refused}, &crashingBus{}, log, clock, "test").
		RebuildLeaderboards(ctx, st)
	if !errors.Is(err, errReplaceRefused) || !strings.Contains(err.Error(), refused) {
		t.Fatalf("rebuild with a refused board: %v", err)
	}
}
