package dialect

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

const huaweiKey = "abcdefghijklmnopqrstuvwxyz012345"

// huaweiFields parses a body generically.
func huaweiFields(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m), "%s", body)
	return m
}

// recordEvent is an event of a whole recording: no file fields.
func recordEvent(e recording.Event) *recording.OutboxEvent {
	ev := event(e)
	d := &ev.Data
	d.FileID, d.Format, d.Endpoint, d.Bucket, d.ObjectKey, d.DownloadURL = "", "", "", "", "", ""
	d.Bytes, d.Duration, d.StartTime, d.EndTime, d.Width, d.Height = 0, 0, nil, nil, 0, 0
	return ev
}

func TestHuaweiFileCompleteGolden(t *testing.T) {
	cfg := config(recording.DialectHuawei, func(c *recording.CallbackConfig) { c.SignType = recording.SignMD5 })
	// Sent 600 s before seed 002's auth_timestamp, so the default expiry reproduces it.
	req := mustEncode(t, Encoder{}, event(recording.EventFileCompleted), cfg, huaweiKey, time.Unix(1583676145, 0))
	require.Equal(t, `{"project_id":"70b76xxxxxx34253880af501cdxxxxxx","job_id":"dc0a1773-0cef-xxxx-xxxx-9a38fdb095d2",`+
		`"task_id":"51126d0ebe94b1da00d2e21a10xxxxxx","event_type":"RECORD_FILE_COMPLETE","publish_domain":"push.example.com",`+
		`"app":"live","stream":"mystream","record_format":"HLS",`+
		`"download_url":"https://obs.cn-north-4.myhuaweicloud.com/live/record-xxxx-mystream-1589967495/record-push.example.com-live-mystream-1589967495.m3u8",`+
		`"file_size":3957964,"record_duration":120,"start_time":"2020-03-08T14:10:25Z","end_time":"2020-03-08T14:12:25Z",`+
		`"width":1280,"height":720,"obs_location":"https://obs.cn-north-4.myhuaweicloud.com","obs_bucket":"mybucket",`+
		`"obs_object":"live/record-xxxx-mystream-1589967495/record-hwpublish.myun.tv-live-mystream-1589967495.m3u8",`+
		`"auth_sign":"ac726d261ce45b787dc246982198042f","auth_timestamp":"1583676745"}`, string(req.Body))
	// Seed 002's fields and types; asset_id and play_url are VOD-only and liverec has no VOD
	// hosting.
	requireFields(t, req.Body, map[string]string{
		"project_id": "string", "job_id": "string", "task_id": "string", "event_type": "string",
		"publish_domain": "string", "app": "string", "stream": "string", "record_format": "string",
		"download_url": "string", "file_size": "int", "record_duration": "int",
		"start_time": "string", "end_time": "string", "width": "int", "height": "int",
		"obs_location": "string", "obs_bucket": "string", "obs_object": "string",
		"auth_sign": "string", "auth_timestamp": "string",
	})
	// Huawei signs in the body only.
	require.Len(t, req.Header, 3)
}

func TestHuaweiOtherEventsGolden(t *testing.T) {
	cfg := config(recording.DialectHuawei, subscribeAll)
	const head = `{"project_id":"70b76xxxxxx34253880af501cdxxxxxx",`
	const ids = `"task_id":"51126d0ebe94b1da00d2e21a10xxxxxx",`
	const stream = `"publish_domain":"push.example.com","app":"live","stream":"mystream"`
	failed := recordEvent(recording.EventRecordFailed)
	failed.Data.Reason = "upload to OBS failed"
	started := event(recording.EventFileStarted)
	started.Data.Format = recording.FormatMP4
	for _, c := range []struct {
		ev   *recording.OutboxEvent
		want string
	}{
		{recordEvent(recording.EventRecordStarted), head + ids + `"event_type":"RECORD_START",` + stream + `}`},
		{started, head + `"job_id":"dc0a1773-0cef-xxxx-xxxx-9a38fdb095d2",` + ids +
			`"event_type":"RECORD_NEW_FILE_START",` + stream + `,"record_format":"MP4"}`},
		{recordEvent(recording.EventRecordOver), head + ids + `"event_type":"RECORD_OVER",` + stream + `}`},
		{failed, head + ids + `"event_type":"RECORD_FAILED",` + stream + `,"error_message":"upload to OBS failed"}`},
	} {
		req := mustEncode(t, Encoder{}, c.ev, cfg, "", time.Unix(1583676145, 0))
		require.Equal(t, c.want, string(req.Body), c.ev.Type)
	}
	// error_message is present on RECORD_FAILED even without a reason.
	req := mustEncode(t, Encoder{}, recordEvent(recording.EventRecordFailed), cfg, "", time.Unix(0, 0))
	require.Contains(t, string(req.Body), `"error_message":""`)
}

// huaweiVerify is an independent receiver: it reads the parsed body, rejects an expired
// auth_timestamp (an expiry, B.4 / note 2) and recomputes auth_sign with absent fields as "".
func huaweiVerify(m map[string]any, signType, key string, now time.Time) error {
	str := func(k string) string { s, _ := m[k].(string); return s }
	ts := str("auth_timestamp")
	exp, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("auth_timestamp %q: %w", ts, err)
	}
	if now.Unix() > exp {
		return fmt.Errorf("expired at %d", exp)
	}
	var want string
	switch signType {
	case recording.SignMD5:
		sum := md5.Sum([]byte(key + ts))
		want = hex.EncodeToString(sum[:])
	default:
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(ts + str("event_type") + str("publish_domain") + str("app") + str("stream") +
			str("download_url") + str("play_url")))
		want = hex.EncodeToString(mac.Sum(nil))
	}
	if str("auth_sign") != want {
		return fmt.Errorf("auth_sign %s, want %s", str("auth_sign"), want)
	}
	return nil
}

