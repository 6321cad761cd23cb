package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/stridehq/stride"
	"github.com/stridehq/stride/account"
)

// Conn is one WebSocket connection. Three kinds of outgoing message, three
// policies, so that a slow client costs only itself:
//
//   - control messages (welcome, acks, errors, subscription answers,
//     notifications) must not be lost: a bounded queue, and a client that
//     lets it fill is disconnected with CloseSlowConsumer;
//   - live points: a bounded ring where the oldest frame is dropped when
//     full, since a newer position supersedes it (catch-up by batch number
//     repairs gaps the client cares about);
//   - leaderboard states: one slot per board holding only the latest, so a
//     watcher gets the current state at a bounded rate, never a backlog.
//
// Frames are encoded once by the hub and shared by every connection.
type Conn struct {
	hub *Hub
	ws  *websocket.Conn
	log *slog.Logger

	mu        sync.Mutex
	principal *account.Principal
	control   chan []byte
	live      [][]byte
	liveHead  int
	liveLen   int
	boards    map[string][]byte
	boardList []string
	subs      map[string]*subscription
	wake      chan struct{}

	ctx    context.Context // ends with the connection
	cancel context.CancelCauseFunc
	bucket tokenBucket

	pingTimer, warnTimer, expireTimer *time.Timer
}

// closeError carries a close code and reason to the connection's end.
type closeError struct {
	code   websocket.StatusCode
	reason string
}

func (e *closeError) Error() string { return fmt.Sprintf("close %d: %s", e.code, e.reason) }

func (c *Conn) user() *stride.User {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.principal.User
}

// closeWith ends the connection with a code and reason.
func (c *Conn) closeWith(code websocket.StatusCode, reason string) {
	c.cancel(&closeError{code: code, reason: reason})
}

// sendControl queues a message that must not be lost.
func (c *Conn) sendControl(frame []byte) {
	select {
	case c.control <- frame:
	default:
		c.hub.metrics.slowConsumer()
		c.closeWith(CloseSlowConsumer, "too many unread messages")
	}
}

// sendControlWait queues a control message, waiting for room (catch-up
// frames the reader sends, which must not be lost and may be many).
func (c *Conn) sendControlWait(ctx context.Context, frame []byte) error {
	select {
	case c.control <- frame:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (c *Conn) sendJSON(v any) {
	frame, err := json.Marshal(v)
	if err != nil {
		c.log.Error("encode realtime message", "err", err)
		return
	}
	c.sendControl(frame)
}

func (c *Conn) sendError(ref string, err error) {
	code, detail := stride.ErrorCode(err), stride.ErrorMessage(err)
	if code == stride.EINTERNAL {
		c.log.Error("realtime request failed", "err", err)
		detail = "Something went wrong on our side; try again."
	}
	c.sendJSON(errorMsg{Type: msgError, Ref: ref, Code: code, Detail: detail})
}

// sendLive queues a live frame, dropping the oldest when the ring is full.
func (c *Conn) sendLive(frame []byte) {
	c.mu.Lock()
	if c.live == nil {
		c.live = make([][]byte, c.hub.cfg.LiveQueue)
	}
	n := len(c.live)
	if c.liveLen == n {
		c.live[c.liveHead] = nil
		c.liveHead = (c.liveHead + 1) % n
		c.liveLen--
		c.hub.metrics.liveDropped()
	}
	c.live[(c.liveHead+c.liveLen)%n] = frame
	c.liveLen++
	c.mu.Unlock()
	c.poke()
}

// sendBoard replaces the pending state of a board.
func (c *Conn) sendBoard(board string, frame []byte) {
	c.mu.Lock()
	if _, pending := c.boards[board]; !pending {
		c.boardList = append(c.boardList, board)
	}
	c.boards[board] = frame
	c.mu.Unlock()
	c.poke()
}

func (c *Conn) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// takePending removes what the live ring and board slots hold.
func (c *Conn) takePending() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]byte, 0, c.liveLen+len(c.boardList))
	for i := 0; i < c.liveLen; i++ {
		j := (c.liveHead + i) % len(c.live)
		out = append(out, c.live[j])
		c.live[j] = nil
	}
	c.liveHead, c.liveLen = 0, 0
	for _, b := range c.boardList {
		out = append(out, c.boards[b])
		delete(c.boards, b)
	}
	c.boardList = c.boardList[:0]
	return out
}

