// Package cluster makes one liverec serve a node among several on one database: it
// registers the node and beats its heartbeat, holds the leases of the streams the node
// publishes (one node per stream at a time), tells the app when a lease was lost, and ends
// the recordings of nodes that died. On SQLite the deployment is one node, and the same code
// runs.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/stream"
)

// Store is what the node needs of the database.
type Store interface {
	NodeBeat(ctx context.Context, n *store.Node) error
	NodeList(ctx context.Context, since time.Time) ([]store.Node, error)
	NodeLeave(ctx context.Context, id string) error
	LeaseAcquire(ctx context.Context, key, node string, now, until time.Time) (string, error)
	LeaseRenew(ctx context.Context, node string, keys []string, until time.Time) ([]string, error)
	LeaseRelease(ctx context.Context, key, node string) error
	RecordingsOrphaned(ctx context.Context, deadBefore time.Time, limit int) ([]store.NodeRecording, error)
	RecordingAdopt(ctx context.Context, id, from, to string) error
}

// Config configures a Node.
type Config struct {
	// Self is this node: its ID and addresses (StartedAt and BeatAt are set by the node).
	Self  store.Node
	Store Store
	// LeaseTTL is how long a lease and a heartbeat last without renewal: a node silent for
	// that long is dead, its streams may publish elsewhere and its recordings are ended.
	LeaseTTL time.Duration
	// Heartbeat is how often the node beats and renews its leases (well under LeaseTTL).
	Heartbeat time.Duration
	// DBTimeout bounds each database call.
	DBTimeout time.Duration
	// OnLost is called (on the node's goroutine) for a stream whose lease another node took:
	// the app drops its publisher there.
	OnLost func(key stream.Key)
	// OnOrphan is called for a live recording of a dead node once this node adopted it: the
	// app ends it (record_over, saying why).
	OnOrphan func(rec recording.Recording, deadNode string)
	// Grace is how long after its node's last heartbeat a dead node's recording may still be
	// continued by a publisher on another node (its merge window): it is not ended before.
	// Nil: none.
	Grace  func(rec recording.Recording) time.Duration
	Logger *slog.Logger
	Now    func() time.Time
	// Metrics, when set, shows the live nodes and this node's leases.
	Metrics *Metrics
	// Idle, when set, tells whether a stream's publisher here went silent: its lease is not
	// renewed, so once it expires a newcomer on another node may take the stream over, as a
	// newcomer replaces a silent publisher on one node. Nil: none is.
	Idle func(key stream.Key) bool
	// OnBeat, when set, runs after every heartbeat (on the node's goroutine; it must return
	// soon).
	OnBeat func(ctx context.Context)
}

// Node is this process's membership of the cluster. It implements stream.Leaser.
type Node struct {
	cfg Config
	log *slog.Logger

	mu sync.Mutex
	// held are the stream keys whose lease this node holds (acquired, not yet released).
	held map[stream.Key]bool
	// release queues keys to give back on the node's goroutine (ingest must not wait).
	release chan stream.Key
}

// releaseQueue bounds releases waiting for the node's goroutine; a full queue leaves the lease
// to expire (held is already updated, so it is not renewed).
const releaseQueue = 4096

// New checks cfg and returns the node; Run makes it a member.
func New(cfg Config) (*Node, error) {
	if cfg.Self.ID == "" || cfg.Store == nil {
		return nil, errors.New("cluster: a node needs an id and a store")
	}
	if cfg.LeaseTTL <= 0 || cfg.Heartbeat <= 0 || cfg.Heartbeat >= cfg.LeaseTTL {
		return nil, fmt.Errorf("cluster: heartbeat %v must be positive and shorter than the lease %v",
			cfg.Heartbeat, cfg.LeaseTTL)
	}
	if cfg.DBTimeout <= 0 {
		cfg.DBTimeout = cfg.Heartbeat
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnLost == nil {
		cfg.OnLost = func(stream.Key) {}
	}
	if cfg.Grace == nil {
		cfg.Grace = func(recording.Recording) time.Duration { return 0 }
	}
	if cfg.OnOrphan == nil {
		cfg.OnOrphan = func(recording.Recording, string) {}
	}
	return &Node{cfg: cfg, log: cfg.Logger, held: map[stream.Key]bool{}, release: make(chan stream.Key, releaseQueue)}, nil
}

// ID is the node's id.
func (n *Node) ID() string { return n.cfg.Self.ID }

// Join registers the node (its first heartbeat), so that it is a member before it accepts
// publishers and its own recordings are not taken for a dead node's.
func (n *Node) Join(ctx context.Context) error {
	now := n.cfg.Now()
	n.mu.Lock()
	n.cfg.Self.StartedAt = now
	n.mu.Unlock()
	return n.beat(ctx, now)
}

func (n *Node) beat(ctx context.Context, now time.Time) error {
	n.mu.Lock()
	self := n.cfg.Self
	n.mu.Unlock()
	self.BeatAt = now
	ctx, cancel := context.WithTimeout(ctx, n.cfg.DBTimeout)
	defer cancel()
	return n.cfg.Store.NodeBeat(ctx, &self)
}

// Run beats the heartbeat, renews and releases leases and adopts dead nodes' recordings
// until ctx ends; then the node leaves (its leases are freed at once).
func (n *Node) Run(ctx context.Context) error {
	t := time.NewTicker(n.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			n.ReleaseAll(context.Background())
			return nil
		case k := <-n.release:
			n.releaseKey(ctx, k)
		case <-t.C:
			n.tick(ctx)
		}
	}
}

