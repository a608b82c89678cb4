package pubauth

import (
	"crypto/hmac"
	"crypto/md5" //nolint:gosec // the clouds' URL signatures are MD5 by definition
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Input limits: anything longer is malformed before any hashing.
const (
	// MaxAuthValue bounds one credential parameter's value.
	MaxAuthValue = 256
	// MaxRandLen bounds the rand and uid fields of auth_key (a UUID without '-' is 32).
	MaxRandLen = 64
	// MaxDecimalTime bounds a decimal timestamp's digits (Unix seconds have 10 until 2286).
	MaxDecimalTime = 12
	// MaxURL bounds a URL given to ParseURL.
	MaxURL = 4096
)

// Request is what a publisher presents.
type Request struct {
	// URI is the URL's path: "/APP/STREAM" for an ingest URL. Method A signs it.
	URI string
	// Stream is the stream name. Methods B and D sign it.
	Stream string
	// Query holds the URL's parameters.
	Query url.Values
}

// IngestRequest is the Request of a publish of app/stream with the ingest parameters q.
func IngestRequest(app, stream string, q url.Values) Request {
	return Request{URI: "/" + app + "/" + stream, Stream: stream, Query: q}
}

// ParseURL reads a URL to check (Alibaba's DescribeLiveStreamAuthChecking): its path is the
// URI, its last path segment without a playback extension the stream.
func ParseURL(raw string) (Request, error) {
	if len(raw) > MaxURL {
		return Request{}, refuse(ReasonMalformed, "URL longer than %d bytes", MaxURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Request{}, refuse(ReasonMalformed, "unparsable URL")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Request{}, refuse(ReasonMalformed, "unparsable query")
	}
	uri := u.EscapedPath()
	i := strings.LastIndexByte(uri, '/')
	if i < 0 || i == len(uri)-1 {
		return Request{}, refuse(ReasonMalformed, "the URL has no /APP/STREAM path")
	}
	stream := uri[i+1:]
	for _, ext := range []string{".flv", ".m3u8", ".sdp"} {
		stream = strings.TrimSuffix(stream, ext)
	}
	return Request{URI: uri, Stream: stream, Query: q}, nil
}

// ErrNotVerifiable is returned by Verify for MethodWebhook: only the business server decides.
var ErrNotVerifiable = errors.New("the webhook method is decided by the business server")

// Verify checks r against c at now: nil admits, a *Refusal refuses. Hashes are compared in
// constant time, and every key is tried, so timing tells neither the hash nor which key fits.
func Verify(c *Config, r Request, now time.Time, o Options) error {
	switch c.Method {
	case MethodNone:
		return nil
	case MethodAliyunA:
		keys := []string{c.Key}
		if c.BackupKey != "" {
			keys = append(keys, c.BackupKey)
		}
		t, err := verifyA(keys, r, false)
		if err != nil {
			return err
		}
		end := t
		if o.AliyunExpiry != ExpiryStrict {
			end = t.Add(c.Validity)
		}
		if now.After(end) {
			return refuse(ReasonExpired, "the URL expired at %s", end.UTC().Format(time.RFC3339))
		}
		return nil
	case MethodHuaweiA:
		t, err := verifyA([]string{c.Key}, r, true)
		if err != nil {
			return err
		}
		return window(t, c.Validity, now, o.skew(), false)
	case MethodHuaweiB:
		t, err := verifyTx(c.Key, r)
		if err != nil {
			return err
		}
		// Huawei's page says both that txTime is the expiry and that the expiry is txTime +
		// timeout; the later of the two admits URLs made under either reading.
		if end := t.Add(c.Validity); now.After(end) {
			return refuse(ReasonExpired, "the URL expired at %s", end.UTC().Format(time.RFC3339))
		}
		return nil
	case MethodHuaweiD:
		t, err := verifyHw(c.Key, r)
		if err != nil {
			return err
		}
		return window(t, c.Validity, now, o.skew(), true)
	case MethodWebhook:
		return ErrNotVerifiable
	}
	return refuse(ReasonUnavailable, "method %q cannot be verified", c.Method)
}

// window admits now within [start-skew, start+validity]; endExclusive follows method D's "valid
// while hwTime + timeout > now".
func window(start time.Time, validity time.Duration, now time.Time, skew time.Duration, endExclusive bool) error {
	end := start.Add(validity)
	if now.After(end) || endExclusive && now.Equal(end) {
		return refuse(ReasonExpired, "the URL expired at %s", end.UTC().Format(time.RFC3339))
	}
	if now.Before(start.Add(-skew)) {
		return refuse(ReasonNotYetValid, "the URL is valid from %s", start.UTC().Format(time.RFC3339))
	}
	return nil
}

// verifyA checks auth_key={timestamp}-{rand}-{uid}-{md5hash} against any of keys and returns
// the timestamp. hexTime also accepts Huawei's hexadecimal timestamp.
func verifyA(keys []string, r Request, hexTime bool) (time.Time, error) {
	v, err := single(r.Query, ParamAuthKey)
	if err != nil {
		return time.Time{}, err
	}
	parts := strings.Split(v, "-")
	if len(parts) != 4 {
		return time.Time{}, refuse(ReasonMalformed, "auth_key must be timestamp-rand-uid-md5hash")
	}
	ts, rnd, uid, hash := parts[0], parts[1], parts[2], parts[3]
	var (
		t  time.Time
		ok bool
	)
	if hexTime && len(ts) == 8 && lowerHex(ts, 8) {
		t, ok = parseHex(ts, 8, 8) // 8 digits are hex: as decimal they would be 1970–1973
	} else {
		t, ok = parseDecimal(ts)
	}
	if !ok {
		return time.Time{}, refuse(ReasonMalformed, "auth_key has an unreadable timestamp")
	}
	if !token(rnd) || !token(uid) {
		return time.Time{}, refuse(ReasonMalformed, "auth_key's rand and uid must be 1–%d letters, digits, '_', '.' or '~'", MaxRandLen)
	}
	if !lowerHex(hash, md5.Size*2) {
		return time.Time{}, refuse(ReasonMalformed, "auth_key's hash must be 32 lower-case hex digits")
	}
	match := 0
	for _, key := range keys {
		sum := md5.Sum([]byte(r.URI + "-" + ts + "-" + rnd + "-" + uid + "-" + key)) //nolint:gosec // see import
		match |= subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(hash))
	}
	if match != 1 {
		return time.Time{}, refuse(ReasonBadSignature, "auth_key does not match the URI with any key")
	}
	return t, nil
}

// verifyTx checks method B's txSecret=md5(key+stream+txTime) and returns txTime.
func verifyTx(key string, r Request) (time.Time, error) {
	secret, ts, err := pair(r.Query, ParamTxSecret, ParamTxTime)
	if err != nil {
		return time.Time{}, err
	}
	t, ok := parseHex(ts, 1, 16)
	if !ok {
		return time.Time{}, refuse(ReasonMalformed, "txTime must be lower-case hex Unix seconds")
	}
	if !lowerHex(secret, md5.Size*2) {
		return time.Time{}, refuse(ReasonMalformed, "txSecret must be 32 lower-case hex digits")
	}
	sum := md5.Sum([]byte(key + r.Stream + ts)) //nolint:gosec // see import
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(secret)) != 1 {
		return time.Time{}, refuse(ReasonBadSignature, "txSecret does not match the stream")
	}
	return t, nil
}

