package native

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
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
	// The caller's own key (its token descends from it) comes first.
	require.Equal(t, 3, l.Total)
	require.Equal(t, []string{k.ID, k2.ID}, []string{l.AccessKeys[1].ID, l.AccessKeys[2].ID})
	require.NotContains(t, string(r.body), "secret")

	// Revoked keys stop working and are listed as revoked.
	r = c.json("p1", http.MethodDelete, "/api/v1/access-keys/"+k.ID, "")
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	c.send(basicAuth(k.ID, k.Secret), http.MethodGet, "/api/v1/rules", "", "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
	l = decode[accessKeyList](t, c.json("p1", http.MethodGet, "/api/v1/access-keys", ""), http.StatusOK)
	require.NotNil(t, l.AccessKeys[1].RevokedAt)
	require.Nil(t, l.AccessKeys[2].RevokedAt)

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

// TestTokensEndWithTheirKeyOverHTTP: a token minted with a key through the API dies when the
// key is disabled or revoked; the token list shows live tokens only and never the tokens.
func TestTokensEndWithTheirKeyOverHTTP(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	k := decode[accessKeyCreated](t, c.json("p1", http.MethodPost, "/api/v1/access-keys", `{}`), http.StatusCreated)
	mint := func(a auth) tokenCreated {
		t.Helper()
		return decode[tokenCreated](t, c.send(a, http.MethodPost, "/api/v1/tokens", "application/json", `{"ttl_s":3600}`),
			http.StatusCreated)
	}
	tok := mint(basicAuth(k.ID, k.Secret))
	child := mint(bearer(tok.Token))
	require.False(t, child.ExpiresAt.After(tok.ExpiresAt), "a token's token expires no later than it")
	for _, tk := range []string{tok.Token, child.Token} {
		require.Equal(t, http.StatusOK, c.send(bearer(tk), http.MethodGet, "/api/v1/rules", "", "").status)
	}
	r := c.json("p1", http.MethodGet, "/api/v1/tokens", "")
	l := decode[tokenList](t, r, http.StatusOK)
	require.Equal(t, 3, l.Total, "the caller's own token and the two minted")
	require.NotContains(t, string(r.body), tok.Token)
	c.json("p2", http.MethodGet, "/api/v1/tokens?project=p1", "").requireError(t, http.StatusForbidden, codeForbidden, "")

	r = c.json("p1", http.MethodPatch, "/api/v1/access-keys/"+k.ID, `{"enabled":false}`)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.True(t, decode[recording.AccessKey](t, r, http.StatusOK).Disabled)
	for _, tk := range []string{tok.Token, child.Token} {
		c.send(bearer(tk), http.MethodGet, "/api/v1/rules", "", "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
	}
	c.send(basicAuth(k.ID, k.Secret), http.MethodGet, "/api/v1/rules", "", "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
	require.Equal(t, 1, decode[tokenList](t, c.json("p1", http.MethodGet, "/api/v1/tokens", ""), http.StatusOK).Total)

	require.Equal(t, http.StatusOK, c.json("p1", http.MethodPatch, "/api/v1/access-keys/"+k.ID, `{"enabled":true}`).status)
	c.send(bearer(tok.Token), http.MethodGet, "/api/v1/rules", "", "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
	again := mint(basicAuth(k.ID, k.Secret))
	require.Equal(t, http.StatusNoContent, c.json("p1", http.MethodDelete, "/api/v1/access-keys/"+k.ID, "").status)
	c.send(bearer(again.Token), http.MethodGet, "/api/v1/rules", "", "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
	c.json("p1", http.MethodPatch, "/api/v1/access-keys/"+k.ID, `{}`).requireError(t, http.StatusBadRequest, codeInvalidArgument, "enabled")
}

// TestAdminsManageAnotherProjectsKeysOverHTTP: ?project= on GET, PATCH and DELETE
// /access-keys, as on /tokens: "*" lists every project's keys; only an admin names a project
// other than its own.
func TestAdminsManageAnotherProjectsKeysOverHTTP(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	k := decode[accessKeyCreated](t, c.send(c.admin(), http.MethodPost, "/api/v1/access-keys", "application/json",
		`{"project":"p2","description":"by ops"}`), http.StatusCreated)
	list := func(a auth, query string) []string {
		t.Helper()
		l := decode[accessKeyList](t, c.send(a, http.MethodGet, "/api/v1/access-keys"+query, "", ""), http.StatusOK)
		require.Len(t, l.AccessKeys, l.Total)
		out := []string{}
		for _, k := range l.AccessKeys {
			out = append(out, k.ID)
		}
		return out
	}
	works := func() int {
		return c.send(basicAuth(k.ID, k.Secret), http.MethodGet, "/api/v1/rules", "", "").status
	}

	require.NotContains(t, list(c.admin(), ""), k.ID, "without ?project= the admin's own project")
	require.Contains(t, list(c.admin(), "?project=p2"), k.ID)
	require.Contains(t, list(c.admin(), "?project=*"), k.ID)
	require.Len(t, list(c.admin(), "?project=*"), 2, "the admin's key and the one it made")
	require.Empty(t, list(c.admin(), "?project=nobody"))
	p2 := c.as(service.Principal{Project: "p2"})
	require.Contains(t, list(p2, "?project=p2"), k.ID, "naming one's own project is allowed")

	// Non-admins are refused another project, and "*"; nothing changes.
	for _, q := range []string{"?project=p2", "?project=*"} {
		c.json("p1", http.MethodGet, "/api/v1/access-keys"+q, "").requireError(t, http.StatusForbidden, codeForbidden, "")
	}
	c.json("p1", http.MethodPatch, "/api/v1/access-keys/"+k.ID+"?project=p2", `{"enabled":false}`).
		requireError(t, http.StatusForbidden, codeForbidden, "")
	c.json("p1", http.MethodDelete, "/api/v1/access-keys/"+k.ID+"?project=p2", "").
		requireError(t, http.StatusForbidden, codeForbidden, "")
	c.send(c.admin(), http.MethodPatch, "/api/v1/access-keys/"+k.ID, "application/json", `{"enabled":false}`).
		requireError(t, http.StatusNotFound, codeNotFound, "")
	c.send(c.admin(), http.MethodPatch, "/api/v1/access-keys/"+k.ID+"?project=*", "application/json", `{"enabled":false}`).
		requireError(t, http.StatusBadRequest, codeInvalidArgument, "project")
	c.send(c.admin(), http.MethodDelete, "/api/v1/access-keys/"+k.ID+"?project=*", "", "").
		requireError(t, http.StatusBadRequest, codeInvalidArgument, "project")
	require.Equal(t, http.StatusOK, works())

	// The admin disables it (the answer is the key as it is now), enables it, deletes it.
	r := c.send(c.admin(), http.MethodPatch, "/api/v1/access-keys/"+k.ID+"?project=p2", "application/json", `{"enabled":false}`)
	got := decode[recording.AccessKey](t, r, http.StatusOK)
	require.Equal(t, k.ID, got.ID)
	require.Equal(t, "p2", got.Project)
	require.True(t, got.Disabled)
	c.send(basicAuth(k.ID, k.Secret), http.MethodGet, "/api/v1/rules", "", "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
	r = c.send(c.admin(), http.MethodPatch, "/api/v1/access-keys/"+k.ID+"?project=p2", "application/json", `{"enabled":true}`)
	require.False(t, decode[recording.AccessKey](t, r, http.StatusOK).Disabled)
	require.Equal(t, http.StatusOK, works())
	require.Equal(t, http.StatusNoContent, c.send(c.admin(), http.MethodDelete, "/api/v1/access-keys/"+k.ID+"?project=p2", "", "").status)
	require.Equal(t, http.StatusUnauthorized, works())
	// The audit trail names the key's project, not the admin's.
	for _, line := range strings.Split(c.logs.String(), "\n") {
		if strings.Contains(line, "access key updated") || strings.Contains(line, "access key revoked") {
			require.Contains(t, line, "project=p2")
		}
	}
	require.Contains(t, c.logs.String(), "access key revoked")
}
