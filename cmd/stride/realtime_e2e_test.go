package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/stridehq/stride/internal/e2e"
)

// wsClient is the shared test client, dialled with the server's welcome
// read.
type wsClient = e2e.WSClient

func dialRealtime(t *testing.T, baseURL, token, ticket string) (*wsClient, error) {
	t.Helper()
	u := strings.Replace(baseURL, "http://", "ws://", 1) + "/api/v1/realtime/activity-stream"
	opts := &websocket.DialOptions{Subprotocols: []string{"stride.v1"}, HTTPHeader: http.Header{}}
	if token != "" {
		opts.HTTPHeader.Set("Authorization", "Bearer "+token)
	}
	if ticket != "" {
		u += "?ticket=" + ticket
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, u, opts)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %d: %w", resp.StatusCode, err)
		}
		return nil, err
	}
	ws.SetReadLimit(4 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	c := e2e.ReadFrames(t, ws)
	if w := c.Expect("welcome", nil); w["version"] != float64(1) {
		t.Fatalf("welcome %v", w)
	}
	return c, nil
}

func livePoints(start time.Time, from, n int) []map[string]any {
	pts := make([]map[string]any, n)
	for i := range n {
		k := from + i
		pts[i] = map[string]any{"t": start.Add(time.Duration(k) * time.Second).Format(time.RFC3339),
			"lat": 48.85 + float64(k)*0.00003, "lon": 2.35 + float64(k)*0.00002, "hr": 120 + k%20}
	}
	return pts
}

