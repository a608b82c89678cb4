package store

import (
	"context"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// Node is one liverec serve process of a deployment, as it registered itself.
type Node struct {
	ID string `json:"id"`
	// HTTPAddr and RTMPAddr are the addresses it listens on, as configured.
	HTTPAddr string `json:"http_addr"`
	RTMPAddr string `json:"rtmp_addr"`
	Version  string `json:"version"`
	// StartedAt is when this run of the node started; BeatAt its last heartbeat.
	StartedAt time.Time `json:"started_at"`
	BeatAt    time.Time `json:"beat_at"`
}

// Cluster persists the nodes of a deployment and the leases by which one node at a time owns
// a publishing stream. Every driver implements it beside Store; on SQLite there is one
// node, and the same code runs. Lease times come from the nodes' clocks, which must agree
// (NTP) to well within a lease.
type Cluster interface {
	// NodeBeat registers n or renews its heartbeat: it writes every field of n.
	NodeBeat(ctx context.Context, n *Node) error
	// NodeList returns the nodes whose last heartbeat is after since, by id.
	NodeList(ctx context.Context, since time.Time) ([]Node, error)
	// NodeLeave deletes node id's leases (a clean stop), so its streams may publish elsewhere
	// at once. The node stays listed until its heartbeat expires: recordings it could not
	// finish are not taken for a dead node's before then.
	NodeLeave(ctx context.Context, id string) error
	// LeaseAcquire gives node the lease of stream key until `until`, unless another node holds
	// one that has not expired at now: then it returns that node and recording.ErrConflict.
	// A node acquiring a key it holds renews it.
	LeaseAcquire(ctx context.Context, key, node string, now, until time.Time) (holder string, err error)
	// LeaseRenew extends node's leases of keys until `until` and returns the keys among them
	// that node no longer holds (taken over after they expired, or released).
	LeaseRenew(ctx context.Context, node string, keys []string, until time.Time) (lost []string, err error)
	// LeaseRelease drops node's lease of key; nothing when node does not hold it.
	LeaseRelease(ctx context.Context, key, node string) error
	// RecordingsOrphaned returns up to limit live recordings (active or paused) whose node
	// has not beaten since deadBefore (or never registered), oldest first, with their node's
	// last heartbeat: a live node continues or ends them for the node that died.
	RecordingsOrphaned(ctx context.Context, deadBefore time.Time, limit int) ([]NodeRecording, error)
	// LiveRecordingOf returns the newest live recording (active or paused) of a stream key,
	// with its node's last heartbeat; recording.ErrNotFound when there is none.
	LiveRecordingOf(ctx context.Context, domain, app, stream string) (*NodeRecording, error)
	// RecordingAdopt moves live recording id from node `from` to node `to`;
	// recording.ErrConflict when it ended or is no longer from's (another node adopted it
	// first), recording.ErrNotFound when there is no such recording.
	RecordingAdopt(ctx context.Context, id, from, to string) error
	// MetaEnsure stores value under name unless a value is stored there already, and returns
	// the stored value: the first node's wins (the master key's check value).
	MetaEnsure(ctx context.Context, name, value string) (string, error)
}

// NodeRecording is a live recording with the last heartbeat of its node (zero when the node
// never registered).
type NodeRecording struct {
	Recording recording.Recording
	NodeBeat  time.Time
}
