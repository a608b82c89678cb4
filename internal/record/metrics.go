package record

import (
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/recording"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the recording metrics of §13. A nil *Metrics records nothing.
type Metrics struct {
	active         prometheus.Gauge
	paused         prometheus.Gauge
	recovered      prometheus.Counter
	videoUnits     prometheus.Counter
	audioUnits     prometheus.Counter
	droppedFrames  prometheus.Counter
	filesCompleted *prometheus.CounterVec
	bytesWritten   *prometheus.CounterVec
	failures       prometheus.Counter
	backlogFiles   prometheus.Gauge
	backlogBytes   prometheus.Gauge
	uploadLag      prometheus.Histogram
	storeFailures  prometheus.Counter
	quarantined    prometheus.Counter
	panics         *prometheus.CounterVec
}

// NewMetrics registers the recording metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	units := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "liverec_recorded_units_total",
		Help: "Access units received by recorders."}, []string{"kind"})
	m := &Metrics{
		active: prometheus.NewGauge(prometheus.GaugeOpts{Name: "liverec_recordings_active",
			Help: "Recordings in progress."}),
		paused: prometheus.NewGauge(prometheus.GaugeOpts{Name: "liverec_recordings_paused",
			Help: "Recordings paused within a merge window (counted in liverec_recordings_active too)."}),
		recovered: prometheus.NewCounter(prometheus.CounterOpts{Name: "liverec_files_recovered_total",
			Help: "Spool files recovered after a crash or a failure."}),
		videoUnits: units.WithLabelValues("video"),
		audioUnits: units.WithLabelValues("audio"),
		droppedFrames: prometheus.NewCounter(prometheus.CounterOpts{Name: "liverec_frames_dropped_total",
			Help: "Frames dropped because a recorder could not keep up."}),
		filesCompleted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "liverec_files_completed_total",
			Help: "Files completed, by format."}, []string{"format"}),
		bytesWritten: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "liverec_bytes_written_total",
			Help: "Bytes of completed files, by format."}, []string{"format"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "liverec_recordings_failed_total",
			Help: "Recordings ended by a write error."}),
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
	reg.MustRegister(m.active, m.paused, m.recovered, units, m.droppedFrames, m.filesCompleted, m.bytesWritten,
		m.failures, m.backlogFiles, m.backlogBytes, m.uploadLag, m.storeFailures, m.quarantined, m.panics)
	return m
}

func (m *Metrics) recordingStarted() {
	if m != nil {
		m.active.Inc()
	}
}

func (m *Metrics) pausedBy(d int) {
	if m != nil {
		m.paused.Add(float64(d))
	}
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

func (m *Metrics) recordingEnded() {
	if m != nil {
		m.active.Dec()
	}
}

func (m *Metrics) unit(u *media.Unit) {
	if m == nil {
		return
	}
	if u.Track.IsVideo() {
		m.videoUnits.Inc()
	} else {
		m.audioUnits.Inc()
	}
}

func (m *Metrics) dropped(n int) {
	if m != nil {
		m.droppedFrames.Add(float64(n))
	}
}

func (m *Metrics) fileCompleted(f recording.Format, bytes int64) {
	if m != nil {
		m.filesCompleted.WithLabelValues(string(f)).Inc()
		m.bytesWritten.WithLabelValues(string(f)).Add(float64(bytes))
	}
}

func (m *Metrics) failed() {
	if m != nil {
		m.failures.Inc()
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
