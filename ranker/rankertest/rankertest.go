// Package rankertest is the conformance suite of the ranker port. Every
// adapter runs it against its real backend:
//
//	func TestConformance(t *testing.T) {
//		rankertest.Run(t, func(t *testing.T) ranker.Ranker { ... })
//	}
//
// The factory returns a new, empty ranker isolated from every other call
// (its own key prefix on a shared server) and registers its cleanup: Close,
// and deleting whatever it stored. Tests run in parallel. Nothing here
// sleeps or measures time: expiry is checked with deadlines already past
// and by reading deadlines back.
package rankertest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stridehq/stride/ranker"
)

// Factory returns a new, empty, isolated ranker; see the package comment.
type Factory func(t *testing.T) ranker.Ranker

// Run runs every conformance test against the adapter.
func Run(t *testing.T, newRanker Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, r ranker.Ranker)
	}{
		{"SetAndRead", testSetAndRead},
		{"Incr", testIncr},
		{"IncrIdempotent", testIncrIdempotent},
		{"IncrConcurrentDuplicates", testIncrConcurrentDuplicates},
		{"Ties", testTies},
		{"TopPagination", testTopPagination},
		{"Around", testAround},
		{"Window", testWindow},
		{"Missing", testMissing},
		{"Scores", testScores},
		{"Remove", testRemove},
		{"SetRemove", testSetRemove},
		{"SetRemoveAtomic", testSetRemoveAtomic},
		{"Replace", testReplace},
		{"Delete", testDelete},
		{"RemoveMember", testRemoveMember},
		{"Expiry", testExpiry},
		{"Invalid", testInvalid},
		{"LargeBoard", testLargeBoard},
		{"Model", testModel},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newRanker(t))
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return c
}

func mustSet(t *testing.T, r ranker.Ranker, updates ...ranker.Update) {
	t.Helper()
	if err := r.Set(ctx(t), updates...); err != nil {
		t.Fatalf("set: %v", err)
	}
}

func mustIncr(t *testing.T, r ranker.Ranker, event string, updates ...ranker.Update) int {
	t.Helper()
	n, err := r.Incr(ctx(t), event, updates...)
	if err != nil {
		t.Fatalf("incr %s: %v", event, err)
	}
	return n
}

func rankOf(t *testing.T, r ranker.Ranker, board, member string) (ranker.Entry, bool) {
	t.Helper()
	e, ok, err := r.Rank(ctx(t), board, member)
	if err != nil {
		t.Fatalf("rank %s on %s: %v", member, board, err)
	}
	return e, ok
}

func wantRank(t *testing.T, r ranker.Ranker, board, member string, rank int, score float64) {
	t.Helper()
	e, ok := rankOf(t, r, board, member)
	want := ranker.Entry{Member: member, Score: score, Rank: rank}
	if !ok || e != want {
		t.Errorf("rank %s on %s = %+v, %v; want %+v", member, board, e, ok, want)
	}
}

func size(t *testing.T, r ranker.Ranker, board string) int {
	t.Helper()
	n, err := r.Size(ctx(t), board)
	if err != nil {
		t.Fatalf("size %s: %v", board, err)
	}
	return n
}

func top(t *testing.T, r ranker.Ranker, board string, offset, limit int) []ranker.Entry {
	t.Helper()
	es, err := r.Top(ctx(t), board, offset, limit)
	if err != nil {
		t.Fatalf("top %s [%d+%d]: %v", board, offset, limit, err)
	}
	return es
}

func around(t *testing.T, r ranker.Ranker, board, member string, k int) []ranker.Entry {
	t.Helper()
	es, err := r.Around(ctx(t), board, member, k)
	if err != nil {
		t.Fatalf("around %s on %s: %v", member, board, err)
	}
	return es
}

// reference ranks a member->score map the trivial way: sort it.
func reference(m map[string]float64) []ranker.Entry {
	out := make([]ranker.Entry, 0, len(m))
	for k, v := range m {
		out = append(out, ranker.Entry{Member: k, Score: v})
	}
	ranker.RankSubset(out)
	return out
}

func equalEntries(a, b []ranker.Entry) bool {
	return slices.Equal(a, b) || (len(a) == 0 && len(b) == 0)
}

func testSetAndRead(t *testing.T, r ranker.Ranker) {
	const b = "distance:running:week:2026-W47:global"
	mustSet(t, r,
		ranker.Update{Board: b, Member: "ana", Score: 10_500},
		ranker.Update{Board: b, Member: "ben", Score: 21_100.5},
		ranker.Update{Board: b, Member: "cy", Score: 5_000},
		ranker.Update{Board: "other", Member: "ana", Score: 1},
	)
	wantRank(t, r, b, "ben", 1, 21_100.5)
	wantRank(t, r, b, "ana", 2, 10_500)
	wantRank(t, r, b, "cy", 3, 5_000)
	wantRank(t, r, "other", "ana", 1, 1)
	if n := size(t, r, b); n != 3 {
		t.Errorf("size = %d, want 3", n)
	}
	// Set is absolute: setting the same value again changes nothing, and a
	// new value replaces the old one.
	mustSet(t, r, ranker.Update{Board: b, Member: "ana", Score: 10_500})
	wantRank(t, r, b, "ana", 2, 10_500)
	mustSet(t, r, ranker.Update{Board: b, Member: "cy", Score: 30_000})
	wantRank(t, r, b, "cy", 1, 30_000)
	wantRank(t, r, b, "ana", 3, 10_500)
	// Negative and zero scores are ordinary scores.
	mustSet(t, r, ranker.Update{Board: b, Member: "dee", Score: -1}, ranker.Update{Board: b, Member: "eve", Score: 0})
	wantRank(t, r, b, "eve", 4, 0)
	wantRank(t, r, b, "dee", 5, -1)
	got := top(t, r, b, 0, 10)
	want := []ranker.Entry{ent("cy", 30_000, 1), ent("ben", 21_100.5, 2), ent("ana", 10_500, 3), ent("eve", 0, 4), ent("dee", -1, 5)}
	if !equalEntries(got, want) {
		t.Errorf("top = %+v, want %+v", got, want)
	}
	if at, err := r.ExpiresAt(ctx(t), b); err != nil || !at.IsZero() {
		t.Errorf("expires at = %v, %v; want zero (no deadline given)", at, err)
	}
}

