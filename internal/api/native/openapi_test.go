package native

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// openAPIDoc is the part of the document the tests look at.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Parameters      map[string]parameter `json:"parameters"`
		SecuritySchemes map[string]struct {
			Type   string `json:"type"`
			Scheme string `json:"scheme"`
		} `json:"securitySchemes"`
	} `json:"components"`
}

type parameter struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

// pathParameters lists the names of the path parameters declared in raw (a parameters list),
// resolving references into the document's components.
func (d *openAPIDoc) pathParameters(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	if raw == nil {
		return nil
	}
	var ps []parameter
	require.NoError(t, json.Unmarshal(raw, &ps))
	var names []string
	for _, p := range ps {
		if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
			p = d.Components.Parameters[name]
		}
		if p.In == "path" {
			names = append(names, p.Name)
		}
	}
	return names
}

// operations are the keys of a path item that are HTTP methods (not "parameters" etc.).
func operations(item map[string]json.RawMessage) []string {
	var ms []string
	for k := range item {
		switch k {
		case "get", "put", "post", "delete", "options", "head", "patch", "trace":
			ms = append(ms, strings.ToUpper(k))
		}
	}
	return ms
}

func TestOpenAPIDocumentIsServedWithoutCredentials(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	r := c.do("", http.MethodGet, "/api/v1/openapi.json", "", "")
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	require.JSONEq(t, openAPIDocument, string(r.body))
}

// The document and the route table describe the same API: every route is documented and
// every documented operation is served.
func TestOpenAPIDocumentDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	var doc openAPIDoc
	require.NoError(t, json.Unmarshal([]byte(openAPIDocument), &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)

	served := map[string]bool{}
	for _, rt := range routes() {
		served[rt.method+" "+rt.pattern] = true
		item, ok := doc.Paths[rt.pattern]
		require.True(t, ok, "path %s is not documented", rt.pattern)
		op, ok := item[strings.ToLower(rt.method)]
		require.True(t, ok, "%s %s is not documented", rt.method, rt.pattern)
		var o struct {
			Parameters  json.RawMessage            `json:"parameters"`
			OperationID string                     `json:"operationId"`
			Responses   map[string]json.RawMessage `json:"responses"`
			Security    *[]any                     `json:"security"`
		}
		require.NoError(t, json.Unmarshal(op, &o))
		require.NotEmpty(t, o.OperationID, rt.pattern)
		require.NotEmpty(t, o.Responses, rt.pattern)
		// Only the open routes declare that they need no credentials.
		require.Equal(t, rt.open != nil, o.Security != nil && len(*o.Security) == 0, rt.pattern)
		if rt.open == nil {
			require.Contains(t, o.Responses, "401", rt.pattern)
		}
		// Each wildcard of the pattern is a declared path parameter, and nothing else is.
		var wildcards []string
		for _, seg := range strings.Split(rt.pattern, "/") {
			if name, ok := strings.CutPrefix(seg, "{"); ok {
				wildcards = append(wildcards, strings.TrimSuffix(name, "}"))
			}
		}
		declared := append(doc.pathParameters(t, item["parameters"]), doc.pathParameters(t, o.Parameters)...)
		require.ElementsMatch(t, wildcards, declared, rt.pattern)
	}
	for path, item := range doc.Paths {
		for _, m := range operations(item) {
			require.True(t, served[m+" "+path], "%s %s is documented but not served", m, path)
		}
	}
	require.Equal(t, "http", doc.Components.SecuritySchemes["bearer"].Type)
	require.Equal(t, "bearer", doc.Components.SecuritySchemes["bearer"].Scheme)
	require.Equal(t, "http", doc.Components.SecuritySchemes["basic"].Type)
	require.Equal(t, "basic", doc.Components.SecuritySchemes["basic"].Scheme)
}

// Every $ref points at something the document defines.
func TestOpenAPIReferencesResolve(t *testing.T) {
	t.Parallel()
	var doc any
	require.NoError(t, json.Unmarshal([]byte(openAPIDocument), &doc))
	var walk func(v any)
	n := 0
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				n++
				target := doc
				for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
					m, ok := target.(map[string]any)
					require.True(t, ok, ref)
					target, ok = m[part]
					require.True(t, ok, "unresolved %s", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	require.Positive(t, n)
}
