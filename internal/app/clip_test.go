package app

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/testutil"
)

// TestClipOfARecordedRange is acceptance 4 at the app's level: a clip of seconds 4–10 of a
// recorded stream is one MP4, moov first, ffprobe-clean, holding the frames of that range
// within one GOP at each end, stored like any file and reported by a file_completed event.
func TestClipOfARecordedRange(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 14, GOP: 30}) // 1 s GOP
	ta := startApp(t, "")
	r := cycleRule("127.0.0.1", "clipped", 0, 2)
	r.Formats = r.Formats[2:] // HLS, 2 s slices
	ta.putRule(t, r)
	publishFFmpeg(t, src, ta.rtmpURL("clipped/cam"))
	files := ta.waitFiles(t, "cam", 1)
	require.Len(t, files[recording.FormatHLS], 1)
	start := files[recording.FormatHLS][0].StartedAt

	from, to := start.Add(4*time.Second), start.Add(10*time.Second)
	resp := ta.apiRequest(t, http.MethodPost, "/api/v1/clips", strings.NewReader(fmt.Sprintf(
		`{"domain":"127.0.0.1","app":"clipped","stream":"cam","start_time":%q,"end_time":%q}`,
		from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	var clip service.FileView
	require.NoError(t, json.Unmarshal(body, &clip))
	require.Equal(t, recording.FormatMP4, clip.Format)
	require.Equal(t, recording.FileStored, clip.State)
	require.NotEmpty(t, clip.URL)

	path := ta.objectPath(clip.File)
	require.Equal(t, []string{"ftyp", "moov", "mdat"}, mp4Boxes(t, path), "moov first")
	v, a, _ := checkClean(t, path, fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
	// 6 s at 30 fps, give or take a GOP (30 frames) at each end.
	require.GreaterOrEqual(t, v, 6*30-2*30, "video frames")
	require.LessOrEqual(t, v, 6*30+2*30, "video frames")
	require.Positive(t, a)
	require.Equal(t, int64(v), clip.VideoFrames)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, fi.Size(), clip.Bytes, "the stored size")

	rec, err := ta.Store().RecordingGet(context.Background(), "default", clip.RecordingID)
	require.NoError(t, err)
	require.Equal(t, recording.ModeClip, rec.Mode)
	require.Equal(t, recording.RecordingOver, rec.State)
	evs, err := ta.Store().EventsOf(context.Background(), clip.RecordingID)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, recording.EventFileCompleted, evs[0].Type)
	require.Equal(t, clip.ObjectKey, evs[0].Data.ObjectKey)

	// Nothing recorded in the range: a clear refusal.
	resp = ta.apiRequest(t, http.MethodPost, "/api/v1/clips", strings.NewReader(fmt.Sprintf(
		`{"domain":"127.0.0.1","app":"clipped","stream":"cam","start_time":%q,"end_time":%q}`,
		start.Add(-time.Hour).Format(time.RFC3339), start.Add(-time.Minute).Format(time.RFC3339))))
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, string(body))
	require.Contains(t, string(body), "no recorded media")
}

// mp4Boxes lists the top-level box types of an MP4 file.
func mp4Boxes(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var types []string
	for p := 0; p+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[p:]))
		if size == 1 && p+16 <= len(b) {
			size = int(binary.BigEndian.Uint64(b[p+8:]))
		}
		require.GreaterOrEqual(t, size, 8, "box at %d", p)
		types = append(types, string(b[p+4:p+8]))
		p += size
	}
	return types
}
