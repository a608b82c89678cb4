package record

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/upload"
)

// Metrics are the recording metrics of §13. A nil *Metrics records nothing.
type Metrics struct {
	active         prometheus.Gauge
	paused         prometheus.Gauge
	videoUnits     prometheus.Counter
	audioUnits     prometheus.Counter
	droppedFrames  prometheus.Counter
	filesCompleted *prometheus.CounterVec
	bytesWritten   *prometheus.CounterVec
	failures       prometheus.Counter
	// up counts the recorders' contained panics with every other component's.
	up *upload.Metrics
}

// NewMetrics registers the recording metrics; panics are counted in up.
func NewMetrics(reg prometheus.Registerer, up *upload.Metrics) *Metrics {
	units := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "liverec_recorded_units_total",
		Help: "Access units received by recorders."}, []string{"kind"})
	m := &Metrics{
		active: prometheus.NewGauge(prometheus.GaugeOpts{Name: "liverec_recordings_active",
			Help: "Recordings in progress."}),
		paused: prometheus.NewGauge(prometheus.GaugeOpts{Name: "liverec_recordings_paused",
			Help: "Recordings paused within a merge window (counted in liverec_recordings_active too)."}),
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
		up: up,
	}
	reg.MustRegister(m.active, m.paused, units, m.droppedFrames, m.filesCompleted, m.bytesWritten, m.failures)
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

func (m *Metrics) panicked() {
	if m != nil {
		m.up.Panicked("recorder")
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
