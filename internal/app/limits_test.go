package app

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/conf"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/testutil"
)

// The tests of this file open thousands of sockets or measure the heap: they do not run in
// parallel with the others. 2,000 client and up to ~200 server sockets fit the usual
// RLIMIT_NOFILE of test machines (this one: 20,000); they check it rather than raise it.

// startLimitsApp is startApp with the log (info and above) also captured.
func startLimitsApp(t *testing.T, yaml string) (*testApp, *testutil.SyncBuffer) {
	t.Helper()
	data := t.TempDir()
	args := []string{"--data", data, "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0", "--shutdown-timeout", "60s"}
	if yaml != "" {
		p := filepath.Join(t.TempDir(), "liverec.yaml")
		require.NoError(t, os.WriteFile(p, []byte(yaml), 0o644))
		args = append(args, "--config", p)
	}
	c, err := conf.Load(args, func(k string) string { return testEnv[k] })
	require.NoError(t, err)
	logs := &testutil.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, logs), &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := New(context.Background(), c, log, io.Discard)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ta := &testApp{App: a, cancel: cancel, done: make(chan error, 1), data: data, base: "http://" + a.HTTPAddr().String()}
	go func() { ta.done <- a.Run(ctx) }()
	t.Cleanup(func() { ta.stop(t) })
	return ta, logs
}

// flvRule records the streams of app "live" on 127.0.0.1 to one FLV file per publication.
func flvRule() recording.Rule {
	return recording.Rule{Domain: "127.0.0.1", App: "live", Stream: "*", Mode: recording.ModeAuto,
		Formats: []recording.FormatConfig{{Format: recording.FormatFLV, CycleS: 3600, MergeWindowS: 0,
			ObjectTemplate: "{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"}},
		Storage: recording.Storage{Endpoint: "local", Bucket: "recordings"}}
}

// requireEveryFrame checks that the stream's FLV recording holds every video and audio frame of
// src, both counted by ffprobe.
func (ta *testApp) requireEveryFrame(t *testing.T, src, stream string) {
	t.Helper()
	want := testutil.Probe(t, src)
	files := ta.waitFiles(t, stream, 1)
	require.Len(t, files[recording.FormatFLV], 1)
	v, a, _ := checkClean(t, ta.objectPath(files[recording.FormatFLV][0]),
		fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
	require.Equal(t, want.Video().Packets(), v, "video frames")
	require.Equal(t, want.Audio().Packets(), a, "audio frames")
}

// metric returns the value of the sample with the given name and labels in /metrics, or -1.
func (ta *testApp) metric(t *testing.T, sample string) float64 {
	t.Helper()
	_, body := get(t, ta.base+"/metrics")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

// waitMetricAtLeast waits until sample reaches want.
func waitMetricAtLeast(t *testing.T, ta *testApp, sample string, want float64, msg string) {
	t.Helper()
	var last float64
	require.Eventually(t, func() bool { last = ta.metric(t, sample); return last >= want },
		30*time.Second, 50*time.Millisecond, "%s: %s stayed below %v", msg, sample, want)
	require.GreaterOrEqual(t, last, want, msg)
}

// flood opens n TCP connections to addr from the loopback address src, 32 dialing at once,
// within a minute. Every connection is closed when the test ends.
func flood(t *testing.T, src, addr string, n int) []net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	conns := make([]net.Conn, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := range next {
				conns[i], errs[i] = d.Dial("tcp", addr)
			}
		})
	}
	deadline := time.Now().Add(time.Minute)
	for i := 0; i < n && time.Now().Before(deadline); i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	for i, err := range errs {
		require.NoError(t, err, "connection %d", i)
		require.NotNil(t, conns[i], "connection %d was not dialed within a minute", i)
	}
	return conns
}

// trickle writes one byte of data to each connection every interval, in turn, until stop is
// closed (or 10 minutes passed); a connection the server closed is dropped.
func trickle(conns []net.Conn, data []byte, interval time.Duration, stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		sent := make([]int, len(conns))
		live := append([]net.Conn(nil), conns...)
		for range int(10 * time.Minute / interval) {
			for i, c := range live {
				if c == nil || sent[i] >= len(data) {
					continue
				}
				_ = c.SetWriteDeadline(time.Now().Add(interval))
				if _, err := c.Write(data[sent[i] : sent[i]+1]); err != nil {
					live[i] = nil
					continue
				}
				sent[i]++
			}
			select {
			case <-stop:
				return
			case <-time.After(interval):
			}
		}
	}()
	return done
}

