package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/liverec/liverec/internal/cluster"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/upload"
)

// newNode makes this process a node of the deployment: its id, heartbeat and stream
// leases. On SQLite it is the only node, and the same code runs.
func (a *App) newNode(db cluster.Store, id string) (*cluster.Node, error) {
	c := a.conf
	return cluster.New(cluster.Config{
		Self:      store.Node{ID: id, HTTPAddr: advertisedHTTP(c.Cluster.AdvertiseHTTP, c.HTTP), RTMPAddr: c.RTMP, Version: buildVersion()},
		Store:     db,
		LeaseTTL:  c.Cluster.LeaseTTL.D(),
		Heartbeat: c.Cluster.Heartbeat.D(),
		DBTimeout: dbTimeout,
		OnLost: func(k stream.Key) {
			a.hub.Kick(k, errors.New("another node took this stream's lease"))
		},
		OnOrphan: a.endOrphan,
		Grace:    a.recordingGrace,
		OnBeat:   a.handOverMoved,
		Idle:     func(k stream.Key) bool { return a.hub.Idle(k) },
		Logger:   a.log.With("component", "cluster", "node", id),
		Metrics:  cluster.NewMetrics(a.reg),
	})
}

// ownRecording tells whether this node records rec (or recorded it before nodes had ids).
func (a *App) ownRecording(rec *recording.Recording) bool {
	return rec.Node == "" || rec.Node == a.node.ID()
}

// endOrphan ends a recording whose node died, now adopted by this node: record_over, with the
// reason. The files in the dead node's spool are stored here when the spool is shared, else
// when that node comes back.
func (a *App) endOrphan(rec recording.Recording, deadNode string) {
	log := a.log.With("recording", rec.ID, "domain", rec.Domain, "app", rec.App, "stream", rec.Stream)
	a.events.Adopt(&rec, log)
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	spool := a.recoverPeerSpool(ctx, &rec, deadNode, false, log)
	files := "the files still in its spool are stored when it comes back"
	if spool != "" {
		files = "the files it left in the shared spool were stored by this node"
	}
	a.up.Enqueue(&upload.Job{Kind: upload.JobEnd, RecordingID: rec.ID, SpoolPath: spool,
		EndReason: fmt.Sprintf("node %s stopped (no heartbeat within the lease time); the recording was ended by node %s, and %s",
			deadNode, a.node.ID(), files)})
}

// Nodes lists the live nodes of the deployment (the native API's GET /api/v1/nodes).
func (a *App) Nodes(ctx context.Context) ([]store.Node, error) {
	return a.node.Nodes(ctx)
}
