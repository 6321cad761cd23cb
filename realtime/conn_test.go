package realtime

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/stridehq/stride"
)

// pad is a JSON string of n bytes, to fill socket buffers with few frames.
func pad(n int) string { return strings.Repeat("x", n) }

func TestSlowConsumerIsDisconnected(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ControlQueue = 8 })
	ann := h.user("ann", stride.VisibilityPublic)
	h.user("bob", stride.VisibilityPublic)

	slow := h.dialRaw("tok-ann")
	slow.Send(map[string]any{"type": "subscribe", "topic": topicNotify})
	if m, err := slow.read(); err != nil || m["type"] != msgSubscribed {
		t.Fatalf("subscribe: %v %v", m, err)
	}
	fast := h.dial("tok-ann")
	fast.Send(map[string]any{"type": "subscribe", "topic": topicNotify})
	fast.Expect(msgSubscribed, nil)
	other := h.dial("tok-bob")

	// Each notification waits for the reading client, so only the one
	// that does not read can fall behind: once the socket buffers between
	// it and the server are full, its control queue fills.
	big := pad(128 << 10)
	sent := 0
	for h.metric("stride_realtime_slow_disconnects_total") == 0 {
		if sent == 2000 {
			t.Fatal("2000 notifications of 128 KiB did not fill an unread connection's queue")
		}
		sent++
		h.broadcast(userTopic+ann.ID, map[string]any{"type": msgNotification, "topic": topicNotify, "event": "test",
			"id": fmt.Sprint(sent), "data": map[string]string{"pad": big}})
		fast.Expect(msgNotification, func(m map[string]any) bool { return m["id"] == fmt.Sprint(sent) })
	}
	if n := h.metric("stride_realtime_slow_disconnects_total"); n != 1 {
		t.Fatalf("%v slow disconnects, want 1", n)
	}

	// The slow client reads at last: what was written, then the close.
	var got int
	for {
		m, err := slow.read()
		if err != nil {
			if code := websocket.CloseStatus(err); code != CloseSlowConsumer {
				t.Fatalf("slow consumer ended with %v (%d), after %d of %d notifications; want close %d", err, code, got, sent, CloseSlowConsumer)
			}
			break
		}
		if m["type"] != msgNotification || m["id"] != fmt.Sprint(got+1) {
			t.Fatalf("frame %d: %v %v", got+1, m["type"], m["id"])
		}
		got++
	}
	if got >= sent {
		t.Fatalf("the slow consumer read all %d notifications: it was not behind", sent)
	}

	// The other connections of the same user, and of others, go on.
	fast.roundTrip("fast")
	other.roundTrip("other")
	h.broadcast(userTopic+ann.ID, map[string]any{"type": msgNotification, "event": "after", "id": "after"})
	fast.Expect(msgNotification, func(m map[string]any) bool { return m["id"] == "after" })
}

