package rtmp

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/liverec/liverec/internal/limit"
)

// Reasons used as label values of the rejected and closed counters.
const (
	reasonBusy      = "busy"      // the key has an active publisher
	reasonBadName   = "bad_name"  // identity refused
	reasonMalformed = "malformed" // protocol or media that cannot be parsed
	reasonLimit     = "limit"     // timeouts, size caps
	reasonBudget    = "budget"    // unfinished messages of all connections over MaxPendingBytes
	reasonPlay      = "play"      // playback requested: liverec only ingests
	reasonError     = "error"     // the hub refused for another reason (e.g. shutting down)

	closedEOF      = "eof"      // the publisher closed the connection
	closedIdle     = "idle"     // no bytes within IdleTimeout
	closedKicked   = "kicked"   // replaced after being idle, kicked (Hub.Kick), or the hub closed
	closedShutdown = "shutdown" // the server stopped
	closedPanic    = "panic"    // a bug, contained to the connection
)

// How far a connection that closed before publishing got: label values of
// liverec_rtmp_conns_closed_before_publish_total (with closedShutdown, closedPanic and
// reasonMalformed).
const (
	beforeHandshake = "handshake"  // the handshake never finished
	beforeTimeout   = "timeout"    // no publish within HandshakeTimeout
	beforeNoPublish = "no_publish" // closed by the client after the handshake, without publishing
	beforeRefused   = "refused"    // the publish was refused (busy, bad name, play, hub)
	beforeMemory    = "memory"     // unfinished messages over the connection's cap or the budget
)

// Metrics are the RTMP ingest's Prometheus collectors. A nil *Metrics records nothing.
type Metrics struct {
	connections prometheus.Counter
	publishers  prometheus.Gauge
	bytesIn     prometheus.Counter
	videoUnits  prometheus.Counter
	audioUnits  prometheus.Counter
	rejected    *prometheus.CounterVec
	closed      *prometheus.CounterVec
	refused     *prometheus.CounterVec
	early       *prometheus.CounterVec
	pending     prometheus.GaugeFunc
	open        prometheus.GaugeFunc
	budget      atomic.Pointer[limit.Budget]
	gate        atomic.Pointer[limit.Gate]
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
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "liverec_rtmp_conns_refused_total",
		Help: "RTMP connections closed at once because of max_conns or max_conns_per_ip, by reason.",
	}, []string{"reason"})
	m.early = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "liverec_rtmp_conns_closed_before_publish_total",
		Help: "RTMP connections that ended without publishing, by how far they got.",
	}, []string{"reason"})
	m.pending = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "liverec_rtmp_pending_bytes",
		Help: "Bytes of unfinished RTMP messages charged to ingest.max_pending_bytes (beyond each connection's first MiB).",
	}, func() float64 { return float64(m.budget.Load().Used()) })
	m.open = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "liverec_rtmp_connections_open",
		Help: "RTMP connections open (within ingest.max_conns and ingest.max_conns_per_ip), publishing or not.",
	}, func() float64 {
		if g := m.gate.Load(); g != nil {
			return float64(g.Open())
		}
		return 0
	})
	if reg != nil {
		reg.MustRegister(m.connections, m.publishers, m.bytesIn, units, m.rejected, m.closed, m.refused, m.early,
			m.pending, m.open)
	}
	return m
}

func (m *Metrics) setLimits(b *limit.Budget, g *limit.Gate) {
	if m != nil {
		m.budget.Store(b)
		m.gate.Store(g)
	}
}

func (m *Metrics) refuse(reason string) {
	if m != nil {
		m.refused.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) closedBeforePublish(reason string) {
	if m != nil {
		m.early.WithLabelValues(reason).Inc()
	}
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
