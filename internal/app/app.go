// Package app wires liverec together: configuration, store, ingest, recorders, the completion
// pipeline and the HTTP endpoints, with one lifecycle (New, then Run until the context ends).
//
// Lifecycle. Every long-lived component follows the same idiom: New…(cfg) (*T, error), or
// *T when nothing can fail, does all setup and validation (no lazy init on first use); Run(ctx)
// error runs it and returns once ctx is done and everything it started has stopped. Methods
// called before Run work, or queue until it runs (upload.Uploader.Enqueue, notify.Notifier.Notify).
// The app builds each component in New and runs each in its own goroutine in Run; shutdown
// order is the app's: it cancels each component's context when the ones feeding it are done.
// A record.Recorder is built per publication (by the hub's Open) and run in the app's group of
// recorders; its Run also returns when its recording ends on its own, and the recorders'
// context ends every recording, paused ones too, at shutdown. Not components, so without Run:
// stream.Hub and ondemand.Decider start no goroutine (the hub's Close ends its publications);
// the store (Open, Close), the disk reserve (Hold, Release) and net/http's server (Serve,
// Shutdown) keep the calls of their kind.
// Retries wait per internal/backoff.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/cluster"
	"github.com/liverec/liverec/internal/conf"
	"github.com/liverec/liverec/internal/diskspace"
	"github.com/liverec/liverec/internal/events"
	"github.com/liverec/liverec/internal/filemode"
	"github.com/liverec/liverec/internal/ingest/rtmp"
	"github.com/liverec/liverec/internal/livelog"
	"github.com/liverec/liverec/internal/netguard"
	"github.com/liverec/liverec/internal/notify"
	"github.com/liverec/liverec/internal/notify/dialect"
	"github.com/liverec/liverec/internal/ondemand"
	"github.com/liverec/liverec/internal/preroll"
	"github.com/liverec/liverec/internal/record"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/retention"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/store/sqldb"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/upload"
)

// Store is everything the app persists through.
type Store interface {
	service.Store
	store.Outbox
	store.Catalog
	store.Cluster
	store.AuthFailures
}

// App is a running liverec.
type App struct {
	conf   *conf.Config
	log    *slog.Logger
	store  Store
	events *events.Emitter
	reg    *prometheus.Registry
	hub    *stream.Hub
	rtmp   *rtmp.Server
	up     *upload.Uploader
	upMet  *upload.Metrics
	recMet *record.Metrics
	preMet *preroll.Metrics
	httpLn net.Listener
	stores map[string]blob.Store // storage endpoints by name
	alias  map[string]string     // endpoint alias → name
	// linkKey signs the download links of local objects (derived from the master key).
	linkKey []byte
	svc     *service.Service
	decider *ondemand.Decider
	notif   *notify.Notifier
	limits  limits
	// pubLog writes the publish history (internal/livelog).
	pubLog *livelog.Writer
	// disk is the disk policy: free-space marks of the data dir, spool and local endpoints.
	disk *diskPolicy
	// delMet counts deleted files by reason, for every retention.Deleter (deletedMetrics).
	delMet *retention.Metrics
	// ret deletes the files whose rule's retention_s has passed.
	ret *retention.Retention
	// node is this process's membership of the deployment: heartbeat and stream leases.
	node *cluster.Node
	// peerKey authenticates the nodes' calls to each other (peers.go); peerClient makes them.
	peerKey    string
	peerClient *http.Client
	// spoolRoot is the shared spool (cluster.shared_spool) whose folders are the nodes' spools;
	// empty when each node's spool is its own.
	spoolRoot string

	// recorders runs each recording's Recorder in its goroutine, until its recording ends or
	// stopRecorders ends recCtx at shutdown.
	recorders     sync.WaitGroup
	recCtx        context.Context
	stopRecorders context.CancelFunc
	liveMu        sync.Mutex
	byKey         map[stream.Key]*record.Recorder
	// prerolls are the live publications' pre-roll sinks (event recordings), under liveMu.
	prerolls map[stream.Key]*prerollSink
}

