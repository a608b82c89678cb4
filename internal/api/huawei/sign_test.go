package huawei

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/service"
)

// sdkVector is a request signed by huaweicloud-sdk-go-v3 v0.1.207's signer.Sign with
// AK "AKTEST", SK "SKSECRET" (path parameter "a b:c", a query with a space, a JSON body),
// exactly as its ConvertRequest puts it on the wire.
var sdkVector = struct {
	url, body, authorization string
}{
	url:           "http://127.0.0.1:8080/v1/proj1/record/rules/a%20b:c?limit=5&publish_domain=x%20y.com",
	body:          "{\"publish_domain\":\"push.example.com\",\"app\":\"live\"}\n",
	authorization: "SDK-HMAC-SHA256 Access=AKTEST, SignedHeaders=user-agent;x-project-id;x-sdk-date, Signature=f1ee5202c0896866047b4908cb95272fd51b729a4b44148fc7b8ed09a075c6fc",
}

func sdkVectorRequest() *http.Request {
	r := httptest.NewRequest(http.MethodPut, sdkVector.url, strings.NewReader(sdkVector.body))
	r.Header.Set("Content-Type", "application/json; charset=UTF-8")
	r.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
	r.Header.Set("X-Project-Id", "proj1")
	r.Header.Set("X-Sdk-Date", "20260102T030405Z")
	r.Header.Set("Authorization", sdkVector.authorization)
	return r
}

func TestSignatureMatchesSDKVector(t *testing.T) {
	t.Parallel()
	r := sdkVectorRequest()
	a, err := parseAuthorization(r.Header.Get("Authorization"))
	require.NoError(t, err)
	ph, err := payloadHash(r, []byte(sdkVector.body))
	require.NoError(t, err)
	cr, err := canonicalRequest(r, a.signedHeaders, ph)
	require.NoError(t, err)
	require.Equal(t, "PUT\n/v1/proj1/record/rules/a%20b%3Ac/\nlimit=5&publish_domain=x%20y.com\n"+
		"user-agent:huaweicloud-usdk-go/3.0\nx-project-id:proj1\nx-sdk-date:20260102T030405Z\n\n"+
		"user-agent;x-project-id;x-sdk-date\n"+ph, cr)
	date, _ := time.Parse(sdkDateLayout, "20260102T030405Z")
	require.Equal(t, hex.EncodeToString(a.signature), hex.EncodeToString(signature("SKSECRET", stringToSign(date, cr))))
}

