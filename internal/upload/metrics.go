package upload

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the upload and spool metrics of §13, and the count of contained panics of every
// component. A nil *Metrics records nothing.
type Metrics struct {
	recovered     prometheus.Counter
	backlogFiles  prometheus.Gauge
	backlogBytes  prometheus.Gauge
	uploadLag     prometheus.Histogram
	storeFailures prometheus.Counter
	quarantined   prometheus.Counter
	panics        *prometheus.CounterVec
}

// NewMetrics registers the upload metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		recovered: prometheus.NewCounter(prometheus.CounterOpts{Name: "liverec_files_recovered_total",
			Help: "Spool files recovered after a crash or a failure."}),
		backlogFiles: prometheus.NewGauge(prometheus.GaugeOpts{Name: "liverec_spool_backlog_files",
			Help: "Completed files waiting to be stored."}),
		backlogBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "liverec_spool_backlog_bytes",
			Help: "Bytes of completed files waiting to be stored."}),
		uploadLag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "liverec_upload_lag_seconds",
			Help:    "Time from a file's completion to its object being stored.",
			Buckets: []float64{0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600}}),
		storeFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "liverec_store_failures_total",
			Help: "Failed attempts to store a completed file."}),
		quarantined: prometheus.NewCounter(prometheus.CounterOpts{Name: "liverec_spool_quarantined_total",
			Help: "Spool directories recovery could not read and moved to the spool's .quarantine folder."}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "liverec_panics_total",
			Help: "Panics contained to one recording, upload job or delivery, by component."}, []string{"component"}),
	}
	reg.MustRegister(m.recovered, m.backlogFiles, m.backlogBytes, m.uploadLag, m.storeFailures, m.quarantined, m.panics)
	return m
}

// Quarantined counts a spool directory moved to quarantine.
func (m *Metrics) Quarantined() {
	if m != nil {
		m.quarantined.Inc()
	}
}

// Panicked counts a panic contained within component ("recorder", "uploader", "notifier").
func (m *Metrics) Panicked(component string) {
	if m != nil {
		m.panics.WithLabelValues(component).Inc()
	}
}

func (m *Metrics) fileRecovered() {
	if m != nil {
		m.recovered.Inc()
	}
}

func (m *Metrics) backlog(files int, bytes int64) {
	if m != nil {
		m.backlogFiles.Add(float64(files))
		m.backlogBytes.Add(float64(bytes))
	}
}

func (m *Metrics) stored(queued time.Time) {
	if m != nil && !queued.IsZero() {
		m.uploadLag.Observe(time.Since(queued).Seconds())
	}
}

func (m *Metrics) storeFailed() {
	if m != nil {
		m.storeFailures.Inc()
	}
}
