package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// Callback key rules. Every dialect takes 32–64 letters and digits (Huawei's rule, which
// suits Alibaba's MD5 signature as well); the standard dialect also takes a Standard Webhooks
// secret: "whsec_" and the base64 of 24–64 bytes, which it decodes to sign.
const (
	MinCallbackKey = 32
	MaxCallbackKey = 64
	// WhsecPrefix marks a Standard Webhooks secret.
	WhsecPrefix   = "whsec_"
	MinWhsecBytes = 24
	MaxWhsecBytes = 64
	// MaxURLLen bounds callback URLs.
	MaxURLLen = 2048
)

// generatedWhsecBytes is the size of the secrets NewCallbackKey makes for the standard dialect.
const generatedWhsecBytes = 32

// ValidateCallbackURL applies the callback URL rules: http or https, a host, no credentials.
// Field names the field for the error.
func ValidateCallbackURL(field, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || len(raw) > MaxURLLen || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &recording.ValidationError{Field: field, Reason: "must be an http:// or https:// URL"}
	}
	if u.User != nil {
		return &recording.ValidationError{Field: field, Reason: "must not carry credentials"}
	}
	return nil
}

func (s *Service) prepareCallback(p Principal, c *recording.CallbackConfig) error {
	c.Project = p.Project
	c.Domain = strings.ToLower(strings.TrimSpace(c.Domain))
	if c.App == "" {
		c.App = recording.Wildcard
	}
	if c.Dialect == "" {
		c.Dialect = recording.DialectStandard
	}
	switch c.Dialect {
	case recording.DialectAliyun, recording.DialectHuawei, recording.DialectStandard:
	default:
		return &recording.ValidationError{Field: "dialect", Reason: "must be aliyun, huawei or standard"}
	}
	if c.Domain == "" {
		return &recording.ValidationError{Field: "domain", Reason: "a domain is required"}
	}
	// "*" catches the streams of every domain without a configuration of their own (as the
	// default rule catches their streams): like the default rule, an admin's.
	if c.Domain == recording.Wildcard && !p.Admin {
		return &recording.ValidationError{Field: "domain", Reason: `the catch-all domain "*" is for admin keys`}
	}
	if c.URL == "" && c.OnDemandURL == "" {
		return &recording.ValidationError{Field: "url", Reason: "a callback URL is required"}
	}
	if err := ValidateCallbackURL("url", c.URL); err != nil {
		return err
	}
	if err := ValidateCallbackURL("on_demand_url", c.OnDemandURL); err != nil {
		return err
	}
	switch c.SignType {
	case "", recording.SignMD5, recording.SignHMACSHA256:
	default:
		return &recording.ValidationError{Field: "sign_type", Reason: "must be MD5 or HMACSHA256"}
	}
	if c.Key != "" {
		if err := ValidateCallbackKey(c.Dialect, c.Key); err != nil {
			return err
		}
		sealed, err := s.Sealer.Seal([]byte(c.Key))
		if err != nil {
			return fmt.Errorf("seal callback key: %w", err)
		}
		c.KeySealed = sealed
	}
	c.HasKey = len(c.KeySealed) > 0
	return nil
}

// ValidateCallbackKey checks key against the rules of dialect (see MinCallbackKey); the error
// says which form the dialect expects.
func ValidateCallbackKey(dialect recording.Dialect, key string) error {
	plain := fmt.Sprintf("%d–%d letters and digits", MinCallbackKey, MaxCallbackKey)
	if dialect != recording.DialectStandard {
		if len(key) < MinCallbackKey || len(key) > MaxCallbackKey || !alnum(key) {
			return &recording.ValidationError{Field: "key",
				Reason: fmt.Sprintf("must be %s for the %s dialect", plain, dialect)}
		}
		return nil
	}
	whsec := fmt.Sprintf(`%q followed by the base64 of %d–%d bytes (a Standard Webhooks secret)`,
		WhsecPrefix, MinWhsecBytes, MaxWhsecBytes)
	enc, isWhsec := strings.CutPrefix(key, WhsecPrefix)
	if !isWhsec {
		if len(key) < MinCallbackKey || len(key) > MaxCallbackKey || !alnum(key) {
			return &recording.ValidationError{Field: "key",
				Reason: fmt.Sprintf("must be %s, or %s, for the standard dialect", whsec, plain)}
		}
		return nil
	}
	// Decoded as the standard signer decodes it; it would skip line breaks, a key may not have them.
	secret, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil || strings.ContainsAny(enc, "\r\n") {
		return &recording.ValidationError{Field: "key",
			Reason: fmt.Sprintf("must be %s: what follows %q is not standard base64 (A–Z a–z 0–9 + /, padded with =)",
				whsec, WhsecPrefix)}
	}
	if len(secret) < MinWhsecBytes || len(secret) > MaxWhsecBytes {
		return &recording.ValidationError{Field: "key",
			Reason: fmt.Sprintf("must be %s: it decodes to %d bytes", whsec, len(secret))}
	}
	return nil
}