func TestSDKVectorThroughTheHandler(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.NoError(t, e.svc.EnsureAccessKey(t.Context(), "AKTEST", "SKSECRET", "proj1", false))
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, sdkVectorRequest())
	// Authenticated: the body is then refused for what it lacks, not for its signature.
	resp{status: w.Code, body: w.Body.Bytes()}.requireError(t, http.StatusBadRequest, codeBadParameter, "default_record_config")

	require.NoError(t, e.svc.EnsureAccessKey(t.Context(), "AKTEST", "OTHERSECRET", "proj1", false))
	w = httptest.NewRecorder()
	e.h.ServeHTTP(w, sdkVectorRequest())
	resp{status: w.Code, body: w.Body.Bytes()}.requireError(t, http.StatusUnauthorized, codeAuth, "")
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Tokens descend from access keys: mint them with keys of each project.
	mint := func(project string) string {
		k, _, err := e.svc.CreateAccessKey(t.Context(), service.Principal{Project: project}, "", false, "")
		require.NoError(t, err)
		token, _, err := e.svc.CreateToken(t.Context(), service.PrincipalOf(k), time.Hour)
		require.NoError(t, err)
		return token
	}
	token, tokenB := mint(projectA), mint(projectB)
	revoked, revokedSecret, err := e.svc.CreateAccessKey(t.Context(), service.Principal{Project: projectA}, "", false, "")
	require.NoError(t, err)
	require.NoError(t, e.svc.RevokeAccessKey(t.Context(), service.Principal{Project: projectA}, "", revoked.ID))

	list := rulesPath(projectA)
	cases := []struct {
		name   string
		q      req
		status int
		code   string
	}{
		{"Signed", req{}, http.StatusOK, ""},
		{"SignedWithQuery", req{path: list + "?limit=5&publish_domain=a.com"}, http.StatusOK, ""},
		{"SkewJustInside", req{date: testNow.Add(-15 * time.Minute)}, http.StatusOK, ""},
		{"SkewFuture", req{date: testNow.Add(15*time.Minute + time.Second)}, http.StatusUnauthorized, codeAuth},
		{"SkewPast", req{date: testNow.Add(-16 * time.Minute)}, http.StatusUnauthorized, codeAuth},
		{"NoCredentials", req{noSign: true}, http.StatusUnauthorized, codeAuth},
		{"UnknownKey", req{key: "LRNOSUCHKEYNOSUCHKEYNOSU", secret: secretA}, http.StatusUnauthorized, codeAuth},
		{"WrongSecret", req{secret: "wrong", key: keyA}, http.StatusUnauthorized, codeAuth},
		{"RevokedKey", req{key: revoked.ID, secret: revokedSecret}, http.StatusUnauthorized, codeAuth},
		{"TamperedQuery", req{path: list + "?limit=5", tamper: func(r *http.Request) { r.URL.RawQuery = "limit=6" }},
			http.StatusUnauthorized, codeAuth},
		{"TamperedPath", req{tamper: func(r *http.Request) { r.URL.Path = rulesPath(projectA) + "/x" }},
			http.StatusUnauthorized, codeAuth},
		{"TamperedSignedHeader", req{tamper: func(r *http.Request) { r.Header.Set("User-Agent", "other") }},
			http.StatusUnauthorized, codeAuth},
		{"TamperedMethod", req{tamper: func(r *http.Request) { r.Method = http.MethodDelete; r.URL.Path += "/x" }},
			http.StatusUnauthorized, codeAuth},
		{"MalformedDate", req{tamper: func(r *http.Request) { r.Header.Set("X-Sdk-Date", "2026-01-02T03:04:05Z") }},
			http.StatusUnauthorized, codeAuth},
		{"OtherAlgorithm", req{tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SDK-HMAC-SHA256", "SDK-HMAC-SM3", 1))
		}}, http.StatusUnauthorized, codeAuth},
		{"GarbageAuthorization", req{tamper: func(r *http.Request) { r.Header.Set("Authorization", "SDK-HMAC-SHA256 x") }},
			http.StatusUnauthorized, codeAuth},
		{"DateNotSigned", req{tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-sdk-date", "", 1))
		}}, http.StatusUnauthorized, codeAuth},
		{"SignedHeaderMissing", req{headers: map[string]string{"X-Extra": "1"},
			tamper: func(r *http.Request) { r.Header.Del("X-Extra") }}, http.StatusUnauthorized, codeAuth},
		{"NoProjectHeader", req{projectHeader: ptr("")}, http.StatusUnauthorized, codeAuth},
		{"ProjectHeaderDiffers", req{projectHeader: ptr(projectB)}, http.StatusUnauthorized, codeAuth},
		{"KeyOfAnotherProject", req{key: keyB, secret: secretB}, http.StatusForbidden, codeDenied},
		{"AdminKeyOfAnotherProject", req{key: keyAdmin, secret: secAdmin}, http.StatusOK, ""},
		{"Token", req{noSign: true, headers: map[string]string{"X-Auth-Token": token}}, http.StatusOK, ""},
		{"TokenOfAnotherProject", req{noSign: true, headers: map[string]string{"X-Auth-Token": tokenB}}, http.StatusForbidden, codeDenied},
		{"BadToken", req{noSign: true, headers: map[string]string{"X-Auth-Token": "lrt_nope"}}, http.StatusUnauthorized, codeAuth},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := tc.q
			if q.method == "" {
				q.method = http.MethodGet
			}
			if q.path == "" {
				q.path = list
			}
			r := e.do(q)
			if tc.code == "" {
				require.Equal(t, tc.status, r.status, string(r.body))
				return
			}
			r.requireError(t, tc.status, tc.code, "")
		})
	}
}

