package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
	"github.com/stridehq/stride/bus"
	"github.com/stridehq/stride/leaderboard"
	"github.com/stridehq/stride/standings"
	"github.com/stridehq/stride/store"
)

// Authenticator checks access tokens (connection start and renewals).
type Authenticator interface {
	Authenticate(ctx context.Context, accessToken string) (*account.Principal, error)
}

// Boards reads what leaderboard subscriptions watch.
type Boards interface {
	Resolve(ctx context.Context, viewerID string, q standings.BoardQuery) (leaderboard.Board, error)
	Top(ctx context.Context, b leaderboard.Board, limit int) (*standings.BoardPage, error)
}

// HubStore is what watchers need of the store: live activities to catch up
// from, and the follow graph for visibility.
type HubStore interface {
	ActiveLive(ctx context.Context, userID string) ([]store.LiveActivity, error)
	LiveBatches(ctx context.Context, liveID string, after int64, limit int) ([]store.LiveBatch, error)
	IsFollowing(ctx context.Context, followerID, followeeID string) (bool, error)
	UserByID(ctx context.Context, id string) (*stride.User, error)
}

// Internal fan-out topics besides live:<athlete>.
const (
	topicBoards = "boards" // leaderboard.changed payloads
	topicAuth   = "auth"   // an athlete id whose authentication changed, "" for all
	userTopic   = "user:"  // + athlete id: notifications
	topicNotify = "notifications"
)

// Hub is this node's registry of connections and subscriptions. It
// listens to the fan-out and routes each message to the local subscribers
// of its topic, encoding nothing per watcher.
type Hub struct {
	cfg      Config
	auth     Authenticator
	recorder *Recorder
	store    HubStore
	boards   Boards
	fanout   bus.Fanout
	log      *slog.Logger
	metrics  *Metrics
	// OriginPatterns are the browser origins (host patterns) allowed to
	// connect; native clients send no Origin.
	OriginPatterns []string
	// BoardsChanged, when set, is told of every leaderboard.changed this
	// node receives, watched or not: how an API process without the
	// projector learns that its cached board pages are stale.
	BoardsChanged func(standings.ChangedBoards)
	// AuthChanged, when set, is told of every athlete whose authentication
	// another process changed (AnnounceAuthChange), "" for all: how this
	// process's authentication cache forgets a sign-out made elsewhere.
	AuthChanged func(userID string)

	mu         sync.Mutex
	conns      map[*Conn]struct{}
	live       map[string]map[*subscription]struct{} // athlete → watchers
	users      map[string]map[*subscription]struct{} // athlete → own notifications
	boardState map[string]*boardWatch                // board name → watchers
	closed     bool
	serving    sync.WaitGroup
}

type subKind int

const (
	subLive subKind = iota
	subBoard
	subNotifications
)

// subscription is one topic of one connection.
type subscription struct {
	conn  *Conn
	topic string
	kind  subKind
	key   string            // athlete id, or board name
	board leaderboard.Board // for a board subscription

	// live: who may see what, and the catch-up handover.
	self, follows bool
	mu            sync.Mutex
	ready         bool
	pending       []pendingLive
	lastSent      map[string]int64
}

type pendingLive struct {
	msg   liveHeader
	frame []byte
}

// liveHeader is the part of a live message routing needs.
type liveHeader struct {
	LiveID     string `json:"live_id"`
	UserID     string `json:"user_id"`
	Visibility string `json:"visibility"`
	Batch      int64  `json:"batch"`
}

type boardWatch struct {
	board leaderboard.Board
	subs  map[*subscription]struct{}
	dirty bool
	frame []byte
}

// NewHub returns a hub; Run starts its work.
func NewHub(cfg Config, auth Authenticator, recorder *Recorder, s HubStore, boards Boards, fanout bus.Fanout, metrics *Metrics, log *slog.Logger) *Hub {
	return &Hub{cfg: cfg, auth: auth, recorder: recorder, store: s, boards: boards, fanout: fanout, log: log, metrics: metrics,
		conns: map[*Conn]struct{}{}, live: map[string]map[*subscription]struct{}{}, users: map[string]map[*subscription]struct{}{},
		boardState: map[string]*boardWatch{}}
}

// Run listens to the fan-out and pushes coalesced leaderboards until ctx
// ends, then closes every connection with 1001 (going away).
func (h *Hub) Run(ctx context.Context) error {
	if err := h.fanout.Listen(ctx, h.route); err != nil {
		return err
	}
	tick := time.NewTicker(h.cfg.BoardInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			h.mu.Lock()
			h.closed = true
			conns := make([]*Conn, 0, len(h.conns))
			for c := range h.conns {
				conns = append(conns, c)
			}
			h.mu.Unlock()
			for _, c := range conns {
				c.cancel(errShutdown)
			}
			h.serving.Wait()
			return nil
		case <-tick.C:
			h.pushBoards(ctx)
		}
	}
}

