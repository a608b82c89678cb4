package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortmplib"
)

// Config describes a load run.
type Config struct {
	// URL is the RTMP application URL (rtmp://host[:port]/app); stream i publishes to
	// URL/<Prefix><i>.
	URL     string
	Streams int
	Prefix  string
	// Duration is how long each stream publishes, from its own start; it then stops before
	// the next keyframe (see Clip.StopAt).
	Duration time.Duration
	// Ramp spreads the stream starts: stream i connects at Ramp*i/Streams.
	Ramp time.Duration
	// Tick is how often the schedulers wake up to send what is due (default DefaultTick).
	Tick time.Duration
	// Workers is the number of scheduler goroutines (default one per two cores: a
	// scheduler's wake-ups cost more than its writes, and the other cores are the server's).
	Workers int
	// ConnectTimeout bounds the handshake, connect and publish of one stream (default 10 s).
	ConnectTimeout time.Duration
	// WriteTimeout fails a stream whose socket accepts nothing for this long (default 10 s).
	WriteTimeout time.Duration
}

// DefaultTick sends each frame within 10 ms of its time: at 30 fps video and ~43 AAC frames a
// second that is one or two frames per write, as a live encoder (or ffmpeg -re) sends them,
// so a server is woken as often as by real publishers.
const DefaultTick = 10 * time.Millisecond

// Limits of Config.
const (
	MaxStreams  = 10000
	MaxDuration = 24 * time.Hour
	MaxRamp     = time.Hour
	MinTick     = time.Millisecond
	MaxTick     = time.Second
	MaxWorkers  = 256
)

func (c *Config) defaults() {
	if c.Tick == 0 {
		c.Tick = DefaultTick
	}
	if c.Workers == 0 {
		c.Workers = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 10 * time.Second
	}
}

