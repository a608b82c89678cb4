package pubauth

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Keys and vectors of the worked examples: Alibaba's own documentation example, Huawei's
// documented B and D vectors and its flv method-A example, and liverec's vectors. Every hash
// was computed independently of this package (Python's hashlib and hmac).
const (
	aliDocKey  = "aliyunliveexp1234"
	aliPrimary = "LiveRecPrimaryKey01"
	aliBackup  = "LiveRecBackupKey02"
	hwDocKey   = "GCTbw44s6MPLh4GqgDpnfuFHgy25Enly"
	hwKey      = "LiveRec0123456789abcdefABCDEF012"
	hwRand     = "477b3bbc253f467b8def6711128c7bec"
)

var (
	aliyun   = &Config{Method: MethodAliyunA, Key: aliPrimary, BackupKey: aliBackup, Validity: 1800 * time.Second}
	aliyunNo = &Config{Method: MethodAliyunA, Key: aliPrimary, Validity: 1800 * time.Second}
	aliDoc   = &Config{Method: MethodAliyunA, Key: aliDocKey, Validity: 2400 * time.Second}
	hwA      = &Config{Method: MethodHuaweiA, Key: hwKey, Validity: 3600 * time.Second}
	hwB      = &Config{Method: MethodHuaweiB, Key: hwKey, Validity: 3600 * time.Second}
	hwD      = &Config{Method: MethodHuaweiD, Key: hwKey, Validity: 3600 * time.Second}
	hwDocA   = &Config{Method: MethodHuaweiA, Key: hwDocKey, Validity: 3600 * time.Second}
	hwDocB   = &Config{Method: MethodHuaweiB, Key: hwDocKey, Validity: 3600 * time.Second}
	hwDocD   = &Config{Method: MethodHuaweiD, Key: hwDocKey, Validity: 3600 * time.Second}
	strict   = Options{AliyunExpiry: ExpiryStrict}
)

const (
	aliURL     = "rtmp://push.example.com/live/stream1?auth_key=1700003600-0-0-a8bb09f4a917eeddc8267aae7cd1f627"
	aliBackURL = "rtmp://push.example.com/live/stream1?auth_key=1700003600-0-0-778487078848bd85d40c840947979b00"
	hwAURL     = "rtmp://push.example.com/live/stream1?auth_key=1700000000-" + hwRand + "-0-e2796635155a6d5e6e5858f3f63391f4"
	hwBURL     = "rtmp://push.example.com/live/stream1?txSecret=298e0eb2dbef8c8d429ae78ced9af704&txTime=6553f100"
	hwDURL     = "rtmp://push.example.com/live/stream1?hwSecret=0f3620f4bcb7794745cf23e6ffbc0c21877f4e7a17bdcc9bc673c55b713765e6&hwTime=6553f100"
)

func at(unix int64) time.Time { return time.Unix(unix, 0) }

type verifyCase struct {
	name string
	cfg  *Config
	url  string
	now  time.Time
	opts Options
	want Reason // "" admits
}

