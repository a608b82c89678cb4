package native

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

func (failingService) SendTestEvent(context.Context, service.Principal, string, recording.Event) (*service.TestEvent, error) {
	return nil, errSecret
}

func (failingService) PreviewObjects(context.Context, service.Principal, *recording.Rule, service.StreamKey) *service.Preview {
	return &service.Preview{Objects: map[string]string{}}
}

func TestWhoamiDescribesTheCaller(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	k, secret, err := c.svc.CreateAccessKey(t.Context(), service.Principal{Project: "p1", Admin: true}, "p1", true, "console")
	require.NoError(t, err)

	// An access key: no expiry.
	r := c.send(basicAuth(k.ID, secret), http.MethodGet, "/api/v1/whoami", "", "")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.NotContains(t, string(r.body), "expires_at")
	w := decode[whoamiResponse](t, r, http.StatusOK)
	require.Equal(t, whoamiResponse{KeyID: k.ID, AccessKeyID: k.ID, Project: "p1", Admin: true}, w)

	// A token minted by that key: the token's id and expiry.
	created := decode[struct {
		Token string `json:"token"`
		ID    string `json:"id"`
	}](t, c.send(basicAuth(k.ID, secret), http.MethodPost, "/api/v1/tokens", "application/json", `{"ttl_s":600}`), http.StatusCreated)
	w = decode[whoamiResponse](t, c.send(bearer(created.Token), http.MethodGet, "/api/v1/whoami", "", ""), http.StatusOK)
	require.Equal(t, "p1", w.Project)
	require.True(t, w.Admin)
	require.Equal(t, k.ID, w.AccessKeyID)
	require.NotEqual(t, k.ID, w.KeyID)
	require.NotNil(t, w.ExpiresAt)
	require.Equal(t, c.clock.Now().Add(600*time.Second), *w.ExpiresAt)

	c.do("", http.MethodGet, "/api/v1/whoami", "", "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
}

func TestTestEventIsDeliveredLikeAnyOther(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	cb := c.json("p1", http.MethodPost, "/api/v1/callbacks", `{"dialect":"huawei","domain":"a.com","app":"live",
		"url":"https://hooks.example/hw","events":["record_started","file_completed"],
		"sign_type":"HMACSHA256","key":"`+callbackKey+`"}`).callback(t, http.StatusCreated)
	path := "/api/v1/callbacks/" + cb.ID + "/test"

	// No body: the first subscribed event in the documented order.
	r := c.do("p1", http.MethodPost, path, "", "")
	sent := decode[testEventResponse](t, r, http.StatusAccepted)
	require.Equal(t, recording.EventFileCompleted, sent.Event)
	require.Equal(t, "/api/v1/deliveries/"+sent.DeliveryID, r.header.Get("Location"))
	d := decode[recording.Delivery](t, c.json("p1", http.MethodGet, "/api/v1/deliveries/"+sent.DeliveryID, ""), http.StatusOK)
	require.Equal(t, cb.ID, d.CallbackID)
	require.Equal(t, sent.EventID, d.EventID)
	require.Equal(t, recording.DeliveryPending, d.State)
	require.NotNil(t, d.Event)
	require.Equal(t, "liverec_test", d.Event.Data.Stream)
	require.Equal(t, "a.com", d.Event.Data.Domain)

	// A named event.
	sent = decode[testEventResponse](t, c.json("p1", http.MethodPost, path, `{"event":"record_started"}`), http.StatusAccepted)
	require.Equal(t, recording.EventRecordStarted, sent.Event)
	l := decode[struct {
		Total int `json:"total"`
	}](t, c.json("p1", http.MethodGet, "/api/v1/deliveries", ""), http.StatusOK)
	require.Equal(t, 2, l.Total)

	// Refusals: an event Huawei has no callback for, an unknown field, another project, a
	// disabled configuration.
	c.json("p1", http.MethodPost, path, `{"event":"record_paused"}`).requireError(t, http.StatusBadRequest, codeInvalidArgument, "event")
	c.json("p1", http.MethodPost, path, `{"type":"record_over"}`).requireError(t, http.StatusBadRequest, codeInvalidArgument, "type")
	c.json("p2", http.MethodPost, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("p1", http.MethodPost, "/api/v1/callbacks/nope/test", "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("p1", http.MethodPut, "/api/v1/callbacks/"+cb.ID, `{"dialect":"huawei","domain":"a.com","app":"live",
		"url":"https://hooks.example/hw","enabled":false}`).callback(t, http.StatusOK)
	r = c.json("p1", http.MethodPost, path, "")
	r.requireError(t, http.StatusConflict, codeConflict, "")
	require.Contains(t, string(r.body), "disabled through the API")
	c.do("p1", http.MethodGet, path, "", "").requireError(t, http.StatusMethodNotAllowed, codeMethodNotAllowed, "")
}

func TestRulePreview(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	// The service's naming is tested in the service; here, what reaches it.
	c.svc.ObjectKey = func(n service.ObjectName) string {
		kind := string(n.Format)
		if n.Slice {
			kind = "slice"
		}
		return strings.Join([]string{n.Storage.Bucket, n.Domain, n.App, n.Stream, n.Template, kind}, "|")
	}
	type preview struct {
		Stream  service.StreamKey `json:"stream"`
		Objects map[string]string `json:"objects"`
	}
	// Invalid as a rule (no domain, a negative cycle, an unknown mode): still previewed.
	p := decode[preview](t, c.json("p1", http.MethodPost, "/api/v1/rules/preview", `{"app":"live","mode":"sometimes",
		"formats":[{"format":"mp4","cycle_s":-1,"object_template":"{StreamName}"},{"format":"hls"}],
		"storage":{"bucket":"b9"},"sample":{"stream":"s1"}}`), http.StatusOK)
	require.Equal(t, service.StreamKey{Domain: "example.com", App: "live", Stream: "s1"}, p.Stream)
	require.Equal(t, map[string]string{
		"mp4":       "b9|example.com|live|s1|{StreamName}|mp4",
		"hls":       "b9|example.com|live|s1|" + recording.DefaultFileTemplate + "|hls",
		"hls_slice": "b9|example.com|live|s1|" + recording.DefaultSliceTemplate + "|slice",
	}, p.Objects)

	// "stream" as a string is the rule's stream; as an object, the sample.
	p = decode[preview](t, c.json("p1", http.MethodPost, "/api/v1/rules/preview", `{"domain":"A.com","app":"*","stream":"cam",
		"formats":[{"format":"flv"}]}`), http.StatusOK)
	require.Equal(t, service.StreamKey{Domain: "a.com", App: "live", Stream: "cam"}, p.Stream)
	require.Len(t, p.Objects, 1)
	p = decode[preview](t, c.json("p1", http.MethodPost, "/api/v1/rules/preview", `{"domain":"a.com",
		"stream":{"app":"app2","stream":"x"},"formats":[{"format":"flv"}]}`), http.StatusOK)
	require.Equal(t, service.StreamKey{Domain: "a.com", App: "app2", Stream: "x"}, p.Stream)

	// What cannot be read as a rule is refused; nothing was written by any of this.
	c.json("p1", http.MethodPost, "/api/v1/rules/preview", `{"formats":[{"format":"flv","cycle_s":"x"}]}`).
		requireError(t, http.StatusBadRequest, codeInvalidArgument, "formats[0].cycle_s")
	c.json("p1", http.MethodPost, "/api/v1/rules/preview", `{"stream":{"bogus":1}}`).
		requireError(t, http.StatusBadRequest, codeInvalidArgument, "stream.bogus")
	c.do("p1", http.MethodPost, "/api/v1/rules/preview", "text/plain", `{}`).
		requireError(t, http.StatusUnsupportedMediaType, codeUnsupportedMedia, "")
	l := decode[ruleList](t, c.json("p1", http.MethodGet, "/api/v1/rules", ""), http.StatusOK)
	require.Zero(t, l.Total)
}