func TestHuaweiSignatures(t *testing.T) {
	now := time.Unix(1583676145, 0)
	// Known answers from md5sum(1) and openssl dgst -hmac.
	require.Equal(t, "ac726d261ce45b787dc246982198042f", huaweiMD5(huaweiKey, "1583676745"))
	require.Equal(t, "a78502fefe07d5dee94796a949f3fbb160b7a3f3337ee47c7de90dfc0e1e675f",
		huaweiHMAC(huaweiKey, "1583676745", "RECORD_FILE_COMPLETE", "push.example.com", "live", "mystream", "https://obs.example.com/a.m3u8", ""))

	hmacCfg := config(recording.DialectHuawei, func(c *recording.CallbackConfig) {
		c.SignType = recording.SignHMACSHA256
		c.Events = allEvents()
	})
	req := mustEncode(t, Encoder{}, event(recording.EventFileCompleted), hmacCfg, huaweiKey, now)
	m := huaweiFields(t, req.Body)
	require.Equal(t, "235d1166e570325907273d3e9ba0a2bcaeb09c7d86de442758a33f749755b024", m["auth_sign"])
	require.NoError(t, huaweiVerify(m, recording.SignHMACSHA256, huaweiKey, now))

	// RECORD_START has no download_url: it is signed as "" (openssl known answer).
	req = mustEncode(t, Encoder{}, recordEvent(recording.EventRecordStarted), hmacCfg, huaweiKey, now)
	m = huaweiFields(t, req.Body)
	require.NotContains(t, m, "download_url")
	require.Equal(t, "3fab15f5497f1eb90d336555b0f4d5fe57af9103d0f17d564cedde4bedf367ac", m["auth_sign"])
	require.NoError(t, huaweiVerify(m, recording.SignHMACSHA256, huaweiKey, now))

	// Every event, both types, verified by the independent receiver; an empty sign type is HMAC.
	for _, st := range []string{recording.SignMD5, recording.SignHMACSHA256, ""} {
		cfg := config(recording.DialectHuawei, func(c *recording.CallbackConfig) { c.SignType = st; c.Events = allEvents() })
		for _, e := range allEvents() {
			enc, ok, err := Encode(event(e), cfg, huaweiKey, now)
			require.NoError(t, err)
			if !ok {
				continue
			}
			fields := huaweiFields(t, enc.Body)
			hexLen := 64
			if st == recording.SignMD5 {
				hexLen = 32
			}
			require.Len(t, fields["auth_sign"], hexLen)
			require.NoError(t, huaweiVerify(fields, st, huaweiKey, now), "%s %s", st, e)
			require.NoError(t, huaweiVerify(fields, st, huaweiKey, now.Add(600*time.Second)), "valid until the expiry")
			require.Error(t, huaweiVerify(fields, st, huaweiKey, now.Add(601*time.Second)), "expired after it")
			require.Error(t, huaweiVerify(fields, st, "another-key", now))
		}
	}

	// Without a key neither auth field is sent.
	req = mustEncode(t, Encoder{}, event(recording.EventFileCompleted), hmacCfg, "", now)
	m = huaweiFields(t, req.Body)
	require.NotContains(t, m, "auth_sign")
	require.NotContains(t, m, "auth_timestamp")
}

func TestHuaweiExpiryOption(t *testing.T) {
	now := time.Unix(1700000000, 0)
	cfg := config(recording.DialectHuawei, func(c *recording.CallbackConfig) { c.SignType = recording.SignMD5 })
	req := mustEncode(t, Encoder{HuaweiExpiry: 30 * time.Second}, event(recording.EventFileCompleted), cfg, huaweiKey, now)
	m := huaweiFields(t, req.Body)
	require.Equal(t, "1700000030", m["auth_timestamp"])
	require.NoError(t, huaweiVerify(m, recording.SignMD5, huaweiKey, now))

	_, ok, err := Encoder{HuaweiExpiry: -time.Second}.Encode(event(recording.EventFileCompleted), cfg, huaweiKey, now)
	require.ErrorContains(t, err, "negative huawei expiry")
	require.False(t, ok)
	// Unsigned deliveries have no expiry to check.
	_, ok, err = Encoder{HuaweiExpiry: -time.Second}.Encode(event(recording.EventFileCompleted), cfg, "", now)
	require.NoError(t, err)
	require.True(t, ok)

	bad := config(recording.DialectHuawei, func(c *recording.CallbackConfig) { c.SignType = "SHA1" })
	_, ok, err = Encode(event(recording.EventFileCompleted), bad, huaweiKey, now)
	require.ErrorContains(t, err, "unknown huawei sign type")
	require.False(t, ok)
}

func TestHuaweiFormatAndDuration(t *testing.T) {
	cfg := config(recording.DialectHuawei)
	for f, want := range map[recording.Format]string{recording.FormatFLV: "FLV", recording.FormatMP4: "MP4", recording.FormatHLS: "HLS", "cmaf": "CMAF"} {
		ev := event(recording.EventFileCompleted)
		ev.Data.Format = f
		ev.Data.Duration = 119600 * time.Millisecond
		ev.Data.ObjectKey = "/live/x.flv"
		m := huaweiFields(t, mustEncode(t, Encoder{}, ev, cfg, "", time.Unix(0, 0)).Body)
		require.Equal(t, want, m["record_format"])
		require.Equal(t, 120.0, m["record_duration"], "whole seconds, rounded")
		require.Equal(t, "live/x.flv", m["obs_object"])
	}
}