func testIncr(t *testing.T, r ranker.Ranker) {
	const b = "activities:all:all:global"
	if n := mustIncr(t, r, "e1", ranker.Update{Board: b, Member: "ana", Score: 1}); n != 1 {
		t.Errorf("applied = %d, want 1", n)
	}
	mustIncr(t, r, "e2", ranker.Update{Board: b, Member: "ana", Score: 1})
	mustIncr(t, r, "e3", ranker.Update{Board: b, Member: "ben", Score: 2.5})
	mustIncr(t, r, "e4", ranker.Update{Board: b, Member: "ben", Score: -0.5})
	wantRank(t, r, b, "ana", 1, 2)
	wantRank(t, r, b, "ben", 2, 2) // tie: "ana" < "ben"
	// Incr on top of Set adds to the set value.
	mustSet(t, r, ranker.Update{Board: b, Member: "cy", Score: 10})
	mustIncr(t, r, "e5", ranker.Update{Board: b, Member: "cy", Score: 0.25})
	wantRank(t, r, b, "cy", 1, 10.25)
	// One activity, many boards, one call.
	var ups []ranker.Update
	for _, metric := range []string{"distance", "duration", "elevation", "activities"} {
		for _, period := range []string{"week:2026-W47", "month:2026-11", "year:2026", "all:all"} {
			ups = append(ups, ranker.Update{Board: metric + ":running:" + period + ":global", Member: "ana", Score: 42})
		}
	}
	if n := mustIncr(t, r, "e6", ups...); n != len(ups) {
		t.Errorf("applied = %d, want %d", n, len(ups))
	}
	for _, u := range ups {
		wantRank(t, r, u.Board, "ana", 1, 42)
	}
}

func testIncrIdempotent(t *testing.T, r ranker.Ranker) {
	const b, b2 = "distance:running:week:2026-W47:global", "distance:running:all:all:global"
	up := []ranker.Update{{Board: b, Member: "ana", Score: 5000}, {Board: b2, Member: "ana", Score: 5000}}
	if n := mustIncr(t, r, "activity-1", up...); n != 2 {
		t.Errorf("first: applied = %d, want 2", n)
	}
	// A redelivery (the crash came after the ranker write, before the ack).
	for range 3 {
		if n := mustIncr(t, r, "activity-1", up...); n != 0 {
			t.Errorf("redelivery: applied = %d, want 0", n)
		}
	}
	wantRank(t, r, b, "ana", 1, 5000)
	wantRank(t, r, b2, "ana", 1, 5000)
	// A redelivery that names a board the first delivery did not touch
	// applies only that one.
	up = append(up, ranker.Update{Board: "duration:running:all:all:global", Member: "ana", Score: 1800})
	if n := mustIncr(t, r, "activity-1", up...); n != 1 {
		t.Errorf("partial redelivery: applied = %d, want 1", n)
	}
	wantRank(t, r, b2, "ana", 1, 5000)
	wantRank(t, r, "duration:running:all:all:global", "ana", 1, 1800)
	// Another event counts.
	mustIncr(t, r, "activity-2", ranker.Update{Board: b, Member: "ana", Score: 1000})
	wantRank(t, r, b, "ana", 1, 6000)
	// The same event id for another member of the board is another target.
	if n := mustIncr(t, r, "activity-2", ranker.Update{Board: b, Member: "ben", Score: 1}); n != 1 {
		t.Errorf("same event, other member: applied = %d, want 1", n)
	}
}

func testIncrConcurrentDuplicates(t *testing.T, r ranker.Ranker) {
	const (
		workers = 8
		events  = 40
		board   = "distance:cycling:all:all:global"
	)
	boards := []string{board, "duration:cycling:all:all:global", "activities:cycling:all:all:global"}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied int
		errs    []error
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range events {
				// Every worker delivers every event, in a different order.
				e := (i + w*7) % events
				var ups []ranker.Update
				for _, b := range boards {
					ups = append(ups, ranker.Update{Board: b, Member: fmt.Sprintf("athlete-%d", e%5), Score: float64(e + 1)})
				}
				n, err := r.Incr(context.Background(), fmt.Sprintf("event-%d", e), ups...)
				mu.Lock()
				applied += n
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("incr: %v", errs[0])
	}
	if applied != events*len(boards) {
		t.Errorf("applied %d updates in all, want %d (each event once per board)", applied, events*len(boards))
	}
	want := map[string]float64{}
	for e := range events {
		want[fmt.Sprintf("athlete-%d", e%5)] += float64(e + 1)
	}
	for _, b := range boards {
		if got := top(t, r, b, 0, 100); !equalEntries(got, reference(want)) {
			t.Errorf("%s = %+v, want %+v", b, got, reference(want))
		}
	}
}

