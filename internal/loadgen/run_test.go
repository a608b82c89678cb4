package loadgen

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// received is what the sink saw of one stream.
type received struct {
	name           string
	metadataFirst  bool
	configs        int
	video, audio   int
	videoDTS       []time.Duration
	audioDTS       []time.Duration
	firstKey       bool
	unpublished    bool
	afterGoodbye   int // media or data messages after FCUnpublish
	cleanEOF       bool
	err            error
	headersInOrder []string
}

// sink is an RTMP server built on gortmplib's ServerConn that records what publishers send.
type sink struct {
	t      *testing.T
	l      net.Listener
	reject bool
	// dropAfter closes each connection after that many media messages (0: never).
	dropAfter int

	wg      sync.WaitGroup
	mu      sync.Mutex
	streams map[string]*received
}

func newSink(t *testing.T) *sink {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &sink{t: t, l: l, streams: map[string]*received{}}
	s.wg.Go(s.accept)
	t.Cleanup(func() {
		l.Close()
		s.wg.Wait()
	})
	return s
}

func (s *sink) url() string { return "rtmp://" + s.l.Addr().String() + "/live" }

func (s *sink) accept() {
	for {
		nc, err := s.l.Accept()
		if err != nil {
			return
		}
		s.wg.Go(func() { s.serve(nc) })
	}
}

func (s *sink) serve(nc net.Conn) {
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	sc := &gortmplib.ServerConn{RW: nc}
	if err := sc.Initialize(); err != nil {
		return
	}
	if err := sc.AcceptConn(); err != nil {
		return
	}
	if s.reject {
		_ = sc.RejectAction()
		return
	}
	if err := sc.AcceptAction(); err != nil {
		return
	}
	r := &received{name: sc.URL.Path[strings.LastIndexByte(sc.URL.Path, '/')+1:]}
	s.mu.Lock()
	s.streams[r.name] = r
	s.mu.Unlock()
	n := 0
	for {
		msg, err := sc.Read()
		if err != nil {
			s.mu.Lock()
			r.cleanEOF = errors.Is(err, io.EOF)
			if !r.cleanEOF {
				r.err = err
			}
			s.mu.Unlock()
			return
		}
		s.mu.Lock()
		if _, isCmd := msg.(*message.CommandAMF0); r.unpublished && !isCmd {
			r.afterGoodbye++
		}
		switch m := msg.(type) {
		case *message.DataAMF0:
			r.metadataFirst = len(r.headersInOrder) == 0 && len(m.Payload) > 1 &&
				m.Payload[0] == "@setDataFrame" && m.Payload[1] == "onMetaData"
			r.headersInOrder = append(r.headersInOrder, "meta")
		case *message.Video:
			if m.Type == message.VideoTypeConfig {
				r.configs++
				r.headersInOrder = append(r.headersInOrder, "video")
				break
			}
			if r.video == 0 {
				r.firstKey = m.IsKeyFrame
			}
			r.video++
			r.videoDTS = append(r.videoDTS, m.DTS)
			n++
		case *message.Audio:
			if m.AACType == message.AudioAACTypeConfig {
				r.configs++
				r.headersInOrder = append(r.headersInOrder, "audio")
				break
			}
			r.audio++
			r.audioDTS = append(r.audioDTS, m.DTS)
			n++
		case *message.CommandAMF0:
			if m.Name == "FCUnpublish" {
				r.unpublished = true
			}
		}
		s.mu.Unlock()
		if s.dropAfter > 0 && n >= s.dropAfter {
			return
		}
	}
}

func (s *sink) get(name string) *received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[name]
}

// shortClip is a 1 s reference stream with a keyframe every 0.5 s, so a few seconds of
// publishing loop it several times.
func shortClip(t *testing.T) *Clip {
	fixtures := filepath.Join(os.TempDir(), "liverec-test-fixtures")
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 1, Width: 320, Height: 180, GOP: 15, Bitrate: "200k"})
	c, err := LoadFile(src)
	require.NoError(t, err)
	return c
}

