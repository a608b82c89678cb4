package dialect

import (
	"bytes"
	"encoding/json"
	"net/textproto"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

func unix(sec int64) *time.Time {
	t := time.Unix(sec, 0).UTC()
	return &t
}

func allEvents() []recording.Event {
	return []recording.Event{
		recording.EventRecordStarted, recording.EventRecordPaused, recording.EventRecordResumed,
		recording.EventFileStarted, recording.EventFileCompleted, recording.EventRecordOver,
		recording.EventRecordFailed, recording.EventOnDemandFailed, recording.EventFileDeleted,
	}
}

func config(d recording.Dialect, mut ...func(*recording.CallbackConfig)) *recording.CallbackConfig {
	c := &recording.CallbackConfig{ID: "cb1", Project: "p1", Dialect: d, Domain: "push.example.com",
		App: "*", URL: "https://hooks.example.com/cb", Enabled: true}
	for _, m := range mut {
		m(c)
	}
	return c
}

func subscribeAll(c *recording.CallbackConfig) { c.Events = allEvents() }

// event is a file_completed event carrying seed 002's values; tests change what they need.
func event(t recording.Event) *recording.OutboxEvent {
	return &recording.OutboxEvent{
		ID:        "evt_2KWPBgLlAfxdpx2AI54pPJ85f4W",
		Type:      t,
		CreatedAt: time.Date(2020, 3, 8, 14, 12, 26, 500e6, time.UTC),
		Data: recording.EventData{
			Project:     "70b76xxxxxx34253880af501cdxxxxxx",
			RecordingID: "51126d0ebe94b1da00d2e21a10xxxxxx",
			Domain:      "push.example.com",
			App:         "live",
			Stream:      "mystream",
			Seq:         4,
			PushArgs:    map[string]string{"callback_myid": "1231389741"},
			FileID:      "dc0a1773-0cef-xxxx-xxxx-9a38fdb095d2",
			Format:      recording.FormatHLS,
			Endpoint:    "https://obs.cn-north-4.myhuaweicloud.com",
			Bucket:      "mybucket",
			ObjectKey:   "live/record-xxxx-mystream-1589967495/record-hwpublish.myun.tv-live-mystream-1589967495.m3u8",
			DownloadURL: "https://obs.cn-north-4.myhuaweicloud.com/live/record-xxxx-mystream-1589967495/record-push.example.com-live-mystream-1589967495.m3u8",
			Bytes:       3957964,
			Duration:    120 * time.Second,
			StartTime:   unix(1583676625), // 2020-03-08T14:10:25Z
			EndTime:     unix(1583676745), // 2020-03-08T14:12:25Z
			Width:       1280,
			Height:      720,
		},
	}
}

func mustEncode(t testing.TB, e Encoder, ev *recording.OutboxEvent, cfg *recording.CallbackConfig, key string, now time.Time) Request {
	t.Helper()
	req, ok, err := e.Encode(ev, cfg, key, now)
	require.NoError(t, err)
	require.True(t, ok, "%s should send %s", cfg.Dialect, ev.Type)
	return req
}

// requireFields checks that body has exactly the fields of want, each of the JSON type named:
// "string", "int" (a number without fraction or exponent), "number" or "object".
func requireFields(t *testing.T, body []byte, want map[string]string) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m))
	require.ElementsMatch(t, keys(want), keys(m), "field set of %s", body)
	for k, kind := range want {
		switch v := m[k]; kind {
		case "string":
			require.IsType(t, "", v, k)
		case "int":
			require.IsType(t, json.Number(""), v, k)
			_, err := v.(json.Number).Int64()
			require.NoError(t, err, "%s must be an integer", k)
		case "number":
			require.IsType(t, json.Number(""), v, k)
		case "object":
			require.IsType(t, map[string]any{}, v, k)
		default:
			t.Fatalf("bad kind %q", kind)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestCommonHeaders(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for _, d := range []recording.Dialect{recording.DialectAliyun, recording.DialectHuawei, recording.DialectStandard} {
		for _, key := range []string{"", "abcdefghijklmnopqrstuvwxyz012345"} {
			ev := event(recording.EventFileCompleted)
			req := mustEncode(t, Encoder{}, ev, config(d), key, now)
			require.Equal(t, "https://hooks.example.com/cb", req.URL)
			require.Equal(t, "application/json", req.Header.Get("Content-Type"))
			require.Equal(t, ev.ID, req.Header.Get("X-Liverec-Event-Id"))
			require.Equal(t, "liverec", req.Header.Get("User-Agent"))
			for k, v := range req.Header {
				require.Equal(t, textproto.CanonicalMIMEHeaderKey(k), k, "header keys are canonical")
				require.Len(t, v, 1)
			}
			require.True(t, json.Valid(req.Body))
			// A later Add must not clobber a neighbouring value in the shared backing array.
			req.Header.Add("Content-Type", "x")
			require.Equal(t, "liverec", req.Header.Get("User-Agent"))
			require.Equal(t, ev.ID, req.Header.Get("X-Liverec-Event-Id"))
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	now := time.Unix(1700000000, 0)
	_, _, err := Encode(nil, config(recording.DialectAliyun), "", now)
	require.Error(t, err)
	_, _, err = Encode(event(recording.EventFileCompleted), nil, "", now)
	require.Error(t, err)

	ev := event(recording.EventFileCompleted)
	ev.ID = ""
	_, ok, err := Encode(ev, config(recording.DialectStandard), "", now)
	require.ErrorContains(t, err, "no id")
	require.False(t, ok)

	for _, d := range []recording.Dialect{"", recording.DialectNative, "tencent"} {
		_, ok, err := Encode(event(recording.EventFileCompleted), config(d), "", now)
		require.ErrorContains(t, err, "unknown callback dialect", "dialect %q", d)
		require.False(t, ok)
	}
}

func TestSubscribed(t *testing.T) {
	type row struct {
		name string
		cfg  *recording.CallbackConfig
		want []recording.Event
	}
	rows := []row{
		{"aliyun default", config(recording.DialectAliyun), []recording.Event{recording.EventFileCompleted}},
		{"aliyun status", config(recording.DialectAliyun, func(c *recording.CallbackConfig) { c.NeedStatusNotify = true }),
			[]recording.Event{recording.EventRecordStarted, recording.EventRecordPaused, recording.EventRecordResumed, recording.EventFileCompleted}},
		{"aliyun events narrow", config(recording.DialectAliyun, func(c *recording.CallbackConfig) {
			c.NeedStatusNotify = true
			c.Events = []recording.Event{recording.EventRecordStarted, recording.EventRecordOver}
		}), []recording.Event{recording.EventRecordStarted}},
		{"aliyun status needs NeedStatusNotify", config(recording.DialectAliyun, subscribeAll), []recording.Event{recording.EventFileCompleted}},
		{"huawei default", config(recording.DialectHuawei), []recording.Event{recording.EventFileCompleted}},
		{"huawei all", config(recording.DialectHuawei, subscribeAll), []recording.Event{recording.EventRecordStarted,
			recording.EventFileStarted, recording.EventFileCompleted, recording.EventRecordOver, recording.EventRecordFailed}},
		{"standard default", config(recording.DialectStandard), allEvents()},
		{"standard narrow", config(recording.DialectStandard, func(c *recording.CallbackConfig) {
			c.Events = []recording.Event{recording.EventOnDemandFailed}
		}), []recording.Event{recording.EventOnDemandFailed}},
		{"unknown dialect", config("tencent"), nil},
	}
	for _, r := range rows {
		var got []recording.Event
		for _, e := range append(allEvents(), "no_such_event") {
			if Subscribed(r.cfg, e) {
				got = append(got, e)
			}
		}
		require.Equal(t, r.want, got, r.name)
	}
	require.False(t, Subscribed(nil, recording.EventFileCompleted))
}

// TestNotSent: every event a configuration does not take gives ok=false and no error.
func TestNotSent(t *testing.T) {
	now := time.Unix(1700000000, 0)
	cfgs := []*recording.CallbackConfig{
		config(recording.DialectAliyun), config(recording.DialectAliyun, subscribeAll),
		config(recording.DialectHuawei), config(recording.DialectHuawei, subscribeAll),
		config(recording.DialectStandard, func(c *recording.CallbackConfig) { c.Events = []recording.Event{recording.EventRecordOver} }),
	}
	for _, cfg := range cfgs {
		for _, e := range append(allEvents(), "no_such_event") {
			req, ok, err := Encode(event(e), cfg, "k", now)
			require.NoError(t, err)
			require.Equal(t, Subscribed(cfg, e), ok, "%s %v %s", cfg.Dialect, cfg.Events, e)
			if !ok {
				require.Zero(t, req)
			}
		}
	}
	// The cloud dialects never send on-demand failures.
	for _, d := range []recording.Dialect{recording.DialectAliyun, recording.DialectHuawei} {
		_, ok, err := Encode(event(recording.EventOnDemandFailed), config(d, subscribeAll), "", now)
		require.NoError(t, err)
		require.False(t, ok, d)
	}
}

// TestFreshPerAttempt: the event ID stays, timestamps and signatures change with the attempt
// time.
func TestFreshPerAttempt(t *testing.T) {
	t1, t2 := time.Unix(1700000000, 0), time.Unix(1700000007, 0)
	ev := event(recording.EventFileCompleted)
	const key = "abcdefghijklmnopqrstuvwxyz012345"

	a1 := mustEncode(t, Encoder{}, ev, config(recording.DialectAliyun), key, t1)
	a2 := mustEncode(t, Encoder{}, ev, config(recording.DialectAliyun), key, t2)
	require.Equal(t, "1700000000", a1.Header.Get("Ali-Live-Timestamp"))
	require.Equal(t, "1700000007", a2.Header.Get("Ali-Live-Timestamp"))
	require.NotEqual(t, a1.Header.Get("Ali-Live-Signature"), a2.Header.Get("Ali-Live-Signature"))
	require.Equal(t, a1.Body, a2.Body)

	for _, st := range []string{recording.SignMD5, recording.SignHMACSHA256} {
		cfg := config(recording.DialectHuawei, func(c *recording.CallbackConfig) { c.SignType = st })
		h1 := huaweiFields(t, mustEncode(t, Encoder{}, ev, cfg, key, t1).Body)
		h2 := huaweiFields(t, mustEncode(t, Encoder{}, ev, cfg, key, t2).Body)
		require.Equal(t, "1700000600", h1["auth_timestamp"])
		require.Equal(t, "1700000607", h2["auth_timestamp"])
		require.NotEqual(t, h1["auth_sign"], h2["auth_sign"], st)
	}

	s1 := mustEncode(t, Encoder{}, ev, config(recording.DialectStandard), key, t1)
	s2 := mustEncode(t, Encoder{}, ev, config(recording.DialectStandard), key, t2)
	require.Equal(t, s1.Header.Get("Webhook-Id"), s2.Header.Get("Webhook-Id"))
	require.Equal(t, "1700000000", s1.Header.Get("Webhook-Timestamp"))
	require.Equal(t, "1700000007", s2.Header.Get("Webhook-Timestamp"))
	require.NotEqual(t, s1.Header.Get("Webhook-Signature"), s2.Header.Get("Webhook-Signature"))
	// The envelope's timestamp is the event's, so the body is the same on every attempt.
	require.Equal(t, s1.Body, s2.Body)
}

func BenchmarkEncode(b *testing.B) {
	now := time.Unix(1700000000, 0)
	const key = "abcdefghijklmnopqrstuvwxyz012345"
	cases := []struct {
		name string
		cfg  *recording.CallbackConfig
		key  string
	}{
		{"aliyun", config(recording.DialectAliyun), key},
		{"aliyun_unsigned", config(recording.DialectAliyun), ""},
		{"huawei_hmac", config(recording.DialectHuawei, func(c *recording.CallbackConfig) { c.SignType = recording.SignHMACSHA256 }), key},
		{"huawei_md5", config(recording.DialectHuawei, func(c *recording.CallbackConfig) { c.SignType = recording.SignMD5 }), key},
		{"standard", config(recording.DialectStandard), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
	}
	ev := event(recording.EventFileCompleted)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Encode(ev, c.cfg, c.key, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
