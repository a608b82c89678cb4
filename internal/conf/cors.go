package conf

import (
	"net/url"
	"strings"
)

// validOrigin tells whether o can be an entry of storage.cors_origins: "*", or an origin as a
// browser sends it in its Origin header (RFC 6454: scheme, host and port only).
func validOrigin(o string) bool {
	if o == "*" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil && !u.ForceQuery &&
		!strings.HasSuffix(o, "#") && u.Opaque == ""
}