var verifyCases = []verifyCase{
	// Alibaba's documentation example (2021-05-28, timestamp already the expiry there).
	{"AliyunDocExample", aliDoc, "rtmp://push.example.com/video/standard?auth_key=1622194197-0-0-5552ff52b5e4e20387c6dc18afce206b", at(1622194197), Options{}, ""},
	{"AliyunDocExampleStrictAtExpiry", aliDoc, "rtmp://push.example.com/video/standard?auth_key=1622194197-0-0-5552ff52b5e4e20387c6dc18afce206b", at(1622194197), strict, ""},
	{"AliyunDocExampleStrictAfter", aliDoc, "rtmp://push.example.com/video/standard?auth_key=1622194197-0-0-5552ff52b5e4e20387c6dc18afce206b", at(1622194198), strict, ReasonExpired},

	// liverec's Alibaba vector: both keys, the delta rule up to 1700005400, strict up to 1700003600.
	{"AliyunPrimary", aliyun, aliURL, at(1700003600), Options{}, ""},
	{"AliyunBackup", aliyun, aliBackURL, at(1700003600), Options{}, ""},
	{"AliyunBackupWithoutBackupKey", aliyunNo, aliBackURL, at(1700003600), Options{}, ReasonBadSignature},
	{"AliyunVhostNotHashed", aliyun, "rtmp://10.0.0.1/live/stream1?vhost=push.example.com&auth_key=1700003600-0-0-a8bb09f4a917eeddc8267aae7cd1f627", at(1700003600), Options{}, ""},
	{"AliyunBeforeTimestamp", aliyun, aliURL, at(1700000000), Options{}, ""},
	{"AliyunLastSecondDelta", aliyun, aliURL, at(1700005400), Options{}, ""},
	{"AliyunExpiredDelta", aliyun, aliURL, at(1700005401), Options{}, ReasonExpired},
	{"AliyunLastSecondStrict", aliyun, aliURL, at(1700003600), strict, ""},
	{"AliyunExpiredStrict", aliyun, aliURL, at(1700003601), strict, ReasonExpired},
	{"AliyunOtherStream", aliyun, strings.Replace(aliURL, "stream1", "stream2", 1), at(1700003600), Options{}, ReasonBadSignature},
	{"AliyunOtherApp", aliyun, strings.Replace(aliURL, "/live/", "/vod/", 1), at(1700003600), Options{}, ReasonBadSignature},
	{"AliyunOtherTimestamp", aliyun, strings.Replace(aliURL, "1700003600", "1700003700", 1), at(1700003600), Options{}, ReasonBadSignature},
	{"AliyunMissing", aliyun, "rtmp://push.example.com/live/stream1", at(1700003600), Options{}, ReasonMissing},
	{"AliyunEmpty", aliyun, "rtmp://push.example.com/live/stream1?auth_key=", at(1700003600), Options{}, ReasonMissing},
	{"AliyunTwice", aliyun, aliURL + "&auth_key=1700003600-0-0-778487078848bd85d40c840947979b00", at(1700003600), Options{}, ReasonMalformed},
	{"AliyunThreeFields", aliyun, "rtmp://push.example.com/live/stream1?auth_key=1700003600-0-a8bb09f4a917eeddc8267aae7cd1f627", at(1700003600), Options{}, ReasonMalformed},
	{"AliyunHexTimestamp", aliyun, "rtmp://push.example.com/live/stream1?auth_key=6553f100-0-0-a8bb09f4a917eeddc8267aae7cd1f627", at(1700003600), Options{}, ReasonMalformed},
	{"AliyunSignedTimestamp", aliyun, "rtmp://push.example.com/live/stream1?auth_key=+700003600-0-0-a8bb09f4a917eeddc8267aae7cd1f627", at(1700003600), Options{}, ReasonMalformed},
	{"AliyunUpperCaseHash", aliyun, "rtmp://push.example.com/live/stream1?auth_key=1700003600-0-0-A8BB09F4A917EEDDC8267AAE7CD1F627", at(1700003600), Options{}, ReasonMalformed},
	{"AliyunShortHash", aliyun, "rtmp://push.example.com/live/stream1?auth_key=1700003600-0-0-a8bb09f4", at(1700003600), Options{}, ReasonMalformed},
	{"AliyunLongRand", aliyun, "rtmp://push.example.com/live/stream1?auth_key=1700003600-" + strings.Repeat("r", MaxRandLen+1) + "-0-a8bb09f4a917eeddc8267aae7cd1f627", at(1700003600), Options{}, ReasonMalformed},
	{"AliyunTooLong", aliyun, "rtmp://push.example.com/live/stream1?auth_key=" + strings.Repeat("1", MaxAuthValue+1), at(1700003600), Options{}, ReasonMalformed},

	// Huawei's documentation vectors: the flv example of method A, B and D at 2020-06-20T00:30Z.
	{"HuaweiDocA", hwDocA, "http://play.example.com/livetest/huawei1.flv?auth_key=1592639100-" + hwRand + "-0-dd1b5ffa00cf26acec0c169ae1cfabea", at(1592639100), Options{}, ""},
	{"HuaweiDocB", hwDocB, "rtmp://push.example.com/livetest/huawei1?txSecret=5cdc845362c332a4ec3e09ac5d5571d6&txTime=5eed5888", at(1592613000), Options{}, ""},
	{"HuaweiDocD", hwDocD, "rtmp://push.example.com/livetest/huawei1?hwSecret=ce201856a0957413319e883c8ccae13602f01d3d91e21daf5161964cf708a6a8&hwTime=5eed5888", at(1592613000), Options{}, ""},

	// liverec's Huawei vectors at 1700000000 (hex 6553f100), timeout 3600.
	{"HuaweiA", hwA, hwAURL, at(1700000000), Options{}, ""},
	{"HuaweiALastSecond", hwA, hwAURL, at(1700003600), Options{}, ""},
	{"HuaweiAExpired", hwA, hwAURL, at(1700003601), Options{}, ReasonExpired},
	{"HuaweiAWithinSkew", hwA, hwAURL, at(1700000000 - 300), Options{}, ""},
	{"HuaweiANotYetValid", hwA, hwAURL, at(1700000000 - 301), Options{}, ReasonNotYetValid},
	{"HuaweiAHexTimestamp", hwA, "rtmp://push.example.com/live/stream1?auth_key=6553f100-0-0-b49d4f6b4cba6015f5d86f5ba3492219", at(1700000000), Options{}, ""},
	{"HuaweiAOtherStream", hwA, strings.Replace(hwAURL, "stream1", "stream9", 1), at(1700000000), Options{}, ReasonBadSignature},
	{"HuaweiAMissing", hwA, "rtmp://push.example.com/live/stream1?txSecret=298e0eb2dbef8c8d429ae78ced9af704&txTime=6553f100", at(1700000000), Options{}, ReasonMissing},
	{"HuaweiB", hwB, hwBURL, at(1700000000), Options{}, ""},
	{"HuaweiBLastSecond", hwB, hwBURL, at(1700003600), Options{}, ""},
	{"HuaweiBExpired", hwB, hwBURL, at(1700003601), Options{}, ReasonExpired},
	{"HuaweiBOtherStream", hwB, strings.Replace(hwBURL, "stream1", "stream2", 1), at(1700000000), Options{}, ReasonBadSignature},
	{"HuaweiBMissing", hwB, "rtmp://push.example.com/live/stream1", at(1700000000), Options{}, ReasonMissing},
	{"HuaweiBTimeWithoutSecret", hwB, "rtmp://push.example.com/live/stream1?txTime=6553f100", at(1700000000), Options{}, ReasonMalformed},
	{"HuaweiBUpperHexTime", hwB, strings.Replace(hwBURL, "6553f100", "6553F100", 1), at(1700000000), Options{}, ReasonMalformed},
	{"HuaweiD", hwD, hwDURL, at(1700000000), Options{}, ""},
	{"HuaweiDLastSecond", hwD, hwDURL, at(1700003599), Options{}, ""},
	{"HuaweiDExpired", hwD, hwDURL, at(1700003600), Options{}, ReasonExpired},
	{"HuaweiDNotYetValid", hwD, hwDURL, at(1700000000 - 301), Options{}, ReasonNotYetValid},
	{"HuaweiDOtherStream", hwD, strings.Replace(hwDURL, "stream1", "stream2", 1), at(1700000000), Options{}, ReasonBadSignature},
	{"HuaweiDGivenMethodB", hwD, hwBURL, at(1700000000), Options{}, ReasonMissing},
	{"HuaweiDShortSecret", hwD, "rtmp://push.example.com/live/stream1?hwSecret=0f3620f4&hwTime=6553f100", at(1700000000), Options{}, ReasonMalformed},

	{"NoneAdmitsAnything", &Config{Method: MethodNone}, "rtmp://push.example.com/live/stream1", at(0), Options{}, ""},
	{"UnknownMethodIsUnavailable", &Config{Method: "huawei_c"}, hwAURL, at(1700000000), Options{}, ReasonUnavailable},
}

