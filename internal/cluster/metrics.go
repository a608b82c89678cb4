package cluster

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/liverec/liverec/internal/store"
)

// Metrics shows the cluster as this node sees it.
type Metrics struct {
	peers  *prometheus.GaugeVec
	leases prometheus.Gauge
}

// NewMetrics registers the cluster's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		peers: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "liverec_cluster_node",
			Help: "The live nodes of the deployment (1 each), this one included, as of the last heartbeat."},
			[]string{"node", "http_addr", "rtmp_addr", "version"}),
		leases: prometheus.NewGauge(prometheus.GaugeOpts{Name: "liverec_cluster_stream_leases",
			Help: "Streams whose lease this node holds (publishing here)."}),
	}
	reg.MustRegister(m.peers, m.leases)
	return m
}

func (m *Metrics) setPeers(nodes []store.Node) {
	if m == nil {
		return
	}
	m.peers.Reset()
	for _, n := range nodes {
		m.peers.WithLabelValues(n.ID, n.HTTPAddr, n.RTMPAddr, n.Version).Set(1)
	}
}

func (m *Metrics) setLeases(n int) {
	if m != nil {
		m.leases.Set(float64(n))
	}
}
