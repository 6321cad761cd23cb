package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

var ingestTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"AcceptClaimAndOutbox", testAcceptClaimAndOutbox},
	{"IdempotencyKeys", testIdempotencyKeys},
	{"CompleteStoresActivity", testCompleteStoresActivity},
	{"DuplicatesEndDuplicate", testDuplicatesEndDuplicate},
	{"FinishedUploadsStayFinished", testFinishedUploadsStayFinished},
	{"ListActivities", testListActivities},
	{"StaleUploads", testStaleUploads},
	{"DeleteUserRemovesActivities", testDeleteUserRemovesActivities},
	{"UpdateAndDeleteActivity", testUpdateAndDeleteActivity},
}

func newUpload(userID string, body string, at time.Time) *stride.Upload {
	return &stride.Upload{
		ID: stride.NewID(at), UserID: userID, Status: stride.UploadQueued, Format: "json", ContentType: "application/json",
		ContentHash: hashOf(body), SizeBytes: int64(len(body)), Body: []byte(body),
		Options: stride.UploadOptions{Name: "Morning run", Visibility: stride.VisibilityPublic}, CreatedAt: at, UpdatedAt: at,
	}
}

// eventOf is an event builder for UpdateActivity and DeleteActivity that
// ignores the state before the change.
func eventOf(typ, key string, at time.Time) func(*stride.Activity) (store.OutboxEvent, error) {
	ev := outboxEvent(typ, key, at)
	return func(*stride.Activity) (store.OutboxEvent, error) { return ev, nil }
}

func outboxEvent(typ, key string, at time.Time) store.OutboxEvent {
	id := stride.NewID(at)
	return store.OutboxEvent{ID: id, Type: typ, Key: key, Payload: []byte(`{"id":"` + id + `"}`), CreatedAt: at}
}

func accept(t *testing.T, s store.Store, up *stride.Upload) {
	t.Helper()
	if _, err := s.AcceptUpload(context.Background(), up, outboxEvent("activity.uploaded", up.UserID, up.CreatedAt), nil); err != nil {
		t.Fatalf("accept upload: %v", err)
	}
}

