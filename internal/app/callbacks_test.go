package app

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// receiver records what a business server receives.
type receiver struct {
	mu   sync.Mutex
	reqs []received
	srv  *httptest.Server
}

type received struct {
	header http.Header
	body   map[string]any
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m), "callback body %s", b)
		r.mu.Lock()
		r.reqs = append(r.reqs, received{header: req.Header.Clone(), body: m})
		r.mu.Unlock()
		w.Write([]byte(`{"status":1,"result":"success"}`))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) snapshot() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

const callbackKey = "abcdefghijklmnopqrstuvwxyz012345"

// TestCallbacksDeliveredInDialects: a Huawei and an Alibaba callback configuration receive a
// recording's events, in order, signed, with the fields of the seed documents.
func TestCallbacksDeliveredInDialects(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	ta := startApp(t, "")
	ta.putRule(t, cycleRule("127.0.0.1", "cb", 0, 2))
	hw, ali := newReceiver(t), newReceiver(t)
	for _, body := range []string{
		`{"dialect":"huawei","domain":"127.0.0.1","app":"*","url":"` + hw.srv.URL + `/hook",
		  "events":["file_started","file_completed","record_over"],"sign_type":"HMACSHA256","key":"` + callbackKey + `"}`,
		`{"dialect":"aliyun","domain":"127.0.0.1","app":"cb","url":"` + ali.srv.URL + `/ali",
		  "need_status_notify":true,"key":"` + callbackKey + `"}`,
	} {
		resp := ta.apiRequest(t, http.MethodPost, "/api/v1/callbacks", strings.NewReader(body))
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode, string(b))
	}
	publishFFmpeg(t, src, ta.rtmpURL("cb/cam?callback_x=1&callback_x=2&other=3"))

	var hwGot []received
	require.Eventually(t, func() bool {
		hwGot = hw.snapshot()
		return len(hwGot) > 0 && hwGot[len(hwGot)-1].body["event_type"] == "RECORD_OVER"
	}, 60*time.Second, 100*time.Millisecond, "Huawei receiver never got RECORD_OVER")
	var types []string
	ids := map[string]bool{}
	for _, r := range hwGot {
		typ := r.body["event_type"].(string)
		types = append(types, typ)
		id := r.header.Get("X-Liverec-Event-Id")
		require.NotEmpty(t, id)
		require.False(t, ids[id], "one delivery per event")
		ids[id] = true
		// auth_sign by an independent implementation of the HMACSHA256 formula.
		str := func(k string) string { s, _ := r.body[k].(string); return s }
		mac := hmac.New(sha256.New, []byte(callbackKey))
		mac.Write([]byte(str("auth_timestamp") + typ + str("publish_domain") + str("app") + str("stream") + str("download_url") + ""))
		require.Equal(t, hex.EncodeToString(mac.Sum(nil)), r.body["auth_sign"], "auth_sign of %s", typ)
		require.Equal(t, "127.0.0.1", r.body["publish_domain"])
		require.Equal(t, "cb", r.body["app"])
		require.Equal(t, "cam", r.body["stream"])
	}
	require.Equal(t, []string{"RECORD_NEW_FILE_START", "RECORD_NEW_FILE_START", "RECORD_NEW_FILE_START",
		"RECORD_FILE_COMPLETE", "RECORD_FILE_COMPLETE", "RECORD_FILE_COMPLETE", "RECORD_OVER"}, types)
	for _, r := range hwGot[3:6] {
		for _, k := range []string{"record_format", "file_size", "record_duration", "start_time", "end_time", "width", "height", "obs_bucket", "obs_object"} {
			require.Contains(t, r.body, k)
		}
		require.EqualValues(t, 1280, r.body["width"])
		// download_url is liverec's own signed link to the local object.
		u := r.body["download_url"].(string)
		code, body := get(t, u)
		require.Equal(t, http.StatusOK, code, u)
		want, err := os.ReadFile(filepath.Join(ta.data, "buckets", r.body["obs_bucket"].(string), filepath.FromSlash(r.body["obs_object"].(string))))
		require.NoError(t, err)
		linkPath, _, signed := strings.Cut(u, "?")
		require.True(t, signed, "download_url has a query: %s", u)
		if strings.HasSuffix(linkPath, ".m3u8") {
			requireServedPlaylist(t, body, string(want)) // served with signed slice links
		} else {
			require.True(t, body == string(want), "download_url serves the object")
		}
		code, _ = get(t, strings.Replace(u, "signature=", "signature=00", 1))
		require.Equal(t, http.StatusForbidden, code, "a tampered link is refused")
	}

	var aliGot []received
	require.Eventually(t, func() bool {
		aliGot = ali.snapshot()
		return len(aliGot) >= 4
	}, 30*time.Second, 100*time.Millisecond, "Alibaba receiver got %d callbacks", len(aliGot))
	require.Equal(t, map[string]any{"domain": "127.0.0.1", "app": "cb", "stream": "cam", "event": "record_started"}, aliGot[0].body)
	host := strings.TrimPrefix(ali.srv.URL, "http://")
	for _, r := range aliGot {
		ts := r.header.Get("ALI-LIVE-TIMESTAMP")
		sum := md5.Sum([]byte(host + "|" + ts + "|" + callbackKey))
		require.Equal(t, hex.EncodeToString(sum[:]), r.header.Get("ALI-LIVE-SIGNATURE"))
	}
	files := ta.waitFiles(t, "cam", 3)
	uris := map[string]bool{}
	for _, fs := range files {
		for _, f := range fs {
			uris[f.ObjectKey] = true
		}
	}
	for _, r := range aliGot[1:] {
		require.Equal(t, map[string]any{"callback_x": "1"}, r.body["push_args"], "callback_ parameters only, first value")
		require.True(t, uris[r.body["uri"].(string)], "uri %v names a stored object", r.body["uri"])
		require.Greater(t, r.body["duration"].(float64), 3.0)
		require.Greater(t, r.body["stop_time"].(float64), r.body["start_time"].(float64))
	}
}
