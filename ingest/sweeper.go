package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/blob"
	"github.com/stridehq/stride/bus"
)

// Sweeper re-publishes uploads that stayed unfinished too long. The upload
// row is the truth: if a broker acknowledged a message and then lost it, or
// a worker died with it, the upload is still processed. Workers dedupe the
// second copy through the upload's status.
type Sweeper struct {
	store  Store
	pub    Publisher
	log    *slog.Logger
	now    func() time.Time
	source string
	// After is how long an upload may stay queued or processing before it
	// is re-published; Every is how often the sweeper looks.
	After time.Duration
	Every time.Duration
	// Metrics, when set, counts re-published uploads.
	Metrics *Metrics
	// Blobs, when set, is swept of bodies no upload refers to any more
	// (their transaction failed, or the account was deleted) once they are
	// older than OrphanAfter.
	Blobs       blob.Store
	OrphanAfter time.Duration
}

// NewSweeper returns a sweeper with a two-minute deadline.
func NewSweeper(s Store, pub Publisher, log *slog.Logger, now func() time.Time, source string) *Sweeper {
	return &Sweeper{store: s, pub: pub, log: log, now: now, source: source, After: 2 * time.Minute, Every: 30 * time.Second}
}

// Run sweeps until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		if n, err := s.SweepOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("upload sweeper", "err", err)
		} else if n > 0 {
			s.log.Warn("re-published stale uploads", "count", n)
		}
		if n, err := s.SweepBlobs(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("blob sweeper", "err", err)
		} else if n > 0 {
			s.log.Info("removed orphan upload bodies", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepOnce re-publishes the stale uploads it finds and returns how many.
func (s *Sweeper) SweepOnce(ctx context.Context) (int, error) {
	now := s.now().UTC()
	stale, err := s.store.StaleUploads(ctx, now.Add(-s.After), 500)
	if err != nil || len(stale) == 0 {
		return 0, err
	}
	events := make([]bus.Event, 0, len(stale))
	for _, up := range stale {
		data, err := json.Marshal(UploadedData{UploadID: up.ID, UserID: up.UserID})
		if err != nil {
			return 0, err
		}
		// A new event id: the broker's own duplicate filter must not drop
		// the re-publish of a message it believes it delivered.
		events = append(events, bus.Event{ID: stride.NewID(now), Type: EventUploaded, Source: s.source, Subject: up.ID,
			Time: now, Key: up.UserID, SchemaVersion: 1, Data: data}.Normalize())
	}
	if err := s.pub.Publish(ctx, events...); err != nil {
		return 0, fmt.Errorf("re-publish stale uploads: %w", err)
	}
	for _, up := range stale {
		if err := s.store.TouchUpload(ctx, up.ID, now); err != nil {
			return 0, err
		}
	}
	s.Metrics.swept(len(stale))
	return len(stale), nil
}

// SweepBlobs deletes stored bodies whose upload no longer exists and
// returns how many went.
func (s *Sweeper) SweepBlobs(ctx context.Context) (int, error) {
	if s.Blobs == nil {
		return 0, nil
	}
	after := s.OrphanAfter
	if after <= 0 {
		after = time.Hour
	}
	keys, err := s.Blobs.List(ctx, s.now().Add(-after), 500)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, key := range keys {
		_, err := s.store.Upload(ctx, key)
		if stride.ErrorCode(err) != stride.ENOTFOUND {
			if err != nil {
				return removed, err
			}
			continue
		}
		if err := s.Blobs.Delete(ctx, key); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}