func TestRealtimeEndToEnd(t *testing.T) {
	for _, p := range standingsPipelines {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			env := append(p.env(t), "STRIDE_JWT_SECRET="+testSecret, "STRIDE_LOG_FORMAT=json", "STRIDE_REALTIME_BOARD_INTERVAL=100ms")
			srv := e2e.Start(t, strideBin, t.TempDir(), env...)
			c := e2e.NewClient(t, srv.URL)
			ann := register(t, c, "ann@example.com", "Ann")
			bob := register(t, c, "bob@example.com", "Bob")
			eve := register(t, c, "eve@example.com", "Eve")
			dan := register(t, c, "dan@example.com", "Dan")
			wantStatus(t, c.Do("POST", "/api/v1/users/"+ann.User.ID+"/follow", bob.AccessToken, nil), 204)

			// Authentication happens before the upgrade.
			if _, err := dialRealtime(t, srv.URL, "", ""); err == nil || !strings.Contains(err.Error(), "401") {
				t.Fatalf("anonymous dial: %v", err)
			}
			device, err := dialRealtime(t, srv.URL, ann.AccessToken, "")
			if err != nil {
				t.Fatal(err)
			}
			device.Send(map[string]any{"type": "subscribe", "topic": "notifications"})
			device.Expect("subscribed", nil)

			// A browser trades its token for a single-use ticket.
			r := c.Do("POST", "/api/v1/realtime/tickets", bob.AccessToken, nil)
			wantStatus(t, r, 201)
			var tk struct {
				Ticket string `json:"ticket"`
			}
			r.JSON(t, &tk)
			watcher, err := dialRealtime(t, srv.URL, "", tk.Ticket)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dialRealtime(t, srv.URL, "", tk.Ticket); err == nil || !strings.Contains(err.Error(), "401") {
				t.Fatalf("a used ticket opened a socket: %v", err)
			}

			start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
			// Public, to count on the global board; Ann's own default is
			// followers-only, so strangers may not watch her.
			device.Send(map[string]any{"type": "start", "sport": "running", "visibility": "public", "name": "Live run", "ref": "s1"})
			started := device.Expect("started", nil)
			liveID := started["live_id"].(string)

			watcher.Send(map[string]any{"type": "subscribe", "topic": "live:" + ann.User.ID})
			watcher.Expect("subscribed", nil)
			watcher.Send(map[string]any{"type": "subscribe", "topic": "leaderboard:distance?sport=running&period=all"})
			watcher.Expect("subscribed", nil)
			watcher.Expect("leaderboard", nil)
			// A stranger may not watch a followers-only athlete.
			stranger, err := dialRealtime(t, srv.URL, eve.AccessToken, "")
			if err != nil {
				t.Fatal(err)
			}
			stranger.Send(map[string]any{"type": "subscribe", "topic": "live:" + ann.User.ID, "ref": "x"})
			if e := stranger.Expect("error", nil); e["code"] != "forbidden" {
				t.Fatalf("stranger's subscription: %v", e)
			}

			var allPoints []map[string]any
			sendBatch := func(dev *wsClient, n int) {
				pts := livePoints(start, (n-1)*10, 10)
				allPoints = append(allPoints, pts...)
				dev.Send(map[string]any{"type": "points", "live_id": liveID, "batch": n, "points": pts})
				dev.Expect("ack", func(m map[string]any) bool { return m["batch"] == float64(n) })
			}
			for n := 1; n <= 3; n++ {
				sendBatch(device, n)
				watcher.Expect("live", func(m map[string]any) bool { return m["batch"] == float64(n) })
			}

			// The watcher drops; batches 4-6 go on; it comes back with the
			// last batch it saw and gets exactly what it missed.
			watcher.WS.CloseNow()
			for n := 4; n <= 6; n++ {
				sendBatch(device, n)
			}
			watcher, err = dialRealtime(t, srv.URL, bob.AccessToken, "")
			if err != nil {
				t.Fatal(err)
			}
			watcher.Send(map[string]any{"type": "subscribe", "topic": "leaderboard:distance?sport=running&period=all"})
			watcher.Expect("subscribed", nil)
			watcher.Send(map[string]any{"type": "subscribe", "topic": "live:" + ann.User.ID, "after": map[string]int{liveID: 3}})
			caught := watcher.Expect("live", func(m map[string]any) bool { return m["batch"] != nil })
			if caught["from_batch"] != float64(4) || caught["batch"] != float64(6) || len(caught["points"].([]any)) != 30 {
				t.Fatalf("catch-up %v..%v with %d points, want batches 4..6 with 30", caught["from_batch"], caught["batch"], len(caught["points"].([]any)))
			}

			// The device drops too, reconnects, learns what was stored and
			// resends only the rest; a resent batch is acknowledged again.
			device.WS.CloseNow()
			device, err = dialRealtime(t, srv.URL, ann.AccessToken, "")
			if err != nil {
				t.Fatal(err)
			}
			device.Send(map[string]any{"type": "subscribe", "topic": "notifications"})
			device.Expect("subscribed", nil)
			device.Send(map[string]any{"type": "start", "live_id": liveID})
			if resumed := device.Expect("started", nil); resumed["last_batch"] != float64(6) {
				t.Fatalf("resumed at %v, want 6", resumed["last_batch"])
			}
			device.Send(map[string]any{"type": "points", "live_id": liveID, "batch": 6, "points": livePoints(start, 50, 10)})
			device.Expect("ack", func(m map[string]any) bool { return m["batch"] == float64(6) })
			device.Send(map[string]any{"type": "points", "live_id": liveID, "batch": 9, "points": livePoints(start, 80, 10), "ref": "gap"})
			if e := device.Expect("error", nil); e["code"] != "conflict" || e["ref"] != "gap" {
				t.Fatalf("gap: %v", e)
			}
			for n := 7; n <= 12; n++ {
				sendBatch(device, n)
				watcher.Expect("live", func(m map[string]any) bool { return m["batch"] == float64(n) })
			}

			// Finishing feeds the upload pipeline: the activity appears, the
			// owner is told, and the watched leaderboard moves.
			device.Send(map[string]any{"type": "finish", "live_id": liveID})
			fin := device.Expect("finished", nil)
			st := waitUpload(t, c, ann.AccessToken, fin["upload_id"].(string))
			if st.Status != "done" {
				t.Fatalf("live upload ended %s", st.Status)
			}
			device.Expect("notification", func(m map[string]any) bool { return m["event"] == "upload.finished" })
			board := watcher.Expect("leaderboard", func(m map[string]any) bool {
				entries, _ := m["entries"].([]any)
				return len(entries) == 1 && entries[0].(map[string]any)["user_id"] == ann.User.ID
			})
			if board["board"] != "distance:running:all:all:public:all" {
				t.Fatalf("pushed board %v", board["board"])
			}

			// The activity equals an upload of the same points.
			body, _ := json.Marshal(map[string]any{"sport": "running", "start_time": start.Format(time.RFC3339), "points": allPoints, "visibility": "public"})
			r = c.Do("POST", "/api/v1/activities", dan.AccessToken, body)
			wantStatus(t, r, 202)
			var acc accepted
			r.JSON(t, &acc)
			same := waitUpload(t, c, dan.AccessToken, acc.UploadID)
			var live, uploaded map[string]any
			c.Do("GET", "/api/v1/activities/"+*st.ActivityID, ann.AccessToken, nil).JSON(t, &live)
			c.Do("GET", "/api/v1/activities/"+*same.ActivityID, dan.AccessToken, nil).JSON(t, &uploaded)
			for _, f := range []string{"sport", "start_time", "end_time", "elapsed_s", "moving_s", "distance_m", "ascent_m", "avg_speed_mps", "max_speed_mps", "avg_hr", "max_hr", "calories", "polyline"} {
				if fmt.Sprint(live[f]) != fmt.Sprint(uploaded[f]) {
					t.Errorf("%s: live %v, upload %v", f, live[f], uploaded[f])
				}
			}

			// Bad messages close with a clear code.
			bad, err := dialRealtime(t, srv.URL, eve.AccessToken, "")
			if err != nil {
				t.Fatal(err)
			}
			if err := bad.WS.Write(context.Background(), websocket.MessageText, []byte("not json")); err != nil {
				t.Fatal(err)
			}
			if code, _ := bad.Closed(); code != 4400 {
				t.Fatalf("bad message closed with %d, want 4400", code)
			}
		})
	}
}

