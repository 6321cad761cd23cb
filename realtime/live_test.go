package realtime

import (
	"bytes"
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/activity"
)

func TestDevice(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxPointsPerBatch, c.MaxLivePerAthlete = 10, 2 })
	ann := h.user("ann", stride.VisibilityPublic)
	h.user("bob", stride.VisibilityPublic)
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

	watcher := h.dial("tok-bob")
	watcher.Send(map[string]any{"type": "subscribe", "topic": liveTopic(ann.ID)})
	watcher.Expect(msgSubscribed, nil)
	dev := h.dial("tok-ann")
	dev.Send(map[string]any{"type": "start", "sport": "teleporting", "ref": "sport"})
	dev.expectError(stride.EINVALID, "sport")
	id := startLive(dev, "")
	if m := watcher.Expect(msgLive, nil); m["live_id"] != id || m["status"] != "recording" || m["visibility"] != stride.VisibilityPublic {
		t.Fatalf("start as watched: %v", m)
	}

	first, second := points(start, 0, 4), points(start, 4, 6)
	sendBatch(dev, id, 1, first)
	watcher.Expect(msgLive, func(m map[string]any) bool { return m["batch"] == float64(1) })

	refused := func(ref, code string, msg map[string]any) {
		t.Helper()
		msg["ref"] = ref
		dev.Send(msg)
		dev.expectError(code, ref)
	}
	refused("gap", stride.ECONFLICT, map[string]any{"type": "points", "live_id": id, "batch": 3, "points": second})
	refused("big", stride.EINVALID, map[string]any{"type": "points", "live_id": id, "batch": 2, "points": points(start, 4, 11)})
	refused("empty", stride.EINVALID, map[string]any{"type": "points", "live_id": id, "batch": 2, "points": []any{}})
	refused("zero", stride.EINVALID, map[string]any{"type": "points", "live_id": id, "batch": 0, "points": second})
	refused("half", stride.EINVALID, map[string]any{"type": "points", "live_id": id, "batch": 2,
		"points": []map[string]any{{"t": start.Format(time.RFC3339), "lat": 1.0}}})
	refused("extra", stride.EINVALID, map[string]any{"type": "points", "live_id": id, "batch": 2,
		"points": []map[string]any{{"t": start.Format(time.RFC3339), "altitude": 1.0}}})
	refused("other", stride.ENOTFOUND, map[string]any{"type": "points", "live_id": "nope", "batch": 2, "points": second})

	// A resend is acknowledged again and not fanned out again.
	sendBatch(dev, id, 1, first)
	sendBatch(dev, id, 2, second)
	watcher.Expect(msgLive, func(m map[string]any) bool { return m["batch"] == float64(2) })
	if got := h.sent.batches(id); !maps.Equal(got, map[int64]int{1: 1, 2: 1}) {
		t.Fatalf("batches fanned out %v, want each once", got)
	}

	dev.Send(map[string]any{"type": "pause", "live_id": id, "ref": "p"})
	if m := dev.Expect(msgAck, func(m map[string]any) bool { return m["ref"] == "p" }); m["status"] != "paused" {
		t.Fatalf("pause: %v", m)
	}
	watcher.Expect(msgLive, func(m map[string]any) bool { return m["status"] == "paused" })
	dev.Send(map[string]any{"type": "resume", "live_id": id, "ref": "r"})
	dev.Expect(msgAck, func(m map[string]any) bool { return m["ref"] == "r" && m["status"] == "recording" })

	// Another athlete cannot finish it.
	other := h.dial("tok-bob")
	other.Send(map[string]any{"type": "finish", "live_id": id, "ref": "f"})
	other.expectError(stride.ENOTFOUND, "f")

	dev.Send(map[string]any{"type": "finish", "live_id": id, "ref": "f1"})
	fin := dev.Expect(msgFinished, nil)
	uploadID, _ := fin["upload_id"].(string)
	if uploadID == "" || fin["live_id"] != id || fin["status_url"] != "/api/v1/uploads/"+uploadID {
		t.Fatalf("finished %v", fin)
	}
	if m := watcher.Expect(msgLive, func(m map[string]any) bool { return m["status"] == "finished" }); m["upload_id"] != uploadID {
		t.Fatalf("finish as watched: %v", m)
	}
	calls := h.uploads.received()
	if len(calls) != 1 {
		t.Fatalf("%d uploads", len(calls))
	}
	up := calls[0]
	if up.UserID != ann.ID || up.Format != string(activity.FormatJSON) || up.IdempotencyKey != "live:"+id || up.Options.Visibility != stride.VisibilityPublic {
		t.Fatalf("upload %+v", up)
	}
	var body activity.JSONActivity
	dec := json.NewDecoder(bytes.NewReader(up.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("upload body %s: %v", up.Body, err)
	}
	want := append(first, second...)
	if body.Sport != "running" || !body.StartTime.Equal(start) || len(body.Points) != len(want) {
		t.Fatalf("upload of %s starting %v with %d points, want running, %v, %d", body.Sport, body.StartTime, len(body.Points), start, len(want))
	}
	for i, p := range body.Points {
		if p.T.Format(time.RFC3339) != want[i]["t"] || p.Lat == nil || *p.Lat != want[i]["lat"] || p.HR == nil || *p.HR != float64(want[i]["hr"].(int)) {
			t.Fatalf("point %d: %+v, want %v", i, p, want[i])
		}
	}

	// Finishing again (the device lost the answer) returns the same upload.
	dev.Send(map[string]any{"type": "finish", "live_id": id, "ref": "f2"})
	if again := dev.Expect(msgFinished, func(m map[string]any) bool { return m["ref"] == "f2" }); again["upload_id"] != uploadID {
		t.Fatalf("second finish: %v, want upload %s", again, uploadID)
	}
	if calls := h.uploads.received(); len(calls) != 2 || calls[1].IdempotencyKey != up.IdempotencyKey || !bytes.Equal(calls[1].RequestHash, up.RequestHash) {
		t.Fatalf("the second finish sent %+v", calls[len(calls)-1])
	}
	refused("after", stride.ECONFLICT, map[string]any{"type": "points", "live_id": id, "batch": 3, "points": points(start, 10, 1)})
	refused("resume finished", stride.ECONFLICT, map[string]any{"type": "start", "live_id": id})

	// The limit counts activities in progress only.
	startLive(dev, "")
	startLive(dev, "")
	refused("third", stride.ECONFLICT, map[string]any{"type": "start", "sport": "running"})
}

// TestFinishWithoutPoints: nothing to upload is refused, and the activity
// stays in progress.
func TestFinishWithoutPoints(t *testing.T) {
	h := newHarness(t, nil)
	h.user("cat", stride.VisibilityPublic)
	c := h.dial("tok-cat")
	id := startLive(c, "")
	c.Send(map[string]any{"type": "finish", "live_id": id, "ref": "nothing"})
	c.expectError(stride.EINVALID, "nothing")
	c.Send(map[string]any{"type": "start", "live_id": id, "ref": "again"})
	if m := c.Expect(msgStarted, nil); m["status"] != "recording" || m["last_batch"] != float64(0) {
		t.Fatalf("resumed %v", m)
	}
	if n := len(h.uploads.received()); n != 0 {
		t.Fatalf("%d uploads", n)
	}
}
