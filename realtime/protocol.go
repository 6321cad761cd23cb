// Package realtime is Stride's WebSocket layer: devices stream the points of
// an activity in progress, watchers follow them live, and the server pushes
// leaderboard changes and notifications. The protocol is in
// docs/realtime.md; this file holds its names and limits.
//
// Live points are stored before they are acknowledged (store.Live) and then
// fanned out to every node (bus.Fanout), so any node can serve any watcher
// and a watcher who reconnects catches up from the store. Pushing never
// blocks accepting: every connection has bounded queues with a policy per
// kind of message (see Conn).
package realtime

import (
	"encoding/json"
	"time"

	"github.com/coder/websocket"
)

// Subprotocol names the protocol version; a client may ask for it in
// Sec-WebSocket-Protocol, and the server answers with it.
const Subprotocol = "stride.v1"

// Version is the protocol version the welcome message announces.
const Version = 1

// Close codes, beside the standard ones (1000 normal, 1001 going away when
// the server shuts down, 1003 binary frames, 1009 a message over the size
// limit, 1011 server error).
const (
	// CloseTokenExpired: the access token expired and no auth message
	// renewed it.
	CloseTokenExpired websocket.StatusCode = 4001
	// CloseUnauthorized: a renewal was refused (session ended, account
	// disabled or deleted).
	CloseUnauthorized websocket.StatusCode = 4003
	// CloseSlowConsumer: messages that must not be dropped (acks,
	// notifications, errors) piled up past the connection's queue.
	CloseSlowConsumer websocket.StatusCode = 4008
	// CloseBadMessage: a message that is not a JSON object with a known
	// type.
	CloseBadMessage websocket.StatusCode = 4400
	// CloseRateLimited: more messages than the rate limit allows.
	CloseRateLimited websocket.StatusCode = 4429
)

// Config holds the limits and timings of the realtime layer.
type Config struct {
	// MaxMessageBytes bounds one client message (1009 above it).
	MaxMessageBytes int64
	// MaxPointsPerBatch bounds the points of one batch.
	MaxPointsPerBatch int
	// MaxPointsPerActivity bounds a live activity (28 h at 1 Hz).
	MaxPointsPerActivity int
	// MaxLivePerAthlete bounds the unfinished live activities of one
	// athlete.
	MaxLivePerAthlete int
	// MessagesPerSecond and Burst bound what a client sends.
	MessagesPerSecond float64
	Burst             int
	// ControlQueue bounds the messages a connection must not lose (acks,
	// errors, notifications); a client that lets it fill is disconnected.
	ControlQueue int
	// LiveQueue bounds pending live-point frames; when full the oldest is
	// dropped (a newer position supersedes it).
	LiveQueue int
	// MaxSubscriptions bounds one connection's subscriptions.
	MaxSubscriptions int
	// PingInterval, PongTimeout: a client that does not answer a ping in
	// time is disconnected. WriteTimeout bounds one frame's write.
	PingInterval time.Duration
	PongTimeout  time.Duration
	WriteTimeout time.Duration
	// BoardInterval is the most often a watched leaderboard is pushed:
	// changes in between are coalesced into one push of the latest state.
	BoardInterval time.Duration
	// BoardSize is the number of entries a leaderboard push holds.
	BoardSize int
	// RenewWarning is how long before the access token expires the server
	// sends auth_expiring.
	RenewWarning time.Duration
}

// DefaultConfig are the documented defaults.
func DefaultConfig() Config {
	return Config{
		MaxMessageBytes: 256 << 10, MaxPointsPerBatch: 600, MaxPointsPerActivity: 100_000, MaxLivePerAthlete: 3,
		MessagesPerSecond: 20, Burst: 60, ControlQueue: 256, LiveQueue: 256, MaxSubscriptions: 32,
		PingInterval: 30 * time.Second, PongTimeout: 15 * time.Second, WriteTimeout: 10 * time.Second,
		BoardInterval: time.Second, BoardSize: 10, RenewWarning: time.Minute,
	}
}

// inbound is any client message; Type says which fields matter.
type inbound struct {
	Type string `json:"type"`
	// Ref, when given, is echoed in the reply or error.
	Ref string `json:"ref,omitempty"`
	// auth
	Token string `json:"token,omitempty"`
	// start
	Sport      string `json:"sport,omitempty"`
	Name       string `json:"name,omitempty"`
	Visibility string `json:"visibility,omitempty"`
	// start (resume), points, pause, resume, finish
	LiveID string `json:"live_id,omitempty"`
	// points
	Batch  int64           `json:"batch,omitempty"`
	Points json.RawMessage `json:"points,omitempty"`
	// subscribe, unsubscribe
	Topic string `json:"topic,omitempty"`
	// subscribe to live:<athlete>: the last batch seen of each live
	// activity, to resume without gaps.
	After map[string]int64 `json:"after,omitempty"`
}

// Server message types.
const (
	msgWelcome      = "welcome"
	msgAuthOK       = "auth_ok"
	msgAuthExpiring = "auth_expiring"
	msgStarted      = "started"
	msgAck          = "ack"
	msgFinished     = "finished"
	msgSubscribed   = "subscribed"
	msgUnsubscribed = "unsubscribed"
	msgLive         = "live"
	msgLeaderboard  = "leaderboard"
	msgNotification = "notification"
	msgError        = "error"
)

// errorMsg is a refusal that leaves the connection open.
type errorMsg struct {
	Type   string `json:"type"`
	Ref    string `json:"ref,omitempty"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}
