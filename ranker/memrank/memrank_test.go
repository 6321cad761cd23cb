package memrank

import (
	"context"
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

// BenchmarkRanker runs rankertest.Bench on a board of a million members.
// The dedupe window is a second, not days, so that the benchmark's millions
// of event ids are swept as it goes instead of filling the memory; the
// recording and sweeping costs are still paid on every Incr.
func BenchmarkRanker(b *testing.B) {
	r := New(Options{DedupeWindow: time.Second})
	defer r.Close()
	rankertest.Bench(b, r, 1_000_000, 1)
}
