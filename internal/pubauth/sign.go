package pubauth

import (
	"crypto/md5" //nolint:gosec // the clouds' URL signatures are MD5 by definition
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNothingToSign is returned by Sign for methods without a signature (none, webhook).
var ErrNothingToSign = errors.New("the domain's publish authentication signs nothing")

// Sign returns the query parameters that authenticate a publish of r.URI / r.Stream made at t:
// "auth_key=…" (methods A), "txSecret=…&txTime=…" (B) or "hwSecret=…&hwTime=…" (D). rnd is
// auth_key's rand field, "0" when empty (Alibaba suggests a UUID without '-' so that every URL
// differs). Alibaba URLs are signed with the primary key; under ExpiryStrict their timestamp is
// t + validity, so a URL is valid for the validity under either rule.
func Sign(c *Config, r Request, t time.Time, rnd string, o Options) (string, error) {
	if rnd == "" {
		rnd = "0"
	}
	if !token(rnd) {
		return "", fmt.Errorf("rand must be 1–%d letters, digits, '_', '.' or '~'", MaxRandLen)
	}
	switch c.Method {
	case MethodAliyunA, MethodHuaweiA:
		ts := t
		if c.Method == MethodAliyunA && o.AliyunExpiry == ExpiryStrict {
			ts = t.Add(c.Validity)
		}
		return ParamAuthKey + "=" + SignA(c.Key, r.URI, strconv.FormatInt(ts.Unix(), 10), rnd, "0"), nil
	case MethodHuaweiB:
		ts := strconv.FormatInt(t.Unix(), 16)
		sum := md5.Sum([]byte(c.Key + r.Stream + ts)) //nolint:gosec // see import
		return ParamTxSecret + "=" + hex.EncodeToString(sum[:]) + "&" + ParamTxTime + "=" + ts, nil
	case MethodHuaweiD:
		ts := strconv.FormatInt(t.Unix(), 16)
		return ParamHwSecret + "=" + hmacHex(c.Key, r.Stream+ts) + "&" + ParamHwTime + "=" + ts, nil
	}
	return "", ErrNothingToSign
}

// SignA returns auth_key's value {timestamp}-{rand}-{uid}-{md5hash} for uri and key.
func SignA(key, uri, timestamp, rnd, uid string) string {
	sum := md5.Sum([]byte(uri + "-" + timestamp + "-" + rnd + "-" + uid + "-" + key)) //nolint:gosec // see import
	return timestamp + "-" + rnd + "-" + uid + "-" + hex.EncodeToString(sum[:])
}

// AppendQuery appends the encoded parameters q to rawURL, after its own query if it has one
// (the signature of method A covers the path only, so other parameters may stay before it).
func AppendQuery(rawURL, q string) string {
	if strings.Contains(rawURL, "?") {
		return rawURL + "&" + q
	}
	return rawURL + "?" + q
}
