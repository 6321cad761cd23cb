package rankertest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stridehq/stride/ranker"
)

// model is the trivial reference ranker: maps, sorted on every read.
type model struct {
	boards  map[string]map[string]float64
	applied map[string]map[[2]string]bool // event id -> (board, member)
}

func (m *model) board(b string) map[string]float64 {
	if m.boards[b] == nil {
		m.boards[b] = map[string]float64{}
	}
	return m.boards[b]
}

// testModel runs random operations on the adapter and on the model, with
// few boards, members and event ids so that collisions (ties, duplicate
// events, removal of present members) are frequent, and compares every read
// with the model's.
func testModel(t *testing.T, r ranker.Ranker) {
	const steps = 3000
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	boards := []string{"b0", "b1", "b2", "b3"}
	m := &model{boards: map[string]map[string]float64{}, applied: map[string]map[[2]string]bool{}}
	member := func() string { return fmt.Sprintf("m%02d", rng.IntN(40)) }
	// Quarter steps keep sums exact, but adapters must agree even if not:
	// both add the same float64s in the same order.
	score := func() float64 { return float64(rng.IntN(41)-10) / 4 }
	updates := func() []ranker.Update {
		ups := make([]ranker.Update, 1+rng.IntN(3))
		for i := range ups {
			ups[i] = ranker.Update{Board: boards[rng.IntN(len(boards))], Member: member(), Score: score()}
		}
		return ups
	}
	for step := range steps {
		switch op := rng.IntN(100); {
		case op < 25:
			ups := updates()
			for i := range ups {
				ups[i].Remove = rng.IntN(4) == 0
			}
			mustSet(t, r, ups...)
			for _, u := range ups {
				if u.Remove {
					delete(m.board(u.Board), u.Member)
				} else {
					m.board(u.Board)[u.Member] = u.Score
				}
			}
		case op < 60:
			event := fmt.Sprintf("ev%d", rng.IntN(200))
			ups := updates()
			want := 0
			if m.applied[event] == nil {
				m.applied[event] = map[[2]string]bool{}
			}
			for _, u := range ups {
				k := [2]string{u.Board, u.Member}
				if !m.applied[event][k] {
					m.applied[event][k] = true
					m.board(u.Board)[u.Member] += u.Score
					want++
				}
			}
			if got := mustIncr(t, r, event, ups...); got != want {
				t.Fatalf("step %d: incr %s applied %d, model %d", step, event, got, want)
			}
		case op < 68:
			b := boards[rng.IntN(len(boards))]
			ms := []string{member(), member()}
			if err := r.Remove(ctx(t), b, ms...); err != nil {
				t.Fatal(err)
			}
			for _, x := range ms {
				delete(m.board(b), x)
			}
		case op < 71:
			b := boards[rng.IntN(len(boards))]
			fresh := map[string]float64{}
			for range rng.IntN(30) {
				fresh[member()] = score()
			}
			var es []ranker.Entry
			for k, v := range fresh {
				es = append(es, ranker.Entry{Member: k, Score: v})
			}
			if err := r.Replace(ctx(t), b, es, time.Time{}); err != nil {
				t.Fatal(err)
			}
			m.boards[b] = fresh
		case op < 73:
			b := boards[rng.IntN(len(boards))]
			if err := r.Delete(ctx(t), b); err != nil {
				t.Fatal(err)
			}
			delete(m.boards, b)
		default:
			checkAgainstModel(t, r, m, boards[rng.IntN(len(boards))], member(), rng, step)
		}
	}
	for _, b := range boards {
		checkAgainstModel(t, r, m, b, member(), rng, steps)
	}
}

func checkAgainstModel(t *testing.T, r ranker.Ranker, m *model, b, member string, rng *rand.Rand, step int) {
	t.Helper()
	ref := reference(m.boards[b])
	if got := top(t, r, b, 0, 1000); !equalEntries(got, ref) {
		t.Fatalf("step %d: board %s = %+v\nmodel %+v", step, b, got, ref)
	}
	if got := size(t, r, b); got != len(ref) {
		t.Fatalf("step %d: size %d, model %d", step, got, len(ref))
	}
	off, lim := rng.IntN(45), rng.IntN(10)
	if got, want := top(t, r, b, off, lim), ref[min(off, len(ref)):min(off+lim, len(ref))]; !equalEntries(got, want) {
		t.Fatalf("step %d: top(%d,%d) = %+v, model %+v", step, off, lim, got, want)
	}
	var wantEntry ranker.Entry
	pos := -1
	for i, e := range ref {
		if e.Member == member {
			wantEntry, pos = e, i
		}
	}
	got, ok := rankOf(t, r, b, member)
	if ok != (pos >= 0) || got != wantEntry {
		t.Fatalf("step %d: rank %s = %+v %v, model %+v", step, member, got, ok, wantEntry)
	}
	k := rng.IntN(4)
	var wantAround []ranker.Entry
	if pos >= 0 {
		wantAround = ref[max(pos-k, 0):min(pos+k+1, len(ref))]
	}
	if got := around(t, r, b, member, k); !equalEntries(got, wantAround) {
		t.Fatalf("step %d: around %s k=%d = %+v, model %+v", step, member, k, got, wantAround)
	}
	off, lim = rng.IntN(45), rng.IntN(12)
	wantWin := ranker.Window{Size: len(ref), Member: wantEntry, OnBoard: pos >= 0}
	isAround := rng.IntN(2) == 0
	switch {
	case isAround && pos >= 0:
		wantWin.Entries = ref[max(pos-lim/2, 0):min(pos+lim/2+1, len(ref))]
	case !isAround:
		wantWin.Entries = ref[min(off, len(ref)):min(off+lim, len(ref))]
	}
	gotWin, err := r.Window(ctx(t), b, member, off, lim, isAround)
	if err != nil {
		t.Fatal(err)
	}
	if gotWin.Size != wantWin.Size || gotWin.Member != wantWin.Member || gotWin.OnBoard != wantWin.OnBoard || !equalEntries(gotWin.Entries, wantWin.Entries) {
		t.Fatalf("step %d: window %s [%d+%d around=%v] = %+v, model %+v", step, member, off, lim, isAround, gotWin, wantWin)
	}
	asked := []string{member, "m00", "m01", "zz"}
	var wantScores []ranker.Entry
	for _, a := range asked {
		if s, ok := m.boards[b][a]; ok {
			wantScores = append(wantScores, ranker.Entry{Member: a, Score: s})
		}
	}
	gotScores, err := r.Scores(ctx(t), b, asked)
	if err != nil {
		t.Fatal(err)
	}
	if !equalEntries(gotScores, wantScores) {
		t.Fatalf("step %d: scores = %+v, model %+v", step, gotScores, wantScores)
	}
}
