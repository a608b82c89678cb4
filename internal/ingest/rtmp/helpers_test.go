package rtmp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/stream"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sink collects a publication's units (copied) for assertions.
type sink struct {
	pub *stream.Publication

	mu      sync.Mutex
	units   []media.Unit
	batches int
	kbps    float64
	ended   chan struct{}
	reason  error
}

func (s *sink) WriteBatch(b *stream.Batch) {
	s.mu.Lock()
	for _, u := range b.Units {
		u.Data = bytes.Clone(u.Data)
		s.units = append(s.units, u)
	}
	s.batches++
	s.mu.Unlock()
	b.Release()
}

func (s *sink) SetMetadata(kbps float64) {
	s.mu.Lock()
	s.kbps = kbps
	s.mu.Unlock()
}

func (s *sink) End(reason error) {
	s.mu.Lock()
	s.reason = reason
	s.mu.Unlock()
	close(s.ended)
}

func (s *sink) snapshot() []media.Unit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]media.Unit(nil), s.units...)
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.units)
}

func (s *sink) waitEnd(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-s.ended:
	case <-time.After(d):
		t.Fatalf("publication %v did not end within %v", s.pub.Req.Key, d)
	}
}

// logBuf is a concurrency-safe log capture.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// env is a running server with a hub whose sinks are collected.
type env struct {
	srv  *Server
	hub  *stream.Hub
	logs *logBuf
	addr string

	mu    sync.Mutex
	sinks []*sink
	added chan *sink
}

func startServer(t *testing.T, configure func(*Config, *stream.Hub)) *env {
	t.Helper()
	e := &env{logs: &logBuf{}, added: make(chan *sink, 16)}
	e.hub = &stream.Hub{Open: func(p *stream.Publication) stream.Sink {
		s := &sink{pub: p, ended: make(chan struct{})}
		e.mu.Lock()
		e.sinks = append(e.sinks, s)
		e.mu.Unlock()
		select {
		case e.added <- s:
		default:
		}
		return s
	}}
	cfg := Config{
		Addr: "127.0.0.1:0", Hub: e.hub,
		Logger:  slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics: NewMetrics(prometheus.NewRegistry()),
	}
	if configure != nil {
		configure(&cfg, e.hub)
	}
	var err error
	e.srv, err = NewServer(cfg)
	require.NoError(t, err)
	e.addr = e.srv.BoundAddr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
		e.hub.Close()
	})
	return e
}

func (e *env) url(path string) string { return "rtmp://" + e.addr + "/" + path }

func (e *env) nextSink(t *testing.T, d time.Duration) *sink {
	t.Helper()
	select {
	case s := <-e.added:
		return s
	case <-time.After(d):
		t.Fatalf("no publication within %v", d)
		return nil
	}
}

func (e *env) sinkCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.sinks)
}

// waitLog waits until the log holds a line with all the given substrings.
func (e *env) waitLog(t *testing.T, d time.Duration, subs ...string) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		for _, line := range strings.Split(e.logs.String(), "\n") {
			ok := true
			for _, s := range subs {
				ok = ok && strings.Contains(line, s)
			}
			if ok {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q within %v; log:\n%s", subs, d, e.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitClosed waits until the server closes a raw connection (a read returns an error).
func waitClosed(t *testing.T, nc net.Conn, d time.Duration) {
	t.Helper()
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(d)))
	buf := make([]byte, 4096)
	for {
		_, err := nc.Read(buf)
		if err != nil {
			var ne net.Error
			if ok := asNetErr(err, &ne); ok && ne.Timeout() {
				t.Fatalf("connection still open after %v", d)
			}
			return
		}
	}
}

func asNetErr(err error, ne *net.Error) bool {
	return errors.As(err, ne)
}

// checkDTS asserts strictly increasing DTS per track kind and returns the largest step.
func checkDTS(t *testing.T, units []media.Unit) (maxStep [2]time.Duration) {
	t.Helper()
	var last [2]time.Duration
	var have [2]bool
	for i, u := range units {
		k := 0
		if u.Track.IsVideo() {
			k = 1
		}
		if have[k] {
			require.Greater(t, u.DTS, last[k], fmt.Sprintf("unit %d (video=%v)", i, k == 1))
			maxStep[k] = max(maxStep[k], u.DTS-last[k])
		}
		last[k], have[k] = u.DTS, true
	}
	return maxStep
}

func countKinds(units []media.Unit) (video, audio int) {
	for _, u := range units {
		if u.Track.IsVideo() {
			video++
		} else {
			audio++
		}
	}
	return video, audio
}

// publisher is a gortmplib client publishing units one by one, for tests that need control
// over timing (silence, interleaving with bad connections).
type publisher struct {
	c      *gortmplib.Client
	w      *gortmplib.Writer
	vt, at *gortmplib.Track
	nalus  [][]byte
}

func dialPublisher(ctx context.Context, rawURL string, tracks media.Tracks) (*publisher, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	p := &publisher{c: &gortmplib.Client{URL: u, Publish: true}}
	if err := p.c.Initialize(ctx); err != nil {
		return nil, err
	}
	var ts []*gortmplib.Track
	if v := tracks.Video; v != nil {
		if v.Codec == media.CodecH265 {
			p.vt = &gortmplib.Track{Codec: &codecs.H265{VPS: v.VPS, SPS: v.SPS, PPS: v.PPS}}
		} else {
			p.vt = &gortmplib.Track{Codec: &codecs.H264{SPS: v.SPS, PPS: v.PPS}}
		}
		ts = append(ts, p.vt)
	}
	if a := tracks.Audio; a != nil {
		conf, err := a.AACConfig()
		if err != nil {
			p.c.Close()
			return nil, err
		}
		p.at = &gortmplib.Track{Codec: &codecs.MPEG4Audio{Config: conf}}
		ts = append(ts, p.at)
	}
	p.w = &gortmplib.Writer{Conn: p.c, Tracks: ts}
	if err := p.w.Initialize(); err != nil {
		p.c.Close()
		return nil, err
	}
	return p, nil
}

func (p *publisher) write(u media.Unit, dts time.Duration) error {
	pts := dts + u.PTS - u.DTS
	if !u.Track.IsVideo() {
		return p.w.WriteMPEG4Audio(p.at, dts, u.Data)
	}
	var err error
	if p.nalus, err = media.SplitAVCC(p.nalus[:0], u.Data); err != nil {
		return err
	}
	if u.Track.Codec == media.CodecH265 {
		return p.w.WriteH265(p.vt, pts, dts, p.nalus)
	}
	return p.w.WriteH264(p.vt, pts, dts, p.nalus)
}

func (p *publisher) close() { p.c.Close() }