func requireIncreasing(t *testing.T, what string, ts []time.Duration) {
	t.Helper()
	for i := 1; i < len(ts); i++ {
		require.Greater(t, ts[i], ts[i-1], "%s timestamp %d", what, i)
	}
}

// TestRunPublishes: every stream sends the headers once, then frames with strictly increasing
// timestamps across loop seams, exactly the counts it reports (and the clip's plan says),
// then FCUnpublish and a clean close.
func TestRunPublishes(t *testing.T) {
	clip := shortClip(t)
	s := newSink(t)
	cfg := Config{URL: s.url(), Streams: 4, Prefix: "t", Duration: 2200 * time.Millisecond,
		Ramp: 300 * time.Millisecond, Tick: 20 * time.Millisecond, Workers: 2}
	rep, err := Run(context.Background(), clip, cfg)
	require.NoError(t, err)
	wantV, wantA := clip.Frames(clip.StopAt(cfg.Duration))
	require.Greater(t, wantV, 2*clip.VideoPerLoop, "the run must cross loop seams")
	require.Equal(t, 4, rep.Total.OK, "%+v", rep.Streams)
	require.Equal(t, 4*wantV, rep.Total.VideoFrames)
	for i, sr := range rep.Streams {
		require.Equal(t, "t"+string(rune('0'+i)), sr.Name)
		require.True(t, sr.OK, sr.Error)
		require.Empty(t, sr.Error)
		require.Equal(t, wantV, sr.VideoFrames)
		require.Equal(t, wantA, sr.AudioFrames)
		require.NotEmpty(t, sr.Started)
		require.NotEmpty(t, sr.Ended)
		require.Positive(t, sr.Bytes)
		require.GreaterOrEqual(t, sr.MaxLagMS, 0.0)
		var r *received
		require.Eventually(t, func() bool {
			r = s.get(sr.Name)
			if r == nil {
				return false
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			return r.cleanEOF || r.err != nil
		}, 10*time.Second, 10*time.Millisecond)
		s.mu.Lock()
		require.NoError(t, r.err)
		require.True(t, r.cleanEOF, "the publisher half-closes after the goodbye")
		require.True(t, r.metadataFirst)
		require.Equal(t, []string{"meta", "video", "audio"}, r.headersInOrder, "headers are sent once, first")
		require.True(t, r.firstKey)
		require.Equal(t, wantV, r.video)
		require.Equal(t, wantA, r.audio)
		require.True(t, r.unpublished)
		require.Zero(t, r.afterGoodbye)
		requireIncreasing(t, "video", r.videoDTS)
		requireIncreasing(t, "audio", r.audioDTS)
		require.Equal(t, time.Duration(clip.Period)*time.Millisecond, r.videoDTS[clip.VideoPerLoop],
			"the second loop's keyframe comes one period after the first")
		s.mu.Unlock()
	}
}

func TestRunConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	rep, err := Run(context.Background(), shortClip(t), Config{URL: "rtmp://" + addr + "/live", Streams: 2,
		Prefix: "s", Duration: time.Second, ConnectTimeout: 2 * time.Second})
	require.NoError(t, err)
	require.Equal(t, 2, rep.Total.Failed)
	for _, sr := range rep.Streams {
		require.False(t, sr.OK)
		require.Contains(t, sr.Error, "connect")
		require.Empty(t, sr.Started)
	}
}

func TestRunPublishRejected(t *testing.T) {
	s := newSink(t)
	s.reject = true
	rep, err := Run(context.Background(), shortClip(t), Config{URL: s.url(), Streams: 1, Prefix: "s",
		Duration: time.Second})
	require.NoError(t, err)
	require.Equal(t, 1, rep.Total.Failed)
	require.Contains(t, rep.Streams[0].Error, "connect/publish")
}

