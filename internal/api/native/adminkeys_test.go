package native

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// TestOnlyAnAdminChangesAdminKeysOverHTTP: a non-admin key of the admin's own project gets 403
// on PATCH and DELETE of an admin key and of an admin's token, and nothing changes; an admin
// key does both. The last enabled admin key cannot be revoked (409).
func TestOnlyAnAdminChangesAdminKeysOverHTTP(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	adminKey := decode[accessKeyCreated](t, c.send(c.admin(), http.MethodPost, "/api/v1/access-keys", "application/json",
		`{"admin":true,"description":"second admin"}`), http.StatusCreated)
	require.Equal(t, "ops", adminKey.Project)
	adminToken := decode[tokenCreated](t, c.send(basicAuth(adminKey.ID, adminKey.Secret), http.MethodPost, "/api/v1/tokens",
		"application/json", `{"ttl_s":600}`), http.StatusCreated)
	works := func(a auth) int {
		return c.send(a, http.MethodGet, "/api/v1/whoami", "", "").status
	}
	path := "/api/v1/access-keys/" + adminKey.ID

	// A non-admin key of project ops: it sees the admin key, but may not touch it.
	ops := c.as(service.Principal{Project: "ops"})
	l := decode[accessKeyList](t, c.send(ops, http.MethodGet, "/api/v1/access-keys", "", ""), http.StatusOK)
	listed := false
	for _, k := range l.AccessKeys {
		listed = listed || k.ID == adminKey.ID
	}
	require.True(t, listed, "a project's keys, admin ones included, are listed to it")
	for _, query := range []string{"", "?project=ops"} {
		c.send(ops, http.MethodPatch, path+query, "application/json", `{"enabled":false}`).
			requireError(t, http.StatusForbidden, codeForbidden, "")
		c.send(ops, http.MethodDelete, path+query, "", "").requireError(t, http.StatusForbidden, codeForbidden, "")
	}
	c.send(ops, http.MethodDelete, "/api/v1/tokens/"+adminToken.ID, "", "").
		requireError(t, http.StatusForbidden, codeForbidden, "")
	require.Equal(t, http.StatusOK, works(basicAuth(adminKey.ID, adminKey.Secret)), "the refusals changed nothing")
	require.Equal(t, http.StatusOK, works(bearer(adminToken.Token)))

	// The admin disables and enables the key, revokes the admin's token, then the key.
	r := c.send(c.admin(), http.MethodPatch, path, "application/json", `{"enabled":false}`)
	require.True(t, decode[recording.AccessKey](t, r, http.StatusOK).Disabled)
	require.Equal(t, http.StatusUnauthorized, works(basicAuth(adminKey.ID, adminKey.Secret)))
	r = c.send(c.admin(), http.MethodPatch, path, "application/json", `{"enabled":true}`)
	require.False(t, decode[recording.AccessKey](t, r, http.StatusOK).Disabled)
	require.Equal(t, http.StatusOK, works(basicAuth(adminKey.ID, adminKey.Secret)))
	adminToken = decode[tokenCreated](t, c.send(basicAuth(adminKey.ID, adminKey.Secret), http.MethodPost, "/api/v1/tokens",
		"application/json", `{"ttl_s":600}`), http.StatusCreated)
	require.Equal(t, http.StatusNoContent, c.send(c.admin(), http.MethodDelete, "/api/v1/tokens/"+adminToken.ID, "", "").status)
	require.Equal(t, http.StatusUnauthorized, works(bearer(adminToken.Token)))
	require.Equal(t, http.StatusNoContent, c.send(c.admin(), http.MethodDelete, path, "", "").status)
	require.Equal(t, http.StatusUnauthorized, works(basicAuth(adminKey.ID, adminKey.Secret)))

	// Now the admin's own key is the last enabled admin key: it stays.
	var who whoamiResponse
	require.NoError(t, json.Unmarshal(c.send(c.admin(), http.MethodGet, "/api/v1/whoami", "", "").body, &who))
	require.True(t, who.Admin)
	r = c.send(c.admin(), http.MethodDelete, "/api/v1/access-keys/"+who.AccessKeyID, "", "")
	r.requireError(t, http.StatusConflict, codeConflict, "")
	require.Contains(t, string(r.body), "it is the last enabled admin key")
	require.Equal(t, http.StatusOK, works(c.admin()))
}
