package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/conf"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/store/sqldb/sqldbtest"
	"github.com/liverec/liverec/internal/testutil"
)

// testEnv gives the test app an admin key the tests can use (LIVEREC_ACCESS_KEY_*).
var testEnv = map[string]string{
	"LIVEREC_ACCESS_KEY_ID":     "LRTESTADMINKEY00000000AA",
	"LIVEREC_ACCESS_KEY_SECRET": "testsecrettestsecrettestsecret",
}

// apiRequest sends a request to the native API with the test key.
func (ta *testApp) apiRequest(t *testing.T, method, path string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, ta.base+path, body)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(testEnv["LIVEREC_ACCESS_KEY_ID"], testEnv["LIVEREC_ACCESS_KEY_SECRET"])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

// fixtures caches reference streams across the tests of this package.
var fixtures = filepath.Join(os.TempDir(), "liverec-test-fixtures")

type testApp struct {
	*App
	cancel context.CancelFunc
	done   chan error
	data   string
	base   string
}

func startApp(t *testing.T, yaml string) *testApp {
	t.Helper()
	return startAppIn(t, t.TempDir(), yaml, "60s")
}

// startAppIn runs liverec on the data dir data (a restart when it was used before) with the
// config yaml and a shutdown timeout.
func startAppIn(t *testing.T, data, yaml, shutdownTimeout string) *testApp {
	t.Helper()
	require.NoError(t, os.MkdirAll(fixtures, 0o755))
	args := []string{"--data", data, "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0", "--shutdown-timeout", shutdownTimeout}
	if yaml != "" {
		p := filepath.Join(t.TempDir(), "liverec.yaml")
		require.NoError(t, os.WriteFile(p, []byte(yaml), 0o644))
		args = append(args, "--config", p)
	}
	c, err := conf.Load(args, func(k string) string { return testEnv[k] })
	require.NoError(t, err)
	seedDatabase(t, c)
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := New(context.Background(), c, log, io.Discard)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ta := &testApp{App: a, cancel: cancel, done: make(chan error, 1), data: data,
		base: "http://" + a.HTTPAddr().String()}
	go func() { ta.done <- a.Run(ctx) }()
	t.Cleanup(func() { ta.stop(t) })
	return ta
}

// seedDatabase gives a first start on SQLite a migrated database (a copy, see sqldbtest), as a
// second start finds it: the tests of first starts of real binaries are in cmd/liverec.
func seedDatabase(t *testing.T, c *conf.Config) {
	t.Helper()
	if c.DB != "" {
		return
	}
	path := filepath.Join(c.Data, "liverec.db")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		require.NoError(t, os.MkdirAll(c.Data, 0o755))
		sqldbtest.SeedSQLite(t, path)
	}
}

// stop shuts the app down gracefully (as SIGTERM does) and waits for Run to return.
func (ta *testApp) stop(t *testing.T) {
	if ta.cancel == nil {
		return
	}
	ta.cancel()
	ta.cancel = nil
	select {
	case err := <-ta.done:
		require.NoError(t, err)
	case <-time.After(90 * time.Second):
		t.Fatal("app did not stop")
	}
}

func (ta *testApp) rtmpURL(path string) string {
	return "rtmp://" + ta.RTMPAddr().String() + "/" + path
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// putRule writes a rule through the native API.
func (ta *testApp) putRule(t *testing.T, r recording.Rule) recording.Rule {
	t.Helper()
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(raw, &fields))
	for _, readOnly := range []string{"id", "project", "dialect", "created_at", "updated_at"} {
		delete(fields, readOnly)
	}
	body, err := json.Marshal(fields)
	require.NoError(t, err)
	resp := ta.apiRequest(t, http.MethodPost, "/api/v1/rules", bytes.NewReader(body))
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(b))
	var out recording.Rule
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// ffmpegPublisher returns an ffmpeg command that publishes src in real time to url; extra
// arguments go before the output.
func ffmpegPublisher(t *testing.T, src, url string, extra ...string) *exec.Cmd {
	t.Helper()
	testutil.RequireTool(t, "ffmpeg")
	args := append([]string{"-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy"}, extra...)
	return exec.Command("ffmpeg", append(args, "-f", "flv", url)...)
}

// publishFFmpeg publishes a file in real time with ffmpeg and waits for it to finish.
func publishFFmpeg(t *testing.T, src, url string) {
	t.Helper()
	out, err := ffmpegPublisher(t, src, url).CombinedOutput()
	require.NoError(t, err, "ffmpeg publish: %s", out)
}

