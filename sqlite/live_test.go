package sqlite

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

// BenchmarkAppendLive measures durable appends per second with several
// devices streaming at once, each to its own live activity; appends/commit
// reports how many share one fsync. A thousand devices at 1 Hz need about
// a thousand a second.
func BenchmarkAppendLive(b *testing.B) {
	// One second of a run: what a device sends at 1 Hz.
	points := []byte(`[{"t":"2026-03-01T07:00:01Z","lat":38.71234,"lng":-9.13912,"ele":41.2,"hr":142,"cad":88,"dist":1234.5}]`)
	for _, devices := range []int{1, 64, 256} {
		b.Run(fmt.Sprintf("devices=%d", devices), func(b *testing.B) {
			db := openGroupDB(b, GroupCommitOptions{})
			u := createUser(b, db, "live-bench@example.com")
			ctx := context.Background()
			ids := make([]string, devices)
			for i := range ids {
				a := &store.LiveActivity{ID: stride.NewID(t0), UserID: u.ID, Sport: "running", Visibility: stride.VisibilityPublic,
					StartedAt: t0, UpdatedAt: t0}
				if err := db.CreateLive(ctx, a); err != nil {
					b.Fatal(err)
				}
				ids[i] = a.ID
			}
			before := db.GroupCommitStats()
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for _, id := range ids {
				wg.Go(func() {
					for batch := int64(1); next.Add(1) <= int64(b.N); batch++ {
						dup, err := db.AppendLive(ctx, id, batch, points, 1, t0.Add(time.Duration(batch)*time.Second))
						if err != nil || dup {
							b.Errorf("append %d: duplicate %v, %v", batch, dup, err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			s := db.GroupCommitStats()
			if c := s.Commits - before.Commits; c > 0 {
				b.ReportMetric(float64(s.Requests-before.Requests)/float64(c), "appends/commit")
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}
