package realtime

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/ranker"
	"github.com/stridehq/stride/standings"
)

// Every leaderboard.changed a node hears reaches its BoardsChanged hook,
// whether or not anyone on the node watches the board: it is how an API
// process's cached pages learn that they are stale.
func TestBoardChangesReachTheHookUnwatched(t *testing.T) {
	h := newHarness(t, nil)
	want := standings.ChangedBoards{UserID: "u1", Sports: []string{"all", "running"}, Periods: []string{"all:all", "week:2020-W01"}}
	h.broadcast(topicBoards, want)
	select {
	case got := <-h.changed:
		if got.UserID != want.UserID || !slices.Equal(got.Sports, want.Sports) || !slices.Equal(got.Periods, want.Periods) {
			t.Fatalf("hook got %+v, want %+v", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the hook was not called")
	}
}

// An authentication change announced on one node reaches every node's
// AuthChanged hook through the fan-out, "" (everyone) included.
func TestAuthChangesAreAnnounced(t *testing.T) {
	h := newHarness(t, nil)
	for _, id := range []string{"u1", ""} {
		h.hub.AnnounceAuthChange(id)
		select {
		case got := <-h.authChanged:
			if got != id {
				t.Fatalf("hook got %q, want %q", got, id)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the hook was not told of %q", id)
		}
	}
}

func TestLeaderboardPushesAreCoalesced(t *testing.T) {
	const watchers, changes = 50, 20
	interval := 500 * time.Millisecond
	h := newHarness(t, func(c *Config) { c.BoardInterval = interval })
	ann := h.user("ann", stride.VisibilityPublic)
	h.user("w", stride.VisibilityPublic)
	const topic = "leaderboard:distance?sport=running&period=all"

	clients := make([]*client, watchers)
	var board string
	for i := range clients {
		c := h.dial("tok-w")
		c.Send(map[string]any{"type": "subscribe", "topic": topic})
		board, _ = c.Expect(msgSubscribed, nil)["board"].(string)
		if initial := c.Expect(msgLeaderboard, nil); initial["board"] != board || len(initial["entries"].([]any)) != 0 {
			t.Fatalf("initial state %v", initial)
		}
		clients[i] = c
	}
	if board != "distance:running:all:all:public:all" {
		t.Fatalf("watching %q", board)
	}
	ctx := context.Background()
	change := func(score float64) {
		if err := h.rank.Set(ctx, ranker.Update{Board: board, Member: ann.ID, Score: score}); err != nil {
			t.Fatal(err)
		}
		h.broadcast(topicBoards, standings.ChangedBoards{UserID: ann.ID, Sports: []string{"running", "all"}, Periods: []string{"week:2020-W01", "all:all"}})
	}
	valueOf := func(m map[string]any) float64 {
		entries, _ := m["entries"].([]any)
		if len(entries) != 1 {
			t.Fatalf("board %v", m)
		}
		return entries[0].(map[string]any)["value"].(float64)
	}

	// A first change lines the test up with a push, so that the changes
	// that follow all land within the next interval.
	change(1000)
	h.waitMetric("stride_realtime_board_pushes_total", func(v float64) bool { return v == 1 })
	tops := h.boards.tops.Load()
	for i := 2; i <= changes+1; i++ {
		change(float64(i) * 1000)
	}
	for _, c := range clients {
		if v := valueOf(c.Expect(msgLeaderboard, nil)); v != 1000 {
			t.Fatalf("first push %v", v)
		}
	}
	h.waitMetric("stride_realtime_board_pushes_total", func(v float64) bool { return v >= 2 })
	time.Sleep(3 * interval)
	if n := h.metric("stride_realtime_board_pushes_total"); n != 2 {
		t.Fatalf("%d changes in one interval made %v pushes after the first, want 1", changes, n-1)
	}
	if n := h.boards.tops.Load() - tops; n != 1 {
		t.Fatalf("%d changes read the board %d times, want once", changes, n)
	}
	if n := h.metric("stride_realtime_board_deliveries_total"); n != 2*watchers {
		t.Fatalf("%v deliveries, want %d", n, 2*watchers)
	}
	want := float64(changes+1) * 1000
	for i, c := range clients {
		if v := valueOf(c.Expect(msgLeaderboard, nil)); v != want {
			t.Fatalf("watcher %d got %v, want the latest %v", i, v, want)
		}
		if len(c.Frames) != 0 {
			t.Fatalf("watcher %d has %d more frames", i, len(c.Frames))
		}
	}

	// A change to another board's sport or period is no change here.
	h.broadcast(topicBoards, standings.ChangedBoards{UserID: ann.ID, Sports: []string{"cycling"}, Periods: []string{"all:all"}})
	h.broadcast(topicBoards, standings.ChangedBoards{UserID: ann.ID, Sports: []string{"running"}, Periods: []string{"week:2020-W01"}})
	time.Sleep(3 * interval)
	if n := h.metric("stride_realtime_board_pushes_total"); n != 2 {
		t.Fatalf("unrelated changes pushed: %v pushes", n)
	}
}

func TestSubscriptions(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxSubscriptions = 3 })
	ann := h.user("ann", stride.VisibilityFollowers)
	carl := h.user("carl", stride.VisibilityPublic)
	eve := h.user("eve", stride.VisibilityPublic)
	c := h.dial("tok-eve")

	subscribe := func(topic, ref string) {
		t.Helper()
		c.Send(map[string]any{"type": "subscribe", "topic": topic, "ref": ref})
	}
	subscribe(topicNotify, "1")
	if m := c.Expect(msgSubscribed, nil); m["ref"] != "1" || m["topic"] != topicNotify {
		t.Fatalf("subscribed %v", m)
	}
	subscribe(topicNotify, "dup")
	c.expectError(stride.ECONFLICT, "dup")
	subscribe("weather", "unknown")
	c.expectError(stride.EINVALID, "unknown")
	subscribe("live:"+ann.ID, "stranger")
	c.expectError(stride.EFORBIDDEN, "stranger")
	subscribe("live:nobody", "nobody")
	c.expectError(stride.ENOTFOUND, "nobody")
	subscribe("leaderboard:teleports?period=all", "board type")
	c.expectError(stride.ENOTFOUND, "board type")
	subscribe("leaderboard:distance?scope=following", "scope")
	c.expectError(stride.EINVALID, "scope")
	subscribe("live:"+carl.ID, "2")
	c.Expect(msgSubscribed, func(m map[string]any) bool { return m["ref"] == "2" })
	subscribe("leaderboard:distance?period=all", "3")
	c.Expect(msgSubscribed, func(m map[string]any) bool { return m["ref"] == "3" })
	// Refusals did not count; the limit does.
	subscribe("leaderboard:distance?period=year", "4")
	c.expectError(stride.ERATELIMITED, "4")
	c.Send(map[string]any{"type": "unsubscribe", "topic": "live:" + carl.ID, "ref": "u"})
	c.Expect(msgUnsubscribed, func(m map[string]any) bool { return m["ref"] == "u" })
	subscribe("leaderboard:distance?period=year", "5")
	c.Expect(msgSubscribed, func(m map[string]any) bool { return m["ref"] == "5" })

	// Notifications reach the subscriber's own topic only.
	h.broadcast(userTopic+carl.ID, map[string]any{"type": msgNotification, "event": "carl's"})
	h.broadcast(userTopic+eve.ID, map[string]any{"type": msgNotification, "event": "eve's"})
	if m := c.Expect(msgNotification, nil); m["event"] != "eve's" {
		t.Fatalf("notification %v", m)
	}
}

func TestLiveVisibility(t *testing.T) {
	h := newHarness(t, nil)
	ann := h.user("ann", stride.VisibilityFollowers)
	bob := h.user("bob", stride.VisibilityPublic)
	carl := h.user("carl", stride.VisibilityPublic)
	h.user("eve", stride.VisibilityPublic)
	h.follow(bob, ann)
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

	// A follower sees a followers-only live activity.
	follower := h.dial("tok-bob")
	follower.Send(map[string]any{"type": "subscribe", "topic": liveTopic(ann.ID)})
	follower.Expect(msgSubscribed, nil)
	annDev := h.dial("tok-ann")
	annLive := startLive(annDev, "")
	sendBatch(annDev, annLive, 1, points(start, 0, 3))
	if m := follower.Expect(msgLive, func(m map[string]any) bool { return m["batch"] == float64(1) }); m["visibility"] != stride.VisibilityFollowers {
		t.Fatalf("live %v", m)
	}

	// A stranger watching a public athlete sees only their public
	// activities, live or caught up.
	stranger := h.dial("tok-eve")
	stranger.Send(map[string]any{"type": "subscribe", "topic": liveTopic(carl.ID)})
	stranger.Expect(msgSubscribed, nil)
	self := h.dial("tok-carl")
	self.Send(map[string]any{"type": "subscribe", "topic": liveTopic(carl.ID)})
	self.Expect(msgSubscribed, nil)
	carlDev := h.dial("tok-carl")
	private := startLive(carlDev, stride.VisibilityPrivate)
	followers := startLive(carlDev, stride.VisibilityFollowers)
	public := startLive(carlDev, stride.VisibilityPublic)
	for n := 1; n <= 2; n++ {
		for _, id := range []string{private, followers, public} {
			sendBatch(carlDev, id, n, points(start, n*3, 3))
		}
	}
	// Carl sees all three; frames of one topic arrive in order, so once
	// the stranger has the last public batch it would have had the rest.
	for _, id := range []string{private, followers, public} {
		self.Expect(msgLive, func(m map[string]any) bool { return m["live_id"] == id && m["batch"] == float64(2) })
	}
	checkOnly := func(c *client, last func(map[string]any) bool) {
		t.Helper()
		for {
			m := c.Expect(msgLive, nil)
			if m["live_id"] != public {
				t.Fatalf("the stranger received %v of a %v activity", m["batch"], m["visibility"])
			}
			if last(m) {
				return
			}
		}
	}
	checkOnly(stranger, func(m map[string]any) bool { return m["batch"] == float64(2) })

	late := h.dial("tok-eve")
	late.Send(map[string]any{"type": "subscribe", "topic": liveTopic(carl.ID)})
	late.Expect(msgSubscribed, nil)
	checkOnly(late, func(m map[string]any) bool { return m["from_batch"] == float64(1) && m["batch"] == float64(2) })
	late.roundTrip("fence")
	if len(late.Frames) != 0 {
		t.Fatalf("more catch-up: %v", <-late.Frames)
	}
}

func TestShutdownClosesEveryConnection(t *testing.T) {
	h := newHarness(t, nil)
	h.user("ann", stride.VisibilityPublic)
	h.user("bob", stride.VisibilityPublic)
	var clients []*client
	for _, tok := range []string{"tok-ann", "tok-ann", "tok-bob"} {
		c := h.dial(tok)
		c.Send(map[string]any{"type": "subscribe", "topic": topicNotify})
		c.Expect(msgSubscribed, nil)
		clients = append(clients, c)
	}
	h.waitMetric("stride_realtime_connections", func(v float64) bool { return v == 3 })
	h.stop()
	var err error
	select {
	case err = <-h.runDone:
		h.runDone <- err // for the harness's cleanup
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
	}
	if err != nil {
		t.Fatal(err)
	}
	// Run returns once every connection has ended.
	if n := h.metric("stride_realtime_connections"); n != 0 {
		t.Fatalf("Run returned with %v connections open", n)
	}
	for i, c := range clients {
		if code, _ := c.Closed(); code != websocket.StatusGoingAway {
			t.Fatalf("connection %d closed with %d, want %d", i, code, websocket.StatusGoingAway)
		}
	}
	if _, err := h.dialWS("tok-ann"); err == nil {
		t.Fatal("a connection was accepted after shutdown")
	}
}

// startLive starts a live activity of running and returns its id.
func startLive(c *client, visibility string) string {
	c.T.Helper()
	ref := fmt.Sprint("start-", time.Now().UnixNano())
	c.Send(map[string]any{"type": "start", "sport": "running", "visibility": visibility, "ref": ref})
	m := c.Expect(msgStarted, func(m map[string]any) bool { return m["ref"] == ref })
	return m["live_id"].(string)
}

func sendBatch(c *client, liveID string, batch int, pts []map[string]any) {
	c.T.Helper()
	c.Send(map[string]any{"type": "points", "live_id": liveID, "batch": batch, "points": pts})
	c.Expect(msgAck, func(m map[string]any) bool { return m["live_id"] == liveID && m["batch"] == float64(batch) })
}

func points(start time.Time, from, n int) []map[string]any {
	pts := make([]map[string]any, n)
	for i := range n {
		k := from + i
		pts[i] = map[string]any{"t": start.Add(time.Duration(k) * time.Second).Format(time.RFC3339),
			"lat": 48.85 + float64(k)*0.00003, "lon": 2.35 + float64(k)*0.00002, "hr": 120 + k%20}
	}
	return pts
}

// TestAnswerPrecedesPushes: a subscription's answer comes before what it
// pushes, as clients that wait for "subscribed" expect.
func TestAnswerPrecedesPushes(t *testing.T) {
	h := newHarness(t, nil)
	h.user("w", stride.VisibilityPublic)
	c := h.dial("tok-w")
	next := func() map[string]any {
		t.Helper()
		select {
		case m, ok := <-c.Frames:
			if !ok {
				t.Fatalf("closed: %v", <-c.Done)
			}
			return m
		case <-time.After(20 * time.Second):
			t.Fatal("no frame")
		}
		return nil
	}
	const topic = "leaderboard:distance?sport=running&period=all"
	for i := range 300 {
		c.Send(map[string]any{"type": "subscribe", "topic": topic})
		for _, want := range []string{msgSubscribed, msgLeaderboard} {
			if m := next(); m["type"] != want {
				t.Fatalf("round %d: %v before %s", i, m["type"], want)
			}
		}
		c.Send(map[string]any{"type": "unsubscribe", "topic": topic})
		if m := next(); m["type"] != msgUnsubscribed {
			t.Fatalf("round %d: %v", i, m["type"])
		}
	}
}