// writeLoop writes frames until ctx ends; it owns every write but the
// final close.
func (c *Conn) writeLoop(ctx context.Context) {
	write := func(frame []byte) bool {
		// Not cancelled with the connection: the library would cut the
		// socket mid-frame, and the close frame with its code (4008 above
		// all, sent when this write is stuck) could never follow.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.hub.cfg.WriteTimeout)
		defer cancel()
		if err := c.ws.Write(wctx, websocket.MessageText, frame); err != nil {
			c.cancel(err)
			return false
		}
		c.hub.metrics.frameSent()
		return true
	}
	for {
		select {
		case <-ctx.Done():
			return
		case frame := <-c.control:
			if !write(frame) {
				return
			}
		case <-c.wake:
			pending := c.takePending()
			// What the control queue held when these frames were taken
			// was queued before them (a subscription's answer, a live
			// catch-up) and goes first, else select's random pick could
			// push a state ahead of its "subscribed".
			for range len(c.control) {
				if !write(<-c.control) {
					return
				}
			}
			for _, frame := range pending {
				if !write(frame) {
					return
				}
			}
		}
	}
}

// Timers rather than goroutines keep pings and token expiry: an idle
// connection then costs its reader, handler and writer only.

// schedulePing arms the next ping. A ping waits for its pong in the
// timer's own goroutine, beside the writer, which it must not hold up.
func (c *Conn) schedulePing() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		return
	}
	c.pingTimer = time.AfterFunc(c.hub.cfg.PingInterval, func() {
		// Not cancelled with the connection, for the reason the writes
		// are not: a graceful close must not be cut short.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), c.hub.cfg.PongTimeout)
		err := c.ws.Ping(pctx)
		cancel()
		if c.ctx.Err() != nil {
			return
		}
		if err != nil {
			c.closeWith(websocket.StatusPolicyViolation, "no pong")
			return
		}
		c.schedulePing()
	})
}

// scheduleAuth arms the warning before the access token expires and the
// close when it has; a renewal arms them again for the new token.
func (c *Conn) scheduleAuth() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopAuthTimersLocked()
	if c.ctx.Err() != nil {
		return
	}
	expires := c.principal.ExpiresAt
	c.warnTimer = time.AfterFunc(max(time.Until(expires.Add(-c.hub.cfg.RenewWarning)), 0), func() {
		c.sendJSON(map[string]any{"type": msgAuthExpiring, "expires_at": expires.UTC().Format(time.RFC3339)})
	})
	c.expireTimer = time.AfterFunc(max(time.Until(expires), 0), func() {
		c.closeWith(CloseTokenExpired, "access token expired")
	})
}

func (c *Conn) stopAuthTimersLocked() {
	for _, t := range []*time.Timer{c.warnTimer, c.expireTimer} {
		if t != nil {
			t.Stop()
		}
	}
}

// stopTimers disarms every timer of an ending connection.
func (c *Conn) stopTimers() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopAuthTimersLocked()
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
}