// AnnounceAuthChange tells every node's hub that an athlete's
// authentication changed ("" for every athlete). It does not wait: the
// caller is a request, and a lost announcement costs at most the cache's
// TTL, within which every node notices anyway.
func (h *Hub) AnnounceAuthChange(userID string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.fanout.Broadcast(ctx, topicAuth, []byte(userID)); err != nil {
			h.log.Warn("announce an authentication change", "user_id", userID, "err", err)
		}
	}()
}

// route delivers one fan-out message on this node.
func (h *Hub) route(topic string, payload []byte) {
	switch {
	case strings.HasPrefix(topic, "live:"):
		var m liveHeader
		if json.Unmarshal(payload, &m) != nil {
			return
		}
		h.mu.Lock()
		subs := keys(h.live[m.UserID])
		h.mu.Unlock()
		for _, s := range subs {
			s.deliverLive(m, payload)
		}
	case strings.HasPrefix(topic, userTopic):
		h.mu.Lock()
		subs := keys(h.users[strings.TrimPrefix(topic, userTopic)])
		h.mu.Unlock()
		for _, s := range subs {
			s.conn.sendControl(payload)
		}
	case topic == topicAuth:
		if h.AuthChanged != nil {
			h.AuthChanged(string(payload))
		}
	case topic == topicBoards:
		var ch standings.ChangedBoards
		if json.Unmarshal(payload, &ch) != nil {
			return
		}
		if h.BoardsChanged != nil {
			h.BoardsChanged(ch)
		}
		h.mu.Lock()
		for _, w := range h.boardState {
			if ch.All || slices.Contains(ch.Sports, w.board.Sport) && slices.Contains(ch.Periods, string(w.board.Period.Kind)+":"+w.board.Period.Key) {
				w.dirty = true
			}
		}
		h.mu.Unlock()
	}
}

func keys[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// deliverLive passes a live frame on, unless the watcher may not see it,
// already has it from the catch-up, or the catch-up is still under way
// (then it waits in pending).
func (s *subscription) deliverLive(m liveHeader, frame []byte) {
	if !s.canSee(m.Visibility) {
		return
	}
	s.mu.Lock()
	if !s.ready {
		s.pending = append(s.pending, pendingLive{m, frame})
		s.mu.Unlock()
		return
	}
	if m.Batch > 0 {
		if m.Batch <= s.lastSent[m.LiveID] {
			s.mu.Unlock()
			return
		}
		s.lastSent[m.LiveID] = m.Batch
	}
	s.mu.Unlock()
	s.conn.sendLive(frame)
}

func (s *subscription) canSee(visibility string) bool {
	switch {
	case s.self:
		return true
	case visibility == stride.VisibilityPublic:
		return true
	case visibility == stride.VisibilityFollowers:
		return s.follows
	}
	return false
}

// pushBoards reads each changed watched board once, encodes it once, and
// hands the frame to every watcher's latest-only slot.
func (h *Hub) pushBoards(ctx context.Context) {
	h.mu.Lock()
	var due []*boardWatch
	for _, w := range h.boardState {
		if w.dirty {
			w.dirty = false
			due = append(due, w)
		}
	}
	h.mu.Unlock()
	for _, w := range due {
		frame, err := h.boardFrame(ctx, w.board)
		if err != nil {
			h.log.Warn("read watched leaderboard", "board", w.board.Name(), "err", err)
			continue
		}
		h.mu.Lock()
		w.frame = frame
		subs := keys(w.subs)
		h.mu.Unlock()
		for _, s := range subs {
			s.conn.sendBoard(w.board.Name(), frame)
		}
		h.metrics.boardPushed(len(subs))
	}
}

func (h *Hub) boardFrame(ctx context.Context, b leaderboard.Board) ([]byte, error) {
	page, err := h.boards.Top(ctx, b, h.cfg.BoardSize)
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Type  string `json:"type"`
		Board string `json:"board"`
		*standings.BoardPage
	}{msgLeaderboard, b.Name(), page})
}