func testTies(t *testing.T, r ranker.Ranker) {
	const b = "activities:running:week:2026-W47:global"
	// Written in an order that is neither sorted nor reverse sorted.
	for _, m := range []string{"m", "b", "z", "a", "B", "athlete-10", "athlete-9", "athlete-1"} {
		mustSet(t, r, ranker.Update{Board: b, Member: m, Score: 3})
	}
	mustSet(t, r, ranker.Update{Board: b, Member: "top", Score: 4}, ranker.Update{Board: b, Member: "low", Score: 2})
	want := []string{"top", "B", "a", "athlete-1", "athlete-10", "athlete-9", "b", "m", "z", "low"}
	got := top(t, r, b, 0, 100)
	var names []string
	for i, e := range got {
		names = append(names, e.Member)
		if e.Rank != i+1 {
			t.Errorf("entry %d has rank %d", i, e.Rank)
		}
	}
	if !slices.Equal(names, want) {
		t.Errorf("order = %q, want %q (equal scores by member id ascending, byte-wise)", names, want)
	}
	for i, m := range want {
		if e, ok := rankOf(t, r, b, m); !ok || e.Rank != i+1 {
			t.Errorf("rank of %s = %+v, want %d", m, e, i+1)
		}
	}
	// Reaching a tied score later does not rank lower: ties are by id.
	mustIncr(t, r, "late", ranker.Update{Board: b, Member: "low", Score: 1})
	if e, _ := rankOf(t, r, b, "low"); e.Rank != 8 {
		t.Errorf("after tying at 3, low ranks %d, want 8 (between b and m)", e.Rank)
	}
}

func testTopPagination(t *testing.T, r ranker.Ranker) {
	const b = "elevation:all:year:2026:global"
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string]float64{}
	var ups []ranker.Update
	for i := range 1000 {
		m := fmt.Sprintf("athlete-%04d", i)
		s := float64(rng.IntN(200)) // many ties
		want[m] = s
		ups = append(ups, ranker.Update{Board: b, Member: m, Score: s})
	}
	mustSet(t, r, ups...)
	ref := reference(want)
	for _, limit := range []int{1, 7, 100, 1000, 5000} {
		var all []ranker.Entry
		for off := 0; ; off += limit {
			page := top(t, r, b, off, limit)
			if len(page) > limit {
				t.Fatalf("page at %d has %d entries, limit %d", off, len(page), limit)
			}
			all = append(all, page...)
			if len(page) < limit {
				break
			}
		}
		if !equalEntries(all, ref) {
			t.Errorf("pages of %d: %d entries, not the sorted board (gap, duplicate or wrong order)", limit, len(all))
		}
	}
	if got := top(t, r, b, 1000, 10); len(got) != 0 {
		t.Errorf("page past the end = %+v", got)
	}
	if got := top(t, r, b, 995, 10); !equalEntries(got, ref[995:]) {
		t.Errorf("last partial page = %+v, want %+v", got, ref[995:])
	}
	if got := top(t, r, b, 0, 0); len(got) != 0 {
		t.Errorf("limit 0 = %+v", got)
	}
}

func testAround(t *testing.T, r ranker.Ranker) {
	const b = "distance:all:month:2026-11:global"
	want := map[string]float64{}
	var ups []ranker.Update
	for i := range 20 {
		m := fmt.Sprintf("a%02d", i)
		want[m] = float64(100 - i)
		ups = append(ups, ranker.Update{Board: b, Member: m, Score: want[m]})
	}
	mustSet(t, r, ups...)
	ref := reference(want)
	cases := []struct {
		member string
		k      int
		lo, hi int // want ref[lo:hi]
	}{
		{"a00", 3, 0, 4},   // top edge
		{"a01", 3, 0, 5},   // near the top
		{"a10", 3, 7, 14},  // middle
		{"a19", 3, 16, 20}, // bottom edge
		{"a18", 5, 13, 20},
		{"a10", 0, 10, 11},
		{"a05", 50, 0, 20}, // k larger than the board
	}
	for _, c := range cases {
		got := around(t, r, b, c.member, c.k)
		if !equalEntries(got, ref[c.lo:c.hi]) {
			t.Errorf("around %s k=%d = %+v, want %+v", c.member, c.k, got, ref[c.lo:c.hi])
		}
	}
	if got := around(t, r, b, "nobody", 3); got != nil {
		t.Errorf("around a missing member = %+v, want nil", got)
	}
	if got := around(t, r, "no-board", "a00", 3); got != nil {
		t.Errorf("around on a missing board = %+v, want nil", got)
	}
}

func window(t *testing.T, r ranker.Ranker, board, member string, offset, limit int, aroundMe bool) ranker.Window {
	t.Helper()
	w, err := r.Window(ctx(t), board, member, offset, limit, aroundMe)
	if err != nil {
		t.Fatalf("window %s on %s [%d+%d around=%v]: %v", member, board, offset, limit, aroundMe, err)
	}
	return w
}