func testAcceptClaimAndOutbox(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "up@example.com", base)
	up := newUpload(u.ID, `{"sport":"running"}`, base)
	up.Filename, up.ExternalID = "run.json", "garmin-123"
	ev := outboxEvent("activity.uploaded", u.ID, base)
	if _, err := s.AcceptUpload(ctx, up, ev, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Upload(ctx, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != stride.UploadQueued || got.Body != nil || got.Filename != "run.json" || got.ExternalID != "garmin-123" ||
		got.Options.Name != "Morning run" || string(got.ContentHash) != string(up.ContentHash) || !got.CreatedAt.Equal(base) {
		t.Fatalf("Upload = %+v", got)
	}
	_, err = s.Upload(ctx, "missing")
	wantCode(t, err, stride.ENOTFOUND)
	wantCode(t, func() error {
		_, err := s.AcceptUpload(ctx, newUpload("no-such-user", "x", base), outboxEvent("activity.uploaded", "x", base), nil)
		return err
	}(), stride.ENOTFOUND)

	claimed, err := s.ClaimUpload(ctx, up.ID, base.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if claimed.Status != stride.UploadProcessing || string(claimed.Body) != `{"sport":"running"}` || claimed.Attempts != 1 {
		t.Fatalf("ClaimUpload = %+v", claimed)
	}
	if again, _ := s.ClaimUpload(ctx, up.ID, base.Add(2*time.Second)); again.Attempts != 2 {
		t.Fatalf("second claim attempts = %d", again.Attempts)
	}

	// A large body lives in the blob store: the row keeps only its key.
	big := newUpload(u.ID, "", base)
	big.Body, big.BlobKey = nil, big.ID
	if _, err := s.AcceptUpload(ctx, big, outboxEvent("activity.uploaded", u.ID, base), nil); err != nil {
		t.Fatal(err)
	}
	if c, err := s.ClaimUpload(ctx, big.ID, base); err != nil || c.BlobKey != big.ID || len(c.Body) != 0 {
		t.Fatalf("claim of a blob upload = %+v, %v", c, err)
	}
	if err := s.DeleteOutbox(ctx, lastSeq(t, s)); err != nil {
		t.Fatal(err)
	}

	pending, err := s.PendingOutbox(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].ID != ev.ID || pending[0].Type != "activity.uploaded" || pending[0].Key != u.ID || string(pending[0].Payload) != string(ev.Payload) {
		t.Fatalf("PendingOutbox = %+v", pending)
	}
	second := outboxEvent("activity.uploaded", u.ID, base.Add(time.Second))
	if _, err := s.AcceptUpload(ctx, newUpload(u.ID, "other", base.Add(time.Second)), second, nil); err != nil {
		t.Fatal(err)
	}
	pending, _ = s.PendingOutbox(ctx, 10)
	if len(pending) != 2 || pending[1].ID != second.ID || pending[0].Seq >= pending[1].Seq {
		t.Fatalf("outbox not in commit order: %+v", pending)
	}
	// The upload and its event are one transaction: when the event cannot
	// be written (its id is taken), the upload is not written either, and
	// the store goes on accepting.
	clash := newUpload(u.ID, "clash", base.Add(2*time.Second))
	if _, err := s.AcceptUpload(ctx, clash, second, nil); err == nil {
		t.Fatal("accepted an upload whose outbox event id is taken")
	}
	_, err = s.Upload(ctx, clash.ID)
	wantCode(t, err, stride.ENOTFOUND)
	if p, _ := s.PendingOutbox(ctx, 10); len(p) != 2 {
		t.Fatalf("outbox after a failed acceptance = %+v", p)
	}
	after := newUpload(u.ID, "after", base.Add(3*time.Second))
	afterEv := outboxEvent("activity.uploaded", u.ID, base.Add(3*time.Second))
	if _, err := s.AcceptUpload(ctx, after, afterEv, nil); err != nil {
		t.Fatalf("accept after a failed acceptance: %v", err)
	}
	if pending, _ = s.PendingOutbox(ctx, 10); len(pending) != 3 {
		t.Fatalf("outbox = %+v, want 3 events", pending)
	}
	if err := s.DeleteOutbox(ctx, []int64{pending[2].Seq}); err != nil {
		t.Fatal(err)
	}
	pending = pending[:2]
	if err := s.DeleteOutbox(ctx, []int64{pending[0].Seq}); err != nil {
		t.Fatal(err)
	}
	pending, _ = s.PendingOutbox(ctx, 10)
	if len(pending) != 1 || pending[0].ID != second.ID {
		t.Fatalf("after delete: %+v", pending)
	}
}

func testIdempotencyKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "idem@example.com", base)
	rec := &store.IdempotencyRecord{UserID: u.ID, Key: "key-1", RequestHash: hashOf("req"), Status: 202,
		Body: []byte(`{"upload_id":"x"}`), Location: "/api/v1/uploads/x", CreatedAt: base, ExpiresAt: base.Add(24 * time.Hour)}
	first := newUpload(u.ID, "body", base)
	existing, err := s.AcceptUpload(ctx, first, outboxEvent("activity.uploaded", u.ID, base), rec)
	if err != nil || existing != nil {
		t.Fatalf("first accept: %v %v", existing, err)
	}
	retry := *rec
	retry.CreatedAt = base.Add(time.Hour)
	second := newUpload(u.ID, "body", base.Add(time.Hour))
	existing, err = s.AcceptUpload(ctx, second, outboxEvent("activity.uploaded", u.ID, base), &retry)
	if err != nil || existing == nil {
		t.Fatalf("retry: %v %v", existing, err)
	}
	if existing.Status != 202 || string(existing.Body) != string(rec.Body) || existing.Location != rec.Location || string(existing.RequestHash) != string(rec.RequestHash) {
		t.Fatalf("replayed record %+v", existing)
	}
	if _, err := s.Upload(ctx, second.ID); stride.ErrorCode(err) != stride.ENOTFOUND {
		t.Fatalf("a retried request wrote a second upload: %v", err)
	}
	if pending, _ := s.PendingOutbox(ctx, 10); len(pending) != 1 {
		t.Fatalf("a retried request wrote %d outbox events", len(pending))
	}
	got, err := s.IdempotencyRecord(ctx, u.ID, "key-1", base.Add(time.Hour))
	if err != nil || got.Status != 202 {
		t.Fatalf("IdempotencyRecord = %+v, %v", got, err)
	}
	// Keys are per user.
	other := newUser(t, s, "idem2@example.com", base)
	_, err = s.IdempotencyRecord(ctx, other.ID, "key-1", base)
	wantCode(t, err, stride.ENOTFOUND)
	// Expired keys are gone for reads, may be reused, and are purged.
	later := base.Add(25 * time.Hour)
	_, err = s.IdempotencyRecord(ctx, u.ID, "key-1", later)
	wantCode(t, err, stride.ENOTFOUND)
	reuse := *rec
	reuse.CreatedAt, reuse.ExpiresAt = later, later.Add(24*time.Hour)
	if existing, err := s.AcceptUpload(ctx, newUpload(u.ID, "new", later), outboxEvent("activity.uploaded", u.ID, later), &reuse); err != nil || existing != nil {
		t.Fatalf("reuse of an expired key: %v %v", existing, err)
	}
	if n, err := s.PurgeIdempotency(ctx, later.Add(48*time.Hour)); err != nil || n != 1 {
		t.Fatalf("PurgeIdempotency = %d, %v", n, err)
	}
}

