package aliyun

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// Common parameter names (RPC signature v1).
const (
	paramAction           = "Action"
	paramVersion          = "Version"
	paramFormat           = "Format"
	paramAccessKeyID      = "AccessKeyId"
	paramSignature        = "Signature"
	paramSignatureMethod  = "SignatureMethod"
	paramSignatureVersion = "SignatureVersion"
	paramSignatureNonce   = "SignatureNonce"
	paramSignatureType    = "SignatureType"
	paramTimestamp        = "Timestamp"
	paramSecurityToken    = "SecurityToken"
)

// timeLayout is Alibaba's yyyy-MM-ddTHH:mm:ssZ, always UTC.
const timeLayout = "2006-01-02T15:04:05Z"

// params are a request's parameters: the query string and a form body merged, each name once.
type params map[string]string

// readParams merges the query and an application/x-www-form-urlencoded body (the SDK puts
// everything in the query, but signs form parameters too, so both count). A name given twice
// with different values is refused: which one was signed would be ambiguous.
func readParams(w http.ResponseWriter, r *http.Request, maxBody int64) (params, error) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errInvalid("query", "malformed query string")
	}
	form := r.PostForm
	if form == nil && r.Body != nil && isForm(r.Header.Get("Content-Type")) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		var me *http.MaxBytesError
		if errors.As(err, &me) {
			return nil, errTooLarge
		}
		if err != nil {
			return nil, errInvalid("body", "unreadable body")
		}
		if form, err = url.ParseQuery(string(body)); err != nil {
			return nil, errInvalid("body", "malformed form body")
		}
	}
	p := make(params, len(query)+len(form))
	for _, src := range []url.Values{query, form} {
		for k, vs := range src {
			for _, v := range vs {
				if old, seen := p[k]; seen && old != v {
					return nil, errInvalid(k, "given more than once with different values")
				}
				p[k] = v
			}
		}
	}
	return p, nil
}

func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// required returns a top-level action parameter or the live API's Missing<Name> error.
func (p params) required(name string) (string, error) {
	v := p[name]
	if v == "" {
		return "", errMissingAction(name)
	}
	return v, nil
}

// intIn parses an optional integer in [lo, hi]; absent gives def.
func (p params) intIn(name string, lo, hi, def int) (int, error) {
	v, ok := p[name]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errInvalid(name, "must be an integer")
	}
	if n < lo || n > hi {
		return 0, errInvalid(name, "must be "+strconv.Itoa(lo)+"–"+strconv.Itoa(hi))
	}
	return n, nil
}

// optInt parses an optional integer without a range (the service checks it per dialect).
func (p params) optInt(name string) (n int, set bool, err error) {
	v, ok := p[name]
	if !ok || v == "" {
		return 0, false, nil
	}
	n, err = strconv.Atoi(v)
	if err != nil {
		return 0, false, errInvalid(name, "must be an integer")
	}
	return n, true, nil
}

// optBool parses an optional boolean the way the SDK's requests.Boolean sends it.
func (p params) optBool(name string) (b, set bool, err error) {
	v, ok := p[name]
	if !ok || v == "" {
		return false, false, nil
	}
	b, err = strconv.ParseBool(v)
	if err != nil {
		return false, false, errInvalid(name, "must be true or false")
	}
	return b, true, nil
}

// optTime parses an optional yyyy-MM-ddTHH:mm:ssZ time.
func (p params) optTime(name string) (*time.Time, error) {
	v := p[name]
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(timeLayout, v)
	if err != nil {
		return nil, errInvalid(name, "must be a UTC time formatted yyyy-MM-ddTHH:mm:ssZ")
	}
	return &t, nil
}

// oneOf checks an optional enumerated value.
func (p params) oneOf(name, def string, values ...string) (string, error) {
	v := p[name]
	if v == "" {
		return def, nil
	}
	for _, ok := range values {
		if v == ok {
			return v, nil
		}
	}
	return "", errInvalid(name, "must be one of "+strings.Join(values, ", "))
}

// refuse fails when any of names is present: parameters an action cannot honour.
func (p params) refuse(reason string, names ...string) error {
	for k := range p {
		for _, n := range names {
			if k == n || strings.HasPrefix(k, n+".") {
				return errInvalid(k, reason)
			}
		}
	}
	return nil
}

// formatParams groups RecordFormat.N.Field parameters by N, in increasing N.
type formatParams struct {
	n      int
	fields map[string]string
}

// maxFormats bounds N in RecordFormat.N: there are four formats in the cloud, three here.
const maxFormats = 16

func (p params) repeated(prefix string) ([]formatParams, error) {
	byN := map[int]map[string]string{}
	for k, v := range p {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		idx, field, ok := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if !ok || err != nil || n < 1 || n > maxFormats || strconv.Itoa(n) != idx || field == "" {
			return nil, errInvalid(k, "expected "+prefix+".N.<Field> with N from 1 to "+strconv.Itoa(maxFormats))
		}
		if byN[n] == nil {
			byN[n] = map[string]string{}
		}
		byN[n][field] = v
	}
	out := make([]formatParams, 0, len(byN))
	for n, f := range byN {
		out = append(out, formatParams{n: n, fields: f})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	return out, nil
}

// checkName accepts app and stream names as §1 does (they become object keys); the wildcard
// "*" only where allowed.
func checkName(param, v string, wildcard bool) error {
	if v == "*" {
		if wildcard {
			return nil
		}
		return errInvalid(param, "wildcards are not supported")
	}
	if v == "" || len(v) > recording.MaxNameLen || v == "." || v == ".." {
		return errInvalid(param, "must be 1–128 characters")
	}
	for i := range len(v) {
		c := v[i]
		if !recording.IsNameChar(c) {
			if c == '*' || c == '?' {
				return errInvalid(param, "wildcards are not supported")
			}
			return errInvalid(param, "must be letters, digits, '.', '_', '~' or '-'")
		}
	}
	return nil
}

// checkDomain accepts a host name as rules do (recording's rule validation); callback
// configurations are not checked that way by the service, so the façade checks them here.
func checkDomain(v string) error {
	if len(v) > 253 {
		return errInvalid("DomainName", "must be at most 253 characters")
	}
	for i := range len(v) {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == ':') {
			return errInvalid("DomainName", "must be a host name")
		}
	}
	return nil
}
