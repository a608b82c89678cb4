package dialect

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// FuzzEncode feeds arbitrary strings into EventData: every body must stay valid JSON, valid
// UTF-8 strings must come back unchanged, and the signatures must verify from the parsed body
// (invalid UTF-8 is coerced the way encoding/json coerces it, jsonString).
func FuzzEncode(f *testing.F) {
	f.Add("push.example.com", "live", "mystream", "live/a.flv", "why", "1231389741", "https://obs/x.m3u8")
	f.Add("\"\\\n\t<>&", "\u2028\u2029", "\x00\x1f\x7f", "/lead/slash", "", "\xff\xfe", "\xc3\x28")
	f.Add("", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, domain, app, stream, key, reason, arg, download string) {
		now := time.Unix(1700000000, 0)
		const secret = "abcdefghijklmnopqrstuvwxyz012345"
		for _, d := range []recording.Dialect{recording.DialectAliyun, recording.DialectHuawei, recording.DialectStandard} {
			cfg := config(d, func(c *recording.CallbackConfig) { c.NeedStatusNotify = true; c.Events = allEvents() })
			for _, e := range allEvents() {
				ev := event(e)
				ev.Data.Domain, ev.Data.App, ev.Data.Stream = domain, app, stream
				ev.Data.ObjectKey, ev.Data.Reason, ev.Data.DownloadURL = key, reason, download
				ev.Data.PushArgs = map[string]string{arg: arg}
				req, ok, err := Encode(ev, cfg, secret, now)
				require.NoError(t, err)
				if !ok {
					continue
				}
				require.True(t, json.Valid(req.Body), "%s %s: %q", d, e, req.Body)
				var m map[string]any
				require.NoError(t, json.Unmarshal(req.Body, &m))
				switch d {
				case recording.DialectHuawei:
					require.NoError(t, huaweiVerify(m, cfg.SignType, secret, now))
				case recording.DialectStandard:
					require.NoError(t, verifyWebhook(secret, req.Header, req.Body, now))
					m = m["data"].(map[string]any)
				}
				if utf8.ValidString(app) && utf8.ValidString(stream) {
					require.Equal(t, app, m["app"])
					require.Equal(t, stream, m["stream"])
				}
			}
		}
	})
}

func TestJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "\xff", "a\xffb\xfe\xfdc", "\xc3\x28", "\xe2\x82", "ok\u00e9\xed\xa0\x80"} {
		b, err := json.Marshal(s)
		require.NoError(t, err)
		var back string
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, back, jsonString(s), "%q", s)
	}
}
