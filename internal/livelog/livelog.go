// Package livelog writes the publish history (Alibaba DescribeLiveStreamsPublishList):
// every accepted publication and its end, off the ingest path. The hub's callers hand it
// their events without waiting; one goroutine writes them in order. A queue that is full
// (the database stuck) drops the event and counts it: the history is informative, and
// ingest must never wait for it.
package livelog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// Store is where the history goes (store.Catalog's publish operations).
type Store interface {
	PublishInsert(ctx context.Context, p *recording.Publish) error
	PublishEnd(ctx context.Context, id string, at time.Time) error
	PublishList(ctx context.Context, f store.PublishFilter) ([]recording.Publish, int, error)
}

// Config configures a Writer.
type Config struct {
	// Store takes the history. Required.
	Store Store
	// QueueLen is how many events may wait for the writer before new ones are dropped.
	// Default 1024.
	QueueLen int
	// Timeout bounds each write. Default 10 s.
	Timeout time.Duration
	// Registerer, if set, registers liverec_publish_log_dropped_total.
	Registerer prometheus.Registerer
	// Logger logs what could not be written; nil logs nothing. Now is the clock; nil: time.Now.
	Logger *slog.Logger
	Now    func() time.Time
}

// Writer writes the publish history. Started and Ended work before Run (they queue).
type Writer struct {
	cfg     Config
	queue   chan event
	dropped prometheus.Counter
}

// event is an insert (pub set) or an end.
type event struct {
	pub *recording.Publish
	id  string
	at  time.Time
}

// New returns a Writer with cfg's defaults applied and its counter registered.
func New(cfg Config) (*Writer, error) {
	if cfg.Store == nil {
		return nil, errors.New("livelog: no store")
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 1024
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := &Writer{cfg: cfg, queue: make(chan event, cfg.QueueLen),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "liverec_publish_log_dropped_total",
			Help: "Publish history events dropped because the writer's queue was full."})}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(w.dropped); err != nil {
			return nil, fmt.Errorf("livelog: register metric: %w", err)
		}
	}
	return w, nil
}

// Started queues the insert of a publication that started and returns its ID (assigned here
// when p.ID is empty), which its Ended names. It never blocks.
func (w *Writer) Started(p recording.Publish) string {
	if p.ID == "" {
		p.ID = store.NewID(store.PublishPrefix)
	}
	w.send(event{pub: &p})
	return p.ID
}

// Ended queues the end of publication id at at. It never blocks.
func (w *Writer) Ended(id string, at time.Time) { w.send(event{id: id, at: at}) }

func (w *Writer) send(e event) {
	select {
	case w.queue <- e:
	default:
		w.dropped.Inc()
		what, id := "end", e.id
		if e.pub != nil {
			what, id = "start", e.pub.ID
		}
		w.cfg.Logger.Warn("publish history queue full, event dropped", "event", what, "publication", id)
	}
}

// Run first ends the publications a previous run left open (a crash: they ended at the
// latest now), then writes the queued events until ctx ends, and then those still queued.
func (w *Writer) Run(ctx context.Context) error {
	w.closeLeftovers(ctx)
	for {
		select {
		case e := <-w.queue:
			w.write(ctx, e)
		case <-ctx.Done():
			for {
				select {
				case e := <-w.queue:
					w.write(ctx, e)
				default:
					return nil
				}
			}
		}
	}
}

// write stores one event; a cancelled ctx still lets it finish within Timeout (shutdown
// writes the ends of the publications it closed).
func (w *Writer) write(ctx context.Context, e event) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.Timeout)
	defer cancel()
	if e.pub != nil {
		if err := w.cfg.Store.PublishInsert(wctx, e.pub); err != nil {
			w.cfg.Logger.Error("writing a publication's start", "publication", e.pub.ID, "domain", e.pub.Domain,
				"app", e.pub.App, "stream", e.pub.Stream, "err", err)
		}
		return
	}
	if err := w.cfg.Store.PublishEnd(wctx, e.id, e.at); err != nil {
		lvl := slog.LevelError
		if errors.Is(err, recording.ErrNotFound) {
			lvl = slog.LevelWarn // its start was dropped or failed, and said so
		}
		w.cfg.Logger.Log(wctx, lvl, "writing a publication's end", "publication", e.id, "err", err)
	}
}

// closeLeftovers ends the publications still open in the store: none is live before this
// run accepts its first publisher, whose events wait in the queue meanwhile.
func (w *Writer) closeLeftovers(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	open, _, err := w.cfg.Store.PublishList(lctx, store.PublishFilter{Live: true})
	if err != nil {
		w.cfg.Logger.Error("listing the publications a previous run left open", "err", err)
		return
	}
	now := w.cfg.Now()
	for _, p := range open {
		if err := w.cfg.Store.PublishEnd(lctx, p.ID, now); err != nil {
			w.cfg.Logger.Error("ending a publication a previous run left open", "publication", p.ID, "err", err)
		}
	}
	if len(open) > 0 {
		w.cfg.Logger.Info("ended the publications a previous run left open", "count", len(open))
	}
}
