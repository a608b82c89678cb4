package console

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// directives parses a CSP into its directives' source lists.
func directives(t *testing.T, csp string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		require.NotEmpty(t, f, "empty directive in %q", csp)
		require.NotContains(t, out, f[0], "directive repeated")
		out[f[0]] = f[1:]
	}
	return out
}

// TestCSP: the policy allows the extra origins for media and fetches and nothing else outside
// 'self' (blob: for MediaSource, data: images); scripts and styles are 'self' only; origins that
// are not scheme://host[:port] are left out and logged.
func TestCSP(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	extra := []string{
		"https://s3.example.com", "http://minio.local:9000", "https://*.oss.example.com",
		"http://[::1]:9000", "HTTPS://S3.Example.com", // a duplicate, in capitals
	}
	bad := []string{
		"https://s3.example.com/bucket", "javascript:alert(1)", "https://a.example.com; script-src *",
		"'unsafe-inline'", "*", "https://", "ftp://files.example.com", "https://u:p@x.example.com",
		"https://x.example.com:", "https://x.example.com?q",
	}
	h := Handler(Config{
		ExtraOrigins: append(append([]string{}, extra...), bad...),
		Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
	})
	resp := serve(t, h, http.MethodGet, "/console/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	csp := resp.Header.Get("Content-Security-Policy")
	d := directives(t, csp)

	want := []string{"https://s3.example.com", "http://minio.local:9000", "https://*.oss.example.com", "http://[::1]:9000"}
	require.Equal(t, append([]string{"'self'", "blob:"}, want...), d["media-src"])
	require.Equal(t, append([]string{"'self'"}, want...), d["connect-src"])
	require.Equal(t, []string{"'none'"}, d["default-src"])
	require.Equal(t, []string{"'self'"}, d["script-src"])
	require.Equal(t, []string{"'self'"}, d["style-src"])
	require.Equal(t, []string{"'self'", "data:"}, d["img-src"])
	require.Equal(t, []string{"'self'"}, d["worker-src"])
	require.Equal(t, []string{"'none'"}, d["font-src"])
	require.Equal(t, []string{"'none'"}, d["frame-ancestors"])
	require.Equal(t, []string{"'none'"}, d["base-uri"])
	require.Equal(t, []string{"'self'"}, d["form-action"])
	require.Equal(t, []string{"'self'"}, d["manifest-src"])
	require.Len(t, d, 12)

	allowed := map[string]bool{"'self'": true, "'none'": true, "blob:": true, "data:": true}
	for _, o := range want {
		allowed[o] = true
	}
	for name, sources := range d {
		for _, s := range sources {
			require.True(t, allowed[s], "%s allows %q", name, s)
		}
	}
	require.Equal(t, len(bad), strings.Count(logs.String(), "CSP origin left out"))

	// Without extra origins nothing outside 'self' is named.
	d = directives(t, serve(t, Handler(Config{}), http.MethodGet, "/console/", nil).Header.Get("Content-Security-Policy"))
	require.Equal(t, []string{"'self'", "blob:"}, d["media-src"])
	require.Equal(t, []string{"'self'"}, d["connect-src"])
}

// TestOriginsOf: a storage URL gives its origin, and a wildcard for its subdomains when asked
// (virtual-host-style S3) unless the host is an IP address; a URL that has no origin is an error.
func TestOriginsOf(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		raw  string
		sub  bool
		want []string
	}{
		{"https://oss-cn-hangzhou.aliyuncs.com", true, []string{"https://oss-cn-hangzhou.aliyuncs.com", "https://*.oss-cn-hangzhou.aliyuncs.com"}},
		{"https://obs.cn-north-4.myhuaweicloud.com/", false, []string{"https://obs.cn-north-4.myhuaweicloud.com"}},
		{"http://127.0.0.1:9000", true, []string{"http://127.0.0.1:9000"}},
		{"http://[::1]:9000/base/path?x=1", true, []string{"http://[::1]:9000"}},
		{"HTTP://MinIO.Local:9000/videos", true, []string{"http://minio.local:9000", "http://*.minio.local:9000"}},
		{" https://cdn.example.com/live ", false, []string{"https://cdn.example.com"}},
	} {
		got, err := OriginsOf(c.raw, c.sub)
		require.NoError(t, err, c.raw)
		require.Equal(t, c.want, got, c.raw)
		ok, bad := checkOrigins(got)
		require.Equal(t, got, ok, "Handler takes what OriginsOf gives")
		require.Empty(t, bad)
	}
	for _, raw := range []string{"", "s3.example.com", "ftp://x.example.com", "https://", "https://u:p@x.example.com",
		"https://x.example.com:port", "https://bad_host.example.com", "://x", "https://x.example.com:/"} {
		_, err := OriginsOf(raw, true)
		require.Error(t, err, raw)
	}
}
