package app

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/testutil"
)

// TestCallbackFieldsMatchWhatWasStored: through a real publish, a Huawei and a standard
// configuration get file events whose fields are what was stored (issue 15, item 5):
// RECORD_NEW_FILE_START carries job_id, the same as its RECORD_FILE_COMPLETE and the File row's
// ID; file_started names the object key the file gets (its template has no end-time
// variables); the byte count is the stored object's size (a finalized MP4 is smaller than its
// fragmented spool file); no field is an empty string. Every stored HLS slice is in the
// catalogue with the wall time of its first frame.
func TestCallbackFieldsMatchWhatWasStored(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 5})
	ta := startApp(t, "")
	rule := cycleRule("127.0.0.1", "fields", 0, 2)
	for i := range rule.Formats {
		rule.Formats[i].ObjectTemplate = "{AppName}/{StreamName}/{Sequence}_{EscapedStartTime}"
	}
	ta.putRule(t, rule)
	hw, std := newReceiver(t), newReceiver(t)
	for _, body := range []string{
		`{"dialect":"huawei","domain":"127.0.0.1","app":"fields","url":"` + hw.srv.URL + `/hw",
		  "events":["file_started","file_completed","record_over"]}`,
		`{"dialect":"standard","domain":"127.0.0.1","app":"fields","url":"` + std.srv.URL + `/std"}`,
	} {
		resp := ta.apiRequest(t, http.MethodPost, "/api/v1/callbacks", strings.NewReader(body))
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode, string(b))
	}
	published := time.Now()
	publishFFmpeg(t, src, ta.rtmpURL("fields/cam"))
	files := ta.waitFiles(t, "cam", 3)
	byID := map[string]recording.File{}
	for _, fs := range files {
		require.Len(t, fs, 1)
		byID[fs[0].ID] = fs[0]
	}

	// Every stored slice is catalogued, each at its first frame's wall time, back to back.
	hls := files[recording.FormatHLS][0]
	slices, err := ta.Store().SliceList(context.Background(), store.SliceFilter{RecordingID: hls.RecordingID})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(slices), 2)
	var total int64
	for i, s := range slices {
		require.Equal(t, hls.Seq, s.FileSeq)
		require.Equal(t, "cam", s.Stream)
		fi, err := os.Stat(ta.objectPath(recording.File{Bucket: s.Bucket, ObjectKey: s.ObjectKey}))
		require.NoError(t, err)
		require.Equal(t, fi.Size(), s.Bytes, "slice %d", s.Seq)
		total += s.Bytes
		require.False(t, s.StartedAt.Before(published.Add(-time.Second)), "slice %d at %s", s.Seq, s.StartedAt)
		if i == 0 {
			require.WithinDuration(t, hls.StartedAt, s.StartedAt, time.Millisecond)
			continue
		}
		require.WithinDuration(t, slices[i-1].End(), s.StartedAt, 100*time.Millisecond, "slice %d follows", s.Seq)
	}
	require.Equal(t, hls.Bytes, total, "an HLS file's bytes are its slices'")
	// What a file event reports as its size: the stored object's, for HLS its slices'.
	size := func(f recording.File) int64 {
		if f.Format == recording.FormatHLS {
			return total
		}
		return ta.objectSize(t, f)
	}

	var hwGot, stdGot []received
	require.Eventually(t, func() bool {
		hwGot, stdGot = hw.snapshot(), std.snapshot()
		return len(hwGot) == 7 && len(stdGot) > 0 && stdGot[len(stdGot)-1].body["type"] == "recording.record_over"
	}, 60*time.Second, 100*time.Millisecond, "the receivers never got every event")

	for _, r := range append(append([]received(nil), hwGot...), stdGot...) {
		require.Empty(t, emptyStrings(r.body, ""), "%v", r.body)
	}
	// Huawei: job_id on both file events, the File row's ID; the size of the stored object.
	jobs := map[string][]string{}
	for _, r := range hwGot {
		typ := r.body["event_type"].(string)
		if typ == "RECORD_OVER" {
			require.NotContains(t, r.body, "job_id")
			continue
		}
		id, _ := r.body["job_id"].(string)
		f, ok := byID[id]
		require.True(t, ok, "%s job_id %q names a stored file", typ, id)
		jobs[id] = append(jobs[id], typ)
		if typ == "RECORD_FILE_COMPLETE" {
			require.EqualValues(t, size(f), r.body["file_size"], "%s file_size", f.Format)
			require.Equal(t, f.ObjectKey, r.body["obs_object"])
			require.EqualValues(t, 1280, f.Width, "the File row has the size")
		}
	}
	require.Len(t, jobs, 3)
	for id, typs := range jobs {
		require.Equal(t, []string{"RECORD_NEW_FILE_START", "RECORD_FILE_COMPLETE"}, typs, id)
	}

	// Standard: file_started names the file and the object it becomes; bytes are stored bytes.
	started := map[string]map[string]any{}
	for _, r := range stdGot {
		data := r.body["data"].(map[string]any)
		switch r.body["type"] {
		case "recording.file_started":
			started[data["file_id"].(string)] = data
		case "recording.file_completed":
			id := data["file_id"].(string)
			f := byID[id]
			s := started[id]
			require.NotNil(t, s, "file %s started", id)
			for _, k := range []string{"object_key", "endpoint", "bucket", "format"} {
				require.Equal(t, data[k], s[k], "%s %s at start", f.Format, k)
			}
			require.Equal(t, f.ObjectKey, s["object_key"])
			require.EqualValues(t, size(f), data["bytes"], "%s bytes", f.Format)
			require.Equal(t, f.Bytes, int64(data["bytes"].(float64)))
		}
	}
	require.Len(t, started, 3)

}

// objectSize is the size of a stored file's object.
func (ta *testApp) objectSize(t *testing.T, f recording.File) int64 {
	t.Helper()
	fi, err := os.Stat(ta.objectPath(f))
	require.NoError(t, err)
	return fi.Size()
}

// emptyStrings lists the paths of the "" strings in a JSON value.
func emptyStrings(v any, path string) []string {
	var out []string
	switch x := v.(type) {
	case string:
		if x == "" {
			out = append(out, path)
		}
	case map[string]any:
		for k, e := range x {
			out = append(out, emptyStrings(e, path+"."+k)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, emptyStrings(e, path+"[]")...)
		}
	}
	return out
}
