package service

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// Callback key rules (§7: Huawei keys are 32–64 letters and digits).
const (
	MinCallbackKey = 32
	MaxCallbackKey = 64
	// MaxURLLen bounds callback URLs.
	MaxURLLen = 2048
)

// ValidateCallbackURL applies §11's rules: http or https, a host, no credentials. Field names
// the field for the error.
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
	// "*" catches the streams of every domain without a configuration of their own (the
	// default rule's, §7): like the default rule, an admin's.
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
		if len(c.Key) < MinCallbackKey || len(c.Key) > MaxCallbackKey || !alnum(c.Key) {
			return &recording.ValidationError{Field: "key",
				Reason: fmt.Sprintf("must be %d–%d letters and digits", MinCallbackKey, MaxCallbackKey)}
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
