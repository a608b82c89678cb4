package rtmp

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
)

// maxNameLen bounds app and stream names; names end up in object keys and paths.
const maxNameLen = recording.MaxNameLen

// maxDomainLen is the longest DNS name.
const maxDomainLen = 253

// errBadName marks a publish refused because of its identity.
var errBadName = errors.New("bad stream name")

// nameError is a refused identity worded for the publisher: its message is the onStatus
// description the encoder shows, and what the log says. It is errBadName.
type nameError struct{ msg string }

func (e *nameError) Error() string        { return e.msg }
func (e *nameError) Is(target error) bool { return target == errBadName }

func badName(format string, args ...any) error {
	return &nameError{msg: fmt.Sprintf(format, args...)}
}

// allowedChars says which characters names may hold, in the words of a refusal.
const allowedChars = `use letters, digits, ".", "_", "~" and "-"`

// identity derives the stream key and ingest parameters of a publish from the connect
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
			return stream.Key{}, nil, badName("invalid tcUrl %q: %s", truncate(bare), truncate(reason.Error()))
		}
		host = u.Hostname()
		mergeQuery(params, u.RawQuery)
	}
	// Some clients put the query only in the app field (OBS with "rtmp://host/live?k=v").
	mergeQuery(params, appQuery)

	domain, from := params.Get("vhost"), "the vhost parameter"
	if domain == "" {
		domain, from = params.Get("domain"), "the domain parameter"
	}
	if domain == "" {
		domain, from = host, "the tcUrl's host"
	}
	key := stream.Key{Domain: strings.ToLower(domain), App: appName, Stream: streamName}
	if key.Domain == "" {
		return key, nil, badName("missing domain: the tcUrl %s and there is no vhost or domain parameter",
			missingHost(tcURL))
	}
	if err := checkDomain(key.Domain, from); err != nil {
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

// missingHost tells, for a refusal, why a tcUrl gave no domain.
func missingHost(tcURL string) string {
	if tcURL == "" {
		return "is missing from the connect command"
	}
	bare, _, _ := strings.Cut(tcURL, "?") // publish credentials never reach a log
	return fmt.Sprintf("%q has no host", truncate(bare))
}

// checkName allows 1–128 characters of A–Z a–z 0–9 . _ ~ -, and not . or .. — nor names
// containing "..", which no sane name needs and some path handling would trip over. what is
// "app" or "stream".
func checkName(what, s string) error {
	switch {
	case s == "":
		return badName("missing %s name: publish to rtmp://HOST/APP/STREAM", what)
	case len(s) > maxNameLen:
		return badName("invalid %s name %q: %d characters, at most %d", what, truncate(s), len(s), maxNameLen)
	case s == "." || strings.Contains(s, ".."):
		return badName(`invalid %s name %q: it may not be "." or contain ".."`, what, truncate(s))
	}
	for i, r := range s {
		if r >= utf8.RuneSelf || !recording.IsNameChar(s[i]) {
			return badName("invalid %s name %q: %q is not allowed; %s (at most %d)",
				what, truncate(s), string(r), allowedChars, maxNameLen)
		}
	}
	return nil
}

// checkDomain keeps the domain safe for paths too: host names, IPv4 and IPv6 literals. from
// says where the domain came from, for the refusal.
func checkDomain(s, from string) error {
	what := fmt.Sprintf("domain %q from %s", truncate(s), from)
	switch {
	case s == "":
		return badName("missing domain")
	case len(s) > maxDomainLen:
		return badName("invalid %s: %d characters, at most %d", what, len(s), maxDomainLen)
	case s == "." || strings.Contains(s, ".."):
		return badName(`invalid %s: it may not be "." or contain ".."`, what)
	}
	for i, r := range s {
		if r >= utf8.RuneSelf || !recording.IsNameChar(s[i]) && r != ':' {
			return badName("invalid %s: %q is not allowed; use a host name or an IP address", what, string(r))
		}
	}
	return nil
}

// truncate keeps hostile names from flooding logs.
func truncate(s string) string {
	if len(s) > 160 {
		return s[:160] + "..."
	}
	return s
}