// subscribe adds a topic to a connection: live:<athlete>, notifications,
// or leaderboard:<type>?<parameters>.
func (h *Hub) subscribe(ctx context.Context, c *Conn, in inbound) error {
	user := c.user()
	c.mu.Lock()
	_, dup := c.subs[in.Topic]
	n := len(c.subs)
	c.mu.Unlock()
	if dup {
		return stride.Errorf(stride.ECONFLICT, "Already subscribed to %s.", in.Topic)
	}
	if n >= h.cfg.MaxSubscriptions {
		return stride.Errorf(stride.ERATELIMITED, "At most %d subscriptions per connection.", h.cfg.MaxSubscriptions)
	}
	s := &subscription{conn: c, topic: in.Topic, lastSent: map[string]int64{}}
	switch {
	case in.Topic == topicNotify:
		s.kind, s.key = subNotifications, user.ID
		h.add(c, s)
		c.sendJSON(map[string]any{"type": msgSubscribed, "ref": in.Ref, "topic": in.Topic})
	case strings.HasPrefix(in.Topic, "live:"):
		owner := strings.TrimPrefix(in.Topic, "live:")
		s.kind, s.key, s.self = subLive, owner, owner == user.ID
		if !s.self {
			athlete, err := h.store.UserByID(ctx, owner)
			if err != nil || athlete.Status != stride.StatusActive {
				return stride.Errorf(stride.ENOTFOUND, "No such athlete.")
			}
			follows, err := h.store.IsFollowing(ctx, user.ID, owner)
			if err != nil {
				return err
			}
			// Strangers may watch only athletes who record in public by
			// default; each activity's own visibility still filters.
			if !follows && athlete.DefaultVisibility != stride.VisibilityPublic {
				return stride.Errorf(stride.EFORBIDDEN, "Follow this athlete to watch their live activities.")
			}
			s.follows = follows
		}
		h.add(c, s)
		c.sendJSON(map[string]any{"type": msgSubscribed, "ref": in.Ref, "topic": in.Topic})
		if err := h.catchUp(ctx, s, in.After); err != nil {
			h.remove(c, in.Topic)
			return err
		}
	case strings.HasPrefix(in.Topic, "leaderboard:"):
		typ, raw, _ := strings.Cut(strings.TrimPrefix(in.Topic, "leaderboard:"), "?")
		params, err := url.ParseQuery(raw)
		if err != nil {
			return stride.Errorf(stride.EINVALID, "The topic's parameters are not a query string.")
		}
		q, err := standings.ParseBoardQuery(typ, params)
		if err != nil {
			return err
		}
		b, err := h.boards.Resolve(ctx, user.ID, q)
		if err != nil {
			return err
		}
		s.kind, s.key, s.board = subBoard, b.Name(), b
		frame, err := h.boardFrame(ctx, b)
		if err != nil {
			return err
		}
		h.add(c, s)
		c.sendJSON(map[string]any{"type": msgSubscribed, "ref": in.Ref, "topic": in.Topic, "board": b.Name()})
		c.sendBoard(b.Name(), frame)
	default:
		return stride.Errorf(stride.EINVALID, "Unknown topic: use live:<athlete id>, leaderboard:<type>?<parameters> or notifications.")
	}
	return nil
}

