package store

import (
	"context"
	"time"

	"github.com/stridehq/stride"
)

// OutboxEvent is an event written in the same transaction as the state it
// describes; a relay publishes it to the bus afterwards. Payload is the
// encoded envelope, opaque to the store.
type OutboxEvent struct {
	Seq       int64 // assigned by the store, increasing in commit order per writer
	ID        string
	Type      string
	Key       string
	Payload   []byte
	CreatedAt time.Time
}

// IdempotencyRecord is the first answer to a request that carried an
// Idempotency-Key, replayed to retries of the same request.
type IdempotencyRecord struct {
	UserID      string
	Key         string
	RequestHash []byte
	Status      int
	Body        []byte
	Location    string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// ActivityFilter narrows a user's activity list.
type ActivityFilter struct {
	Sport  string
	After  time.Time // start time >= After, when not zero
	Before time.Time // start time < Before, when not zero
	// Visibilities lists what the viewer may see; empty means all.
	Visibilities []string
}

// ActivityUpdate holds the fields of a PATCH; nil fields stay.
type ActivityUpdate struct {
	Name        *string
	Description *string
	Visibility  *string
	Sport       *string
}

// Completion is the outcome of processing an upload: the parent activity
// (with its children, for multisport) and the encoded streams of each.
type Completion struct {
	Activity *stride.Activity
	Streams  map[string][]byte // activity id → encoded streams
	Event    OutboxEvent       // activity.processed, written only if the activity is new
}

// Ingest stores uploads, activities and the outbox.
type Ingest interface {
	// AcceptUpload writes the upload, its outbox event and, when idem is
	// not nil, the idempotency record, in one transaction: after it returns
	// nil the upload is durable. If the user already used idem.Key, nothing
	// is written and the existing record is returned with no error.
	AcceptUpload(ctx context.Context, up *stride.Upload, ev OutboxEvent, idem *IdempotencyRecord) (*IdempotencyRecord, error)
	// IdempotencyRecord returns a live record, or ENOTFOUND.
	IdempotencyRecord(ctx context.Context, userID, key string, now time.Time) (*IdempotencyRecord, error)
	// PurgeIdempotency deletes records that expired before now.
	PurgeIdempotency(ctx context.Context, now time.Time) (int64, error)
	// Upload returns an upload without its body.
	Upload(ctx context.Context, id string) (*stride.Upload, error)
	// ClaimUpload marks a queued upload processing, counts the attempt, and
	// returns it with its body. An upload already finished is returned as is
	// (the caller has nothing left to do).
	ClaimUpload(ctx context.Context, id string, now time.Time) (*stride.Upload, error)
	// FailUpload ends an upload with a problem; a finished upload is left alone.
	FailUpload(ctx context.Context, id string, p stride.UploadProblem, now time.Time) error
	// CompleteUpload stores the activity and streams, marks the upload done
	// and writes the event, in one transaction; or, when the user already
	// has this workout (same content hash, external id, or start time to
	// the second: one athlete cannot start two workouts in the same second,
	// so that is the same workout from another format or device), marks the upload duplicate of that activity and writes nothing
	// else. It returns the final status and the activity id. A finished
	// upload is left alone and its outcome returned.
	CompleteUpload(ctx context.Context, uploadID string, c Completion, now time.Time) (status, activityID string, err error)
	// StaleUploads lists uploads still queued or processing that were last
	// touched before cutoff, oldest first, for the sweeper to re-publish.
	StaleUploads(ctx context.Context, cutoff time.Time, limit int) ([]stride.Upload, error)
	// TouchUpload records that an upload was re-published, so the sweeper
	// does not pick it again at once.
	TouchUpload(ctx context.Context, id string, now time.Time) error

	// PendingOutbox returns unsent events in commit order.
	PendingOutbox(ctx context.Context, limit int) ([]OutboxEvent, error)
	// DeleteOutbox removes events that were published.
	DeleteOutbox(ctx context.Context, seqs []int64) error

	// Activity returns an activity with its children.
	Activity(ctx context.Context, id string) (*stride.Activity, error)
	// ActivityStreams returns an activity's encoded streams, ENOTFOUND if it
	// has none.
	ActivityStreams(ctx context.Context, id string) ([]byte, error)
	// UpdateActivity changes what the owner may edit of a top-level activity
	// and writes the event, in one transaction. Another user's or a missing
	// activity is ENOTFOUND. The event is built by calling event with the
	// activity as stored before the change (with its children), read in
	// the same transaction, so that it can say what the activity counted
	// for; if event fails nothing is written and its error is returned.
	UpdateActivity(ctx context.Context, userID, id string, upd ActivityUpdate, event func(before *stride.Activity) (OutboxEvent, error), now time.Time) (*stride.Activity, error)
	// DeleteActivity deletes a top-level activity with its children and
	// streams and writes the event, in one transaction. Another user's or a
	// missing activity is ENOTFOUND. The event is built as for
	// UpdateActivity, from the activity as it was before the delete.
	DeleteActivity(ctx context.Context, userID, id string, event func(before *stride.Activity) (OutboxEvent, error)) error
	// ListActivities lists a user's top-level activities, newest start first.
	ListActivities(ctx context.Context, userID string, f ActivityFilter, page stride.Page) ([]stride.Activity, string, error)
}