func TestVerify(t *testing.T) {
	t.Parallel()
	for _, c := range verifyCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, err := ParseURL(c.url)
			require.NoError(t, err)
			err = Verify(c.cfg, r, c.now, c.opts)
			if c.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, c.want, ReasonOf(err), err.Error())
			for _, secret := range []string{c.cfg.Key, c.cfg.BackupKey} {
				if secret != "" {
					require.NotContains(t, err.Error(), secret, "a refusal never shows a key")
				}
			}
		})
	}
}

// The hub verifies a publish from its app, stream and ingest parameters, not from a URL.
func TestVerifyIngestRequest(t *testing.T) {
	t.Parallel()
	q := url.Values{"auth_key": {"1700003600-0-0-a8bb09f4a917eeddc8267aae7cd1f627"}, "vhost": {"push.example.com"}}
	require.NoError(t, Verify(aliyun, IngestRequest("live", "stream1", q), at(1700003600), Options{}))
	require.Equal(t, ReasonBadSignature, ReasonOf(Verify(aliyun, IngestRequest("live", "stream2", q), at(1700003600), Options{})))
	require.ErrorIs(t, Verify(&Config{Method: MethodWebhook}, IngestRequest("live", "stream1", q), at(0), Options{}), ErrNotVerifiable)
}

