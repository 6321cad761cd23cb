package rankertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stridehq/stride/ranker"
)

// Bench runs the ranker benchmarks on a board of n members, filled once
// with Replace (a rebuild; pipelined on Redis), as sub-benchmarks:
//
//   - Incr: one Incr of one board per call, with a fresh event id (the
//     idempotency record is part of the cost);
//   - IncrActivity: one Incr of the 16 boards one activity touches
//     (4 metrics x week, month, year, all), one call; updates/s reported.
//     The 16 boards are filled with activityMembers members each before
//     any sub-benchmark runs, then written activityMembers/4 times so
//     that their members' names are scattered as live writes leave them;
//     the activity writes pick among those members, so the boards keep
//     their size whatever the benchmark time (boards that grew from empty
//     during the run would be small, and fast, at short bench times);
//   - SetActivity: the same 16 boards by one Set of absolute scores, which
//     is what the standings projector writes per activity;
//   - Set100: one Set of 100 absolute scores, one call; updates/s reported;
//   - Rank, Around (k=5, 11 entries), Top100: reads of random members;
//   - WindowAround (limit 10: the member and 5 either side), WindowTop100:
//     what a leaderboard page reads, size and the member's entry included,
//     in one call;
//   - Mix: half Incr, half Rank;
//   - ReadMix: what a leaderboard serves, mostly reads: 10% Incr, 10% Set
//     of one member, 50% Rank, 20% Around, 10% Top100;
//
// each serially and in parallel (RunParallel, with parallelism goroutines
// per GOMAXPROCS: more than one for a networked adapter, whose calls wait on
// round trips). Every sub-benchmark reports ops/s and cpu-ns/op, the
// process's CPU time per operation, which a loaded machine inflates far
// less than wall time.
func Bench(b *testing.B, r ranker.Ranker, n, activityMembers, parallelism int) {
	ctx := context.Background()
	const board = "distance:all:all:all:global"
	members := Populate(b, r, board, n)
	activityBoards := make([]string, 0, 16)
	for _, metric := range []string{"distance", "duration", "elevation", "activities"} {
		for _, period := range []string{"week:2026-W47", "month:2026-11", "year:2026", "all:all"} {
			activityBoards = append(activityBoards, metric+":all:"+period+":global")
		}
	}
	activityMembers = min(activityMembers, n)
	for _, bd := range activityBoards {
		fill(b, r, bd, members[:activityMembers])
	}
	activityUpdates := func(rng *rand.Rand, ups *[16]ranker.Update) {
		m := members[rng.IntN(activityMembers)]
		for i, bd := range activityBoards {
			ups[i] = ranker.Update{Board: bd, Member: m, Score: float64(rng.IntN(10_000))}
		}
	}
	scatter := rand.New(rand.NewPCG(7, 8))
	for range activityMembers / 4 {
		var ups [16]ranker.Update
		activityUpdates(scatter, &ups)
		if err := r.Set(ctx, ups[:]...); err != nil {
			b.Fatalf("scatter the activity boards: %v", err)
		}
	}
	var events atomic.Int64
	eventID := func() string { return "bench-" + strconv.FormatInt(events.Add(1), 10) }
	ops := map[string]func(rng *rand.Rand) (int, error){
		"Incr": func(rng *rand.Rand) (int, error) {
			_, err := r.Incr(ctx, eventID(), ranker.Update{Board: board, Member: members[rng.IntN(n)], Score: float64(rng.IntN(10_000))})
			return 1, err
		},
		"IncrActivity": func(rng *rand.Rand) (int, error) {
			var ups [16]ranker.Update
			activityUpdates(rng, &ups)
			_, err := r.Incr(ctx, eventID(), ups[:]...)
			return len(ups), err
		},
		"SetActivity": func(rng *rand.Rand) (int, error) {
			var ups [16]ranker.Update
			activityUpdates(rng, &ups)
			return len(ups), r.Set(ctx, ups[:]...)
		},
		"Set100": func(rng *rand.Rand) (int, error) {
			var ups [100]ranker.Update
			for i := range ups {
				ups[i] = ranker.Update{Board: board, Member: members[rng.IntN(n)], Score: float64(rng.IntN(1_000_000))}
			}
			return len(ups), r.Set(ctx, ups[:]...)
		},
		"Rank": func(rng *rand.Rand) (int, error) {
			_, _, err := r.Rank(ctx, board, members[rng.IntN(n)])
			return 1, err
		},
		"Around": func(rng *rand.Rand) (int, error) {
			_, err := r.Around(ctx, board, members[rng.IntN(n)], 5)
			return 1, err
		},
		"Top100": func(rng *rand.Rand) (int, error) {
			_, err := r.Top(ctx, board, 0, 100)
			return 1, err
		},
		"WindowAround": func(rng *rand.Rand) (int, error) {
			_, err := r.Window(ctx, board, members[rng.IntN(n)], 0, 10, true)
			return 1, err
		},
		"WindowTop100": func(rng *rand.Rand) (int, error) {
			_, err := r.Window(ctx, board, members[rng.IntN(n)], 0, 100, false)
			return 1, err
		},
		"Mix": func(rng *rand.Rand) (int, error) {
			m := members[rng.IntN(n)]
			if rng.IntN(2) == 0 {
				_, err := r.Incr(ctx, eventID(), ranker.Update{Board: board, Member: m, Score: float64(rng.IntN(10_000))})
				return 1, err
			}
			_, _, err := r.Rank(ctx, board, m)
			return 1, err
		},
		"ReadMix": func(rng *rand.Rand) (int, error) {
			m := members[rng.IntN(n)]
			var err error
			switch p := rng.IntN(10); {
			case p == 0:
				_, err = r.Incr(ctx, eventID(), ranker.Update{Board: board, Member: m, Score: float64(rng.IntN(10_000))})
			case p == 1:
				err = r.Set(ctx, ranker.Update{Board: board, Member: m, Score: float64(rng.IntN(1_000_000))})
			case p < 7:
				_, _, err = r.Rank(ctx, board, m)
			case p < 9:
				_, err = r.Around(ctx, board, m, 5)
			default:
				_, err = r.Top(ctx, board, 0, 100)
			}
			return 1, err
		},
	}
	for _, name := range []string{"Incr", "IncrActivity", "SetActivity", "Set100", "Rank", "Around", "Top100", "WindowAround", "WindowTop100", "Mix", "ReadMix"} {
		op := ops[name]
		b.Run(name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
			updates := 0
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				u, err := op(rng)
				if err != nil {
					b.Fatal(err)
				}
				updates += u
			}
			report(b, name, updates, processCPU()-cpu)
		})
		b.Run(name+"Parallel", func(b *testing.B) {
			var updates atomic.Int64
			var seed atomic.Uint64
			b.SetParallelism(parallelism)
			b.ReportAllocs()
			cpu := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(seed.Add(1), uint64(time.Now().UnixNano())))
				u := 0
				for pb.Next() {
					n, err := op(rng)
					if err != nil {
						b.Error(err)
						return
					}
					u += n
				}
				updates.Add(int64(u))
			})
			report(b, name, int(updates.Load()), processCPU()-cpu)
		})
	}
}

