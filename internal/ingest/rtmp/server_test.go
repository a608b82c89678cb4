package rtmp

import (
	"bytes"
	"context"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil"
)

// TestFFmpegPublish: every unit of the file arrives, in order, starting at a keyframe.
func TestFFmpegPublish(t *testing.T) {
	e := startServer(t, nil)
	path := testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Seconds: 4})
	tracks, want := testutil.LoadFLV(t, path)

	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", path,
		"-c", "copy", "-f", "flv", e.url("live/test?callback_x=1")).CombinedOutput()
	require.NoError(t, err, string(out))
	s := e.nextSink(t, time.Second)
	s.waitEnd(t, 5*time.Second)

	require.Equal(t, stream.Key{Domain: "127.0.0.1", App: "live", Stream: "test"}, s.pub.Req.Key)
	require.Equal(t, "1", s.pub.Req.Params.Get("callback_x"))

	got := s.snapshot()
	wantV, wantA := testutil.CountUnits(want)
	v, a := countKinds(got)
	require.Equal(t, wantV, v)
	require.Equal(t, wantA, a)
	requireSameUnits(t, want, got)
	checkDTS(t, got)
	for _, u := range got {
		if u.Track.IsVideo() {
			require.True(t, u.Keyframe, "first video unit must be a keyframe")
			require.Equal(t, tracks.Video.Width, u.Track.Width)
			require.Equal(t, tracks.Video.Height, u.Track.Height)
			break
		}
	}
	require.Less(t, s.batches, len(got), "units must be handed over in batches")
	m := e.srv.Metrics
	require.Equal(t, float64(v), promtest.ToFloat64(m.videoUnits))
	require.Equal(t, float64(a), promtest.ToFloat64(m.audioUnits))
	require.Greater(t, promtest.ToFloat64(m.bytesIn), float64(0))
	require.Equal(t, float64(1), promtest.ToFloat64(m.connections))
	require.Equal(t, float64(0), promtest.ToFloat64(m.publishers))
	require.Equal(t, float64(1), promtest.ToFloat64(m.closed.WithLabelValues(closedEOF)))
	t.Logf("%d units in %d batches", len(got), s.batches)
}

// requireSameUnits compares the data and keyframe flags of each track kind's units in order.
func requireSameUnits(t *testing.T, want, got []media.Unit) {
	t.Helper()
	for _, video := range []bool{true, false} {
		var w, g []media.Unit
		for _, u := range want {
			if u.Track.IsVideo() == video {
				w = append(w, u)
			}
		}
		for _, u := range got {
			if u.Track.IsVideo() == video {
				g = append(g, u)
			}
		}
		require.Equal(t, len(w), len(g))
		for i := range w {
			require.True(t, bytes.Equal(w[i].Data, g[i].Data), "video=%v unit %d differs", video, i)
			require.Equal(t, w[i].Keyframe, g[i].Keyframe, "video=%v unit %d", video, i)
		}
	}
}

// TestH265EnhancedRTMP: gortmplib publishes H.265 with Enhanced RTMP (FourCC hvc1).
func TestH265EnhancedRTMP(t *testing.T) {
	e := startServer(t, nil)
	path := testutil.RefStream(t, t.TempDir(), testutil.RefOptions{
		Seconds: 2, Codec: "libx265", Container: "hevc", NoAudio: true})
	tracks, want := testutil.LoadAnnexB(t, path, media.CodecH265, 30)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, testutil.Publish(ctx, e.url("live#hevc"),
		[]testutil.Segment{{Tracks: tracks, Units: want}}, testutil.PublishOptions{}))
	s := e.nextSink(t, time.Second)
	s.waitEnd(t, 5*time.Second)

	got := s.snapshot()
	require.Equal(t, len(want), len(got))
	require.True(t, got[0].Keyframe)
	for i, u := range got {
		require.Equal(t, media.CodecH265, u.Track.Codec)
		require.Equal(t, 1280, u.Track.Width)
		require.Equal(t, 720, u.Track.Height)
		require.Same(t, got[0].Track, u.Track, "unit %d: repeated parameters must keep the track", i)
		require.True(t, bytes.Equal(want[i].Data, u.Data), "unit %d", i)
	}
	checkDTS(t, got)
}

