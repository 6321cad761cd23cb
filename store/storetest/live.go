package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/store"
)

var liveTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"LiveCreateAndGet", testLiveCreateAndGet},
	{"ActiveLive", testActiveLive},
	{"AppendLive", testAppendLive},
	{"AppendLiveConcurrentSameBatch", testAppendLiveConcurrentSameBatch},
	{"AppendLiveConcurrentSequences", testAppendLiveConcurrentSequences},
	{"LiveBatchesPaging", testLiveBatchesPaging},
	{"SetLiveStatus", testSetLiveStatus},
	{"FinishLive", testFinishLive},
	{"PurgeLive", testPurgeLive},
	{"DeleteUserRemovesLive", testDeleteUserRemovesLive},
}

func newLive(t *testing.T, s store.Store, userID string, started time.Time) *store.LiveActivity {
	t.Helper()
	a := &store.LiveActivity{ID: stride.NewID(started), UserID: userID, Sport: "running", Name: "Lunch run",
		Visibility: stride.VisibilityFollowers, StartedAt: started, UpdatedAt: started}
	if err := s.CreateLive(context.Background(), a); err != nil {
		t.Fatalf("create live activity: %v", err)
	}
	return a
}

func loadLive(t *testing.T, s store.Store, id string) *store.LiveActivity {
	t.Helper()
	a, err := s.LiveActivity(context.Background(), id)
	if err != nil {
		t.Fatalf("load live activity %s: %v", id, err)
	}
	return a
}

func appendLive(t *testing.T, s store.Store, liveID string, batch int64, count int, at time.Time) {
	t.Helper()
	dup, err := s.AppendLive(context.Background(), liveID, batch, livePoints(batch, count), count, at)
	if err != nil || dup {
		t.Fatalf("append batch %d: duplicate %v, %v", batch, dup, err)
	}
}

// livePoints is a batch as a device would send it, distinct per batch so
// that a batch read back can be told from another.
func livePoints(batch int64, count int) []byte {
	out := []byte("[")
	for i := range count {
		if i > 0 {
			out = append(out, ',')
		}
		out = fmt.Appendf(out, `{"t":%d,"hr":%d}`, batch*100+int64(i), 120+i)
	}
	return append(out, ']')
}

func liveString(a *store.LiveActivity) string {
	return fmt.Sprintf("id=%s user=%s sport=%s name=%q vis=%s status=%s started=%s updated=%s last=%d points=%d upload=%q",
		a.ID, a.UserID, a.Sport, a.Name, a.Visibility, a.Status, a.StartedAt.UTC().Format(time.RFC3339Nano),
		a.UpdatedAt.UTC().Format(time.RFC3339Nano), a.LastBatch, a.Points, a.UploadID)
}

func wantLive(t *testing.T, got, want *store.LiveActivity) {
	t.Helper()
	if g, w := liveString(got), liveString(want); g != w {
		t.Fatalf("live activity\n got %s\nwant %s", g, w)
	}
}

func testLiveCreateAndGet(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "live@example.com", base)
	// What the caller sets beyond the description is ignored: a live
	// activity starts recording with nothing stored.
	a := &store.LiveActivity{ID: stride.NewID(base), UserID: u.ID, Sport: "cycling", Name: "Evening ride",
		Visibility: stride.VisibilityPublic, Status: store.LiveFinished, StartedAt: base, UpdatedAt: base.Add(time.Second),
		LastBatch: 7, Points: 70, UploadID: "up"}
	if err := s.CreateLive(ctx, a); err != nil {
		t.Fatal(err)
	}
	want := &store.LiveActivity{ID: a.ID, UserID: u.ID, Sport: "cycling", Name: "Evening ride", Visibility: stride.VisibilityPublic,
		Status: store.LiveRecording, StartedAt: base, UpdatedAt: base.Add(time.Second)}
	wantLive(t, a, want)
	wantLive(t, loadLive(t, s, a.ID), want)

	_, err := s.LiveActivity(ctx, "missing")
	wantCode(t, err, stride.ENOTFOUND)
	again := *want
	wantCode(t, s.CreateLive(ctx, &again), stride.ECONFLICT)
	orphan := &store.LiveActivity{ID: stride.NewID(base), UserID: "missing", Sport: "running", Visibility: stride.VisibilityPublic,
		StartedAt: base, UpdatedAt: base}
	wantCode(t, s.CreateLive(ctx, orphan), stride.ENOTFOUND)
	_, err = s.LiveActivity(ctx, orphan.ID)
	wantCode(t, err, stride.ENOTFOUND)
}