func newActivity(userID, uploadID string, start time.Time, hash string) *stride.Activity {
	hr := 151.5
	off := 3600
	return &stride.Activity{
		ID: stride.NewID(start), UserID: userID, UploadID: uploadID, Sport: "running", SubSport: "trail", Name: "Morning run",
		Visibility: stride.VisibilityPublic, StartTime: start, EndTime: start.Add(time.Hour), LocalStart: start.Add(time.Hour).Format("2006-01-02T15:04:05") + "+01:00",
		TimeZone: "Europe/Paris", UTCOffsetS: &off, ElapsedS: 3600, TimerS: 3500, MovingS: 3400, DistanceM: 10012.5,
		AscentM: 120, DescentM: 118, AvgSpeedMps: 2.86, MaxSpeedMps: 5.1, AvgHR: &hr, Calories: 712, Polyline: "_p~iF~ps|U_ulLnnqC",
		BBox: []float64{2.1, 48.1, 2.3, 48.2}, StartLatLng: []float64{48.1, 2.1}, EndLatLng: []float64{48.2, 2.3},
		Details: json.RawMessage(`{"metrics":{"splits_km":[]}}`), ContentHash: hashOf(hash), Device: "garmin fr945",
		CreatedAt: start, UpdatedAt: start,
	}
}

func complete(t *testing.T, s store.Store, up *stride.Upload, a *stride.Activity) (string, string) {
	t.Helper()
	streams := map[string][]byte{a.ID: []byte("streams-of-" + a.ID)}
	for _, c := range a.Children {
		streams[c.ID] = []byte("streams-of-" + c.ID)
	}
	status, id, err := s.CompleteUpload(context.Background(), up.ID, store.Completion{
		Activity: a, Streams: streams, Event: outboxEvent("activity.processed", up.UserID, a.CreatedAt),
	}, a.CreatedAt)
	if err != nil {
		t.Fatalf("complete upload: %v", err)
	}
	return status, id
}

func testCompleteStoresActivity(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "done@example.com", base)
	up := newUpload(u.ID, "tri", base)
	accept(t, s, up)
	parent := newActivity(u.ID, up.ID, base, "tri")
	parent.Sport, parent.AvgHR = "multisport", nil
	for i, sport := range []string{"swimming", "cycling", "running"} {
		c := newActivity(u.ID, up.ID, base.Add(time.Duration(i)*20*time.Minute), "")
		c.ID, c.ParentID, c.Sport, c.ContentHash = fmt.Sprintf("%s-leg%d", parent.ID, i), parent.ID, sport, nil
		parent.Children = append(parent.Children, *c)
	}
	status, id := complete(t, s, up, parent)
	if status != stride.UploadDone || id != parent.ID {
		t.Fatalf("CompleteUpload = %s %s", status, id)
	}
	got, err := s.Upload(ctx, up.ID)
	if err != nil || got.Status != stride.UploadDone || got.ActivityID != parent.ID {
		t.Fatalf("upload after completion: %+v %v", got, err)
	}
	a, err := s.Activity(ctx, parent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Sport != "multisport" || a.AvgHR != nil || a.DistanceM != 10012.5 || *a.UTCOffsetS != 3600 || a.TimeZone != "Europe/Paris" ||
		fmt.Sprint(a.BBox) != fmt.Sprint(parent.BBox) || fmt.Sprint(a.StartLatLng) != "[48.1 2.1]" || !a.StartTime.Equal(base) ||
		string(a.Details) != string(parent.Details) || a.LocalStart != parent.LocalStart || a.Device != "garmin fr945" {
		t.Fatalf("Activity = %+v", a)
	}
	if len(a.Children) != 3 || a.Children[0].Sport != "swimming" || a.Children[2].ParentID != parent.ID || *a.Children[1].AvgHR != 151.5 {
		t.Fatalf("children = %+v", a.Children)
	}
	for _, id := range []string{parent.ID, parent.Children[1].ID} {
		data, err := s.ActivityStreams(ctx, id)
		if err != nil || string(data) != "streams-of-"+id {
			t.Fatalf("streams of %s = %q, %v", id, data, err)
		}
	}
	_, err = s.ActivityStreams(ctx, "missing")
	wantCode(t, err, stride.ENOTFOUND)
	_, err = s.Activity(ctx, "missing")
	wantCode(t, err, stride.ENOTFOUND)
	pending, _ := s.PendingOutbox(ctx, 10)
	if len(pending) != 2 || pending[1].Type != "activity.processed" {
		t.Fatalf("outbox after completion: %+v", pending)
	}
	// Children are not listed on their own.
	list, _, err := s.ListActivities(ctx, u.ID, store.ActivityFilter{}, stride.Page{})
	if err != nil || len(list) != 1 || list[0].ID != parent.ID {
		t.Fatalf("ListActivities = %+v, %v", list, err)
	}
}

func testDuplicatesEndDuplicate(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "dups@example.com", base)
	up := newUpload(u.ID, "orig", base)
	accept(t, s, up)
	orig := newActivity(u.ID, up.ID, base, "orig")
	orig.ExternalID = "device-42"
	if status, _ := complete(t, s, up, orig); status != stride.UploadDone {
		t.Fatalf("first upload ended %s", status)
	}
	for name, mutate := range map[string]func(a *stride.Activity){
		"same content": func(a *stride.Activity) { a.StartTime = a.StartTime.Add(time.Hour) },
		"same external id": func(a *stride.Activity) {
			a.ContentHash, a.StartTime = hashOf("other-format"), a.StartTime.Add(2*time.Hour)
		},
		"same start": func(a *stride.Activity) {
			a.ContentHash, a.ExternalID, a.Sport = hashOf("tcx-version"), "", "treadmill_running"
		},
	} {
		t.Run(name, func(t *testing.T) {
			up := newUpload(u.ID, name, base.Add(time.Minute))
			accept(t, s, up)
			a := newActivity(u.ID, up.ID, base, "orig")
			a.ExternalID = "device-42"
			mutate(a)
			status, id := complete(t, s, up, a)
			if status != stride.UploadDuplicate || id != orig.ID {
				t.Fatalf("CompleteUpload = %s %s, want duplicate of %s", status, id, orig.ID)
			}
			if _, err := s.Activity(ctx, a.ID); stride.ErrorCode(err) != stride.ENOTFOUND {
				t.Fatalf("the duplicate was stored: %v", err)
			}
		})
	}
	// Another athlete may upload the same file.
	other := newUser(t, s, "dups2@example.com", base)
	up2 := newUpload(other.ID, "orig", base)
	accept(t, s, up2)
	if status, _ := complete(t, s, up2, newActivity(other.ID, up2.ID, base, "orig")); status != stride.UploadDone {
		t.Fatalf("another athlete's copy ended %s", status)
	}
	pending, _ := s.PendingOutbox(ctx, 100)
	processed := 0
	for _, e := range pending {
		if e.Type == "activity.processed" {
			processed++
		}
	}
	if processed != 2 {
		t.Fatalf("%d activity.processed events, want 2 (duplicates emit none)", processed)
	}
}

func testFinishedUploadsStayFinished(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "fin@example.com", base)
	up := newUpload(u.ID, "a", base)
	accept(t, s, up)
	a := newActivity(u.ID, up.ID, base, "a")
	complete(t, s, up, a)
	// A redelivered message completes again: same outcome, nothing new.
	b := newActivity(u.ID, up.ID, base.Add(time.Hour), "b")
	status, id := complete(t, s, up, b)
	if status != stride.UploadDone || id != a.ID {
		t.Fatalf("second completion = %s %s", status, id)
	}
	if _, err := s.Activity(ctx, b.ID); stride.ErrorCode(err) != stride.ENOTFOUND {
		t.Fatal("a redelivery stored a second activity")
	}
	if err := s.FailUpload(ctx, up.ID, stride.UploadProblem{Code: "corrupt_file", Detail: "x"}, base); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Upload(ctx, up.ID); got.Status != stride.UploadDone || got.Problem != nil {
		t.Fatalf("a done upload was failed: %+v", got)
	}
	claimed, err := s.ClaimUpload(ctx, up.ID, base)
	if err != nil || claimed.Status != stride.UploadDone || claimed.Attempts != 0 {
		t.Fatalf("claim of a done upload = %+v, %v", claimed, err)
	}

	bad := newUpload(u.ID, "bad", base)
	accept(t, s, bad)
	if err := s.FailUpload(ctx, bad.ID, stride.UploadProblem{Code: "corrupt_file", Detail: "bad CRC"}, base.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Upload(ctx, bad.ID)
	if got.Status != stride.UploadFailed || got.Problem == nil || got.Problem.Code != "corrupt_file" || got.Problem.Detail != "bad CRC" {
		t.Fatalf("failed upload = %+v", got)
	}
	if status, _ := complete(t, s, bad, newActivity(u.ID, bad.ID, base.Add(3*time.Hour), "bad")); status != stride.UploadFailed {
		t.Fatalf("a failed upload was completed: %s", status)
	}
}

