package notify

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Delivery outcomes, the outcome label of liverec_deliveries_total.
const (
	// OutcomeDelivered: a 2xx reply.
	OutcomeDelivered = "delivered"
	// OutcomeRetry: an attempt failed and the delivery waits for another (5xx, 408, 425, 429,
	// timeout, connection error).
	OutcomeRetry = "retry"
	// OutcomeFailed: the delivery was given up (other statuses, 410, MaxAge exceeded,
	// configuration disabled or deleted, encoding error); it can be redelivered.
	OutcomeFailed = "failed"
	// OutcomeDropped: not sent because the configuration does not take this event (not
	// subscribed, or no such callback in its dialect); recorded as delivered.
	OutcomeDropped = "dropped"
)

// Metrics are the delivery metrics of §13. A nil *Metrics records nothing.
type Metrics struct {
	outcomes *prometheus.CounterVec
	latency  prometheus.Histogram
	backlog  prometheus.Gauge
}

// NewMetrics registers the delivery metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "liverec_deliveries_total",
			Help: "Callback delivery attempts by outcome (delivered, retry, failed, dropped)."}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "liverec_delivery_latency_seconds",
			Help:    "Time from sending a callback request to reading the head of its reply.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{Name: "liverec_delivery_backlog",
			Help: "Pending callback deliveries."}),
	}
	for _, o := range []string{OutcomeDelivered, OutcomeRetry, OutcomeFailed, OutcomeDropped} {
		m.outcomes.WithLabelValues(o) // export zeroes
	}
	reg.MustRegister(m.outcomes, m.latency, m.backlog)
	return m
}

func (m *Metrics) outcome(o string) {
	if m != nil {
		m.outcomes.WithLabelValues(o).Inc()
	}
}

func (m *Metrics) observe(d time.Duration) {
	if m != nil {
		m.latency.Observe(d.Seconds())
	}
}

func (m *Metrics) setBacklog(n int) {
	if m != nil {
		m.backlog.Set(float64(n))
	}
}

func (m *Metrics) addBacklog(n int) {
	if m != nil {
		m.backlog.Add(float64(n))
	}
}
