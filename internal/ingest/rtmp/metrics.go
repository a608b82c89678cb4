package rtmp

import "github.com/prometheus/client_golang/prometheus"

// Reasons used as label values of the rejected and closed counters.
const (
	reasonBusy      = "busy"      // the key has an active publisher (§1)
	reasonBadName   = "bad_name"  // identity refused (§1)
	reasonMalformed = "malformed" // protocol or media that cannot be parsed (§11)
	reasonLimit     = "limit"     // MaxConns, timeouts, size caps
	reasonPlay      = "play"      // playback requested: liverec only ingests
	reasonError     = "error"     // the hub refused for another reason (e.g. shutting down)

	closedEOF      = "eof"      // the publisher closed the connection
	closedIdle     = "idle"     // no bytes within IdleTimeout
	closedKicked   = "kicked"   // replaced after being idle, or the hub closed
	closedShutdown = "shutdown" // the server stopped
	closedPanic    = "panic"    // a bug, contained to the connection
)

// Metrics are the RTMP ingest's Prometheus collectors (§13). A nil *Metrics records nothing.
type Metrics struct {
	connections prometheus.Counter
	publishers  prometheus.Gauge
	bytesIn     prometheus.Counter
	videoUnits  prometheus.Counter
	audioUnits  prometheus.Counter
	rejected    *prometheus.CounterVec
	closed      *prometheus.CounterVec
}

// NewMetrics creates the collectors and registers them with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	units := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "liverec_ingest_units_total",
		Help: "Media units (video pictures, audio frames) received from publishers.",
	}, []string{"kind"})
	m := &Metrics{
		connections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "liverec_rtmp_connections_total",
			Help: "RTMP connections accepted.",
		}),
		publishers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "liverec_rtmp_publishers",
			Help: "RTMP connections currently publishing.",
		}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "liverec_ingest_bytes_total",
			Help: "Bytes read from RTMP connections.",
		}),
		videoUnits: units.WithLabelValues("video"),
		audioUnits: units.WithLabelValues("audio"),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liverec_rtmp_rejected_total",
			Help: "RTMP connections or publishes refused, by reason.",
		}, []string{"reason"}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liverec_rtmp_closed_total",
			Help: "Publishing RTMP connections that ended, by reason.",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.connections, m.publishers, m.bytesIn, units, m.rejected, m.closed)
	}
	return m
}

func (m *Metrics) connection() {
	if m != nil {
		m.connections.Inc()
	}
}

func (m *Metrics) publishing(delta float64) {
	if m != nil {
		m.publishers.Add(delta)
	}
}

func (m *Metrics) bytes(n int) {
	if m != nil && n > 0 {
		m.bytesIn.Add(float64(n))
	}
}

func (m *Metrics) units(video, audio int) {
	if m == nil {
		return
	}
	if video > 0 {
		m.videoUnits.Add(float64(video))
	}
	if audio > 0 {
		m.audioUnits.Add(float64(audio))
	}
}

func (m *Metrics) reject(reason string) {
	if m != nil {
		m.rejected.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) close(reason string) {
	if m != nil {
		m.closed.WithLabelValues(reason).Inc()
	}
}
