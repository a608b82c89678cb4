package native

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func domainsOf(t *testing.T, c *client, project string) []string {
	t.Helper()
	l := decode[domainList](t, c.json(project, http.MethodGet, "/api/v1/domains", ""), http.StatusOK)
	require.Len(t, l.Domains, l.Total)
	names := []string{}
	for _, d := range l.Domains {
		require.Equal(t, project, d.Project)
		names = append(names, d.Domain)
	}
	return names
}

func TestOnlyAdminsAssignDomains(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	// The first project to configure a domain claims it.
	require.Equal(t, http.StatusCreated, c.json("p1", http.MethodPost, "/api/v1/rules", `{"domain":"A.com","app":"live","formats":[{"format":"flv"}]}`).status)
	require.Equal(t, []string{"a.com"}, domainsOf(t, c, "p1"))
	require.Equal(t, []string{}, domainsOf(t, c, "p2"))

	// Neither the owner nor another project may reassign it.
	for _, p := range []string{"p1", "p2"} {
		c.json(p, http.MethodPut, "/api/v1/domains/a.com", `{"project":"p2"}`).requireError(t, http.StatusForbidden, codeForbidden, "")
	}
	require.Equal(t, []string{"a.com"}, domainsOf(t, c, "p1"))

	r := c.send(c.admin(), http.MethodPut, "/api/v1/domains/A.com", "application/json", `{"project":"p2"}`)
	require.Equal(t, domainAssignment{Domain: "a.com", Project: "p2"}, decode[domainAssignment](t, r, http.StatusOK))
	require.Equal(t, []string{}, domainsOf(t, c, "p1"))
	require.Equal(t, []string{"a.com"}, domainsOf(t, c, "p2"))
	// Now p2 configures it and p1 cannot.
	require.Equal(t, http.StatusCreated, c.json("p2", http.MethodPost, "/api/v1/callbacks", `{"domain":"a.com","url":"https://hooks.example/"}`).status)
	c.json("p1", http.MethodPost, "/api/v1/callbacks", `{"domain":"a.com","url":"https://hooks.example/"}`).requireError(t, http.StatusNotFound, codeNotFound, "")

	for _, tc := range []struct{ path, body, field string }{
		{"/api/v1/domains/a.com", `{}`, "project"},
		{"/api/v1/domains/a.com", `{"domain":"b.com","project":"p1"}`, "domain"},
		{"/api/v1/domains/*", `{"project":"p1"}`, "domain"},
		{"/api/v1/domains/a.com", `{"project":1}`, "project"},
		{"/api/v1/domains/a.com", ``, ""},
	} {
		c.send(c.admin(), http.MethodPut, tc.path, "application/json", tc.body).requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
	}
	c.send(c.admin(), http.MethodPut, "/api/v1/domains/a.com", "text/plain", `{"project":"p1"}`).
		requireError(t, http.StatusUnsupportedMediaType, codeUnsupportedMedia, "")
	require.Equal(t, []string{"a.com"}, domainsOf(t, c, "p2"))
}