func (n *Node) tick(ctx context.Context) {
	now := n.cfg.Now()
	if err := n.beat(ctx, now); err != nil {
		n.log.Warn("cluster heartbeat failed; other nodes take this node for dead after the lease time",
			"lease", n.cfg.LeaseTTL, "err", err)
		return
	}
	n.renew(ctx, now)
	n.adoptOrphans(ctx, now)
	if n.cfg.OnBeat != nil {
		n.cfg.OnBeat(ctx)
	}
	if n.cfg.Metrics != nil {
		n.mu.Lock()
		held := len(n.held)
		n.mu.Unlock()
		n.cfg.Metrics.setLeases(held)
		if nodes, err := n.Nodes(ctx); err == nil {
			n.cfg.Metrics.setPeers(nodes)
		}
	}
}

func (n *Node) renew(ctx context.Context, now time.Time) {
	n.mu.Lock()
	held := make([]stream.Key, 0, len(n.held))
	for k := range n.held {
		held = append(held, k)
	}
	n.mu.Unlock()
	if len(held) == 0 {
		return
	}
	// A silent publisher's lease is renewed to now only: a newcomer on any node may take the
	// stream over, as one replaces a silent publisher on one node.
	var live, idle []string
	for _, k := range held {
		if n.cfg.Idle != nil && n.cfg.Idle(k) {
			idle = append(idle, leaseKey(k))
		} else {
			live = append(live, leaseKey(k))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.DBTimeout)
	defer cancel()
	lost, err := n.cfg.Store.LeaseRenew(ctx, n.ID(), live, now.Add(n.cfg.LeaseTTL))
	if err != nil {
		n.log.Warn("renewing stream leases failed", "streams", len(live), "err", err)
		return
	}
	lostIdle, err := n.cfg.Store.LeaseRenew(ctx, n.ID(), idle, now)
	if err != nil {
		n.log.Warn("renewing stream leases failed", "streams", len(idle), "err", err)
		return
	}
	for _, s := range lost {
		// A key admitted while the database was away has no lease yet: take it now if free.
		if _, err := n.cfg.Store.LeaseAcquire(ctx, s, n.ID(), now, now.Add(n.cfg.LeaseTTL)); err == nil {
			continue
		}
		n.lose(s)
	}
	for _, s := range lostIdle {
		n.lose(s)
	}
}

// lose drops key s from the held ones and tells the app when it was still held (another node
// took it).
func (n *Node) lose(s string) {
	k, ok := parseLeaseKey(s)
	if !ok {
		return
	}
	n.mu.Lock()
	still := n.held[k]
	delete(n.held, k)
	n.mu.Unlock()
	if still {
		n.log.Warn("another node took this stream's lease; dropping its publisher here",
			"domain", k.Domain, "app", k.App, "stream", k.Stream)
		n.cfg.OnLost(k)
	}
}

// orphanBatch bounds the recordings adopted per heartbeat.
const orphanBatch = 100

func (n *Node) adoptOrphans(ctx context.Context, now time.Time) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.DBTimeout)
	defer cancel()
	recs, err := n.cfg.Store.RecordingsOrphaned(ctx, now.Add(-n.cfg.LeaseTTL), orphanBatch)
	if err != nil {
		n.log.Warn("looking for recordings of dead nodes failed", "err", err)
		return
	}
	for _, nr := range recs {
		rec := nr.Recording
		if rec.Node == n.ID() {
			continue // ours: this process recovered it at start, or records it
		}
		// Within its merge window a publisher may still continue it on another node.
		if !nr.NodeBeat.IsZero() && now.Before(nr.NodeBeat.Add(n.cfg.Grace(rec))) {
			continue
		}
		err := n.cfg.Store.RecordingAdopt(ctx, rec.ID, rec.Node, n.ID())
		if errors.Is(err, recording.ErrConflict) {
			continue // another live node adopted it first
		}
		if err != nil {
			n.log.Warn("adopting a dead node's recording failed", "recording", rec.ID, "dead_node", rec.Node, "err", err)
			continue
		}
		dead := recNodeOrUnknown(rec.Node)
		n.log.Warn("a node stopped beating; ending its recording here", "recording", rec.ID, "dead_node", dead)
		rec.Node = n.ID()
		n.cfg.OnOrphan(rec, dead)
	}
}

