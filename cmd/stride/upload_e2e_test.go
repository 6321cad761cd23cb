package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/stridehq/stride/activity"
	"github.com/stridehq/stride/internal/e2e"
	"github.com/stridehq/stride/internal/testenv"
	"github.com/stridehq/stride/rabbitmq"
)

// pipeline is one way to run the write path: store and bus.
type pipeline struct {
	name string
	env  func(t *testing.T) []string
}

var pipelines = []pipeline{
	{"embedded", func(*testing.T) []string { return nil }},
	{"postgres+nats", func(t *testing.T) []string {
		url := testenv.NATSURL()
		testenv.Reachable(t, "NATS", url)
		prefix := "e2e-" + strings.TrimPrefix(testenv.Name("n"), "n_")
		t.Cleanup(func() { deleteNATSStreams(t, url, prefix) })
		return []string{"STRIDE_DATABASE_URL=" + testenv.PostgresSchema(t), "STRIDE_BUS_URL=" + url, "STRIDE_BUS_PREFIX=" + prefix}
	}},
	{"postgres+rabbitmq", func(t *testing.T) []string {
		url := testenv.AMQPURL()
		testenv.Reachable(t, "RabbitMQ", url)
		prefix := "e2e-" + strings.TrimPrefix(testenv.Name("r"), "r_")
		t.Cleanup(func() { deleteRabbitQueues(t, url, prefix) })
		return []string{"STRIDE_DATABASE_URL=" + testenv.PostgresSchema(t), "STRIDE_BUS_URL=" + url, "STRIDE_BUS_PREFIX=" + prefix}
	}},
}

func deleteNATSStreams(t *testing.T, url, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Errorf("cleanup %s: %v", prefix, err)
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Errorf("cleanup %s: %v", prefix, err)
		return
	}
	for _, s := range []string{prefix + "_events", prefix + "_dlq"} {
		if err := js.DeleteStream(ctx, s); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("cleanup: delete stream %s: %v", s, err)
		}
	}
}

func deleteRabbitQueues(t *testing.T, url, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := rabbitmq.Connect(ctx, url, rabbitmq.Options{Prefix: prefix, Groups: []string{"worker"}})
	if err != nil {
		t.Errorf("cleanup %s: %v", prefix, err)
		return
	}
	_ = b.Close()
	if err := b.Teardown(ctx); err != nil {
		t.Errorf("cleanup %s: %v", prefix, err)
	}
}

var mediaTypes = map[string]string{
	".fit": "application/vnd.ant.fit", ".gpx": "application/gpx+xml", ".tcx": "application/vnd.garmin.tcx+xml",
}

type uploadStatus struct {
	ID         string  `json:"id"`
	Status     string  `json:"status"`
	ActivityID *string `json:"activity_id"`
	Error      *struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	} `json:"error"`
}

// uploadFile posts a file and returns the immediate response.
func uploadFile(t *testing.T, c *e2e.Client, token, path string, header ...string) *e2e.Response {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(path)
	ct := mediaTypes[filepath.Ext(strings.TrimSuffix(name, ".gz"))]
	if ct == "" {
		ct = "application/octet-stream"
	}
	return c.Do("POST", "/api/v1/activities?filename="+name, token, body, append([]string{"Content-Type", ct}, header...)...)
}

