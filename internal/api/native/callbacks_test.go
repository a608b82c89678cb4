package native

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// callbackKey is a Huawei-style key: 32 letters and digits.
const callbackKey = "K3yK3yK3yK3yK3yK3yK3yK3yK3yK3yK3"

func (r response) callback(t *testing.T, status int) recording.CallbackConfig {
	t.Helper()
	return decode[recording.CallbackConfig](t, r, status)
}

func TestCallbackLifecycleNeverShowsTheKey(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	r := c.json("p1", http.MethodPost, "/api/v1/callbacks", `{"domain":"A.com","url":"https://hooks.example/rec",
		"events":["file_completed","record_over"],"sign_type":"HMACSHA256","key":"`+callbackKey+`"}`)
	created := r.callback(t, http.StatusCreated)
	require.Equal(t, "/api/v1/callbacks/"+created.ID, r.header.Get("Location"))
	require.NotContains(t, string(r.body), `"key"`)
	require.Equal(t, recording.CallbackConfig{
		ID: created.ID, Project: "p1", Dialect: recording.DialectStandard, Domain: "a.com", App: "*",
		URL: "https://hooks.example/rec", Events: []recording.Event{recording.EventFileCompleted, recording.EventRecordOver},
		SignType: recording.SignHMACSHA256, HasKey: true, Enabled: true,
		CreatedAt: created.CreatedAt, UpdatedAt: created.UpdatedAt,
	}, created)
	path := "/api/v1/callbacks/" + created.ID
	require.Equal(t, created, c.json("p1", http.MethodGet, path, "").callback(t, http.StatusOK))

	// Without a key, has_key says so.
	bare := c.json("p1", http.MethodPost, "/api/v1/callbacks", `{"dialect":"aliyun","domain":"a.com","app":"live",
		"url":"http://10.0.0.5:8080/cb","need_status_notify":true}`).callback(t, http.StatusCreated)
	require.False(t, bare.HasKey)
	require.Equal(t, recording.DialectAliyun, bare.Dialect)
	require.True(t, bare.NeedStatusNotify)

	l := decode[callbackList](t, c.json("p1", http.MethodGet, "/api/v1/callbacks", ""), http.StatusOK)
	require.Equal(t, callbackList{Total: 2, Callbacks: []recording.CallbackConfig{created, bare}}, l)
	l = decode[callbackList](t, c.json("p1", http.MethodGet, "/api/v1/callbacks?dialect=aliyun", ""), http.StatusOK)
	require.Equal(t, callbackList{Total: 1, Callbacks: []recording.CallbackConfig{bare}}, l)

	// A PUT without a key keeps it; other fields are replaced.
	updated := c.json("p1", http.MethodPut, path, `{"domain":"a.com","url":"https://hooks.example/v2"}`).callback(t, http.StatusOK)
	require.True(t, updated.HasKey)
	require.Equal(t, "https://hooks.example/v2", updated.URL)
	require.Empty(t, updated.Events)
	require.Equal(t, created.CreatedAt, updated.CreatedAt)
	require.Equal(t, updated, c.json("p1", http.MethodGet, path, "").callback(t, http.StatusOK))
	stored, err := c.svc.GetCallback(t.Context(), service.Principal{Project: "p1"}, created.ID)
	require.NoError(t, err)
	key, err := c.svc.CallbackKey(stored)
	require.NoError(t, err)
	require.Equal(t, callbackKey, key)

	// A PUT with a key replaces it.
	newKey := strings.Repeat("Ab1", 20)
	require.True(t, c.json("p1", http.MethodPut, path, `{"domain":"a.com","url":"https://hooks.example/v2","key":"`+newKey+`"}`).
		callback(t, http.StatusOK).HasKey)
	stored, err = c.svc.GetCallback(t.Context(), service.Principal{Project: "p1"}, created.ID)
	require.NoError(t, err)
	key, err = c.svc.CallbackKey(stored)
	require.NoError(t, err)
	require.Equal(t, newKey, key)

	// Same dialect, domain and app: conflict.
	c.json("p1", http.MethodPost, "/api/v1/callbacks", `{"domain":"a.com","url":"https://x.example/"}`).
		requireError(t, http.StatusConflict, codeConflict, "")

	r = c.json("p1", http.MethodDelete, path, "")
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	c.json("p1", http.MethodGet, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("p1", http.MethodDelete, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")

	c.requireNeverShown(t, callbackKey)
	c.requireNeverShown(t, newKey)
}

func TestDisabledCallbacksAreReEnabledThroughTheAPI(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	cb := c.json("p1", http.MethodPost, "/api/v1/callbacks", `{"domain":"a.com","url":"https://hooks.example/"}`).
		callback(t, http.StatusCreated)
	path := "/api/v1/callbacks/" + cb.ID

	// The delivery worker disables a configuration whose receiver answered 410.
	cb.Enabled, cb.DisabledReason = false, "receiver answered 410 Gone"
	require.NoError(t, c.svc.Store.CallbackUpdate(t.Context(), &cb))

	got := c.json("p1", http.MethodGet, path, "").callback(t, http.StatusOK)
	require.False(t, got.Enabled)
	require.Equal(t, "receiver answered 410 Gone", got.DisabledReason)

	// Editing other fields leaves it disabled; enabled: true re-enables it.
	got = c.json("p1", http.MethodPut, path, `{"domain":"a.com","url":"https://hooks.example/new"}`).callback(t, http.StatusOK)
	require.False(t, got.Enabled)
	require.Equal(t, "receiver answered 410 Gone", got.DisabledReason)
	got = c.json("p1", http.MethodPut, path, `{"domain":"a.com","url":"https://hooks.example/new","enabled":true}`).callback(t, http.StatusOK)
	require.True(t, got.Enabled)
	require.Empty(t, got.DisabledReason)
	require.Equal(t, got, c.json("p1", http.MethodGet, path, "").callback(t, http.StatusOK))

	// An operator may disable it too.
	got = c.json("p1", http.MethodPut, path, `{"domain":"a.com","url":"https://hooks.example/new","enabled":false}`).callback(t, http.StatusOK)
	require.False(t, got.Enabled)
	require.Equal(t, disabledByAPI, got.DisabledReason)
}

func TestBadCallbacksAreRefusedWithTheirField(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	existing := c.json("p1", http.MethodPost, "/api/v1/callbacks", `{"domain":"a.com","url":"https://hooks.example/"}`).
		callback(t, http.StatusCreated)
	for _, tc := range []struct{ name, body, field string }{
		{"NoDomain", `{"url":"https://hooks.example/"}`, "domain"},
		{"WildcardDomain", `{"domain":"*","url":"https://hooks.example/"}`, "domain"},
		{"NoURL", `{"domain":"a.com"}`, "url"},
		{"FTPURL", `{"domain":"a.com","url":"ftp://hooks.example/"}`, "url"},
		{"CredentialsInURL", `{"domain":"a.com","url":"https://u:p@hooks.example/"}`, "url"},
		{"BadOnDemandURL", `{"domain":"a.com","url":"https://hooks.example/","on_demand_url":"nope"}`, "on_demand_url"},
		{"UnknownDialect", `{"dialect":"tencent","domain":"a.com","url":"https://hooks.example/"}`, "dialect"},
		{"UnknownSignType", `{"domain":"a.com","url":"https://hooks.example/","sign_type":"SHA1"}`, "sign_type"},
		{"ShortKey", `{"domain":"a.com","url":"https://hooks.example/","key":"short"}`, "key"},
		{"KeyWithSymbols", `{"domain":"a.com","url":"https://hooks.example/","key":"` + strings.Repeat("a-", 20) + `"}`, "key"},
		{"UnknownEvent", `{"domain":"a.com","url":"https://hooks.example/","events":["RECORD_OVER"]}`, "events[0]"},
		{"RepeatedEvent", `{"domain":"a.com","url":"https://hooks.example/","events":["record_over","record_over"]}`, "events[1]"},
		{"UnknownField", `{"domain":"a.com","url":"https://hooks.example/","has_key":true}`, "has_key"},
		{"WrongType", `{"domain":"a.com","url":"https://hooks.example/","need_status_notify":"yes"}`, "need_status_notify"},
		{"EmptyBody", ``, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.json("p1", http.MethodPost, "/api/v1/callbacks", tc.body).requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
			c.json("p1", http.MethodPut, "/api/v1/callbacks/"+existing.ID, tc.body).requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
		})
	}
	c.json("p1", http.MethodPost, "/api/v1/callbacks", `{"domain":"b.com","url":"https://hooks.example/","enabled":false}`).
		requireError(t, http.StatusBadRequest, codeInvalidArgument, "enabled")
	c.do("p1", http.MethodPost, "/api/v1/callbacks", "text/plain", `{"domain":"b.com","url":"https://hooks.example/"}`).
		requireError(t, http.StatusUnsupportedMediaType, codeUnsupportedMedia, "")
	require.Equal(t, existing, c.json("p1", http.MethodGet, "/api/v1/callbacks/"+existing.ID, "").callback(t, http.StatusOK))
}
