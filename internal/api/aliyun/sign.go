package aliyun

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
)

// popEncode percent-encodes s as Alibaba's RPC signature (v1) wants it: RFC 3986 unreserved
// characters stay, everything else is %XX with upper-case hex, a space is %20 (not "+"), "*" is
// %2A and "~" stays. It is what the SDK gets from url.QueryEscape plus its three replacements.
func popEncode(s string) string {
	e := url.QueryEscape(s)
	if !strings.ContainsAny(e, "+*%") {
		return e
	}
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// canonicalQuery sorts params by name and joins popEncode(name)=popEncode(value) with "&",
// leaving out Signature. Empty values count: the SDK always signs "SignatureType=".
func canonicalQuery(params map[string]string) string {
	keys := make([]string, 0, len(params))
	n := 0
	for k, v := range params {
		if k == paramSignature {
			continue
		}
		keys = append(keys, k)
		n += len(k) + len(v) + 2
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(n + n/4)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(popEncode(k))
		b.WriteByte('=')
		b.WriteString(popEncode(params[k]))
	}
	return b.String()
}

// stringToSign is METHOD&%2F&popEncode(canonical query).
func stringToSign(method string, params map[string]string) string {
	return method + "&" + popEncode("/") + "&" + popEncode(canonicalQuery(params))
}

// sign is base64(HMAC-SHA1(secret + "&", stringToSign)); the "&" is where an STS token's
// secret would go, empty for plain access keys.
func sign(secret, toSign string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// signatureMatches compares in constant time so a forger learns nothing from timing.
func signatureMatches(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