func testListActivities(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "list@example.com", base)
	var ids []string
	vis := []string{stride.VisibilityPublic, stride.VisibilityFollowers, stride.VisibilityPrivate}
	for i := range 7 {
		at := base.Add(time.Duration(i) * 24 * time.Hour)
		up := newUpload(u.ID, fmt.Sprint(i), at)
		accept(t, s, up)
		a := newActivity(u.ID, up.ID, at, fmt.Sprint(i))
		a.Visibility = vis[i%3]
		if i%2 == 1 {
			a.Sport = "cycling"
		}
		complete(t, s, up, a)
		ids = append([]string{a.ID}, ids...) // newest first
	}
	var got []string
	cursor := ""
	for range 10 {
		page, next, err := s.ListActivities(ctx, u.ID, store.ActivityFilter{}, stride.Page{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page {
			got = append(got, a.ID)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Fatalf("paged\n got %v\nwant %v", got, ids)
	}
	count := func(f store.ActivityFilter) int {
		list, _, err := s.ListActivities(ctx, u.ID, f, stride.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	for name, tc := range map[string]struct {
		f    store.ActivityFilter
		want int
	}{
		"sport":       {store.ActivityFilter{Sport: "cycling"}, 3},
		"after":       {store.ActivityFilter{After: base.Add(48 * time.Hour)}, 5},
		"before":      {store.ActivityFilter{Before: base.Add(48 * time.Hour)}, 2},
		"window":      {store.ActivityFilter{After: base.Add(24 * time.Hour), Before: base.Add(72 * time.Hour)}, 2},
		"public only": {store.ActivityFilter{Visibilities: []string{stride.VisibilityPublic}}, 3},
		"follower":    {store.ActivityFilter{Visibilities: []string{stride.VisibilityPublic, stride.VisibilityFollowers}}, 5},
		"nobody's":    {store.ActivityFilter{Sport: "rowing"}, 0},
	} {
		if got := count(tc.f); got != tc.want {
			t.Errorf("%s: %d activities, want %d", name, got, tc.want)
		}
	}
}

func testStaleUploads(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "stale@example.com", base)
	old := newUpload(u.ID, "old", base)
	recent := newUpload(u.ID, "recent", base.Add(10*time.Minute))
	finished := newUpload(u.ID, "finished", base)
	for _, up := range []*stride.Upload{old, recent, finished} {
		accept(t, s, up)
	}
	if err := s.FailUpload(ctx, finished.ID, stride.UploadProblem{Code: "x", Detail: "y"}, base); err != nil {
		t.Fatal(err)
	}
	stale, err := s.StaleUploads(ctx, base.Add(5*time.Minute), 10)
	if err != nil || len(stale) != 1 || stale[0].ID != old.ID {
		t.Fatalf("StaleUploads = %+v, %v", stale, err)
	}
	if err := s.TouchUpload(ctx, old.ID, base.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if stale, _ := s.StaleUploads(ctx, base.Add(5*time.Minute), 10); len(stale) != 0 {
		t.Fatalf("touched upload still stale: %+v", stale)
	}
}

func testDeleteUserRemovesActivities(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "wipe@example.com", base)
	up := newUpload(u.ID, "w", base)
	rec := &store.IdempotencyRecord{UserID: u.ID, Key: "k", RequestHash: hashOf("r"), Status: 202, Body: []byte("{}"), CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	if _, err := s.AcceptUpload(ctx, up, outboxEvent("activity.uploaded", u.ID, base), rec); err != nil {
		t.Fatal(err)
	}
	a := newActivity(u.ID, up.ID, base, "w")
	complete(t, s, up, a)
	deleted := outboxEvent("user.deleted", u.ID, base)
	if err := s.DeleteUser(ctx, u.ID, deleted); err != nil {
		t.Fatal(err)
	}
	_, err := s.Activity(ctx, a.ID)
	wantCode(t, err, stride.ENOTFOUND)
	_, err = s.ActivityStreams(ctx, a.ID)
	wantCode(t, err, stride.ENOTFOUND)
	_, err = s.Upload(ctx, up.ID)
	wantCode(t, err, stride.ENOTFOUND)
	// The user's unsent events go, but not the deletion's own event,
	// written after them with the same key.
	pending, err := s.PendingOutbox(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 {
		t.Fatalf("pending outbox = %+v, want the deletion event alone", pending)
	}
	if got := pending[0]; got.ID != deleted.ID || got.Type != deleted.Type || got.Key != deleted.Key || string(got.Payload) != string(deleted.Payload) || !got.CreatedAt.Equal(deleted.CreatedAt) {
		t.Fatalf("pending outbox = %+v, want %+v", got, deleted)
	}
}

func testUpdateAndDeleteActivity(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "edit@example.com", base)
	other := newUser(t, s, "other-edit@example.com", base)
	up := newUpload(u.ID, "edit", base)
	accept(t, s, up)
	a := newActivity(u.ID, up.ID, base, "edit")
	leg := newActivity(u.ID, up.ID, base, "")
	leg.ID, leg.ParentID, leg.ContentHash = a.ID+"-1", a.ID, nil
	a.Children = []stride.Activity{*leg}
	complete(t, s, up, a)

	name, vis := "Renamed", stride.VisibilityPrivate
	got, err := s.UpdateActivity(ctx, u.ID, a.ID, store.ActivityUpdate{Name: &name, Visibility: &vis},
		eventOf("activity.updated", u.ID, base), base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Renamed" || got.Visibility != vis || got.Sport != "running" || got.Description != "" || !got.UpdatedAt.Equal(base.Add(time.Hour)) {
		t.Fatalf("updated activity = %+v", got)
	}
	if got.Children[0].Visibility != vis {
		t.Fatalf("a leg kept visibility %s", got.Children[0].Visibility)
	}
	_, err = s.UpdateActivity(ctx, other.ID, a.ID, store.ActivityUpdate{Name: &name}, eventOf("activity.updated", other.ID, base), base)
	wantCode(t, err, stride.ENOTFOUND)
	_, err = s.UpdateActivity(ctx, u.ID, leg.ID, store.ActivityUpdate{Name: &name}, eventOf("activity.updated", u.ID, base), base)
	wantCode(t, err, stride.ENOTFOUND)

	wantCode(t, s.DeleteActivity(ctx, other.ID, a.ID, eventOf("activity.deleted", other.ID, base)), stride.ENOTFOUND)
	if err := s.DeleteActivity(ctx, u.ID, a.ID, eventOf("activity.deleted", u.ID, base)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.ID, leg.ID} {
		_, err := s.Activity(ctx, id)
		wantCode(t, err, stride.ENOTFOUND)
		_, err = s.ActivityStreams(ctx, id)
		wantCode(t, err, stride.ENOTFOUND)
	}
	if got, _ := s.Upload(ctx, up.ID); got.ActivityID != "" {
		t.Fatalf("upload still points at the deleted activity: %+v", got)
	}
	// The same workout can be uploaded again once deleted.
	again := newUpload(u.ID, "edit", base.Add(time.Hour))
	accept(t, s, again)
	if status, _ := complete(t, s, again, newActivity(u.ID, again.ID, base, "edit")); status != stride.UploadDone {
		t.Fatalf("re-upload after delete ended %s", status)
	}
	pending, _ := s.PendingOutbox(ctx, 100)
	var types []string
	for _, e := range pending {
		types = append(types, e.Type)
	}
	if fmt.Sprint(types) != "[activity.uploaded activity.processed activity.updated activity.deleted activity.uploaded activity.processed]" {
		t.Fatalf("outbox: %v", types)
	}
}

// lastSeq returns the newest outbox event's sequence, to drop it.
func lastSeq(t *testing.T, s store.Store) []int64 {
	t.Helper()
	pending, err := s.PendingOutbox(context.Background(), 1000)
	if err != nil || len(pending) == 0 {
		t.Fatalf("outbox: %v %v", pending, err)
	}
	return []int64{pending[len(pending)-1].Seq}
}