func TestIdentity(t *testing.T) {
	e := startServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	good := []struct {
		path   string
		key    stream.Key
		params map[string]string
	}{
		{"live?vhost=A.Example.com#test", stream.Key{Domain: "a.example.com", App: "live", Stream: "test"}, nil},
		{"live#test?domain=b.com&callback_y=2", stream.Key{Domain: "b.com", App: "live", Stream: "test"},
			map[string]string{"callback_y": "2"}},
		{"live?vhost=v.com#test?domain=d.com", stream.Key{Domain: "v.com", App: "live", Stream: "test"}, nil},
		{"Live#Te.st_~-1", stream.Key{Domain: "127.0.0.1", App: "Live", Stream: "Te.st_~-1"}, nil},
		{"live?record_config=%7B%7D#s", stream.Key{Domain: "127.0.0.1", App: "live", Stream: "s"},
			map[string]string{"record_config": "{}"}},
	}
	for _, tc := range good {
		require.NoError(t, testutil.Publish(ctx, e.url(tc.path), nil, testutil.PublishOptions{}), tc.path)
		s := e.nextSink(t, time.Second)
		require.Equal(t, tc.key, s.pub.Req.Key, tc.path)
		for k, v := range tc.params {
			require.Equal(t, v, s.pub.Req.Params.Get(k), tc.path)
		}
		s.waitEnd(t, 2*time.Second)
	}

	before := e.sinkCount()
	// Each refusal's status description tells the publisher what is wrong (names_test.go has
	// every wording); the log line says the same.
	bad := []struct{ path, desc string }{
		{"live#..", `invalid stream name "..": it may not be "." or contain ".."`},
		{"live#.", `invalid stream name ".": it may not`},
		{"live#a..b", `invalid stream name "a..b": it may not`},
		{"live#a/b", `invalid stream name "a/b": "/" is not allowed; use letters, digits`},
		{"live#", "missing stream name"},
		{"live#" + strings.Repeat("x", 129), "129 characters, at most 128"},
		{"live#te$t", `invalid stream name "te$t": "$" is not allowed`},
		{"live#te%20st", "is not allowed"},
		{"live/sub#test", `invalid app name "live/sub": "/" is not allowed`},
		{"li:ve#test", `invalid app name "li:ve": ":" is not allowed`},
		{"live?vhost=a/b#test", `invalid domain "a/b" from the vhost parameter: "/" is not allowed`},
		{strings.Repeat("a", 129) + "#test", `invalid app name "aaa`},
	}
	for _, tc := range bad {
		err := testutil.Publish(ctx, e.url(tc.path), nil, testutil.PublishOptions{})
		require.Error(t, err, tc.path)
		require.Contains(t, err.Error(), "NetStream.Publish.BadName", tc.path)
		require.Contains(t, err.Error(), tc.desc, tc.path)
		logged := strconv.Quote(tc.desc) // as slog's text handler quotes err
		e.waitLog(t, 2*time.Second, `err="bad_name: `, logged[1:len(logged)-1])
	}
	require.Equal(t, before, e.sinkCount(), "refused publishes must not reach the hub")
	require.Eventually(t, func() bool {
		return strings.Count(grepLines(e.logs.String(), "reason=bad_name"), "\n") == len(bad)
	}, 2*time.Second, 10*time.Millisecond, "each refusal is logged with its reason")
	require.Equal(t, float64(len(bad)), promtest.ToFloat64(e.srv.Metrics.rejected.WithLabelValues(reasonBadName)))

	// ffmpeg with the query before the stream name: the query belongs to the app.
	path := testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Seconds: 1})
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path,
		"-c", "copy", "-f", "flv", e.url("live?vhost=Ff.com/test2?callback_z=3")).CombinedOutput()
	require.NoError(t, err, string(out))
	s := e.nextSink(t, time.Second)
	require.Equal(t, stream.Key{Domain: "ff.com", App: "live", Stream: "test2"}, s.pub.Req.Key)
	require.Equal(t, "3", s.pub.Req.Params.Get("callback_z"))
	s.waitEnd(t, 2*time.Second)
}

func TestPlayRefused(t *testing.T) {
	e := startServer(t, nil)
	u, err := url.Parse(e.url("live#test"))
	require.NoError(t, err)
	c := &gortmplib.Client{URL: u, Publish: false}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = c.Initialize(ctx)
	require.Error(t, err)
	require.Contains(t, err.Error(), "NetStream.Play.Failed")
	e.waitLog(t, time.Second, "reason=play")
	require.Equal(t, float64(1), promtest.ToFloat64(e.srv.Metrics.rejected.WithLabelValues(reasonPlay)))
	require.Equal(t, 0, e.sinkCount())
}