// TestRTMPFloodFromOneAddress: 2,000 idle or slow connections from one address do not keep a
// real publisher out. With the default limits, 100 of them are held and the others closed at
// once (counted, one warning for the address); ffmpeg, from another address, publishes
// meanwhile and its recording holds every frame.
func TestRTMPFloodFromOneAddress(t *testing.T) {
	testutil.RequireTool(t, "ffmpeg")
	ta, logs := startLimitsApp(t, "")
	ta.putRule(t, flvRule())
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 8})

	conns := flood(t, "127.0.0.2", ta.RTMPAddr().String(), 2000)
	stop := make(chan struct{})
	// Half stay silent, half send their handshake a byte every 200 ms (C0, then C1's zeros).
	trickled := trickle(conns[1000:], append([]byte{3}, make([]byte, 1536)...), 200*time.Millisecond, stop)
	defer func() { close(stop); <-trickled }()

	// The dials complete in the kernel's backlog before the server accepts and refuses them.
	waitMetricAtLeast(t, ta, `liverec_rtmp_conns_refused_total{reason="max_conns_per_ip"}`, 1900,
		"at most 100 from one address are held")
	require.LessOrEqual(t, ta.metric(t, "liverec_rtmp_connections_open"), float64(100))

	publishFFmpeg(t, src, ta.rtmpURL("live/flooded"))
	ta.requireEveryFrame(t, src, "flooded")

	require.Equal(t, 1, refusalWarnings(logs.String(), "rtmp", "127.0.0.2"),
		"one warning for the address, the other refusals at debug")
}

// refusalWarnings counts the warnings about refused connections of listener from src.
func refusalWarnings(logs, listener, src string) int {
	n := 0
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "too many connections") &&
			strings.Contains(l, "listener="+listener) && strings.Contains(l, "remote="+src+":") {
			n++
		}
	}
	return n
}

// TestHTTPFloodFromOneAddress: 2,000 idle or slow-body connections from one address do not
// keep an API client from another address out.
func TestHTTPFloodFromOneAddress(t *testing.T) {
	ta, logs := startLimitsApp(t, "")
	addr := ta.HTTPAddr().String()

	conns := flood(t, "127.0.0.2", addr, 2000)
	head := "POST /api/v1/rules HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
	for _, c := range conns[1000:] { // half announce a body they then send a byte at a time
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = io.WriteString(c, head)
	}
	stop := make(chan struct{})
	trickled := trickle(conns[1000:], []byte(strings.Repeat("{", 100000)), 200*time.Millisecond, stop)
	defer func() { close(stop); <-trickled }()

	resp := ta.apiRequest(t, "GET", "/api/v1/rules", nil)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, "a client from another address is served")

	waitMetricAtLeast(t, ta, `liverec_http_conns_refused_total{reason="max_conns_per_ip"}`, 1900,
		"at most 100 from one address are held")
	require.LessOrEqual(t, ta.metric(t, "liverec_http_connections"), float64(102), "100 from the flood, the client's, /metrics'")
	require.Equal(t, 1, refusalWarnings(logs.String(), "http", "127.0.0.2"), "one warning for the address")
}

// TestHTTPSlowRequestsAreDropped: a client sending its body (or its header) slower than the
// read timeout allows is dropped once the timeout passes.
func TestHTTPSlowRequestsAreDropped(t *testing.T) {
	ta, _ := startLimitsApp(t, "api:\n  read_header_timeout: 1s\n  read_timeout: 2s\n")
	auth := "Basic " + basic(testEnv["LIVEREC_ACCESS_KEY_ID"], testEnv["LIVEREC_ACCESS_KEY_SECRET"])
	for _, tc := range []struct {
		name, head string
		timeout    time.Duration
	}{
		{"body", "POST /api/v1/rules HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth +
			"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", 2 * time.Second},
		{"header", "GET /api/v1/rules HTTP/1.1\r\nHost: x\r\n", time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// From before the dial: the server's timeout starts when it accepts, which may come
			// before this goroutine runs again after Dial returns.
			start := time.Now()
			c, err := net.Dial("tcp", ta.HTTPAddr().String())
			require.NoError(t, err)
			defer c.Close()
			_, err = io.WriteString(c, tc.head)
			require.NoError(t, err)
			stop := make(chan struct{})
			trickled := trickle([]net.Conn{c}, []byte(strings.Repeat(" ", 1000)), 100*time.Millisecond, stop)
			defer func() { close(stop); <-trickled }()

			// Whatever the server answers, it then closes the connection.
			require.NoError(t, c.SetReadDeadline(time.Now().Add(20*time.Second)))
			got, err := io.ReadAll(c)
			if err != nil {
				var ne net.Error
				require.False(t, errors.As(err, &ne) && ne.Timeout(), "still open after 20 s")
			}
			elapsed := time.Since(start)
			require.GreaterOrEqual(t, elapsed, tc.timeout, "closed before the timeout: %q", got)
			t.Logf("closed after %v; the server answered %q", elapsed.Round(10*time.Millisecond), firstLine(got))
			if tc.name == "body" {
				require.Contains(t, string(got), "HTTP/1.1 400", "the body that could not be read is a client error")
			}
		})
	}
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\r\n")
	return s
}

