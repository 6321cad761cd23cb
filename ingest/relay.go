package ingest

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/store"
)

// Relay publishes committed outbox events to the bus and deletes them once
// the bus has them. After a crash it simply resends what is still there;
// consumers dedupe by event id.
type Relay struct {
	store store.Ingest
	pub   Publisher
	log   *slog.Logger
	wake  <-chan struct{}
	// Batch is the most events published at once; Poll the longest wait
	// between two looks at the outbox when nothing wakes the relay.
	Batch int
	Poll  time.Duration
	// Metrics, when set, counts relayed events and failures.
	Metrics *Metrics
	// Pace, when set, runs each batch (priority.Gate.Run): during a burst
	// of requests the events are already durable in the outbox, so
	// publishing them can wait its turn behind the requests that create
	// them.
	Pace func(ctx context.Context, round func(context.Context) error) error
}

// NewRelay returns a relay woken by wake (Service.Wake).
func NewRelay(s store.Ingest, pub Publisher, wake <-chan struct{}, log *slog.Logger) *Relay {
	return &Relay{store: s, pub: pub, log: log, wake: wake, Batch: 500, Poll: time.Second}
}

// Run relays until ctx ends.
func (r *Relay) Run(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		n, err := r.round(ctx)
		switch {
		case err != nil:
			failures++
			wait := min(time.Duration(1<<min(failures, 6))*100*time.Millisecond, 5*time.Second)
			if ctx.Err() == nil {
				r.log.Warn("outbox relay: publish failed; will retry", "err", err, "retry_in", wait.String())
			}
			sleep(ctx, wait)
		case n == r.Batch:
			failures = 0 // more may be waiting: go again at once
		default:
			failures = 0
			select {
			case <-ctx.Done():
			case <-r.wake:
			case <-time.After(r.Poll):
			}
		}
	}
}

func (r *Relay) round(ctx context.Context) (int, error) {
	if r.Pace == nil {
		return r.RelayOnce(ctx)
	}
	var n int
	err := r.Pace(ctx, func(ctx context.Context) (err error) {
		n, err = r.RelayOnce(ctx)
		return err
	})
	return n, err
}

// RelayOnce publishes one batch and returns how many events went out.
func (r *Relay) RelayOnce(ctx context.Context) (int, error) {
	pending, err := r.store.PendingOutbox(ctx, r.Batch)
	if err != nil || len(pending) == 0 {
		if err == nil {
			r.Metrics.relay(0, nil, 0)
		}
		return 0, err
	}
	oldest := time.Since(pending[0].CreatedAt)
	events := make([]bus.Event, 0, len(pending))
	seqs := make([]int64, 0, len(pending))
	for _, p := range pending {
		var ev bus.Event
		if err := json.Unmarshal(p.Payload, &ev); err != nil {
			// A payload that cannot be decoded can never be published;
			// drop it loudly rather than block every event behind it.
			r.log.Error("outbox relay: dropping undecodable event", "event_id", p.ID, "err", err)
			seqs = append(seqs, p.Seq)
			continue
		}
		events = append(events, ev)
		seqs = append(seqs, p.Seq)
	}
	if err := r.pub.Publish(ctx, events...); err != nil {
		r.Metrics.relay(0, err, 0)
		return 0, err
	}
	r.Metrics.relay(len(events), nil, oldest)
	if err := r.store.DeleteOutbox(context.WithoutCancel(ctx), seqs); err != nil {
		return 0, err
	}
	return len(pending), nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
