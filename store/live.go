package store

import (
	"context"
	"time"
)

// Live activity statuses.
const (
	LiveRecording = "recording"
	LivePaused    = "paused"
	LiveFinished  = "finished"
)

// LiveActivity is an activity a device is recording and streaming: the
// device sends numbered batches of points, each stored before it is
// acknowledged, so a device that reconnects (to any node) resends only what
// was not, and watchers who reconnect catch up from the store.
type LiveActivity struct {
	ID         string
	UserID     string
	Sport      string
	Name       string
	Visibility string
	Status     string
	StartedAt  time.Time
	UpdatedAt  time.Time
	// LastBatch is the number of the last batch stored (batches are
	// numbered from 1 by the device); Points counts the points stored.
	LastBatch int64
	Points    int
	// UploadID is the upload a finished live activity became.
	UploadID string
}

// LiveBatch is one stored batch of points (JSON array, as the device sent
// it after validation).
type LiveBatch struct {
	LiveID     string
	Batch      int64
	Points     []byte
	Count      int
	ReceivedAt time.Time
}

// Live stores live activities and their batches.
type Live interface {
	// CreateLive stores a new live activity (Status recording, LastBatch 0).
	CreateLive(ctx context.Context, a *LiveActivity) error
	// LiveActivity returns one, or ENOTFOUND.
	LiveActivity(ctx context.Context, id string) (*LiveActivity, error)
	// ActiveLive lists the user's live activities not finished, newest first.
	ActiveLive(ctx context.Context, userID string) ([]LiveActivity, error)
	// AppendLive stores batch number batch of a live activity that is not
	// finished, in one transaction with LastBatch and Points. A batch
	// already stored (batch <= LastBatch) is a resend: nothing is written
	// and duplicate is true. A gap (batch > LastBatch+1) is ECONFLICT; a
	// missing activity is ENOTFOUND, a finished one ECONFLICT.
	AppendLive(ctx context.Context, liveID string, batch int64, points []byte, count int, now time.Time) (duplicate bool, err error)
	// SetLiveStatus changes the status of an unfinished live activity
	// (recording or paused); ECONFLICT once finished.
	SetLiveStatus(ctx context.Context, liveID, status string, now time.Time) error
	// LiveBatches returns up to limit batches numbered after after, in
	// order.
	LiveBatches(ctx context.Context, liveID string, after int64, limit int) ([]LiveBatch, error)
	// FinishLive marks the activity finished with the upload it became.
	// Finishing again with the same upload id is a no-op; with another,
	// ECONFLICT.
	FinishLive(ctx context.Context, liveID, uploadID string, now time.Time) error
	// PurgeLive deletes finished live activities (with their batches)
	// finished before cutoff, and unfinished ones not updated since
	// staleCutoff; it returns how many.
	PurgeLive(ctx context.Context, cutoff, staleCutoff time.Time) (int64, error)
}
