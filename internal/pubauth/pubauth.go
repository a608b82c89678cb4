// Package pubauth checks and makes signed publish URLs: Alibaba Cloud Live's auth_key
// (type A, a primary and a backup key) and Huawei Cloud Live's URL validation methods A
// (auth_key), B (txSecret/txTime) and D (hwSecret/hwTime, HMAC-SHA256). It is pure: no I/O, no
// clock of its own, no logging. Refusals carry a Reason and never a key or a signature.
//
// Huawei's method C (c_aes, auth_info) is refused at configuration: its cipher, plaintext
// layout and encoding are not documented well enough to implement it faithfully.
package pubauth

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Method is how the publishers of a domain authenticate.
type Method string

// Methods.
const (
	// MethodNone admits every publisher: an explicitly open domain (Alibaba auth_type no_auth).
	MethodNone Method = "none"
	// MethodAliyunA is Alibaba's type A: auth_key=timestamp-rand-uid-md5hash, md5 over
	// "URI-timestamp-rand-uid-key", with a primary and a backup key and a decimal timestamp.
	MethodAliyunA Method = "aliyun_a"
	// MethodHuaweiA is Huawei's method A (a_md5): Alibaba's formula with one key, a decimal or
	// hexadecimal timestamp that starts the validity.
	MethodHuaweiA Method = "huawei_a"
	// MethodHuaweiB is Huawei's method B (b_md5): txSecret=md5(key+stream+txTime), txTime hex.
	MethodHuaweiB Method = "huawei_b"
	// MethodHuaweiC is Huawei's method C (c_aes). It is never valid: see the package comment.
	MethodHuaweiC Method = "huawei_c"
	// MethodHuaweiD is Huawei's method D (d_sha256): hwSecret=HMAC-SHA256(key, stream+hwTime).
	MethodHuaweiD Method = "huawei_d"
	// MethodWebhook asks the business server (see package webhook); nothing is verified here.
	MethodWebhook Method = "webhook"
)

// Expiry is how an Alibaba type-A timestamp is read; Alibaba's documents disagree.
type Expiry string

// Expiry rules.
const (
	// ExpiryDelta (the default, Alibaba's current documentation): the timestamp is when the URL
	// was made; it is refused once now > timestamp + validity.
	ExpiryDelta Expiry = "delta"
	// ExpiryStrict (Alibaba's older documentation and its demos): the timestamp is the expiry;
	// the URL is refused once now > timestamp.
	ExpiryStrict Expiry = "strict"
)

// Options are the verification settings that are not per domain.
type Options struct {
	// AliyunExpiry is the type-A expiry rule; empty means ExpiryDelta.
	AliyunExpiry Expiry
	// MaxSkew is how far before its start a Huawei URL (methods A and D) is already accepted:
	// the signer's clock may run ahead of ours. Zero means DefaultMaxSkew.
	MaxSkew time.Duration
}

// DefaultMaxSkew is the clock skew a Huawei URL's start time is given when Options.MaxSkew is 0.
const DefaultMaxSkew = 5 * time.Minute

func (o Options) skew() time.Duration {
	if o.MaxSkew > 0 {
		return o.MaxSkew
	}
	return DefaultMaxSkew
}

// Config is one domain's publish authentication, keys in plain form. Only the fields of its
// Method are used; Validate refuses the others.
type Config struct {
	Method Method
	// Key is the signing key: Alibaba's auth_key1, Huawei's key.
	Key string
	// BackupKey is Alibaba's auth_key2, valid beside Key so keys can be rotated.
	BackupKey string
	// Validity is Alibaba's ali_auth_delta or Huawei's timeout.
	Validity time.Duration
	// Args are further Alibaba aliauth arguments liverec does not interpret, kept as given.
	Args []Arg
	// WebhookURL and WebhookTimeout configure MethodWebhook.
	WebhookURL     string
	WebhookTimeout time.Duration
}

// Arg is an Alibaba function argument.
type Arg struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Reason says why a publish was refused; it labels liverec_publish_refused_total.
type Reason string

