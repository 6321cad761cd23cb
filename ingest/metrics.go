package ingest

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the write path's Prometheus series. A nil *Metrics records
// nothing, so components work without them in tests.
type Metrics struct {
	accepted     *prometheus.CounterVec
	finished     *prometheus.CounterVec
	processing   *prometheus.HistogramVec
	lag          prometheus.Histogram
	relayed      prometheus.Counter
	relayErrors  prometheus.Counter
	republished  prometheus.Counter
	outboxOldest prometheus.Gauge
}

// NewMetrics registers the write path's series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stride_uploads_accepted_total", Help: "Uploads accepted (202), by format.",
		}, []string{"format"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stride_uploads_finished_total", Help: "Uploads a worker finished, by final status.",
		}, []string{"status"}),
		processing: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "stride_upload_processing_seconds", Help: "Time a worker spent on one upload (parse, analyse, store), by final status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"status"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "stride_upload_queue_seconds", Help: "Time from an upload's acceptance to a worker starting on it (consumer lag).",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
		relayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stride_outbox_relayed_total", Help: "Outbox events published to the bus.",
		}),
		relayErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stride_outbox_publish_failures_total", Help: "Failed attempts to publish outbox events (retried).",
		}),
		republished: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stride_uploads_republished_total", Help: "Stale uploads the sweeper published again.",
		}),
		outboxOldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stride_outbox_oldest_seconds", Help: "Age of the oldest unpublished outbox event at the relay's last look (0 when empty).",
		}),
	}
	reg.MustRegister(m.accepted, m.finished, m.processing, m.lag, m.relayed, m.relayErrors, m.republished, m.outboxOldest)
	return m
}

func (m *Metrics) uploadAccepted(format string) {
	if m != nil {
		m.accepted.WithLabelValues(format).Inc()
	}
}

func (m *Metrics) uploadFinished(status string, took, queued time.Duration) {
	if m != nil {
		m.finished.WithLabelValues(status).Inc()
		m.processing.WithLabelValues(status).Observe(took.Seconds())
		m.lag.Observe(queued.Seconds())
	}
}

func (m *Metrics) relay(n int, err error, oldest time.Duration) {
	if m == nil {
		return
	}
	if err != nil {
		m.relayErrors.Inc()
		return
	}
	m.relayed.Add(float64(n))
	m.outboxOldest.Set(oldest.Seconds())
}

func (m *Metrics) swept(n int) {
	if m != nil {
		m.republished.Add(float64(n))
	}
}