// Validate checks the configuration (after defaults for the zero optional fields) and returns
// the parsed application URL.
func (c *Config) Validate() (*url.URL, error) {
	c.defaults()
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return nil, errors.New("--url is required (rtmp://host[:port]/app)")
	case err != nil:
		return nil, fmt.Errorf("--url: %w", err)
	case u.Scheme != "rtmp" && u.Scheme != "rtmps":
		return nil, fmt.Errorf("--url %q: the scheme must be rtmp or rtmps", c.URL)
	case u.Host == "":
		return nil, fmt.Errorf("--url %q: no host", c.URL)
	case strings.Trim(u.Path, "/") == "":
		return nil, fmt.Errorf("--url %q: no application (rtmp://host[:port]/app)", c.URL)
	case u.Fragment != "":
		return nil, fmt.Errorf("--url %q: no fragment allowed", c.URL)
	case c.Streams < 1 || c.Streams > MaxStreams:
		return nil, fmt.Errorf("--streams %d: must be between 1 and %d", c.Streams, MaxStreams)
	case c.Prefix == "" || len(c.Prefix) > 64 || strings.Trim(c.Prefix, nameChars) != "":
		return nil, fmt.Errorf("--prefix %q: 1 to 64 letters, digits, '_', '-' or '.'", c.Prefix)
	case c.Duration <= 0 || c.Duration > MaxDuration:
		return nil, fmt.Errorf("--duration %v: must be more than 0 and at most %v", c.Duration, MaxDuration)
	case c.Ramp < 0 || c.Ramp > MaxRamp:
		return nil, fmt.Errorf("--ramp %v: must be between 0 and %v", c.Ramp, MaxRamp)
	case c.Tick < MinTick || c.Tick > MaxTick:
		return nil, fmt.Errorf("--tick %v: must be between %v and %v", c.Tick, MinTick, MaxTick)
	case c.Workers < 1 || c.Workers > MaxWorkers:
		return nil, fmt.Errorf("--workers %d: must be between 1 and %d", c.Workers, MaxWorkers)
	case c.ConnectTimeout < 100*time.Millisecond || c.ConnectTimeout > 5*time.Minute:
		return nil, fmt.Errorf("--connect-timeout %v: must be between 100ms and 5m", c.ConnectTimeout)
	case c.WriteTimeout < 100*time.Millisecond || c.WriteTimeout > 5*time.Minute:
		return nil, fmt.Errorf("write timeout %v: must be between 100ms and 5m", c.WriteTimeout)
	}
	u.Path = "/" + strings.Trim(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

const nameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."

// closeWait bounds how long a stopped stream waits for the server to close the connection
// after the publisher's FIN.
const closeWait = 5 * time.Second

// StreamResult is one stream's outcome.
type StreamResult struct {
	Name        string  `json:"name"`
	OK          bool    `json:"ok"`
	Error       string  `json:"error"`
	VideoFrames int     `json:"video_frames"`
	AudioFrames int     `json:"audio_frames"`
	Bytes       int64   `json:"bytes"`
	MaxLagMS    float64 `json:"max_lag_ms"`
	// Started is when the server accepted the publish (the stream's pacing origin), Ended when
	// its last message was written; RFC 3339, empty when it never happened.
	Started string `json:"started"`
	Ended   string `json:"ended"`
}

// Total sums the streams.
type Total struct {
	Streams     int     `json:"streams"`
	OK          int     `json:"ok"`
	Failed      int     `json:"failed"`
	VideoFrames int     `json:"video_frames"`
	AudioFrames int     `json:"audio_frames"`
	Bytes       int64   `json:"bytes"`
	MaxLagMS    float64 `json:"max_lag_ms"`
	// PublishSeconds sums each stream's time from Started to Ended.
	PublishSeconds float64 `json:"publish_seconds"`
}

// Report is the outcome of a run.
type Report struct {
	Streams []StreamResult `json:"streams"`
	Total   Total          `json:"total"`
	// CPUSeconds is the user+system CPU time of this process (set by the caller, which
	// knows when to read it).
	CPUSeconds  float64 `json:"cpu_seconds"`
	WallSeconds float64 `json:"wall_seconds"`
}

// stream is one publishing connection.
type stream struct {
	name string
	bye  []byte // FCUnpublish + deleteStream chunks

	// Set before the stream is handed to a worker, read-only after.
	conn  net.Conn
	out   io.Writer // conn, or a rawWriter on it
	start time.Time

	// Owned by the worker.
	headersSent  bool
	next         Pos   // position of the next body message
	idx          int   // next % len(Body)
	loopBase     int64 // timestamp of the current loop's start, ms
	video, audio int
	bytes        int64
	maxLag       time.Duration
	deadlineSet  time.Time
	ended        time.Time

	// finished is set before the stream's last write (or on failure): a connection closed
	// from then on is expected.
	finished atomic.Bool

	mu  sync.Mutex
	err error
}

func (s *stream) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func (s *stream) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// worker is a scheduler goroutine: on every tick it writes, for each of its streams, every
// message due by then in one Write.
type worker struct {
	clip  *Clip
	stop  Pos
	tick  time.Duration
	wtime time.Duration

	mu       sync.Mutex
	incoming []*stream
	closed   bool

	active []*stream
	buf    []byte
	// remaining counts the streams assigned to the worker that are not over yet (connect
	// failures are counted down by their goroutine).
	remaining atomic.Int64
}

// add hands a connected stream to the worker; false when the worker has already quit.
func (w *worker) add(s *stream) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	w.incoming = append(w.incoming, s)
	return true
}