// Reasons.
const (
	// ReasonMissing: the URL carries none of the method's parameters.
	ReasonMissing Reason = "missing"
	// ReasonMalformed: a parameter is there but cannot be read (or is given twice).
	ReasonMalformed Reason = "malformed"
	// ReasonExpired: the signature was right but the URL's validity is over.
	ReasonExpired Reason = "expired"
	// ReasonNotYetValid: the signature was right but the URL's validity has not started.
	ReasonNotYetValid Reason = "not_yet_valid"
	// ReasonBadSignature: the hash matches no key of the domain (or not this URI or stream).
	ReasonBadSignature Reason = "bad_signature"
	// ReasonDenied: the webhook answered no.
	ReasonDenied Reason = "denied"
	// ReasonWebhookFailed: the webhook failed, timed out or answered nonsense (fail closed).
	ReasonWebhookFailed Reason = "webhook_failed"
	// ReasonUnavailable: the domain's configuration could not be read (fail closed).
	ReasonUnavailable Reason = "unavailable"
	// ReasonThrottled: the publisher's address failed too often lately; its credentials were
	// not checked.
	ReasonThrottled Reason = "throttled"
	// ReasonForbidden: the stream key is on the block list (forbidden until resumed).
	ReasonForbidden Reason = "forbidden"
)

// Reasons lists every Reason, so a metric can show each one from the start.
func Reasons() []Reason {
	return []Reason{ReasonMissing, ReasonMalformed, ReasonExpired, ReasonNotYetValid, ReasonBadSignature,
		ReasonDenied, ReasonWebhookFailed, ReasonUnavailable, ReasonThrottled, ReasonForbidden}
}

// Refusal is the error of a refused publish. Detail is for logs and never holds a key, a
// signature or any other parameter value.
type Refusal struct {
	Reason Reason
	Detail string
}

func (r *Refusal) Error() string {
	if r.Detail == "" {
		return "publish refused: " + string(r.Reason)
	}
	return "publish refused: " + string(r.Reason) + ": " + r.Detail
}

func refuse(reason Reason, format string, a ...any) *Refusal {
	return &Refusal{Reason: reason, Detail: fmt.Sprintf(format, a...)}
}

// ReasonOf returns the Reason of a refusal anywhere in err's chain, or "" when err is none.
func ReasonOf(err error) Reason {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

// AliyunDescription is the Description of Alibaba's DescribeLiveStreamAuthChecking for a
// refusal reason; "" (no reason) is a URL that cannot be checked (no aliauth configured).
func AliyunDescription(r Reason) string {
	switch r {
	case ReasonMissing, ReasonMalformed:
		return "INVALID AUTH_KEY"
	case ReasonExpired, ReasonNotYetValid:
		return "INVALID TIMESTAMP"
	case ReasonBadSignature:
		return "INVALID MD5HASH"
	}
	return "INVALID ALIAUTH"
}

// Names of the query parameters that carry credentials. They are verified here and must never
// reach logs, callbacks (push_args) or object names.
const (
	ParamAuthKey  = "auth_key"
	ParamTxSecret = "txSecret"
	ParamTxTime   = "txTime"
	ParamHwSecret = "hwSecret"
	ParamHwTime   = "hwTime"
	// ParamAuthInfo is method C's; never verified, still a credential.
	ParamAuthInfo = "auth_info"
)

// IsAuthParam tells whether a query parameter name carries credentials.
func IsAuthParam(name string) bool {
	switch name {
	case ParamAuthKey, ParamTxSecret, ParamTxTime, ParamHwSecret, ParamHwTime, ParamAuthInfo:
		return true
	}
	return false
}

// WithoutAuthParams returns q without the credential parameters; q itself is not modified (it
// is returned as is when it has none).
func WithoutAuthParams(q url.Values) url.Values {
	has := false
	for name := range q {
		if IsAuthParam(name) {
			has = true
			break
		}
	}
	if !has {
		return q
	}
	out := make(url.Values, len(q))
	for name, vs := range q {
		if !IsAuthParam(name) {
			out[name] = vs
		}
	}
	return out
}