func TestSignedHostAndContentHash(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := `{"publish_domain":"a.com","app":"*"}`
	// Host signed; X-Sdk-Content-Sha256 standing for the payload must match the body.
	r := e.build(req{method: http.MethodPost, path: rulesPath(projectA), body: body, noSign: true})
	r.Header.Set("Host", r.Host) // testSign signs what Header holds; the server reads Host apart
	testSign(r, []byte(body), keyA, secretA, testNow)
	r.Header.Del("Host")
	require.Contains(t, r.Header.Get("Authorization"), "SignedHeaders=host;")
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	resp{status: w.Code, body: w.Body.Bytes()}.requireError(t, http.StatusBadRequest, codeBadParameter, "default_record_config")

	// UNSIGNED-PAYLOAD in place of the hash is refused for a body, taken for none.
	for _, tc := range []struct {
		body   string
		status int
	}{{body, http.StatusUnauthorized}, {"", http.StatusOK}} {
		method := http.MethodPost
		if tc.body == "" {
			method = http.MethodGet
		}
		r := e.build(req{method: method, path: rulesPath(projectA), body: tc.body, noSign: true})
		r.Header.Set("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD")
		signWithPayloadHash(r, "UNSIGNED-PAYLOAD")
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		require.Equal(t, tc.status, w.Code, w.Body.String())
	}
}

// signWithPayloadHash signs r with project A's key using hash in place of the body's hash, as
// the SDK does when it sets X-Sdk-Content-Sha256.
func signWithPayloadHash(r *http.Request, hash string) {
	r.Header.Set("X-Sdk-Date", testNow.Format(sdkDateLayout))
	signed := []string{"user-agent", "x-project-id", "x-sdk-content-sha256", "x-sdk-date"}
	cr, err := canonicalRequest(r, signed, hash)
	if err != nil {
		panic(err)
	}
	r.Header.Set("Authorization", "SDK-HMAC-SHA256 Access="+keyA+", SignedHeaders="+strings.Join(signed, ";")+
		", Signature="+hex.EncodeToString(signature(secretA, stringToSign(testNow, cr))))
}

func TestTamperedBodyIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := `{"publish_domain":"a.com","app":"*"}`
	r := e.do(req{method: http.MethodPost, path: rulesPath(projectA), body: body, tamper: func(r *http.Request) {
		r.Body = io.NopCloser(strings.NewReader(strings.Replace(body, "a.com", "b.com", 1)))
	}})
	r.requireError(t, http.StatusUnauthorized, codeAuth, "signature")
}

func TestRoutesAndRequestIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(req{method: http.MethodGet, path: "/v1/" + projectA + "/record/nothing"}).requireError(t, http.StatusNotFound, codeNoAPI, "")
	e.do(req{method: http.MethodPatch, path: rulesPath(projectA)}).requireError(t, http.StatusBadRequest, codeMethod, "PATCH")
	r := e.do(req{method: http.MethodGet, path: rulesPath(projectA)})
	require.Equal(t, http.StatusOK, r.status)
	id := r.header["X-request-id"][0] //nolint:staticcheck // Huawei spells it X-request-id; the handler sets it past canonicalization
	parts := strings.Split(id, "-")
	require.GreaterOrEqual(t, len(parts), 3, id)
	require.Len(t, parts[0], 32)
	require.Equal(t, "1767323045", parts[1]) // testNow
	//nolint:staticcheck // Huawei spells it X-request-id, as above
	require.NotEqual(t, id, e.do(req{method: http.MethodGet, path: rulesPath(projectA)}).header["X-request-id"][0])
}
