package conf

import (
	"time"
)

// Cluster configures this node's membership of a deployment on one PostgreSQL. On
// SQLite the deployment is one node, with the same settings.
type Cluster struct {
	// NodeID names this node; default: kept in DATA/node-id, made from the host name once.
	NodeID string `yaml:"node_id"`
	// LeaseTTL is how long a stream lease and a heartbeat last without renewal: after it a
	// silent node is dead, its streams may publish on another node and its recordings are
	// ended there. Default 10s.
	LeaseTTL Duration `yaml:"lease_ttl"`
	// Heartbeat is how often a node beats and renews its leases; under lease_ttl. Default 3s.
	Heartbeat Duration `yaml:"heartbeat"`
	// SharedSpool tells that storage.spool is on storage every node reaches (NFS, a shared
	// volume): each node spools into its own folder there (storage.spool/NODE-ID), and a live
	// node stores the files a dead node left in its folder when it takes its recordings over.
	SharedSpool bool `yaml:"shared_spool"`
	// AdvertiseHTTP is the host:port the other nodes reach this node's HTTP listener at (live
	// lists, kicks and record commands of streams published here). Default: the --http
	// address, with the host name when it names no host.
	AdvertiseHTTP string `yaml:"advertise_http"`
}

func (c *Cluster) setDefaults() {
	if c.LeaseTTL == 0 {
		c.LeaseTTL = Duration(10 * time.Second)
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = Duration(3 * time.Second)
	}
}

func (c *Cluster) validate() []error {
	var errs []error
	if c.LeaseTTL.D() < 100*time.Millisecond {
		errs = append(errs, keyErr("cluster.lease_ttl", "must be at least 100ms"))
	}
	if c.Heartbeat.D() <= 0 || c.Heartbeat.D()*2 > c.LeaseTTL.D() {
		errs = append(errs, keyErr("cluster.heartbeat", "must be positive and at most half of 'cluster.lease_ttl'"))
	}
	for _, r := range c.NodeID {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			errs = append(errs, keyErr("cluster.node_id", "may hold letters, digits, '-', '.' and '_' only"))
			break
		}
	}
	if len(c.NodeID) > 64 {
		errs = append(errs, keyErr("cluster.node_id", "must be at most 64 characters"))
	}
	return errs
}
