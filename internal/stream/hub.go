// Package stream is the hub between ingest and recording: it knows which streams are being
// published, enforces one publisher per stream key with the idle takeover of §1, and hands
// each publication's media to whoever records it, without ever blocking ingest.
package stream

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/liverec/liverec/internal/pubauth"
)

// Key identifies a stream.
type Key struct {
	Domain, App, Stream string
}

func (k Key) String() string { return k.Domain + "/" + k.App + "/" + k.Stream }

// ErrBusy is returned by Publish when the key has an active, non-idle publisher.
var ErrBusy = errors.New("stream is already being published")

// ErrClosed is returned by Publish after the hub stopped accepting publishers.
var ErrClosed = errors.New("not accepting publishers")

// PublishRequest describes a publisher that wants to start.
type PublishRequest struct {
	Key Key
	// Params are the ingest parameters (query of the stream name and the tcUrl).
	Params url.Values
	// Remote is the publisher's address, for logs and the online lists.
	Remote string
	// Protocol is the ingest protocol ("rtmp").
	Protocol string
}

// Sink receives one publication's media. The recorder side implements it. Every method must
// return quickly and never block on disk, network or callbacks: ingest calls them inline.
type Sink interface {
	// WriteBatch hands over a batch; the sink owns it from then on and must Release it. A sink
	// that cannot keep up drops the batch (and counts it) rather than block.
	WriteBatch(b *Batch)
	// SetMetadata passes the publisher's onMetaData values that matter (video bitrate in kbit/s,
	// 0 when unknown).
	SetMetadata(videoKbps float64)
	// End tells the sink the publication ended (publisher gone, kicked, or shutdown). A
	// WriteBatch racing with End must be tolerated (released and dropped).
	End(reason error)
}

// OpenFunc is called by Publish for each accepted publication to get its sink.
type OpenFunc func(p *Publication) Sink

// Hub tracks active publications. It is safe for concurrent use.
type Hub struct {
	// PublishIdleTimeout is how long a publisher may send no media before a newcomer on the
	// same key replaces it. Default 5 s.
	PublishIdleTimeout time.Duration
	// Open is called for each accepted publication; nil means media is discarded.
	Open OpenFunc
	// Authorizer, when set, decides whether each publisher may publish (see Authorizer).
	Authorizer Authorizer
	// Leases, when set, keeps each key published on one node of a cluster (see Leaser).
	Leases Leaser
	// Now is the clock; default time.Now.
	Now func() time.Time
	// DrainTimeout bounds how long Close waits for publications to hand on what their
	// connections still hold before it ends them. Default 2 s.
	DrainTimeout time.Duration
	// MeasureWindow is how much recent media the bitrates and frame rate of Live are measured
	// over. Default 5 s.
	MeasureWindow time.Duration

	mu     sync.Mutex
	active map[Key]*Publication
	closed bool
	nextID atomic.Uint64
}

// Publication is one accepted publisher of a stream key.
type Publication struct {
	ID     uint64
	Req    PublishRequest
	Start  time.Time
	hub    *Hub
	sink   Sink
	ctx    context.Context
	cancel context.CancelCauseFunc
	// lastMedia is the unix nano time of the last media written.
	lastMedia atomic.Int64
	// done is closed when the publication has ended.
	done  chan struct{}
	ended atomic.Bool
	meter meter
}

