package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/ingest"
	"github.com/stridehq/stride/internal/e2e"
	"github.com/stridehq/stride/leaderboard"
	"github.com/stridehq/stride/nats"
	"github.com/stridehq/stride/ranker/memrank"
	"github.com/stridehq/stride/sqlite"
	"github.com/stridehq/stride/sqlite/sqlitetest"
	"github.com/stridehq/stride/standings"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testConfig keeps the documented defaults but lets tests wait for
// nothing: no ping during a test, writes that block (a client that does
// not read) are not cut short by the write timeout, and leaderboards are
// pushed often.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.PingInterval, cfg.PongTimeout, cfg.WriteTimeout = time.Hour, time.Minute, time.Minute
	cfg.BoardInterval = 100 * time.Millisecond
	cfg.MessagesPerSecond, cfg.Burst = 10_000, 10_000
	cfg.RenewWarning = time.Second
	return cfg
}

// harness is one node: a Hub behind an httptest server, with the real
// SQLite store, in-memory ranker, standings reader and embedded NATS
// fan-out, and fakes for authentication and the upload pipeline.
type harness struct {
	t       testing.TB
	cfg     Config
	db      *sqlite.DB
	rank    *memrank.Ranker
	boards  *countingBoards
	bus     bus.Fanout       // what the hub listens to; tests broadcast on it
	sent    *recordingFanout // what the recorder broadcast
	uploads *fakeUploads
	auth    *fakeAuth
	reg     *prometheus.Registry
	hub     *Hub
	srv     *httptest.Server
	stop    context.CancelFunc
	runDone chan error
	// changed receives what the hub passes to its BoardsChanged hook.
	changed chan standings.ChangedBoards
	// authChanged receives what it passes to its AuthChanged hook.
	authChanged chan string
}

var natsOnce struct {
	sync.Once
	srv *nats.Server
	dir string
	err error
	n   atomic.Int64
}

func TestMain(m *testing.M) {
	code := m.Run()
	if natsOnce.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = natsOnce.srv.Shutdown(ctx)
		cancel()
	}
	if natsOnce.dir != "" {
		_ = os.RemoveAll(natsOnce.dir)
	}
	os.Exit(code)
}

// sharedNATS starts one embedded server for the whole package: tests
// connect with their own prefix, so their fan-outs do not meet.
func sharedNATS(tb testing.TB) *nats.Server {
	tb.Helper()
	natsOnce.Do(func() {
		dir, err := os.MkdirTemp("", "stride-realtime-nats")
		if err != nil {
			natsOnce.err = err
			return
		}
		natsOnce.dir = dir
		natsOnce.srv, natsOnce.err = nats.StartEmbedded(context.Background(), dir, nats.EmbeddedOptions{Logger: quiet})
	})
	if natsOnce.err != nil {
		tb.Fatalf("embedded nats: %v", natsOnce.err)
	}
	return natsOnce.srv
}

func newHarness(t testing.TB, tune func(*Config)) *harness {
	t.Helper()
	ctx := context.Background()
	cfg := testConfig()
	if tune != nil {
		tune(&cfg)
	}
	db := sqlitetest.Open(t)
	b, err := sharedNATS(t).Connect(ctx, nats.Options{Prefix: fmt.Sprintf("rt%d", natsOnce.n.Add(1)), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })

	h := &harness{t: t, cfg: cfg, db: db, rank: memrank.New(memrank.Options{}), bus: b, sent: &recordingFanout{Fanout: b},
		uploads: &fakeUploads{answers: map[string]*ingest.Answer{}}, auth: &fakeAuth{tokens: map[string]account.Principal{}},
		reg: prometheus.NewRegistry()}
	h.boards = &countingBoards{Reader: standings.NewReader(db, h.rank, time.Now)}
	rec := NewRecorder(db, h.uploads, h.sent, cfg, time.Now)
	h.hub = NewHub(cfg, h.auth, rec, db, h.boards, b, NewMetrics(h.reg), quiet)
	h.changed = make(chan standings.ChangedBoards, 64)
	h.authChanged = make(chan string, 64)
	h.hub.AuthChanged = func(userID string) {
		select {
		case h.authChanged <- userID:
		default:
		}
	}
	h.hub.BoardsChanged = func(ch standings.ChangedBoards) {
		select {
		case h.changed <- ch:
		default: // tests that do not read them
		}
	}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := h.auth.Authenticate(r.Context(), strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.hub.Serve(w, r, p)
	}))
	t.Cleanup(h.srv.Close)
	runCtx, stop := context.WithCancel(ctx)
	h.stop, h.runDone = stop, make(chan error, 1)
	go func() { h.runDone <- h.hub.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-h.runDone:
		case <-time.After(30 * time.Second):
			t.Error("Hub.Run did not return after its context ended")
		}
	})
	// Run registers its listener before anything is routed; a message
	// broadcast before that would be lost, so wait for it.
	h.waitListening()
	return h
}