// TestRunServerDrops: a server that closes the connection while the stream publishes fails it.
func TestRunServerDrops(t *testing.T) {
	s := newSink(t)
	s.dropAfter = 20
	rep, err := Run(context.Background(), shortClip(t), Config{URL: s.url(), Streams: 2, Prefix: "s",
		Duration: 3 * time.Second, Ramp: 0})
	require.NoError(t, err)
	require.Equal(t, 2, rep.Total.Failed, "%+v", rep.Streams)
	for _, sr := range rep.Streams {
		require.NotEmpty(t, sr.Started)
		require.True(t, strings.Contains(sr.Error, "connection lost") || strings.Contains(sr.Error, "write"), sr.Error)
	}
}

// TestRunInterrupted: cancelling the context ends every stream promptly, reported as failed.
func TestRunInterrupted(t *testing.T) {
	s := newSink(t)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	began := time.Now()
	rep, err := Run(ctx, shortClip(t), Config{URL: s.url(), Streams: 3, Prefix: "s", Duration: time.Minute,
		Ramp: 2 * time.Second})
	require.NoError(t, err)
	require.Less(t, time.Since(began), 30*time.Second)
	require.Equal(t, 3, rep.Total.Failed)
	for _, sr := range rep.Streams {
		require.Contains(t, sr.Error, "interrupted")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{URL: "rtmp://127.0.0.1:1935/live", Streams: 5, Prefix: "s", Duration: time.Minute, Ramp: 2 * time.Second}
	u, err := ok.Validate()
	require.NoError(t, err)
	require.Equal(t, "/live", u.Path)
	for want, mod := range map[string]func(c *Config){
		"--url is required":     func(c *Config) { c.URL = "" },
		"scheme must be rtmp":   func(c *Config) { c.URL = "http://x/live" },
		"no host":               func(c *Config) { c.URL = "rtmp:///live" },
		"no application":        func(c *Config) { c.URL = "rtmp://127.0.0.1:1935/" },
		"--streams 0":           func(c *Config) { c.Streams = 0 },
		"--streams 10001":       func(c *Config) { c.Streams = 10001 },
		"--prefix":              func(c *Config) { c.Prefix = "a/b" },
		"--duration 0s":         func(c *Config) { c.Duration = 0 },
		"--duration 25h0m0s":    func(c *Config) { c.Duration = 25 * time.Hour },
		"--ramp -1s":            func(c *Config) { c.Ramp = -time.Second },
		"--tick 2s":             func(c *Config) { c.Tick = 2 * time.Second },
		"--workers 1000":        func(c *Config) { c.Workers = 1000 },
		"--connect-timeout 1ms": func(c *Config) { c.ConnectTimeout = time.Millisecond },
	} {
		c := ok
		mod(&c)
		_, err := c.Validate()
		require.ErrorContains(t, err, want)
	}
}

// discardConn is a net.Conn that accepts every write (the methods the worker uses).
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error)      { return len(p), nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) Close() error                     { return nil }

// TestServiceNoAllocs: in steady state a worker sends a stream's due messages without
// allocating (the batch buffer is reused), across loop seams.
func TestServiceNoAllocs(t *testing.T) {
	clip := shortClip(t)
	w := &worker{clip: clip, stop: Pos(1 << 40), tick: time.Millisecond, wtime: time.Second}
	s := &stream{name: "s0", bye: goodbye("s0"), conn: discardConn{}, out: discardConn{}}
	// Started long ago: every call sends a few loops' worth; warm the buffer up first.
	s.start = time.Now().Add(-time.Hour)
	require.True(t, w.service(s))
	allocs := testing.AllocsPerRun(200, func() {
		s.start = s.start.Add(-100 * time.Millisecond) // 100 ms more are due on each call
		require.True(t, w.service(s))
	})
	require.Zero(t, allocs)
	require.Greater(t, s.video, 100*clip.VideoPerLoop/2, "the calls crossed many loop seams")
}
