package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/sqlite"
	"github.com/stridehq/stride/store"
)

// storeActivity stores a as the outcome of an upload of its own.
func storeActivity(t *testing.T, db *sqlite.DB, a *stride.Activity) {
	t.Helper()
	ctx := context.Background()
	up := &stride.Upload{ID: stride.NewID(a.StartTime), UserID: a.UserID, Status: stride.UploadQueued, Format: "json",
		ContentHash: []byte(a.ID), Body: []byte("{}"), CreatedAt: a.StartTime, UpdatedAt: a.StartTime}
	ev := store.OutboxEvent{ID: "up-" + a.ID, Type: "activity.uploaded", Key: a.UserID, Payload: []byte("{}"), CreatedAt: a.StartTime}
	if _, err := db.AcceptUpload(ctx, up, ev, nil); err != nil {
		t.Fatal(err)
	}
	a.UploadID = up.ID
	for i := range a.Children {
		a.Children[i].UploadID = up.ID
	}
	done := ev
	done.ID, done.Type = "done-"+a.ID, "activity.processed"
	if status, _, err := db.CompleteUpload(ctx, up.ID, store.Completion{Activity: a, Event: done}, a.StartTime); err != nil || status != stride.UploadDone {
		t.Fatalf("complete: %s %v", status, err)
	}
}

func TestEditEventsSayWhatTheActivityCountedFor(t *testing.T) {
	ctx := context.Background()
	db, _, u := setup(t)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	mk := func(id, sport, start, localStart string) stride.Activity {
		s := at(start)
		return stride.Activity{ID: id, UserID: u.ID, Sport: sport, Visibility: stride.VisibilityPublic, StartTime: s,
			EndTime: s.Add(time.Hour), LocalStart: localStart, CreatedAt: s, UpdatedAt: s}
	}
	run := mk(stride.NewID(at("2026-03-15T03:30:00Z")), "running", "2026-03-15T03:30:00Z", "2026-03-14T22:30:00-05:00")
	run.Efforts = map[string]float64{"best_5k": 1500, "best_1k": 280}
	storeActivity(t, db, &run)
	tri := mk(stride.NewID(at("2026-03-20T23:30:00Z")), "multisport", "2026-03-20T23:30:00Z", "")
	tri.Children = []stride.Activity{
		mk(tri.ID+"-1", "swimming", "2026-03-20T23:30:00Z", "2026-03-21T00:30:00+01:00"),
		mk(tri.ID+"-2", "cycling", "2026-03-21T00:10:00Z", ""),
	}
	tri.Children[1].Efforts = map[string]float64{"power_20m": 250}
	for i := range tri.Children {
		tri.Children[i].ParentID = tri.ID
	}
	storeActivity(t, db, &tri)

	svc := ingest.New(db, quiet, time.Now, "test")
	sport := "cycling"
	if _, err := svc.UpdateActivity(ctx, u.ID, run.ID, store.ActivityUpdate{Sport: &sport}); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteActivity(ctx, u.ID, tri.ID); err != nil {
		t.Fatal(err)
	}
	pending, err := db.PendingOutbox(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]ingest.CountedAs{}
	for _, e := range pending {
		if e.Type != ingest.EventUpdated && e.Type != ingest.EventDeleted {
			continue
		}
		var env bus.Event
		var data ingest.ChangedData
		if err := json.Unmarshal(e.Payload, &env); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(env.Data, &data); err != nil {
			t.Fatal(err)
		}
		got[e.Type] = data.Before
	}
	want := map[string][]ingest.CountedAs{
		// The sport it had, not the one it was changed to; the local date.
		// With the effort boards it was on.
		ingest.EventUpdated: {{Sport: "running", LocalDate: "2026-03-14", Efforts: []string{"best_1k", "best_5k"}}},
		// One entry per leg; the UTC date where the local start is unknown.
		ingest.EventDeleted: {{Sport: "swimming", LocalDate: "2026-03-21"}, {Sport: "cycling", LocalDate: "2026-03-21", Efforts: []string{"power_20m"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("before in events\n got %v\nwant %v", fmt.Sprint(got), fmt.Sprint(want))
	}
}
