package native

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAccessKeysShowTheirSecretOnce(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	r := c.json("p1", http.MethodPost, "/api/v1/access-keys", `{"description":"ci"}`)
	k := decode[accessKeyCreated](t, r, http.StatusCreated)
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
	require.Equal(t, "p1", k.Project)
	require.False(t, k.Admin)
	require.Equal(t, "ci", k.Description)
	require.Len(t, k.Secret, 30)

	// No body makes a plain key of the caller's project.
	k2 := decode[accessKeyCreated](t, c.do("p1", http.MethodPost, "/api/v1/access-keys", "", ""), http.StatusCreated)
	require.Equal(t, "p1", k2.Project)
	require.NotEqual(t, k.ID, k2.ID)

	// The new key works with HTTP Basic, in its project.
	require.Equal(t, http.StatusOK, c.send(basicAuth(k.ID, k.Secret), http.MethodGet, "/api/v1/access-keys", "", "").status)

	r = c.json("p1", http.MethodGet, "/api/v1/access-keys", "")
	l := decode[accessKeyList](t, r, http.StatusOK)
	require.Equal(t, 2, l.Total)
	require.Equal(t, []string{k.ID, k2.ID}, []string{l.AccessKeys[0].ID, l.AccessKeys[1].ID})
	require.NotContains(t, string(r.body), "secret")

	// Revoked keys stop working and are listed as revoked.
	r = c.json("p1", http.MethodDelete, "/api/v1/access-keys/"+k.ID, "")
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	c.send(basicAuth(k.ID, k.Secret), http.MethodGet, "/api/v1/rules", "", "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
	l = decode[accessKeyList](t, c.json("p1", http.MethodGet, "/api/v1/access-keys", ""), http.StatusOK)
	require.NotNil(t, l.AccessKeys[0].RevokedAt)
	require.Nil(t, l.AccessKeys[1].RevokedAt)

	// The secrets were shown in the two creation answers and nowhere else.
	c.mu.Lock()
	shown := 0
	for _, b := range c.bodies {
		if strings.Contains(b, k.Secret) || strings.Contains(b, k2.Secret) {
			shown++
		}
	}
	c.mu.Unlock()
	require.Equal(t, 2, shown)
	require.NotContains(t, c.logs.String(), k.Secret)
	require.NotContains(t, c.logs.String(), k2.Secret)
}

func TestAccessKeysOfOtherProjectsOrAdminNeedAnAdmin(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	c.json("p1", http.MethodPost, "/api/v1/access-keys", `{"admin":true}`).requireError(t, http.StatusForbidden, codeForbidden, "")
	c.json("p1", http.MethodPost, "/api/v1/access-keys", `{"project":"p2"}`).requireError(t, http.StatusForbidden, codeForbidden, "")

	k := decode[accessKeyCreated](t, c.send(c.admin(), http.MethodPost, "/api/v1/access-keys", "application/json", `{"project":"p2","admin":true}`), http.StatusCreated)
	require.Equal(t, "p2", k.Project)
	require.True(t, k.Admin)
	// That key acts as an admin of p2.
	require.Equal(t, http.StatusOK, c.send(basicAuth(k.ID, k.Secret), http.MethodPut, "/api/v1/domains/a.com", "application/json", `{"project":"p2"}`).status)

	for _, tc := range []struct{ body, field string }{
		{`{"admin":"yes"}`, "admin"},
		{`{"owner":"me"}`, "owner"},
		{`{"description":"` + strings.Repeat("x", maxDescription+1) + `"}`, "description"},
		{`{"description":`, ""},
	} {
		c.json("p1", http.MethodPost, "/api/v1/access-keys", tc.body).requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
	}
	c.do("p1", http.MethodPost, "/api/v1/access-keys", "text/plain", `{}`).
		requireError(t, http.StatusUnsupportedMediaType, codeUnsupportedMedia, "")
}