// TestRealtimeAcrossNodes: a device on one API node, a watcher on another,
// sharing PostgreSQL, NATS and Redis.
func TestRealtimeAcrossNodes(t *testing.T) {
	env := append(standingsPipelines[1].env(t), "STRIDE_JWT_SECRET="+testSecret, "STRIDE_LOG_FORMAT=json")
	first := e2e.Start(t, strideBin, t.TempDir(), env...)
	second := e2e.Start(t, strideBin, t.TempDir(), append(env, "STRIDE_ROLE=api")...)
	c := e2e.NewClient(t, first.URL)
	ann := register(t, c, "ann@example.com", "Ann")
	bob := register(t, c, "bob@example.com", "Bob")
	wantStatus(t, c.Do("POST", "/api/v1/users/"+ann.User.ID+"/follow", bob.AccessToken, nil), 204)

	device, err := dialRealtime(t, first.URL, ann.AccessToken, "")
	if err != nil {
		t.Fatal(err)
	}
	watcher, err := dialRealtime(t, second.URL, bob.AccessToken, "")
	if err != nil {
		t.Fatal(err)
	}
	device.Send(map[string]any{"type": "start", "sport": "cycling", "visibility": "followers"})
	liveID := device.Expect("started", nil)["live_id"].(string)
	watcher.Send(map[string]any{"type": "subscribe", "topic": "live:" + ann.User.ID})
	watcher.Expect("subscribed", nil)
	start := time.Now().UTC().Add(-time.Hour)
	for n := 1; n <= 5; n++ {
		device.Send(map[string]any{"type": "points", "live_id": liveID, "batch": n, "points": livePoints(start, n*10, 10)})
		device.Expect("ack", func(m map[string]any) bool { return m["batch"] == float64(n) })
		watcher.Expect("live", func(m map[string]any) bool { return m["batch"] == float64(n) })
	}
	// Shutting a node down closes its sockets with 1001 (going away).
	second.Stop(t)
	if code, _ := watcher.Closed(); code != websocket.StatusGoingAway {
		t.Fatalf("watcher closed with %d at shutdown, want 1001", code)
	}
}

// A sign-out on one API node ends the token on the others at once, not
// after their authentication cache's TTL (a minute here): the change is
// announced through the fan-out.
func TestSignOutAcrossNodes(t *testing.T) {
	env := append(standingsPipelines[1].env(t), "STRIDE_JWT_SECRET="+testSecret, "STRIDE_AUTH_CACHE_TTL=1m")
	first := e2e.Start(t, strideBin, t.TempDir(), env...)
	second := e2e.Start(t, strideBin, t.TempDir(), append(env, "STRIDE_ROLE=api")...)
	c1, c2 := e2e.NewClient(t, first.URL), e2e.NewClient(t, second.URL)
	ann := register(t, c1, "ann@example.com", "Ann")
	wantStatus(t, c2.Do("GET", "/api/v1/users/me", ann.AccessToken, nil), 200) // now cached by the second node
	wantStatus(t, c1.Do("POST", "/api/v1/auth/logout", ann.AccessToken, nil), 204)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := c2.Do("GET", "/api/v1/users/me", ann.AccessToken, nil)
		if r.Status == 401 {
			return
		}
		wantStatus(t, r, 200)
		if time.Now().After(deadline) {
			t.Fatal("the second node still accepts the signed-out token after 10 s (its cache lasts a minute)")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
