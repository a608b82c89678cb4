package dialect

import (
	"crypto/md5"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// seedAliyunEvent carries the values of seed 001's recording generation callback.
func seedAliyunEvent() *recording.OutboxEvent {
	ev := event(recording.EventFileCompleted)
	ev.Data.Domain = "demo.aliyundoc.com"
	ev.Data.App = "liveApp****"
	ev.Data.Stream = "liveStream****"
	ev.Data.ObjectKey = "liveApp****/liveStream****/0_2017-03-08-23:09:46_2017-03-08-23:10:40.flv"
	ev.Data.Duration = 69403 * time.Millisecond
	ev.Data.StartTime = unix(1488985786)
	ev.Data.EndTime = unix(1488985840)
	ev.Data.PushArgs = map[string]string{"callback_myid": "1231389741", "callback_args1": "value1"}
	return ev
}

func TestAliyunFileGolden(t *testing.T) {
	req := mustEncode(t, Encoder{}, seedAliyunEvent(), config(recording.DialectAliyun), "", time.Unix(1488985841, 0))
	// Seed 001's sample, minified; push_args keys come out sorted.
	require.JSONEq(t, `{
	  "domain": "demo.aliyundoc.com",
	  "app": "liveApp****",
	  "stream": "liveStream****",
	  "uri": "liveApp****/liveStream****/0_2017-03-08-23:09:46_2017-03-08-23:10:40.flv",
	  "duration": 69.403,
	  "start_time": 1488985786,
	  "stop_time": 1488985840,
	  "push_args": {"callback_args1": "value1", "callback_myid": "1231389741"}
	}`, string(req.Body))
	require.Equal(t, `{"domain":"demo.aliyundoc.com","app":"liveApp****","stream":"liveStream****",`+
		`"uri":"liveApp****/liveStream****/0_2017-03-08-23:09:46_2017-03-08-23:10:40.flv","duration":69.403,`+
		`"start_time":1488985786,"stop_time":1488985840,"push_args":{"callback_args1":"value1","callback_myid":"1231389741"}}`,
		string(req.Body))
	requireFields(t, req.Body, map[string]string{"domain": "string", "app": "string", "stream": "string",
		"uri": "string", "duration": "number", "start_time": "int", "stop_time": "int", "push_args": "object"})
	require.Empty(t, req.Header.Get("Ali-Live-Timestamp"), "no key, no authentication headers (B.2)")
	require.Empty(t, req.Header.Get("Ali-Live-Signature"))
}

func TestAliyunFileEdges(t *testing.T) {
	ev := seedAliyunEvent()
	ev.Data.ObjectKey = "/app/s/0.flv"
	ev.Data.PushArgs = nil
	ev.Data.Duration = 1500*time.Millisecond + 400*time.Microsecond
	req := mustEncode(t, Encoder{}, ev, config(recording.DialectAliyun), "", time.Unix(0, 0))
	m := huaweiFields(t, req.Body)
	require.Equal(t, "app/s/0.flv", m["uri"], "uri has no leading slash (B.2)")
	require.Equal(t, map[string]any{}, m["push_args"], "push_args is an object even when empty")
	require.Contains(t, string(req.Body), `"duration":1.5,`, "milliseconds precision")
}

func TestAliyunStatusGolden(t *testing.T) {
	cfg := config(recording.DialectAliyun, func(c *recording.CallbackConfig) { c.NeedStatusNotify = true })
	for _, e := range []recording.Event{recording.EventRecordStarted, recording.EventRecordPaused, recording.EventRecordResumed} {
		ev := event(e)
		ev.Data.Domain, ev.Data.App, ev.Data.Stream = "gs_domain", "gs_app", "gs_stream"
		req := mustEncode(t, Encoder{}, ev, cfg, "", time.Unix(0, 0))
		// Seed 001's status sample, field for field.
		require.Equal(t, `{"domain":"gs_domain","app":"gs_app","stream":"gs_stream","event":"`+string(e)+`"}`, string(req.Body))
		requireFields(t, req.Body, map[string]string{"domain": "string", "app": "string", "stream": "string", "event": "string"})
	}
}

// aliyunVerify is an independent receiver-side check of ALI-LIVE-SIGNATURE (B.2).
func aliyunVerify(host, ts, key, sig string) bool {
	sum := md5.Sum([]byte(host + "|" + ts + "|" + key))
	return hex.EncodeToString(sum[:]) == sig
}

func TestAliyunSignature(t *testing.T) {
	// Known answers from md5sum(1) over B.2's example, with and without a port.
	require.Equal(t, "9e226fc2c250be266e3657e156f68c12", aliyunSign("learn.aliyundoc.com", "1519375990", "yourkey"))
	require.Equal(t, "eb53eb73722d68fcd6d6fb614173510b", aliyunSign("learn.aliyundoc.com:8080", "1519375990", "yourkey"))

	const key = "yourkey"
	now := time.Unix(1519375990, 0)
	for _, c := range []struct{ url, host string }{
		{"http://learn.aliyundoc.com/callback?x=1", "learn.aliyundoc.com"},
		{"https://learn.aliyundoc.com:8443/callback", "learn.aliyundoc.com:8443"},
		{"http://user:pw@10.0.0.7:8080", "10.0.0.7:8080"},
		{"http://[::1]:9000/cb", "[::1]:9000"},
	} {
		cfg := config(recording.DialectAliyun, func(cc *recording.CallbackConfig) { cc.URL = c.url; cc.NeedStatusNotify = true })
		for _, e := range []recording.Event{recording.EventFileCompleted, recording.EventRecordStarted} {
			req := mustEncode(t, Encoder{}, event(e), cfg, key, now)
			require.Equal(t, c.url, req.URL)
			require.Equal(t, "1519375990", req.Header.Get("ALI-LIVE-TIMESTAMP"))
			sig := req.Header.Get("ALI-LIVE-SIGNATURE")
			require.Len(t, sig, 32)
			require.True(t, aliyunVerify(c.host, "1519375990", key, sig), "%s signs host %s", c.url, c.host)
		}
	}

	// A URL without a host cannot be signed.
	for _, u := range []string{"/relative", "http://%zz"} {
		cfg := config(recording.DialectAliyun, func(c *recording.CallbackConfig) { c.URL = u })
		_, ok, err := Encode(event(recording.EventFileCompleted), cfg, key, now)
		require.Error(t, err, u)
		require.False(t, ok)
	}
}
