package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/sqlite"
)

type recordingPublisher struct {
	mu     sync.Mutex
	events []bus.Event
	got    chan struct{} // receives after each Publish
}

func (p *recordingPublisher) Publish(_ context.Context, events ...bus.Event) error {
	p.mu.Lock()
	p.events = append(p.events, events...)
	p.mu.Unlock()
	select {
	case p.got <- struct{}{}:
	default:
	}
	return nil
}

func (p *recordingPublisher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.events)
}

// acceptSome stores n small uploads, each with its outbox event.
func acceptSome(t *testing.T, db *sqlite.DB, userID string, n int) *ingest.Service {
	t.Helper()
	svc := ingest.New(db, quiet, time.Now, "test")
	for i := range n {
		body := fmt.Appendf(nil, `{"sport":"running","start_time":"2026-01-0%dT08:00:00Z","elapsed_s":600}`, i+1)
		if _, err := svc.Accept(context.Background(), ingest.Upload{UserID: userID, Body: body, Format: "json"}); err != nil {
			t.Fatal(err)
		}
	}
	return svc
}

// Every batch the relay sends goes through its Pace (the API's priority
// gate in stride serve), and a batch Pace does not run stays in the outbox.
func TestRelayBatchesGoThroughPace(t *testing.T) {
	ctx := context.Background()
	db, _, u := setup(t)
	svc := acceptSome(t, db, u.ID, 3)

	t.Run("a batch Pace holds back is not published", func(t *testing.T) {
		pub := &recordingPublisher{got: make(chan struct{}, 1)}
		relay := ingest.NewRelay(db, pub, svc.Wake(), quiet)
		relay.Poll = time.Millisecond
		var held int
		relay.Pace = func(ctx context.Context, round func(context.Context) error) error {
			held++
			if held >= 5 {
				return context.Canceled
			}
			return errors.New("not your turn")
		}
		runCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		done := make(chan struct{})
		go func() { relay.Run(runCtx); close(done) }()
		time.Sleep(300 * time.Millisecond)
		cancel()
		<-done
		if held == 0 {
			t.Fatal("the relay never asked Pace for a turn")
		}
		if n := pub.count(); n != 0 {
			t.Fatalf("%d events published outside Pace", n)
		}
		if pending, err := db.PendingOutbox(ctx, 10); err != nil || len(pending) != 3 {
			t.Fatalf("outbox holds %d events (err %v), want all 3", len(pending), err)
		}
	})

	t.Run("a batch Pace runs is published and deleted", func(t *testing.T) {
		pub := &recordingPublisher{got: make(chan struct{}, 1)}
		relay := ingest.NewRelay(db, pub, svc.Wake(), quiet)
		var turns int
		relay.Pace = func(ctx context.Context, round func(context.Context) error) error {
			turns++
			return round(ctx)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { relay.Run(runCtx); close(done) }()
		select {
		case <-pub.got:
		case <-time.After(10 * time.Second):
			t.Fatal("nothing published")
		}
		cancel()
		<-done
		if turns == 0 || pub.count() != 3 {
			t.Fatalf("%d turns, %d events published; want ≥ 1 and 3", turns, pub.count())
		}
		if pending, err := db.PendingOutbox(ctx, 10); err != nil || len(pending) != 0 {
			t.Fatalf("outbox still holds %d events (err %v)", len(pending), err)
		}
	})
}
