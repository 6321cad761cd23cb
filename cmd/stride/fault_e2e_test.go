package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/internal/e2e"
	"github.com/stridehq/stride/internal/testenv"
	stridenats "github.com/stridehq/stride/nats"
)

// Fault tests (DESIGN.md §8): crash a part of the pipeline while uploads
// flow and check that every accepted upload ends done exactly once. They run
// on private brokers only (the embedded one, or a nats-server of their own);
// the machine's shared servers are never stopped.

// faultWorkout is a small JSON workout with a GPS track. Each i gets its own
// start time: two uploads with the same sport and start are the same workout
// by design and would end duplicate.
func faultWorkout(i int) []byte {
	start := time.Date(2025, 1, 1, 6, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
	var b strings.Builder
	fmt.Fprintf(&b, `{"sport": "running", "start_time": %q, "name": "fault %d", "points": [`, start.Format(time.RFC3339), i)
	for p := range 60 {
		if p > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"t": %q, "lat": %.6f, "lon": %.6f, "hr": %d}`,
			start.Add(time.Duration(p)*5*time.Second).Format(time.RFC3339), 48.85+float64(p)*0.0001, 2.35+float64(p)*0.0001, 120+p%30)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

// uploadWorkouts uploads workouts from..to-1, each of which must be accepted
// with 202, and returns their upload ids.
func uploadWorkouts(t *testing.T, c *e2e.Client, token string, from, to int) []string {
	t.Helper()
	ids := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		r := c.Do("POST", "/api/v1/activities", token, faultWorkout(i))
		wantStatus(t, r, 202)
		var a accepted
		r.JSON(t, &a)
		ids = append(ids, a.UploadID)
	}
	return ids
}

// uploadStatusOf reads one upload's status.
func uploadStatusOf(t *testing.T, c *e2e.Client, token, id string) uploadStatus {
	t.Helper()
	r := c.Do("GET", "/api/v1/uploads/"+id, token, nil)
	wantStatus(t, r, 200)
	var st uploadStatus
	r.JSON(t, &st)
	return st
}

// userActivities lists every activity of a user, following the cursor.
func userActivities(t *testing.T, c *e2e.Client, token, userID string) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for {
		r := c.Do("GET", "/api/v1/users/"+userID+"/activities?limit=200"+cursor, token, nil)
		wantStatus(t, r, 200)
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		r.JSON(t, &page)
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.NextCursor == nil || len(page.Items) == 0 {
			return ids
		}
		cursor = "&cursor=" + *page.NextCursor
	}
}

// waitAllDoneOnce waits until every upload is finished, then checks that
// each ended done with its own activity, and that the user's history holds
// exactly those activities: nothing lost, nothing processed twice.
func waitAllDoneOnce(t *testing.T, c *e2e.Client, token, userID string, uploads []string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	activityOf := map[string]string{}
	pending := slices.Clone(uploads)
	for len(pending) > 0 {
		var still []string
		for _, id := range pending {
			st := uploadStatusOf(t, c, token, id)
			switch st.Status {
			case "queued", "processing":
				still = append(still, id)
			case "done":
				if st.ActivityID == nil {
					t.Fatalf("upload %s done without an activity", id)
				}
				activityOf[id] = *st.ActivityID
			default:
				t.Fatalf("upload %s ended %s %+v, want done", id, st.Status, st.Error)
			}
		}
		pending = still
		if len(pending) > 0 && time.Now().After(deadline) {
			t.Fatalf("%d of %d uploads still unfinished after 2 minutes (first: %s)", len(pending), len(uploads), pending[0])
		}
		if len(pending) > 0 {
			time.Sleep(250 * time.Millisecond)
		}
	}
	want := map[string]bool{}
	for up, a := range activityOf {
		if want[a] {
			t.Fatalf("activity %s is the outcome of two uploads (one of them %s)", a, up)
		}
		want[a] = true
	}
	listed := userActivities(t, c, token, userID)
	if len(listed) != len(uploads) {
		t.Fatalf("the user has %d activities for %d accepted uploads", len(listed), len(uploads))
	}
	for _, a := range listed {
		if !want[a] {
			t.Fatalf("activity %s is listed but no upload ended with it", a)
		}
	}
}

// sharedRedis is the leaderboard setting of split roles, which must share
// their boards: the test Redis under a prefix of the test's own.
func sharedRedis(t *testing.T) []string {
	testenv.Reachable(t, "Redis", testenv.RedisURL())
	prefix := testenv.Name("e2e_fault")
	t.Cleanup(func() { testenv.DeleteRedisKeys(t, prefix) })
	return []string{"STRIDE_REDIS_URL=" + testenv.RedisURL(), "STRIDE_REDIS_PREFIX=" + prefix}
}

// faultEnv is the environment every process of a fault test shares.
func faultEnv(extra ...string) []string {
	return append([]string{"STRIDE_JWT_SECRET=" + testSecret, "STRIDE_LOG_FORMAT=json"}, extra...)
}

func with(env []string, extra ...string) []string {
	return append(slices.Clip(env), extra...)
}

// TestFaultServeKilledAfterAccepting crashes the one-box server (SQLite and
// embedded NATS in one process) right after a batch of 202s and restarts it
// on the same data dir: the outbox, the embedded JetStream store and
// redelivery of unacked messages must between them finish every upload.
func TestFaultServeKilledAfterAccepting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	listen := fmt.Sprintf("127.0.0.1:%d", e2e.FreePort(t))
	const token = "fault-test-bus-token"
	env := faultEnv("STRIDE_BUS_LISTEN="+listen, "STRIDE_BUS_LISTEN_TOKEN="+token)
	srv := e2e.Start(t, strideBin, dir, env...)
	c := e2e.NewClient(t, srv.URL)
	g := register(t, c, "crash@example.com", "Crash")
	ids := uploadWorkouts(t, c, g.AccessToken, 0, 60)
	last := uploadStatusOf(t, c, g.AccessToken, ids[len(ids)-1])
	srv.Kill(t)
	t.Logf("killed with the last upload %s", last.Status)

	srv = e2e.Start(t, strideBin, dir, env...)
	c = e2e.NewClient(t, srv.URL)
	waitAllDoneOnce(t, c, g.AccessToken, g.User.ID, ids)

	// The embedded bus is reachable for operator commands through
	// --bus-listen, with its token; nothing failed, so nothing is dead
	// lettered.
	out, errOut, err := runCommand(t, map[string]string{"STRIDE_BUS_URL": "nats://" + token + "@" + listen}, "deadletters", "list")
	if err != nil || !strings.Contains(out, "no dead letters in group worker") {
		t.Fatalf("deadletters list: %v\n%s%s", err, out, errOut)
	}
	if _, _, err := runCommand(t, nil, "deadletters", "list", "--bus-url", "nats://"+listen); err == nil {
		t.Fatal("deadletters list got in without the bus token")
	}
}

// TestFaultWorkerKilledMidLoad runs the API and the worker as separate
// processes on PostgreSQL and a private nats-server, kills -9 the worker
// while uploads flow and starts a new one. The message the dead worker held
// is redelivered after the consumer's AckWait.
func TestFaultWorkerKilledMidLoad(t *testing.T) {
	t.Parallel()
	ns := e2e.StartNATS(t, t.TempDir(), 0)
	env := faultEnv(append(sharedRedis(t), "STRIDE_DATABASE_URL="+testenv.PostgresSchema(t), "STRIDE_BUS_URL="+ns.URL)...)
	api := e2e.Start(t, strideBin, t.TempDir(), with(env, "STRIDE_ROLE=api")...)
	worker := e2e.Start(t, strideBin, t.TempDir(), with(env, "STRIDE_ROLE=worker")...)
	c := e2e.NewClient(t, api.URL)
	g := register(t, c, "worker-crash@example.com", "Worker Crash")

	ids := uploadWorkouts(t, c, g.AccessToken, 0, 30)
	// Kill only once the worker has demonstrably been working.
	deadline := time.Now().Add(time.Minute)
	for len(userActivities(t, c, g.AccessToken, g.User.ID)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the worker processed nothing within a minute\n%s", worker.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	ids = append(ids, uploadWorkouts(t, c, g.AccessToken, 30, 40)...)
	worker.Kill(t)
	done := len(userActivities(t, c, g.AccessToken, g.User.ID))
	t.Logf("worker killed with %d of %d uploads done", done, len(ids))
	// Uploads keep being accepted while no worker runs.
	ids = append(ids, uploadWorkouts(t, c, g.AccessToken, 40, 60)...)
	e2e.Start(t, strideBin, t.TempDir(), with(env, "STRIDE_ROLE=worker")...)
	ids = append(ids, uploadWorkouts(t, c, g.AccessToken, 60, 70)...)
	waitAllDoneOnce(t, c, g.AccessToken, g.User.ID, ids)
}

// TestFaultBusUnreachable kills the private nats-server while uploads are
// accepted: the API keeps answering 202 (the events wait in the outbox), the
// metrics say the bus is down, and once the broker is back on the same
// address and store the relay catches up.
func TestFaultBusUnreachable(t *testing.T) {
	t.Parallel()
	natsDir := t.TempDir()
	ns := e2e.StartNATS(t, natsDir, 0)
	srv := e2e.Start(t, strideBin, t.TempDir(), faultEnv("STRIDE_BUS_URL="+ns.URL)...)
	c := e2e.NewClient(t, srv.URL)
	g := register(t, c, "no-bus@example.com", "No Bus")
	ids := uploadWorkouts(t, c, g.AccessToken, 0, 10)
	waitAllDoneOnce(t, c, g.AccessToken, g.User.ID, ids)

	ns.Kill(t)
	ids = append(ids, uploadWorkouts(t, c, g.AccessToken, 10, 40)...)
	waitMetric(t, c, "stride_bus_up 0")
	for _, id := range ids[10:] {
		if st := uploadStatusOf(t, c, g.AccessToken, id); st.Status != "queued" {
			t.Fatalf("upload %s is %s with the bus down; only queued is possible", id, st.Status)
		}
	}

	e2e.StartNATS(t, natsDir, ns.Port)
	waitAllDoneOnce(t, c, g.AccessToken, g.User.ID, ids)
	waitMetric(t, c, "stride_bus_up 1")
}

// waitMetric polls /metrics until a line starts with want.
func waitMetric(t *testing.T, c *e2e.Client, want string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r := c.Undocumented().Do("GET", "/metrics", "", nil)
		wantStatus(t, r, 200)
		sc := bufio.NewScanner(strings.NewReader(string(r.Body)))
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metric %q within a minute:\n%s", want, r.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestFaultAckedMessageLost has the broker lose messages it acknowledged:
// the API (no worker running) relays a batch, the test purges the events
// stream, and only then starts a worker. Nothing is left on the bus, so only
// the sweeper, reading the upload rows, can get those uploads done.
func TestFaultAckedMessageLost(t *testing.T) {
	t.Parallel()
	ns := e2e.StartNATS(t, t.TempDir(), 0)
	env := faultEnv(append(sharedRedis(t), "STRIDE_DATABASE_URL="+testenv.PostgresSchema(t), "STRIDE_BUS_URL="+ns.URL)...)
	api := e2e.Start(t, strideBin, t.TempDir(), with(env, "STRIDE_ROLE=api", "STRIDE_SWEEP_AFTER=4s", "STRIDE_SWEEP_EVERY=500ms")...)
	c := e2e.NewClient(t, api.URL)
	g := register(t, c, "lost@example.com", "Lost")
	ids := uploadWorkouts(t, c, g.AccessToken, 0, 20)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nc, err := natsgo.Connect(ns.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "stride_events")
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the broker has acknowledged every event (the relay deletes
	// an outbox row only after the PubAck), then lose them all.
	for {
		info, err := stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs >= uint64(len(ids)) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the broker holds %d of %d events after a minute", info.State.Msgs, len(ids))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := stream.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if info, err := stream.Info(ctx); err != nil || info.State.Msgs != 0 {
		t.Fatalf("after purge: %+v %v", info, err)
	}
	for _, id := range ids {
		if st := uploadStatusOf(t, c, g.AccessToken, id); st.Status != "queued" {
			t.Fatalf("upload %s is %s before any worker ran", id, st.Status)
		}
	}

	e2e.Start(t, strideBin, t.TempDir(), with(env, "STRIDE_ROLE=worker")...)
	waitAllDoneOnce(t, c, g.AccessToken, g.User.ID, ids)
	if !strings.Contains(api.Logs(), "re-published stale uploads") {
		t.Fatalf("uploads ended done but the sweeper never re-published: the purge did not take\n%s", api.Logs())
	}
}

// TestFaultPoisonMessage puts an activity.uploaded event the worker can
// never handle on the bus: it must be dead lettered after its bounded
// retries while valid uploads flow, listed by 'stride deadletters list',
// counted in the metrics, and dead lettered again after a replay.
func TestFaultPoisonMessage(t *testing.T) {
	t.Parallel()
	ns := e2e.StartNATS(t, t.TempDir(), 0)
	srv := e2e.Start(t, strideBin, t.TempDir(), faultEnv("STRIDE_BUS_URL="+ns.URL)...)
	c := e2e.NewClient(t, srv.URL)
	g := register(t, c, "poison@example.com", "Poison")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := stridenats.Connect(ctx, ns.URL, stridenats.Options{Prefix: "stride"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	poison := bus.Event{ID: "poison-" + strings.TrimPrefix(testenv.Name("p"), "p_"), Type: ingest.EventUploaded,
		Source: "/fault-test", Subject: "poison", Key: "poison-athlete", Data: json.RawMessage(`{"upload_id": ""}`)}
	if err := b.Publish(ctx, poison); err != nil {
		t.Fatal(err)
	}
	ids := uploadWorkouts(t, c, g.AccessToken, 0, 30)
	waitAllDoneOnce(t, c, g.AccessToken, g.User.ID, ids)

	first := waitDeadLetter(t, ns.URL, poison.ID, time.Time{})
	if first.Attempts != bus.DefaultMaxAttempts || !strings.Contains(first.Error, "bad activity.uploaded payload") {
		t.Fatalf("dead letter %+v: want %d attempts and the worker's error", first, bus.DefaultMaxAttempts)
	}
	out, errOut, err := runCommand(t, nil, "deadletters", "list", "--bus-url", ns.URL)
	if err != nil || !strings.Contains(out, poison.ID) || !strings.Contains(out, "1 dead letter(s) in group worker") {
		t.Fatalf("deadletters list: %v\n%s%s", err, out, errOut)
	}
	waitMetric(t, c, `stride_bus_dead_letters{group="worker"} 1`)

	out, errOut, err = runCommand(t, nil, "deadletters", "replay", "--bus-url", ns.URL, poison.ID)
	if err != nil || !strings.Contains(out, "replayed 1 dead letter(s) to group worker") {
		t.Fatalf("deadletters replay: %v\n%s%s", err, out, errOut)
	}
	// Still poison: it comes back to the dead letters, failed anew.
	again := waitDeadLetter(t, ns.URL, poison.ID, first.FailedAt)
	if again.Attempts != bus.DefaultMaxAttempts {
		t.Fatalf("replayed dead letter %+v", again)
	}
	if _, _, err := runCommand(t, nil, "deadletters", "replay", "--bus-url", ns.URL, "no-such-event"); err == nil {
		t.Fatal("replaying an unknown id succeeded")
	}
	if n := len(userActivities(t, c, g.AccessToken, g.User.ID)); n != len(ids) {
		t.Fatalf("%d activities for %d uploads after the poison's replay", n, len(ids))
	}
}

// waitDeadLetter polls 'stride deadletters list --json' until event id is
// listed with a failure time after the given one.
func waitDeadLetter(t *testing.T, busURL, id string, after time.Time) deadLetterJSON {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, errOut, err := runCommand(t, nil, "deadletters", "list", "--json", "--bus-url", busURL)
		if err != nil {
			t.Fatalf("deadletters list: %v\n%s", err, errOut)
		}
		dec := json.NewDecoder(strings.NewReader(out))
		for dec.More() {
			var dl deadLetterJSON
			if err := dec.Decode(&dl); err != nil {
				t.Fatalf("deadletters list --json: %v\n%s", err, out)
			}
			if dl.ID == id && dl.FailedAt.After(after) {
				return dl
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s not dead lettered within 90s; listed:\n%s", id, out)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
