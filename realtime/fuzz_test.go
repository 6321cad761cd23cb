package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/activity"
)

// documentedCloses are the close codes of docs/realtime.md.
var documentedCloses = map[websocket.StatusCode]bool{
	websocket.StatusNormalClosure: true, websocket.StatusGoingAway: true, websocket.StatusUnsupportedData: true,
	websocket.StatusPolicyViolation: true, websocket.StatusMessageTooBig: true, CloseTokenExpired: true,
	CloseUnauthorized: true, CloseSlowConsumer: true, CloseBadMessage: true, CloseRateLimited: true,
}

var serverTypes = map[string]bool{msgWelcome: true, msgAuthOK: true, msgAuthExpiring: true, msgStarted: true, msgAck: true,
	msgFinished: true, msgSubscribed: true, msgUnsubscribed: true, msgLive: true, msgLeaderboard: true, msgNotification: true, msgError: true}

var errorCodes = map[string]bool{stride.EINVALID: true, stride.ECONFLICT: true, stride.EFORBIDDEN: true, stride.ENOTFOUND: true,
	stride.ETOOLARGE: true, stride.ERATELIMITED: true, stride.EUNAUTHORIZED: true, stride.EINTERNAL: true}

// FuzzClientMessage sends arbitrary bytes as one client message to a
// connected socket, then a sentinel: the server must answer the message
// with frames of the protocol (at least one) before the sentinel's answer,
// or close with a documented code; never hang, never drop the socket.
func FuzzClientMessage(f *testing.F) {
	h := newHarness(f, func(c *Config) { c.MaxMessageBytes, c.MaxPointsPerBatch = 4096, 20 })
	ann := h.user("fuzz", stride.VisibilityFollowers)
	h.user("other", stride.VisibilityPublic)
	now := time.Now().UTC().Format(time.RFC3339)
	for _, seed := range []string{
		`{"type":"auth","token":"tok-fuzz","ref":"a"}`,
		`{"type":"auth","token":"tok-other"}`,
		`{"type":"start","sport":"running","name":"x","visibility":"public"}`,
		`{"type":"start","live_id":"01J0000000000000000000000"}`,
		`{"type":"points","live_id":"x","batch":1,"points":[{"t":"` + now + `","lat":1,"lon":2,"hr":120}]}`,
		`{"type":"pause","live_id":"x"}`, `{"type":"resume","live_id":"x"}`, `{"type":"finish","live_id":"x"}`,
		`{"type":"subscribe","topic":"notifications"}`,
		`{"type":"subscribe","topic":"live:` + ann.ID + `","after":{"x":3}}`,
		`{"type":"subscribe","topic":"leaderboard:distance?sport=running&period=all"}`,
		`{"type":"subscribe","topic":"leaderboard:5k?period=week&date=2026-02-30"}`,
		`{"type":"unsubscribe","topic":"notifications"}`,
		`{"type":"teleport"}`, `{}`, `null`, `[]`, `{"type":1}`, `not json`, strings.Repeat(" ", 5000),
	} {
		f.Add([]byte(seed))
	}
	url := strings.Replace(h.srv.URL, "http://", "ws://", 1)
	var conn *websocket.Conn
	dial := func(t *testing.T) *websocket.Conn {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer tok-fuzz"}}})
		if err != nil {
			t.Fatal(err)
		}
		ws.SetReadLimit(8 << 20)
		if _, data, err := ws.Read(ctx); err != nil || !bytes.Contains(data, []byte(`"welcome"`)) {
			t.Fatalf("welcome: %s %v", data, err)
		}
		return ws
	}
	var n int
	f.Fuzz(func(t *testing.T, msg []byte) {
		if conn == nil {
			conn = dial(t)
		}
		n++
		ref := fmt.Sprintf("sentinel-%d", n)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := conn.Write(ctx, websocket.MessageText, msg); err != nil {
			t.Fatalf("write: %v", err)
		}
		// The sentinel may be refused by a socket already closing: its
		// read tells why.
		_ = conn.Write(ctx, websocket.MessageText, []byte(`{"type":"unsubscribe","topic":"sentinel","ref":"`+ref+`"}`))
		frames := 0
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				conn.CloseNow()
				conn = nil
				if code := websocket.CloseStatus(err); !documentedCloses[code] {
					t.Fatalf("after %q the socket ended with %v", msg, err)
				}
				return
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatalf("after %q a frame that is not JSON: %q", msg, data)
			}
			typ, _ := m["type"].(string)
			if !serverTypes[typ] {
				t.Fatalf("after %q a frame of type %q", msg, typ)
			}
			if typ == msgError {
				if code, _ := m["code"].(string); !errorCodes[code] || code == stride.EINTERNAL {
					t.Fatalf("after %q error %v", msg, m)
				}
			}
			if typ == msgUnsubscribed && m["ref"] == ref {
				if frames == 0 {
					t.Fatalf("no answer to %q", msg)
				}
				return
			}
			frames++
		}
	})
}

// FuzzPoints: checking a batch never panics, refuses with "invalid", and
// what it accepts re-decodes to as many points and checks again unchanged.
func FuzzPoints(f *testing.F) {
	r := &Recorder{cfg: DefaultConfig()}
	for _, seed := range []string{
		`[{"t":"2026-03-01T10:00:00Z","lat":48.85,"lon":2.35,"ele":35,"hr":120,"cad":80,"power":200,"speed":3.2}]`,
		`[{"t":"2026-03-01T10:00:00+02:00"},{"t":"2026-03-01T10:00:01.123456789Z","hr":1e308}]`,
		`[{"t":"2026-03-01T10:00:00Z","lat":91,"lon":0}]`, `[{"t":"2026-03-01T10:00:00Z","lat":1}]`,
		`[{"t":"0001-01-01T00:00:00Z"}]`, `[{"t":"9999-12-31T23:59:59Z","x":1}]`, `[]`, `null`, `{}`, `[null]`, `[{}]`,
		`[{"t":"2026-03-01T10:00:00Z"}] trailing`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, n, err := r.checkPoints(raw)
		if err != nil {
			if code := stride.ErrorCode(err); code != stride.EINVALID {
				t.Fatalf("%q refused with %s: %v", raw, code, err)
			}
			return
		}
		var pts []activity.JSONPoint
		if err := json.Unmarshal(out, &pts); err != nil || len(pts) != n || n < 1 || n > r.cfg.MaxPointsPerBatch {
			t.Fatalf("%q accepted as %d points, re-encoded %q (%d points, %v)", raw, n, out, len(pts), err)
		}
		again, n2, err := r.checkPoints(out)
		if err != nil || n2 != n || !bytes.Equal(again, out) {
			t.Fatalf("%q accepted as %q, which checks as %q, %d, %v", raw, out, again, n2, err)
		}
	})
}
