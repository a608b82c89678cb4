package aliyun

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSignatureKnownAnswer checks the signing functions against Alibaba's published example
// (the RPC signature document's DescribeRegions request, secret "testsecret").
func TestSignatureKnownAnswer(t *testing.T) {
	t.Parallel()
	p := params{"Format": "XML", "AccessKeyId": "testid", "Action": "DescribeRegions", "SignatureMethod": "HMAC-SHA1",
		"SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0", "Version": "2014-05-26",
		"Timestamp": "2016-02-23T12:46:24Z", "Signature": "ignored"}
	want := "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1" +
		"%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0" +
		"%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
	require.Equal(t, want, stringToSign(http.MethodGet, p))
	require.Equal(t, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=", sign("testsecret", want))
}

// TestSignatureMatchesTheSDKsCanonicalization compares the handler's canonical string with the
// test's own (the SDK's algorithm) on values that exercise every encoding rule.
func TestSignatureMatchesTheSDKsCanonicalization(t *testing.T) {
	t.Parallel()
	values := []string{"", "a b", "a+b", "a*b", "a~b", "a/b?c=d&e", "é中", "%7E", "!'()", "-_.", "\x00\x7f"}
	for _, v := range values {
		p := params{"Key": v, "SignatureType": "", "Z.1.A": v + "x"}
		u := url.Values{}
		for k, val := range p {
			u.Set(k, val)
		}
		require.Equal(t, testStringToSign("POST", u), stringToSign("POST", p), "value %q", v)
	}
	require.Equal(t, "a%20b%2Ac~d%2B%2F", popEncode("a b*c~d+/"))
}

func TestSignedRequestsAreAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A template with a space, "*", "+", "~" and non-ASCII: signature encoding edge cases.
	tricky := "rec ord/*+~é/{AppName}/{StreamName}_{StartTime}_{EndTime}"
	add := call(keyP1, "AddLiveAppRecordConfig", "DomainName", "a.com", "AppName", "live", "OssEndpoint", "oss-cn-shanghai.aliyuncs.com",
		"OssBucket", "b1", "RecordFormat.1.Format", "flv", "RecordFormat.1.OssObjectPrefix", tricky)
	e.do(add).ok(t)

	// Parameters in a form body, GET, and a form body behind a router that parsed it already.
	inBody := call(keyP1, "DescribeLiveRecordConfig", "DomainName", "a.com")
	inBody.inBody = true
	resp := e.do(inBody).ok(t)
	require.Equal(t, tricky, resp.get("LiveAppRecordList", "LiveAppRecord", 0, "RecordFormatList", "RecordFormat", 0, "OssObjectPrefix"))
	get := call(keyP1, "DescribeLiveRecordConfig", "DomainName", "a.com")
	get.method = http.MethodGet
	e.do(get).ok(t)
}

func TestBadCredentialsAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	describe := func(key testKey) *req { return call(key, "DescribeLiveRecordNotifyConfig", "DomainName", "a.com") }
	unknown := testKey{"LRNOSUCHKEYAAAAAAAAAAAAA", keyP1.secret}
	e.do(describe(unknown)).fails(t, http.StatusNotFound, "InvalidAccessKeyId.NotFound", "access key is not found")
	e.do(describe(keyRevoked)).fails(t, http.StatusNotFound, "InvalidAccessKeyId.NotFound")

	// A wrong secret: the message carries the server's string to sign, which equals the
	// client's, so the SDK can tell the user the secret is wrong.
	r := describe(testKey{keyP1.id, keyP2.secret})
	v := r.signed()
	resp := e.send(http.MethodPost, v, false)
	resp.fails(t, http.StatusBadRequest, "SignatureDoesNotMatch", "server string to sign is:"+testStringToSign("POST", v))

	// A parameter changed after signing, a signature made for another method.
	tampered := describe(keyP1)
	tampered.after = func(v url.Values) { v.Set("DomainName", "b.com") }
	e.do(tampered).fails(t, http.StatusBadRequest, "SignatureDoesNotMatch")
	asGet := describe(keyP1).signed()
	e.send(http.MethodPost, asGet, false).fails(t, http.StatusNotFound, "InvalidDomain.NotFound") // authenticated
	asGet.Set("SignatureNonce", nonce())
	e.send(http.MethodGet, asGet, false).fails(t, http.StatusBadRequest, "SignatureDoesNotMatch")

	require.NotContains(t, e.logs.String(), keyP1.secret)
	require.NotContains(t, e.logs.String(), keyP2.secret)
	require.NotContains(t, e.logs.String(), v.Get("Signature"))
}

func TestNoncesAreAcceptedOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := call(keyP1, "DescribeLiveRecordNotifyConfig", "DomainName", "a.com").signed()
	e.send(http.MethodPost, v, false).fails(t, http.StatusNotFound, "InvalidDomain.NotFound") // authenticated
	e.send(http.MethodPost, v, false).fails(t, http.StatusBadRequest, "SignatureNonceUsed", "nonce was used already")

	// Nonces are per key: another key may use the same one.
	other := call(keyP2, "DescribeLiveRecordNotifyConfig", "DomainName", "a.com")
	other.params.Set("SignatureNonce", v.Get("SignatureNonce"))
	e.do(other).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")

	// A forged request does not spend the nonce of the genuine one.
	genuine := call(keyP1, "DescribeLiveRecordNotifyConfig", "DomainName", "a.com")
	forged := *genuine
	forged.key = testKey{keyP1.id, "forged"}
	e.do(&forged).fails(t, http.StatusBadRequest, "SignatureDoesNotMatch")
	e.do(genuine).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
}

func TestTimestampsOutsideFifteenMinutesAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	at := func(ts string) *req {
		r := call(keyP1, "DescribeLiveRecordNotifyConfig", "DomainName", "a.com")
		r.params.Set("Timestamp", ts)
		return r
	}
	now := time.Now().UTC()
	e.do(at(now.Add(-16*time.Minute).Format(timeLayout))).fails(t, http.StatusBadRequest, "InvalidTimeStamp.Expired", "expired")
	e.do(at(now.Add(16*time.Minute).Format(timeLayout))).fails(t, http.StatusBadRequest, "InvalidTimeStamp.Expired")
	e.do(at(now.Add(-14*time.Minute).Format(timeLayout))).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	e.do(at(now.Add(14*time.Minute).Format(time.RFC3339Nano))).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	e.do(at("yesterday")).fails(t, http.StatusBadRequest, "InvalidTimeStamp.Format")
}

func TestMalformedRequestsAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	describe := func() *req { return call(keyP1, "DescribeLiveRecordNotifyConfig", "DomainName", "a.com") }
	for _, name := range []string{"Action", "Version", "AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion",
		"SignatureNonce", "Timestamp"} {
		r := describe()
		r.after = func(v url.Values) { v.Del(name) }
		e.do(r).fails(t, http.StatusBadRequest, "MissingParameter", `"`+name+`"`)
	}
	for _, tc := range []struct {
		name, value string
		status      int
		code        string
	}{
		{"Version", "2014-05-26", http.StatusBadRequest, "InvalidVersion"},
		{"Action", "DescribeLiveStreamSnapshotInfo", http.StatusNotFound, "InvalidAction.NotFound"},
		{"Action", "AddLiveStreamTranscode", http.StatusNotFound, "InvalidAction.NotFound"},
		{"SignatureMethod", "HMAC-SHA256", http.StatusBadRequest, "InvalidSignatureMethod"},
		{"SignatureVersion", "2.0", http.StatusBadRequest, "InvalidSignatureVersion"},
		{"SignatureType", "BEARERTOKEN", http.StatusBadRequest, "InvalidSignatureType"},
		{"SecurityToken", "sts-token", http.StatusBadRequest, "InvalidSecurityToken.Malformed"},
		{"SignatureNonce", strings.Repeat("n", 129), http.StatusBadRequest, "InvalidParameter"},
		{"Format", "XML", http.StatusBadRequest, "InvalidParameter"},
	} {
		r := describe()
		r.params.Set(tc.name, tc.value)
		e.do(r).fails(t, tc.status, tc.code)
	}

	// A parameter given twice with different values: which one was signed is ambiguous.
	dup := describe()
	dup.after = func(v url.Values) { v.Add("DomainName", "b.com") }
	e.do(dup).fails(t, http.StatusBadRequest, "InvalidParameter", "DomainName")

	big := describe()
	big.inBody = true
	big.params.Set("Pad", strings.Repeat("x", maxBodyBytes))
	e.do(big).fails(t, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge")

	put := describe()
	put.method = http.MethodPut
	e.do(put).fails(t, http.StatusMethodNotAllowed, "UnsupportedHTTPMethod")
}

// TestFormAlreadyParsedByTheRouter covers the app's router, which parses a form body to find
// the Action before handing the request over.
func TestFormAlreadyParsedByTheRouter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := NewHandler(e.svc, Config{})
	r := call(keyP1, "DescribeLiveRecordNotifyConfig", "DomainName", "a.com")
	hr := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", strings.NewReader(r.signed().Encode()))
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	require.NoError(t, hr.ParseForm())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, hr)
	require.Equal(t, http.StatusNotFound, w.Code, w.Body.String())
	require.Contains(t, w.Body.String(), "InvalidDomain.NotFound")
}