// waitUpload polls an upload until it is finished.
func waitUpload(t *testing.T, c *e2e.Client, token, id string) uploadStatus {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		r := c.Do("GET", "/api/v1/uploads/"+id, token, nil)
		wantStatus(t, r, 200)
		var st uploadStatus
		r.JSON(t, &st)
		if st.Status != "queued" && st.Status != "processing" {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("upload %s still %s after 90 s", id, st.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type accepted struct {
	UploadID  string `json:"upload_id"`
	Status    string `json:"status"`
	StatusURL string `json:"status_url"`
}

// sameActivityPairs reads SOURCES.md for files recorded as "same activity
// as" another: the second upload of such a pair must end duplicate.
func sameActivityPairs(t *testing.T, corpus string) map[string]string {
	f, err := os.Open(filepath.Join(corpus, "SOURCES.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`^\| (\S+) \|.*same activity as (\S+\.\w+)`)
	pairs := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			pairs[m[1]] = m[2]
		}
	}
	return pairs
}

func nearlyEqual(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func TestUploadCorpusEndToEnd(t *testing.T) {
	corpus := testenv.Corpus(t)
	var files []string
	for _, dir := range []string{"fit", "gpx", "tcx"} {
		matches, _ := filepath.Glob(filepath.Join(corpus, dir, "*"))
		files = append(files, matches...)
	}
	if len(files) < 30 {
		t.Fatalf("only %d corpus files found in %s", len(files), corpus)
	}
	pairs := sameActivityPairs(t, corpus)
	if len(pairs) == 0 {
		t.Fatal("SOURCES.md lists no same-activity pairs: the duplicate check would test nothing")
	}
	for _, p := range pipelines {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			env := append(p.env(t), "STRIDE_JWT_SECRET="+testSecret, "STRIDE_LOG_FORMAT=json")
			srv := e2e.Start(t, strideBin, t.TempDir(), env...)
			c := e2e.NewClient(t, srv.URL)
			g := register(t, c, "uploader@example.com", "Uploader")

			ids := map[string]string{} // corpus-relative path → upload id
			for _, f := range files {
				r := uploadFile(t, c, g.AccessToken, f)
				wantStatus(t, r, 202)
				var a accepted
				r.JSON(t, &a)
				if a.Status != "queued" || r.Header.Get("Location") != a.StatusURL {
					t.Fatalf("%s: 202 body %s, Location %q", f, r.Body, r.Header.Get("Location"))
				}
				rel, _ := filepath.Rel(corpus, f)
				ids[rel] = a.UploadID
			}
			activityOf := map[string]string{}
			for _, f := range files {
				rel, _ := filepath.Rel(corpus, f)
				st := waitUpload(t, c, g.AccessToken, ids[rel])
				if twin, ok := pairs[rel]; ok && activityOf[twin] != "" {
					if st.Status != "duplicate" || st.ActivityID == nil || *st.ActivityID != activityOf[twin] {
						t.Errorf("%s (same activity as %s → %s): ended %+v, want duplicate", rel, twin, activityOf[twin], st)
					}
					continue
				}
				if st.Status != "done" || st.ActivityID == nil {
					t.Errorf("%s: ended %s (%+v)", rel, st.Status, st.Error)
					continue
				}
				activityOf[rel] = *st.ActivityID
				checkActivityMatchesDomain(t, c, g.AccessToken, f, *st.ActivityID)
			}

			// A user's history lists every activity once, newest first.
			var listed []string
			cursor := ""
			for range 20 {
				r := c.Do("GET", "/api/v1/users/"+g.User.ID+"/activities?limit=25"+cursor, g.AccessToken, nil)
				wantStatus(t, r, 200)
				var page struct {
					Items []struct {
						ID        string `json:"id"`
						StartTime string `json:"start_time"`
					} `json:"items"`
					NextCursor *string `json:"next_cursor"`
				}
				r.JSON(t, &page)
				for i, it := range page.Items {
					listed = append(listed, it.ID)
					if i > 0 && it.StartTime > page.Items[i-1].StartTime {
						t.Fatalf("history not newest first: %s after %s", it.StartTime, page.Items[i-1].StartTime)
					}
				}
				if page.NextCursor == nil {
					break
				}
				cursor = "&cursor=" + *page.NextCursor
			}
			if len(listed) != len(activityOf) {
				t.Errorf("history lists %d activities, %d were created", len(listed), len(activityOf))
			}
		})
	}
}

// checkActivityMatchesDomain compares what the API serves with what the
// domain core computes from the same file for an athlete with no profile.
func checkActivityMatchesDomain(t *testing.T, c *e2e.Client, token, path, id string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, _, err := activity.Parse(data, activity.FileHint{Filename: filepath.Base(path)}, activity.DefaultLimits())
	if err != nil {
		t.Fatalf("%s: domain parse: %v", path, err)
	}
	want := activity.Analyze(rec, activity.Athlete{})
	r := c.Do("GET", "/api/v1/activities/"+id, token, nil)
	wantStatus(t, r, 200)
	var got struct {
		Sport     string   `json:"sport"`
		StartTime string   `json:"start_time"`
		ElapsedS  float64  `json:"elapsed_s"`
		MovingS   float64  `json:"moving_s"`
		DistanceM float64  `json:"distance_m"`
		AscentM   float64  `json:"ascent_m"`
		AvgHR     *float64 `json:"avg_hr"`
		MaxHR     *float64 `json:"max_hr"`
		Calories  float64  `json:"calories"`
		Children  []any    `json:"children"`
	}
	r.JSON(t, &got)
	name := filepath.Base(path)
	if got.Sport != string(want.Sport) || got.StartTime != want.StartTime.UTC().Truncate(time.Second).Format(time.RFC3339) {
		t.Errorf("%s: sport/start %s %s, domain %s %s", name, got.Sport, got.StartTime, want.Sport, want.StartTime)
	}
	for field, pair := range map[string][2]float64{
		"elapsed_s": {got.ElapsedS, want.ElapsedS}, "moving_s": {got.MovingS, want.MovingS},
		"distance_m": {got.DistanceM, want.DistanceM}, "ascent_m": {got.AscentM, want.AscentM}, "calories": {got.Calories, want.Calories},
	} {
		if !nearlyEqual(pair[0], pair[1]) {
			t.Errorf("%s: %s = %v through the API, %v in the domain", name, field, pair[0], pair[1])
		}
	}
	if (got.AvgHR == nil) != (want.AvgHR == 0) || (got.AvgHR != nil && !nearlyEqual(*got.AvgHR, want.AvgHR)) {
		t.Errorf("%s: avg_hr %v through the API, %v in the domain", name, got.AvgHR, want.AvgHR)
	}
	if len(got.Children) != len(want.Children) {
		t.Errorf("%s: %d children through the API, %d in the domain", name, len(got.Children), len(want.Children))
	}
	if len(rec.Points) > 0 {
		r := c.Do("GET", "/api/v1/activities/"+id+"/streams?types=time,heartrate", token, nil)
		wantStatus(t, r, 200)
		var st struct {
			Points  int                   `json:"points"`
			Streams map[string][]*float64 `json:"streams"`
		}
		r.JSON(t, &st)
		if st.Points == 0 || len(st.Streams["time"]) != st.Points {
			t.Errorf("%s: streams %d points, time %d", name, st.Points, len(st.Streams["time"]))
		}
	}
}

// badExpectations reads corpus/bad/README.md: file → expected outcome text.
func badExpectations(t *testing.T, corpus string) map[string]string {
	raw, err := os.ReadFile(filepath.Join(corpus, "bad", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		name := strings.TrimSpace(cells[1])
		if strings.Contains(name, ".") && !strings.Contains(name, " ") {
			out[name] = strings.TrimSpace(cells[3])
		}
	}
	return out
}

func TestBadFilesEndAsExpected(t *testing.T) {
	corpus := testenv.Corpus(t)
	expect := badExpectations(t, corpus)
	if len(expect) < 20 {
		t.Fatalf("bad/README.md gave %d expectations", len(expect))
	}
	_, c, _ := startServer(t, backends[0])
	for name, want := range expect {
		t.Run(name, func(t *testing.T) {
			// An account per file: several are damaged copies of one
			// workout, and would otherwise end duplicates of each other.
			g := register(t, c, name+"@example.com", "Bad")
			r := uploadFile(t, c, g.AccessToken, filepath.Join(corpus, "bad", name))
			allowedNow := strings.HasPrefix(want, "failed")
			if r.Status != 202 {
				p := r.Problem(t)
				if !allowedNow || !slices.Contains([]int{413, 415, 422}, r.Status) {
					t.Fatalf("answered %d %s at once; expected %q", r.Status, p.Code, want)
				}
				return
			}
			var a accepted
			r.JSON(t, &a)
			st := waitUpload(t, c, g.AccessToken, a.UploadID)
			switch {
			case strings.HasPrefix(want, "done"):
				if st.Status != "done" {
					t.Fatalf("ended %s %+v; expected %q", st.Status, st.Error, want)
				}
			case strings.HasPrefix(want, "failed, or done"):
				if st.Status != "done" && st.Status != "failed" {
					t.Fatalf("ended %s; expected %q", st.Status, want)
				}
			default:
				if st.Status != "failed" || st.Error == nil || st.Error.Code == "" || st.Error.Detail == "" {
					t.Fatalf("ended %s %+v; expected %q with a specific problem", st.Status, st.Error, want)
				}
			}
			if st.Status == "done" {
				r := c.Do("GET", "/api/v1/activities/"+*st.ActivityID, g.AccessToken, nil)
				if strings.Contains(string(r.Body), "root:") {
					t.Fatalf("file content disclosed: %s", r.Body)
				}
			}
		})
	}
}

func TestUploadRulesAndVisibility(t *testing.T) {
	corpus := testenv.Corpus(t)
	_, c, _ := startServer(t, backends[0])
	owner := register(t, c, "owner@example.com", "Owner")
	follower := register(t, c, "follower@example.com", "Follower")
	stranger := register(t, c, "stranger@example.com", "Stranger")
	wantStatus(t, c.Do("POST", "/api/v1/users/"+owner.User.ID+"/follow", follower.AccessToken, nil), 204)

	// Idempotency: the same key replays, even with no body change; a new
	// body under the same key is refused.
	fit := filepath.Join(corpus, "fit", "garmin-fenix5-walk-short.fit")
	first := uploadFile(t, c, owner.AccessToken, fit, "Idempotency-Key", "walk-1")
	wantStatus(t, first, 202)
	again := uploadFile(t, c, owner.AccessToken, fit, "Idempotency-Key", "walk-1")
	wantStatus(t, again, 202)
	if string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay differs: %s vs %s", again.Body, first.Body)
	}
	wantProblem(t, uploadFile(t, c, owner.AccessToken, filepath.Join(corpus, "fit", "garmin-edge820-commute-short.fit"), "Idempotency-Key", "walk-1"), 422, "idempotency")

	// Cheap checks answer at once.
	wantProblem(t, c.Do("POST", "/api/v1/activities", owner.AccessToken, []byte("\x89PNG\r\n\x1a\n...."), "Content-Type", "application/vnd.ant.fit"), 415, "unsupported")
	wantProblem(t, c.Do("POST", "/api/v1/activities", owner.AccessToken, []byte("hello"), "Content-Type", "text/plain"), 415, "unsupported")
	wantProblem(t, c.Do("POST", "/api/v1/activities", owner.AccessToken, []byte(`{"sport": "running",`)), 400, "malformed")
	wantProblem(t, c.Do("POST", "/api/v1/activities", owner.AccessToken, []byte(`{"sport": "running", "start_time": "2026-01-01T08:00:00Z", "speed": 3}`)), 400, "malformed")
	p := wantProblem(t, c.Do("POST", "/api/v1/activities", owner.AccessToken, []byte(`{"sport": "quidditch", "start_time": "2026-01-01T08:00:00Z", "elapsed_s": 60}`)), 422, "invalid")
	if !hasField(p, "sport") {
		t.Fatalf("problem does not name sport: %+v", p)
	}
	wantProblem(t, c.Do("POST", "/api/v1/activities", owner.AccessToken, []byte(`{"sport": "running", "start_time": "2026-01-01T08:00:00Z"}`)), 422, "invalid")
	big := make([]byte, 33<<20)
	copy(big, []byte{14, 0x10, 0, 0, 0, 0, 0, 0, '.', 'F', 'I', 'T'})
	wantProblem(t, c.Do("POST", "/api/v1/activities", owner.AccessToken, big, "Content-Type", "application/vnd.ant.fit"), 413, "too_large")
	wantProblem(t, c.Do("POST", "/api/v1/activities", "", []byte(`{}`)), 401, "unauthorized")

	// A manual entry and a JSON workout with points, one per visibility.
	upload := func(body string) string {
		r := c.Do("POST", "/api/v1/activities", owner.AccessToken, []byte(body))
		wantStatus(t, r, 202)
		var a accepted
		r.JSON(t, &a)
		st := waitUpload(t, c, owner.AccessToken, a.UploadID)
		if st.Status != "done" {
			t.Fatalf("%s ended %s %+v", body, st.Status, st.Error)
		}
		return *st.ActivityID
	}
	private := upload(`{"sport": "running", "start_time": "2026-03-01T07:00:00Z", "elapsed_s": 1800, "distance_m": 5000, "visibility": "private", "name": "Secret"}`)
	followersOnly := upload(`{"sport": "cycling", "start_time": "2026-03-02T07:00:00Z", "visibility": "followers", "points": [
		{"t": "2026-03-02T07:00:00Z", "lat": 48.85, "lon": 2.35, "hr": 120},
		{"t": "2026-03-02T07:00:10Z", "lat": 48.851, "lon": 2.351, "hr": 125},
		{"t": "2026-03-02T07:00:20Z", "lat": 48.852, "lon": 2.352, "hr": 130}]}`)
	public := upload(`{"sport": "walk", "start_time": "2026-03-03T07:00:00Z", "elapsed_s": 600, "visibility": "public"}`)

	for _, tc := range []struct {
		viewer grant
		id     string
		want   int
	}{
		{owner, private, 200}, {follower, private, 404}, {stranger, private, 404},
		{owner, followersOnly, 200}, {follower, followersOnly, 200}, {stranger, followersOnly, 404},
		{stranger, public, 200},
	} {
		r := c.Do("GET", "/api/v1/activities/"+tc.id, tc.viewer.AccessToken, nil)
		if r.Status != tc.want {
			t.Errorf("%s viewing %s: %d, want %d", tc.viewer.User.Email, tc.id, r.Status, tc.want)
		}
		r = c.Do("GET", "/api/v1/activities/"+tc.id+"/streams", tc.viewer.AccessToken, nil)
		if r.Status != tc.want {
			t.Errorf("%s viewing streams of %s: %d, want %d", tc.viewer.User.Email, tc.id, r.Status, tc.want)
		}
	}
	count := func(viewer grant) int {
		r := c.Do("GET", "/api/v1/users/"+owner.User.ID+"/activities?after=2026-02-01T00:00:00Z", viewer.AccessToken, nil)
		wantStatus(t, r, 200)
		var page struct{ Items []any }
		r.JSON(t, &page)
		return len(page.Items)
	}
	if n := count(owner); n != 3 {
		t.Errorf("owner sees %d of their activities, want 3", n)
	}
	if n := count(follower); n != 2 {
		t.Errorf("follower sees %d, want 2", n)
	}
	if n := count(stranger); n != 1 {
		t.Errorf("stranger sees %d, want 1", n)
	}
	// Uploads are their owner's business only.
	var a accepted
	first.JSON(t, &a)
	wantProblem(t, c.Do("GET", "/api/v1/uploads/"+a.UploadID, stranger.AccessToken, nil), 404, "not_found")
	wantProblem(t, c.Do("GET", "/api/v1/activities/"+followersOnly+"/streams?types=nonsense", owner.AccessToken, nil), 422, "invalid")
	r := c.Do("GET", "/api/v1/activities/"+followersOnly+"/streams?types=latlng,heartrate", owner.AccessToken, nil)
	wantStatus(t, r, 200)
	var st struct {
		Points  int `json:"points"`
		Streams struct {
			LatLng    [][]float64 `json:"latlng"`
			HeartRate []float64   `json:"heartrate"`
		} `json:"streams"`
	}
	r.JSON(t, &st)
	if st.Points != 3 || fmt.Sprint(st.Streams.HeartRate) != "[120 125 130]" || len(st.Streams.LatLng) != 3 || st.Streams.LatLng[0][0] != 48.85 {
		t.Fatalf("streams: %s", r.Body)
	}

	// Edits: only the owner; others get 403 if they can see it, else 404.
	wantProblem(t, c.Do("PATCH", "/api/v1/activities/"+followersOnly, follower.AccessToken, map[string]string{"name": "Mine now"}), 403, "forbidden")
	wantProblem(t, c.Do("PATCH", "/api/v1/activities/"+private, stranger.AccessToken, map[string]string{"name": "Mine now"}), 404, "not_found")
	wantProblem(t, c.Do("PATCH", "/api/v1/activities/"+followersOnly, owner.AccessToken, map[string]string{"visibility": "everyone"}), 422, "invalid")
	wantProblem(t, c.Do("PATCH", "/api/v1/activities/"+followersOnly, owner.AccessToken, []byte(`{"name": null}`)), 422, "invalid")
	r = c.Do("PATCH", "/api/v1/activities/"+followersOnly, owner.AccessToken, map[string]string{"visibility": "public", "name": "Seine loop", "sport": "ride"})
	wantStatus(t, r, 200)
	var edited struct{ Name, Visibility, Sport string }
	r.JSON(t, &edited)
	if edited.Name != "Seine loop" || edited.Visibility != "public" || edited.Sport != "cycling" {
		t.Fatalf("edited: %s", r.Body)
	}
	wantStatus(t, c.Do("GET", "/api/v1/activities/"+followersOnly, stranger.AccessToken, nil), 200)
	wantProblem(t, c.Do("DELETE", "/api/v1/activities/"+public, follower.AccessToken, nil), 403, "forbidden")
	wantStatus(t, c.Do("DELETE", "/api/v1/activities/"+public, owner.AccessToken, nil), 204)
	wantProblem(t, c.Do("GET", "/api/v1/activities/"+public, owner.AccessToken, nil), 404, "not_found")
	wantProblem(t, c.Do("DELETE", "/api/v1/activities/"+public, owner.AccessToken, nil), 404, "not_found")
	if n := count(owner); n != 2 {
		t.Errorf("after a delete the owner sees %d activities, want 2", n)
	}
}
