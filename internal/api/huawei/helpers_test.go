package huawei

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/secret"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store/sqldb/sqldbtest"
)

// *service.Service is the Service the app gives the handler.
var _ Service = (*service.Service)(nil)

// Projects and keys every test environment holds.
const (
	projectA = "proja"
	projectB = "projb"
	keyA     = "LRKEYAAAAAAAAAAAAAAAAAAA"
	secretA  = "secretAsecretAsecretAsecretA12"
	keyB     = "LRKEYBBBBBBBBBBBBBBBBBBB"
	secretB  = "secretBsecretBsecretBsecretB12"
	keyAdmin = "LRKEYADMINADMINADMINADMI"
	secAdmin = "secretAdminsecretAdminsecretAd"
)

// testNow is the handler's clock in tests: far from the real clock, so a signature dated with
// time.Now would be refused.
var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type env struct {
	t   testing.TB
	svc *service.Service
	h   http.Handler
}

// newEnv serves the handler over a real service on a SQLite file, with keys of projects A and
// B and an admin key of project "adm". The storage endpoint "nowhere" does not resolve.
func newEnv(t testing.TB) *env {
	t.Helper()
	db := sqldbtest.OpenSQLiteAt(t, filepath.Join(t.TempDir(), "liverec.db"))
	box, err := secret.New(bytes.Repeat([]byte{7}, secret.KeySize))
	require.NoError(t, err)
	svc := &service.Service{Store: db, Sealer: box, EndpointExists: func(name string) bool { return name != "nowhere" }}
	for _, k := range []struct {
		id, secret, project string
		admin               bool
	}{{keyA, secretA, projectA, false}, {keyB, secretB, projectB, false}, {keyAdmin, secAdmin, "adm", true}} {
		require.NoError(t, svc.EnsureAccessKey(t.Context(), k.id, k.secret, k.project, k.admin))
	}
	return &env{t: t, svc: svc, h: NewHandler(svc, Config{Now: func() time.Time { return testNow }})}
}

// req is one request to the handler. Unless noSign is set it is signed with key/secret
// (default project A's) at date (default testNow); tamper runs after signing.
type req struct {
	method, path, body string
	key, secret        string
	date               time.Time
	projectHeader      *string
	contentType        string
	noSign             bool
	headers            map[string]string
	tamper             func(r *http.Request)
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(q req) resp {
	e.t.Helper()
	r := e.build(q)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	res := resp{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	// Every response, whatever its status, carries a request id.
	require.NotEmpty(e.t, w.Header()["X-request-id"], "X-request-id missing: %s %s", q.method, q.path) //nolint:staticcheck // Huawei spells it X-request-id; the handler sets it past canonicalization
	return res
}

func (e *env) build(q req) *http.Request {
	r := httptest.NewRequest(q.method, "http://liverec.test"+q.path, strings.NewReader(q.body))
	if q.body != "" || q.contentType != "" {
		ct := q.contentType
		if ct == "" {
			ct = "application/json; charset=UTF-8"
		}
		r.Header.Set("Content-Type", ct)
	}
	r.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
	project := projectA
	if q.projectHeader != nil {
		project = *q.projectHeader
	}
	if project != "" {
		r.Header.Set("X-Project-Id", project)
	}
	for k, v := range q.headers {
		r.Header.Set(k, v)
	}
	if !q.noSign {
		key, sec := q.key, q.secret
		if key == "" {
			key, sec = keyA, secretA
		}
		date := q.date
		if date.IsZero() {
			date = testNow
		}
		testSign(r, []byte(q.body), key, sec, date)
	}
	if q.tamper != nil {
		q.tamper(r)
	}
	return r
}

// testSign signs r as the Huawei SDK does (core/auth/signer), written independently of sign.go:
// every header but Content-Type is signed, names lower-cased and sorted.
func testSign(r *http.Request, body []byte, ak, sk string, date time.Time) {
	r.Header.Set("X-Sdk-Date", date.UTC().Format("20060102T150405Z"))
	var names []string
	for k := range r.Header {
		if lk := strings.ToLower(k); !strings.HasPrefix(lk, "content-type") {
			names = append(names, lk)
		}
	}
	sort.Strings(names)
	var headers strings.Builder
	for _, n := range names {
		fmt.Fprintf(&headers, "%s:%s\n", n, strings.TrimSpace(r.Header.Get(n)))
	}
	var uri strings.Builder
	for i, seg := range strings.Split(r.URL.Path, "/") {
		if i > 0 {
			uri.WriteByte('/')
		}
		uri.WriteString(sdkEscape(seg))
	}
	if !strings.HasSuffix(uri.String(), "/") {
		uri.WriteByte('/')
	}
	// As the SDK's canonicalQueryString: names sorted, then each name's values (sorting the
	// joined pairs differs when a name is a prefix of another: " " and " 0", FuzzVerifySignature).
	q, _ := url.ParseQuery(r.URL.RawQuery)
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			pairs = append(pairs, sdkEscape(k)+"="+sdkEscape(v))
		}
	}
	payload := sha256.Sum256(body)
	canonical := strings.Join([]string{r.Method, uri.String(), strings.Join(pairs, "&"), headers.String(),
		strings.Join(names, ";"), hex.EncodeToString(payload[:])}, "\n")
	crHash := sha256.Sum256([]byte(canonical))
	sts := "SDK-HMAC-SHA256\n" + date.UTC().Format("20060102T150405Z") + "\n" + hex.EncodeToString(crHash[:])
	mac := hmac.New(sha256.New, []byte(sk))
	mac.Write([]byte(sts))
	r.Header.Set("Authorization", fmt.Sprintf("SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%x",
		ak, strings.Join(names, ";"), mac.Sum(nil)))
}

func sdkEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-~.", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// requireError checks an error response: status, code, and (when set) a part of the message.
func (r resp) requireError(t *testing.T, status int, code, msgPart string) {
	t.Helper()
	require.Equal(t, status, r.status, string(r.body))
	var body struct {
		Code string `json:"error_code"`
		Msg  string `json:"error_msg"`
	}
	require.NoError(t, json.Unmarshal(r.body, &body), string(r.body))
	require.Equal(t, code, body.Code, string(r.body))
	require.NotEmpty(t, body.Msg)
	if msgPart != "" {
		require.Contains(t, body.Msg, msgPart)
	}
}

func (r resp) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), string(r.body))
}

func ptr[T any](v T) *T { return &v }

func rulesPath(project string) string     { return "/v1/" + project + "/record/rules" }
func callbacksPath(project string) string { return "/v1/" + project + "/record/callbacks" }
