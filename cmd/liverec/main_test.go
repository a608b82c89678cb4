package main

import (
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// TestMain stops the throw-away PostgreSQL server of the cluster tests and removes the shared
// binary, then checks for leaks.
func TestMain(m *testing.M) {
	testutil.PostgresMainThen(m, func() {
		if built.dir != "" {
			_ = os.RemoveAll(built.dir)
		}
	})
}

// built is the binary the tests of this process share: one go build (a link of ~3 s) instead
// of one per test.
var built struct {
	once sync.Once
	dir  string
	err  error
	out  []byte
}

// buildBinary returns the liverec binary built from this checkout, once per test process; the
// tests' parallel nodes run the same file.
func buildBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "liverec-bin-")
		if built.err == nil {
			// -buildvcs=true: stamp the commit even where GOFLAGS says otherwise, for `version`.
			built.out, built.err = exec.Command("go", "build", "-buildvcs=true", "-o", filepath.Join(built.dir, "liverec"), ".").CombinedOutput()
		}
	})
	require.NoError(t, built.err, "go build: %s", built.out)
	return filepath.Join(built.dir, "liverec")
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(buildBinary(t), "version").Output()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(out), "liverec "), string(out))
}

// TestNewcomer is the newcomer path of §2: an empty data dir and no configuration, one ffmpeg
// publish to live/test, SIGTERM: clean FLV, MP4 and HLS files in the recordings bucket, the MP4
// with its moov box before mdat.
func TestNewcomer(t *testing.T) {
	fixtures := filepath.Join(os.TempDir(), "liverec-test-fixtures")
	require.NoError(t, os.MkdirAll(fixtures, 0o755))
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 6})
	_, units := testutil.LoadFLV(t, src)
	wantVideo, wantAudio := testutil.CountUnits(units)

	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	rtmpAddr, httpAddr := freePort(t), freePort(t)
	p := startProc(t, bin, httpAddr, []string{"LIVEREC_DATA=" + data, "LIVEREC_RTMP=" + rtmpAddr, "LIVEREC_HTTP=" + httpAddr})
	require.Equal(t, 1, strings.Count(p.logs.String(), "LIVEREC_ACCESS_KEY_SECRET="),
		"a fresh data dir gets one admin key, printed once (§2)")
	_, httpPort, err := net.SplitHostPort(httpAddr)
	require.NoError(t, err)
	require.Contains(t, p.logs.String(), "console at http://HOST:"+httpPort+"/console/", "the newcomer is told where to sign in")

	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy",
		"-f", "flv", "rtmp://"+rtmpAddr+"/live/test").CombinedOutput()
	require.NoError(t, err, "ffmpeg: %s", out)

	// ffmpeg is done once it has written everything; let liverec read the tail of the stream
	// before stopping it, or the stop would cut the last frames.
	p.waitMetrics(t, 20*time.Second, "\nliverec_rtmp_publishers 0\n")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
		require.NoError(t, p.err, "liverec must exit 0 after SIGTERM")
	case <-time.After(60 * time.Second):
		t.Fatal("liverec did not exit after SIGTERM")
	}

	found := map[string][]string{}
	bucket := filepath.Join(data, "buckets", "recordings")
	require.NoError(t, filepath.WalkDir(bucket, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			found[filepath.Ext(p)] = append(found[filepath.Ext(p)], p)
		}
		return err
	}))
	for _, ext := range []string{".flv", ".mp4", ".m3u8"} {
		require.Len(t, found[ext], 1, "one %s file expected, found %v", ext, found)
		p := found[ext][0]
		pr := testutil.Probe(t, p)
		require.Empty(t, pr.Stderr, p)
		require.Equal(t, "h264", pr.Video().CodecName, p)
		require.Equal(t, 1280, pr.Video().Width, p)
		require.Equal(t, 720, pr.Video().Height, p)
		require.Equal(t, wantVideo, pr.Video().Packets(), p)
		require.Equal(t, wantAudio, pr.Audio().Packets(), p)
	}
	require.NotEmpty(t, found[".ts"])
	require.Equal(t, []string{"ftyp", "moov", "mdat"}, topBoxes(t, found[".mp4"][0]))
	entries, err := os.ReadDir(filepath.Join(data, "spool"))
	require.NoError(t, err)
	for _, e := range entries {
		left, _ := filepath.Glob(filepath.Join(data, "spool", e.Name(), "*", "*"))
		require.Empty(t, left, "spool must be empty once everything is stored")
	}
}

// topBoxes lists the top-level box types of an MP4 file.
func topBoxes(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var types []string
	for p := 0; p+8 <= len(b); {
		size := int(b[p])<<24 | int(b[p+1])<<16 | int(b[p+2])<<8 | int(b[p+3])
		typ := string(b[p+4 : p+8])
		if size == 1 && p+16 <= len(b) {
			size = 0
			for _, c := range b[p+8 : p+16] {
				size = size<<8 | int(c)
			}
		}
		require.Greater(t, size, 7, "box %q at %d", typ, p)
		types = append(types, typ)
		p += size
	}
	return types
}