func TestSignMakesTheVectors(t *testing.T) {
	t.Parallel()
	r := IngestRequest("live", "stream1", nil)
	for _, c := range []struct {
		name string
		cfg  *Config
		t    int64
		rnd  string
		opts Options
		want string
	}{
		{"Aliyun", aliyun, 1700003600, "", Options{}, "auth_key=1700003600-0-0-a8bb09f4a917eeddc8267aae7cd1f627"},
		{"AliyunStrictSignsTheExpiry", aliyun, 1700003600 - 1800, "0", strict, "auth_key=1700003600-0-0-a8bb09f4a917eeddc8267aae7cd1f627"},
		{"HuaweiA", hwA, 1700000000, hwRand, Options{}, "auth_key=1700000000-" + hwRand + "-0-e2796635155a6d5e6e5858f3f63391f4"},
		{"HuaweiB", hwB, 1700000000, "", Options{}, "txSecret=298e0eb2dbef8c8d429ae78ced9af704&txTime=6553f100"},
		{"HuaweiD", hwD, 1700000000, "", Options{}, "hwSecret=0f3620f4bcb7794745cf23e6ffbc0c21877f4e7a17bdcc9bc673c55b713765e6&hwTime=6553f100"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Sign(c.cfg, r, at(c.t), c.rnd, c.opts)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
	_, err := Sign(&Config{Method: MethodWebhook}, r, at(0), "", Options{})
	require.ErrorIs(t, err, ErrNothingToSign)
	_, err = Sign(aliyun, r, at(0), "a-b", Options{})
	require.Error(t, err, "rand must not contain '-'")
	require.Equal(t, "rtmp://h/live/s?vhost=x&auth_key=1", AppendQuery("rtmp://h/live/s?vhost=x", "auth_key=1"))
	require.Equal(t, "rtmp://h/live/s?auth_key=1", AppendQuery("rtmp://h/live/s", "auth_key=1"))
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	r, err := ParseURL("http://play.example.com/livetest/huawei1.flv?x=1")
	require.NoError(t, err)
	require.Equal(t, Request{URI: "/livetest/huawei1.flv", Stream: "huawei1", Query: url.Values{"x": {"1"}}}, r)
	for _, bad := range []string{"rtmp://h", "rtmp://h/live/", "rtmp://h/live/s?a=%zz", "%", "rtmp://h/" + strings.Repeat("a", MaxURL)} {
		_, err := ParseURL(bad)
		require.Equal(t, ReasonMalformed, ReasonOf(err), bad)
	}
}

func TestAliyunDescription(t *testing.T) {
	t.Parallel()
	for r, want := range map[Reason]string{
		ReasonMissing: "INVALID AUTH_KEY", ReasonMalformed: "INVALID AUTH_KEY", ReasonExpired: "INVALID TIMESTAMP",
		ReasonNotYetValid: "INVALID TIMESTAMP", ReasonBadSignature: "INVALID MD5HASH", "": "INVALID ALIAUTH",
	} {
		require.Equal(t, want, AliyunDescription(r), r)
	}
}

func TestWithoutAuthParams(t *testing.T) {
	t.Parallel()
	q := url.Values{"auth_key": {"a"}, "txSecret": {"b"}, "txTime": {"c"}, "hwSecret": {"d"}, "hwTime": {"e"},
		"auth_info": {"f"}, "callback_x": {"1"}, "vhost": {"h"}}
	require.Equal(t, url.Values{"callback_x": {"1"}, "vhost": {"h"}}, WithoutAuthParams(q))
	require.Len(t, q, 8, "the input is not modified")
	clean := url.Values{"record_config": {"{}"}}
	require.Equal(t, clean, WithoutAuthParams(clean))
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("k", MaxAliyunKey+1)
	for _, c := range []struct {
		name  string
		cfg   Config
		field string // "" is valid
	}{
		{"None", Config{Method: MethodNone}, ""},
		{"NoneWithKey", Config{Method: MethodNone, Key: aliPrimary}, "key"},
		{"Aliyun", *aliyun, ""},
		{"AliyunDefaults", Config{Method: MethodAliyunA, Key: aliPrimary}, ""},
		{"AliyunNoKey", Config{Method: MethodAliyunA}, "key"},
		{"AliyunShortKey", Config{Method: MethodAliyunA, Key: "abc12"}, "key"},
		{"AliyunLongKey", Config{Method: MethodAliyunA, Key: long}, "key"},
		{"AliyunKeyPunctuation", Config{Method: MethodAliyunA, Key: "abc-12345"}, "key"},
		{"AliyunBadBackup", Config{Method: MethodAliyunA, Key: aliPrimary, BackupKey: "x"}, "backup_key"},
		{"AliyunFractionalValidity", Config{Method: MethodAliyunA, Key: aliPrimary, Validity: 1500 * time.Millisecond}, "validity_s"},
		{"AliyunArgs", Config{Method: MethodAliyunA, Key: aliPrimary, Args: []Arg{{"req_auth_ip_white", "1.2.3.4"}}}, ""},
		{"AliyunKnownArgAsExtra", Config{Method: MethodAliyunA, Key: aliPrimary, Args: []Arg{{"auth_key1", "x"}}}, "args"},
		{"AliyunArgTwice", Config{Method: MethodAliyunA, Key: aliPrimary, Args: []Arg{{"a", "1"}, {"a", "2"}}}, "args"},
		{"AliyunArgBadName", Config{Method: MethodAliyunA, Key: aliPrimary, Args: []Arg{{"a b", "1"}}}, "args"},
		{"AliyunWebhookURL", Config{Method: MethodAliyunA, Key: aliPrimary, WebhookURL: "http://x"}, "webhook_url"},
		{"HuaweiD", *hwD, ""},
		{"HuaweiShortKey", Config{Method: MethodHuaweiD, Key: "abc123", Validity: time.Hour}, "key"},
		{"HuaweiAllDigits", Config{Method: MethodHuaweiB, Key: strings.Repeat("1", 32), Validity: time.Hour}, "key"},
		{"HuaweiAllLetters", Config{Method: MethodHuaweiA, Key: strings.Repeat("a", 32), Validity: time.Hour}, "key"},
		{"HuaweiNoTimeout", Config{Method: MethodHuaweiA, Key: hwKey}, "validity_s"},
		{"HuaweiTimeoutLow", Config{Method: MethodHuaweiA, Key: hwKey, Validity: 59 * time.Second}, "validity_s"},
		{"HuaweiTimeoutHigh", Config{Method: MethodHuaweiA, Key: hwKey, Validity: MaxHuaweiValidity + time.Second}, "validity_s"},
		{"HuaweiBackupKey", Config{Method: MethodHuaweiA, Key: hwKey, BackupKey: hwKey, Validity: time.Hour}, "backup_key"},
		{"HuaweiC", Config{Method: MethodHuaweiC, Key: hwKey, Validity: time.Hour}, "method"},
		{"Webhook", Config{Method: MethodWebhook, WebhookURL: "https://auth.example.com/publish", WebhookTimeout: time.Second}, ""},
		{"WebhookNoURL", Config{Method: MethodWebhook, WebhookTimeout: time.Second}, "webhook_url"},
		{"WebhookFTP", Config{Method: MethodWebhook, WebhookURL: "ftp://x", WebhookTimeout: time.Second}, "webhook_url"},
		{"WebhookCredentials", Config{Method: MethodWebhook, WebhookURL: "http://u:p@x", WebhookTimeout: time.Second}, "webhook_url"},
		{"WebhookTimeoutLow", Config{Method: MethodWebhook, WebhookURL: "http://x", WebhookTimeout: time.Millisecond}, "webhook_timeout_ms"},
		{"WebhookKey", Config{Method: MethodWebhook, WebhookURL: "http://x", Key: hwKey}, "key"},
		{"NoMethod", Config{}, "method"},
		{"UnknownMethod", Config{Method: "type_b"}, "method"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.Normalize()
			err := cfg.Validate()
			if c.field == "" {
				require.NoError(t, err)
				return
			}
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, c.field, ce.Field, err.Error())
		})
	}
	c := Config{Method: MethodHuaweiC}
	require.ErrorContains(t, c.Validate(), "not documented well enough")
	a := Config{Method: MethodAliyunA, Key: aliPrimary}
	a.Normalize()
	require.Equal(t, DefaultAliyunValidity, a.Validity)
	w := Config{Method: MethodWebhook, WebhookURL: "http://x"}
	w.Normalize()
	require.Equal(t, DefaultWebhookTimeout, w.WebhookTimeout)
}
