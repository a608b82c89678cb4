package huawei

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// The SDK's AK/SK scheme (core/auth/signer/signer.go): SDK-HMAC-SHA256 over a canonical
// request, dated by X-Sdk-Date.
const (
	signAlgorithm   = "SDK-HMAC-SHA256"
	sdkDateLayout   = "20060102T150405Z"
	headerSdkDate   = "X-Sdk-Date"
	headerProjectID = "X-Project-Id"
	// headerContentHash replaces the payload hash when present; the SDK sets it to
	// UNSIGNED-PAYLOAD for non-JSON bodies.
	headerContentHash = "X-Sdk-Content-Sha256"
	unsignedPayload   = "UNSIGNED-PAYLOAD"
)

// authorization is a parsed "SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=.." header.
type authorization struct {
	access        string
	signedHeaders []string
	signature     []byte
}

func parseAuthorization(v string) (authorization, error) {
	var a authorization
	rest, ok := strings.CutPrefix(v, signAlgorithm+" ")
	if !ok {
		return a, errors.New("authorization is not " + signAlgorithm)
	}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, errors.New("malformed authorization")
		}
		switch k {
		case "Access":
			a.access = val
		case "SignedHeaders":
			a.signedHeaders = strings.Split(val, ";")
		case "Signature":
			sig, err := hex.DecodeString(val)
			if err != nil {
				return a, errors.New("signature is not hex")
			}
			a.signature = sig
		default:
			return a, fmt.Errorf("unknown authorization field %q", k)
		}
	}
	if a.access == "" || len(a.signedHeaders) == 0 || len(a.signature) != sha256.Size {
		return a, errors.New("authorization lacks Access, SignedHeaders or Signature")
	}
	// The date must be signed, or a captured request could be replayed under a fresh date.
	if !slices.Contains(a.signedHeaders, strings.ToLower(headerSdkDate)) {
		return a, errors.New("x-sdk-date is not signed")
	}
	return a, nil
}

// verifySignature checks the request's SDK-HMAC-SHA256 signature with the access key's secret
// and returns the key's principal. Every failure is ErrUnauthenticated; the reason is logged
// (never the secret) but the client only learns that the signature did not verify.
func (h *handler) verifySignature(r *http.Request, body []byte) (service.Principal, error) {
	a, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return service.Principal{}, authError("missing or malformed authorization", err)
	}
	date := r.Header.Get(headerSdkDate)
	t, err := time.Parse(sdkDateLayout, date)
	if err != nil {
		return service.Principal{}, authError("x-sdk-date must be "+sdkDateLayout, err)
	}
	if skew := h.now().Sub(t).Abs(); skew > h.maxSkew {
		return service.Principal{}, authError("x-sdk-date is out of range",
			fmt.Errorf("clock skew %v exceeds %v", skew, h.maxSkew))
	}
	payloadHash, err := payloadHash(r, body)
	if err != nil {
		return service.Principal{}, authError("verify aksk signature fail", err)
	}
	cr, err := canonicalRequest(r, a.signedHeaders, payloadHash)
	if err != nil {
		return service.Principal{}, authError("verify aksk signature fail", err)
	}
	key, secret, err := h.svc.KeySecret(r.Context(), a.access)
	if err != nil {
		if errors.Is(err, recording.ErrUnauthenticated) {
			return service.Principal{}, authError("verify aksk signature fail", &badCredentialsError{cause: err})
		}
		return service.Principal{}, fmt.Errorf("look up access key: %w", err)
	}
	if !hmac.Equal(a.signature, signature(secret, stringToSign(t, cr))) {
		return service.Principal{}, authError("verify aksk signature fail",
			&badCredentialsError{keyID: key.ID, cause: errors.New("signature mismatch")})
	}
	// X-Project-Id is how the SDK names the project in AK/SK requests; it must be the path's.
	if pid := r.Header.Get(headerProjectID); pid != r.PathValue("project_id") {
		return service.Principal{}, authError("x-project-id must name the project of the path",
			fmt.Errorf("x-project-id %q differs from the path", pid))
	}
	return service.PrincipalOf(key), nil
}

// payloadHash is the hex SHA-256 of the body, or the X-Sdk-Content-Sha256 header the SDK puts in
// its place. UNSIGNED-PAYLOAD is only taken for an empty body, so a signature always covers the
// body it arrives with.
func payloadHash(r *http.Request, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	v, ok := r.Header[http.CanonicalHeaderKey(headerContentHash)]
	if !ok {
		return actual, nil
	}
	claimed := strings.TrimSpace(strings.Join(v, ","))
	switch {
	case claimed == unsignedPayload && len(body) == 0:
		return claimed, nil
	case strings.EqualFold(claimed, actual):
		return claimed, nil
	}
	return "", errors.New("x-sdk-content-sha256 does not match the body")
}

// canonicalRequest rebuilds what the SDK hashed: method, canonical URI (escaped segments and a
// trailing slash), canonical query (sorted, escaped), the signed headers as "name:value" lines,
// the signed header list and the payload hash.
func canonicalRequest(r *http.Request, signed []string, payloadHash string) (string, error) {
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return "", err
	}
	headers, err := canonicalHeaders(r, signed)
	if err != nil {
		return "", err
	}
	return strings.Join([]string{r.Method, canonicalURI(r.URL.Path), query, headers,
		strings.Join(signed, ";"), payloadHash}, "\n"), nil
}

// canonicalURI escapes each segment of the decoded path, as the SDK escapes the path it filled
// with raw parameter values, and ends it with "/".
func canonicalURI(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	uri := strings.Join(segs, "/")
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	return uri
}

func canonicalQuery(raw string) (string, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", fmt.Errorf("parse query: %w", err)
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		vals := slices.Clone(q[k])
		slices.Sort(vals)
		for _, v := range vals {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(escape(k) + "=" + escape(v))
		}
	}
	return b.String(), nil
}

// canonicalHeaders lists the signed headers in the order given, each value trimmed, several
// values sorted, and ends with a newline. The Go server keeps Host apart from Header.
func canonicalHeaders(r *http.Request, signed []string) (string, error) {
	var b strings.Builder
	for _, name := range signed {
		if name == "" || name != strings.ToLower(name) {
			return "", fmt.Errorf("signed header %q is not lower-case", name)
		}
		var vals []string
		if name == "host" {
			vals = []string{r.Host}
		} else {
			vals = slices.Clone(r.Header.Values(name))
		}
		if len(vals) == 0 {
			return "", fmt.Errorf("signed header %q is missing", name)
		}
		slices.Sort(vals)
		for _, v := range vals {
			b.WriteString(name + ":" + strings.TrimSpace(v) + "\n")
		}
	}
	return b.String(), nil
}

func stringToSign(t time.Time, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return signAlgorithm + "\n" + t.UTC().Format(sdkDateLayout) + "\n" + hex.EncodeToString(sum[:])
}

func signature(secret, sts string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(sts))
	return m.Sum(nil)
}

// escape is the SDK's percent-encoding: everything but A–Z a–z 0–9 _ - ~ . as upper-case %XX.
func escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '_' || c == '-' || c == '~' || c == '.' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
