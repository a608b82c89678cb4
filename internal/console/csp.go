package console

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// cspSource is what ExtraOrigins may hold: scheme://host[:port], the host optionally "*." and a
// domain (a CSP wildcard for its subdomains). Nothing else can reach the header, so an origin
// cannot smuggle a directive (";") or a keyword into the policy.
var cspSource = regexp.MustCompile(`^https?://(\*\.)?([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$`)

// policy builds the Content-Security-Policy. 'self' covers the console and the API; blob: in
// media-src is the MediaSource URL hls.js gives the <video>. Workers stay 'self': the ES-module
// hls.js cannot inject a blob: worker (see web/vendor/README.md).
func policy(extra []string) string {
	ext := ""
	if len(extra) > 0 {
		ext = " " + strings.Join(extra, " ")
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"media-src 'self' blob:" + ext + "; connect-src 'self'" + ext + "; worker-src 'self'; " +
		"font-src 'none'; manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}

// checkOrigins keeps the valid origins of list, lower-cased and each once, and reports the
// others.
func checkOrigins(list []string) (ok []string, bad []string) {
	seen := map[string]bool{}
	for _, o := range list {
		o = strings.ToLower(strings.TrimSpace(o))
		if !cspSource.MatchString(o) {
			bad = append(bad, o)
			continue
		}
		if !seen[o] {
			seen[o] = true
			ok = append(ok, o)
		}
	}
	return ok, bad
}

// OriginsOf returns the CSP sources that cover the URLs made from the base URL raw: its origin
// (scheme://host[:port]), and with subdomains also scheme://*.host[:port], for an S3 endpoint
// in virtual-host style, whose URLs put the bucket in front of the host name (no wildcard for
// an IP address, which has no subdomains).
func OriginsOf(raw string, subdomains bool) ([]string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("origin of %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("origin of %q: not an http(s)://host[:port] URL", raw)
	}
	origin := strings.ToLower(u.Scheme + "://" + u.Host)
	if !cspSource.MatchString(origin) {
		return nil, fmt.Errorf("origin of %q: %q is not a host[:port]", raw, u.Host)
	}
	out := []string{origin}
	if subdomains && net.ParseIP(u.Hostname()) == nil {
		out = append(out, strings.ToLower(u.Scheme+"://*."+u.Host))
	}
	return out, nil
}
