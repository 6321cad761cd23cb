package memrank

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stridehq/stride/ranker"
	"github.com/stridehq/stride/ranker/rankertest"
)

func TestConformance(t *testing.T) {
	rankertest.Run(t, func(t *testing.T) ranker.Ranker {
		r := New(Options{})
		t.Cleanup(func() { _ = r.Close() })
		return r
	})
}

// clock is a time source the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestExpiryFreesMemory lets boards and dedupe records expire with the
// clock, and checks that they are dropped, not merely hidden.
// The board is built before anything checks for a member listed twice: the
// build finds it, names the second entry as the shared check does, and the
// old board stays.
func TestReplaceFindsRepeatsWhileBuilding(t *testing.T) {
	ctx := context.Background()
	r := New(Options{})
	defer r.Close()
	if err := r.Replace(ctx, "b", []ranker.Entry{{Member: "old", Score: 1}}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	entries := []ranker.Entry{{Member: "a", Score: 3}, {Member: "b", Score: 2}, {Member: "c", Score: 1}, {Member: "a", Score: 9}}
	err := r.Replace(ctx, "b", entries, time.Time{})
	want := ranker.ValidateEntries("b", entries)
	if !errors.Is(err, ranker.ErrInvalid) || want == nil || !strings.HasSuffix(err.Error(), want.Error()) {
		t.Fatalf("replace with a repeat: %v, want the shared check's %v", err, want)
	}
	if got, _ := r.Top(ctx, "b", 0, 10); len(got) != 1 || got[0].Member != "old" {
		t.Fatalf("the board after a refused replace: %+v", got)
	}
}

func TestExpiryFreesMemory(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	r := New(Options{Now: c.Now, DedupeWindow: 48 * time.Hour})
	defer r.Close()
	weekEnd := c.Now().Add(7 * 24 * time.Hour)
	for i := range 100 {
		ups := []ranker.Update{
			{Board: "distance:week:W48", Member: string(rune('a' + i%26)), Score: 1, ExpireAt: weekEnd},
			{Board: "distance:all", Member: string(rune('a' + i%26)), Score: 1},
		}
		if _, err := r.Incr(ctx, "event-"+string(rune('0'+i%10))+string(rune('0'+i/10)), ups...); err != nil {
			t.Fatal(err)
		}
	}
	if s := r.Stats(); s.Boards != 2 || s.Events != 100 {
		t.Fatalf("stats = %+v", s)
	}
	c.Advance(7*24*time.Hour - time.Second)
	if n, _ := r.Size(ctx, "distance:week:W48"); n != 26 {
		t.Errorf("before the deadline: size %d", n)
	}
	// The dedupe window has passed: the records are dropped at the next
	// write, and the week board is still there.
	if err := r.Set(ctx, ranker.Update{Board: "other", Member: "x", Score: 1}); err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); s.Events != 0 || s.Boards != 3 {
		t.Errorf("after the dedupe window: stats = %+v, want 0 events, 3 boards", s)
	}
	c.Advance(time.Second)
	// Reads already ignore the expired board...
	if n, _ := r.Size(ctx, "distance:week:W48"); n != 0 {
		t.Errorf("at the deadline: size %d", n)
	}
	if _, ok, _ := r.Rank(ctx, "distance:week:W48", "a"); ok {
		t.Error("at the deadline: member still ranked")
	}
	// ...and the next write frees it.
	if err := r.Set(ctx, ranker.Update{Board: "other", Member: "y", Score: 1}); err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); s.Boards != 2 || s.Members != 26+2 {
		t.Errorf("after the deadline: stats = %+v, want 2 boards, 28 members", s)
	}
	// A board recreated after expiry starts from nothing.
	if _, err := r.Incr(ctx, "late", ranker.Update{Board: "distance:week:W48", Member: "a", Score: 3}); err != nil {
		t.Fatal(err)
	}
	if e, _, _ := r.Rank(ctx, "distance:week:W48", "a"); e.Score != 3 {
		t.Errorf("recreated board: %+v", e)
	}
}

