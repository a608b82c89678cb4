// Package native is liverec's own JSON API under /api/v1/, the one the console uses.
package native

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// Service is what the native API needs from the service layer (*service.Service), which
// enforces project isolation and domain tenancy for every façade.
type Service interface {
	Authenticate(ctx context.Context, token string) (service.Principal, error)
	KeySecret(ctx context.Context, id string) (*recording.AccessKey, string, error)

	CreateRule(ctx context.Context, p service.Principal, r *recording.Rule) error
	UpdateRule(ctx context.Context, p service.Principal, r *recording.Rule) error
	DeleteRule(ctx context.Context, p service.Principal, id string) error
	GetRule(ctx context.Context, p service.Principal, id string) (*recording.Rule, error)
	ListRules(ctx context.Context, p service.Principal, f store.RuleFilter) ([]recording.Rule, int, error)

	CreateCallback(ctx context.Context, p service.Principal, c *recording.CallbackConfig) error
	UpdateCallback(ctx context.Context, p service.Principal, c *recording.CallbackConfig) error
	DeleteCallback(ctx context.Context, p service.Principal, id string) error
	GetCallback(ctx context.Context, p service.Principal, id string) (*recording.CallbackConfig, error)
	ListCallbacks(ctx context.Context, p service.Principal, f store.CallbackFilter) ([]recording.CallbackConfig, int, error)

	CreateAccessKey(ctx context.Context, p service.Principal, project string, admin bool, desc string) (*recording.AccessKey, string, error)
	ListAccessKeys(ctx context.Context, p service.Principal, project string) ([]recording.AccessKey, error)
	RevokeAccessKey(ctx context.Context, p service.Principal, project, id string) error
	SetAccessKeyDisabled(ctx context.Context, p service.Principal, project, id string, disabled bool) error

	CreateToken(ctx context.Context, p service.Principal, ttl time.Duration) (string, *recording.Token, error)
	ListTokens(ctx context.Context, p service.Principal, project string) ([]recording.Token, error)
	DeleteToken(ctx context.Context, p service.Principal, project, id string) error

	ListDomains(ctx context.Context, p service.Principal) ([]recording.DomainClaim, error)
	AssignDomain(ctx context.Context, p service.Principal, domain, project string) error

	ListDeliveries(ctx context.Context, p service.Principal, f store.DeliveryFilter) ([]recording.Delivery, int, error)
	GetDelivery(ctx context.Context, p service.Principal, id string) (*recording.Delivery, error)
	DeliveryAttempts(ctx context.Context, p service.Principal, id string) ([]recording.Attempt, error)
	Redeliver(ctx context.Context, p service.Principal, id string) error

	PublishAuthService
	CatalogService
	ConsoleService
}

// Config tunes the handler; the zero value works.
type Config struct {
	// Logger receives failures the client is not shown; nil discards.
	Logger *slog.Logger
	// Now is the clock for request timings in logs; nil is time.Now. Token expiry is the
	// service's clock, so tests inject both.
	Now func() time.Time
	// Throttle refuses addresses that keep failing authentication; nil refuses none.
	Throttle Throttle
}

// maxBodyBytes caps request bodies.
const maxBodyBytes = 1 << 20

type handler struct {
	svc      Service
	log      *slog.Logger
	now      func() time.Time
	throttle Throttle
}

// NewHandler returns the native API. Every route but the OpenAPI document is authenticated;
// callers see only their own project's objects.
func NewHandler(svc Service, cfg Config) http.Handler {
	h := &handler{svc: svc, log: cfg.Logger, now: cfg.Now, throttle: cfg.Throttle}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.throttle == nil {
		h.throttle = noThrottle{}
	}
	return h.mux()
}
