package app

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/conf"
)

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestConsoleRoutes: the console is served at /console/ with its CSP naming the download base's
// origin, /console and a browser's GET / redirect to it, and the Alibaba façade still answers
// "/" with an Action.
func TestConsoleRoutes(t *testing.T) {
	t.Parallel()
	ta := startApp(t, `
storage:
  download_base_url: https://media.example.com:8443/liverec
`)
	resp, err := http.Get(ta.base + "/console/")
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Contains(t, strings.ToLower(string(b)), "<!doctype html>")
	csp := resp.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src 'self';")
	require.Contains(t, csp, "connect-src 'self' https://media.example.com:8443;")
	require.Contains(t, csp, "media-src 'self' blob: https://media.example.com:8443;")
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))

	for path, want := range map[string]int{"/console": http.StatusMovedPermanently, "/": http.StatusFound} {
		resp, err = noRedirect.Get(ta.base + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, path)
		require.Equal(t, "/console/", resp.Header.Get("Location"), path)
	}

	// "/" without an Action other than a GET is still not found; with one it is the façade's.
	resp, err = noRedirect.Post(ta.base+"/", "application/x-www-form-urlencoded", strings.NewReader("a=b"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, err = noRedirect.Get(ta.base + "/?Action=DescribeLiveRecordConfig")
	require.NoError(t, err)
	b, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.NotEqual(t, http.StatusFound, resp.StatusCode)
	require.Contains(t, string(b), "RequestId", "the Alibaba façade answers")
}

// TestConsoleOrigins: the CSP's extra origins come from the S3 endpoints (with subdomains in
// virtual-host style) and the download base; local endpoints add none.
func TestConsoleOrigins(t *testing.T) {
	t.Parallel()
	a := &App{log: slog.New(slog.DiscardHandler)}
	got := a.consoleOrigins(conf.Storage{
		Endpoints: []conf.Endpoint{
			{Name: "local", Type: "local"},
			{Name: "minio", Type: "s3", URL: "http://127.0.0.1:9000", PathStyle: true},
			{Name: "oss", Type: "s3", URL: "https://oss-cn-hangzhou.aliyuncs.com", PublicURL: "https://cdn.example.com/rec"},
			{Name: "bad", Type: "s3", URL: "not a url"},
		},
		DownloadBaseURL: "https://media.example.com/",
	})
	require.Equal(t, []string{
		"http://127.0.0.1:9000",
		"https://oss-cn-hangzhou.aliyuncs.com", "https://*.oss-cn-hangzhou.aliyuncs.com",
		"https://cdn.example.com", "https://*.cdn.example.com",
		"https://media.example.com",
	}, got)
}
