package pubauth

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Configuration limits. Alibaba's keys follow its CDN's rules (6–32 letters and digits);
// Huawei's come from its SDK's KeyChainInfo (32 letters and digits, neither all digits nor
// all letters; timeout 60–2592000 s).
const (
	MinAliyunKey = 6
	MaxAliyunKey = 32
	HuaweiKeyLen = 32
	// DefaultAliyunValidity is ali_auth_delta when none is given (every Alibaba sample's value).
	DefaultAliyunValidity = 1800 * time.Second
	MaxAliyunValidity     = 365 * 24 * time.Hour
	MinHuaweiValidity     = 60 * time.Second
	MaxHuaweiValidity     = 2592000 * time.Second
	// DefaultWebhookTimeout is the webhook's timeout when none is given.
	DefaultWebhookTimeout = 3 * time.Second
	MinWebhookTimeout     = 100 * time.Millisecond
	MaxWebhookTimeout     = 30 * time.Second
	MaxWebhookURL         = 2048
	// MaxArgs bounds the extra Alibaba arguments kept; MaxArgName and MaxArgValue their size.
	MaxArgs     = 32
	MaxArgName  = 64
	MaxArgValue = 1024
)

// AliyunArgs are the aliauth arguments liverec interprets; Args must not repeat them.
var AliyunArgs = []string{"auth_type", "auth_key1", "auth_key2", "ali_auth_delta"}

// ConfigError names the invalid field of a Config (its native API name) and why.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string { return "invalid " + e.Field + ": " + e.Reason }

func invalid(field, format string, a ...any) *ConfigError {
	return &ConfigError{Field: field, Reason: fmt.Sprintf(format, a...)}
}

// methodCReason is why Huawei's method C is refused.
const methodCReason = "Huawei method C (c_aes) is not supported: its encryption is not documented " +
	"well enough to implement; use method D (d_sha256), A or B"

// Normalize fills the defaults of c's method: Alibaba's validity and the webhook's timeout.
func (c *Config) Normalize() {
	switch c.Method {
	case MethodAliyunA:
		if c.Validity == 0 {
			c.Validity = DefaultAliyunValidity
		}
	case MethodWebhook:
		if c.WebhookTimeout == 0 {
			c.WebhookTimeout = DefaultWebhookTimeout
		}
	}
}

// Validate checks c as its method needs it and returns a *ConfigError for the first bad field.
func (c *Config) Validate() error {
	switch c.Method {
	case MethodNone:
		if err := c.only("args"); err != nil {
			return err
		}
		return checkArgs(c.Args)
	case MethodAliyunA:
		if err := c.only("key", "backup_key", "validity_s", "args"); err != nil {
			return err
		}
		if err := checkAliyunKey("key", c.Key, true); err != nil {
			return err
		}
		if err := checkAliyunKey("backup_key", c.BackupKey, false); err != nil {
			return err
		}
		if c.Validity < time.Second || c.Validity > MaxAliyunValidity || c.Validity%time.Second != 0 {
			return invalid("validity_s", "must be whole seconds from 1 to %d", int(MaxAliyunValidity/time.Second))
		}
		return checkArgs(c.Args)
	case MethodHuaweiA, MethodHuaweiB, MethodHuaweiD:
		if err := c.only("key", "validity_s"); err != nil {
			return err
		}
		if err := CheckHuaweiKey(c.Key); err != nil {
			return invalid("key", "%s", err.Error())
		}
		if c.Validity < MinHuaweiValidity || c.Validity > MaxHuaweiValidity || c.Validity%time.Second != 0 {
			return invalid("validity_s", "must be whole seconds from %d to %d",
				int(MinHuaweiValidity/time.Second), int(MaxHuaweiValidity/time.Second))
		}
		return nil
	case MethodHuaweiC:
		return invalid("method", "%s", methodCReason)
	case MethodWebhook:
		if err := c.only("webhook_url", "webhook_timeout_ms"); err != nil {
			return err
		}
		if err := checkWebhookURL(c.WebhookURL); err != nil {
			return err
		}
		if c.WebhookTimeout < MinWebhookTimeout || c.WebhookTimeout > MaxWebhookTimeout {
			return invalid("webhook_timeout_ms", "must be from %d to %d", MinWebhookTimeout.Milliseconds(),
				MaxWebhookTimeout.Milliseconds())
		}
		return nil
	case "":
		return invalid("method", "is required")
	}
	return invalid("method", "must be one of none, aliyun_a, huawei_a, huawei_b, huawei_d, webhook")
}

// only refuses the fields c sets that its method does not use.
func (c *Config) only(allowed ...string) error {
	set := map[string]bool{
		"key": c.Key != "", "backup_key": c.BackupKey != "", "validity_s": c.Validity != 0,
		"args": len(c.Args) > 0, "webhook_url": c.WebhookURL != "", "webhook_timeout_ms": c.WebhookTimeout != 0,
	}
	for _, a := range allowed {
		delete(set, a)
	}
	for _, field := range []string{"key", "backup_key", "validity_s", "args", "webhook_url", "webhook_timeout_ms"} {
		if set[field] {
			return invalid(field, "is not used by method %s", c.Method)
		}
	}
	return nil
}

func checkAliyunKey(field, key string, required bool) error {
	if key == "" {
		if required {
			return invalid(field, "is required")
		}
		return nil
	}
	if len(key) < MinAliyunKey || len(key) > MaxAliyunKey || !alnum(key) {
		return invalid(field, "must be %d–%d letters and digits", MinAliyunKey, MaxAliyunKey)
	}
	return nil
}

// CheckHuaweiKey applies Huawei's key rule: 32 letters and digits, not all digits, not all
// letters.
func CheckHuaweiKey(key string) error {
	if len(key) != HuaweiKeyLen || !alnum(key) {
		return fmt.Errorf("must be %d letters and digits", HuaweiKeyLen)
	}
	digits := strings.IndexFunc(key, func(r rune) bool { return r < '0' || r > '9' }) < 0
	letters := strings.IndexFunc(key, func(r rune) bool { return r >= '0' && r <= '9' }) < 0
	if digits || letters {
		return fmt.Errorf("must mix letters and digits")
	}
	return nil
}

func checkWebhookURL(raw string) error {
	if raw == "" {
		return invalid("webhook_url", "is required")
	}
	u, err := url.Parse(raw)
	if err != nil || len(raw) > MaxWebhookURL || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid("webhook_url", "must be an http:// or https:// URL of at most %d characters", MaxWebhookURL)
	}
	if u.User != nil {
		return invalid("webhook_url", "must not carry credentials")
	}
	return nil
}

func checkArgs(args []Arg) error {
	if len(args) > MaxArgs {
		return invalid("args", "at most %d", MaxArgs)
	}
	seen := map[string]bool{}
	for _, known := range AliyunArgs {
		seen[known] = true
	}
	for _, a := range args {
		if a.Name == "" || len(a.Name) > MaxArgName || strings.IndexFunc(a.Name, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
		}) >= 0 {
			return invalid("args", "names are 1–%d letters, digits and '_'", MaxArgName)
		}
		if seen[a.Name] {
			return invalid("args", "%q is given twice", a.Name)
		}
		seen[a.Name] = true
		if len(a.Value) > MaxArgValue {
			return invalid("args", "%q: values are at most %d bytes", a.Name, MaxArgValue)
		}
	}
	return nil
}

func alnum(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
