package standings

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the projector's Prometheus metrics.
type Metrics struct {
	boardLag  prometheus.Histogram
	factReads *prometheus.CounterVec
}

// How the projector got an athlete's facts for an event (the label of
// stride_standings_fact_reads_total).
const (
	factsFromCopy    = "copy"    // nothing changed since the copy (a redelivery)
	factsAddedToCopy = "added"   // the copy plus the new activity, read alone
	factsWholeRead   = "history" // the whole history read from the store
)

// NewMetrics registers the projector's metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{boardLag: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "stride_upload_to_board_seconds",
		Help:    "Time from an upload's 202 to the leaderboards reflecting its activity (a redelivery counts again).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}), factReads: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "stride_standings_fact_reads_total",
		Help: "Athletes' facts the standings projector needed, by source: copy (kept, nothing changed), added (the copy plus the new activity), history (read whole from the store: no copy, an edit or delete, or another change in between). Many history reads for new activities mean --standings-facts-cache is too small.",
	}, []string{"source"})}
	reg.MustRegister(m.boardLag, m.factReads)
	return m
}

func (m *Metrics) factsRead(source string) {
	if m == nil {
		return
	}
	m.factReads.WithLabelValues(source).Inc()
}

func (m *Metrics) boardWritten(d time.Duration) {
	if m == nil {
		return
	}
	m.boardLag.Observe(d.Seconds())
}