func recNodeOrUnknown(id string) string {
	if id == "" {
		return "(unknown)"
	}
	return id
}

// Acquire implements stream.Leaser: this node takes key's lease, or learns which node has it.
// When the database cannot answer, the publisher is admitted (a recording is worth more than a
// duplicate refused), and the lease is taken at the next renewal if still free.
func (n *Node) Acquire(ctx context.Context, key stream.Key) error {
	now := n.cfg.Now()
	ctx, cancel := context.WithTimeout(ctx, n.cfg.DBTimeout)
	defer cancel()
	holder, err := n.cfg.Store.LeaseAcquire(ctx, leaseKey(key), n.ID(), now, now.Add(n.cfg.LeaseTTL))
	if errors.Is(err, recording.ErrConflict) {
		return fmt.Errorf("%w: published on node %s", stream.ErrBusy, holder)
	}
	if err != nil {
		n.log.Warn("taking a stream lease failed; admitting the publisher anyway", "domain", key.Domain,
			"app", key.App, "stream", key.Stream, "err", err)
	}
	n.mu.Lock()
	n.held[key] = true
	n.mu.Unlock()
	return nil
}

// Release implements stream.Leaser without waiting: the node's goroutine gives the lease back.
func (n *Node) Release(key stream.Key) {
	n.mu.Lock()
	delete(n.held, key)
	n.mu.Unlock()
	select {
	case n.release <- key:
	default:
	}
}

func (n *Node) releaseKey(ctx context.Context, k stream.Key) {
	n.mu.Lock()
	again := n.held[k] // published again meanwhile: keep it
	n.mu.Unlock()
	if again {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.DBTimeout)
	defer cancel()
	if err := n.cfg.Store.LeaseRelease(ctx, leaseKey(k), n.ID()); err != nil {
		n.log.Warn("releasing a stream lease failed; it expires by itself", "err", err)
	}
}

// Nodes returns the live nodes: those that beat within the lease time.
func (n *Node) Nodes(ctx context.Context) ([]store.Node, error) {
	return n.cfg.Store.NodeList(ctx, n.cfg.Now().Add(-n.cfg.LeaseTTL))
}

// leaseKey is a stream key as the leases table keeps it: names hold no slash.
func leaseKey(k stream.Key) string { return k.Domain + "/" + k.App + "/" + k.Stream }

func parseLeaseKey(s string) (stream.Key, bool) {
	parts := strings.SplitN(s, "/", 3)
	if len(parts) != 3 {
		return stream.Key{}, false
	}
	return stream.Key{Domain: parts[0], App: parts[1], Stream: parts[2]}, true
}

// LoadID returns the node id configured, else the one kept in dataDir/node-id, else a new one
// written there: a node keeps its id across restarts, so it finds its own recordings again.
func LoadID(configured, dataDir string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	path := filepath.Join(dataDir, "node-id")
	b, err := os.ReadFile(path)
	if err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read node id: %w", err)
	}
	host, _ := os.Hostname()
	var r [4]byte
	_, _ = rand.Read(r[:])
	id := "node-" + hex.EncodeToString(r[:])
	if host != "" {
		id = sanitize(host) + "-" + hex.EncodeToString(r[:])
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("write node id: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("write node id: %w", err)
	}
	return id, nil
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 48 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// ReleaseAll gives back every lease of the node at once (shutdown: the hub accepts nothing
// more, and the streams may publish on another node). The heartbeat goes on until Run ends,
// so the recordings still finishing here are not taken for a dead node's.
func (n *Node) ReleaseAll(ctx context.Context) {
	n.mu.Lock()
	clear(n.held)
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, n.cfg.DBTimeout)
	defer cancel()
	if err := n.cfg.Store.NodeLeave(ctx, n.ID()); err != nil {
		n.log.Warn("releasing the stream leases failed; they expire by themselves", "err", err)
	}
}

// SetHTTPAddr changes the address the other nodes reach this node at, from the next heartbeat
// (a node listening on port 0 knows its address only once bound).
func (n *Node) SetHTTPAddr(addr string) {
	n.mu.Lock()
	n.cfg.Self.HTTPAddr = addr
	n.mu.Unlock()
}
