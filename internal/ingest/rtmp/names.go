package rtmp

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/liverec/liverec/internal/stream"
)

// maxNameLen bounds app and stream names (§1); names end up in object keys and paths.
const maxNameLen = 128

// maxDomainLen is the longest DNS name.
const maxDomainLen = 253

// errBadName marks a publish refused because of its identity.
var errBadName = errors.New("bad stream name")

// identity derives the stream key and ingest parameters of a publish (§1) from the connect
// command's app and tcUrl and the publish command's name. The app and the name are taken
// from the commands themselves, never from tcUrl+"/"+name joined and re-split: a query in the
// tcUrl (rtmp://host/live?vhost=a.com/test) or a slash in the name (live + "a/b") would make a
// joined URL ambiguous.
func identity(app, tcURL, name string) (stream.Key, url.Values, error) {
	params := url.Values{}
	streamName, streamQuery, _ := strings.Cut(name, "?")
	appName, appQuery, _ := strings.Cut(app, "?")
	appName = strings.TrimSuffix(appName, "/") // "rtmp://host/live/" typed into an encoder
	mergeQuery(params, streamQuery)

	var host string
	if tcURL != "" {
		u, err := url.Parse(tcURL)
		if err != nil {
			// url.Error quotes the whole URL, which a publisher may make 64 KiB long: log a
			// truncated URL and reason instead (found by FuzzIdentity).
			reason := err
			var ue *url.Error
			if errors.As(err, &ue) {
				reason = ue.Err
			}
			// Without its query: publish credentials (auth_key, hwSecret…) never reach a log.
			bare, _, _ := strings.Cut(tcURL, "?")
			return stream.Key{}, nil, fmt.Errorf("%w: parse tcUrl %q: %s", errBadName, truncate(bare), truncate(reason.Error()))
		}
		host = u.Hostname()
		mergeQuery(params, u.RawQuery)
	}
	// Some clients put the query only in the app field (OBS with "rtmp://host/live?k=v").
	mergeQuery(params, appQuery)

	domain := params.Get("vhost")
	if domain == "" {
		domain = params.Get("domain")
	}
	if domain == "" {
		domain = host
	}
	key := stream.Key{Domain: strings.ToLower(domain), App: appName, Stream: streamName}
	if err := checkDomain(key.Domain); err != nil {
		return key, nil, err
	}
	if err := checkName("app", key.App); err != nil {
		return key, nil, err
	}
	if err := checkName("stream", key.Stream); err != nil {
		return key, nil, err
	}
	return key, params, nil
}

// mergeQuery adds the parameters of a raw query to dst, skipping values dst already has (the
// same parameter often appears in both the tcUrl and the app field). A malformed pair is
// skipped rather than refused: publishers send sloppy queries and only some names matter.
func mergeQuery(dst url.Values, raw string) {
	if raw == "" {
		return
	}
	q, _ := url.ParseQuery(raw)
	for k, vs := range q {
	next:
		for _, v := range vs {
			for _, have := range dst[k] {
				if have == v {
					continue next
				}
			}
			dst[k] = append(dst[k], v)
		}
	}
}

// checkName enforces §1: 1–128 characters of A–Z a–z 0–9 . _ ~ -, and not . or .. — nor
// containing "..", which no sane name needs and some path handling would trip over.
func checkName(what, s string) error {
	if s == "" || len(s) > maxNameLen || s == "." || strings.Contains(s, "..") {
		return fmt.Errorf("%w: %s name %q", errBadName, what, truncate(s))
	}
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) {
			return fmt.Errorf("%w: %s name %q has character %q", errBadName, what, truncate(s), s[i])
		}
	}
	return nil
}

// checkDomain keeps the domain safe for paths too: host names, IPv4 and IPv6 literals.
func checkDomain(s string) error {
	if s == "" || len(s) > maxDomainLen || s == "." || strings.Contains(s, "..") {
		return fmt.Errorf("%w: domain %q", errBadName, truncate(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !nameChar(c) && c != ':' {
			return fmt.Errorf("%w: domain %q has character %q", errBadName, truncate(s), c)
		}
	}
	return nil
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '~' || c == '-'
}

// truncate keeps hostile names from flooding logs.
func truncate(s string) string {
	if len(s) > 160 {
		return s[:160] + "..."
	}
	return s
}
