package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

var standingsTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"ActivityFacts", testActivityFacts},
	{"FactsVersion", testFactsVersion},
	{"SaveStandingsReplaces", testSaveStandingsReplaces},
	{"SaveStandingsOfDeletedUser", testSaveStandingsOfDeletedUser},
	{"EditEventSeesBefore", testEditEventSeesBefore},
	{"FailedEventBuilderRollsBack", testFailedEventBuilderRollsBack},
}

// addActivity accepts an upload and completes it as a.
func addActivity(t *testing.T, s store.Store, a *stride.Activity) {
	t.Helper()
	up := newUpload(a.UserID, a.ID, a.CreatedAt)
	accept(t, s, up)
	a.UploadID = up.ID
	for i := range a.Children {
		a.Children[i].UploadID = up.ID
	}
	if status, _ := complete(t, s, up, a); status != stride.UploadDone {
		t.Fatalf("upload of %s ended %s", a.ID, status)
	}
}

// multisport returns a parent with one leg per sport, the legs starting
// at the given offsets from start.
func multisport(userID string, start time.Time, hash string, sports []string, offsets []time.Duration) *stride.Activity {
	parent := newActivity(userID, "", start, hash)
	parent.Sport = "multisport"
	for i, sport := range sports {
		c := newActivity(userID, "", start.Add(offsets[i]), "")
		c.ID, c.ParentID, c.Sport, c.ContentHash = fmt.Sprintf("%s-%d", parent.ID, i+1), parent.ID, sport, nil
		parent.Children = append(parent.Children, *c)
	}
	return parent
}