func (w *worker) run(ctx context.Context) {
	t := time.NewTicker(w.tick)
	defer t.Stop()
	for w.remaining.Load() > 0 {
		select {
		case <-ctx.Done():
			w.abort(ctx)
			return
		case <-t.C:
		}
		w.mu.Lock()
		w.active = append(w.active, w.incoming...)
		clear(w.incoming)
		w.incoming = w.incoming[:0]
		w.mu.Unlock()
		keep := w.active[:0]
		for _, s := range w.active {
			if w.service(s) {
				keep = append(keep, s)
			} else {
				w.remaining.Add(-1)
			}
		}
		clear(w.active[len(keep):])
		w.active = keep
	}
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

// abort ends every stream of the worker when the run is interrupted: what was sent is whole
// frames, then the goodbye.
func (w *worker) abort(ctx context.Context) {
	w.mu.Lock()
	w.closed = true
	w.active = append(w.active, w.incoming...)
	w.incoming = nil
	w.mu.Unlock()
	for _, s := range w.active {
		s.fail(fmt.Errorf("interrupted after %v: %w", time.Since(s.start).Round(time.Millisecond), context.Cause(ctx)))
		s.finished.Store(true)
		_ = s.conn.SetWriteDeadline(time.Now().Add(time.Second))
		if n, err := s.conn.Write(s.bye); err == nil {
			s.bytes += int64(n)
		}
		s.ended = time.Now()
		s.conn.Close()
		w.remaining.Add(-1)
	}
	w.active = nil
}

// service sends what is due on s; it returns false when s is over (stopped or failed).
func (w *worker) service(s *stream) bool {
	c := w.clip
	now := time.Now()
	elapsed := now.Sub(s.start)
	b := w.buf[:0]
	lag := time.Duration(-1)
	if !s.headersSent {
		for i := range c.Headers {
			b = appendMsg(b, &c.Headers[i], 0)
		}
		s.headersSent = true
		lag = elapsed
	}
	var video, audio int
	for s.next < w.stop {
		m := &c.Body[s.idx]
		due := s.loopBase + int64(m.TS)
		dueAt := time.Duration(due) * time.Millisecond
		if dueAt > elapsed {
			break
		}
		if lag < 0 {
			lag = elapsed - dueAt // the batch's earliest message waited longest
		}
		b = appendMsg(b, m, uint32(due))
		if m.Video {
			video++
		} else if m.Audio {
			audio++
		}
		s.next++
		if s.idx++; s.idx == len(c.Body) {
			s.idx = 0
			s.loopBase += int64(c.Period)
		}
	}
	done := s.next >= w.stop
	if done {
		s.finished.Store(true)
		b = append(b, s.bye...)
	}
	w.buf = b[:0]
	if len(b) == 0 {
		return true
	}
	if now.Sub(s.deadlineSet) > w.wtime/2 {
		if err := s.conn.SetWriteDeadline(now.Add(w.wtime)); err != nil {
			return w.failWrite(s, err)
		}
		s.deadlineSet = now
	}
	n, err := s.out.Write(b)
	s.bytes += int64(n)
	if err != nil {
		return w.failWrite(s, err)
	}
	s.video += video
	s.audio += audio
	s.maxLag = max(s.maxLag, lag)
	if !done {
		return true
	}
	// Stopped: half-close, and let the connection's goroutine read until the server closes.
	s.ended = time.Now()
	if cw, ok := s.conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = s.conn.SetReadDeadline(s.ended.Add(closeWait))
	return false
}

func (w *worker) failWrite(s *stream, err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		err = fmt.Errorf("write stalled for %v: %w", w.wtime, err)
	}
	s.fail(fmt.Errorf("write: %w", err))
	s.finished.Store(true)
	s.ended = time.Now()
	s.conn.Close()
	return false
}

