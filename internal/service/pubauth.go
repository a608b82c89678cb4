package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// PublishAuth is a domain's publish authentication as the façades see it. Its keys are in
// plain form: each façade decides what it shows (never in logs).
type PublishAuth struct {
	// Domain is lower-case; "*" is the default of domains without their own.
	Domain  string
	Project string
	pubauth.Config
	// ConfigID is the Alibaba ConfigId, stable across updates.
	ConfigID  int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// URLVerdict is the outcome of CheckPublishURL.
type URLVerdict string

// Verdicts.
const (
	// VerdictPass: a publish with this URL would be admitted (an open domain admits every URL).
	VerdictPass URLVerdict = "pass"
	// VerdictRefused: it would be refused; URLCheck.Reason says why.
	VerdictRefused URLVerdict = "refused"
	// VerdictUnchecked: the webhook decides, which a URL alone cannot tell.
	VerdictUnchecked URLVerdict = "unchecked"
)

// URLCheck is the outcome of checking a URL against a domain's publish authentication.
type URLCheck struct {
	Verdict URLVerdict
	// Method is the one that applies: the domain's, the default's, or "" for none at all.
	Method pubauth.Method
	// Reason and Detail explain a refusal (Detail never holds a key or a signature).
	Reason pubauth.Reason
	Detail string
}

// SetPublishAuth validates c and makes it the publish authentication of every domain of domains,
// claiming the unclaimed ones. Every domain is checked before any is written, so a domain of
// another project (not found) or an invalid config changes nothing. Domain "*" needs an admin.
func (s *Service) SetPublishAuth(ctx context.Context, p Principal, domains []string, c pubauth.Config) ([]*PublishAuth, error) {
	c.Normalize()
	if err := c.Validate(); err != nil {
		var ce *pubauth.ConfigError
		if errors.As(err, &ce) {
			return nil, &recording.ValidationError{Field: ce.Field, Reason: ce.Reason}
		}
		return nil, err
	}
	if len(domains) == 0 {
		return nil, &recording.ValidationError{Field: "domain", Reason: "a domain is required"}
	}
	domains = append([]string(nil), domains...)
	seen := map[string]bool{}
	for i, d := range domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if err := checkAuthDomain(d); err != nil {
			return nil, err
		}
		if seen[d] {
			return nil, &recording.ValidationError{Field: "domain", Reason: fmt.Sprintf("%s is given twice", d)}
		}
		seen[d] = true
		domains[i] = d
		if err := s.mayClaim(ctx, p, d); err != nil {
			return nil, err
		}
	}
	var key, backup []byte
	var err error
	if c.Key != "" {
		if key, err = s.Sealer.Seal([]byte(c.Key)); err != nil {
			return nil, fmt.Errorf("seal publish auth key: %w", err)
		}
	}
	if c.BackupKey != "" {
		if backup, err = s.Sealer.Seal([]byte(c.BackupKey)); err != nil {
			return nil, fmt.Errorf("seal publish auth key: %w", err)
		}
	}
	out := make([]*PublishAuth, 0, len(domains))
	for _, d := range domains {
		if err := s.useDomain(ctx, p, d, true); err != nil {
			return nil, err
		}
		a := &store.PublishAuth{Domain: d, Project: p.Project, Method: c.Method, KeySealed: key, BackupKeySealed: backup,
			Validity: c.Validity, Args: c.Args, WebhookURL: c.WebhookURL, WebhookTimeout: c.WebhookTimeout}
		if err := s.Store.PublishAuthPut(ctx, a); err != nil {
			return nil, fmt.Errorf("set publish auth: %w", err)
		}
		out = append(out, &PublishAuth{Domain: a.Domain, Project: a.Project, Config: c, ConfigID: a.ConfigID,
			CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt})
	}
	return out, nil
}

// mayClaim checks, without claiming, that useDomain(claim) would let p act on domain.
func (s *Service) mayClaim(ctx context.Context, p Principal, domain string) error {
	if domain == recording.Wildcard {
		return s.useDomain(ctx, p, domain, false)
	}
	owner, err := s.Store.DomainOwner(ctx, domain)
	switch {
	case err == nil && owner == p.Project:
		return nil
	case err == nil:
		return fmt.Errorf("domain %s: %w", domain, recording.ErrNotFound)
	case !errors.Is(err, recording.ErrNotFound):
		return fmt.Errorf("look up domain owner: %w", err)
	case s.ClaimsAdminOnly && !p.Admin:
		return fmt.Errorf("domain %s is not assigned to this project: %w", domain, recording.ErrNotFound)
	}
	return nil
}

// GetPublishAuth returns the publish authentication of domain; recording.ErrNotFound when the
// domain has none of its own (or is another project's).
func (s *Service) GetPublishAuth(ctx context.Context, p Principal, domain string) (*PublishAuth, error) {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if err := s.useDomain(ctx, p, domain, false); err != nil {
		return nil, err
	}
	return s.publishAuth(ctx, domain)
}

// DeletePublishAuth deletes the publish authentication of domain: it falls back to domain "*".
func (s *Service) DeletePublishAuth(ctx context.Context, p Principal, domain string) error {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if err := s.useDomain(ctx, p, domain, false); err != nil {
		return err
	}
	if err := s.Store.PublishAuthDelete(ctx, domain); err != nil {
		return fmt.Errorf("delete publish auth: %w", err)
	}
	return nil
}

// EffectivePublishAuth returns what applies to a publish on domain: the domain's own publish
// authentication, else domain "*"'s, else nil (open). The publish check calls it; it acts for
// no principal.
func (s *Service) EffectivePublishAuth(ctx context.Context, domain string) (*PublishAuth, error) {
	for _, d := range []string{strings.ToLower(domain), recording.Wildcard} {
		a, err := s.publishAuth(ctx, d)
		if err == nil {
			return a, nil
		}
		if !errors.Is(err, recording.ErrNotFound) {
			return nil, err
		}
	}
	return nil, nil
}

