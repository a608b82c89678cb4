package dialect

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// The Standard Webhooks test vector (reference B.8).
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = "1614265330"
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// verifyWebhook is a receiver written from the spec text, not from the encoder: webhook-id,
// webhook-timestamp within ±5 min, secret = base64 after whsec_ (raw bytes otherwise, as
// liverec documents), HMAC-SHA256 over "id.timestamp.body", standard base64, any of the
// space-separated v1 signatures, constant-time comparison.
func verifyWebhook(secret string, h http.Header, body []byte, now time.Time) error {
	id, tsStr, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || tsStr == "" || sigs == "" {
		return errors.New("missing webhook headers")
	}
	ts, err := strconv.ParseInt(tsStr, 10, 64)
	if err != nil {
		return fmt.Errorf("bad timestamp: %w", err)
	}
	if d := now.Unix() - ts; d > 300 || d < -300 {
		return errors.New("timestamp outside tolerance")
	}
	key := []byte(secret)
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if key, err = base64.StdEncoding.DecodeString(rest); err != nil {
			return err
		}
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + tsStr + "." + string(body)))
	want := []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	for _, s := range strings.Split(sigs, " ") {
		if v, sig, ok := strings.Cut(s, ","); ok && v == "v1" && hmac.Equal([]byte(sig), want) {
			return nil
		}
	}
	return errors.New("no matching signature")
}

func TestStandardTestVector(t *testing.T) {
	sig, err := standardSign(vecSecret, vecID, vecTS, []byte(vecBody))
	require.NoError(t, err)
	require.Equal(t, vecSig, sig)

	// The reference verifier agrees with the spec's vector, so it is a fair judge below.
	h := http.Header{}
	h.Set("webhook-id", vecID)
	h.Set("webhook-timestamp", vecTS)
	h.Set("webhook-signature", "v1,bm90IGl0 "+vecSig)
	require.NoError(t, verifyWebhook(vecSecret, h, []byte(vecBody), time.Unix(1614265330, 0)))
	require.Error(t, verifyWebhook(vecSecret, h, []byte(`{"test": 2432232315}`), time.Unix(1614265330, 0)))
}

func TestStandardSignedDelivery(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for _, secret := range []string{vecSecret, "abcdefghijklmnopqrstuvwxyz012345"} {
		for _, e := range allEvents() {
			ev := event(e)
			req := mustEncode(t, Encoder{}, ev, config(recording.DialectStandard), secret, now)
			require.Equal(t, ev.ID, req.Header.Get("webhook-id"))
			require.Equal(t, "1700000000", req.Header.Get("webhook-timestamp"))
			require.NoError(t, verifyWebhook(secret, req.Header, req.Body, now), "%s %s", secret, e)
			require.Error(t, verifyWebhook(secret, req.Header, append([]byte(" "), req.Body...), now), "tampered body")
			require.Error(t, verifyWebhook(secret, req.Header, req.Body, now.Add(6*time.Minute)), "stale attempt")
			require.Error(t, verifyWebhook("whsec_"+base64.StdEncoding.EncodeToString([]byte("other")), req.Header, req.Body, now))
		}
	}
}

func TestStandardUnsignedAndBadSecret(t *testing.T) {
	now := time.Unix(1700000000, 0)
	req := mustEncode(t, Encoder{}, event(recording.EventRecordOver), config(recording.DialectStandard), "", now)
	require.Equal(t, "evt_2KWPBgLlAfxdpx2AI54pPJ85f4W", req.Header.Get("webhook-id"))
	require.Equal(t, "1700000000", req.Header.Get("webhook-timestamp"))
	require.NotContains(t, req.Header, "Webhook-Signature")

	for _, bad := range []string{"whsec_not*base64", "whsec_"} {
		_, ok, err := Encode(event(recording.EventRecordOver), config(recording.DialectStandard), bad, now)
		require.Error(t, err, bad)
		require.False(t, ok)
	}
	ev := event(recording.EventRecordOver)
	ev.ID = "evt.1"
	_, _, err := Encode(ev, config(recording.DialectStandard), vecSecret, now)
	require.ErrorContains(t, err, "'.'")
}

