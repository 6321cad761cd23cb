// Package ingest is the write path of activities: accepting an upload
// durably (upload row and outbox event in one transaction), relaying
// committed events to the bus, processing uploads into activities in the
// worker, and sweeping uploads whose message was lost.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/blob"
	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/store"
)

// Event types of the write path.
const (
	EventUploaded  = "activity.uploaded"
	EventProcessed = "activity.processed"
)

// Store is what ingestion needs from the system of record.
type Store interface {
	store.Ingest
	UserByID(ctx context.Context, id string) (*stride.User, error)
}

// Publisher sends events to the bus; bus.Bus satisfies it.
type Publisher interface {
	Publish(ctx context.Context, events ...bus.Event) error
}

// IdempotencyTTL is how long an Idempotency-Key's answer is kept.
const IdempotencyTTL = 24 * time.Hour

// Service accepts uploads.
type Service struct {
	store  Store
	log    *slog.Logger
	now    func() time.Time
	source string
	// wake tells the relay that an event was committed, so it publishes at
	// once instead of at its next poll.
	wake chan struct{}

	mu       sync.Mutex
	inFlight map[string]bool // user id + idempotency key

	// Metrics, when set, records accepted uploads.
	Metrics *Metrics
	// Blobs, when set, receives bodies larger than InlineLimit before the
	// transaction, so large files do not pass through the database's log.
	Blobs       blob.Store
	InlineLimit int
}

// DefaultInlineLimit is the largest body kept in the upload row when a blob
// store is configured.
const DefaultInlineLimit = 256 << 10

// New returns a Service. source names this process in event envelopes.
func New(s Store, log *slog.Logger, now func() time.Time, source string) *Service {
	return &Service{store: s, log: log, now: now, source: source, wake: make(chan struct{}, 1), inFlight: map[string]bool{},
		InlineLimit: DefaultInlineLimit}
}

// Wake returns the channel the relay listens on.
func (s *Service) Wake() <-chan struct{} { return s.wake }

// Notify wakes the relay for an event committed elsewhere in this process
// (the worker's activity.processed), so that it too is published at once
// rather than at the relay's next poll.
func (s *Service) Notify() { s.notify() }

func (s *Service) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Upload is an upload request that passed the cheap checks.
type Upload struct {
	UserID      string
	Body        []byte
	Format      string
	ContentType string
	Filename    string
	ExternalID  string
	Options     stride.UploadOptions
	// IdempotencyKey, when set, makes retries of this request replay the
	// first answer; RequestHash identifies the request's content.
	IdempotencyKey string
	RequestHash    []byte
}

// Receipt is the answer to an accepted upload, as the API sends it.
type Receipt struct {
	UploadID  string `json:"upload_id"`
	Status    string `json:"status"`
	StatusURL string `json:"status_url"`
}

// Answer is what the API replies: the status, the Location and the body,
// either fresh or replayed from the first request with the same key.
type Answer struct {
	Status   int
	Location string
	Body     []byte
	Replayed bool
}

// UploadedData is the payload of activity.uploaded.
type UploadedData struct {
	UploadID string `json:"upload_id"`
	UserID   string `json:"user_id"`
}