// report adds ops/s, updates/s for batched writes, and the process's CPU
// time per operation (all goroutines, the collector's included).
func report(b *testing.B, name string, updates int, cpu time.Duration) {
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/s, "ops/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	if name == "IncrActivity" || name == "SetActivity" || name == "Set100" {
		b.ReportMetric(float64(updates)/s, "updates/s")
	}
}

// fill replaces board with members, at random integer scores below 10,000:
// an activity board's sums tie often.
func fill(b testing.TB, r ranker.Ranker, board string, members []string) {
	b.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	entries := make([]ranker.Entry, len(members))
	for i, m := range members {
		entries[i] = ranker.Entry{Member: m, Score: float64(rng.IntN(10_000))}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := r.Replace(ctx, board, entries, time.Time{}); err != nil {
		b.Fatalf("fill %s with %d members: %v", board, len(members), err)
	}
}

// Populate replaces board with n members, "athlete-0000000" on, with
// integer scores below 1e6 (ties included, as on real boards), and returns
// the member ids.
func Populate(b testing.TB, r ranker.Ranker, board string, n int) []string {
	b.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	members := make([]string, n)
	entries := make([]ranker.Entry, n)
	for i := range members {
		members[i] = fmt.Sprintf("athlete-%07d", i)
		entries[i] = ranker.Entry{Member: members[i], Score: float64(rng.IntN(1_000_000))}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := r.Replace(ctx, board, entries, time.Time{}); err != nil {
		b.Fatalf("populate %s with %d members: %v", board, n, err)
	}
	return members
}
