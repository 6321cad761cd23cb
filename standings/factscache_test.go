package standings

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/ranker/memrank"
)

func quietProjector(st Store) *Projector {
	return NewProjector(st, memrank.New(memrank.Options{}), &crashingBus{}, slog.New(slog.NewTextHandler(io.Discard, nil)),
		time.Now, "test")
}

// An athlete with a long history: a new activity reads that activity's
// facts alone, and a redelivery of its event reads nothing more.
func TestNewActivityReadsItsFactsAlone(t *testing.T) {
	ctx := context.Background()
	st := newMemStore()
	p := quietProjector(st)
	p.Metrics = NewMetrics(prometheus.NewRegistry())
	reads := func(source string) int {
		var m dto.Metric
		if err := p.Metrics.factReads.WithLabelValues(source).Write(&m); err != nil {
			t.Fatal(err)
		}
		return int(m.GetCounter().GetValue())
	}
	for i := range 1000 {
		st.facts["ann"] = append(st.facts["ann"], run(fmt.Sprintf("a%04d", i), "ann", time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.DateOnly), stride.VisibilityPublic, 5))
	}
	handle := func(id string) {
		t.Helper()
		if err := p.Handle(ctx, delivery(t, ingest.EventProcessed, ingest.ProcessedData{ActivityID: id, UserID: "ann"})); err != nil {
			t.Fatal(err)
		}
	}
	handle("a0999")
	if st.factsRead < 1000 {
		t.Fatalf("the first event read %d facts: it has no copy yet, it must read the history", st.factsRead)
	}
	st.facts["ann"] = append(st.facts["ann"], run("a1000", "ann", "2026-01-01", stride.VisibilityPublic, 42.2))
	before := st.factsRead
	handle("a1000")
	if n := st.factsRead - before; n != 1 {
		t.Fatalf("a new activity read %d facts, want 1", n)
	}
	handle("a1000") // redelivered
	if n := st.factsRead - before; n != 2 {
		t.Fatalf("a new activity and its redelivery read %d facts, want 2", n)
	}
	if h, a, c := reads(factsWholeRead), reads(factsAddedToCopy), reads(factsFromCopy); h != 1 || a != 1 || c != 1 {
		t.Errorf("fact reads: history %d, added %d, copy %d; want 1 each", h, a, c)
	}
	if !slices.ContainsFunc(st.achievements["ann"], func(a stride.Achievement) bool { return a.ActivityID == "a1000" }) {
		t.Errorf("the marathon earned nothing: %+v", st.achievements["ann"])
	}

	// Without a cache, every event reads the whole history.
	p.SetFactsCache(0)
	before = st.factsRead
	handle("a1000")
	if n := st.factsRead - before; n != 1001 {
		t.Fatalf("without a cache an event read %d facts, want 1001", n)
	}
}

// TestFactsCacheIsTheStore drives random changes (new activities, some
// multisport, some starting together; edits; deletions; changes whose
// events come late; redeliveries) and checks after every event that the
// facts the projector works from are exactly the store's. It fails if the
// copy is used when a change it does not know of happened, if a merge
// loses the order, or if a copy is edited in place.
func TestFactsCacheIsTheStore(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(seed, 7))
			st := newMemStore()
			p := quietProjector(st)
			p.SetFactsCache(40) // small: athletes are evicted too
			users := []string{"ann", "bob", "cy"}
			day := time.Date(2026, 1, 1, 7, 0, 0, 0, time.UTC)
			type event struct {
				user, activity string
				added          bool
			}
			var pending, delivered []event
			next := 0
			add := func(user string) {
				next++
				id := fmt.Sprintf("x%04d", rng.IntN(10000))
				for slices.ContainsFunc(st.facts[user], func(f stride.ActivityFacts) bool { return f.ActivityID == id || f.ParentID == id }) {
					id = fmt.Sprintf("x%04d", rng.IntN(10000))
				}
				start := day.Add(time.Duration(rng.IntN(30)) * 24 * time.Hour) // often the same start
				f := run(id, user, start.Format(time.DateOnly), stride.VisibilityPublic, float64(1+rng.IntN(30)))
				f.StartTime = start
				if rng.IntN(4) == 0 { // multisport: the legs count, the parent does not
					for leg := range 2 {
						l := f
						l.ActivityID, l.ParentID = fmt.Sprintf("%s-%d", id, leg+1), id
						st.facts[user] = append(st.facts[user], l)
					}
				} else {
					st.facts[user] = append(st.facts[user], f)
				}
				sortFacts(st.facts[user])
				pending = append(pending, event{user, id, true})
			}
			for range 400 {
				user := users[rng.IntN(len(users))]
				facts := st.facts[user]
				switch op := rng.IntN(10); {
				case op < 5:
					add(user)
				case op == 5 && len(facts) > 0: // an edit
					i := rng.IntN(len(facts))
					facts[i].DistanceM += 1000
					pending = append(pending, event{user, facts[i].ActivityID, false})
				case op == 6 && len(facts) > 0: // a deletion
					i := rng.IntN(len(facts))
					st.facts[user] = slices.Delete(slices.Clone(facts), i, i+1)
					pending = append(pending, event{user, facts[i].ActivityID, false})
				case op == 7 && len(delivered) > 0: // a redelivery
					pending = append(pending, delivered[rng.IntN(len(delivered))])
				}
				// Events are delivered now or later, several at once.
				for len(pending) > 0 && rng.IntN(3) > 0 {
					ev := pending[0]
					pending = pending[1:]
					got, err := p.athleteFacts(ctx, ev.user, ev.activity, ev.added)
					if err != nil {
						t.Fatal(err)
					}
					want := slices.Clone(st.facts[ev.user])
					sortFacts(want)
					if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
						t.Fatalf("after %d changes, the facts of %s for %+v:\n got %v\nwant %v", next, ev.user, ev, ids(got), ids(want))
					}
					delivered = append(delivered, ev)
				}
			}
		})
	}
}

func ids(facts []stride.ActivityFacts) []string {
	out := make([]string, len(facts))
	for i, f := range facts {
		out[i] = f.ActivityID
	}
	return out
}
