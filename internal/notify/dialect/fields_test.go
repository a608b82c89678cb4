package dialect

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

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

// emitted are events as the events package writes them: record events without file fields,
// file_started with what a start knows (its file ID, format, start, size and the object key it
// will have), file_completed of an audio-only file for which no download URL could be made.
func emitted() []*recording.OutboxEvent {
	var out []*recording.OutboxEvent
	for _, e := range allEvents() {
		var ev *recording.OutboxEvent
		switch e {
		case recording.EventFileStarted:
			ev = event(e)
			d := &ev.Data
			d.DownloadURL, d.Bytes, d.Duration, d.EndTime = "", 0, 0, nil
		case recording.EventFileCompleted:
			ev = event(e)
			ev.Data.DownloadURL, ev.Data.Width, ev.Data.Height = "", 0, 0
		case recording.EventFileDeleted:
			ev = event(e)
			ev.Data.DownloadURL, ev.Data.Reason = "", recording.DeleteRetention
		default:
			ev = recordEvent(e)
			if e == recording.EventRecordFailed || e == recording.EventOnDemandFailed {
				ev.Data.Reason = "upload to OBS failed"
			}
		}
		out = append(out, ev)
	}
	return out
}

// TestConditionalFieldsAreAbsent: no dialect sends a field as "" — what the seeds document as
// conditional is left out when its condition does not hold (asset_id and play_url without VOD,
// download_url without a URL, width/height without video), and what they show always is there.
func TestConditionalFieldsAreAbsent(t *testing.T) {
	now := time.Unix(1583676145, 0)
	for _, d := range []recording.Dialect{recording.DialectAliyun, recording.DialectHuawei, recording.DialectStandard} {
		cfg := config(d, subscribeAll, func(c *recording.CallbackConfig) { c.NeedStatusNotify = true })
		for _, ev := range emitted() {
			for _, key := range []string{"", huaweiKey} {
				req, ok, err := Encode(ev, cfg, key, now)
				require.NoError(t, err)
				if !ok {
					continue
				}
				var m map[string]any
				require.NoError(t, json.Unmarshal(req.Body, &m))
				require.Empty(t, emptyStrings(m, ""), "%s %s: %s", d, ev.Type, req.Body)
				require.NotContains(t, m, "asset_id", "%s %s", d, ev.Type)
				require.NotContains(t, m, "play_url", "%s %s", d, ev.Type)
				if d == recording.DialectHuawei && key != "" {
					// Absent fields are signed as "".
					require.NoError(t, huaweiVerify(m, cfg.SignType, key, now), "%s", req.Body)
				}
			}
		}
	}
}

// TestHuaweiJobIDNamesTheFile: RECORD_NEW_FILE_START carries job_id (seed 002), the same as the
// file's RECORD_FILE_COMPLETE: the file's ID. The other events carry none.
func TestHuaweiJobIDNamesTheFile(t *testing.T) {
	cfg := config(recording.DialectHuawei, subscribeAll)
	jobs := map[recording.Event]any{}
	for _, ev := range emitted() {
		req, ok, err := Encode(ev, cfg, "", time.Unix(0, 0))
		require.NoError(t, err)
		require.True(t, ok || huaweiEventType(ev.Type) == "", ev.Type)
		if !ok {
			continue
		}
		m := huaweiFields(t, req.Body)
		jobs[ev.Type] = m["job_id"]
		require.Equal(t, "51126d0ebe94b1da00d2e21a10xxxxxx", m["task_id"], "the recording")
	}
	require.Equal(t, "dc0a1773-0cef-xxxx-xxxx-9a38fdb095d2", jobs[recording.EventFileStarted])
	require.Equal(t, jobs[recording.EventFileStarted], jobs[recording.EventFileCompleted])
	for _, e := range []recording.Event{recording.EventRecordStarted, recording.EventRecordOver, recording.EventRecordFailed} {
		require.Nil(t, jobs[e], e)
	}
}

// TestStandardFileStartedNamesItsObject: file_started carries the file ID and where the file
// will be stored, the fields the file_completed event has for them.
func TestStandardFileStartedNamesItsObject(t *testing.T) {
	cfg := config(recording.DialectStandard)
	var data []map[string]any
	for _, ev := range emitted()[3:5] {
		req := mustEncode(t, Encoder{}, ev, cfg, "", time.Unix(0, 0))
		var m struct {
			Data map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal(req.Body, &m))
		data = append(data, m.Data)
	}
	for _, k := range []string{"file_id", "endpoint", "bucket", "object_key", "format"} {
		require.NotEmpty(t, data[0][k], k)
		require.Equal(t, data[1][k], data[0][k], k)
	}
	require.NotContains(t, data[0], "download_url")
	require.NotContains(t, data[1], "download_url", "no URL could be made")
	require.NotContains(t, data[1], "width", "audio only")
	require.Contains(t, data[1], "bytes")
}
