package ingest_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/blob"
	"github.com/stridehq/stride/fsblob"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/internal/testenv"
	"github.com/stridehq/stride/sqlite"
	"github.com/stridehq/stride/sqlite/sqlitetest"
)

func setup(t *testing.T) (*sqlite.DB, *fsblob.Store, *stride.User) {
	t.Helper()
	ctx := context.Background()
	db := sqlitetest.Open(t)
	blobs, err := fsblob.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	u := &stride.User{ID: stride.NewID(now), Email: "a@example.com", Name: "A", Role: stride.RoleAthlete, Status: stride.StatusActive,
		Units: "metric", DefaultVisibility: stride.VisibilityPublic, CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, u, "x", nil); err != nil {
		t.Fatal(err)
	}
	return db, blobs, u
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestLargeUploadsLiveInTheBlobStore(t *testing.T) {
	ctx := context.Background()
	db, blobs, u := setup(t)
	body, err := os.ReadFile(filepath.Join(testenv.Corpus(t), "gpx", "strava-ride-power-hr-cad.gpx"))
	if err != nil {
		t.Fatal(err)
	}
	svc := ingest.New(db, quiet, time.Now, "test")
	svc.Blobs = blobs
	small := []byte(`{"sport":"running","start_time":"2026-01-01T08:00:00Z","elapsed_s":600}`)
	var ids []string
	for _, b := range []struct {
		body   []byte
		format string
	}{{body, "gpx"}, {small, "json"}} {
		ans, err := svc.Accept(ctx, ingest.Upload{UserID: u.ID, Body: b.body, Format: b.format})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ans.Location[len("/api/v1/uploads/"):])
	}
	large, _ := db.Upload(ctx, ids[0])
	inline, _ := db.Upload(ctx, ids[1])
	if large.BlobKey != large.ID || inline.BlobKey != "" {
		t.Fatalf("blob keys: large %q, small %q", large.BlobKey, inline.BlobKey)
	}
	if stored, err := blobs.Get(ctx, large.ID); err != nil || len(stored) != len(body) {
		t.Fatalf("blob: %d bytes, %v", len(stored), err)
	}
	worker := ingest.NewWorker(db, quiet, time.Now, "test")
	worker.Blobs = blobs
	for _, id := range ids {
		if err := worker.Process(ctx, id); err != nil {
			t.Fatal(err)
		}
		if up, _ := db.Upload(ctx, id); up.Status != stride.UploadDone {
			t.Fatalf("upload %s ended %s %+v", id, up.Status, up.Problem)
		}
	}
	// A worker without the blob store cannot process it, and says why
	// (the bus retries; nothing is marked failed).
	blind := ingest.NewWorker(db, quiet, time.Now, "test")
	ans, _ := svc.Accept(ctx, ingest.Upload{UserID: u.ID, Body: append(body, ' '), Format: "gpx"})
	if err := blind.Process(ctx, ans.Location[len("/api/v1/uploads/"):]); err == nil {
		t.Fatal("a worker without the blob store processed a blob upload")
	}
}

func TestOrphanBlobsAreSwept(t *testing.T) {
	ctx := context.Background()
	db, blobs, u := setup(t)
	svc := ingest.New(db, quiet, time.Now, "test")
	svc.Blobs, svc.InlineLimit = blobs, 10
	ans, err := svc.Accept(ctx, ingest.Upload{UserID: u.ID, Body: []byte(`{"sport":"running","start_time":"2026-01-01T08:00:00Z","elapsed_s":600}`), Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	kept := ans.Location[len("/api/v1/uploads/"):]
	if err := blobs.Put(ctx, "orphan", []byte("left by a failed transaction")); err != nil {
		t.Fatal(err)
	}
	sweeper := ingest.NewSweeper(db, nil, quiet, func() time.Time { return time.Now().Add(2 * time.Hour) }, "test")
	sweeper.Blobs = blobs
	n, err := sweeper.SweepBlobs(ctx)
	if err != nil || n != 1 {
		t.Fatalf("SweepBlobs = %d, %v", n, err)
	}
	if _, err := blobs.Get(ctx, "orphan"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("orphan kept: %v", err)
	}
	if _, err := blobs.Get(ctx, kept); err != nil {
		t.Fatalf("a referenced blob was swept: %v", err)
	}
	// Once the account is gone, its bodies are orphans too.
	deleted, err := ingest.NewOutboxEvent("test", "user.deleted", u.ID, u.ID, map[string]string{"user_id": u.ID}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, u.ID, deleted); err != nil {
		t.Fatal(err)
	}
	if n, _ := sweeper.SweepBlobs(ctx); n != 1 {
		t.Fatalf("after the account's deletion swept %d", n)
	}
}