// catchUp sends what a watcher missed of the athlete's live activities in
// progress (the whole of each, or what follows the batch numbers given),
// then lets live frames through without gaps or repeats.
func (h *Hub) catchUp(ctx context.Context, s *subscription, after map[string]int64) error {
	active, err := h.store.ActiveLive(ctx, s.key)
	if err != nil {
		return err
	}
	for _, a := range active {
		if !s.canSee(a.Visibility) {
			continue
		}
		head := liveMsg{Type: msgLive, Topic: s.topic, LiveID: a.ID, UserID: a.UserID, Sport: a.Sport, Visibility: a.Visibility, Status: a.Status}
		if err := s.conn.sendControlWait(ctx, mustJSON(head)); err != nil {
			return err
		}
		last := after[a.ID]
		for {
			batches, err := h.store.LiveBatches(ctx, a.ID, last, 100)
			if err != nil {
				return err
			}
			if len(batches) == 0 {
				break
			}
			m := head
			m.FromBatch, m.Batch = batches[0].Batch, batches[len(batches)-1].Batch
			m.Points = joinArrays(batches)
			if err := s.conn.sendControlWait(ctx, mustJSON(m)); err != nil {
				return err
			}
			last = m.Batch
			if len(batches) < 100 {
				break
			}
		}
		s.mu.Lock()
		s.lastSent[a.ID] = max(s.lastSent[a.ID], last)
		s.mu.Unlock()
	}
	s.mu.Lock()
	pending := s.pending
	s.pending, s.ready = nil, true
	s.mu.Unlock()
	for _, p := range pending {
		s.deliverLive(p.msg, p.frame)
	}
	return nil
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// joinArrays concatenates the stored JSON arrays of several batches.
func joinArrays(batches []store.LiveBatch) json.RawMessage {
	var buf bytes.Buffer
	buf.WriteByte('[')
	first := true
	for _, b := range batches {
		inner := bytes.TrimSpace(b.Points)
		if len(inner) < 2 {
			continue
		}
		inner = inner[1 : len(inner)-1]
		if len(bytes.TrimSpace(inner)) == 0 {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		buf.Write(inner)
		first = false
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

func (h *Hub) add(c *Conn, s *subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch s.kind {
	case subLive:
		if h.live[s.key] == nil {
			h.live[s.key] = map[*subscription]struct{}{}
		}
		h.live[s.key][s] = struct{}{}
	case subNotifications:
		if h.users[s.key] == nil {
			h.users[s.key] = map[*subscription]struct{}{}
		}
		h.users[s.key][s] = struct{}{}
		s.ready = true
	case subBoard:
		w := h.boardState[s.key]
		if w == nil {
			w = &boardWatch{board: s.board, subs: map[*subscription]struct{}{}}
			h.boardState[s.key] = w
		}
		w.subs[s] = struct{}{}
		s.ready = true
	}
	c.mu.Lock()
	c.subs[s.topic] = s
	c.mu.Unlock()
}

func (h *Hub) remove(c *Conn, topic string) {
	c.mu.Lock()
	s := c.subs[topic]
	delete(c.subs, topic)
	c.mu.Unlock()
	if s == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch s.kind {
	case subLive:
		delete(h.live[s.key], s)
		if len(h.live[s.key]) == 0 {
			delete(h.live, s.key)
		}
	case subNotifications:
		delete(h.users[s.key], s)
		if len(h.users[s.key]) == 0 {
			delete(h.users, s.key)
		}
	case subBoard:
		if w := h.boardState[s.key]; w != nil {
			delete(w.subs, s)
			if len(w.subs) == 0 {
				delete(h.boardState, s.key)
			}
		}
	}
}

func (h *Hub) unsubscribe(c *Conn, topic string) { h.remove(c, topic) }

// Serve upgrades an authenticated request and runs the connection until
// it ends.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, p *account.Principal) {
	h.mu.Lock()
	closed := h.closed
	if !closed {
		h.serving.Add(1)
	}
	h.mu.Unlock()
	if closed {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer h.serving.Done()
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{Subprotocol}, OriginPatterns: h.OriginPatterns})
	if err != nil {
		return // Accept answered the client
	}
	ws.SetReadLimit(h.cfg.MaxMessageBytes)
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(r.Context()))
	c := &Conn{hub: h, ws: ws, log: h.log.With("user_id", p.User.ID), principal: p, control: make(chan []byte, h.cfg.ControlQueue),
		boards: map[string][]byte{}, subs: map[string]*subscription{}, wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel,
		bucket: tokenBucket{rate: h.cfg.MessagesPerSecond, burst: float64(h.cfg.Burst)}}
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	h.metrics.connected(1)
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
		c.mu.Lock()
		topics := keys(c.subs)
		c.mu.Unlock()
		for _, t := range topics {
			h.remove(c, t)
		}
		h.metrics.connected(-1)
	}()

	c.sendJSON(map[string]any{"type": msgWelcome, "version": Version, "user_id": p.User.ID,
		"expires_at": p.ExpiresAt.UTC().Format(time.RFC3339),
		"limits": map[string]any{"max_message_bytes": h.cfg.MaxMessageBytes, "max_points_per_batch": h.cfg.MaxPointsPerBatch,
			"messages_per_second": h.cfg.MessagesPerSecond, "burst": h.cfg.Burst}})
	var wg sync.WaitGroup
	wg.Go(func() { c.writeLoop(ctx) })
	c.schedulePing()
	c.scheduleAuth()
	// The reader uses its own context: cancelling a Read's context makes
	// the library drop the connection without a close frame, and we want
	// to send one with the reason.
	readCtx, stopRead := context.WithCancel(context.Background())
	handshake := make(chan struct{})
	context.AfterFunc(ctx, func() {
		defer close(handshake)
		c.stopTimers()
		code, reason := closeStatus(context.Cause(ctx))
		_ = ws.Close(code, reason)
		// Only now: the library ties the connection to the last read's
		// context, and cancelling it earlier would cut the close handshake.
		stopRead()
	})
	c.readLoop(readCtx)
	cancel(nil)
	wg.Wait()
	<-handshake
}