// waitListening returns once the hub routes fan-out messages: Run
// registers its listener in the background, and a message broadcast before
// that is lost, as the fan-out's contract allows.
func (h *harness) waitListening() {
	h.t.Helper()
	probe := h.user("probe", stride.VisibilityPrivate)
	c := h.dial("tok-probe")
	c.Send(map[string]any{"type": "subscribe", "topic": topicNotify})
	c.Expect(msgSubscribed, nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.broadcast(userTopic+probe.ID, map[string]any{"type": msgNotification, "event": "probe"})
		select {
		case m, ok := <-c.Frames:
			if !ok || m["event"] != "probe" {
				h.t.Fatalf("probe: %v", m)
			}
			c.WS.Close(websocket.StatusNormalClosure, "")
			return
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			h.t.Fatal("the hub never started listening")
		}
	}
}

// user creates an active athlete and a token for them that expires in an
// hour.
func (h *harness) user(name, defaultVisibility string) *stride.User {
	h.t.Helper()
	now := time.Now().UTC()
	u := &stride.User{ID: stride.NewID(now), Email: name + "@example.com", Name: name, Role: stride.RoleAthlete,
		Status: stride.StatusActive, Units: "metric", DefaultVisibility: defaultVisibility, CreatedAt: now, UpdatedAt: now}
	if err := h.db.CreateUser(context.Background(), u, "hash", nil); err != nil {
		h.t.Fatal(err)
	}
	h.auth.set("tok-"+name, u, now.Add(time.Hour))
	return u
}

func (h *harness) follow(follower, followee *stride.User) {
	h.t.Helper()
	if err := h.db.Follow(context.Background(), follower.ID, followee.ID, time.Now()); err != nil {
		h.t.Fatal(err)
	}
}

// metric sums every series of a metric family in the hub's registry.
func (h *harness) metric(name string) float64 {
	h.t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// waitMetric polls until cond holds for the metric's value.
func (h *harness) waitMetric(name string, cond func(float64) bool) float64 {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v := h.metric(name)
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s stayed at %v", name, v)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) broadcast(topic string, payload any) {
	h.t.Helper()
	data, ok := payload.([]byte)
	if !ok {
		var err error
		if data, err = json.Marshal(payload); err != nil {
			h.t.Fatal(err)
		}
	}
	if err := h.bus.Broadcast(context.Background(), topic, data); err != nil {
		h.t.Fatal(err)
	}
}

// client is a realtime client that reads frames in the background.
type client struct {
	*e2e.WSClient
}

func (h *harness) dialWS(token string) (*websocket.Conn, error) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, strings.Replace(h.srv.URL, "http://", "ws://", 1),
		&websocket.DialOptions{Subprotocols: []string{Subprotocol}, HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %d: %w", resp.StatusCode, err)
		}
		return nil, err
	}
	ws.SetReadLimit(8 << 20)
	h.t.Cleanup(func() { ws.CloseNow() })
	return ws, nil
}

// dial connects and reads the welcome.
func (h *harness) dial(token string) *client {
	h.t.Helper()
	ws, err := h.dialWS(token)
	if err != nil {
		h.t.Fatal(err)
	}
	c := &client{e2e.ReadFrames(h.t, ws)}
	if w := c.Expect(msgWelcome, nil); w["version"] != float64(Version) {
		h.t.Fatalf("welcome %v", w)
	}
	return c
}

// rawClient is a client that reads only when told to: a slow consumer.
type rawClient struct {
	t  testing.TB
	ws *websocket.Conn
}

func (h *harness) dialRaw(token string) *rawClient {
	h.t.Helper()
	ws, err := h.dialWS(token)
	if err != nil {
		h.t.Fatal(err)
	}
	c := &rawClient{t: h.t, ws: ws}
	if m, err := c.read(); err != nil || m["type"] != msgWelcome {
		h.t.Fatalf("welcome: %v %v", m, err)
	}
	return c
}

