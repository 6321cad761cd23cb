package standings

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the projector's Prometheus metrics.
type Metrics struct {
	boardLag prometheus.Histogram
}

// NewMetrics registers the projector's metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{boardLag: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "stride_upload_to_board_seconds",
		Help:    "Time from an upload's 202 to the leaderboards reflecting its activity (a redelivery counts again).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	})}
	reg.MustRegister(m.boardLag)
	return m
}

func (m *Metrics) boardWritten(d time.Duration) {
	if m == nil {
		return
	}
	m.boardLag.Observe(d.Seconds())
}