// readLoop reads client messages until ctx ends or one is bad, and hands
// them, in order, to one handler goroutine. Reading never waits for a
// handler (a batch waiting for its commit): the library answers pings and
// reads pongs only while a read is under way, and a busy device must not
// look dead.
func (c *Conn) readLoop(ctx context.Context) {
	inbox := make(chan inbound, inboxSize)
	handled := make(chan struct{})
	go func() {
		defer close(handled)
		for in := range inbox {
			if !c.handle(ctx, in) {
				c.closeWith(CloseBadMessage, "unknown message type "+truncate(in.Type, 40))
				return
			}
		}
	}()
	defer func() {
		close(inbox)
		<-handled
	}()
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			c.cancel(err)
			return
		}
		if !c.bucket.take(time.Now()) {
			c.closeWith(CloseRateLimited, "too many messages")
			return
		}
		if typ != websocket.MessageText {
			c.closeWith(websocket.StatusUnsupportedData, "send JSON text messages")
			return
		}
		var in inbound
		if err := json.Unmarshal(data, &in); err != nil || in.Type == "" {
			c.closeWith(CloseBadMessage, "not a JSON object with a type")
			return
		}
		c.hub.metrics.messageReceived(in.Type)
		select {
		case inbox <- in:
		case <-handled:
			return
		case <-ctx.Done():
			return
		}
	}
}

// inboxSize bounds the messages read but not yet handled; past it the
// reader waits, and the rate limit keeps a client from living there.
const inboxSize = 64

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// handle runs one message; false means an unknown type.
func (c *Conn) handle(ctx context.Context, in inbound) bool {
	user := c.user()
	rec := c.hub.recorder
	switch in.Type {
	case "auth":
		p, err := c.hub.auth.Authenticate(ctx, in.Token)
		if err != nil || p.User.ID != user.ID {
			c.closeWith(CloseUnauthorized, "the new token was refused")
			return true
		}
		c.mu.Lock()
		c.principal = p
		c.mu.Unlock()
		c.scheduleAuth()
		c.sendJSON(map[string]any{"type": msgAuthOK, "ref": in.Ref, "expires_at": p.ExpiresAt.UTC().Format(time.RFC3339)})
	case "start":
		a, err := rec.Start(ctx, user, in)
		if err != nil {
			c.sendError(in.Ref, err)
			return true
		}
		c.sendJSON(map[string]any{"type": msgStarted, "ref": in.Ref, "live_id": a.ID, "status": a.Status, "sport": a.Sport,
			"visibility": a.Visibility, "last_batch": a.LastBatch})
	case "points":
		if err := rec.Points(ctx, user.ID, in); err != nil {
			c.sendError(in.Ref, err)
			return true
		}
		c.hub.metrics.batchAccepted()
		c.sendJSON(map[string]any{"type": msgAck, "ref": in.Ref, "live_id": in.LiveID, "batch": in.Batch})
	case "pause", "resume":
		status := map[string]string{"pause": "paused", "resume": "recording"}[in.Type]
		if err := rec.SetStatus(ctx, user.ID, in.LiveID, status); err != nil {
			c.sendError(in.Ref, err)
			return true
		}
		c.sendJSON(map[string]any{"type": msgAck, "ref": in.Ref, "live_id": in.LiveID, "status": status})
	case "finish":
		a, receipt, err := rec.Finish(ctx, user.ID, in.LiveID)
		if err != nil {
			c.sendError(in.Ref, err)
			return true
		}
		c.sendJSON(map[string]any{"type": msgFinished, "ref": in.Ref, "live_id": a.ID, "upload_id": receipt.UploadID, "status_url": receipt.StatusURL})
	case "subscribe":
		if err := c.hub.subscribe(ctx, c, in); err != nil {
			c.sendError(in.Ref, err)
		}
	case "unsubscribe":
		c.hub.unsubscribe(c, in.Topic)
		c.sendJSON(map[string]any{"type": msgUnsubscribed, "ref": in.Ref, "topic": in.Topic})
	default:
		return false
	}
	return true
}

// tokenBucket limits the client's message rate.
type tokenBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func (b *tokenBucket) take(now time.Time) bool {
	if b.last.IsZero() {
		b.tokens, b.last = b.burst, now
	}
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// closeStatus picks the close code for how the connection ended.
func closeStatus(cause error) (websocket.StatusCode, string) {
	var ce *closeError
	switch {
	case errors.As(cause, &ce):
		return ce.code, ce.reason
	case errors.Is(cause, errShutdown):
		return websocket.StatusGoingAway, "server shutting down"
	}
	return websocket.StatusNormalClosure, ""
}

var errShutdown = errors.New("server shutting down")
