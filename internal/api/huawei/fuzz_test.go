package huawei

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// FuzzParseAuthorization feeds arbitrary Authorization headers: one that parses names an
// access key, signs x-sdk-date and carries a 32-byte signature, and its canonical rendering
// (as the SDK writes it) parses to the same.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("SDK-HMAC-SHA256 Access=AKTEST, SignedHeaders=user-agent;x-project-id;x-sdk-date, Signature=" + strings.Repeat("ab", 32))
	f.Add("SDK-HMAC-SHA256 Access=a,SignedHeaders=x-sdk-date,Signature=" + strings.Repeat("0", 64) + ",Access=b")
	f.Add("SDK-HMAC-SHA256 Access=,SignedHeaders=,Signature=zz")
	f.Fuzz(func(t *testing.T, v string) {
		a, err := parseAuthorization(v)
		if err != nil {
			return
		}
		require.NotEmpty(t, a.access)
		require.Len(t, a.signature, 32)
		require.Contains(t, a.signedHeaders, "x-sdk-date")
		if strings.ContainsAny(a.access, ", ") || slices.ContainsFunc(a.signedHeaders, func(h string) bool { return strings.ContainsAny(h, ", ") }) {
			return // not what a signer writes: the canonical form would split differently
		}
		canon := fmt.Sprintf("SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%x", a.access, strings.Join(a.signedHeaders, ";"), a.signature)
		again, err := parseAuthorization(canon)
		require.NoError(t, err, canon)
		require.Equal(t, a, again)
	})
}

// keyStore is the service as signature checking sees it: project A's key only.
type keyStore struct{ Service }

func (keyStore) KeySecret(_ context.Context, id string) (*recording.AccessKey, string, error) {
	if id != keyA {
		return nil, "", recording.ErrUnauthenticated
	}
	return &recording.AccessKey{ID: keyA, Project: projectA}, secretA, nil
}

// validHeaderValue: what net/http lets a client send.
func validHeaderValue(v string) bool {
	for _, c := range []byte(v) {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// FuzzVerifySignature signs requests of arbitrary path, query, header and body as the Huawei
// SDK does (testSign, written independently of sign.go): every one verifies, and changing the
// body, the query, a signed header or the date afterwards makes it fail.
func FuzzVerifySignature(f *testing.F) {
	f.Add("rules", "limit=5&publish_domain=x%20y.com", "huaweicloud-usdk-go/3.0", []byte(`{"publish_domain":"a.com"}`))
	f.Add("a b:c/../d", "a=1&a=0&b", " padded ", []byte{})
	f.Add("", "%zz", "x", []byte("x"))
	h := &handler{svc: keyStore{}, now: func() time.Time { return testNow }, maxSkew: DefaultMaxSkew}
	f.Fuzz(func(t *testing.T, seg, rawQuery, agent string, body []byte) {
		if !validHeaderValue(agent) || strings.TrimSpace(agent) == "" || strings.ContainsRune(seg, 0) {
			return
		}
		if _, err := url.ParseQuery(rawQuery); err != nil {
			return // a client's query always parses: it built it with url.Values
		}
		build := func() *http.Request {
			r := httptest.NewRequest(http.MethodPut, "http://liverec.test/", bytes.NewReader(body))
			r.URL.Path, r.URL.RawQuery = "/v1/"+projectA+"/record/"+seg, rawQuery
			r.SetPathValue("project_id", projectA)
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("User-Agent", agent)
			r.Header.Set("X-Project-Id", projectA)
			testSign(r, body, keyA, secretA, testNow)
			return r
		}
		p, err := h.verifySignature(build(), body)
		require.NoError(t, err, "path %q query %q", seg, rawQuery)
		require.Equal(t, projectA, p.Project)

		for name, tamper := range map[string]func(r *http.Request) []byte{
			"body":  func(*http.Request) []byte { return append(slices.Clone(body), '.') },
			"query": func(r *http.Request) []byte { r.URL.RawQuery += "&x=1"; return body },
			"agent": func(r *http.Request) []byte { r.Header.Set("User-Agent", agent+"x"); return body },
			"date": func(r *http.Request) []byte {
				r.Header.Set("X-Sdk-Date", testNow.Add(time.Second).Format(sdkDateLayout))
				return body
			},
		} {
			r := build()
			b := tamper(r)
			_, err := h.verifySignature(r, b)
			require.Error(t, err, "tampered %s still verifies", name)
		}
	})
}

// FuzzRuleBody feeds arbitrary RecordRuleRequest bodies through decoding and the service's
// validation: a refusal is a Huawei client error, and an accepted rule is valid, Huawei's, and
// shows (RecordRule, as GET returns it) as a body that writes back the same rule.
func FuzzRuleBody(f *testing.F) {
	f.Add([]byte(`{"publish_domain":"push.example.com","app":"live","record_type":"CONTINUOUS_RECORD",
		"default_record_config":{"record_format":["HLS","FLV"],"obs_addr":{"bucket":"b","location":"cn-north-4","object":"rec/"},
		"hls_config":{"record_cycle":3600,"record_ts_prefix":"{file_start_time_unix}","record_slice_duration":6,"record_max_duration_to_merge_file":-1}}}`))
	f.Add([]byte(`{"publish_domain":"A.com","app":"live","stream":"s","default_record_config":{"record_format":["MP4"],
		"obs_addr":{"bucket":"b","location":"l"},"mp4_config":{"record_cycle":0,"record_prefix":"a//{stream}/"}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		decode := func(b []byte) (*recording.Rule, error) {
			r := httptest.NewRequest(http.MethodPost, "/v1/"+projectA+"/record/rules", bytes.NewReader(b))
			r.Header.Set("Content-Type", "application/json")
			return decodeRule(r)
		}
		rule, err := decode(body)
		if err == nil {
			rule.Project = projectA
			rule.Normalize()
			err = rule.Validate()
		}
		if err != nil {
			var ae *apiError
			var ve *recording.ValidationError
			require.True(t, errors.As(err, &ae) || errors.As(err, &ve), "%T %v", err, err)
			if ae != nil {
				require.GreaterOrEqual(t, ae.status, 400)
				require.Less(t, ae.status, 500)
			}
			return
		}
		require.Equal(t, recording.DialectHuawei, rule.Dialect)
		shown, err := json.Marshal(ruleOutOf(rule))
		require.NoError(t, err)
		again, err := decode(shown)
		require.NoError(t, err, "%s", shown)
		again.Project = projectA
		again.Normalize()
		require.NoError(t, again.Validate())
		require.Equal(t, rule, again, "%s", shown)
		require.Equal(t, hex.EncodeToString(shown), hex.EncodeToString(mustMarshal(t, ruleOutOf(again))))
	})
}

func mustMarshal(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
