package store

import (
	"context"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// Control persists what the management APIs configure besides rules: callback
// configurations, access keys, tokens, domain claims and the nonces of signed requests. Every
// driver implements it beside Store, and storetest.Exercise covers it.
type Control interface {
	// CallbackInsert stores a new configuration, assigning c.ID (prefix CallbackPrefix) when
	// empty and setting CreatedAt/UpdatedAt. recording.ErrConflict for the same (Project,
	// Dialect, Domain, App) or ID.
	CallbackInsert(ctx context.Context, c *recording.CallbackConfig) error
	// CallbackUpdate replaces configuration (c.Project, c.ID); recording.ErrNotFound or
	// recording.ErrConflict (new key taken). KeySealed is replaced as given (the service keeps
	// the old one when a request does not change the key).
	CallbackUpdate(ctx context.Context, c *recording.CallbackConfig) error
	// CallbackDelete deletes a configuration of project; recording.ErrNotFound when none.
	CallbackDelete(ctx context.Context, project, id string) error
	// CallbackGet returns a configuration of project (with KeySealed); recording.ErrNotFound.
	CallbackGet(ctx context.Context, project, id string) (*recording.CallbackConfig, error)
	// CallbackList returns a page of a project's configurations in creation order, and the total.
	CallbackList(ctx context.Context, f CallbackFilter) ([]recording.CallbackConfig, int, error)
	// CallbackByID returns a configuration by id in any project (the notifier resolves a
	// delivery's configuration with it); recording.ErrNotFound.
	CallbackByID(ctx context.Context, id string) (*recording.CallbackConfig, error)
	// CallbacksForStream returns every project's enabled and disabled configurations whose
	// domain is domain or the catch-all "*", in creation order, for the notifier and the
	// on-demand decision to pick from.
	CallbacksForStream(ctx context.Context, domain string) ([]recording.CallbackConfig, error)

	// AccessKeyInsert stores a key; recording.ErrConflict for an existing ID.
	AccessKeyInsert(ctx context.Context, k *recording.AccessKey) error
	// AccessKeyGet returns a key by ID in any project (authentication looks keys up by ID),
	// revoked ones included; recording.ErrNotFound.
	AccessKeyGet(ctx context.Context, id string) (*recording.AccessKey, error)
	// AccessKeyList returns a project's keys in creation order (every project's when empty).
	AccessKeyList(ctx context.Context, project string) ([]recording.AccessKey, error)
	// AccessKeyRevoke sets RevokedAt of a project's key and deletes the key's tokens, in one
	// transaction; recording.ErrNotFound.
	AccessKeyRevoke(ctx context.Context, project, id string, at time.Time) error
	// AccessKeySetDisabled disables or enables a project's key; disabling also deletes the key's
	// tokens, in the same transaction, so enabling it again does not bring them back.
	// recording.ErrNotFound.
	AccessKeySetDisabled(ctx context.Context, project, id string, disabled bool) error
	// AccessKeyUpdateSecret replaces the sealed secret (and un-revokes) a key: used when
	// LIVEREC_ACCESS_KEY_* are set at start.
	AccessKeyUpdateSecret(ctx context.Context, id string, sealed []byte) error

	// TokenInsert stores a token (ID prefix TokenPrefix when empty).
	TokenInsert(ctx context.Context, t *recording.Token) error
	// TokenByHash returns the token with that hash; recording.ErrNotFound also once expired (a
	// token is valid while now is before ExpiresAt) and when its key (KeyID) is gone, revoked
	// or disabled.
	TokenByHash(ctx context.Context, hash []byte, now time.Time) (*recording.Token, error)
	// TokenList returns a project's tokens (every project's when empty) that have not expired at
	// now, oldest first, without their hashes' meaning anything to a caller.
	TokenList(ctx context.Context, project string, now time.Time) ([]recording.Token, error)
	// TokenDelete deletes a project's token; recording.ErrNotFound.
	TokenDelete(ctx context.Context, project, id string) error

	// DomainClaim gives domain to project unless another project owns it, and returns the
	// owner (project itself when the claim succeeded or it already owned the domain). It is
	// race-free: of projects claiming at once, one wins and the others get it as the owner.
	// Domains compare case-insensitively (DNS names), here and in the other Domain methods.
	DomainClaim(ctx context.Context, domain, project string) (owner string, err error)
	// DomainOwner returns the project owning domain; recording.ErrNotFound when unclaimed.
	DomainOwner(ctx context.Context, domain string) (string, error)
	// DomainAssign makes project own domain, whoever owned it (admin only, checked above).
	DomainAssign(ctx context.Context, domain, project string) error
	// DomainList returns a project's domains (every project's when empty), sorted by domain.
	DomainList(ctx context.Context, project string) ([]recording.DomainClaim, error)

	// NonceUse records a request nonce of an access key until expires; recording.ErrConflict
	// when it was already used and has not expired (it is live while now is before its
	// expires). Expired nonces are pruned, so a nonce may be used again once it expired.
	NonceUse(ctx context.Context, keyID, nonce string, expires, now time.Time) error
}

// CallbackFilter selects callback configurations for CallbackList.
type CallbackFilter struct {
	// Project is required.
	Project string
	Dialect recording.Dialect
	Domain  string
	App     string
	// Offset, Limit (0 or less: all) and OrderDesc page the list.
	Offset    int
	Limit     int
	OrderDesc bool
}

// More ID prefixes.
const (
	CallbackPrefix = "cb_"
	TokenPrefix    = "tok_"
)