func basic(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))
}

// TestDownloadOutlastsWriteTimeout: a download taking longer than api.write_timeout (and
// api.read_timeout) is sent whole while the client reads; a client that stops reading is
// dropped after the timeout.
func TestDownloadOutlastsWriteTimeout(t *testing.T) {
	// A 3 s write timeout: a reader of the race-instrumented test process, on two loaded cores,
	// was seen not to be scheduled for 1 s, and the download was cut.
	ta, _ := startLimitsApp(t, "api:\n  write_timeout: 3s\n  read_timeout: 1s\n")
	const size = 48 << 20
	key := "big/object.flv"
	p := filepath.Join(ta.data, "buckets", "recordings", filepath.FromSlash(key))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 31 >> 7)
	}
	require.NoError(t, os.WriteFile(p, data, 0o644))
	link := ta.signedLink(context.Background(), "local", "recordings", key, time.Now().Add(time.Hour))

	open := func(t *testing.T) (net.Conn, *strings.Builder) {
		c, err := net.Dial("tcp", ta.HTTPAddr().String())
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		_, err = fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", strings.TrimPrefix(link, ta.base))
		require.NoError(t, err)
		return c, &strings.Builder{}
	}

	t.Run("slow reader", func(t *testing.T) {
		c, _ := open(t)
		start := time.Now()
		buf := make([]byte, 256<<10)
		var got []byte
		for paced := 0; time.Since(start) < 2*time.Minute; {
			require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
			n, err := c.Read(buf)
			got = append(got, buf[:n]...)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			if paced += n; paced >= 1<<20 {
				paced = 0
				time.Sleep(120 * time.Millisecond) // about 8 MiB/s: the download takes about 6 s
			}
		}
		elapsed := time.Since(start)
		_, body, ok := strings.Cut(string(got), "\r\n\r\n")
		require.True(t, ok)
		require.Equal(t, size, len(body))
		require.True(t, body == string(data), "the object arrived intact")
		require.Greater(t, elapsed, 4*time.Second, "the download outlasted the write timeout")
		t.Logf("%d MiB in %v", size>>20, elapsed.Round(10*time.Millisecond))
	})

	t.Run("stalled reader", func(t *testing.T) {
		before := ta.limits.gate.Open()
		c, _ := open(t)
		require.Eventually(t, func() bool { return ta.limits.gate.Open() == before+1 }, 5*time.Second, 10*time.Millisecond)
		start := time.Now()
		// Read nothing: the server fills the socket buffers, then its write times out.
		require.Eventually(t, func() bool { return ta.limits.gate.Open() == before }, 20*time.Second, 50*time.Millisecond,
			"the stalled download was not dropped")
		require.GreaterOrEqual(t, time.Since(start), 3*time.Second)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(20*time.Second)))
		got, _ := io.ReadAll(c)
		require.Less(t, len(got), size, "the download was cut")
	})
}

// unfinishedMessages is what one attacking connection sends: a handshake, a chunk size of
// 1 MiB, and on each of four chunk streams the first 4 MiB of a 10 MiB video message (the
// largest allowed): 16 MiB of messages that are never finished.
func unfinishedMessages() []byte {
	b := append([]byte{3}, make([]byte, 2*1536)...)
	b = append(b, 0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0) // Set Chunk Size, chunk stream 2
	b = binary.BigEndian.AppendUint32(b, 1<<20)
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	for csid := byte(4); csid < 8; csid++ {
		size := 10 << 20
		b = append(b, csid, 0, 0, 0, byte(size>>16), byte(size>>8), byte(size), 9, 1, 0, 0, 0) // type 0
		b = append(b, chunk...)
		for range 3 {
			b = append(append(b, 3<<6|csid), chunk...) // type 3: the message goes on
		}
	}
	return b
}