// checkWindow compares one Window with what Size, Rank and Top or Around
// return on a board that does not change in between.
func checkWindow(t *testing.T, r ranker.Ranker, board, member string, offset, limit int, aroundMe bool) {
	t.Helper()
	got := window(t, r, board, member, offset, limit, aroundMe)
	want := ranker.Window{Size: size(t, r, board)}
	if member != "" {
		want.Member, want.OnBoard = rankOf(t, r, board, member)
	}
	switch {
	case !aroundMe:
		want.Entries = top(t, r, board, offset, limit)
	case member != "":
		want.Entries = around(t, r, board, member, limit/2)
	}
	if got.Size != want.Size || got.Member != want.Member || got.OnBoard != want.OnBoard || !equalEntries(got.Entries, want.Entries) {
		t.Errorf("window %q on %s [%d+%d around=%v] = %+v\nwant (Size, Rank, Top/Around) %+v", member, board, offset, limit, aroundMe, got, want)
	}
}

func testWindow(t *testing.T, r ranker.Ranker) {
	rng := rand.New(rand.NewPCG(11, 12))
	boards := map[string]int{"small": 7, "ties": 60, "big": 500}
	for b, n := range boards {
		var ups []ranker.Update
		for i := range n {
			// Few distinct scores: runs of ties across page boundaries.
			ups = append(ups, ranker.Update{Board: b, Member: fmt.Sprintf("m%03d", i), Score: float64(rng.IntN(max(n/5, 2)))})
		}
		mustSet(t, r, ups...)
	}
	for b, n := range boards {
		ref := top(t, r, b, 0, n)
		edges := []string{ref[0].Member, ref[1].Member, ref[n-2].Member, ref[n-1].Member, "absent", ""}
		for _, m := range edges {
			for _, limit := range []int{0, 1, 2, 3, 10, 11, 100, 1000} {
				checkWindow(t, r, b, m, 0, limit, true)
				for _, off := range []int{0, 1, n - 1, n, n + 5, 10_000} {
					checkWindow(t, r, b, m, off, limit, false)
				}
			}
		}
		for range 200 {
			m := ref[rng.IntN(n)].Member
			if rng.IntN(5) == 0 {
				m = fmt.Sprintf("m%03d", n+rng.IntN(10)) // absent
			}
			checkWindow(t, r, b, m, rng.IntN(n+10), rng.IntN(30), rng.IntN(2) == 0)
		}
	}
	// The top and bottom edges, explicitly: a window of 11 around the
	// first member holds it and the 5 below; around the last, the 5 above.
	ref := top(t, r, "big", 0, 500)
	if w := window(t, r, "big", ref[0].Member, 0, 10, true); !equalEntries(w.Entries, ref[:6]) || w.Member != ref[0] || !w.OnBoard || w.Size != 500 {
		t.Errorf("window around the first = %+v", w)
	}
	if w := window(t, r, "big", ref[499].Member, 0, 10, true); !equalEntries(w.Entries, ref[494:]) || w.Member != ref[499] {
		t.Errorf("window around the last = %+v", w)
	}
	// Around ignores the offset.
	if w := window(t, r, "big", ref[250].Member, 400, 4, true); !equalEntries(w.Entries, ref[248:253]) {
		t.Errorf("window around with an offset = %+v, want %+v", w.Entries, ref[248:253])
	}
	if w := window(t, r, "big", "absent", 0, 10, true); w.OnBoard || w.Member != (ranker.Entry{}) || len(w.Entries) != 0 || w.Size != 500 {
		t.Errorf("window around an absent member = %+v", w)
	}
	if w := window(t, r, "big", "", 490, 20, false); !equalEntries(w.Entries, ref[490:]) || w.OnBoard {
		t.Errorf("window without a member = %+v", w)
	}
	for _, aroundMe := range []bool{false, true} {
		if w := window(t, r, "missing", ref[0].Member, 0, 10, aroundMe); w.Size != 0 || w.OnBoard || len(w.Entries) != 0 {
			t.Errorf("window on a missing board = %+v", w)
		}
	}
	// A board emptied by removals is missing too.
	mustSet(t, r, ranker.Update{Board: "gone", Member: "x", Score: 1}, ranker.Update{Board: "gone", Member: "x", Remove: true})
	if w := window(t, r, "gone", "x", 0, 10, false); w.Size != 0 || w.OnBoard || len(w.Entries) != 0 {
		t.Errorf("window on an emptied board = %+v", w)
	}
}

func testMissing(t *testing.T, r ranker.Ranker) {
	mustSet(t, r, ranker.Update{Board: "b", Member: "ana", Score: 1})
	if e, ok := rankOf(t, r, "b", "ben"); ok || e != (ranker.Entry{}) {
		t.Errorf("rank of a missing member = %+v, %v", e, ok)
	}
	if e, ok := rankOf(t, r, "nope", "ana"); ok || e != (ranker.Entry{}) {
		t.Errorf("rank on a missing board = %+v, %v", e, ok)
	}
	if n := size(t, r, "nope"); n != 0 {
		t.Errorf("size of a missing board = %d", n)
	}
	if got := top(t, r, "nope", 0, 10); len(got) != 0 {
		t.Errorf("top of a missing board = %+v", got)
	}
	if got, err := r.Scores(ctx(t), "nope", []string{"ana"}); err != nil || len(got) != 0 {
		t.Errorf("scores on a missing board = %+v, %v", got, err)
	}
	if at, err := r.ExpiresAt(ctx(t), "nope"); err != nil || !at.IsZero() {
		t.Errorf("expires at of a missing board = %v, %v", at, err)
	}
}

