package app

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

const (
	pubPrimary = "LiveRecPrimaryKey01"
	pubBackup  = "LiveRecBackupKey02"
)

// aliyunSigned signs rtmp URL path app/stream as Alibaba's type A does, independently of
// liverec's code: auth_key=ts-0-0-md5("/app/stream-ts-0-0-key").
func aliyunSigned(path, key string, ts int64) string {
	sum := md5.Sum(fmt.Appendf(nil, "/%s-%d-0-0-%s", path, ts, key))
	return fmt.Sprintf("%s?auth_key=%d-0-0-%s", path, ts, hex.EncodeToString(sum[:]))
}

// putPublishAuth sets a domain's publish authentication through the native API.
func (ta *testApp) putPublishAuth(t *testing.T, domain, body string) {
	t.Helper()
	resp := ta.apiRequest(t, http.MethodPut, "/api/v1/domains/"+domain+"/publish-auth", strings.NewReader(body))
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
}

// refusedCount reads liverec_publish_refused_total{reason} from /metrics.
func (ta *testApp) refusedCount(t *testing.T, reason string) string {
	t.Helper()
	_, metrics := get(t, ta.base+"/metrics")
	prefix := `liverec_publish_refused_total{reason="` + reason + `"} `
	for _, line := range strings.Split(metrics, "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return v
		}
	}
	t.Fatalf("no %s in /metrics", prefix)
	return ""
}

// requireRefused publishes src to path with ffmpeg and checks that liverec refused it.
func (ta *testApp) requireRefused(t *testing.T, src, path string) {
	t.Helper()
	out, err := ffmpegPublisher(t, src, ta.rtmpURL(path)).CombinedOutput()
	require.Error(t, err, "%s must be refused: %s", path, out)
	require.Contains(t, string(out), "publish not authorized", path)
}

// requireNothingRecorded checks that no recording and no object exists for stream.
func (ta *testApp) requireNothingRecorded(t *testing.T, stream string) {
	t.Helper()
	recs, _, err := ta.Store().RecordingList(context.Background(), recordingFilter(stream))
	require.NoError(t, err)
	require.Empty(t, recs, "%s started a recording", stream)
	for _, paths := range filesOnDisk(t, ta.data) {
		for _, p := range paths {
			require.NotContains(t, p, "/"+stream+"/", "%s left a file", stream)
		}
	}
}

// TestPublishAuthAliyun is the acceptance of publish authentication: with aliauth set for the
// domain, unsigned, expired, wrongly signed and other-stream-signed publishes are refused and
// record nothing, and publishes signed with the primary and with the backup key record every
// frame.
func TestPublishAuthAliyun(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	_, units := testutil.LoadFLV(t, src)
	wantV, wantA := testutil.CountUnits(units)
	ta := startApp(t, "")
	ta.putRule(t, cycleRule("127.0.0.1", "pa", 0, 2))
	ta.putPublishAuth(t, "127.0.0.1", `{"method":"aliyun_a","key":"`+pubPrimary+`","backup_key":"`+pubBackup+`","validity_s":1800}`)

	now := time.Now().Unix()
	ta.requireRefused(t, src, "pa/unsigned")
	ta.requireRefused(t, src, aliyunSigned("pa/expired", pubPrimary, now-1800-120))
	ta.requireRefused(t, src, aliyunSigned("pa/wrongkey", "SomeOtherKey99", now))
	ta.requireRefused(t, src, strings.Replace(aliyunSigned("pa/elsewhere", pubPrimary, now), "pa/elsewhere", "pa/stolen", 1))
	require.Equal(t, "1", ta.refusedCount(t, "missing"))
	require.Equal(t, "1", ta.refusedCount(t, "expired"))
	require.Equal(t, "2", ta.refusedCount(t, "bad_signature"))

	publishFFmpeg(t, src, ta.rtmpURL(aliyunSigned("pa/primary", pubPrimary, now)))
	publishFFmpeg(t, src, ta.rtmpURL(aliyunSigned("pa/backup", pubBackup, now)))
	for _, stream := range []string{"primary", "backup"} {
		files := ta.waitFiles(t, stream, 3)
		ta.requireOneCleanFilePerFormat(t, files, wantV, wantA)
		recs, _, err := ta.Store().RecordingList(context.Background(), recordingFilter(stream))
		require.NoError(t, err)
		require.NotContains(t, recs[0].Params, "auth_key", "credentials are no ingest parameter of a recording")
		for _, f := range files {
			for _, file := range f {
				require.NotContains(t, file.ObjectKey, "auth_key")
			}
		}
	}
	for _, stream := range []string{"unsigned", "expired", "wrongkey", "stolen"} {
		ta.requireNothingRecorded(t, stream)
	}
}

