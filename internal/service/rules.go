package service

import (
	"context"
	"fmt"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// prepareRule normalises and validates a rule written by p, and checks its endpoint and bucket.
func (s *Service) prepareRule(ctx context.Context, p Principal, r *recording.Rule) error {
	r.Project = p.Project
	r.Normalize()
	if err := r.Validate(); err != nil {
		return err
	}
	// Domain "*" catches the streams of every domain that has no rule of its own, in any
	// project: like the default rule and the catch-all callback configuration, an admin's.
	if r.Domain == recording.Wildcard && !p.Admin {
		return &recording.ValidationError{Field: "domain", Reason: `the catch-all domain "*" is for admin keys`}
	}
	if s.EndpointExists != nil && !s.EndpointExists(r.Storage.Endpoint) {
		return &recording.ValidationError{Field: "storage.endpoint",
			Reason: fmt.Sprintf("no storage endpoint is named %q", r.Storage.Endpoint)}
	}
	if s.CheckBucket != nil {
		// Only a definite refusal refuses the rule: an endpoint that cannot be asked right now
		// (down, refusing the keys) must not block writing rules.
		if refusal, err := s.CheckBucket(ctx, r.Storage.Endpoint, r.Storage.Bucket); err == nil && refusal != "" {
			return &recording.ValidationError{Field: "storage.bucket", Reason: refusal}
		}
	}
	return nil
}

// CreateRule writes a new rule in p's project (claiming its domain).
func (s *Service) CreateRule(ctx context.Context, p Principal, r *recording.Rule) error {
	if err := s.prepareRule(ctx, p, r); err != nil {
		return err
	}
	if err := s.useDomain(ctx, p, r.Domain, true); err != nil {
		return err
	}
	if err := s.Store.RuleInsert(ctx, r); err != nil {
		return fmt.Errorf("create rule: %w", err)
	}
	return nil
}

// UpdateRule replaces rule r.ID of p's project.
func (s *Service) UpdateRule(ctx context.Context, p Principal, r *recording.Rule) error {
	if _, err := s.GetRule(ctx, p, r.ID); err != nil {
		return err
	}
	if err := s.prepareRule(ctx, p, r); err != nil {
		return err
	}
	if err := s.useDomain(ctx, p, r.Domain, true); err != nil {
		return err
	}
	if err := s.Store.RuleUpdate(ctx, r); err != nil {
		return fmt.Errorf("update rule: %w", err)
	}
	return nil
}

// DeleteRule deletes rule id of p's project.
func (s *Service) DeleteRule(ctx context.Context, p Principal, id string) error {
	// Like writing one, deleting a catch-all rule (the default rule among them) is an admin's.
	if !p.Admin {
		r, err := s.Store.RuleGet(ctx, p.Project, id)
		if err != nil {
			return fmt.Errorf("delete rule: %w", err)
		}
		if r.Domain == recording.Wildcard {
			return fmt.Errorf(`delete rule: the catch-all domain "*" is for admin keys: %w`, recording.ErrForbidden)
		}
	}
	if err := s.Store.RuleDelete(ctx, p.Project, id); err != nil {
		return fmt.Errorf("delete rule: %w", err)
	}
	return nil
}

// GetRule returns rule id of p's project.
func (s *Service) GetRule(ctx context.Context, p Principal, id string) (*recording.Rule, error) {
	r, err := s.Store.RuleGet(ctx, p.Project, id)
	if err != nil {
		return nil, fmt.Errorf("get rule: %w", err)
	}
	return r, nil
}

// ListRules lists p's rules; the filter's project is p's.
func (s *Service) ListRules(ctx context.Context, p Principal, f store.RuleFilter) ([]recording.Rule, int, error) {
	f.Project = p.Project
	rules, total, err := s.Store.RuleList(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list rules: %w", err)
	}
	return rules, total, nil
}

// FindRule returns p's rule with the exact key (domain, app, stream); Alibaba addresses rules
// by key, not by id. An empty stream means "*".
func (s *Service) FindRule(ctx context.Context, p Principal, domain, app, stream string) (*recording.Rule, error) {
	k := recording.Rule{Domain: domain, App: app, Stream: stream}
	k.Normalize()
	rules, _, err := s.Store.RuleList(ctx, store.RuleFilter{Project: p.Project, Domain: k.Domain, App: k.App, Stream: k.Stream})
	if err != nil {
		return nil, fmt.Errorf("find rule: %w", err)
	}
	for i := range rules {
		if rules[i].Domain == k.Domain && rules[i].App == k.App && rules[i].Stream == k.Stream {
			return &rules[i], nil
		}
	}
	return nil, fmt.Errorf("rule %s/%s/%s: %w", k.Domain, k.App, k.Stream, recording.ErrNotFound)
}