// verifyHw checks method D's hwSecret=HMAC-SHA256(key, stream+hwTime) and returns hwTime.
func verifyHw(key string, r Request) (time.Time, error) {
	secret, ts, err := pair(r.Query, ParamHwSecret, ParamHwTime)
	if err != nil {
		return time.Time{}, err
	}
	t, ok := parseHex(ts, 1, 16)
	if !ok {
		return time.Time{}, refuse(ReasonMalformed, "hwTime must be lower-case hex Unix seconds")
	}
	if !lowerHex(secret, sha256.Size*2) {
		return time.Time{}, refuse(ReasonMalformed, "hwSecret must be 64 lower-case hex digits")
	}
	if subtle.ConstantTimeCompare([]byte(hmacHex(key, r.Stream+ts)), []byte(secret)) != 1 {
		return time.Time{}, refuse(ReasonBadSignature, "hwSecret does not match the stream")
	}
	return t, nil
}

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// single returns the one value of name: missing when absent or empty, malformed when given
// twice or too long.
func single(q url.Values, name string) (string, error) {
	vs := q[name]
	switch {
	case len(vs) == 0 || len(vs) == 1 && vs[0] == "":
		return "", refuse(ReasonMissing, "no %s parameter", name)
	case len(vs) > 1:
		return "", refuse(ReasonMalformed, "%s is given more than once", name)
	case len(vs[0]) > MaxAuthValue:
		return "", refuse(ReasonMalformed, "%s is longer than %d bytes", name, MaxAuthValue)
	}
	return vs[0], nil
}

// pair reads a secret and its time: missing when both are absent, malformed when one is.
func pair(q url.Values, secretName, timeName string) (secret, ts string, err error) {
	secret, errS := single(q, secretName)
	ts, errT := single(q, timeName)
	switch {
	case errS == nil && errT == nil:
		return secret, ts, nil
	case ReasonOf(errS) == ReasonMissing && ReasonOf(errT) == ReasonMissing:
		return "", "", refuse(ReasonMissing, "no %s and %s parameters", secretName, timeName)
	case errS != nil && ReasonOf(errS) != ReasonMissing:
		return "", "", errS
	case errT != nil && ReasonOf(errT) != ReasonMissing:
		return "", "", errT
	}
	return "", "", refuse(ReasonMalformed, "%s and %s must be given together", secretName, timeName)
}

// parseDecimal reads 1–MaxDecimalTime decimal digits of Unix seconds (no sign, no spaces).
func parseDecimal(s string) (time.Time, bool) {
	if s == "" || len(s) > MaxDecimalTime || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// parseHex reads minLen–maxLen lower-case hex digits of Unix seconds. Huawei's A timestamp is
// hex only as 8 digits, so that a 10-digit decimal one is never read as hex.
func parseHex(s string, minLen, maxLen int) (time.Time, bool) {
	if len(s) < minLen || len(s) > maxLen || !lowerHex(s, len(s)) {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(s, 16, 64)
	if err != nil || n > 1<<40 { // beyond year 36812: nonsense that would overflow time math
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

func lowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// token accepts auth_key's rand and uid: 1–MaxRandLen URL-safe characters other than '-'.
func token(s string) bool {
	if s == "" || len(s) > MaxRandLen {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '~') {
			return false
		}
	}
	return true
}
