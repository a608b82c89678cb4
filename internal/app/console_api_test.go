package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/testutil"
)

// apiJSON sends an API request with the test key to base+path and decodes the answer of the
// expected status into v (nil: not decoded).
func apiJSON(t *testing.T, base, method, path, body string, status int, v any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(testEnv["LIVEREC_ACCESS_KEY_ID"], testEnv["LIVEREC_ACCESS_KEY_SECRET"])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, status, resp.StatusCode, string(b))
	if v != nil {
		require.NoError(t, json.Unmarshal(b, v), string(b))
	}
}

// TestConsoleTestEventIsSignedAsARealOne: "send a test event" delivers one Huawei-dialect
// file_completed to the configuration's receiver, whose auth_sign verifies by the HMACSHA256
// formula (checked as TestCallbacksDeliveredInDialects checks real events), and the delivery
// is logged as delivered.
func TestConsoleTestEventIsSignedAsARealOne(t *testing.T) {
	t.Parallel()
	ta := startApp(t, "")
	hw := newReceiver(t)
	var cb recording.CallbackConfig
	apiJSON(t, ta.base, http.MethodPost, "/api/v1/callbacks", `{"dialect":"huawei","domain":"console.example","app":"*",
		"url":"`+hw.srv.URL+`/hook","sign_type":"HMACSHA256","key":"`+callbackKey+`"}`, http.StatusCreated, &cb)

	var sent struct {
		EventID    string `json:"event_id"`
		DeliveryID string `json:"delivery_id"`
	}
	apiJSON(t, ta.base, http.MethodPost, "/api/v1/callbacks/"+cb.ID+"/test", "", http.StatusAccepted, &sent)
	require.NotEmpty(t, sent.DeliveryID)

	var got []received
	require.Eventually(t, func() bool {
		got = hw.snapshot()
		return len(got) > 0
	}, 30*time.Second, 50*time.Millisecond, "the receiver never got the test event")
	r := got[0]
	require.Equal(t, sent.EventID, r.header.Get("X-Liverec-Event-Id"))
	str := func(k string) string { s, _ := r.body[k].(string); return s }
	require.Equal(t, "RECORD_FILE_COMPLETE", str("event_type"))
	require.Equal(t, "console.example", str("publish_domain"))
	require.Equal(t, "live", str("app"), `"*" is sent as an example app`)
	require.Equal(t, "liverec_test", str("stream"))
	require.True(t, strings.HasPrefix(str("task_id"), "test_"), str("task_id"))
	require.True(t, strings.HasSuffix(str("obs_object"), ".mp4"), str("obs_object"))
	mac := hmac.New(sha256.New, []byte(callbackKey))
	mac.Write([]byte(str("auth_timestamp") + str("event_type") + str("publish_domain") + str("app") + str("stream") + str("download_url") + ""))
	require.Equal(t, hex.EncodeToString(mac.Sum(nil)), str("auth_sign"))

	var d recording.Delivery
	require.Eventually(t, func() bool {
		apiJSON(t, ta.base, http.MethodGet, "/api/v1/deliveries/"+sent.DeliveryID, "", http.StatusOK, &d)
		return d.State == recording.DeliveryDelivered
	}, 10*time.Second, 50*time.Millisecond, "the test delivery is logged as delivered")
	require.Equal(t, cb.ID, d.CallbackID)
	require.Len(t, hw.snapshot(), 1, "one delivery only")
}

// TestAPILinksPointWhereTheCallerCameFrom: without storage.download_base_url, the URLs the
// API answers point at the host the request reached (a browser's "localhost:PORT"), not the
// listen address, and they serve the files. The rule preview names objects as the uploader
// does.
func TestAPILinksPointWhereTheCallerCameFrom(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 3})
	ta := startApp(t, "")
	ta.putRule(t, cycleRule("127.0.0.1", "links", 0, 2))
	publishFFmpeg(t, src, ta.rtmpURL("links/cam"))
	id := waitRecording(t, ta, "cam")

	_, port, err := net.SplitHostPort(ta.HTTPAddr().String())
	require.NoError(t, err)
	base := "http://localhost:" + port
	var detail struct {
		StartedAt time.Time  `json:"started_at"`
		EndedAt   *time.Time `json:"ended_at"`
		Files     []struct {
			Format    string `json:"format"`
			ObjectKey string `json:"object_key"`
			Bucket    string `json:"bucket"`
			URL       string `json:"url"`
		} `json:"files"`
	}
	apiJSON(t, base, http.MethodGet, "/api/v1/recordings/"+id, "", http.StatusOK, &detail)
	require.Len(t, detail.Files, 3)
	for _, f := range detail.Files {
		require.True(t, strings.HasPrefix(f.URL, base+"/download/"), f.URL)
		code, body := get(t, f.URL)
		require.Equal(t, http.StatusOK, code, f.URL)
		if f.Format == string(recording.FormatHLS) {
			// The playlist's slice links point at the same host.
			require.Contains(t, body, base+"/download/")
			require.NotContains(t, body, "127.0.0.1")
			continue
		}
		want, err := os.ReadFile(filepath.Join(ta.data, "buckets", f.Bucket, filepath.FromSlash(f.ObjectKey)))
		require.NoError(t, err)
		require.True(t, body == string(want), "the link serves the stored %s file", f.Format)
	}

	// A clip made through that host still reports, to callback servers, the configured link
	// base: its event is stored and sent, and the caller's host means nothing to a receiver.
	require.NotNil(t, detail.EndedAt)
	var clip struct {
		RecordingID string `json:"recording_id"`
		URL         string `json:"url"`
	}
	apiJSON(t, base, http.MethodPost, "/api/v1/clips", fmt.Sprintf(`{"domain":"127.0.0.1","app":"links","stream":"cam",
		"start_time":%q,"end_time":%q}`, detail.StartedAt.Format(time.RFC3339Nano), detail.EndedAt.Format(time.RFC3339Nano)),
		http.StatusCreated, &clip)
	require.True(t, strings.HasPrefix(clip.URL, base+"/download/"), "the answer's link: the caller's host: %s", clip.URL)
	var clipRec struct {
		Events []recording.OutboxEvent `json:"events"`
	}
	apiJSON(t, base, http.MethodGet, "/api/v1/recordings/"+clip.RecordingID, "", http.StatusOK, &clipRec)
	require.Len(t, clipRec.Events, 1)
	require.True(t, strings.HasPrefix(clipRec.Events[0].Data.DownloadURL, ta.base+"/download/"),
		"the event's link: the listen address: %s", clipRec.Events[0].Data.DownloadURL)

	var p struct {
		Objects map[string]string `json:"objects"`
	}
	apiJSON(t, ta.base, http.MethodPost, "/api/v1/rules/preview", `{"domain":"*","app":"*",
		"formats":[{"format":"mp4","object_template":"v/{Domain}/{AppName}/{StreamName}/{Sequence}"},{"format":"hls"}],
		"storage":{"base_path":"pre"}}`, http.StatusOK, &p)
	require.Equal(t, "pre/v/example.com/live/mystream/0.mp4", p.Objects["mp4"])
	require.Regexp(t, `^pre/record/live/mystream/\d{4}(-\d\d){5}_\d{4}(-\d\d){5}\.m3u8$`, p.Objects["hls"])
	require.Regexp(t, `^pre/record/live/mystream/\d+_0\.ts$`, p.Objects["hls_slice"])
}