// Publish registers a publisher for req.Key. It refuses with ErrBusy while another publisher
// of the key sent media within PublishIdleTimeout, and otherwise replaces that publisher.
// The returned Publication's Context is cancelled when it is replaced or the hub closes. The
// Authorizer, when set, is asked first: its refusal is ErrUnauthorized.
func (h *Hub) Publish(ctx context.Context, req PublishRequest) (*Publication, error) {
	if h.Authorizer != nil {
		if err := h.Authorizer.Authorize(ctx, req); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnauthorized, err)
		}
	}
	if h.Leases != nil {
		if err := h.Leases.Acquire(ctx, req.Key); err != nil {
			return nil, err
		}
	}
	// Credentials are checked; nothing downstream (callbacks, logs, names) may see them.
	req.Params = pubauth.WithoutAuthParams(req.Params)
	now := h.now()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	if h.active == nil {
		h.active = make(map[Key]*Publication)
	}
	var replaced *Publication
	if old := h.active[req.Key]; old != nil {
		idle := now.Sub(time.Unix(0, old.lastMedia.Load()))
		if idle < h.idleTimeout() {
			h.mu.Unlock()
			return nil, ErrBusy
		}
		replaced = old
		delete(h.active, req.Key)
	}
	pctx, cancel := context.WithCancelCause(ctx)
	p := &Publication{ID: h.nextID.Add(1), Req: req, Start: now, hub: h, ctx: pctx, cancel: cancel,
		done: make(chan struct{})}
	p.lastMedia.Store(now.UnixNano())
	p.meter.start(now)
	h.active[req.Key] = p
	h.mu.Unlock()

	if replaced != nil {
		replaced.cancel(errors.New("replaced by a new publisher after being idle"))
		replaced.end(errors.New("replaced by a new publisher after being idle"))
	}
	if h.Open != nil {
		p.sink = h.Open(p)
	}
	return p, nil
}

// Idle tells whether key's publication sent no media for PublishIdleTimeout: a newcomer would
// replace it. False when the key is not published here.
func (h *Hub) Idle(key Key) bool {
	h.mu.Lock()
	p := h.active[key]
	h.mu.Unlock()
	return p != nil && h.now().Sub(time.Unix(0, p.lastMedia.Load())) >= h.idleTimeout()
}

// Close stops accepting publishers and ends every active publication. It cancels them first
// and waits (up to DrainTimeout) for each to end by itself: its connection reads what the
// socket still holds and hands it on, so a stop right after a publisher's last frame keeps
// that frame. Publications still running after that are ended.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	ps := make([]*Publication, 0, len(h.active))
	for _, p := range h.active {
		ps = append(ps, p)
	}
	h.active = nil
	h.mu.Unlock()
	for _, p := range ps {
		p.cancel(ErrClosed)
	}
	wait := h.DrainTimeout
	if wait <= 0 {
		wait = 2 * time.Second
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for _, p := range ps {
		select {
		case <-p.done:
		case <-deadline.C:
		}
	}
	for _, p := range ps {
		p.end(ErrClosed)
	}
}

func (h *Hub) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Hub) idleTimeout() time.Duration {
	if h.PublishIdleTimeout > 0 {
		return h.PublishIdleTimeout
	}
	return 5 * time.Second
}

// Context is cancelled when the publication must stop (replaced, kicked, or the hub closed);
// its cause says why (ErrKicked for a kick).
func (p *Publication) Context() context.Context { return p.ctx }

// WriteBatch hands a batch to the sink, marks the publication as active and measures it.
// Ownership of b passes to the callee. It is called from one goroutine at a time (the
// publisher's connection).
func (p *Publication) WriteBatch(b *Batch) {
	if len(b.Units) > 0 {
		now := p.hub.now()
		p.lastMedia.Store(now.UnixNano())
		p.meter.add(b.Units, now, p.hub.measureWindow())
	}
	if p.sink == nil || p.ended.Load() {
		b.Release()
		return
	}
	p.sink.WriteBatch(b)
}

// SetMetadata forwards onMetaData values to the sink.
func (p *Publication) SetMetadata(videoKbps float64) {
	if p.sink != nil && !p.ended.Load() {
		p.sink.SetMetadata(videoKbps)
	}
}

// Close ends the publication from the publisher's side (disconnect or error).
func (p *Publication) Close(reason error) {
	p.hub.mu.Lock()
	last := p.hub.active[p.Req.Key] == p
	if last {
		delete(p.hub.active, p.Req.Key)
	}
	p.hub.mu.Unlock()
	if last && p.hub.Leases != nil {
		p.hub.Leases.Release(p.Req.Key)
	}
	p.cancel(reason)
	p.end(reason)
}

func (p *Publication) end(reason error) {
	if p.ended.Swap(true) {
		return
	}
	if p.sink != nil {
		p.sink.End(reason)
	}
	if p.done != nil {
		close(p.done)
	}
}