func (c *rawClient) read() (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("frame is not JSON: %.200s", data)
	}
	return m, nil
}

func (c *rawClient) Send(v any) {
	c.t.Helper()
	send(c.t, c.ws, v)
}

func send(t testing.TB, ws *websocket.Conn, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, data); err != nil {
		t.Fatalf("send %.200s: %v", data, err)
	}
}

// expectError waits for an error frame and checks its code and ref.
func (c *client) expectError(code, ref string) map[string]any {
	c.T.Helper()
	e := c.Expect(msgError, nil)
	if e["code"] != code || e["ref"] != ref {
		c.T.Fatalf("error %v, want code %s ref %s", e, code, ref)
	}
	return e
}

// roundTrip proves the connection is open and served: an unsubscribe is
// always answered.
func (c *client) roundTrip(ref string) {
	c.T.Helper()
	c.Send(map[string]any{"type": "unsubscribe", "topic": "nothing", "ref": ref})
	c.Expect(msgUnsubscribed, func(m map[string]any) bool { return m["ref"] == ref })
}

type fakeAuth struct {
	mu     sync.Mutex
	tokens map[string]account.Principal
}

func (a *fakeAuth) set(token string, u *stride.User, expires time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens[token] = account.Principal{User: u, SessionID: "s-" + token, ExpiresAt: expires}
}

func (a *fakeAuth) Authenticate(_ context.Context, token string) (*account.Principal, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.tokens[token]
	if !ok {
		return nil, stride.Errorf(stride.EUNAUTHORIZED, "Unknown token.")
	}
	return &p, nil
}

// fakeUploads records what it is given and, like the real pipeline,
// replays the first answer for a repeated idempotency key.
type fakeUploads struct {
	mu      sync.Mutex
	calls   []ingest.Upload
	answers map[string]*ingest.Answer
	hashes  map[string][]byte
}

func (u *fakeUploads) Accept(_ context.Context, in ingest.Upload) (*ingest.Answer, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = append(u.calls, in)
	if in.IdempotencyKey != "" {
		if a, ok := u.answers[in.IdempotencyKey]; ok {
			if string(u.hashes[in.IdempotencyKey]) != string(in.RequestHash) {
				return nil, stride.Errorf(stride.EIDEMPOTENCY, "Idempotency key reused with another body.")
			}
			replay := *a
			replay.Replayed = true
			return &replay, nil
		}
	}
	id := stride.NewID(time.Now())
	body, _ := json.Marshal(ingest.Receipt{UploadID: id, Status: "queued", StatusURL: "/api/v1/uploads/" + id})
	a := &ingest.Answer{Status: http.StatusAccepted, Location: "/api/v1/uploads/" + id, Body: body}
	if in.IdempotencyKey != "" {
		if u.hashes == nil {
			u.hashes = map[string][]byte{}
		}
		u.answers[in.IdempotencyKey], u.hashes[in.IdempotencyKey] = a, in.RequestHash
	}
	return a, nil
}

func (u *fakeUploads) received() []ingest.Upload {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]ingest.Upload(nil), u.calls...)
}

// countingBoards counts the leaderboard reads pushes make.
type countingBoards struct {
	*standings.Reader
	tops atomic.Int64
}

func (b *countingBoards) Top(ctx context.Context, board leaderboard.Board, limit int) (*standings.BoardPage, error) {
	b.tops.Add(1)
	return b.Reader.Top(ctx, board, limit)
}

// recordingFanout records what the recorder broadcasts.
type recordingFanout struct {
	bus.Fanout
	mu   sync.Mutex
	msgs []liveMsg
}

func (f *recordingFanout) Broadcast(ctx context.Context, topic string, payload []byte) error {
	var m liveMsg
	if err := json.Unmarshal(payload, &m); err != nil {
		return errors.New("the recorder broadcast something that is not a live message")
	}
	f.mu.Lock()
	f.msgs = append(f.msgs, m)
	f.mu.Unlock()
	return f.Fanout.Broadcast(ctx, topic, payload)
}

// batches counts the broadcasts of each batch of a live activity.
func (f *recordingFanout) batches(liveID string) map[int64]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int64]int{}
	for _, m := range f.msgs {
		if m.LiveID == liveID && m.Batch > 0 {
			out[m.Batch]++
		}
	}
	return out
}