// TestCompaction removes most of a board, which renumbers its members and
// rebuilds its tree more than once, and checks the board against a sort
// of what is left after each step.
func TestCompaction(t *testing.T) {
	ctx := context.Background()
	r := New(Options{})
	defer r.Close()
	const board = "b"
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string]float64{}
	for round := range 4 {
		var ups []ranker.Update
		for i := range 6000 {
			m := fmt.Sprintf("m%d-%d", round, i)
			want[m] = float64(rng.IntN(100))
			ups = append(ups, ranker.Update{Board: board, Member: m, Score: want[m]})
		}
		if err := r.Set(ctx, ups...); err != nil {
			t.Fatal(err)
		}
		var gone []string
		for m := range want {
			if rng.IntN(10) > 0 {
				gone = append(gone, m)
			}
		}
		for _, m := range gone {
			delete(want, m)
		}
		// Half through Remove, half through Set, in batches.
		for len(gone) > 0 {
			n := min(len(gone), 500)
			if len(gone)%2 == 0 {
				if err := r.Remove(ctx, board, gone[:n]...); err != nil {
					t.Fatal(err)
				}
			} else {
				ups = ups[:0]
				for _, m := range gone[:n] {
					ups = append(ups, ranker.Update{Board: board, Member: m, Remove: true})
				}
				if err := r.Set(ctx, ups...); err != nil {
					t.Fatal(err)
				}
			}
			gone = gone[n:]
		}
		var ref []ranker.Entry
		for m, s := range want {
			ref = append(ref, ranker.Entry{Member: m, Score: s})
		}
		ranker.RankSubset(ref)
		got, err := r.Top(ctx, board, 0, len(want)+1)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, ref) {
			t.Fatalf("round %d: board of %d entries differs from the sort of %d", round, len(got), len(ref))
		}
		for _, e := range ref[:50] {
			if g, ok, _ := r.Rank(ctx, board, e.Member); !ok || g != e {
				t.Fatalf("round %d: rank %s = %+v, want %+v", round, e.Member, g, e)
			}
		}
		// Names are under 16 bytes: the arena holds the live ones and at
		// most as many removed ones, or 1,024.
		r.mu.RLock()
		arena := len(r.boards[board].m.arena)
		r.mu.RUnlock()
		if limit := 16 * (2*len(want) + 1025); arena > limit {
			t.Errorf("round %d: arena of %d bytes for %d members: not compacted", round, arena, len(want))
		}
	}
}

// BenchmarkRanker runs rankertest.Bench on a board of a million members,
// its activity writes on 16 boards of a million members each.
// The dedupe window is a second, not days, so that the benchmark's millions
// of event ids are swept as it goes instead of filling the memory; the
// recording and sweeping costs are still paid on every Incr.
func BenchmarkRanker(b *testing.B) {
	r := New(Options{DedupeWindow: time.Second})
	defer r.Close()
	rankertest.Bench(b, r, 1_000_000, 1_000_000, 1)
}

// BenchmarkTiedBoard writes and ranks on a board of a million members with
// 20 distinct scores, as an activity-count board has: runs of equal scores
// span many nodes, and are ordered by member id. The board is rebuilt, then
// a million writes scatter the members' names in the arena, as live writes
// do (a rebuilt board's names lie in rank order, which would keep the
// names of tied neighbours in the cache).
func BenchmarkTiedBoard(b *testing.B) {
	const n, scores = 1_000_000, 20
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	members := make([]string, n)
	entries := make([]ranker.Entry, n)
	for i := range members {
		members[i] = fmt.Sprintf("athlete-%07d", i)
		entries[i] = ranker.Entry{Member: members[i], Score: float64(rng.IntN(scores))}
	}
	r := New(Options{})
	defer r.Close()
	if err := r.Replace(ctx, "activities", entries, time.Time{}); err != nil {
		b.Fatal(err)
	}
	set := func() error {
		return r.Set(ctx, ranker.Update{Board: "activities", Member: members[rng.IntN(n)], Score: float64(rng.IntN(scores))})
	}
	for range n {
		if err := set(); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Set", func(b *testing.B) {
		for b.Loop() {
			if err := set(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
	b.Run("Rank", func(b *testing.B) {
		for b.Loop() {
			if _, ok, err := r.Rank(ctx, "activities", members[rng.IntN(n)]); err != nil || !ok {
				b.Fatalf("rank: %v, on the board %v", err, ok)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
}
