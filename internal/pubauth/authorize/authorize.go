// Package authorize decides whether a publisher may publish: the hub's stream.Authorizer. Each
// publish is checked against the block list (a forbidden stream key is refused first) and the
// publish authentication of its domain (else domain "*"'s; none at all admits): a signed URL
// (internal/pubauth) or the business server's webhook (internal/pubauth/webhook). It fails
// closed when the block or the settings cannot be read, throttles an address that keeps
// failing, and logs and counts every refusal without a credential.
package authorize

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/liverec/liverec/internal/limit"
	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/pubauth/webhook"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/stream"
)

// Settings gives a domain's effective publish authentication (service.Service's).
type Settings interface {
	EffectivePublishAuth(ctx context.Context, domain string) (*service.PublishAuth, error)
}

// Blocks reads the block list (store.Catalog's BlockGet).
type Blocks interface {
	// BlockGet returns the block of a stream key active at now; recording.ErrNotFound when
	// there is none.
	BlockGet(ctx context.Context, domain, app, stream string, now time.Time) (*recording.StreamBlock, error)
}

// Config configures an Authorizer.
type Config struct {
	// Settings reads the domains' publish authentication. Required.
	Settings Settings
	// Blocks, when set, refuses the publishers of a forbidden stream key (reason forbidden),
	// before their credentials are checked. Nil: no block list.
	Blocks Blocks
	// Webhook asks business servers; each request is bounded by its domain's timeout. Required
	// for domains in webhook mode.
	Webhook *webhook.Client
	// Options are the signature checks' settings (Alibaba's expiry rule, clock skew).
	Options pubauth.Options
	// Throttle refuses, unchecked, an address whose publishes failed authentication too often,
	// so a domain's key cannot be guessed at line rate. Nil: no throttle.
	Throttle *limit.Throttle
	// ReadTimeout bounds reading the settings. Default 10 s.
	ReadTimeout time.Duration
	// Registerer, if set, registers liverec_publish_refused_total{reason}.
	Registerer prometheus.Registerer
	// Logger logs refusals; nil logs nothing. Now is the clock of signatures; nil: time.Now.
	Logger *slog.Logger
	Now    func() time.Time
}

// Authorizer implements stream.Authorizer. It runs on the publisher's goroutine and keeps no
// state of its own beyond the throttle's.
type Authorizer struct {
	cfg     Config
	refused *prometheus.CounterVec
}

// New returns an Authorizer with cfg's defaults applied and its refusal counter registered.
func New(cfg Config) *Authorizer {
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "liverec_publish_refused_total",
		Help: "Publishers refused by publish authentication, by reason."}, []string{"reason"})
	for _, r := range pubauth.Reasons() {
		refused.WithLabelValues(string(r))
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(refused)
	}
	return &Authorizer{cfg: cfg, refused: refused}
}

// Authorize implements stream.Authorizer. A refusal is logged with the publisher's address,
// its stream and the reason (never a credential), counted, and returned for the caller.
func (z *Authorizer) Authorize(ctx context.Context, req stream.PublishRequest) error {
	addr := remoteAddr(req.Remote)
	var err error
	if wait, refused := z.cfg.Throttle.Check(addr); refused {
		err = &pubauth.Refusal{Reason: pubauth.ReasonThrottled,
			Detail: fmt.Sprintf("too many failed publishes from this address; retry in %v", wait.Round(time.Second))}
	} else if err = z.blocked(ctx, req); err == nil {
		if err = z.decide(ctx, req); err == nil {
			return nil
		}
	}
	reason := pubauth.ReasonOf(err)
	switch reason {
	case pubauth.ReasonThrottled, pubauth.ReasonUnavailable, pubauth.ReasonWebhookFailed, pubauth.ReasonForbidden, "":
		// Not a guess at credentials.
	default:
		z.cfg.Throttle.Fail(addr, req.Key.Domain, "rtmp")
	}
	if reason == "" { // not a refusal of pubauth's: refuse anyway, as unavailable
		z.cfg.Logger.Error("publish authentication failed", "domain", req.Key.Domain, "err", err)
		err, reason = &pubauth.Refusal{Reason: pubauth.ReasonUnavailable, Detail: "publish authentication failed"},
			pubauth.ReasonUnavailable
	}
	z.refused.WithLabelValues(string(reason)).Inc()
	z.cfg.Logger.Info("publish refused", "remote", req.Remote, "domain", req.Key.Domain, "app", req.Key.App,
		"stream", req.Key.Stream, "reason", reason, "detail", detailOf(err))
	return err
}

// blocked refuses a stream key on the block list. A block that cannot be read refuses too
// (fail closed): a forbidden stream must not come back because the database is slow, and an
// unreadable database fails the domain's settings anyway.
func (z *Authorizer) blocked(ctx context.Context, req stream.PublishRequest) error {
	if z.cfg.Blocks == nil {
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, z.cfg.ReadTimeout)
	b, err := z.cfg.Blocks.BlockGet(lctx, req.Key.Domain, req.Key.App, req.Key.Stream, z.cfg.Now())
	cancel()
	switch {
	case errors.Is(err, recording.ErrNotFound):
		return nil
	case err != nil:
		z.cfg.Logger.Error("reading the stream's block", "domain", req.Key.Domain, "app", req.Key.App,
			"stream", req.Key.Stream, "err", err)
		return &pubauth.Refusal{Reason: pubauth.ReasonUnavailable, Detail: "the stream's block could not be read"}
	}
	detail := "stream is forbidden"
	if b.ResumeAt != nil {
		detail += " until " + b.ResumeAt.UTC().Format(time.RFC3339)
	}
	return &pubauth.Refusal{Reason: pubauth.ReasonForbidden, Detail: detail}
}

func (z *Authorizer) decide(ctx context.Context, req stream.PublishRequest) error {
	lctx, cancel := context.WithTimeout(ctx, z.cfg.ReadTimeout)
	a, err := z.cfg.Settings.EffectivePublishAuth(lctx, req.Key.Domain)
	cancel()
	if err != nil {
		// Fail closed: a database that cannot answer must not open every domain.
		z.cfg.Logger.Error("reading publish authentication", "domain", req.Key.Domain, "err", err)
		return &pubauth.Refusal{Reason: pubauth.ReasonUnavailable, Detail: "the domain's publish authentication could not be read"}
	}
	if a == nil {
		return nil
	}
	switch a.Method {
	case pubauth.MethodNone:
		return nil
	case pubauth.MethodWebhook:
		return z.cfg.Webhook.Ask(ctx, a.WebhookURL, a.WebhookTimeout,
			webhook.NewRequest(req.Key.Domain, req.Key.App, req.Key.Stream, req.Remote, req.Params))
	}
	return pubauth.Verify(&a.Config, pubauth.IngestRequest(req.Key.App, req.Key.Stream, req.Params), z.cfg.Now(), z.cfg.Options)
}

// remoteAddr is the IP of a "host:port" remote address (the zero Addr when it has none).
func remoteAddr(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr()
}

func detailOf(err error) string {
	var r *pubauth.Refusal
	if errors.As(err, &r) {
		return r.Detail
	}
	return ""
}