// CheckPublishURL tells whether a publish to rawURL on domain would be admitted now, as the
// publish check would decide it (the domain's own configuration, else "*"'s).
func (s *Service) CheckPublishURL(ctx context.Context, p Principal, domain, rawURL string) (*URLCheck, error) {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if domain == recording.Wildcard {
		return nil, &recording.ValidationError{Field: "domain", Reason: "name the domain the URL publishes to"}
	}
	if err := checkAuthDomain(domain); err != nil {
		return nil, err
	}
	if err := s.useDomain(ctx, p, domain, false); err != nil {
		return nil, err
	}
	a, err := s.EffectivePublishAuth(ctx, domain)
	if err != nil {
		return nil, err
	}
	if a == nil || a.Method == pubauth.MethodNone {
		check := &URLCheck{Verdict: VerdictPass}
		if a != nil {
			check.Method = a.Method
		}
		return check, nil
	}
	if a.Method == pubauth.MethodWebhook {
		return &URLCheck{Verdict: VerdictUnchecked, Method: a.Method}, nil
	}
	r, err := pubauth.ParseURL(rawURL)
	if err == nil {
		err = pubauth.Verify(&a.Config, r, s.now(), s.PublishAuthOptions)
	}
	var refusal *pubauth.Refusal
	switch {
	case err == nil:
		return &URLCheck{Verdict: VerdictPass, Method: a.Method}, nil
	case errors.As(err, &refusal):
		return &URLCheck{Verdict: VerdictRefused, Method: a.Method, Reason: refusal.Reason, Detail: refusal.Detail}, nil
	}
	return nil, fmt.Errorf("check publish URL: %w", err)
}

// SignPublishURL returns the signed RTMP publish URL of domain/app/stream valid from start (zero:
// now), as rtmp://DOMAIN/APP/STREAM?…: the domain's own configuration signs it, or for an admin
// domain "*"'s. A domain whose publish authentication signs nothing is a validation error.
func (s *Service) SignPublishURL(ctx context.Context, p Principal, domain, app, stream string, start time.Time) (string, error) {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if domain == recording.Wildcard {
		return "", &recording.ValidationError{Field: "domain", Reason: "name the domain to publish to"}
	}
	if err := checkAuthDomain(domain); err != nil {
		return "", err
	}
	for field, v := range map[string]string{"app": app, "stream": stream} {
		if !recording.ValidName(v) {
			return "", &recording.ValidationError{Field: field,
				Reason: "must be 1–128 characters of A–Z a–z 0–9 . _ ~ - and not \".\" or \"..\""}
		}
	}
	if err := s.useDomain(ctx, p, domain, false); err != nil {
		return "", err
	}
	a, err := s.publishAuth(ctx, domain)
	if errors.Is(err, recording.ErrNotFound) && p.Admin {
		a, err = s.publishAuth(ctx, recording.Wildcard)
	}
	if errors.Is(err, recording.ErrNotFound) {
		return "", &recording.ValidationError{Field: "domain", Reason: "the domain has no publish authentication to sign with"}
	}
	if err != nil {
		return "", err
	}
	if start.IsZero() {
		start = s.now()
	}
	q, err := pubauth.Sign(&a.Config, pubauth.IngestRequest(app, stream, nil), start, "", s.PublishAuthOptions)
	if errors.Is(err, pubauth.ErrNothingToSign) {
		return "", &recording.ValidationError{Field: "domain",
			Reason: fmt.Sprintf("the domain's publish authentication (%s) signs nothing", a.Method)}
	}
	if err != nil {
		return "", fmt.Errorf("sign publish URL: %w", err)
	}
	return pubauth.AppendQuery("rtmp://"+domain+"/"+app+"/"+stream, q), nil
}

// publishAuth reads the configuration of exactly domain and opens its keys.
func (s *Service) publishAuth(ctx context.Context, domain string) (*PublishAuth, error) {
	a, err := s.Store.PublishAuthGet(ctx, domain)
	if err != nil {
		return nil, fmt.Errorf("get publish auth: %w", err)
	}
	out := &PublishAuth{Domain: a.Domain, Project: a.Project, ConfigID: a.ConfigID, CreatedAt: a.CreatedAt,
		UpdatedAt: a.UpdatedAt, Config: pubauth.Config{Method: a.Method, Validity: a.Validity, Args: a.Args,
			WebhookURL: a.WebhookURL, WebhookTimeout: a.WebhookTimeout}}
	for _, k := range []struct {
		sealed []byte
		plain  *string
	}{{a.KeySealed, &out.Key}, {a.BackupKeySealed, &out.BackupKey}} {
		if len(k.sealed) == 0 {
			continue
		}
		plain, err := s.Sealer.Open(k.sealed)
		if err != nil {
			return nil, fmt.Errorf("open publish auth key of %s: %w", domain, err)
		}
		*k.plain = string(plain)
	}
	return out, nil
}

// checkAuthDomain accepts "*" or a lower-case host name, as rules' domains.
func checkAuthDomain(d string) error {
	if d == recording.Wildcard {
		return nil
	}
	if d == "" || len(d) > recording.MaxDomainLen {
		return &recording.ValidationError{Field: "domain", Reason: fmt.Sprintf("must be 1–%d characters", recording.MaxDomainLen)}
	}
	for i := range len(d) {
		c := d[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == ':') {
			return &recording.ValidationError{Field: "domain", Reason: "must be a host name"}
		}
	}
	return nil
}