func testScores(t *testing.T, r ranker.Ranker) {
	const b = "duration:running:week:2026-W47:global"
	var ups []ranker.Update
	for i := range 50 {
		ups = append(ups, ranker.Update{Board: b, Member: fmt.Sprintf("u%02d", i), Score: float64(i % 7)})
	}
	mustSet(t, r, ups...)
	following := []string{"u10", "nobody", "u03", "u49", "u17", "ghost"}
	got, err := r.Scores(ctx(t), b, following)
	if err != nil {
		t.Fatal(err)
	}
	want := []ranker.Entry{ent("u10", 3, 0), ent("u03", 3, 0), ent("u49", 0, 0), ent("u17", 3, 0)}
	if !equalEntries(got, want) {
		t.Errorf("scores = %+v, want %+v (present members, in the order asked, rank 0)", got, want)
	}
	ranker.RankSubset(got)
	want = []ranker.Entry{ent("u03", 3, 1), ent("u10", 3, 2), ent("u17", 3, 3), ent("u49", 0, 4)}
	if !equalEntries(got, want) {
		t.Errorf("ranked subset = %+v, want %+v", got, want)
	}
	if got, err := r.Scores(ctx(t), b, nil); err != nil || len(got) != 0 {
		t.Errorf("scores of no members = %+v, %v", got, err)
	}
}

func testRemove(t *testing.T, r ranker.Ranker) {
	const b = "distance:running:week:2026-W47:global"
	mustSet(t, r,
		ranker.Update{Board: b, Member: "ana", Score: 3},
		ranker.Update{Board: b, Member: "ben", Score: 2},
		ranker.Update{Board: b, Member: "cy", Score: 1},
	)
	if err := r.Remove(ctx(t), b, "ana", "nobody"); err != nil {
		t.Fatal(err)
	}
	if _, ok := rankOf(t, r, b, "ana"); ok {
		t.Error("removed member still ranked")
	}
	wantRank(t, r, b, "ben", 1, 2)
	wantRank(t, r, b, "cy", 2, 1)
	if n := size(t, r, b); n != 2 {
		t.Errorf("size = %d, want 2", n)
	}
	// A removed member comes back from zero.
	mustIncr(t, r, "e1", ranker.Update{Board: b, Member: "ana", Score: 0.5})
	wantRank(t, r, b, "ana", 3, 0.5)
	if err := r.Remove(ctx(t), b, "ana", "ben", "cy"); err != nil {
		t.Fatal(err)
	}
	if n := size(t, r, b); n != 0 {
		t.Errorf("size after removing all = %d", n)
	}
	if err := r.Remove(ctx(t), "nope", "ana"); err != nil {
		t.Errorf("remove on a missing board: %v", err)
	}
}

func testSetRemove(t *testing.T, r ranker.Ranker) {
	const week, month = "distance:running:week:2026-W47:global", "distance:running:month:2026-11:global"
	weekEnd := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	mustSet(t, r,
		ranker.Update{Board: week, Member: "ana", Score: 3, ExpireAt: weekEnd},
		ranker.Update{Board: week, Member: "ben", Score: 2},
		ranker.Update{Board: month, Member: "ana", Score: 30},
		ranker.Update{Board: month, Member: "ben", Score: 20},
	)
	// One call mixes removals and scores, on several boards; a removal of
	// a member or board that does not exist is fine, and its Score, even
	// one that is not a number, is ignored.
	nan := func() float64 { z := 0.0; return z / z }()
	mustSet(t, r,
		ranker.Update{Board: week, Member: "ana", Remove: true, Score: 99},
		ranker.Update{Board: week, Member: "cy", Score: 5},
		ranker.Update{Board: week, Member: "nobody", Remove: true},
		ranker.Update{Board: month, Member: "ana", Score: 31},
		ranker.Update{Board: month, Member: "ben", Remove: true, Score: nan},
		ranker.Update{Board: "never-written", Member: "ana", Remove: true},
	)
	if got, want := top(t, r, week, 0, 10), []ranker.Entry{ent("cy", 5, 1), ent("ben", 2, 2)}; !equalEntries(got, want) {
		t.Errorf("week = %+v, want %+v", got, want)
	}
	if got, want := top(t, r, month, 0, 10), []ranker.Entry{ent("ana", 31, 1)}; !equalEntries(got, want) {
		t.Errorf("month = %+v, want %+v", got, want)
	}
	if n := size(t, r, "never-written"); n != 0 {
		t.Errorf("a removal created a board of %d members", n)
	}
	if at, err := r.ExpiresAt(ctx(t), week); err != nil || !at.Equal(weekEnd) {
		t.Errorf("week expires at = %v, %v; want %v (kept)", at, err, weekEnd)
	}
	// Removing the last members deletes the board, deadline included...
	mustSet(t, r,
		ranker.Update{Board: week, Member: "ben", Remove: true},
		ranker.Update{Board: week, Member: "cy", Remove: true, ExpireAt: weekEnd.Add(time.Hour)},
	)
	if n := size(t, r, week); n != 0 {
		t.Errorf("size after removing every member = %d", n)
	}
	if _, ok := rankOf(t, r, week, "cy"); ok {
		t.Error("removed member still ranked")
	}
	if at, err := r.ExpiresAt(ctx(t), week); err != nil || !at.IsZero() {
		t.Errorf("expires at of the emptied board = %v, %v; want none", at, err)
	}
	// ...even within a call: a later update starts a new board.
	mustSet(t, r,
		ranker.Update{Board: month, Member: "ana", Remove: true},
		ranker.Update{Board: month, Member: "dee", Score: 1},
	)
	if got, want := top(t, r, month, 0, 10), []ranker.Entry{ent("dee", 1, 1)}; !equalEntries(got, want) {
		t.Errorf("month = %+v, want %+v", got, want)
	}
	// A removed member comes back as a new one.
	mustSet(t, r, ranker.Update{Board: week, Member: "cy", Score: 7})
	wantRank(t, r, week, "cy", 1, 7)
}

