package app

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ondemandMetrics count on-demand decisions (§13: decision latency and failures).
type ondemandMetrics struct {
	latency  prometheus.Histogram
	failures prometheus.Counter
}

func newOndemandMetrics(reg prometheus.Registerer) *ondemandMetrics {
	m := &ondemandMetrics{
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "liverec_ondemand_decision_seconds",
			Help: "Latency of on-demand decisions, callback server included.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "liverec_ondemand_failures_total",
			Help: "On-demand decisions that failed (status, timeout, bad reply, bad record_config)."}),
	}
	reg.MustRegister(m.latency, m.failures)
	return m
}

func (a *App) ondemandLatency(d time.Duration) { a.odMet.latency.Observe(d.Seconds()) }
func (a *App) ondemandFailed()                 { a.odMet.failures.Inc() }
