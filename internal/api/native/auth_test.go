package native

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/service"
)

func TestEveryRouteButTheDocumentNeedsCredentials(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	for _, rt := range routes() {
		r := c.json("", rt.method, concrete(rt.pattern), validBody(rt.pattern))
		if rt.open != nil {
			require.Equal(t, http.StatusOK, r.status, rt.pattern)
			continue
		}
		r.requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
	}
}

func TestBadCredentialsAreRefused(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	k, secret, err := c.svc.CreateAccessKey(t.Context(), service.Principal{Project: "p1"}, "", false, "")
	require.NoError(t, err)
	for name, a := range map[string]auth{
		"UnknownBearer":      bearer("lrt_unknown"),
		"EmptyBearer":        header("Authorization", "Bearer "),
		"UnknownXAuthToken":  xAuthToken("lrt_unknown"),
		"OtherScheme":        header("Authorization", "Token "+secret),
		"BasicWrongSecret":   basicAuth(k.ID, secret+"x"),
		"BasicUnknownKey":    basicAuth("LRNOSUCHKEY", secret),
		"BasicEmpty":         basicAuth("", ""),
		"BadBasicEncoding":   header("Authorization", "Basic !!!"),
		"SecretAsBearer":     bearer(secret),
		"KeyIDAsXAuthToken":  xAuthToken(k.ID),
		"WhitespaceXAuthTok": xAuthToken("   "),
	} {
		t.Run(name, func(t *testing.T) {
			c.send(a, http.MethodGet, "/api/v1/rules", "", "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
		})
	}
}

func TestCredentialsThatWork(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	p1 := service.Principal{Project: "p1"}
	k, secret, err := c.svc.CreateAccessKey(t.Context(), p1, "", false, "")
	require.NoError(t, err)
	token, _, err := c.svc.CreateToken(t.Context(), service.PrincipalOf(k), time.Hour)
	require.NoError(t, err)
	for name, a := range map[string]auth{
		"Bearer":          bearer(token),
		"LowercaseBearer": header("Authorization", "bearer "+token),
		"XAuthToken":      xAuthToken(token),
		"Basic":           basicAuth(k.ID, secret),
	} {
		t.Run(name, func(t *testing.T) {
			// The caller acts in the key's project: it sees p1's rule and creates in p1.
			r := c.send(a, http.MethodPost, "/api/v1/rules", "application/json",
				`{"domain":"`+name+`.example","app":"live","formats":[{"format":"flv"}]}`)
			require.Equal(t, "p1", decode[struct{ Project string }](t, r, http.StatusCreated).Project)
		})
	}
	c.requireNeverShown(t, secret)
	c.requireNeverShown(t, token)
}

// Basic with the admin key printed at first start is how a newcomer gets going: mint a
// token, then use it.
func TestBasicAdminKeyMintsTokensThatExpire(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	admin, secret, err := c.svc.CreateAccessKey(t.Context(), service.Principal{Project: "default", Admin: true}, "", true, "first start")
	require.NoError(t, err)
	start := c.clock.Now()

	r := c.send(basicAuth(admin.ID, secret), http.MethodPost, "/api/v1/tokens", "application/json", `{"ttl_s":60}`)
	tok := decode[tokenCreated](t, r, http.StatusCreated)
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
	require.NotEmpty(t, tok.ID)
	require.True(t, start.Add(time.Minute).Equal(tok.ExpiresAt), tok.ExpiresAt)

	// The token acts as the admin key: it may assign domains.
	require.Equal(t, http.StatusOK, c.send(bearer(tok.Token), http.MethodPut, "/api/v1/domains/a.com", "application/json", `{"project":"p1"}`).status)

	c.clock.Add(59 * time.Second)
	require.Equal(t, http.StatusOK, c.send(xAuthToken(tok.Token), http.MethodGet, "/api/v1/rules", "", "").status)
	c.clock.Add(2 * time.Second)
	c.send(bearer(tok.Token), http.MethodGet, "/api/v1/rules", "", "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
	c.send(xAuthToken(tok.Token), http.MethodGet, "/api/v1/rules", "", "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
	// The key itself does not expire.
	require.Equal(t, http.StatusOK, c.send(basicAuth(admin.ID, secret), http.MethodGet, "/api/v1/rules", "", "").status)

	// No body: the default lifetime, 24 hours.
	tok = decode[tokenCreated](t, c.send(basicAuth(admin.ID, secret), http.MethodPost, "/api/v1/tokens", "", ""), http.StatusCreated)
	require.True(t, c.clock.Now().Add(service.DefaultToken).Equal(tok.ExpiresAt), tok.ExpiresAt)
	c.requireNeverShown(t, secret)
}

func TestTokenRequestsAreChecked(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	for _, body := range []string{`{"ttl_s":0}`, `{"ttl_s":-1}`, `{"ttl_s":2592001}`, `{"ttl_s":"60"}`, `{"ttl_s":1.5}`} {
		c.json("p1", http.MethodPost, "/api/v1/tokens", body).requireError(t, http.StatusBadRequest, codeInvalidArgument, "ttl_s")
	}
	c.json("p1", http.MethodPost, "/api/v1/tokens", `{"ttl":60}`).requireError(t, http.StatusBadRequest, codeInvalidArgument, "ttl")
	c.do("p1", http.MethodPost, "/api/v1/tokens", "text/plain", `{"ttl_s":60}`).
		requireError(t, http.StatusUnsupportedMediaType, codeUnsupportedMedia, "")
	require.Equal(t, http.StatusCreated, c.json("p1", http.MethodPost, "/api/v1/tokens", `{"ttl_s":2592000}`).status)
}

func TestDeletedTokensStopWorkingAndStayInTheirProject(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	tok := decode[tokenCreated](t, c.json("p1", http.MethodPost, "/api/v1/tokens", `{"ttl_s":600}`), http.StatusCreated)
	path := "/api/v1/tokens/" + tok.ID

	c.json("p2", http.MethodDelete, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	require.Equal(t, http.StatusOK, c.send(bearer(tok.Token), http.MethodGet, "/api/v1/rules", "", "").status)

	r := c.send(bearer(tok.Token), http.MethodDelete, path, "", "")
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	c.send(bearer(tok.Token), http.MethodGet, "/api/v1/rules", "", "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
	c.json("p1", http.MethodDelete, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")
}
