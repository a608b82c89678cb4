package ondemand

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics count on-demand decisions (decision latency and failures). A nil *Metrics
// records nothing.
type Metrics struct {
	latency  prometheus.Histogram
	failures prometheus.Counter
}

// NewMetrics registers the decision metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "liverec_ondemand_decision_seconds",
			Help: "Latency of on-demand decisions, callback server included.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "liverec_ondemand_failures_total",
			Help: "On-demand decisions that failed (status, timeout, bad reply, bad record_config)."}),
	}
	reg.MustRegister(m.latency, m.failures)
	return m
}

func (m *Metrics) observe(d time.Duration) {
	if m != nil {
		m.latency.Observe(d.Seconds())
	}
}

func (m *Metrics) failed() {
	if m != nil {
		m.failures.Inc()
	}
}
