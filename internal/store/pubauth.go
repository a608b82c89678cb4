package store

import (
	"context"
	"time"

	"github.com/liverec/liverec/internal/pubauth"
)

// PublishAuth is a domain's publish authentication as stored: one per domain, shared by
// every API dialect, its keys sealed with the master key. Domain "*" is the default of the
// domains without their own.
type PublishAuth struct {
	// Domain is lower-case; "*" for the default.
	Domain string
	// Project is the project that wrote it (the domain's owner then).
	Project string
	Method  pubauth.Method
	// KeySealed and BackupKeySealed are the sealed Key and BackupKey (nil when unset).
	KeySealed       []byte
	BackupKeySealed []byte
	// Validity is whole seconds (Alibaba ali_auth_delta, Huawei timeout).
	Validity time.Duration
	// Args are further Alibaba aliauth arguments, kept as given, in order.
	Args []pubauth.Arg
	// WebhookURL and WebhookTimeout (millisecond precision) configure the webhook method.
	WebhookURL     string
	WebhookTimeout time.Duration
	// ConfigID is the Alibaba ConfigId: assigned at the first put, kept by later ones.
	ConfigID  int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PublishAuthStore persists publish authentication. Domains compare case-insensitively. Every
// driver implements it beside Store, and storetest covers it.
type PublishAuthStore interface {
	// PublishAuthPut creates or replaces the configuration of a.Domain. It sets a.ConfigID (kept
	// from the configuration it replaces), a.CreatedAt (likewise) and a.UpdatedAt.
	PublishAuthPut(ctx context.Context, a *PublishAuth) error
	// PublishAuthGet returns the configuration of domain, whichever project wrote it (tenancy
	// is the service's: only the domain's owner reaches it); recording.ErrNotFound.
	PublishAuthGet(ctx context.Context, domain string) (*PublishAuth, error)
	// PublishAuthDelete deletes the configuration of domain; recording.ErrNotFound when none.
	PublishAuthDelete(ctx context.Context, domain string) error
}