// runStream connects and publishes s, hands it to w, then reads (and drops) what the server
// sends until the connection ends: the socket must be drained so the final close is a FIN,
// not a reset that could lose the tail of the stream.
func runStream(ctx context.Context, base *url.URL, s *stream, w *worker, connectTimeout time.Duration) {
	u := *base
	u.Fragment = s.name // gortmplib takes the stream name from the fragment
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	c := &gortmplib.Client{URL: &u, Publish: true}
	err := c.Initialize(cctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted while connecting: %w", context.Cause(ctx))
		} else {
			err = fmt.Errorf("connect/publish: %w", err)
		}
		s.fail(err)
		w.remaining.Add(-1)
		return
	}
	s.conn = c.NetConn()
	s.out = s.conn
	if rw := newRawWriter(s.conn); rw != nil {
		s.out = rw
	}
	s.bytes = int64(c.BytesSent())
	s.start = time.Now()
	if !w.add(s) {
		s.fail(fmt.Errorf("interrupted before publishing: %w", context.Cause(ctx)))
		s.conn.Close()
		w.remaining.Add(-1)
		return
	}
	var buf [512]byte
	for {
		if _, err := s.conn.Read(buf[:]); err != nil {
			// The worker ends the stream (and closes the connection) when it stops or when
			// the run is interrupted; a read error before that is the server's doing.
			if !s.finished.Load() {
				s.fail(fmt.Errorf("connection lost while publishing: %w", err))
			}
			s.conn.Close()
			return
		}
	}
}

// Run publishes cfg.Streams streams of clip and returns when all are over. It returns an error
// only for an invalid configuration; each stream's failure is in the report.
func Run(ctx context.Context, clip *Clip, cfg Config) (*Report, error) {
	base, err := cfg.Validate()
	if err != nil {
		return nil, err
	}
	began := time.Now()
	stop := clip.StopAt(cfg.Duration)
	// Hard bound on the whole run: the last start, its connect, its publishing (with the
	// overrun to a keyframe) and the close.
	last := clip.Timestamp(stop) // ms
	limit := cfg.Ramp + cfg.ConnectTimeout + time.Duration(last)*time.Millisecond + cfg.WriteTimeout + closeWait + 10*time.Second
	ctx, cancel := context.WithTimeoutCause(ctx, limit, fmt.Errorf("run exceeded its time bound %v", limit))
	defer cancel()

	nw := min(cfg.Workers, cfg.Streams)
	workers := make([]*worker, nw)
	for i := range workers {
		workers[i] = &worker{clip: clip, stop: stop, tick: cfg.Tick, wtime: cfg.WriteTimeout}
	}
	streams := make([]*stream, cfg.Streams)
	for i := range streams {
		name := fmt.Sprintf("%s%d", cfg.Prefix, i)
		streams[i] = &stream{name: name, bye: goodbye(name)}
		workers[i%nw].remaining.Add(1)
	}
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(ctx) })
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i, s := range streams {
		w := workers[i%nw]
		at := began.Add(time.Duration(int64(cfg.Ramp) * int64(i) / int64(cfg.Streams)))
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			s.fail(fmt.Errorf("interrupted before starting: %w", context.Cause(ctx)))
			w.remaining.Add(-1)
			continue
		}
		wg.Go(func() { runStream(ctx, base, s, w, cfg.ConnectTimeout) })
	}
	wg.Wait()

	r := &Report{Streams: make([]StreamResult, len(streams))}
	for i, s := range streams {
		res := StreamResult{Name: s.name, VideoFrames: s.video, AudioFrames: s.audio, Bytes: s.bytes,
			MaxLagMS: float64(s.maxLag.Microseconds()) / 1000}
		if err := s.failed(); err != nil {
			res.Error = err.Error()
		} else if s.next < stop {
			res.Error = "stopped early" // cannot happen: every early end records why
		} else {
			res.OK = true
		}
		if !s.start.IsZero() {
			res.Started = s.start.UTC().Format(time.RFC3339Nano)
		}
		if !s.ended.IsZero() {
			res.Ended = s.ended.UTC().Format(time.RFC3339Nano)
			r.Total.PublishSeconds += s.ended.Sub(s.start).Seconds()
		}
		r.Streams[i] = res
		t := &r.Total
		t.Streams++
		if res.OK {
			t.OK++
		} else {
			t.Failed++
		}
		t.VideoFrames += res.VideoFrames
		t.AudioFrames += res.AudioFrames
		t.Bytes += res.Bytes
		t.MaxLagMS = max(t.MaxLagMS, res.MaxLagMS)
	}
	r.WallSeconds = time.Since(began).Seconds()
	return r, nil
}