// NewCallbackKey makes a random key in the form dialect's signer expects: a Standard Webhooks
// secret of 32 bytes for the standard dialect, 32 letters and digits for the others. Nothing
// is stored; the key passes ValidateCallbackKey.
func NewCallbackKey(dialect recording.Dialect) (string, error) {
	switch dialect {
	case recording.DialectStandard:
		b := make([]byte, generatedWhsecBytes)
		_, _ = rand.Read(b) // crypto/rand.Read never fails; it crashes the program instead
		return WhsecPrefix + base64.StdEncoding.EncodeToString(b), nil
	case recording.DialectAliyun, recording.DialectHuawei:
		return randomString(MinCallbackKey, alphanum), nil
	}
	return "", &recording.ValidationError{Field: "dialect", Reason: "must be aliyun, huawei or standard"}
}

func alnum(s string) bool {
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// CreateCallback writes a new callback configuration in p's project; c.Key, when set, is
// sealed and then cleared.
func (s *Service) CreateCallback(ctx context.Context, p Principal, c *recording.CallbackConfig) error {
	c.Enabled = true
	if err := s.prepareCallback(p, c); err != nil {
		return err
	}
	c.Key = ""
	if err := s.useDomain(ctx, p, c.Domain, true); err != nil {
		return err
	}
	if err := s.Store.CallbackInsert(ctx, c); err != nil {
		return fmt.Errorf("create callback: %w", err)
	}
	return nil
}

// UpdateCallback replaces configuration c.ID; an empty c.Key keeps the stored key.
func (s *Service) UpdateCallback(ctx context.Context, p Principal, c *recording.CallbackConfig) error {
	old, err := s.GetCallback(ctx, p, c.ID)
	if err != nil {
		return err
	}
	if c.Key == "" {
		c.KeySealed = old.KeySealed
	}
	if err := s.prepareCallback(p, c); err != nil {
		return err
	}
	c.Key = ""
	if err := s.useDomain(ctx, p, c.Domain, true); err != nil {
		return err
	}
	if err := s.Store.CallbackUpdate(ctx, c); err != nil {
		return fmt.Errorf("update callback: %w", err)
	}
	return nil
}

// DeleteCallback deletes configuration id of p's project.
func (s *Service) DeleteCallback(ctx context.Context, p Principal, id string) error {
	// Like writing one, deleting a catch-all configuration is an admin's.
	if !p.Admin {
		c, err := s.Store.CallbackGet(ctx, p.Project, id)
		if err != nil {
			return fmt.Errorf("delete callback: %w", err)
		}
		if c.Domain == recording.Wildcard {
			return fmt.Errorf(`delete callback: the catch-all domain "*" is for admin keys: %w`, recording.ErrForbidden)
		}
	}
	if err := s.Store.CallbackDelete(ctx, p.Project, id); err != nil {
		return fmt.Errorf("delete callback: %w", err)
	}
	return nil
}

// GetCallback returns configuration id of p's project (its key stays sealed).
func (s *Service) GetCallback(ctx context.Context, p Principal, id string) (*recording.CallbackConfig, error) {
	c, err := s.Store.CallbackGet(ctx, p.Project, id)
	if err != nil {
		return nil, fmt.Errorf("get callback: %w", err)
	}
	c.HasKey = len(c.KeySealed) > 0
	return c, nil
}

// ListCallbacks lists p's configurations.
func (s *Service) ListCallbacks(ctx context.Context, p Principal, f store.CallbackFilter) ([]recording.CallbackConfig, int, error) {
	f.Project = p.Project
	cs, total, err := s.Store.CallbackList(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list callbacks: %w", err)
	}
	for i := range cs {
		cs[i].HasKey = len(cs[i].KeySealed) > 0
	}
	return cs, total, nil
}

// FindCallback returns p's configuration of a dialect with the exact (domain, app) key.
func (s *Service) FindCallback(ctx context.Context, p Principal, dialect recording.Dialect, domain, app string) (*recording.CallbackConfig, error) {
	domain = strings.ToLower(domain)
	if app == "" {
		app = recording.Wildcard
	}
	cs, _, err := s.Store.CallbackList(ctx, store.CallbackFilter{Project: p.Project, Dialect: dialect, Domain: domain, App: app})
	if err != nil {
		return nil, fmt.Errorf("find callback: %w", err)
	}
	for i := range cs {
		if cs[i].Domain == domain && cs[i].App == app && cs[i].Dialect == dialect {
			cs[i].HasKey = len(cs[i].KeySealed) > 0
			return &cs[i], nil
		}
	}
	return nil, fmt.Errorf("callback of %s/%s: %w", domain, app, recording.ErrNotFound)
}

// CallbackKey opens a configuration's key for signing deliveries.
func (s *Service) CallbackKey(c *recording.CallbackConfig) (string, error) {
	if len(c.KeySealed) == 0 {
		return "", nil
	}
	k, err := s.Sealer.Open(c.KeySealed)
	if err != nil {
		return "", fmt.Errorf("open callback key: %w", err)
	}
	return string(k), nil
}
