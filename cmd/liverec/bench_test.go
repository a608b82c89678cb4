package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/loadgen"
	"github.com/liverec/liverec/internal/testutil"
)

// TestBenchFlags: invalid flags are refused with a clear message and exit status 2, before
// anything connects.
func TestBenchFlags(t *testing.T) {
	notFLV := filepath.Join(t.TempDir(), "x.flv")
	require.NoError(t, os.WriteFile(notFLV, []byte("not an flv file"), 0o644))
	ok := []string{"--url", "rtmp://127.0.0.1:1/live", "--streams", "2", "--duration", "1s", "--file", notFLV}
	with := func(extra ...string) []string { return append(append([]string(nil), ok...), extra...) }
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no url":         {[]string{"--streams", "2", "--file", notFLV}, "--url is required"},
		"bad scheme":     {with("--url", "http://127.0.0.1/live"), "scheme must be rtmp"},
		"no app":         {with("--url", "rtmp://127.0.0.1:1935"), "no application"},
		"zero streams":   {with("--streams", "0"), "--streams 0"},
		"bad duration":   {with("--duration", "-5s"), "--duration -5s"},
		"bad duration 2": {with("--duration", "soon"), "invalid value \"soon\" for flag -duration"},
		"bad prefix":     {with("--prefix", "a b"), "--prefix"},
		"bad ramp":       {with("--ramp", "2h"), "--ramp 2h0m0s"},
		"unknown flag":   {with("--bogus"), "flag provided but not defined: -bogus"},
		"extra argument": {with("extra"), "unexpected argument \"extra\""},
		"no file":        {[]string{"--url", "rtmp://127.0.0.1:1/live"}, "--file is required"},
		"missing file":   {with("--file", filepath.Join(t.TempDir(), "nope.flv")), "no such file"},
		"not flv":        {ok, "bad signature"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := benchMain(context.Background(), tc.args, &stdout, &stderr)
			require.Equal(t, 2, code, stderr.String())
			require.Contains(t, stderr.String(), tc.want)
			require.Empty(t, stdout.String())
		})
	}
}

// TestBenchRecords publishes 5 looping streams with the built binary's `bench --json` to a
// real liverec: every stream is reported ok, and each recorded FLV holds exactly the frames
// the stream reports having sent, and is ffprobe-clean.
func TestBenchRecords(t *testing.T) {
	fixtures := filepath.Join(os.TempDir(), "liverec-test-fixtures")
	// 4 s of video, so 6 s of publishing crosses the loop seam.
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4, Width: 640, Height: 360, Bitrate: "500k"})
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	rtmpAddr, httpAddr := freePort(t), freePort(t)
	p := startProc(t, bin, httpAddr, []string{"LIVEREC_DATA=" + data, "LIVEREC_RTMP=" + rtmpAddr, "LIVEREC_HTTP=" + httpAddr})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "bench", "--url", "rtmp://"+rtmpAddr+"/live", "--streams", "5",
		"--duration", "6s", "--ramp", "1s", "--file", src, "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "bench: %s\n%s", stderr.String(), stdout.String())
	var rep loadgen.Report
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep), stdout.String())
	require.Len(t, rep.Streams, 5)
	require.Equal(t, 5, rep.Total.OK)
	require.Positive(t, rep.CPUSeconds)

	// Let liverec finish the recordings, then stop it so every file is stored.
	p.waitMetrics(t, 20*time.Second, "\nliverec_rtmp_publishers 0\n")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
		require.NoError(t, p.err)
	case <-time.After(60 * time.Second):
		t.Fatal("liverec did not exit after SIGTERM")
	}

	for i, s := range rep.Streams {
		require.Equal(t, "s"+string(rune('0'+i)), s.Name)
		require.True(t, s.OK, s.Error)
		require.Greater(t, s.VideoFrames, 120, "%s: the 4 s file (120 frames) must have looped", s.Name)
		files, err := filepath.Glob(filepath.Join(data, "buckets", "recordings", "record", "live", s.Name, "*.flv"))
		require.NoError(t, err)
		require.Len(t, files, 1, "%s: one FLV recording", s.Name)
		pr := testutil.Probe(t, files[0])
		require.Empty(t, pr.Stderr, files[0])
		require.Equal(t, s.VideoFrames, pr.Video().Packets(), "%s: video frames recorded vs sent", s.Name)
		require.Equal(t, s.AudioFrames, pr.Audio().Packets(), "%s: audio frames recorded vs sent", s.Name)
		require.True(t, testutil.KeyframeFirst(t, files[0]), files[0])
	}
}