func testActiveLive(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, other := newUser(t, s, "active@example.com", base), newUser(t, s, "active-other@example.com", base)
	older := newLive(t, s, u.ID, base)
	paused := newLive(t, s, u.ID, base.Add(time.Hour))
	finished := newLive(t, s, u.ID, base.Add(2*time.Hour))
	newLive(t, s, other.ID, base.Add(3*time.Hour))
	if err := s.SetLiveStatus(ctx, paused.ID, store.LivePaused, base.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishLive(ctx, finished.ID, "up-"+finished.ID, base.Add(150*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user string
		want []string
	}{
		{u.ID, []string{paused.ID, older.ID}},
		{"nobody", nil},
	} {
		got, err := s.ActiveLive(ctx, tc.user)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range got {
			ids = append(ids, a.ID)
			if a.UserID != tc.user {
				t.Errorf("ActiveLive(%s) lists %s of %s", tc.user, a.ID, a.UserID)
			}
		}
		if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
			t.Errorf("ActiveLive(%s) = %v, want %v (newest first)", tc.user, ids, tc.want)
		}
		if len(got) > 0 && got[0].Status != store.LivePaused {
			t.Errorf("the paused activity is listed %s", got[0].Status)
		}
	}
}

func testAppendLive(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "append@example.com", base)
	a := newLive(t, s, u.ID, base)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }
	// Steps on one activity, in order: each says what the call returns and
	// what the activity then holds.
	steps := []struct {
		name       string
		live       string
		batch      int64
		count      int
		finish     bool // finish the activity before this step
		wantDup    bool
		wantCode   string
		wantLast   int64
		wantPoints int
		wantAt     time.Time // UpdatedAt afterwards
	}{
		{name: "first", batch: 1, count: 3, wantLast: 1, wantPoints: 3, wantAt: at(1)},
		{name: "next", batch: 2, count: 2, wantLast: 2, wantPoints: 5, wantAt: at(2)},
		{name: "empty batch", batch: 3, count: 0, wantLast: 3, wantPoints: 5, wantAt: at(3)},
		{name: "resend of the last", batch: 3, count: 4, wantDup: true, wantLast: 3, wantPoints: 5, wantAt: at(3)},
		{name: "resend of an earlier", batch: 1, count: 9, wantDup: true, wantLast: 3, wantPoints: 5, wantAt: at(3)},
		{name: "gap", batch: 5, count: 1, wantCode: stride.ECONFLICT, wantLast: 3, wantPoints: 5, wantAt: at(3)},
		{name: "batch zero", batch: 0, count: 1, wantCode: stride.EINVALID, wantLast: 3, wantPoints: 5, wantAt: at(3)},
		{name: "negative count", batch: 4, count: -1, wantCode: stride.EINVALID, wantLast: 3, wantPoints: 5, wantAt: at(3)},
		{name: "missing activity", live: "missing", batch: 1, count: 1, wantCode: stride.ENOTFOUND, wantLast: 3, wantPoints: 5, wantAt: at(3)},
		{name: "after the gap is filled", batch: 4, count: 1, wantLast: 4, wantPoints: 6, wantAt: at(10)},
		{name: "to a finished activity", finish: true, batch: 5, count: 1, wantCode: stride.ECONFLICT, wantLast: 4, wantPoints: 6, wantAt: at(20)},
		{name: "resend to a finished activity", batch: 4, count: 1, wantCode: stride.ECONFLICT, wantLast: 4, wantPoints: 6, wantAt: at(20)},
	}
	for i, st := range steps {
		if st.finish {
			if err := s.FinishLive(ctx, a.ID, "up-"+a.ID, at(20)); err != nil {
				t.Fatal(err)
			}
		}
		live := a.ID
		if st.live != "" {
			live = st.live
		}
		dup, err := s.AppendLive(ctx, live, st.batch, livePoints(st.batch, st.count+10*i), st.count, at(i+1))
		if got := stride.ErrorCode(err); got != st.wantCode || dup != st.wantDup {
			t.Fatalf("%s: duplicate %v, error %q (%v); want %v, %q", st.name, dup, got, err, st.wantDup, st.wantCode)
		}
		got := loadLive(t, s, a.ID)
		if got.LastBatch != st.wantLast || got.Points != st.wantPoints || !got.UpdatedAt.Equal(st.wantAt) {
			t.Fatalf("%s: last batch %d, points %d, updated %s; want %d, %d, %s", st.name, got.LastBatch, got.Points,
				got.UpdatedAt, st.wantLast, st.wantPoints, st.wantAt)
		}
	}
	// Only what was first stored of each batch is kept.
	batches, err := s.LiveBatches(ctx, a.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		batch int64
		step  int
	}{{1, 0}, {2, 1}, {3, 2}, {4, 9}}
	if len(batches) != len(want) {
		t.Fatalf("%d batches stored, want %d: %+v", len(batches), len(want), batches)
	}
	for i, w := range want {
		b := batches[i]
		if b.Batch != w.batch || string(b.Points) != string(livePoints(w.batch, steps[w.step].count+10*w.step)) ||
			b.Count != steps[w.step].count || !b.ReceivedAt.Equal(at(w.step+1)) || b.LiveID != a.ID {
			t.Errorf("batch %d = %+v (%s)", w.batch, b, b.Points)
		}
	}
}

