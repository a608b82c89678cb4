// Package preroll keeps the recent GOPs of a live stream in memory, so that an event recording
// (POST …/events, recording.ModeEvent) can start before the event, and cuts event recordings:
// one MP4 (moov first, through record/mp4) from the GOP start at or before call-pre to the
// first keyframe at or after call+post.
//
// A Buffer is fed inline by the hub's sink (ingest's goroutine): Write copies the units into
// chunks it owns and never waits on I/O; each event's MP4 is written on a goroutine of its own.
// It is a separate package rather than part of internal/record because it is not a recording
// session: it has no segmenter, spool job or reporter, and the recorder does not know about it.
package preroll

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/liverec/liverec/internal/media"
)

// chunkSize is the arena unit of a GOP: large enough that a GOP of a 2 Mbit/s stream takes a
// few, small enough that the unused tail of a GOP's last chunk stays a small share.
const chunkSize = 64 << 10

// audioGOP is where an audio-only stream is cut into groups (every audio frame is a random
// access point).
const audioGOP = time.Second

// reanchor is how far a unit's timestamp-derived wall time may drift from its arrival before
// the mapping is taken anew (a publisher that fell behind, a clock that runs slow).
const reanchor = 2 * time.Second

// unitOverhead is what a kept unit costs besides its data.
const unitOverhead = int64(unsafe.Sizeof(media.Unit{}))

// ErrEnded is returned by Event after the publication ended.
var ErrEnded = errors.New("preroll: the publication ended")

// LimitError refuses an event whose pre-roll is longer than the buffer keeps.
type LimitError struct{ Max time.Duration }

func (e *LimitError) Error() string {
	return fmt.Sprintf("pre-roll longer than the %v the stream's rule keeps", e.Max)
}

// Metrics counts the memory of every buffer. A nil *Metrics counts nothing.
type Metrics struct{ bytes prometheus.Gauge }

// NewMetrics registers liverec_preroll_bytes.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{bytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "liverec_preroll_bytes",
		Help: "Memory held by the pre-roll buffers of live streams (GOP chunks and unit records)."})}
	reg.MustRegister(m.bytes)
	return m
}

func (m *Metrics) add(n int64) {
	if m != nil && n != 0 {
		m.bytes.Add(float64(n))
	}
}

// Config configures a Buffer.
type Config struct {
	// Keep is how much recent media is held (whole GOPs, at least Keep); 0 holds nothing but
	// what running events need.
	Keep time.Duration
	// Dir is where event MP4s are made before they are stored (the spool).
	Dir string
	// MaxTail bounds how long past its end an event waits for the closing keyframe before it
	// is cut where it is. Default 10 s.
	MaxTail time.Duration
	// Poll is how often an event's writer checks its deadline. Default 250 ms.
	Poll time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Go runs an event's writer; default a plain goroutine. The app passes its recorders'
	// group so shutdown waits for event files.
	Go      func(func())
	Metrics *Metrics
	Log     *slog.Logger
}

// gop is a keyframe-started group of units; its data lives in chunks it owns, never
// reallocated, so units handed to events stay valid after the gop is dropped.
type gop struct {
	wall   time.Time     // wall time of its first unit
	dts    time.Duration // DTS of its first unit
	units  []media.Unit
	chunks [][]byte
	size   int64 // memory counted for it
}

// Buffer is the pre-roll of one publication. It is safe for concurrent use.
type Buffer struct {
	cfg Config

	mu         sync.Mutex
	gops       []*gop
	bytes      int64
	tracks     media.Tracks
	anchorWall time.Time
	anchorDTS  time.Duration
	anchored   bool
	events     []*event
	ended      bool
}

// New returns an empty buffer.
func New(cfg Config) *Buffer {
	if cfg.MaxTail <= 0 {
		cfg.MaxTail = 10 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Go == nil {
		cfg.Go = func(f func()) { go f() }
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Buffer{cfg: cfg}
}

// Keep is the pre-roll the buffer holds.
func (b *Buffer) Keep() time.Duration { return b.cfg.Keep }

// Bytes is the memory the buffer holds now.
func (b *Buffer) Bytes() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bytes
}

// Span is how much media the buffer holds, from its oldest GOP to its newest unit.
func (b *Buffer) Span() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.gops) == 0 {
		return 0
	}
	last := b.gops[len(b.gops)-1]
	return lastDTS(last) - b.gops[0].dts
}

