package native

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// Project B never sees, changes or deletes project A's objects: it gets 404 for A's ids and
// A's objects never appear in B's lists.
func TestProjectsAreIsolated(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	rule := decode[recording.Rule](t, c.json("A", http.MethodPost, "/api/v1/rules", `{"domain":"a.com","app":"live","formats":[{"format":"flv"}]}`), http.StatusCreated)
	cb := c.json("A", http.MethodPost, "/api/v1/callbacks", `{"domain":"a.com","url":"https://hooks.example/","key":"`+callbackKey+`"}`).
		callback(t, http.StatusCreated)
	key := decode[accessKeyCreated](t, c.json("A", http.MethodPost, "/api/v1/access-keys", ""), http.StatusCreated)
	// B has objects of its own, on its own domain.
	require.Equal(t, http.StatusCreated, c.json("B", http.MethodPost, "/api/v1/rules", `{"domain":"b.com","app":"live","formats":[{"format":"flv"}]}`).status)
	require.Equal(t, http.StatusCreated, c.json("B", http.MethodPost, "/api/v1/callbacks", `{"domain":"b.com","url":"https://hooks.example/"}`).status)
	require.Equal(t, http.StatusCreated, c.json("B", http.MethodPost, "/api/v1/access-keys", "").status)

	for _, req := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/rules/" + rule.ID, ""},
		{http.MethodPut, "/api/v1/rules/" + rule.ID, `{"domain":"b.com","app":"x","formats":[{"format":"flv"}]}`},
		{http.MethodDelete, "/api/v1/rules/" + rule.ID, ""},
		{http.MethodGet, "/api/v1/callbacks/" + cb.ID, ""},
		{http.MethodPut, "/api/v1/callbacks/" + cb.ID, `{"domain":"b.com","app":"x","url":"https://hooks.example/"}`},
		{http.MethodDelete, "/api/v1/callbacks/" + cb.ID, ""},
		{http.MethodDelete, "/api/v1/access-keys/" + key.ID, ""},
		// A's domain does not exist for B: neither rules nor callbacks can claim it.
		{http.MethodPost, "/api/v1/rules", `{"domain":"a.com","app":"other","formats":[{"format":"flv"}]}`},
		{http.MethodPost, "/api/v1/callbacks", `{"domain":"a.com","app":"other","url":"https://hooks.example/"}`},
	} {
		c.json("B", req.method, req.path, req.body).requireError(t, http.StatusNotFound, codeNotFound, "")
	}

	for _, path := range []string{"/api/v1/rules", "/api/v1/callbacks", "/api/v1/access-keys", "/api/v1/domains"} {
		r := c.json("B", http.MethodGet, path, "")
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		for _, id := range []string{rule.ID, cb.ID, key.ID, "a.com"} {
			require.NotContains(t, string(r.body), id, path)
		}
		want := `"total":1`
		if path == "/api/v1/access-keys" {
			want = `"total":2` // B's own key and the key its caller's token descends from
		}
		require.Contains(t, string(r.body), want, path)
	}
	// A's objects are unchanged.
	require.Equal(t, rule, decode[recording.Rule](t, c.json("A", http.MethodGet, "/api/v1/rules/"+rule.ID, ""), http.StatusOK))
	require.Equal(t, cb, c.json("A", http.MethodGet, "/api/v1/callbacks/"+cb.ID, "").callback(t, http.StatusOK))
	require.Equal(t, http.StatusOK, c.send(basicAuth(key.ID, key.Secret), http.MethodGet, "/api/v1/rules", "", "").status)
	c.requireNeverShown(t, callbackKey)
}
