package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/sqlite"
	"github.com/stridehq/stride/store"
)

// commitsThenLoses stores the upload but answers as if its caller had gone
// away first: the SQLite group commit does this when the request's context
// ends while the batch commits (a client that hung up), and so can any
// commit whose answer is lost.
type commitsThenLoses struct {
	*sqlite.DB
	id string
}

func (s *commitsThenLoses) AcceptUpload(ctx context.Context, up *stride.Upload, ev store.OutboxEvent, idem *store.IdempotencyRecord) (*store.IdempotencyRecord, error) {
	s.id = up.ID
	if _, err := s.DB.AcceptUpload(context.WithoutCancel(ctx), up, ev, idem); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("wait for commit: %w", context.Canceled)
}

// An upload whose acceptance failed may still be stored: its body must stay
// in the blob store (the orphan sweeper removes it if no upload names it),
// or the worker retries an upload it can never read until it fails it.
func TestBlobKeptWhenAcceptanceOutcomeIsUnknown(t *testing.T) {
	ctx := context.Background()
	db, blobs, u := setup(t)
	st := &commitsThenLoses{DB: db}
	svc := ingest.New(st, quiet, time.Now, "test")
	svc.Blobs, svc.InlineLimit = blobs, 10
	body := []byte(`{"sport":"running","start_time":"2026-01-01T08:00:00Z","elapsed_s":600}`)
	if _, err := svc.Accept(ctx, ingest.Upload{UserID: u.ID, Body: body, Format: "json"}); err == nil {
		t.Fatal("Accept reported success")
	}
	up, err := db.Upload(ctx, st.id)
	if err != nil || up.BlobKey == "" {
		t.Fatalf("the upload was not stored with a blob: %+v, %v", up, err)
	}
	if _, err := blobs.Get(ctx, up.BlobKey); err != nil {
		t.Fatalf("the body of a stored upload was deleted: %v", err)
	}
	worker := ingest.NewWorker(db, quiet, time.Now, "test")
	worker.Blobs = blobs
	if err := worker.Process(ctx, up.ID); err != nil {
		t.Fatal(err)
	}
	if up, _ := db.Upload(ctx, up.ID); up.Status != stride.UploadDone {
		t.Fatalf("upload ended %s %+v", up.Status, up.Problem)
	}
	// Its blob is no orphan: the sweeper keeps it.
	sweeper := ingest.NewSweeper(db, nil, quiet, func() time.Time { return time.Now().Add(2 * time.Hour) }, "test")
	sweeper.Blobs = blobs
	if n, err := sweeper.SweepBlobs(ctx); err != nil || n != 0 {
		t.Fatalf("SweepBlobs = %d, %v", n, err)
	}
}

// An upload whose body is gone from the blob store fails at once with a
// specific problem, instead of being retried for minutes to the same end.
func TestMissingBlobFailsTheUploadAtOnce(t *testing.T) {
	ctx := context.Background()
	db, blobs, u := setup(t)
	svc := ingest.New(db, quiet, time.Now, "test")
	svc.Blobs, svc.InlineLimit = blobs, 10
	body := []byte(`{"sport":"running","start_time":"2026-01-02T08:00:00Z","elapsed_s":600}`)
	ans, err := svc.Accept(ctx, ingest.Upload{UserID: u.ID, Body: body, Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	var receipt ingest.Receipt
	if err := json.Unmarshal(ans.Body, &receipt); err != nil {
		t.Fatal(err)
	}
	up, err := db.Upload(ctx, receipt.UploadID)
	if err != nil || up.BlobKey == "" {
		t.Fatalf("the upload was not stored with a blob: %+v, %v", up, err)
	}
	if err := blobs.Delete(ctx, up.BlobKey); err != nil {
		t.Fatal(err)
	}
	worker := ingest.NewWorker(db, quiet, time.Now, "test")
	worker.Blobs = blobs
	if err := worker.Process(ctx, up.ID); err != nil {
		t.Fatalf("Process = %v, want the upload failed without an error to retry", err)
	}
	up, _ = db.Upload(ctx, up.ID)
	if up.Status != stride.UploadFailed || up.Problem == nil || up.Problem.Code != "upload_body_missing" || up.Attempts != 1 {
		t.Fatalf("upload ended %s after %d attempts, problem %+v", up.Status, up.Attempts, up.Problem)
	}
}