func TestStandardGolden(t *testing.T) {
	cfg := config(recording.DialectStandard)
	now := time.Unix(1700000000, 0)
	const common = `"seq":4,"project_id":"70b76xxxxxx34253880af501cdxxxxxx","recording_id":"51126d0ebe94b1da00d2e21a10xxxxxx",` +
		`"domain":"push.example.com","app":"live","stream":"mystream","push_args":{"callback_myid":"1231389741"}`
	const file = `"format":"hls","file_id":"dc0a1773-0cef-xxxx-xxxx-9a38fdb095d2","endpoint":"https://obs.cn-north-4.myhuaweicloud.com",` +
		`"bucket":"mybucket","object_key":"live/record-xxxx-mystream-1589967495/record-hwpublish.myun.tv-live-mystream-1589967495.m3u8"`
	env := func(e recording.Event, data string) string {
		return `{"type":"recording.` + string(e) + `","timestamp":"2020-03-08T14:12:26.500Z","data":{"event":"` + string(e) + `",` + data + `}}`
	}
	failed := recordEvent(recording.EventOnDemandFailed)
	failed.Data.Reason = "on-demand url answered 500"
	noArgs := recordEvent(recording.EventRecordStarted)
	noArgs.Data.PushArgs = nil
	for _, c := range []struct {
		ev   *recording.OutboxEvent
		want string
	}{
		{recordEvent(recording.EventRecordStarted), env(recording.EventRecordStarted, common)},
		{recordEvent(recording.EventRecordPaused), env(recording.EventRecordPaused, common)},
		{event(recording.EventFileStarted), env(recording.EventFileStarted, common+","+file)},
		{event(recording.EventFileCompleted), env(recording.EventFileCompleted, common+","+file+
			`,"download_url":"https://obs.cn-north-4.myhuaweicloud.com/live/record-xxxx-mystream-1589967495/record-push.example.com-live-mystream-1589967495.m3u8",`+
			`"bytes":3957964,"duration":120,"start_time":"2020-03-08T14:10:25.000Z","end_time":"2020-03-08T14:12:25.000Z","width":1280,"height":720`)},
		{recordEvent(recording.EventRecordFailed), env(recording.EventRecordFailed, common+`,"reason":""`)},
		{failed, env(recording.EventOnDemandFailed, common+`,"reason":"on-demand url answered 500"`)},
		{noArgs, env(recording.EventRecordStarted, strings.Replace(common, `{"callback_myid":"1231389741"}`, `{}`, 1))},
	} {
		req := mustEncode(t, Encoder{}, c.ev, cfg, vecSecret, now)
		require.Equal(t, c.want, string(req.Body), c.ev.Type)
		requireFields(t, req.Body, map[string]string{"type": "string", "timestamp": "string", "data": "object"})
	}
}

// TestStandardCarriesCloudFields: every field either cloud dialect sends for an event has its
// counterpart, with the same value, in the standard envelope's data.
func TestStandardCarriesCloudFields(t *testing.T) {
	now := time.Unix(1700000000, 0)
	all := func(d recording.Dialect) *recording.CallbackConfig {
		return config(d, func(c *recording.CallbackConfig) { c.NeedStatusNotify = true; c.Events = allEvents() })
	}
	parse := func(b []byte) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		return m
	}
	rfc := func(v any) int64 {
		tm, err := time.Parse(time.RFC3339, v.(string))
		require.NoError(t, err)
		return tm.Unix()
	}
	huaweiTS := func(v any) int64 {
		tm, err := time.Parse(huaweiTime, v.(string))
		require.NoError(t, err)
		return tm.Unix()
	}
	for _, e := range allEvents() {
		ev := event(e)
		ev.Data.Reason = "why"
		env := parse(mustEncode(t, Encoder{}, ev, all(recording.DialectStandard), "", now).Body)
		require.Equal(t, "recording."+string(e), env["type"])
		data := env["data"].(map[string]any)
		require.Equal(t, 4.0, data["seq"])

		if req, ok, err := Encode(ev, all(recording.DialectAliyun), "", now); ok {
			require.NoError(t, err)
			a := parse(req.Body)
			for _, k := range []string{"domain", "app", "stream"} {
				require.Equal(t, a[k], data[k], k)
			}
			if e == recording.EventFileCompleted {
				require.Equal(t, a["uri"], data["object_key"])
				require.Equal(t, a["duration"], data["duration"])
				require.Equal(t, int64(a["start_time"].(float64)), rfc(data["start_time"]))
				require.Equal(t, int64(a["stop_time"].(float64)), rfc(data["end_time"]))
				require.Equal(t, a["push_args"], data["push_args"])
			} else {
				require.Equal(t, a["event"], data["event"])
			}
		}
		req, ok, err := Encode(ev, all(recording.DialectHuawei), "", now)
		require.NoError(t, err)
		if !ok {
			continue
		}
		h := parse(req.Body)
		pairs := map[string]string{"project_id": "project_id", "task_id": "recording_id", "publish_domain": "domain",
			"app": "app", "stream": "stream", "job_id": "file_id", "download_url": "download_url",
			"file_size": "bytes", "width": "width", "height": "height", "obs_location": "endpoint",
			"obs_bucket": "bucket", "obs_object": "object_key", "error_message": "reason"}
		for hk := range h {
			switch hk {
			case "event_type", "asset_id":
			case "record_format":
				require.Equal(t, h[hk], strings.ToUpper(data["format"].(string)))
			case "record_duration":
				require.Equal(t, h[hk], data["duration"])
			case "start_time", "end_time":
				require.Equal(t, huaweiTS(h[hk]), rfc(data[hk]), hk)
			default:
				sk, ok := pairs[hk]
				require.True(t, ok, "huawei field %s has no standard counterpart", hk)
				require.Equal(t, h[hk], data[sk], hk)
			}
		}
	}
}
