package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

var t0 = time.Date(2026, 3, 1, 7, 0, 0, 0, time.UTC)

func openGroupDB(t testing.TB, opts GroupCommitOptions) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := OpenWith(ctx, filepath.Join(t.TempDir(), "stride.db"), Options{GroupCommit: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func createUser(t testing.TB, db *DB, email string) *stride.User {
	t.Helper()
	u := &stride.User{ID: stride.NewID(t0), Email: email, Name: email, Role: stride.RoleAthlete, Status: stride.StatusActive,
		Units: "metric", DefaultVisibility: stride.VisibilityPublic, CreatedAt: t0, UpdatedAt: t0}
	if err := db.CreateUser(context.Background(), u, "hash", nil); err != nil {
		t.Fatal(err)
	}
	return u
}

func newAccept(userID, body string) (*stride.Upload, store.OutboxEvent) {
	return newAcceptAt(userID, body, t0)
}

// newAcceptAt is newAccept with the ids minted at idTime: the server mints
// them at the wall clock, so they arrive nearly in order, where ids of one
// fixed instant land all over the primary key's index.
func newAcceptAt(userID, body string, idTime time.Time) (*stride.Upload, store.OutboxEvent) {
	up := &stride.Upload{ID: stride.NewID(idTime), UserID: userID, Status: stride.UploadQueued, Format: "json",
		ContentType: "application/json", ContentHash: []byte(body), SizeBytes: int64(len(body)), Body: []byte(body),
		CreatedAt: t0, UpdatedAt: t0}
	evID := stride.NewID(idTime)
	return up, store.OutboxEvent{ID: evID, Type: "activity.uploaded", Key: userID, Payload: []byte(`{"id":"` + evID + `"}`), CreatedAt: t0}
}

func idemRecord(userID, key string) *store.IdempotencyRecord {
	return &store.IdempotencyRecord{UserID: userID, Key: key, RequestHash: []byte("h-" + key), Status: 202,
		Body: []byte(`{"upload_id":"` + key + `"}`), Location: "/api/v1/uploads/" + key, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
}

// holdWriter takes the single writer connection, so the committer blocks
// on its next BEGIN and requests pile up; the returned func releases it.
func holdWriter(t *testing.T, db *DB) func() {
	t.Helper()
	conn, err := db.write.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return func() { conn.Close() }
}

// waitSubmitted waits until n requests are queued or in the committer's
// hands. It waits on a count, not on a clock.
func waitSubmitted(db *DB, n int64) {
	for db.GroupCommitStats().Submitted < n {
		runtime.Gosched()
		time.Sleep(100 * time.Microsecond)
	}
}

// Many concurrent accepts, some of which must fail, share commits, and each
// caller gets its own outcome with nothing half-written.
func TestGroupCommitIndividualResults(t *testing.T) {
	db := openGroupDB(t, GroupCommitOptions{})
	ctx := context.Background()
	alive := createUser(t, db, "alive@example.com")
	gone := createUser(t, db, "gone@example.com")
	deletedEvID := stride.NewID(t0)
	deletedEv := store.OutboxEvent{ID: deletedEvID, Type: "user.deleted", Key: gone.ID, Payload: []byte(`{"id":"` + deletedEvID + `"}`), CreatedAt: t0}
	if err := db.DeleteUser(ctx, gone.ID, deletedEv); err != nil {
		t.Fatal(err)
	}
	// A key already used before the burst.
	up0, ev0 := newAccept(alive.ID, "first")
	if _, err := db.AcceptUpload(ctx, up0, ev0, idemRecord(alive.ID, "used")); err != nil {
		t.Fatal(err)
	}
	dupID, dupEv := newAccept(alive.ID, "dup-id-original")
	if _, err := db.AcceptUpload(ctx, dupID, dupEv, nil); err != nil {
		t.Fatal(err)
	}

	type kind int
	const (
		ok          kind = iota // stored
		deletedUser             // ENOTFOUND, nothing stored
		usedKey                 // existing record returned, nothing stored
		clashingID              // upload id taken: error, and its new idempotency key rolled back
	)
	type req struct {
		kind kind
		up   *stride.Upload
		ev   store.OutboxEvent
		idem *store.IdempotencyRecord
		got  *store.IdempotencyRecord
		err  error
	}
	const n = 120
	reqs := make([]*req, n)
	for i := range reqs {
		r := &req{kind: kind(i % 4)}
		switch r.kind {
		case ok:
			r.up, r.ev = newAccept(alive.ID, fmt.Sprint("ok-", i))
			if i%8 == 0 {
				r.idem = idemRecord(alive.ID, fmt.Sprint("fresh-", i))
			}
		case deletedUser:
			r.up, r.ev = newAccept(gone.ID, fmt.Sprint("gone-", i))
			if i%8 == 1 {
				r.idem = idemRecord(gone.ID, fmt.Sprint("gone-key-", i))
			}
		case usedKey:
			r.up, r.ev = newAccept(alive.ID, fmt.Sprint("retry-", i))
			r.idem = idemRecord(alive.ID, "used")
		case clashingID:
			r.up, r.ev = newAccept(alive.ID, fmt.Sprint("clash-", i))
			r.up.ID = dupID.ID
			r.idem = idemRecord(alive.ID, fmt.Sprint("clash-key-", i))
		}
		reqs[i] = r
	}

	before := db.GroupCommitStats()
	release := holdWriter(t, db)
	var wg sync.WaitGroup
	for _, r := range reqs {
		wg.Go(func() { r.got, r.err = db.AcceptUpload(ctx, r.up, r.ev, r.idem) })
	}
	waitSubmitted(db, before.Submitted+n)
	release()
	wg.Wait()

	for i, r := range reqs {
		_, loadErr := db.Upload(ctx, r.up.ID)
		switch r.kind {
		case ok:
			if r.err != nil || r.got != nil || loadErr != nil {
				t.Errorf("req %d: accept = %v, %v; stored: %v", i, r.got, r.err, loadErr)
			}
			if r.idem != nil {
				if _, err := db.IdempotencyRecord(ctx, alive.ID, r.idem.Key, t0); err != nil {
					t.Errorf("req %d: idempotency key not stored: %v", i, err)
				}
			}
		case deletedUser:
			if stride.ErrorCode(r.err) != stride.ENOTFOUND || stride.ErrorCode(loadErr) != stride.ENOTFOUND {
				t.Errorf("req %d: accept for a deleted user = %v; stored: %v", i, r.err, loadErr)
			}
		case usedKey:
			if r.err != nil || r.got == nil || r.got.Location != "/api/v1/uploads/used" || stride.ErrorCode(loadErr) != stride.ENOTFOUND {
				t.Errorf("req %d: retry with a used key = %+v, %v; stored: %v", i, r.got, r.err, loadErr)
			}
		case clashingID:
			if r.err == nil || r.got != nil {
				t.Errorf("req %d: clashing upload id accepted: %+v", i, r.got)
			}
			if _, err := db.IdempotencyRecord(ctx, alive.ID, r.idem.Key, t0); stride.ErrorCode(err) != stride.ENOTFOUND {
				t.Errorf("req %d: a failed request left its idempotency key: %v", i, err)
			}
		}
	}
	// One outbox event per stored upload, none for the others, and the
	// deletion's.
	pending, err := db.PendingOutbox(ctx, 10*n)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 + n/4; len(pending) != want {
		t.Errorf("outbox holds %d events, want %d", len(pending), want)
	}
	after := db.GroupCommitStats()
	accepts, commits := after.Requests-before.Requests, after.Commits-before.Commits
	if accepts != n || commits >= accepts || commits > 2 {
		t.Errorf("%d accepts took %d commits; want them to share at most 2", accepts, commits)
	}
	t.Logf("%d accepts, %d commits, largest batch %d", accepts, commits, after.MaxBatch)
}

// Two requests with the same new key in one batch: the first stores, the
// second gets the first's record, as if they had run one after the other.
func TestGroupCommitSameKeyInOneBatch(t *testing.T) {
	db := openGroupDB(t, GroupCommitOptions{})
	ctx := context.Background()
	u := createUser(t, db, "same@example.com")
	release := holdWriter(t, db)
	up1, ev1 := newAccept(u.ID, "a")
	up2, ev2 := newAccept(u.ID, "b")
	var got [2]*store.IdempotencyRecord
	var errs [2]error
	var wg sync.WaitGroup
	wg.Go(func() { got[0], errs[0] = db.AcceptUpload(ctx, up1, ev1, idemRecord(u.ID, "k")) })
	wg.Go(func() { got[1], errs[1] = db.AcceptUpload(ctx, up2, ev2, idemRecord(u.ID, "k")) })
	waitSubmitted(db, 2)
	release()
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || (got[0] == nil) == (got[1] == nil) {
		t.Fatalf("results %+v, %v", got, errs)
	}
	if pending, _ := db.PendingOutbox(ctx, 10); len(pending) != 1 {
		t.Fatalf("%d outbox events for one key", len(pending))
	}
}

// A full queue makes callers wait a bounded time, then answers
// EUNAVAILABLE with a Retry-After; a caller's context ends its wait sooner.
func TestGroupCommitBackPressure(t *testing.T) {
	db := openGroupDB(t, GroupCommitOptions{QueueSize: 1, QueueWait: time.Millisecond})
	ctx := context.Background()
	u := createUser(t, db, "bp@example.com")
	release := holdWriter(t, db)
	var wg sync.WaitGroup
	var okCount atomic.Int64
	// Two fill the committer's hands and its one-slot queue.
	for i := range 2 {
		up, ev := newAccept(u.ID, fmt.Sprint("held-", i))
		wg.Go(func() {
			if _, err := db.AcceptUpload(ctx, up, ev, nil); err == nil {
				okCount.Add(1)
			}
		})
		waitSubmitted(db, int64(i+1))
	}
	up, ev := newAccept(u.ID, "rejected")
	_, err := db.AcceptUpload(ctx, up, ev, nil)
	var se *stride.Error
	if !errors.As(err, &se) || se.Code != stride.EUNAVAILABLE || se.RetryAfter <= 0 {
		t.Errorf("accept on a full queue = %v, want EUNAVAILABLE with Retry-After", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	up, ev = newAccept(u.ID, "cancelled")
	if _, err := db.AcceptUpload(cctx, up, ev, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("accept with a cancelled context = %v", err)
	}
	release()
	wg.Wait()
	if okCount.Load() != 2 {
		t.Errorf("%d of the 2 queued accepts succeeded", okCount.Load())
	}
	if s := db.GroupCommitStats(); s.QueueFull < 1 {
		t.Errorf("stats %+v count no full queue", s)
	}
}

// Close commits what was queued, then refuses new requests.
func TestGroupCommitClose(t *testing.T) {
	db := openGroupDB(t, GroupCommitOptions{})
	ctx := context.Background()
	u := createUser(t, db, "close@example.com")
	release := holdWriter(t, db)
	const n = 10
	errs := make([]error, n)
	ups := make([]*stride.Upload, n)
	var wg sync.WaitGroup
	for i := range n {
		up, ev := newAccept(u.ID, fmt.Sprint("c-", i))
		ups[i] = up
		wg.Go(func() { _, errs[i] = db.AcceptUpload(ctx, up, ev, nil) })
	}
	waitSubmitted(db, n)
	closed := make(chan struct{})
	go func() { db.group.close(); close(closed) }()
	release()
	wg.Wait()
	<-closed
	for i, err := range errs {
		if err != nil {
			t.Errorf("accept %d queued before Close: %v", i, err)
		}
	}
	up, ev := newAccept(u.ID, "late")
	if _, err := db.AcceptUpload(ctx, up, ev, nil); stride.ErrorCode(err) != stride.EUNAVAILABLE {
		t.Errorf("accept after Close = %v", err)
	}
	var count int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM uploads`).Scan(&count); err != nil || count != n {
		t.Errorf("%d uploads stored (%v), want %d", count, err, n)
	}
}

// BenchmarkAcceptUpload measures durable acceptances per second at several
// numbers of concurrent callers, spread over 32 athletes with ids minted at
// the wall clock, as the load script's uploads are; accepts/commit reports
// how many share one fsync, and wal-frames/commit how many pages each
// commit writes.
func BenchmarkAcceptUpload(b *testing.B) {
	body := `{"sport":"running","start_time":"2026-03-01T07:00:00Z","elapsed_s":1800,"distance_m":5000}`
	for _, par := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", par), func(b *testing.B) {
			db := openGroupDB(b, GroupCommitOptions{})
			users := make([]string, 32)
			for i := range users {
				users[i] = createUser(b, db, fmt.Sprintf("bench%d@example.com", i)).ID
			}
			ctx := context.Background()
			before := db.GroupCommitStats()
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for range par {
				wg.Go(func() {
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						up, ev := newAcceptAt(users[i%int64(len(users))], body, time.Now())
						if _, err := db.AcceptUpload(ctx, up, ev, nil); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			s := db.GroupCommitStats()
			if c := s.Commits - before.Commits; c > 0 {
				b.ReportMetric(float64(s.Requests-before.Requests)/float64(c), "accepts/commit")
			}
		})
	}
}

// BenchmarkCompleteUpload is the worker's store transaction for one small
// upload: status check, duplicate check, activity, streams, outbox, finish.
func BenchmarkCompleteUpload(b *testing.B) {
	db := openGroupDB(b, GroupCommitOptions{})
	u := createUser(b, db, "bench@example.com")
	ctx := context.Background()
	ids := make([]string, b.N)
	for i := range b.N {
		up, ev := newAccept(u.ID, fmt.Sprint(i))
		if _, err := db.AcceptUpload(ctx, up, ev, nil); err != nil {
			b.Fatal(err)
		}
		ids[i] = up.ID
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		start := t0.Add(time.Duration(i) * time.Minute)
		a := &stride.Activity{ID: stride.NewID(start), UserID: u.ID, UploadID: ids[i], Sport: "running", Visibility: "public",
			StartTime: start, EndTime: start.Add(time.Hour), ElapsedS: 3600, ContentHash: []byte(fmt.Sprint(i)), CreatedAt: t0, UpdatedAt: t0}
		ev := store.OutboxEvent{ID: stride.NewID(start), Type: "activity.processed", Key: u.ID, Payload: []byte(`{}`), CreatedAt: t0}
		status, _, err := db.CompleteUpload(ctx, ids[i], store.Completion{Activity: a, Streams: map[string][]byte{a.ID: []byte("s")}, Event: ev}, t0)
		if err != nil || status != stride.UploadDone {
			b.Fatal(status, err)
		}
	}
}