func testActivityFacts(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "facts@example.com", base)
	other := newUser(t, s, "facts-other@example.com", base)

	// Late in the evening west of Greenwich: the local date is the day
	// before the UTC date.
	evening := newActivity(u.ID, "", time.Date(2026, 3, 15, 3, 30, 0, 0, time.UTC), "evening")
	evening.LocalStart, evening.Indoor, evening.Virtual = "2026-03-14T22:30:00-05:00", true, true
	evening.Efforts = map[string]float64{"best_5k": 1499.5, "best_1k": 281.25, "power_20m": 251}
	addActivity(t, s, evening)

	// No local start known: the UTC date counts; no efforts at all.
	plain := newActivity(u.ID, "", time.Date(2026, 3, 16, 23, 59, 59, 0, time.UTC), "plain")
	plain.LocalStart, plain.Sport, plain.Visibility = "", "walking", stride.VisibilityPrivate
	addActivity(t, s, plain)

	// A triathlon: its legs count, with the parent's visibility, and the
	// parent does not. The last two legs start together (the tie-break is
	// the id) and are listed out of id order, so insertion order is not
	// enough.
	triStart := time.Date(2026, 3, 17, 6, 0, 0, 0, time.UTC)
	tri := multisport(u.ID, triStart, "tri", []string{"swimming", "cycling", "running"}, []time.Duration{0, time.Hour, time.Hour})
	tri.Visibility = stride.VisibilityFollowers
	tri.Children[0].Efforts = map[string]float64{"best_400m": 402}
	tri.Children[1].Efforts = map[string]float64{"power_5m": 300.5}
	tri.Children[2].Efforts = map[string]float64{"best_5k": 1600}
	for i := range tri.Children {
		tri.Children[i].Visibility = stride.VisibilityPublic
		tri.Children[i].LocalStart = tri.Children[i].StartTime.Add(time.Hour).Format("2006-01-02T15:04:05") + "+01:00"
		tri.Children[i].DistanceM = float64(1000 * (i + 1))
	}
	tri.Children[1], tri.Children[2] = tri.Children[2], tri.Children[1]
	tri.Efforts = map[string]float64{"best_5k": 1}
	addActivity(t, s, tri)

	// Someone else's activity is never among the user's facts.
	addActivity(t, s, newActivity(other.ID, "", base, "other"))

	want := []stride.ActivityFacts{
		{ActivityID: evening.ID, UserID: u.ID, Sport: "running", StartTime: evening.StartTime, LocalDate: "2026-03-14",
			Visibility: stride.VisibilityPublic, Indoor: true, Virtual: true, DistanceM: 10012.5, MovingS: 3400, ElapsedS: 3600,
			AscentM: 120, Efforts: evening.Efforts},
		{ActivityID: plain.ID, UserID: u.ID, Sport: "walking", StartTime: plain.StartTime, LocalDate: "2026-03-16",
			Visibility: stride.VisibilityPrivate, DistanceM: 10012.5, MovingS: 3400, ElapsedS: 3600, AscentM: 120},
		{ActivityID: tri.ID + "-1", ParentID: tri.ID, UserID: u.ID, Sport: "swimming", StartTime: triStart, LocalDate: "2026-03-17",
			Visibility: stride.VisibilityFollowers, DistanceM: 1000, MovingS: 3400, ElapsedS: 3600, AscentM: 120,
			Efforts: map[string]float64{"best_400m": 402}},
		{ActivityID: tri.ID + "-2", ParentID: tri.ID, UserID: u.ID, Sport: "cycling", StartTime: triStart.Add(time.Hour),
			LocalDate: "2026-03-17", Visibility: stride.VisibilityFollowers, DistanceM: 2000, MovingS: 3400, ElapsedS: 3600,
			AscentM: 120, Efforts: map[string]float64{"power_5m": 300.5}},
		{ActivityID: tri.ID + "-3", ParentID: tri.ID, UserID: u.ID, Sport: "running", StartTime: triStart.Add(time.Hour),
			LocalDate: "2026-03-17", Visibility: stride.VisibilityFollowers, DistanceM: 3000, MovingS: 3400, ElapsedS: 3600,
			AscentM: 120, Efforts: map[string]float64{"best_5k": 1600}},
	}
	checkFacts := func(t *testing.T, want []stride.ActivityFacts) {
		t.Helper()
		got, err := s.ActivityFacts(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d facts, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			if diff := factsDiff(want[i], got[i]); diff != "" {
				t.Errorf("fact %d (%s): %s", i, want[i].ActivityID, diff)
			}
		}
	}
	checkFacts(t, want)

	// Changing the parent's visibility changes its legs'.
	vis := stride.VisibilityPrivate
	if _, err := s.UpdateActivity(ctx, u.ID, tri.ID, store.ActivityUpdate{Visibility: &vis}, eventOf("activity.updated", u.ID, base), base); err != nil {
		t.Fatal(err)
	}
	for i := 2; i < 5; i++ {
		want[i].Visibility = vis
	}
	checkFacts(t, want)

	// The efforts are kept with the activity itself too.
	a, err := s.Activity(ctx, tri.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Efforts, tri.Efforts) || !reflect.DeepEqual(a.Children[2].Efforts, map[string]float64{"best_5k": 1600}) {
		t.Fatalf("stored efforts: parent %v, last leg %v", a.Efforts, a.Children[2].Efforts)
	}
	if facts, err := s.ActivityFacts(ctx, "nobody"); err != nil || len(facts) != 0 {
		t.Fatalf("facts of an unknown user = %+v, %v", facts, err)
	}

	// Several users in one read: each user's facts as ActivityFacts gives
	// them, and no key for a user without any.
	idle := newUser(t, s, "facts-idle@example.com", base)
	byUser, err := s.ActivityFactsOfUsers(ctx, []string{other.ID, "nobody", u.ID, idle.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(byUser) != 2 {
		t.Fatalf("facts of %d users, want 2 (the idle and the unknown have none): %v", len(byUser), byUser)
	}
	for _, id := range []string{u.ID, other.ID} {
		one, err := s.ActivityFacts(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(byUser[id]) != len(one) {
			t.Fatalf("user %s: %d facts read together, %d alone", id, len(byUser[id]), len(one))
		}
		for i := range one {
			if diff := factsDiff(one[i], byUser[id][i]); diff != "" {
				t.Errorf("user %s, fact %d: %s", id, i, diff)
			}
		}
	}
	if none, err := s.ActivityFactsOfUsers(ctx, nil); err != nil || len(none) != 0 {
		t.Fatalf("facts of no users = %v, %v", none, err)
	}
}

// Every transaction that adds, edits or deletes an activity raises the
// athlete's facts version by exactly one (a multisport activity and its
// legs are one transaction), and each read returns the version its facts
// were read at.
func testFactsVersion(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "version@example.com", base)
	other := newUser(t, s, "version-other@example.com", base)
	version := func(t *testing.T) store.FactsVersion {
		t.Helper()
		v, facts, err := s.VersionedFacts(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.ActivityFacts(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(facts) != len(all) {
			t.Fatalf("VersionedFacts gave %d facts, ActivityFacts %d", len(facts), len(all))
		}
		for i := range all {
			if diff := factsDiff(all[i], facts[i]); diff != "" {
				t.Fatalf("fact %d: %s", i, diff)
			}
		}
		return v
	}
	v0 := version(t)

	run := newActivity(u.ID, "", time.Date(2026, 4, 1, 7, 0, 0, 0, time.UTC), "version-run")
	addActivity(t, s, run)
	v1 := version(t)
	if v1 != v0+1 {
		t.Fatalf("a new activity took the version from %d to %d, want +1", v0, v1)
	}
	v, facts, err := s.FactsOfActivity(ctx, u.ID, run.ID)
	if err != nil || v != v1 || len(facts) != 1 || facts[0].ActivityID != run.ID {
		t.Fatalf("FactsOfActivity(run) = %d, %+v, %v; want version %d and the run", v, facts, err, v1)
	}

	// A multisport activity: its legs, with the parent's visibility, in
	// start order; one transaction, one step.
	tri := multisport(u.ID, time.Date(2026, 4, 2, 6, 0, 0, 0, time.UTC), "version-tri", []string{"swimming", "cycling"}, []time.Duration{0, time.Hour})
	tri.Visibility = stride.VisibilityFollowers
	tri.Children[0], tri.Children[1] = tri.Children[1], tri.Children[0]
	addActivity(t, s, tri)
	v2 := version(t)
	if v2 != v1+1 {
		t.Fatalf("a multisport activity took the version from %d to %d, want +1", v1, v2)
	}
	v, facts, err = s.FactsOfActivity(ctx, u.ID, tri.ID)
	if err != nil || v != v2 || len(facts) != 2 {
		t.Fatalf("FactsOfActivity(triathlon) = %d, %+v, %v", v, facts, err)
	}
	for i, sport := range []string{"swimming", "cycling"} {
		if f := facts[i]; f.Sport != sport || f.ParentID != tri.ID || f.Visibility != stride.VisibilityFollowers {
			t.Errorf("leg %d = %+v, want %s, of %s, followers", i, f, sport, tri.ID)
		}
	}

	// Someone else's activity does not change this athlete's version,
	// and is not found under this athlete.
	theirs := newActivity(other.ID, "", base, "version-theirs")
	addActivity(t, s, theirs)
	if v := version(t); v != v2 {
		t.Fatalf("another athlete's activity moved the version from %d to %d", v2, v)
	}
	if _, facts, err := s.FactsOfActivity(ctx, u.ID, theirs.ID); err != nil || len(facts) != 0 {
		t.Fatalf("FactsOfActivity(another's activity) = %+v, %v", facts, err)
	}

	vis := stride.VisibilityPrivate
	if _, err := s.UpdateActivity(ctx, u.ID, tri.ID, store.ActivityUpdate{Visibility: &vis}, eventOf("activity.updated", u.ID, base), base); err != nil {
		t.Fatal(err)
	}
	v3 := version(t)
	if v3 <= v2 {
		t.Fatalf("an edit left the version at %d (was %d)", v3, v2)
	}
	if err := s.DeleteActivity(ctx, u.ID, run.ID, eventOf("activity.deleted", u.ID, base)); err != nil {
		t.Fatal(err)
	}
	v4 := version(t)
	if v4 <= v3 {
		t.Fatalf("a deletion left the version at %d (was %d)", v4, v3)
	}
	if v, facts, err := s.FactsOfActivity(ctx, u.ID, run.ID); err != nil || v != v4 || len(facts) != 0 {
		t.Fatalf("FactsOfActivity(deleted) = %d, %+v, %v", v, facts, err)
	}
	if v, facts, err := s.VersionedFacts(ctx, "nobody"); err != nil || v != 0 || len(facts) != 0 {
		t.Fatalf("VersionedFacts(unknown user) = %d, %+v, %v", v, facts, err)
	}
}

// factsDiff compares facts, a nil and an empty effort map alike.
func factsDiff(want, got stride.ActivityFacts) string {
	if len(want.Efforts) == 0 && len(got.Efforts) == 0 {
		want.Efforts, got.Efforts = nil, nil
	}
	if !want.StartTime.Equal(got.StartTime) {
		return fmt.Sprintf("start %v, want %v", got.StartTime, want.StartTime)
	}
	want.StartTime, got.StartTime = time.Time{}, time.Time{}
	if !reflect.DeepEqual(want, got) {
		return fmt.Sprintf("\n got %+v\nwant %+v", got, want)
	}
	return ""
}

func testSaveStandingsReplaces(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "standings@example.com", base)
	other := newUser(t, s, "standings-other@example.com", base)
	day := 24 * time.Hour

	otherAch := []stride.Achievement{{UserID: other.ID, Type: "5k_runner", ActivityID: "o1", AchievedAt: base, Value: 5000}}
	otherRec := []stride.Record{{UserID: other.ID, Effort: "best_5k", ActivityID: "o1", AchievedAt: base, Value: 1700}}
	if err := s.SaveStandings(ctx, other.ID, otherAch, otherRec, nil); err != nil {
		t.Fatal(err)
	}

	// Given out of order: the store returns achievements oldest first, ties
	// by type, and records by effort, then oldest first.
	achievements := []stride.Achievement{
		{UserID: u.ID, Type: "streak_days_7", ActivityID: "a3", AchievedAt: base.Add(7 * day), Value: 7, Description: "7 days in a row"},
		{UserID: u.ID, Type: "distance_100km", ActivityID: "a1", AchievedAt: base, Value: 100000, Description: "100 km in total"},
		{UserID: u.ID, Type: "5k_runner", ActivityID: "a1", AchievedAt: base, Value: 5000, Description: "First 5 km"},
	}
	records := []stride.Record{
		{UserID: u.ID, Effort: "power_20m", ActivityID: "a2", AchievedAt: base.Add(day), Value: 250.5},
		{UserID: u.ID, Effort: "best_5k", ActivityID: "a3", AchievedAt: base.Add(7 * day), Value: 1450.25, PreviousValue: ptr(1500.0), PreviousActivityID: "a1"},
		{UserID: u.ID, Effort: "best_5k", ActivityID: "a1", AchievedAt: base, Value: 1500},
	}
	events := []store.OutboxEvent{outboxEvent("achievement.earned", u.ID, base), outboxEvent("record.set", u.ID, base.Add(time.Second))}
	if err := s.SaveStandings(ctx, u.ID, achievements, records, events); err != nil {
		t.Fatal(err)
	}
	checkStandings(t, s, u.ID, []stride.Achievement{achievements[2], achievements[1], achievements[0]},
		[]stride.Record{records[2], records[1], records[0]})
	pending, err := s.PendingOutbox(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pending); n < 2 || pending[n-2].ID != events[0].ID || pending[n-1].ID != events[1].ID ||
		pending[n-1].Type != "record.set" || pending[n-1].Key != u.ID || string(pending[n-1].Payload) != string(events[1].Payload) {
		t.Fatalf("outbox after SaveStandings: %+v", pending)
	}

	// A new computation replaces the sets whole, including with nothing.
	replaced := []stride.Achievement{{UserID: u.ID, Type: "5k_runner", ActivityID: "a9", AchievedAt: base.Add(9 * day), Value: 5000}}
	if err := s.SaveStandings(ctx, u.ID, replaced, nil, nil); err != nil {
		t.Fatal(err)
	}
	checkStandings(t, s, u.ID, replaced, nil)
	if err := s.SaveStandings(ctx, u.ID, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	checkStandings(t, s, u.ID, nil, nil)
	if after, _ := s.PendingOutbox(ctx, 100); len(after) != len(pending) {
		t.Fatalf("saves without events wrote %d events", len(after)-len(pending))
	}
	// Another user's standings are untouched.
	checkStandings(t, s, other.ID, otherAch, otherRec)

	// A set that cannot be stored (the same type twice) writes nothing.
	twice := []stride.Achievement{replaced[0], replaced[0]}
	if err := s.SaveStandings(ctx, u.ID, twice, nil, []store.OutboxEvent{outboxEvent("achievement.earned", u.ID, base)}); err == nil {
		t.Fatal("the same achievement type was saved twice")
	}
	checkStandings(t, s, u.ID, nil, nil)
	if after, _ := s.PendingOutbox(ctx, 100); len(after) != len(pending) {
		t.Fatalf("a failed save wrote %d events", len(after)-len(pending))
	}
}

func checkStandings(t *testing.T, s store.Store, userID string, wantAch []stride.Achievement, wantRec []stride.Record) {
	t.Helper()
	ctx := context.Background()
	ach, err := s.Achievements(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ach) != len(wantAch) {
		t.Fatalf("achievements = %+v, want %+v", ach, wantAch)
	}
	for i, w := range wantAch {
		g := ach[i]
		if !g.AchievedAt.Equal(w.AchievedAt) {
			t.Errorf("achievement %d achieved at %v, want %v", i, g.AchievedAt, w.AchievedAt)
		}
		g.AchievedAt, w.AchievedAt = time.Time{}, time.Time{}
		if g != w {
			t.Errorf("achievement %d\n got %+v\nwant %+v", i, g, w)
		}
	}
	rec, err := s.Records(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec) != len(wantRec) {
		t.Fatalf("records = %+v, want %+v", rec, wantRec)
	}
	for i, w := range wantRec {
		g := rec[i]
		if !g.AchievedAt.Equal(w.AchievedAt) {
			t.Errorf("record %d achieved at %v, want %v", i, g.AchievedAt, w.AchievedAt)
		}
		if (g.PreviousValue == nil) != (w.PreviousValue == nil) || (g.PreviousValue != nil && *g.PreviousValue != *w.PreviousValue) {
			t.Errorf("record %d previous value %v, want %v", i, g.PreviousValue, w.PreviousValue)
		}
		g.AchievedAt, w.AchievedAt, g.PreviousValue, w.PreviousValue = time.Time{}, time.Time{}, nil, nil
		if g != w {
			t.Errorf("record %d\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func testSaveStandingsOfDeletedUser(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "standings-gone@example.com", base)
	ach := []stride.Achievement{{UserID: u.ID, Type: "5k_runner", ActivityID: "a1", AchievedAt: base, Value: 5000}}
	rec := []stride.Record{{UserID: u.ID, Effort: "best_5k", ActivityID: "a1", AchievedAt: base, Value: 1500}}
	if err := s.SaveStandings(ctx, u.ID, ach, rec, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID, outboxEvent("user.deleted", u.ID, base)); err != nil {
		t.Fatal(err)
	}
	drainOutbox(t, s)
	checkStandings(t, s, u.ID, nil, nil)
	for _, id := range []string{u.ID, "never-existed"} {
		for i := range ach {
			ach[i].UserID = id
		}
		for i := range rec {
			rec[i].UserID = id
		}
		if err := s.SaveStandings(ctx, id, ach, rec, []store.OutboxEvent{outboxEvent("achievement.earned", id, base)}); err != nil {
			t.Fatalf("SaveStandings for missing user %s: %v", id, err)
		}
		checkStandings(t, s, id, nil, nil)
	}
	if pending, _ := s.PendingOutbox(ctx, 10); len(pending) != 0 {
		t.Fatalf("events written for a missing user: %+v", pending)
	}
}

// drainOutbox deletes every pending event, as the relay would after
// publishing them, so that a test can then check what it writes alone.
func drainOutbox(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	pending, err := s.PendingOutbox(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	seqs := make([]int64, len(pending))
	for i, e := range pending {
		seqs[i] = e.Seq
	}
	if err := s.DeleteOutbox(ctx, seqs); err != nil {
		t.Fatal(err)
	}
}

// beforeOf is an event builder that keeps what it was given.
func beforeOf(typ, key string, got **stride.Activity) func(*stride.Activity) (store.OutboxEvent, error) {
	return func(before *stride.Activity) (store.OutboxEvent, error) {
		*got = before
		return outboxEvent(typ, key, base), nil
	}
}

func testEditEventSeesBefore(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "before@example.com", base)
	solo := newActivity(u.ID, "", base, "solo")
	solo.Visibility = stride.VisibilityFollowers
	addActivity(t, s, solo)
	tri := multisport(u.ID, base.Add(24*time.Hour), "tri", []string{"swimming", "cycling"}, []time.Duration{0, 30 * time.Minute})
	tri.Children[1].LocalStart = ""
	addActivity(t, s, tri)

	sport, vis := "cycling", stride.VisibilityPrivate
	var before *stride.Activity
	if _, err := s.UpdateActivity(ctx, u.ID, solo.ID, store.ActivityUpdate{Sport: &sport, Visibility: &vis},
		beforeOf("activity.updated", u.ID, &before), base); err != nil {
		t.Fatal(err)
	}
	if before == nil || before.ID != solo.ID || before.Sport != "running" || before.Visibility != stride.VisibilityFollowers ||
		!before.StartTime.Equal(solo.StartTime) || before.LocalStart != solo.LocalStart || len(before.Children) != 0 {
		t.Fatalf("before of the update = %+v", before)
	}
	// A second edit sees the first.
	if _, err := s.UpdateActivity(ctx, u.ID, solo.ID, store.ActivityUpdate{}, beforeOf("activity.updated", u.ID, &before), base); err != nil {
		t.Fatal(err)
	}
	if before.Sport != "cycling" || before.Visibility != vis {
		t.Fatalf("before of the second update = %+v", before)
	}

	checkLegs := func(t *testing.T, what string, before *stride.Activity, vis string) {
		t.Helper()
		if before == nil || before.ID != tri.ID || before.Sport != "multisport" || len(before.Children) != 2 {
			t.Fatalf("%s: before = %+v", what, before)
		}
		for i, leg := range before.Children {
			w := tri.Children[i]
			if leg.ID != w.ID || leg.Sport != w.Sport || !leg.StartTime.Equal(w.StartTime) || leg.LocalStart != w.LocalStart || leg.Visibility != vis {
				t.Errorf("%s: leg %d = %+v, want %s %s %v %q %s", what, i, leg, w.ID, w.Sport, w.StartTime, w.LocalStart, vis)
			}
		}
	}
	before = nil
	if _, err := s.UpdateActivity(ctx, u.ID, tri.ID, store.ActivityUpdate{Visibility: &vis}, beforeOf("activity.updated", u.ID, &before), base); err != nil {
		t.Fatal(err)
	}
	checkLegs(t, "update", before, stride.VisibilityPublic)
	before = nil
	if err := s.DeleteActivity(ctx, u.ID, tri.ID, beforeOf("activity.deleted", u.ID, &before)); err != nil {
		t.Fatal(err)
	}
	checkLegs(t, "delete", before, vis)
}

func testFailedEventBuilderRollsBack(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "rollback@example.com", base)
	tri := multisport(u.ID, base, "tri", []string{"swimming", "running"}, []time.Duration{0, time.Hour})
	addActivity(t, s, tri)
	pending, _ := s.PendingOutbox(ctx, 100)
	errBuild := errors.New("cannot build the event")
	failing := func(*stride.Activity) (store.OutboxEvent, error) { return store.OutboxEvent{}, errBuild }
	name, vis := "Renamed", stride.VisibilityPrivate

	for op, change := range map[string]func() error{
		"update": func() error {
			_, err := s.UpdateActivity(ctx, u.ID, tri.ID, store.ActivityUpdate{Name: &name, Visibility: &vis}, failing, base.Add(time.Hour))
			return err
		},
		"delete": func() error { return s.DeleteActivity(ctx, u.ID, tri.ID, failing) },
	} {
		t.Run(op, func(t *testing.T) {
			if err := change(); !errors.Is(err, errBuild) {
				t.Fatalf("error = %v, want the builder's", err)
			}
			a, err := s.Activity(ctx, tri.ID)
			if err != nil {
				t.Fatalf("the activity is gone: %v", err)
			}
			if a.Name != tri.Name || a.Visibility != tri.Visibility || len(a.Children) != 2 || a.Children[1].Visibility != tri.Children[1].Visibility ||
				!a.UpdatedAt.Equal(tri.UpdatedAt) {
				t.Fatalf("the activity changed: %+v", a)
			}
			if after, _ := s.PendingOutbox(ctx, 100); len(after) != len(pending) {
				t.Fatalf("outbox grew from %d to %d events", len(pending), len(after))
			}
		})
	}
}