// requireOneCleanFilePerFormat checks that each format recorded exactly one clean 720p
// H.264+AAC file holding wantV video frames (and wantA audio frames when wantA >= 0).
func (ta *testApp) requireOneCleanFilePerFormat(t *testing.T, files map[recording.Format][]recording.File, wantV, wantA int) {
	t.Helper()
	for _, format := range []recording.Format{recording.FormatFLV, recording.FormatMP4, recording.FormatHLS} {
		require.Len(t, files[format], 1, format)
		v, a, _ := checkClean(t, ta.objectPath(files[format][0]),
			fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
		require.Equal(t, wantV, v, format)
		if wantA >= 0 {
			require.Equal(t, wantA, a, format)
		}
	}
}

// waitFiles waits until the stream's recordings have at least n stored files and every one of
// its recordings is over, and returns the files by format.
func (ta *testApp) waitFiles(t *testing.T, stream string, n int) map[recording.Format][]recording.File {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx := context.Background()
		recs, _, err := ta.Store().RecordingList(ctx, store.RecordingFilter{Stream: stream})
		require.NoError(t, err)
		var files []recording.File
		over := len(recs) > 0
		for _, r := range recs {
			if r.State != recording.RecordingOver && r.State != recording.RecordingFailed {
				over = false
			}
			fs, _, err := ta.Store().FileList(ctx, store.FileFilter{RecordingID: r.ID})
			require.NoError(t, err)
			files = append(files, fs...)
		}
		if over && len(files) >= n {
			by := map[recording.Format][]recording.File{}
			for _, f := range files {
				by[f.Format] = append(by[f.Format], f)
			}
			for _, fs := range by {
				sort.Slice(fs, func(i, j int) bool { return fs[i].StartedAt.Before(fs[j].StartedAt) })
			}
			return by
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %d files of %s: have %d (recordings %+v)", n, stream, len(files), recs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (ta *testApp) objectPath(f recording.File) string {
	return filepath.Join(ta.data, "buckets", f.Bucket, filepath.FromSlash(f.ObjectKey))
}

// fileCheck is what a recorded file must look like.
type fileCheck struct {
	codec         string
	width, height int
	audio         bool
	video         bool
}

// checkClean applies §4's test of a file: no ffprobe error, the right codecs and size, a
// keyframe first, audio and video durations within 100 ms. It returns the packet counts.
func checkClean(t *testing.T, path string, want fileCheck) (video, audio int, dur float64) {
	t.Helper()
	pr := testutil.Probe(t, path)
	require.Empty(t, pr.Stderr, "ffprobe errors for %s", path)
	if want.video {
		v := pr.Video()
		require.NotNil(t, v, "%s has no video", path)
		require.Equal(t, want.codec, v.CodecName, path)
		require.Equal(t, want.width, v.Width, path)
		require.Equal(t, want.height, v.Height, path)
		video = v.Packets()
		require.True(t, testutil.KeyframeFirst(t, path), "%s does not start with a keyframe", path)
	} else {
		require.Nil(t, pr.Video(), path)
	}
	if want.audio {
		a := pr.Audio()
		require.NotNil(t, a, "%s has no audio", path)
		require.Equal(t, "aac", a.CodecName, path)
		audio = a.Packets()
	} else {
		require.Nil(t, pr.Audio(), path)
	}
	if want.audio && want.video {
		vt, at := testutil.FrameTimes(t, path, "v"), testutil.FrameTimes(t, path, "a")
		vd := vt[len(vt)-1] - vt[0]
		ad := at[len(at)-1] - at[0]
		require.Less(t, math.Abs(vd-ad), 0.1, "%s: video %.3fs vs audio %.3fs", path, vd, ad)
	}
	d, _ := fmt.Sscanf(pr.Format.Duration, "%g", &dur)
	_ = d
	return video, audio, dur
}

func recordingFilter(stream string) store.RecordingFilter {
	return store.RecordingFilter{Stream: stream}
}

// filesOnDisk lists the objects of the local buckets by extension.
func filesOnDisk(t *testing.T, data string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	root := filepath.Join(data, "buckets")
	if _, err := os.Stat(root); os.IsNotExist(err) {
		return out // nothing was ever stored
	}
	require.NoError(t, filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			out[filepath.Ext(p)] = append(out[filepath.Ext(p)], p)
		}
		return err
	}))
	return out
}