// Two connections of one device may send the same batch at once: exactly
// one stores it, the others learn it is stored.
func testAppendLiveConcurrentSameBatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "race@example.com", base)
	a := newLive(t, s, u.ID, base)
	const n = 8
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		dups   = make([]bool, n)
		errs   = make([]error, n)
		points = livePoints(1, 5)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			dups[i], errs[i] = s.AppendLive(ctx, a.ID, 1, points, 5, base.Add(time.Second))
		})
	}
	close(start)
	wg.Wait()
	stored := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("append %d: %v", i, errs[i])
		}
		if !dups[i] {
			stored++
		}
	}
	if stored != 1 {
		t.Fatalf("%d of %d concurrent appends of one batch stored it, want 1", stored, n)
	}
	got := loadLive(t, s, a.ID)
	if got.LastBatch != 1 || got.Points != 5 {
		t.Fatalf("last batch %d, points %d; want 1, 5", got.LastBatch, got.Points)
	}
	if batches, err := s.LiveBatches(ctx, a.ID, 0, 10); err != nil || len(batches) != 1 {
		t.Fatalf("LiveBatches = %+v, %v; want one", batches, err)
	}
}

// Connections racing through the same sequence: each batch is stored once,
// and Points counts each once.
func testAppendLiveConcurrentSequences(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "race-seq@example.com", base)
	a := newLive(t, s, u.ID, base)
	const conns, batches, count = 4, 12, 3
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		stored = map[int64]int{}
	)
	for range conns {
		wg.Go(func() {
			// A connection sends a batch only after its previous one was
			// acknowledged, stored or duplicate, so it never makes a gap.
			for b := int64(1); b <= batches; b++ {
				dup, err := s.AppendLive(ctx, a.ID, b, livePoints(b, count), count, base.Add(time.Duration(b)*time.Second))
				if err != nil {
					t.Errorf("append %d: %v", b, err)
					return
				}
				if !dup {
					mu.Lock()
					stored[b]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for b := int64(1); b <= batches; b++ {
		if stored[b] != 1 {
			t.Errorf("batch %d stored by %d connections, want 1", b, stored[b])
		}
	}
	got := loadLive(t, s, a.ID)
	if got.LastBatch != batches || got.Points != batches*count {
		t.Fatalf("last batch %d, points %d; want %d, %d", got.LastBatch, got.Points, batches, batches*count)
	}
}

func testLiveBatchesPaging(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "replay@example.com", base)
	a, other := newLive(t, s, u.ID, base), newLive(t, s, u.ID, base)
	for b := int64(1); b <= 7; b++ {
		appendLive(t, s, a.ID, b, int(b), base.Add(time.Duration(b)*time.Second))
		appendLive(t, s, other.ID, b, 1, base.Add(time.Duration(b)*time.Second))
	}
	for _, tc := range []struct {
		after int64
		limit int
		want  []int64
	}{
		{0, 3, []int64{1, 2, 3}},
		{3, 3, []int64{4, 5, 6}},
		{6, 3, []int64{7}},
		{7, 3, nil},
		{0, 100, []int64{1, 2, 3, 4, 5, 6, 7}},
		{2, 1, []int64{3}},
		{0, 0, nil},
	} {
		got, err := s.LiveBatches(ctx, a.ID, tc.after, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var nums []int64
		for _, b := range got {
			nums = append(nums, b.Batch)
			if b.LiveID != a.ID || b.Count != int(b.Batch) || string(b.Points) != string(livePoints(b.Batch, int(b.Batch))) ||
				!b.ReceivedAt.Equal(base.Add(time.Duration(b.Batch)*time.Second)) {
				t.Errorf("after %d: batch %+v (%s)", tc.after, b, b.Points)
			}
		}
		if fmt.Sprint(nums) != fmt.Sprint(tc.want) {
			t.Errorf("LiveBatches(after %d, limit %d) = %v, want %v", tc.after, tc.limit, nums, tc.want)
		}
	}
	if got, err := s.LiveBatches(ctx, "missing", 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("LiveBatches(missing) = %+v, %v", got, err)
	}
}

func testSetLiveStatus(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "pause@example.com", base)
	a := newLive(t, s, u.ID, base)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	for i, st := range []struct {
		name     string
		live     string
		status   string
		finish   bool
		wantCode string
		want     string    // status afterwards
		wantAt   time.Time // UpdatedAt afterwards
	}{
		{name: "pause", status: store.LivePaused, want: store.LivePaused, wantAt: at(0)},
		{name: "pause again", status: store.LivePaused, want: store.LivePaused, wantAt: at(1)},
		{name: "resume", status: store.LiveRecording, want: store.LiveRecording, wantAt: at(2)},
		{name: "finish is not a status to set", status: store.LiveFinished, wantCode: stride.EINVALID, want: store.LiveRecording, wantAt: at(2)},
		{name: "unknown status", status: "sleeping", wantCode: stride.EINVALID, want: store.LiveRecording, wantAt: at(2)},
		{name: "missing activity", live: "missing", status: store.LivePaused, wantCode: stride.ENOTFOUND, want: store.LiveRecording, wantAt: at(2)},
		{name: "finished", finish: true, status: store.LivePaused, wantCode: stride.ECONFLICT, want: store.LiveFinished, wantAt: at(30)},
	} {
		if st.finish {
			if err := s.FinishLive(ctx, a.ID, "up-"+a.ID, at(30)); err != nil {
				t.Fatal(err)
			}
		}
		live := a.ID
		if st.live != "" {
			live = st.live
		}
		wantCode(t, s.SetLiveStatus(ctx, live, st.status, at(i)), st.wantCode)
		got := loadLive(t, s, a.ID)
		if got.Status != st.want || !got.UpdatedAt.Equal(st.wantAt) {
			t.Fatalf("%s: status %s updated %s, want %s %s", st.name, got.Status, got.UpdatedAt, st.want, st.wantAt)
		}
	}
}

func testFinishLive(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := newUser(t, s, "finish@example.com", base)
	a := newLive(t, s, u.ID, base)
	appendLive(t, s, a.ID, 1, 4, base.Add(time.Second))
	end := base.Add(time.Hour)
	if err := s.FinishLive(ctx, a.ID, "up-1", end); err != nil {
		t.Fatal(err)
	}
	want := *a
	want.Status, want.UploadID, want.UpdatedAt, want.LastBatch, want.Points = store.LiveFinished, "up-1", end, 1, 4
	wantLive(t, loadLive(t, s, a.ID), &want)
	// Again with the same upload (a retried request): nothing changes.
	if err := s.FinishLive(ctx, a.ID, "up-1", end.Add(time.Minute)); err != nil {
		t.Fatalf("finishing again as the same upload: %v", err)
	}
	wantLive(t, loadLive(t, s, a.ID), &want)
	wantCode(t, s.FinishLive(ctx, a.ID, "up-2", end.Add(time.Minute)), stride.ECONFLICT)
	wantLive(t, loadLive(t, s, a.ID), &want)
	wantCode(t, s.FinishLive(ctx, a.ID, "", end.Add(time.Minute)), stride.EINVALID)
	wantCode(t, s.FinishLive(ctx, "missing", "up-1", end), stride.ENOTFOUND)
	// A paused activity finishes too.
	p := newLive(t, s, u.ID, base)
	if err := s.SetLiveStatus(ctx, p.ID, store.LivePaused, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishLive(ctx, p.ID, "up-p", end); err != nil {
		t.Fatal(err)
	}
	if got := loadLive(t, s, p.ID); got.Status != store.LiveFinished || got.UploadID != "up-p" {
		t.Fatalf("paused activity after finish: %s", liveString(got))
	}
	if active, err := s.ActiveLive(ctx, u.ID); err != nil || len(active) != 0 {
		t.Fatalf("ActiveLive after finishing all = %+v, %v", active, err)
	}
}

func testPurgeLive(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, other := newUser(t, s, "purge-live@example.com", base), newUser(t, s, "purge-live-2@example.com", base)
	h := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }
	cutoff, staleCutoff := h(2), h(4)
	// The cutoffs differ so that applying one where the other belongs
	// purges or keeps the wrong activity.
	cases := []struct {
		name     string
		user     string
		finished time.Time // zero: unfinished
		touched  time.Time // last append, when not zero
		paused   time.Time // paused then, when not zero
		purged   bool
	}{
		{name: "finished before the cutoff", user: u.ID, finished: h(1), purged: true},
		{name: "finished at the cutoff", user: u.ID, finished: h(2)},
		{name: "finished between the cutoffs", user: other.ID, finished: h(3)},
		{name: "stale recording", user: u.ID, touched: h(3), purged: true},
		{name: "stale paused", user: other.ID, paused: h(1), purged: true},
		{name: "recording updated at the stale cutoff", user: u.ID, touched: h(4)},
		{name: "recording since before, appended after", user: u.ID, touched: h(5)},
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		a := newLive(t, s, c.user, base)
		ids[i] = a.ID
		appendLive(t, s, a.ID, 1, 2, base.Add(time.Minute))
		if !c.touched.IsZero() {
			appendLive(t, s, a.ID, 2, 2, c.touched)
		}
		if !c.paused.IsZero() {
			if err := s.SetLiveStatus(ctx, a.ID, store.LivePaused, c.paused); err != nil {
				t.Fatal(err)
			}
		}
		if !c.finished.IsZero() {
			if err := s.FinishLive(ctx, a.ID, "up-"+a.ID, c.finished); err != nil {
				t.Fatal(err)
			}
		}
	}
	n, err := s.PurgeLive(ctx, cutoff, staleCutoff)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for i, c := range cases {
		_, err := s.LiveActivity(ctx, ids[i])
		batches, berr := s.LiveBatches(ctx, ids[i], 0, 10)
		if berr != nil {
			t.Fatal(berr)
		}
		switch {
		case c.purged:
			want++
			if stride.ErrorCode(err) != stride.ENOTFOUND || len(batches) != 0 {
				t.Errorf("%s: not purged (%v, %d batches)", c.name, err, len(batches))
			}
		case err != nil || len(batches) == 0:
			t.Errorf("%s: purged (%v, %d batches)", c.name, err, len(batches))
		}
	}
	if n != int64(want) {
		t.Errorf("PurgeLive = %d, want %d", n, want)
	}
	if n, err := s.PurgeLive(ctx, cutoff, staleCutoff); err != nil || n != 0 {
		t.Fatalf("second PurgeLive = %d, %v; want 0", n, err)
	}
}

func testDeleteUserRemovesLive(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, keep := newUser(t, s, "live-gone@example.com", base), newUser(t, s, "live-kept@example.com", base)
	gone, done, kept := newLive(t, s, u.ID, base), newLive(t, s, u.ID, base), newLive(t, s, keep.ID, base)
	for _, id := range []string{gone.ID, done.ID, kept.ID} {
		appendLive(t, s, id, 1, 3, base.Add(time.Second))
	}
	if err := s.FinishLive(ctx, done.ID, "up-"+done.ID, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID, outboxEvent("user.deleted", u.ID, base)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{gone.ID, done.ID} {
		_, err := s.LiveActivity(ctx, id)
		wantCode(t, err, stride.ENOTFOUND)
		if batches, err := s.LiveBatches(ctx, id, 0, 10); err != nil || len(batches) != 0 {
			t.Fatalf("batches of a deleted user's live activity = %+v, %v", batches, err)
		}
	}
	if active, err := s.ActiveLive(ctx, u.ID); err != nil || len(active) != 0 {
		t.Fatalf("ActiveLive of a deleted user = %+v, %v", active, err)
	}
	if batches, err := s.LiveBatches(ctx, kept.ID, 0, 10); err != nil || len(batches) != 1 {
		t.Fatalf("another user's batches = %+v, %v", batches, err)
	}
}
