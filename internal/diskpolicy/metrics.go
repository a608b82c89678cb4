package diskpolicy

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the disk policy's gauges, per volume.
type Metrics struct {
	freeBytes, low, refusing *prometheus.GaugeVec
}

// NewMetrics registers the gauges with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		freeBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "liverec_volume_free_bytes",
			Help: "Bytes free on each volume liverec writes to, at the last check."}, []string{"volume"}),
		low: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "liverec_volume_low",
			Help: "1 while a volume has less free space than disk.high_free."}, []string{"volume"}),
		refusing: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "liverec_volume_refusing",
			Help: "1 while a volume is below disk.low_free with nothing to delete: new recordings on it are refused."},
			[]string{"volume"}),
	}
	reg.MustRegister(m.freeBytes, m.low, m.refusing)
	return m
}

func (m *Metrics) free(volume string, n int64) {
	if m != nil {
		m.freeBytes.WithLabelValues(volume).Set(float64(n))
	}
}

func (m *Metrics) set(volume string, low, refusing bool) {
	if m == nil {
		return
	}
	m.low.WithLabelValues(volume).Set(b2f(low))
	m.refusing.WithLabelValues(volume).Set(b2f(refusing))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