func TestLiveFramesDropOldest(t *testing.T) {
	const ring = 8
	h := newHarness(t, func(c *Config) { c.LiveQueue = ring })
	carl := h.user("carl", stride.VisibilityPublic)
	h.user("eve", stride.VisibilityPublic)
	h.user("dan", stride.VisibilityPublic)
	topic := liveTopic(carl.ID)

	slow := h.dialRaw("tok-eve")
	slow.Send(map[string]any{"type": "subscribe", "topic": topic})
	if m, err := slow.read(); err != nil || m["type"] != msgSubscribed {
		t.Fatalf("subscribe: %v %v", m, err)
	}
	fast := h.dial("tok-dan")
	fast.Send(map[string]any{"type": "subscribe", "topic": topic})
	fast.Expect(msgSubscribed, nil)

	frame := func(batch int) liveMsg {
		return liveMsg{Type: msgLive, Topic: topic, LiveID: "L1", UserID: carl.ID, Sport: "running", Visibility: stride.VisibilityPublic,
			Status: "recording", FromBatch: int64(batch), Batch: int64(batch), Points: []byte(`[{"pad":"` + pad(64<<10) + `"}]`)}
	}
	n := 0
	for h.metric("stride_realtime_live_frames_dropped_total") < 3*ring {
		if n == 3000 {
			t.Fatal("3000 live frames of 64 KiB caused no drop")
		}
		n++
		h.broadcast(topic, frame(n))
		// The fast watcher reads every frame before the next is sent, so
		// that it never falls behind and every drop counted is the slow
		// one's (read every 50 frames, it too dropped on a loaded machine);
		// and routing is asynchronous: this lets the drop counter catch up.
		fast.Expect(msgLive, func(m map[string]any) bool { return m["batch"] == float64(n) })
	}
	h.broadcast(topic, frame(n)) // a repeat: filtered by batch number (below, batches must only increase)
	last := n + 1
	h.broadcast(topic, frame(last))
	fast.Expect(msgLive, func(m map[string]any) bool { return m["batch"] == float64(last) }) // every frame routed

	var batches []int
	for len(batches) == 0 || batches[len(batches)-1] != last {
		m, err := slow.read()
		if err != nil {
			t.Fatalf("the slow watcher was disconnected after %d frames: %v", len(batches), err)
		}
		if m["type"] != msgLive {
			t.Fatalf("unexpected %v", m["type"])
		}
		batches = append(batches, int(m["batch"].(float64)))
	}
	dropped := int(h.metric("stride_realtime_live_frames_dropped_total"))
	if len(batches)+dropped != last {
		t.Fatalf("received %d and dropped %d of %d frames", len(batches), dropped, last)
	}
	// Drop-oldest: what was written before the socket filled, then a gap,
	// then the ring's newest frames, the very last included.
	gaps := 0
	for i := 1; i < len(batches); i++ {
		switch d := batches[i] - batches[i-1]; {
		case d <= 0:
			t.Fatalf("batch %d after %d", batches[i], batches[i-1])
		case d > 1:
			gaps++
			if tail := len(batches) - i; tail != ring {
				t.Fatalf("after the gap %d..%d came %d frames, want the ring's %d newest", batches[i-1], batches[i], tail, ring)
			}
		}
	}
	if gaps != 1 {
		t.Fatalf("%d gaps in %v, want one", gaps, batches)
	}
	if h.metric("stride_realtime_slow_disconnects_total") != 0 {
		t.Fatal("a live watcher was disconnected as a slow consumer")
	}
	// Still connected, still served.
	slow.Send(map[string]any{"type": "unsubscribe", "topic": topic, "ref": "u"})
	if m, err := slow.read(); err != nil || m["type"] != msgUnsubscribed {
		t.Fatalf("unsubscribe: %v %v", m, err)
	}
}

func TestTokenExpiry(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RenewWarning = time.Hour })
	ann := h.user("ann", stride.VisibilityPublic)
	bob := h.user("bob", stride.VisibilityPublic)

	t.Run("expires", func(t *testing.T) {
		h.auth.set("short", ann, time.Now().Add(time.Second))
		c := h.dial("short")
		c.Expect(msgAuthExpiring, nil)
		start := time.Now()
		code, _ := c.Closed()
		if code != CloseTokenExpired {
			t.Fatalf("closed with %d, want %d", code, CloseTokenExpired)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("closed %v after the warning, the token lived 1 s", time.Since(start))
		}
	})
	t.Run("renewed", func(t *testing.T) {
		expires := time.Now().Add(1500 * time.Millisecond)
		h.auth.set("short2", ann, expires)
		h.auth.set("fresh", ann, time.Now().Add(2*time.Hour))
		c := h.dial("short2")
		c.Expect(msgAuthExpiring, nil)
		c.Send(map[string]any{"type": "auth", "token": "fresh", "ref": "r"})
		ok := c.Expect(msgAuthOK, nil)
		if ok["ref"] != "r" {
			t.Fatalf("auth_ok %v", ok)
		}
		time.Sleep(time.Until(expires) + time.Second)
		c.roundTrip("still open")
	})
	t.Run("another user", func(t *testing.T) {
		h.auth.set("bobs", bob, time.Now().Add(time.Hour))
		c := h.dial("tok-ann")
		c.Send(map[string]any{"type": "auth", "token": "bobs"})
		if code, _ := c.Closed(); code != CloseUnauthorized {
			t.Fatalf("closed with %d, want %d", code, CloseUnauthorized)
		}
	})
	t.Run("refused", func(t *testing.T) {
		c := h.dial("tok-ann")
		c.Send(map[string]any{"type": "auth", "token": "nonsense"})
		if code, _ := c.Closed(); code != CloseUnauthorized {
			t.Fatalf("closed with %d, want %d", code, CloseUnauthorized)
		}
	})
}

