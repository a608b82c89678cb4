package compat

import (
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/live"
	"github.com/stretchr/testify/require"
)

// refStream makes a short H.264/AAC FLV with ffmpeg (keyframe every second).
func refStream(t *testing.T, seconds int) string {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "%s is required (the README's test command installs it)", tool)
	}
	out := filepath.Join(t.TempDir(), "ref.flv")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=640x360:rate=30:duration=%d", seconds),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=44100:duration=%d", seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0",
		"-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", out)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "ffmpeg: %s", b)
	return out
}

// TestAliyunRuleDrivesRecording is acceptance 4 of the management APIs issue: a rule written
// with the Alibaba SDK, custom OssObjectPrefix and SliceOssObjectPrefix included, then an
// ffmpeg publish, yields files at exactly the templated names.
func TestAliyunRuleDrivesRecording(t *testing.T) {
	s := startLiverec(t)
	c := aliyunClient(t, s, keyA, secretA, nil)
	const object = "rec/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"
	const slice = "slices/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}"
	req := addRecordConfig("127.0.0.1", "live",
		live.AddLiveAppRecordConfigRecordFormat{Format: "flv", OssObjectPrefix: object, CycleDuration: "15"},
		live.AddLiveAppRecordConfigRecordFormat{Format: "m3u8", OssObjectPrefix: object, SliceOssObjectPrefix: slice,
			SliceDuration: "5", CycleDuration: "15"})
	req.OssBucket = "videos"
	req.DelayTime = requests.NewInteger(15)
	_, err := c.AddLiveAppRecordConfig(req)
	require.NoError(t, err)

	before := time.Now().Add(-time.Second)
	src := refStream(t, 8)
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy",
		"-f", "flv", "rtmp://"+s.RTMP+"/live/cam").CombinedOutput()
	require.NoError(t, err, "ffmpeg publish: %s", out)
	after := time.Now().Add(time.Second)

	bucket := filepath.Join(s.Data, "buckets", "videos")
	var files []string
	require.Eventually(t, func() bool {
		files = files[:0]
		filepath.WalkDir(bucket, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(bucket, p)
				files = append(files, filepath.ToSlash(rel))
			}
			return nil
		})
		return len(files) >= 4 // flv, m3u8 and at least two 5 s slices
	}, 30*time.Second, 200*time.Millisecond, "recorded objects did not appear")

	stamp := `(\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)`
	fileRE := regexp.MustCompile(`^rec/live/cam/` + stamp + `_` + stamp + `\.(flv|m3u8)$`)
	sliceRE := regexp.MustCompile(`^slices/live/cam/(\d+)_(\d+)\.ts$`)
	seen := map[string]int{}
	for _, f := range files {
		if m := fileRE.FindStringSubmatch(f); m != nil {
			start, err := time.Parse("2006-01-02-15-04-05", m[1])
			require.NoError(t, err)
			end, err := time.Parse("2006-01-02-15-04-05", m[2])
			require.NoError(t, err)
			require.False(t, start.Before(before.Truncate(time.Second)) || end.After(after), "%s: times outside the publish", f)
			require.True(t, end.Sub(start) >= 6*time.Second, "%s spans the recording", f)
			seen[m[3]]++
			probeClean(t, filepath.Join(bucket, f))
			continue
		}
		m := sliceRE.FindStringSubmatch(f)
		require.NotNil(t, m, "object %q matches no template", f)
		unix, _ := strconv.ParseInt(m[1], 10, 64)
		require.True(t, unix >= before.Unix() && unix <= after.Unix(), "%s: {UnixTimestamp} outside the publish", f)
		seen["ts"]++
	}
	require.Equal(t, 1, seen["flv"], "files: %v", files)
	require.Equal(t, 1, seen["m3u8"], "files: %v", files)
	require.GreaterOrEqual(t, seen["ts"], 2, "files: %v", files)
}

func probeClean(t *testing.T, path string) {
	t.Helper()
	cmd := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", path)
	var stderr fsBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "ffprobe %s: %s", path, stderr)
	require.Empty(t, string(stderr), "ffprobe errors for %s", path)
	require.Contains(t, string(out), "h264", path)
	require.Contains(t, string(out), "aac", path)
}

type fsBuffer []byte

func (b *fsBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }
