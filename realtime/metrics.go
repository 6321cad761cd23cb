package realtime

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the realtime layer's Prometheus metrics; a nil *Metrics
// records nothing.
type Metrics struct {
	connections   prometheus.Gauge
	frames        prometheus.Counter
	dropped       prometheus.Counter
	slow          prometheus.Counter
	received      *prometheus.CounterVec
	batches       prometheus.Counter
	boardPushes   prometheus.Counter
	boardWatchers prometheus.Counter
}

// NewMetrics registers the realtime metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "stride_realtime_connections", Help: "Open WebSocket connections on this node."}),
		frames:      prometheus.NewCounter(prometheus.CounterOpts{Name: "stride_realtime_frames_sent_total", Help: "Frames written to WebSocket clients."}),
		dropped:     prometheus.NewCounter(prometheus.CounterOpts{Name: "stride_realtime_live_frames_dropped_total", Help: "Live-point frames dropped (oldest first) because a client read too slowly."}),
		slow:        prometheus.NewCounter(prometheus.CounterOpts{Name: "stride_realtime_slow_disconnects_total", Help: "Clients disconnected because their control queue filled."}),
		received:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "stride_realtime_messages_received_total", Help: "Client messages, by type."}, []string{"type"}),
		batches:     prometheus.NewCounter(prometheus.CounterOpts{Name: "stride_realtime_batches_accepted_total", Help: "Live point batches stored and acknowledged."}),
		boardPushes: prometheus.NewCounter(prometheus.CounterOpts{Name: "stride_realtime_board_pushes_total", Help: "Leaderboard states read and encoded for pushing (once per board change, whatever the watchers)."}),
		boardWatchers: prometheus.NewCounter(prometheus.CounterOpts{Name: "stride_realtime_board_deliveries_total",
			Help: "Leaderboard states handed to watchers (coalesced: a slow watcher gets only the latest)."}),
	}
	reg.MustRegister(m.connections, m.frames, m.dropped, m.slow, m.received, m.batches, m.boardPushes, m.boardWatchers)
	return m
}

func (m *Metrics) connected(delta float64) {
	if m != nil {
		m.connections.Add(delta)
	}
}

func (m *Metrics) frameSent() {
	if m != nil {
		m.frames.Inc()
	}
}

func (m *Metrics) liveDropped() {
	if m != nil {
		m.dropped.Inc()
	}
}

func (m *Metrics) slowConsumer() {
	if m != nil {
		m.slow.Inc()
	}
}

var knownTypes = map[string]bool{"auth": true, "start": true, "points": true, "pause": true, "resume": true, "finish": true, "subscribe": true, "unsubscribe": true}

func (m *Metrics) messageReceived(typ string) {
	if m == nil {
		return
	}
	if !knownTypes[typ] {
		typ = "unknown"
	}
	m.received.WithLabelValues(typ).Inc()
}

func (m *Metrics) batchAccepted() {
	if m != nil {
		m.batches.Inc()
	}
}

func (m *Metrics) boardPushed(watchers int) {
	if m != nil {
		m.boardPushes.Inc()
		m.boardWatchers.Add(float64(watchers))
	}
}
