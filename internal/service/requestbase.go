package service

import (
	"context"
	"net/http"
)

// requestBaseKey holds, in a request's context, the scheme://host its caller reached.
type requestBaseKey struct{}

// WithRequestBase returns ctx carrying base, the scheme://host of the API request being
// answered: links made while answering it (download URLs) point where the caller can reach
// them when no storage.download_base_url is configured.
func WithRequestBase(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, requestBaseKey{}, base)
}

// RequestBase returns the base WithRequestBase put in ctx, "" when ctx belongs to no request
// (a callback made by a recording).
func RequestBase(ctx context.Context) string {
	base, _ := ctx.Value(requestBaseKey{}).(string)
	return base
}

// RequestBaseOf is the scheme://host r reached: https when r came over TLS, and the Host the
// client sent (the server has already refused requests whose Host is malformed). Proxy headers
// (X-Forwarded-*) are not trusted: behind a proxy, set storage.download_base_url.
func RequestBaseOf(r *http.Request) string {
	if r.Host == "" {
		return ""
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