// Accept stores the upload and its activity.uploaded event in one
// transaction. When it returns, the upload is durable.
func (s *Service) Accept(ctx context.Context, in Upload) (*Answer, error) {
	now := s.now().UTC()
	if in.IdempotencyKey != "" {
		flight := in.UserID + "\x00" + in.IdempotencyKey
		s.mu.Lock()
		busy := s.inFlight[flight]
		s.inFlight[flight] = true
		s.mu.Unlock()
		if busy {
			return nil, &stride.Error{Code: stride.EINPROGRESS, Message: "A request with this Idempotency-Key is still being handled.", RetryAfter: 1}
		}
		defer func() {
			s.mu.Lock()
			delete(s.inFlight, flight)
			s.mu.Unlock()
		}()
		rec, err := s.store.IdempotencyRecord(ctx, in.UserID, in.IdempotencyKey, now)
		switch {
		case err == nil:
			return replay(rec, in.RequestHash)
		case stride.ErrorCode(err) != stride.ENOTFOUND:
			return nil, err
		}
	}

	hash := sha256.Sum256(in.Body)
	up := &stride.Upload{
		ID: stride.NewID(now), UserID: in.UserID, Status: stride.UploadQueued, Format: in.Format, ContentType: in.ContentType,
		Filename: in.Filename, ContentHash: hash[:], SizeBytes: int64(len(in.Body)), Body: in.Body, ExternalID: in.ExternalID,
		Options: in.Options, CreatedAt: now, UpdatedAt: now,
	}
	ev, err := s.event(EventUploaded, in.UserID, up.ID, UploadedData{UploadID: up.ID, UserID: in.UserID}, now)
	if err != nil {
		return nil, err
	}
	if s.Blobs != nil && len(in.Body) > s.InlineLimit {
		// Durable before the row that names it; if the transaction fails
		// the blob is an orphan, which the blob sweeper removes.
		if err := s.Blobs.Put(ctx, up.ID, in.Body); err != nil {
			return nil, fmt.Errorf("store upload body: %w", err)
		}
		up.Body, up.BlobKey = nil, up.ID
	}
	location := "/api/v1/uploads/" + up.ID
	body, err := json.Marshal(Receipt{UploadID: up.ID, Status: up.Status, StatusURL: location})
	if err != nil {
		return nil, err
	}
	answer := &Answer{Status: 202, Location: location, Body: body}
	var idem *store.IdempotencyRecord
	if in.IdempotencyKey != "" {
		idem = &store.IdempotencyRecord{UserID: in.UserID, Key: in.IdempotencyKey, RequestHash: in.RequestHash,
			Status: answer.Status, Body: body, Location: location, CreatedAt: now, ExpiresAt: now.Add(IdempotencyTTL)}
	}
	existing, err := s.store.AcceptUpload(ctx, up, ev, idem)
	if err != nil {
		// The body stays: an error does not mean nothing was stored (the
		// client hung up while its upload committed, a commit whose answer
		// was lost). If no upload names it, the blob sweeper removes it.
		return nil, fmt.Errorf("accept upload: %w", err)
	}
	if existing != nil { // another node took the same key first: nothing was stored
		if up.BlobKey != "" {
			_ = s.Blobs.Delete(context.WithoutCancel(ctx), up.BlobKey)
		}
		return replay(existing, in.RequestHash)
	}
	s.Metrics.uploadAccepted(up.Format)
	s.notify()
	return answer, nil
}

func replay(rec *store.IdempotencyRecord, requestHash []byte) (*Answer, error) {
	if string(rec.RequestHash) != string(requestHash) {
		return nil, stride.Errorf(stride.EIDEMPOTENCY, "This Idempotency-Key was used for a different request; use a new key for a new upload.")
	}
	return &Answer{Status: rec.Status, Location: rec.Location, Body: rec.Body, Replayed: true}, nil
}

// event builds an outbox event in the bus envelope.
func (s *Service) event(typ, userID, subject string, data any, now time.Time) (store.OutboxEvent, error) {
	return NewOutboxEvent(s.source, typ, userID, subject, data, now)
}

// NewOutboxEvent wraps data in the bus envelope as an outbox row, for
// services that write events in their store transactions.
func NewOutboxEvent(source, typ, userID, subject string, data any, now time.Time) (store.OutboxEvent, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return store.OutboxEvent{}, fmt.Errorf("encode %s: %w", typ, err)
	}
	ev := bus.Event{ID: stride.NewID(now), Type: typ, Source: source, Subject: subject, Time: now, Key: userID,
		SchemaVersion: 1, Data: raw}.Normalize()
	payload, err := json.Marshal(ev)
	if err != nil {
		return store.OutboxEvent{}, fmt.Errorf("encode %s envelope: %w", typ, err)
	}
	return store.OutboxEvent{ID: ev.ID, Type: typ, Key: userID, Payload: payload, CreatedAt: now}, nil
}

// Status returns an upload for its owner; anyone else gets ENOTFOUND.
func (s *Service) Status(ctx context.Context, userID, uploadID string) (*stride.Upload, error) {
	up, err := s.store.Upload(ctx, uploadID)
	if err != nil {
		return nil, err
	}
	if up.UserID != userID {
		return nil, stride.Errorf(stride.ENOTFOUND, "Upload not found.")
	}
	return up, nil
}
