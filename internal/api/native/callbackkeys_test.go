package native

import (
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // Alibaba's and Huawei's callback signatures are MD5 by definition
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/notify/dialect"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// TestGeneratedCallbackKeysSign: a key from POST /api/v1/callback-keys has its dialect's form,
// is accepted by POST /api/v1/callbacks for that dialect, and a delivery of a test event signed
// with it verifies as its receiver checks it.
func TestGeneratedCallbackKeysSign(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	p1 := service.Principal{Project: "p1"}
	for i, tc := range []struct {
		body    string
		dialect recording.Dialect
		form    string
	}{
		{"", recording.DialectStandard, `^whsec_[A-Za-z0-9+/]{43}=$`}, // no body: the standard dialect
		{`{}`, recording.DialectStandard, `^whsec_[A-Za-z0-9+/]{43}=$`},
		{`{"dialect":"standard"}`, recording.DialectStandard, `^whsec_[A-Za-z0-9+/]{43}=$`},
		{`{"dialect":"aliyun"}`, recording.DialectAliyun, `^[A-Za-z0-9]{32}$`},
		{`{"dialect":"huawei"}`, recording.DialectHuawei, `^[A-Za-z0-9]{32}$`},
	} {
		contentType := "application/json"
		if tc.body == "" {
			contentType = ""
		}
		r := c.send(c.as(p1), http.MethodPost, "/api/v1/callback-keys", contentType, tc.body)
		got := decode[callbackKeyResponse](t, r, http.StatusCreated)
		require.Equal(t, "no-store", r.header.Get("Cache-Control"), "a secret is not cached")
		require.Equal(t, tc.dialect, got.Dialect)
		require.Regexp(t, tc.form, got.Key)
		again := decode[callbackKeyResponse](t, c.send(c.as(p1), http.MethodPost, "/api/v1/callback-keys",
			contentType, tc.body), http.StatusCreated)
		require.NotEqual(t, got.Key, again.Key, "every key is new")

		// The key is accepted for its dialect (Huawei signed with MD5 here, the simpler check).
		cfgBody, err := json.Marshal(map[string]any{"dialect": tc.dialect, "domain": "a.com",
			"app": fmt.Sprintf("live%d", i),
			"url": "https://hooks.example:8443/cb", "events": []string{"file_completed"}, "sign_type": "MD5",
			"key": got.Key})
		require.NoError(t, err)
		cb := c.json("p1", http.MethodPost, "/api/v1/callbacks", string(cfgBody)).callback(t, http.StatusCreated)
		require.True(t, cb.HasKey)

		// A delivery of a test event, signed with the stored key as the notifier signs it.
		sent := decode[testEventResponse](t, c.json("p1", http.MethodPost, "/api/v1/callbacks/"+cb.ID+"/test", ""),
			http.StatusAccepted)
		d := decode[recording.Delivery](t, c.json("p1", http.MethodGet, "/api/v1/deliveries/"+sent.DeliveryID, ""),
			http.StatusOK)
		require.NotNil(t, d.Event)
		stored, err := c.svc.GetCallback(t.Context(), p1, cb.ID)
		require.NoError(t, err)
		key, err := c.svc.CallbackKey(stored)
		require.NoError(t, err)
		require.Equal(t, got.Key, key)
		req, ok, err := dialect.Encode(d.Event, stored, key, c.clock.Now())
		require.NoError(t, err)
		require.True(t, ok)
		verifySignature(t, tc.dialect, got.Key, req)
	}
}

// verifySignature checks req's signature as a receiver holding key does, from each dialect's
// published algorithm rather than the signer's code.
func verifySignature(t *testing.T, d recording.Dialect, key string, req dialect.Request) {
	t.Helper()
	switch d {
	case recording.DialectStandard:
		secret, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(key, "whsec_"))
		require.NoError(t, err)
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(req.Header.Get("Webhook-Id") + "." + req.Header.Get("Webhook-Timestamp") + "."))
		mac.Write(req.Body)
		require.Equal(t, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)), req.Header.Get("Webhook-Signature"))
	case recording.DialectAliyun:
		u, err := url.Parse(req.URL)
		require.NoError(t, err)
		sum := md5.Sum([]byte(u.Host + "|" + req.Header.Get("Ali-Live-Timestamp") + "|" + key)) //nolint:gosec // the dialect's
		require.Equal(t, hex.EncodeToString(sum[:]), req.Header.Get("Ali-Live-Signature"))
	case recording.DialectHuawei:
		var body struct {
			AuthSign      string `json:"auth_sign"`
			AuthTimestamp string `json:"auth_timestamp"`
		}
		require.NoError(t, json.Unmarshal(req.Body, &body))
		require.NotEmpty(t, body.AuthTimestamp)
		sum := md5.Sum([]byte(key + body.AuthTimestamp)) //nolint:gosec // the dialect's
		require.Equal(t, hex.EncodeToString(sum[:]), body.AuthSign)
	default:
		t.Fatalf("no check for dialect %s", d)
	}
}

// TestCallbackKeyRefusals: an unknown dialect or field is a 400 naming it; credentials are
// needed like everywhere.
func TestCallbackKeyRefusals(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	c.json("p1", http.MethodPost, "/api/v1/callback-keys", `{"dialect":"native"}`).
		requireError(t, http.StatusBadRequest, codeInvalidArgument, "dialect")
	c.json("p1", http.MethodPost, "/api/v1/callback-keys", `{"dialect":"standard","bytes":64}`).
		requireError(t, http.StatusBadRequest, codeInvalidArgument, "bytes")
	c.json("", http.MethodPost, "/api/v1/callback-keys", "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
	c.json("p1", http.MethodGet, "/api/v1/callback-keys", "").
		requireError(t, http.StatusMethodNotAllowed, codeMethodNotAllowed, "")
}
