package standings

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/sqlite"
	"github.com/stridehq/stride/sqlite/sqlitetest"
	"github.com/stridehq/stride/store"
)

// BenchmarkProjectorNewActivity is the projector's work for one new
// activity of an athlete with a long history, on the embedded store:
// without the facts cache it reads the whole history, with it the new
// activity alone. Adding the activity to the store is not timed.
func BenchmarkProjectorNewActivity(b *testing.B) {
	ctx := context.Background()
	for _, history := range []int{100, 1000, 3000} {
		db := sqlitetest.Open(b)
		u := &stride.User{ID: stride.NewID(time.Now()), Email: fmt.Sprintf("h%d@example.com", history), Name: "Long history",
			Role: stride.RoleAthlete, Status: stride.StatusActive, Units: "metric", DefaultVisibility: stride.VisibilityPublic,
			CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := db.CreateUser(ctx, u, "hash", nil); err != nil {
			b.Fatal(err)
		}
		day := time.Date(2015, 1, 1, 7, 0, 0, 0, time.UTC)
		add := func() string {
			day = day.Add(24 * time.Hour)
			return addBenchActivity(b, db, u.ID, day)
		}
		for range history {
			add()
		}
		for _, cache := range []int{0, DefaultFactsCache} {
			b.Run(fmt.Sprintf("history=%d/cache=%d", history, cache), func(b *testing.B) {
				p := quietProjector(db)
				p.SetFactsCache(cache)
				if err := p.Apply(ctx, u.ID, add(), nil); err != nil { // the copy of a real run's earlier events
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					b.StopTimer()
					id := add()
					b.StartTimer()
					if err := p.Handle(ctx, delivery(b, ingest.EventProcessed, ingest.ProcessedData{ActivityID: id, UserID: u.ID})); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// addBenchActivity stores a 10 km run with best efforts, as the worker
// would, and returns its id.
func addBenchActivity(b *testing.B, db *sqlite.DB, userID string, start time.Time) string {
	ctx := context.Background()
	body := start.Format(time.RFC3339)
	up := &stride.Upload{ID: stride.NewID(time.Now()), UserID: userID, Status: stride.UploadQueued, Format: "json",
		ContentType: "application/json", ContentHash: []byte(body), SizeBytes: int64(len(body)), Body: []byte(body),
		CreatedAt: start, UpdatedAt: start}
	ev := store.OutboxEvent{ID: stride.NewID(time.Now()), Type: ingest.EventUploaded, Key: userID, Payload: []byte(`{}`), CreatedAt: start}
	if _, err := db.AcceptUpload(ctx, up, ev, nil); err != nil {
		b.Fatal(err)
	}
	a := &stride.Activity{ID: stride.NewID(start), UserID: userID, UploadID: up.ID, Sport: "running", Visibility: stride.VisibilityPublic,
		StartTime: start, EndTime: start.Add(time.Hour), LocalStart: start.Format("2006-01-02T15:04:05") + "+01:00",
		ElapsedS: 3600, TimerS: 3500, MovingS: 3400, DistanceM: 10000 + float64(start.YearDay()), AscentM: 80,
		ContentHash: []byte(body), Efforts: map[string]float64{"best_1k": 290, "best_5k": 1500 + float64(start.YearDay()), "best_10k": 3100},
		CreatedAt: start, UpdatedAt: start}
	done := store.OutboxEvent{ID: stride.NewID(time.Now()), Type: ingest.EventProcessed, Key: userID, Payload: []byte(`{}`), CreatedAt: start}
	if _, _, err := db.CompleteUpload(ctx, up.ID, store.Completion{Activity: a, Event: done}, start); err != nil {
		b.Fatal(err)
	}
	return a.ID
}