// testSetRemoveAtomic moves one member's place between two members with
// calls that remove one and score the other: a reader must never see the
// board with both or neither.
func testSetRemoveAtomic(t *testing.T, r ranker.Ranker) {
	const b = "activities:all:all:all:global"
	mustSet(t, r, ranker.Update{Board: b, Member: "a", Score: 1})
	done := make(chan struct{})
	var writeErr error
	go func() {
		defer close(done)
		for i := range 200 {
			from, to := "a", "b"
			if i%2 == 1 {
				from, to = to, from
			}
			err := r.Set(context.Background(),
				ranker.Update{Board: b, Member: from, Remove: true},
				ranker.Update{Board: b, Member: to, Score: float64(i)},
			)
			if err != nil {
				writeErr = err
				return
			}
		}
	}()
	for reads := 0; ; reads++ {
		select {
		case <-done:
			if writeErr != nil {
				t.Fatal(writeErr)
			}
			t.Logf("%d reads", reads)
			return
		default:
		}
		if n := size(t, r, b); n != 1 {
			t.Fatalf("a reader saw %d members mid-call, want 1", n)
		}
	}
}

func testReplace(t *testing.T, r ranker.Ranker) {
	const b = "distance:running:year:2026:global"
	mustSet(t, r,
		ranker.Update{Board: b, Member: "old-1", Score: 100},
		ranker.Update{Board: b, Member: "ana", Score: 1},
		ranker.Update{Board: "untouched", Member: "x", Score: 1},
	)
	var entries []ranker.Entry
	want := map[string]float64{}
	for i := range 500 {
		m := fmt.Sprintf("athlete-%03d", i)
		want[m] = float64((i * 37) % 101)
		entries = append(entries, ranker.Entry{Member: m, Score: want[m], Rank: 999}) // Rank is ignored
	}
	want["ana"] = 7
	entries = append(entries, ranker.Entry{Member: "ana", Score: 7})
	deadline := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Millisecond)
	if err := r.Replace(ctx(t), b, entries, deadline); err != nil {
		t.Fatal(err)
	}
	if got := top(t, r, b, 0, 1000); !equalEntries(got, reference(want)) {
		t.Errorf("replaced board differs from its entries (%d entries)", len(got))
	}
	if _, ok := rankOf(t, r, b, "old-1"); ok {
		t.Error("a member of the old board survived Replace")
	}
	if at, err := r.ExpiresAt(ctx(t), b); err != nil || !at.Equal(deadline) {
		t.Errorf("expires at = %v, %v; want %v", at, err, deadline)
	}
	// Replacing again without a deadline clears it.
	if err := r.Replace(ctx(t), b, entries[:10], time.Time{}); err != nil {
		t.Fatal(err)
	}
	if n := size(t, r, b); n != 10 {
		t.Errorf("size = %d, want 10", n)
	}
	if at, err := r.ExpiresAt(ctx(t), b); err != nil || !at.IsZero() {
		t.Errorf("expires at = %v, %v; want none", at, err)
	}
	// Empty entries delete the board.
	if err := r.Replace(ctx(t), b, nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if n := size(t, r, b); n != 0 {
		t.Errorf("size after empty replace = %d", n)
	}
	wantRank(t, r, "untouched", "x", 1, 1)
	// Replace onto a board that never existed.
	if err := r.Replace(ctx(t), "fresh", entries[:3], time.Time{}); err != nil {
		t.Fatal(err)
	}
	if n := size(t, r, "fresh"); n != 3 {
		t.Errorf("fresh size = %d", n)
	}
}

func testDelete(t *testing.T, r ranker.Ranker) {
	mustSet(t, r,
		ranker.Update{Board: "a", Member: "x", Score: 1},
		ranker.Update{Board: "b", Member: "x", Score: 1},
		ranker.Update{Board: "c", Member: "x", Score: 1},
	)
	if err := r.Delete(ctx(t), "a", "b", "missing"); err != nil {
		t.Fatal(err)
	}
	if size(t, r, "a") != 0 || size(t, r, "b") != 0 || size(t, r, "c") != 1 {
		t.Errorf("sizes after delete: a=%d b=%d c=%d", size(t, r, "a"), size(t, r, "b"), size(t, r, "c"))
	}
	// A board written again after Delete starts empty.
	mustSet(t, r, ranker.Update{Board: "a", Member: "y", Score: 2})
	if got := top(t, r, "a", 0, 10); !equalEntries(got, []ranker.Entry{ent("y", 2, 1)}) {
		t.Errorf("rewritten board = %+v", got)
	}
}