// New opens the data directory and the store, prepares every component and binds the
// listeners (so Addr works before Run). A newly created admin key is printed once to out.
func New(ctx context.Context, c *conf.Config, log *slog.Logger, out io.Writer) (*App, error) {
	a := &App{conf: c, log: log, reg: prometheus.NewRegistry(), byKey: map[stream.Key]*record.Recorder{},
		prerolls: map[stream.Key]*prerollSink{}}
	a.recCtx, a.stopRecorders = context.WithCancel(context.Background())
	if err := os.MkdirAll(c.Data, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	nodeID, err := cluster.LoadID(c.Cluster.NodeID, c.Data)
	if err != nil {
		return nil, fmt.Errorf("cluster node: %w", err)
	}
	if c.Cluster.SharedSpool {
		// Each node spools into its own folder of the shared spool.
		a.spoolRoot, c.Storage.Spool = c.Storage.Spool, filepath.Join(c.Storage.Spool, nodeID)
	}
	var roots []string
	for _, e := range c.Storage.Endpoints {
		if e.Type == "local" {
			roots = append(roots, e.Root)
		}
	}
	if err = upload.CheckSpoolPlacement(c.Storage.Spool, c.Data, filepath.Join(c.Data, "liverec.db"), roots); err != nil {
		return nil, err
	}
	if err = filemode.MkdirAll(c.Storage.Spool, c.Storage.FileMode.Perm()); err != nil {
		return nil, fmt.Errorf("create spool dir: %w", err)
	}
	db, err := sqldb.Open(ctx, c.DB, filepath.Join(c.Data, "liverec.db"))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	a.store = db
	// The disk reserve keeps space for the records of a full disk (internal/events).
	reserve := &diskspace.Reserve{Path: filepath.Join(c.Data, "reserve"), Size: c.Storage.DiskReserve}
	if err = reserve.Hold(); err != nil {
		log.Warn("the disk reserve cannot be held: a full disk may lose failure records until it can", "err", err)
	}
	if err = a.seedRules(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err = a.initStorage(); err != nil {
		db.Close()
		return nil, err
	}
	if err = a.makeConfigBuckets(); err != nil {
		db.Close()
		return nil, err
	}
	if err = a.initService(ctx, out); err != nil {
		db.Close()
		return nil, err
	}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.upMet = upload.NewMetrics(a.reg)
	a.recMet = record.NewMetrics(a.reg, a.upMet)
	a.preMet = preroll.NewMetrics(a.reg)
	a.initLimits()
	a.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "liverec_upload_bytes_total",
		Help: "Bytes sent to S3 endpoints (through the upload bandwidth limit)."}, a.uploadedBytes))
	a.decider = &ondemand.Decider{
		Callbacks: db,
		Tasks:     db,
		Asker: &ondemand.Asker{Timeout: c.Callbacks.OnDemandTimeout.D(),
			Client: netguard.Client(c.Callbacks.OnDemandTimeout.D(), c.Callbacks.RefusePrivateTargets)},
		Metrics: ondemand.NewMetrics(a.reg),
		Logger:  log,
	}
	a.up = upload.New(upload.Config{
		Storage:   a.objectStore,
		Workers:   c.Recording.Workers,
		RetryMin:  c.Recording.StoreRetryMin.D(),
		RetryMax:  c.Recording.StoreRetryMax.D(),
		OnStored:  a.stored,
		FailAfter: c.Recording.UploadFailureAfter.D(),
		OnFailed:  a.recordingFailed,
		Location:  c.Location(),
		FileMode:  c.Storage.FileMode.Perm(),
		Logger:    log.With("component", "uploader"),
		Metrics:   a.upMet,
	})
	enc := dialect.Encoder{HuaweiExpiry: c.Callbacks.SignExpiry.D()}
	a.notif, err = notify.New(notify.Config{
		Outbox:    db,
		Callbacks: callbackKeys{a},
		Encode: func(ev *recording.OutboxEvent, cfg *recording.CallbackConfig, key string, now time.Time) (notify.Request, bool, error) {
			r, ok, encErr := enc.Encode(ev, cfg, key, now)
			return notify.Request(r), ok, encErr
		},
		Timeout: c.Callbacks.DeliveryTimeout.D(),
		Client:  netguard.Client(c.Callbacks.DeliveryTimeout.D(), c.Callbacks.RefusePrivateTargets),
		Backoff: notify.Backoff{Min: c.Callbacks.RetryMin.D(), Max: c.Callbacks.RetryMax.D(),
			MaxAge: c.Callbacks.RetryMaxAge.D()},
		Workers: c.Callbacks.Workers,
		Logger:  log.With("component", "notify"),
		Metrics: notify.NewMetrics(a.reg),
		OnPanic: func() { a.upMet.Panicked("notifier") },
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("notifier: %w", err)
	}
	a.events = events.New(events.Config{Store: db, Reserve: reserve, DataDir: c.Data, Node: nodeID,
		RetryMin: c.Recording.StoreRetryMin.D(), RetryMax: c.Recording.StoreRetryMax.D(),
		Notify: a.notif.Notify, DownloadURL: a.eventDownloadURL, Slices: db, Logger: log.With("component", "events")})
	if a.disk, err = a.newDiskPolicy(db); err != nil {
		db.Close()
		return nil, err
	}
	if a.ret, err = a.newRetention(db); err != nil {
		db.Close()
		return nil, err
	}
	if a.pubLog, err = a.newPublishLog(); err != nil {
		db.Close()
		return nil, fmt.Errorf("publish history: %w", err)
	}
	if a.node, err = a.newNode(db, nodeID); err != nil {
		db.Close()
		return nil, fmt.Errorf("cluster node: %w", err)
	}
	a.hub = &stream.Hub{PublishIdleTimeout: c.Ingest.PublishIdleTimeout.D(), Open: a.openPublication,
		Authorizer: a.newPublishAuthorizer(), Leases: a.node}
	rtmpCfg := rtmp.Config{
		Addr:             c.RTMP,
		Hub:              a.hub,
		HandshakeTimeout: c.Ingest.HandshakeTimeout.D(),
		IdleTimeout:      c.Ingest.IdleTimeout.D(),
		ReadBatch:        c.Ingest.ReadBatch.D(),
		MaxConns:         c.Ingest.MaxConns,
		MaxConnsPerIP:    c.Ingest.MaxConnsPerIP,
		MaxPendingBytes:  c.Ingest.MaxPendingBytes,
		Logger:           log.With("component", "rtmp"),
		Metrics:          rtmp.NewMetrics(a.reg),
	}
	a.httpLn, err = net.Listen("tcp", c.HTTP)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("listen http: %w", err)
	}
	if _, port, _ := net.SplitHostPort(advertisedHTTP(c.Cluster.AdvertiseHTTP, c.HTTP)); port == "0" {
		a.node.SetHTTPAddr(a.httpLn.Addr().String()) // the port is known once bound
	}
	if a.rtmp, err = rtmp.NewServer(rtmpCfg); err != nil {
		a.httpLn.Close()
		db.Close()
		return nil, fmt.Errorf("listen rtmp: %w", err)
	}
	return a, nil
}

