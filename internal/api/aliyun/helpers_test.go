package aliyun

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"github.com/liverec/liverec/internal/testutil"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/secret"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store/sqldb/sqldbtest"
)

// Keys of the test projects. p1 and p2 are ordinary projects; admin may write domain "*".
var (
	keyP1      = testKey{"LRKEYP1AAAAAAAAAAAAAAAAA", "secretP1secretP1secretP1secre1"}
	keyP2      = testKey{"LRKEYP2AAAAAAAAAAAAAAAAA", "secretP2secretP2secretP2secre2"}
	keyRevoked = testKey{"LRKEYREVOKEDAAAAAAAAAAAA", "secretRVsecretRVsecretRVsecre3"}
)

type testKey struct{ id, secret string }

type env struct {
	t    testing.TB
	url  string
	svc  *service.Service
	logs *testutil.SyncBuffer
}

// newEnv serves the handler over a real service on a SQLite store. Endpoint "nowhere" does
// not resolve; every other name does (the default config's local endpoint has alias "*").
func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, func(s *service.Service) Service { return s })
}

// newEnvWith is newEnv with the handler serving wrap(svc): a fake that embeds the real service.
func newEnvWith(t testing.TB, wrap func(*service.Service) Service) *env {
	t.Helper()
	db := sqldbtest.OpenSQLiteAt(t, filepath.Join(t.TempDir(), "liverec.db"))
	master := make([]byte, secret.KeySize)
	_, _ = rand.Read(master)
	box, err := secret.New(master)
	require.NoError(t, err)
	svc := &service.Service{Store: db, Sealer: box, EndpointExists: func(name string) bool { return name != "nowhere" }}
	for _, k := range []struct {
		key     testKey
		project string
	}{{keyP1, "p1"}, {keyP2, "p2"}, {keyRevoked, "p1"}} {
		require.NoError(t, svc.EnsureAccessKey(t.Context(), k.key.id, k.key.secret, k.project, false))
	}
	require.NoError(t, svc.RevokeAccessKey(t.Context(), service.Principal{Project: "p1"}, "", keyRevoked.id))
	logs := &testutil.SyncBuffer{}
	h := NewHandler(wrap(svc), Config{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, url: srv.URL, svc: svc, logs: logs}
}

// canonicalize builds the canonical query exactly as the SDK's buildRpcStringToSign does
// (url.Values.Encode, then "+"→%20, "*"→%2A, %7E→"~"), independently of the handler's code.
func canonicalize(v url.Values) string {
	c := url.Values{}
	for k, vs := range v {
		if k != "Signature" {
			c[k] = vs
		}
	}
	s := c.Encode()
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	return strings.ReplaceAll(s, "%7E", "~")
}

func testStringToSign(method string, v url.Values) string {
	return method + "&%2F&" + url.QueryEscape(canonicalize(v))
}

func testSign(secretKey, toSign string) string {
	m := hmac.New(sha1.New, []byte(secretKey+"&"))
	m.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func nonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// req is one RPC call under construction.
type req struct {
	method string
	key    testKey
	params url.Values
	// before runs on the parameters before signing, after on the signed ones.
	before, after func(url.Values)
	// inBody sends the parameters as a form body instead of the query string.
	inBody bool
}

func call(key testKey, action string, args ...string) *req {
	v := url.Values{}
	for k, val := range map[string]string{
		"Action": action, "Version": Version, "Format": "JSON", "AccessKeyId": key.id,
		"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureType": "",
		"SignatureNonce": nonce(), "Timestamp": time.Now().UTC().Format(timeLayout), "RegionId": "cn-shanghai",
	} {
		v.Set(k, val)
	}
	for i := 0; i+1 < len(args); i += 2 {
		v.Set(args[i], args[i+1])
	}
	return &req{method: http.MethodPost, key: key, params: v}
}

// signed returns the request's parameters with their Signature.
func (r *req) signed() url.Values {
	v := url.Values{}
	for k, vs := range r.params {
		v[k] = append([]string(nil), vs...)
	}
	if r.before != nil {
		r.before(v)
	}
	v.Set("Signature", testSign(r.key.secret, testStringToSign(r.method, v)))
	if r.after != nil {
		r.after(v)
	}
	return v
}

type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (e *env) do(r *req) reply {
	e.t.Helper()
	return e.send(r.method, r.signed(), r.inBody)
}

func (e *env) send(method string, v url.Values, inBody bool) reply {
	e.t.Helper()
	target, body := e.url+"/?"+v.Encode(), ""
	if inBody {
		target, body = e.url+"/", v.Encode()
	}
	hr, err := http.NewRequestWithContext(e.t.Context(), method, target, strings.NewReader(body))
	require.NoError(e.t, err)
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(hr)
	require.NoError(e.t, err)
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	out := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	require.NoError(e.t, json.Unmarshal(raw, &out.body), string(raw))
	return out
}

// ok checks a success document and returns it.
func (r reply) ok(t testing.TB) reply {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	require.Len(t, r.body["RequestId"], 36, string(r.raw))
	require.Equal(t, r.body["RequestId"], r.header.Get("x-acs-request-id"))
	return r
}

// fails checks an error document: status, Code, RequestId, HostId and that Message contains
// every one of parts.
func (r reply) fails(t testing.TB, status int, code string, parts ...string) {
	t.Helper()
	require.Equal(t, status, r.status, string(r.raw))
	require.Equal(t, code, r.body["Code"], string(r.raw))
	require.Equal(t, "live.aliyuncs.com", r.body["HostId"])
	require.Len(t, r.body["RequestId"], 36)
	require.Equal(t, r.body["RequestId"], r.header.Get("x-acs-request-id"))
	require.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "application/json"))
	msg, _ := r.body["Message"].(string)
	require.NotEmpty(t, msg)
	for _, p := range parts {
		require.Contains(t, msg, p)
	}
}

// decode unmarshals the raw document into v.
func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.raw, v), string(r.raw))
}

// get walks the body by keys and indexes.
func (r reply) get(path ...any) any {
	var cur any = r.body
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := cur.(map[string]any)
			cur = m[k]
		case int:
			a, _ := cur.([]any)
			if k >= len(a) {
				return nil
			}
			cur = a[k]
		}
	}
	return cur
}

// seedRecordConfig is seed 003's first example: an m3u8 config without slice fields.
func seedRecordConfig(key testKey) *req {
	return call(key, "AddLiveAppRecordConfig", "AppName", "test123", "DomainName", "test.com",
		"OssBucket", "test123", "OssEndpoint", "oss-cn-shanghai.aliyuncs.com", "RecordFormat.1.Format", "m3u8")
}