func testRemoveMember(t *testing.T, r ranker.Ranker) {
	const week, month, year, alone = "distance:running:week:2026-W47:global", "distance:running:month:2026-11:global",
		"distance:running:year:2026:global", "distance:running:week:2026-W47:tier:public"
	weekEnd := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	mustSet(t, r,
		ranker.Update{Board: week, Member: "ana", Score: 3, ExpireAt: weekEnd},
		ranker.Update{Board: week, Member: "ben", Score: 2},
		ranker.Update{Board: week, Member: "cy", Score: 1},
		ranker.Update{Board: month, Member: "ben", Score: 20},
		ranker.Update{Board: month, Member: "ana", Score: 30},
		ranker.Update{Board: year, Member: "cy", Score: 100},
		ranker.Update{Board: alone, Member: "ana", Score: 3},
	)
	if err := r.RemoveMember(ctx(t), "ana"); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{week, month, year, alone} {
		if _, ok := rankOf(t, r, b, "ana"); ok {
			t.Errorf("removed member still ranked on %s", b)
		}
	}
	// The others move up, with their scores, and the week keeps its
	// deadline.
	if got, want := top(t, r, week, 0, 10), []ranker.Entry{ent("ben", 2, 1), ent("cy", 1, 2)}; !equalEntries(got, want) {
		t.Errorf("week = %+v, want %+v", got, want)
	}
	if got, want := top(t, r, month, 0, 10), []ranker.Entry{ent("ben", 20, 1)}; !equalEntries(got, want) {
		t.Errorf("month = %+v, want %+v", got, want)
	}
	if got, want := top(t, r, year, 0, 10), []ranker.Entry{ent("cy", 100, 1)}; !equalEntries(got, want) {
		t.Errorf("year = %+v, want %+v (a board without the member)", got, want)
	}
	if at, err := r.ExpiresAt(ctx(t), week); err != nil || !at.Equal(weekEnd) {
		t.Errorf("week expires at = %v, %v; want %v (kept)", at, err, weekEnd)
	}
	// A board the member was alone on is gone, as after Remove.
	if n := size(t, r, alone); n != 0 {
		t.Errorf("size of the board the member was alone on = %d", n)
	}
	// Again, and for a member on no board: nothing changes, no error.
	for _, m := range []string{"ana", "nobody"} {
		if err := r.RemoveMember(ctx(t), m); err != nil {
			t.Errorf("remove member %s: %v", m, err)
		}
	}
	if got, want := top(t, r, week, 0, 10), []ranker.Entry{ent("ben", 2, 1), ent("cy", 1, 2)}; !equalEntries(got, want) {
		t.Errorf("week after a second pass = %+v, want %+v", got, want)
	}
	if size(t, r, month) != 1 || size(t, r, year) != 1 {
		t.Errorf("sizes after a second pass: month=%d year=%d, want 1 and 1", size(t, r, month), size(t, r, year))
	}
	// A removed member comes back as a new one.
	mustSet(t, r, ranker.Update{Board: alone, Member: "ana", Score: 1})
	wantRank(t, r, alone, "ana", 1, 1)
}

func testExpiry(t *testing.T, r ranker.Ranker) {
	const b = "distance:running:week:2026-W47:global"
	weekEnd := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	mustSet(t, r, ranker.Update{Board: b, Member: "ana", Score: 1, ExpireAt: weekEnd})
	if at, err := r.ExpiresAt(ctx(t), b); err != nil || !at.Equal(weekEnd) {
		t.Errorf("expires at = %v, %v; want %v", at, err, weekEnd)
	}
	// Writes without a deadline keep the board's.
	mustSet(t, r, ranker.Update{Board: b, Member: "ben", Score: 2})
	mustIncr(t, r, "e1", ranker.Update{Board: b, Member: "ana", Score: 5})
	if at, err := r.ExpiresAt(ctx(t), b); err != nil || !at.Equal(weekEnd) {
		t.Errorf("after writes without a deadline: expires at = %v, %v; want %v", at, err, weekEnd)
	}
	// A later deadline moves it (the projection can extend retention).
	later := weekEnd.Add(7 * 24 * time.Hour)
	mustIncr(t, r, "e2", ranker.Update{Board: b, Member: "ana", Score: 1, ExpireAt: later})
	if at, err := r.ExpiresAt(ctx(t), b); err != nil || !at.Equal(later) {
		t.Errorf("expires at = %v, %v; want %v", at, err, later)
	}
	wantRank(t, r, b, "ana", 1, 7)
	// A deadline in the past expires the board now: everything is gone.
	past := time.Now().Add(-time.Minute)
	mustSet(t, r, ranker.Update{Board: b, Member: "cy", Score: 1, ExpireAt: past})
	if n := size(t, r, b); n != 0 {
		t.Errorf("size of an expired board = %d", n)
	}
	if _, ok := rankOf(t, r, b, "ana"); ok {
		t.Error("member of an expired board still ranked")
	}
	if got := top(t, r, b, 0, 10); len(got) != 0 {
		t.Errorf("top of an expired board = %+v", got)
	}
	if at, err := r.ExpiresAt(ctx(t), b); err != nil || !at.IsZero() {
		t.Errorf("expires at of an expired board = %v, %v", at, err)
	}
	// A late event for an expired period leaves nothing behind.
	if n := mustIncr(t, r, "late", ranker.Update{Board: "old-week", Member: "ana", Score: 1, ExpireAt: past}); n != 1 {
		t.Errorf("late event: applied = %d, want 1 (applied, then expired)", n)
	}
	if n := size(t, r, "old-week"); n != 0 {
		t.Errorf("old-week size = %d", n)
	}
	// Other boards are untouched by one's expiry.
	mustSet(t, r, ranker.Update{Board: "keep", Member: "x", Score: 1, ExpireAt: weekEnd})
	wantRank(t, r, "keep", "x", 1, 1)
}

