// Package service is the one service layer behind every management API façade (Huawei REST,
// Alibaba RPC, native JSON): rules, callback configurations, access keys, tokens and
// domain tenancy, with project isolation enforced here rather than in each façade.
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

// Principal is who makes a request: the project of the key or token that authenticated it.
type Principal struct {
	Project string
	// Admin keys may write the default rule's domain "*" and assign domains.
	Admin bool
	// KeyID is the access key or token id, for logs.
	KeyID string
	// AccessKeyID is the access key behind the request: the key itself, or the key a token
	// descends from. Tokens minted by this principal descend from it too.
	AccessKeyID string
	// Expires is, for a token, when it expires: a token cannot mint one that outlives it.
	// Zero for an access key.
	Expires time.Time
}

// Sealer seals and opens secrets with the master key.
type Sealer interface {
	Seal(plain []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// Store is what the service persists through.
type Store interface {
	store.Store
	store.Control
	store.Outbox
	store.PublishAuthStore
}

// Service implements the management operations. Errors are recording.ErrNotFound,
// recording.ErrConflict, recording.ErrForbidden or *recording.ValidationError, wrapped;
// each façade maps them to its dialect's codes.
type Service struct {
	Store  Store
	Sealer Sealer
	// EndpointExists tells whether a storage endpoint name or alias resolves.
	EndpointExists func(name string) bool
	// CheckBucket makes a rule's bucket ready and tells why it cannot take the rule's files
	// ("" when it can): an S3 bucket must exist (liverec never creates one); a local bucket
	// is a folder that is created now and must be writable. An error means the endpoint could
	// not be asked, and the rule is taken.
	CheckBucket func(ctx context.Context, endpoint, bucket string) (refusal string, err error)
	// Commander reaches the recorders of publishing streams (manual mode); nil: none live.
	Commander Commander
	// ClaimsAdminOnly makes domain claims an admin's act (§9 config switch).
	ClaimsAdminOnly bool
	// PublishAuthOptions are the publish authentication settings that are not per domain.
	PublishAuthOptions pubauth.Options
	// Now is the clock; default time.Now.
	Now func() time.Time
	// OnRedeliver, when set, is called after a delivery is made pending again or a test event's
	// delivery is written (the app wakes the notifier with it).
	OnRedeliver func()

	// Catalog persists slices, indexes, stream blocks, publications and plan tasks; nil
	// answers the catalogue's operations with an error.
	Catalog store.Catalog
	// Objects reaches stored objects (indexes, clips, deletions, URLs); nil: none.
	Objects Objects
	// ObjectKey names an object as the uploader does (template, base path, time zone,
	// extension); nil: previews and test events carry no object keys.
	ObjectKey func(n ObjectName) string
	// LiveURL gives the live HLS playlist URL of a recording in progress ("" when none).
	LiveURL func(ctx context.Context, recordingID string) string
	// Live reaches the publications in progress; nil: none is live.
	Live Live
	// Nodes lists the deployment's live nodes; nil: none listed.
	Nodes Nodes
	// ClipStored reports a stored clip (its recording, file and event in one write); nil: no
	// clips.
	ClipStored func(ctx context.Context, rec *recording.Recording, f *recording.File) error
	// ClipDir is where clips are made before they are stored (the spool).
	ClipDir string
	// Events starts event recordings on live streams' pre-roll buffers; nil: none is live.
	Events EventRecorder
	// Deleter deletes stored files with their file_deleted events (retention.Deleter); nil:
	// DeleteRecordingFiles marks them deleted without an event.
	Deleter FileDeleter
	// Locks locks recordings against retention and the disk policy; nil: no locks.
	Locks RecordingLocker
	// Retention previews the next retention pass; nil: no retention runs.
	Retention RetentionPreviewer
	// OnPlanChanged, when set, is called after a plan task of a stream was added or stopped,
	// so a recording of it in progress takes the new windows.
	OnPlanChanged func(ctx context.Context, project, domain, app, stream string)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// useDomain checks that p may act on domain: a domain owned by another project is not found
// (other projects cannot learn that it exists). When claim is set, an unclaimed domain is
// claimed for p's project.
func (s *Service) useDomain(ctx context.Context, p Principal, domain string, claim bool) error {
	if domain == recording.Wildcard {
		if !p.Admin {
			return fmt.Errorf("domain \"*\" is the default rule's: %w", recording.ErrForbidden)
		}
		return nil
	}
	owner, err := s.Store.DomainOwner(ctx, domain)
	switch {
	case err == nil && owner == p.Project:
		return nil
	case err == nil:
		return fmt.Errorf("domain %s: %w", domain, recording.ErrNotFound)
	case !errors.Is(err, recording.ErrNotFound):
		return fmt.Errorf("look up domain owner: %w", err)
	case !claim:
		return fmt.Errorf("domain %s: %w", domain, recording.ErrNotFound)
	case s.ClaimsAdminOnly && !p.Admin:
		return fmt.Errorf("domain %s is not assigned to this project: %w", domain, recording.ErrNotFound)
	}
	owner, err = s.Store.DomainClaim(ctx, domain, p.Project)
	if err != nil {
		return fmt.Errorf("claim domain: %w", err)
	}
	if owner != p.Project {
		return fmt.Errorf("domain %s: %w", domain, recording.ErrNotFound)
	}
	return nil
}

// CheckDomain tells whether p may read objects of domain (façades that address objects by
// domain, like Alibaba's Describe actions, call it first).
func (s *Service) CheckDomain(ctx context.Context, p Principal, domain string) error {
	return s.useDomain(ctx, p, strings.ToLower(domain), false)
}

// AssignDomain makes project own domain (admin only).
func (s *Service) AssignDomain(ctx context.Context, p Principal, domain, project string) error {
	if !p.Admin {
		return fmt.Errorf("assign domain: %w", recording.ErrForbidden)
	}
	domain = strings.ToLower(strings.TrimSpace(domain))
	if domain == "" || domain == recording.Wildcard || project == "" {
		return &recording.ValidationError{Field: "domain", Reason: "a domain and a project are required"}
	}
	return s.Store.DomainAssign(ctx, domain, project)
}

// ListDomains returns the domains of p's project.
func (s *Service) ListDomains(ctx context.Context, p Principal) ([]recording.DomainClaim, error) {
	return s.Store.DomainList(ctx, p.Project)
}