func TestBadClientsAreClosed(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxMessageBytes = 1024 })
	h.user("ann", stride.VisibilityPublic)
	for _, tc := range []struct {
		name string
		typ  websocket.MessageType
		data []byte
		want websocket.StatusCode
	}{
		{"oversized", websocket.MessageText, []byte(`{"type":"unsubscribe","topic":"` + pad(2000) + `"}`), websocket.StatusMessageTooBig},
		{"binary", websocket.MessageBinary, []byte(`{"type":"unsubscribe","topic":"x"}`), websocket.StatusUnsupportedData},
		{"bad JSON", websocket.MessageText, []byte(`{"type":`), CloseBadMessage},
		{"not an object", websocket.MessageText, []byte(`[1,2]`), CloseBadMessage},
		{"no type", websocket.MessageText, []byte(`{"topic":"notifications"}`), CloseBadMessage},
		{"unknown type", websocket.MessageText, []byte(`{"type":"teleport"}`), CloseBadMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dial("tok-ann")
			c.roundTrip("first")
			c.Write(tc.typ, tc.data)
			code, frames := c.Closed()
			if code != tc.want {
				t.Fatalf("closed with %d, want %d", code, tc.want)
			}
			if len(frames) != 0 {
				t.Fatalf("frames before the close: %v", frames)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MessagesPerSecond, c.Burst = 1, 5 })
	h.user("ann", stride.VisibilityPublic)
	c := h.dial("tok-ann")
	// The burst is served; the next message, sent at once, is not.
	for i := range 5 {
		c.roundTrip(fmt.Sprint(i))
	}
	c.Send(map[string]any{"type": "unsubscribe", "topic": "x", "ref": "over"})
	code, frames := c.Closed()
	if code != CloseRateLimited {
		t.Fatalf("closed with %d, want %d", code, CloseRateLimited)
	}
	for _, f := range frames {
		if f["ref"] == "over" {
			t.Fatalf("the message over the limit was served: %v", f)
		}
	}

	// Within the rate, a client is never cut off.
	h2 := newHarness(t, func(c *Config) { c.MessagesPerSecond, c.Burst = 20, 2 })
	h2.user("bob", stride.VisibilityPublic)
	b := h2.dial("tok-bob")
	for i := range 10 {
		time.Sleep(60 * time.Millisecond)
		b.roundTrip(fmt.Sprint(i))
	}
}

// TestWelcome checks what a client learns on connecting.
func TestWelcome(t *testing.T) {
	h := newHarness(t, nil)
	ann := h.user("ann", stride.VisibilityPublic)
	ws, err := h.dialWS("tok-ann")
	if err != nil {
		t.Fatal(err)
	}
	if ws.Subprotocol() != Subprotocol {
		t.Fatalf("subprotocol %q", ws.Subprotocol())
	}
	c := &rawClient{t: t, ws: ws}
	m, err := c.read()
	if err != nil {
		t.Fatal(err)
	}
	limits, _ := m["limits"].(map[string]any)
	if m["type"] != msgWelcome || m["user_id"] != ann.ID || limits["max_message_bytes"] != float64(h.cfg.MaxMessageBytes) {
		t.Fatalf("welcome %v", m)
	}
	if _, err := h.dialWS("nobody"); err == nil || !bytes.Contains([]byte(err.Error()), []byte("401")) {
		t.Fatalf("dial without a known token: %v", err)
	}
}