func testInvalid(t *testing.T, r ranker.Ranker) {
	c := ctx(t)
	nan := func() float64 { z := 0.0; return z / z }()
	inf := func() float64 { z := 0.0; return 1 / z }()
	checks := map[string]error{
		"set empty board":      r.Set(c, ranker.Update{Member: "a", Score: 1}),
		"set empty member":     r.Set(c, ranker.Update{Board: "b", Score: 1}),
		"set NaN":              r.Set(c, ranker.Update{Board: "b", Member: "a", Score: nan}),
		"set Inf":              r.Set(c, ranker.Update{Board: "b", Member: "a", Score: inf}),
		"replace duplicate":    r.Replace(c, "b", []ranker.Entry{{Member: "a"}, {Member: "a"}}, time.Time{}),
		"replace empty member": r.Replace(c, "b", []ranker.Entry{{Score: 1}}, time.Time{}),
		"replace empty board":  r.Replace(c, "", []ranker.Entry{{Member: "a"}}, time.Time{}),
		"remove empty board":   r.Remove(c, "", "a"),
		"remove member empty":  r.RemoveMember(c, ""),
	}
	_, checks["incr empty event"] = r.Incr(c, "", ranker.Update{Board: "b", Member: "a", Score: 1})
	_, checks["incr NaN"] = r.Incr(c, "e", ranker.Update{Board: "b", Member: "a", Score: nan})
	_, checks["incr remove"] = r.Incr(c, "e", ranker.Update{Board: "b", Member: "a", Score: 1}, ranker.Update{Board: "b", Member: "a", Remove: true})
	checks["set remove empty member"] = r.Set(c, ranker.Update{Board: "b", Remove: true})
	_, checks["top negative offset"] = r.Top(c, "b", -1, 10)
	_, checks["top negative limit"] = r.Top(c, "b", 0, -1)
	_, checks["around negative k"] = r.Around(c, "b", "a", -1)
	_, _, checks["rank empty board"] = r.Rank(c, "", "a")
	_, checks["window empty board"] = r.Window(c, "", "a", 0, 10, false)
	_, checks["window negative offset"] = r.Window(c, "b", "a", -1, 10, false)
	_, checks["window negative limit"] = r.Window(c, "b", "a", 0, -1, true)
	for name, err := range checks {
		if !errors.Is(err, ranker.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	// A batch with one bad update writes nothing.
	err := r.Set(c, ranker.Update{Board: "b", Member: "a", Score: 1}, ranker.Update{Board: "b", Score: 1})
	if !errors.Is(err, ranker.ErrInvalid) {
		t.Errorf("bad batch: err = %v", err)
	}
	if n := size(t, r, "b"); n != 0 {
		t.Errorf("a rejected batch wrote %d members", n)
	}
	// A cancelled context is an error, not a silent no-op.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Set(cancelled, ranker.Update{Board: "b", Member: "a", Score: 1}); err == nil {
		t.Error("set with a cancelled context succeeded")
	}
}

func testLargeBoard(t *testing.T, r ranker.Ranker) {
	const (
		b = "distance:all:all:all:global"
		n = 100_000
	)
	rng := rand.New(rand.NewPCG(3, 4))
	want := make(map[string]float64, n)
	ups := make([]ranker.Update, 0, 10_000)
	for i := range n {
		m := fmt.Sprintf("athlete-%06d", rng.IntN(10*n))
		for want[m] != 0 {
			m += "x"
		}
		want[m] = float64(rng.IntN(50_000)) + 1 // ties, and never 0 (used as "absent" above)
		ups = append(ups, ranker.Update{Board: b, Member: m, Score: want[m]})
		if len(ups) == cap(ups) || i == n-1 {
			mustSet(t, r, ups...)
			ups = ups[:0]
		}
	}
	// Some increments on top, so the structure has seen moves, not only inserts.
	for i, m := range slices.Sorted(maps.Keys(want))[:2000] {
		d := float64(rng.IntN(1000))
		want[m] += d
		mustIncr(t, r, fmt.Sprintf("large-%d", i), ranker.Update{Board: b, Member: m, Score: d})
	}
	ref := reference(want)
	if got := size(t, r, b); got != n {
		t.Fatalf("size = %d, want %d", got, n)
	}
	for range 300 {
		e := ref[rng.IntN(n)]
		if got, ok := rankOf(t, r, b, e.Member); !ok || got != e {
			t.Fatalf("rank of %s = %+v, want %+v (a sort of the board)", e.Member, got, e)
		}
	}
	var all []ranker.Entry
	for off := 0; off < n; off += 10_000 {
		all = append(all, top(t, r, b, off, 10_000)...)
	}
	if !equalEntries(all, ref) {
		t.Fatalf("the whole board read in pages differs from a sort of it")
	}
	for _, i := range []int{0, 1, n / 2, n - 2, n - 1} {
		got := around(t, r, b, ref[i].Member, 10)
		if w := ref[max(i-10, 0):min(i+11, n)]; !equalEntries(got, w) {
			t.Errorf("around rank %d = %d entries, want %d", i+1, len(got), len(w))
		}
	}
}

func testClosed(t *testing.T, r ranker.Ranker) {
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	c := ctx(t)
	err := r.Set(c, ranker.Update{Board: "b", Member: "a", Score: 1})
	if !errors.Is(err, ranker.ErrClosed) {
		t.Errorf("set after close: %v", err)
	}
	if _, _, err := r.Rank(c, "b", "a"); !errors.Is(err, ranker.ErrClosed) {
		t.Errorf("rank after close: %v", err)
	}
	if _, err := r.Window(c, "b", "a", 0, 10, true); !errors.Is(err, ranker.ErrClosed) {
		t.Errorf("window after close: %v", err)
	}
}

func ent(member string, score float64, rank int) ranker.Entry {
	return ranker.Entry{Member: member, Score: score, Rank: rank}
}