func lastDTS(g *gop) time.Duration {
	if len(g.units) == 0 {
		return g.dts
	}
	return g.units[len(g.units)-1].DTS
}

// Write copies units into the buffer and hands them to running events. It never blocks on
// I/O: the caller (ingest) may reuse the units' data when it returns.
func (b *Buffer) Write(units []media.Unit) {
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return
	}
	for i := range units {
		b.write(&units[i], now)
	}
	b.trim()
}

func (b *Buffer) write(u *media.Unit, now time.Time) {
	if u.Track == nil || len(u.Data) == 0 {
		return
	}
	video := u.Track.IsVideo()
	if video {
		b.tracks.Video = u.Track
	} else {
		b.tracks.Audio = u.Track
	}
	wall := b.wallOf(u.DTS, now)
	var cur *gop
	if n := len(b.gops); n > 0 {
		cur = b.gops[n-1]
	}
	starts := false
	if b.tracks.Video != nil {
		starts = video && u.Keyframe
	} else {
		starts = cur == nil || u.DTS-cur.dts >= audioGOP
	}
	if starts {
		if b.cfg.Keep <= 0 && len(b.events) == 0 {
			b.drop(len(b.gops)) // pre-roll off and nobody listening: hold nothing
			return
		}
		cur = &gop{wall: wall, dts: u.DTS}
		b.gops = append(b.gops, cur)
	}
	if cur == nil {
		return // before the first keyframe
	}
	c := b.copyUnit(cur, u)
	for _, ev := range b.events {
		ev.offer(c, wall, starts)
	}
}

// wallOf maps a DTS to wall time through the anchor, taken anew when it drifted from now.
func (b *Buffer) wallOf(dts time.Duration, now time.Time) time.Time {
	if b.anchored {
		w := b.anchorWall.Add(dts - b.anchorDTS)
		if d := now.Sub(w); d < reanchor && d > -reanchor {
			return w
		}
	}
	b.anchorWall, b.anchorDTS, b.anchored = now, dts, true
	return now
}

// copyUnit appends a copy of u to g, its data in g's chunks.
func (b *Buffer) copyUnit(g *gop, u *media.Unit) media.Unit {
	n := len(u.Data)
	var last []byte
	if k := len(g.chunks); k > 0 {
		last = g.chunks[k-1]
	}
	if last == nil || cap(last)-len(last) < n {
		last = make([]byte, 0, max(chunkSize, n))
		g.chunks = append(g.chunks, last)
		g.size += int64(cap(last))
		b.bytes += int64(cap(last))
		b.cfg.Metrics.add(int64(cap(last)))
	}
	start := len(last)
	last = append(last, u.Data...)
	g.chunks[len(g.chunks)-1] = last
	c := *u
	c.Data = last[start : start+n : start+n]
	g.units = append(g.units, c)
	g.size += unitOverhead
	b.bytes += unitOverhead
	b.cfg.Metrics.add(unitOverhead)
	return c
}

// trim drops the oldest GOP while what remains still covers Keep.
func (b *Buffer) trim() {
	if len(b.gops) == 0 {
		return
	}
	end := lastDTS(b.gops[len(b.gops)-1])
	n := 0
	for n+1 < len(b.gops) && end-b.gops[n+1].dts >= b.cfg.Keep {
		n++
	}
	if b.cfg.Keep <= 0 && len(b.events) > 0 {
		n = len(b.gops) - 1 // events hold what they need; keep only the open GOP
	}
	b.drop(n)
}

func (b *Buffer) drop(n int) {
	for _, g := range b.gops[:n] {
		b.bytes -= g.size
		b.cfg.Metrics.add(-g.size)
	}
	clear(b.gops[:n])
	b.gops = b.gops[n:]
}

// End is called when the publication ended: running events are finished with what they
// have, and the buffer's memory is released.
func (b *Buffer) End() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return
	}
	b.ended = true
	for _, ev := range b.events {
		ev.close()
	}
	b.drop(len(b.gops))
}