// decisions is a webhook that answers by stream name: allow, deny, or no answer until released.
type decisions struct {
	release chan struct{}
	mu      sync.Mutex
	asked   map[string]map[string]any
}

func (d *decisions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	stream, _ := body["stream"].(string)
	d.mu.Lock()
	d.asked[stream] = body
	d.mu.Unlock()
	switch stream {
	case "allowed":
		io.WriteString(w, `{"allow": true}`)
	case "hung":
		select {
		case <-d.release:
		case <-r.Context().Done():
		}
	default:
		io.WriteString(w, `{"allow": false, "reason": "not on the list"}`)
	}
}

func (d *decisions) request(stream string) map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.asked[stream]
}

// TestPublishAuthWebhook: the business server's deny refuses, its allow records every frame,
// and a webhook that never answers refuses once its configured timeout passes (fail closed).
func TestPublishAuthWebhook(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	_, units := testutil.LoadFLV(t, src)
	wantV, wantA := testutil.CountUnits(units)
	d := &decisions{release: make(chan struct{}), asked: map[string]map[string]any{}}
	hook := httptest.NewServer(d)
	defer hook.Close()
	defer close(d.release)
	ta := startApp(t, "")
	ta.putRule(t, cycleRule("127.0.0.1", "wh", 0, 2))
	const timeout = 700 * time.Millisecond
	ta.putPublishAuth(t, "127.0.0.1", fmt.Sprintf(`{"method":"webhook","webhook_url":"%s/publish","webhook_timeout_ms":%d}`,
		hook.URL, timeout.Milliseconds()))

	ta.requireRefused(t, src, "wh/denied?token=t1")
	require.Equal(t, "1", ta.refusedCount(t, "denied"), "decided by the deny, not by the timeout")
	asked := d.request("denied")
	require.Equal(t, "127.0.0.1", asked["domain"])
	require.Equal(t, "wh", asked["app"])
	require.Equal(t, map[string]any{"token": "t1"}, asked["params"])
	require.True(t, strings.HasPrefix(asked["client_addr"].(string), "127.0.0.1:"), asked["client_addr"])

	start := time.Now()
	ta.requireRefused(t, src, "wh/hung")
	require.GreaterOrEqual(t, time.Since(start), timeout, "refused once the timeout passed")
	require.Equal(t, "1", ta.refusedCount(t, "webhook_failed"))
	require.NotNil(t, d.request("hung"), "the webhook was asked")

	publishFFmpeg(t, src, ta.rtmpURL("wh/allowed?token=t2"))
	ta.requireOneCleanFilePerFormat(t, ta.waitFiles(t, "allowed", 3), wantV, wantA)
	ta.requireNothingRecorded(t, "denied")
	ta.requireNothingRecorded(t, "hung")
}

// TestPublishAuthDefaultClosesEveryDomain: domain "*" closes a fresh install; a domain's own
// "none" opens it again.
func TestPublishAuthDefaultClosesEveryDomain(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 2})
	_, units := testutil.LoadFLV(t, src)
	wantV, wantA := testutil.CountUnits(units)
	ta := startApp(t, "")
	ta.putRule(t, cycleRule("open.example.com", "def", 0, 2))
	ta.putRule(t, cycleRule("127.0.0.1", "def", 0, 2))
	ta.putPublishAuth(t, "*", `{"method":"huawei_d","key":"LiveRec0123456789abcdefABCDEF012","validity_s":3600}`)
	ta.putPublishAuth(t, "open.example.com", `{"method":"none"}`)

	ta.requireRefused(t, src, "def/closed")
	ta.requireNothingRecorded(t, "closed")
	publishFFmpeg(t, src, ta.rtmpURL("def/open?vhost=open.example.com"))
	ta.requireOneCleanFilePerFormat(t, ta.waitFiles(t, "open", 3), wantV, wantA)
}
