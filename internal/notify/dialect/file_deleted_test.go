package dialect

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// TestFileDeleted: only the standard dialect carries file_deleted, with the file, its size and
// the reason; the cloud dialects have no such callback even when asked for every event.
func TestFileDeleted(t *testing.T) {
	now := time.Unix(1700000000, 0)
	ev := event(recording.EventFileDeleted)
	ev.Data.DownloadURL, ev.Data.Reason = "", recording.DeleteRetention

	req, ok, err := Encode(ev, config(recording.DialectStandard), "", now)
	require.NoError(t, err)
	require.True(t, ok)
	var body struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(req.Body, &body))
	require.Equal(t, "recording.file_deleted", body.Type)
	require.Equal(t, "retention", body.Data["reason"])
	require.Equal(t, ev.Data.FileID, body.Data["file_id"])
	require.Equal(t, ev.Data.ObjectKey, body.Data["object_key"])
	require.InDelta(t, float64(ev.Data.Bytes), body.Data["bytes"], 0)
	require.NotContains(t, body.Data, "download_url")

	for _, d := range []recording.Dialect{recording.DialectAliyun, recording.DialectHuawei} {
		cfg := config(d, subscribeAll, func(c *recording.CallbackConfig) { c.NeedStatusNotify = true })
		require.False(t, Subscribed(cfg, recording.EventFileDeleted), d)
		_, ok, err := Encode(ev, cfg, "", now)
		require.NoError(t, err)
		require.False(t, ok, d)
	}
}