// HTTPAddr and RTMPAddr return the bound addresses.
func (a *App) HTTPAddr() net.Addr { return a.httpLn.Addr() }

// RTMPAddr returns the bound RTMP address.
func (a *App) RTMPAddr() net.Addr { return a.rtmp.BoundAddr() }

// Store exposes the store (for tests and the API wiring).
func (a *App) Store() Store { return a.store }

// Run serves until ctx ends, then shuts down gracefully: it stops accepting publishers,
// completes every open file, stores what can be stored within the shutdown timeout, and
// returns.
func (a *App) Run(ctx context.Context) error {
	srv := a.httpServer()
	var wg sync.WaitGroup
	finCtx, finStop := context.WithCancel(context.Background())
	rtmpCtx, rtmpStop := context.WithCancel(context.Background())
	errc := make(chan error, 4)
	wg.Go(func() { errc <- a.up.Run(finCtx) })
	wg.Go(func() { errc <- a.notif.Run(finCtx) })
	wg.Go(func() { _ = a.events.Run(finCtx) })
	wg.Go(func() { _ = a.pubLog.Run(finCtx) })
	wg.Go(func() { _ = a.disk.Run(finCtx) })
	wg.Go(func() { _ = a.ret.Run(finCtx) })
	// The failed-authentication throttles share their counts with the other nodes.
	wg.Go(func() { _ = a.limits.Run(finCtx) })
	// A member before it recovers or accepts anything: its recordings are not a dead node's.
	if err := a.node.Join(ctx); err != nil {
		a.log.Error("joining the cluster (first heartbeat)", "err", err)
	}
	wg.Go(func() { _ = a.node.Run(finCtx) })
	if err := a.recoverSpool(ctx); err != nil {
		a.log.Error("recovering the spool", "err", err)
	}
	wg.Go(func() { errc <- a.rtmp.Run(rtmpCtx) })
	wg.Go(func() {
		if err := srv.Serve(a.httpListener()); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve http: %w", err)
		}
	})
	a.log.Info("liverec running", "http", a.HTTPAddr().String(), "rtmp", a.RTMPAddr().String(),
		"data", a.conf.Data)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	a.log.Info("shutting down")
	deadline, cancel := context.WithTimeout(context.Background(), a.conf.ShutdownTimeout)
	defer cancel()

	a.hub.Close()               // ends every publication: recorders complete their files
	a.node.ReleaseAll(deadline) // the streams may publish on another node at once
	a.stopRecorders()           // ends every recording, paused ones too (their files complete)
	rtmpStop()
	waitGroup(deadline, &a.recorders)
	if err := a.up.Drain(deadline); err != nil {
		a.log.Error("shutdown: files left in the spool", "err", err)
	}
	if !a.events.Flush(deadline) {
		a.log.Error("shutdown: state changes could not be written; the next start recovers the recordings they belong to",
			"why", a.events.Health())
	}
	finStop()
	shutdownErr := srv.Shutdown(deadline)
	wg.Wait()
	return errors.Join(runErr, shutdownErr, a.store.Close())
}

func waitGroup(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