// TestPublishWhileHubClosed: a publish the hub no longer takes (liverec is stopping) is told
// so, not just "refused".
func TestPublishWhileHubClosed(t *testing.T) {
	e := startServer(t, nil)
	e.hub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := testutil.Publish(ctx, e.url("live#late"), nil, testutil.PublishOptions{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "NetStream.Publish.Failed")
	require.Contains(t, err.Error(), "publish refused: the server is shutting down")
	e.waitLog(t, time.Second, "reason=error", "not accepting publishers")
	require.Equal(t, 0, e.sinkCount())
}

func grepLines(s, sub string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestBusyAndTakeover: a second publisher is refused while the first sends media, and takes
// over once the first has been silent for the hub's PublishIdleTimeout.
func TestBusyAndTakeover(t *testing.T) {
	e := startServer(t, func(_ *Config, h *stream.Hub) { h.PublishIdleTimeout = 300 * time.Millisecond })
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Seconds: 4}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	p1, err := dialPublisher(ctx, e.url("live#busy"), tracks)
	require.NoError(t, err)
	defer p1.close()
	s1 := e.nextSink(t, time.Second)

	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for _, u := range units {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if p1.write(u, u.DTS) != nil {
				return
			}
		}
	}()
	require.Eventually(t, func() bool { return s1.count() > 10 }, 3*time.Second, 10*time.Millisecond)

	_, err = dialPublisher(ctx, e.url("live#busy"), tracks)
	require.Error(t, err)
	require.Contains(t, err.Error(), "NetStream.Publish.BadName")
	require.Contains(t, err.Error(), `stream "busy" of app "live" is already being published by another connection`)
	e.waitLog(t, time.Second, "reason=busy")
	n := s1.count()
	require.Eventually(t, func() bool { return s1.count() > n+5 }, 2*time.Second, 10*time.Millisecond,
		"the first publisher must keep delivering")

	close(stop)
	<-stopped
	time.Sleep(400 * time.Millisecond) // silent longer than PublishIdleTimeout, connection open

	p2, err := dialPublisher(ctx, e.url("live#busy"), tracks)
	require.NoError(t, err)
	defer p2.close()
	s2 := e.nextSink(t, time.Second)
	s1.waitEnd(t, 2*time.Second)
	waitClosed(t, p1.c.NetConn(), 2*time.Second)
	e.waitLog(t, time.Second, "rtmp publish ended", "reason=kicked")

	for _, u := range units[:20] {
		require.NoError(t, p2.write(u, u.DTS))
	}
	require.Eventually(t, func() bool { return s2.count() > 0 }, 2*time.Second, 10*time.Millisecond)
}

// TestTimestamps: jumps forward, back, and a 32-bit wrap come out strictly increasing without
// gaps.
func TestTimestamps(t *testing.T) {
	e := startServer(t, nil)
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Seconds: 4}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	const wrap = time.Duration(1<<32) * time.Millisecond
	sent := func(_ int, dts time.Duration) time.Duration {
		switch {
		case dts < time.Second:
			return dts
		case dts < 2*time.Second:
			return dts + time.Hour
		case dts < 3*time.Second:
			return dts + time.Hour - 10*time.Second
		}
		return dts + wrap - 3500*time.Millisecond // wraps at 3.5 s
	}
	require.NoError(t, testutil.Publish(ctx, e.url("live#ts"),
		[]testutil.Segment{{Tracks: tracks, Units: units}},
		testutil.PublishOptions{Realtime: true, Timestamp: sent}))
	s := e.nextSink(t, time.Second)
	s.waitEnd(t, 5*time.Second)

	got := s.snapshot()
	wv, wa := testutil.CountUnits(units)
	gv, ga := countKinds(got)
	require.Equal(t, [2]int{wv, wa}, [2]int{gv, ga}, "video, audio units")
	steps := checkDTS(t, got)
	require.LessOrEqual(t, steps[1], 4*33*time.Millisecond, "largest video DTS step")
	require.LessOrEqual(t, steps[0], 4*33*time.Millisecond, "largest audio DTS step")
	last := got[len(got)-1].DTS
	require.InDelta(t, 4.0, last.Seconds(), 0.5, "the timeline keeps the media's duration")
}
