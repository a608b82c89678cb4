package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/liverec/liverec/internal/limit"
	"github.com/liverec/liverec/internal/netguard"
	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/pubauth/webhook"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/stream"
)

// publishAuthorizer is the hub's stream.Authorizer (§11): each publish is checked against the
// publish authentication of its domain (else domain "*"'s; none at all admits). It runs on the
// publisher's goroutine; a webhook's wait is bounded by the domain's webhook timeout.
type publishAuthorizer struct {
	svc     *service.Service
	hook    *webhook.Client
	opts    pubauth.Options
	log     *slog.Logger
	refused *prometheus.CounterVec
	now     func() time.Time
	// throttle refuses, unchecked, an address whose publishes failed authentication too often
	// (api.auth_failure_*), so a domain's key cannot be guessed at line rate.
	throttle *limit.Throttle
}

// newPublishAuthorizer gives the service the settings of the config file and returns the
// hub's authorizer, its refusal counter registered.
func (a *App) newPublishAuthorizer() *publishAuthorizer {
	opts := pubauth.Options{AliyunExpiry: pubauth.Expiry(a.conf.PublishAuth.AliyunExpiry),
		MaxSkew: a.conf.PublishAuth.StartSkew.D()}
	a.svc.PublishAuthOptions = opts
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "liverec_publish_refused_total",
		Help: "Publishers refused by publish authentication, by reason."}, []string{"reason"})
	for _, r := range pubauth.Reasons() {
		refused.WithLabelValues(string(r))
	}
	a.reg.MustRegister(refused)
	return &publishAuthorizer{
		svc: a.svc,
		// One client for every webhook: its own timeout is the longest a webhook may have;
		// each request is bounded by its domain's timeout.
		hook: &webhook.Client{HTTP: netguard.Client(pubauth.MaxWebhookTimeout, a.conf.Callbacks.RefusePrivateTargets)},
		opts: opts, log: a.log.With("component", "publish-auth"), refused: refused, now: time.Now,
		throttle: limit.NewThrottle(limit.ThrottleConfig{Limit: a.conf.API.AuthFailureLimit,
			Window: a.conf.API.AuthFailureWindow.D(), Cooldown: a.conf.API.AuthFailureCooldown.D(),
			Logger: a.log.With("component", "publish-auth")}),
	}
}

// Authorize implements stream.Authorizer. A refusal is logged with the publisher's address,
// its stream and the reason (never a credential), counted, and returned for the caller.
func (z *publishAuthorizer) Authorize(ctx context.Context, req stream.PublishRequest) error {
	addr := remoteAddr(req.Remote)
	var err error
	if wait, refused := z.throttle.Check(addr); refused {
		err = &pubauth.Refusal{Reason: pubauth.ReasonThrottled,
			Detail: fmt.Sprintf("too many failed publishes from this address; retry in %v", wait.Round(time.Second))}
	} else if err = z.decide(ctx, req); err == nil {
		return nil
	}
	reason := pubauth.ReasonOf(err)
	switch reason {
	case pubauth.ReasonThrottled, pubauth.ReasonUnavailable, pubauth.ReasonWebhookFailed, "":
		// Not a guess at credentials.
	default:
		z.throttle.Fail(addr, req.Key.Domain, "rtmp")
	}
	if reason == "" { // not a refusal of pubauth's: refuse anyway, as unavailable
		z.log.Error("publish authentication failed", "domain", req.Key.Domain, "err", err)
		err, reason = &pubauth.Refusal{Reason: pubauth.ReasonUnavailable, Detail: "publish authentication failed"},
			pubauth.ReasonUnavailable
	}
	z.refused.WithLabelValues(string(reason)).Inc()
	z.log.Info("publish refused", "remote", req.Remote, "domain", req.Key.Domain, "app", req.Key.App,
		"stream", req.Key.Stream, "reason", reason, "detail", detailOf(err))
	return err
}

func (z *publishAuthorizer) decide(ctx context.Context, req stream.PublishRequest) error {
	lctx, cancel := context.WithTimeout(ctx, dbTimeout)
	a, err := z.svc.EffectivePublishAuth(lctx, req.Key.Domain)
	cancel()
	if err != nil {
		// Fail closed: a database that cannot answer must not open every domain.
		z.log.Error("reading publish authentication", "domain", req.Key.Domain, "err", err)
		return &pubauth.Refusal{Reason: pubauth.ReasonUnavailable, Detail: "the domain's publish authentication could not be read"}
	}
	if a == nil {
		return nil
	}
	switch a.Method {
	case pubauth.MethodNone:
		return nil
	case pubauth.MethodWebhook:
		return z.hook.Ask(ctx, a.WebhookURL, a.WebhookTimeout,
			webhook.NewRequest(req.Key.Domain, req.Key.App, req.Key.Stream, req.Remote, req.Params))
	}
	return pubauth.Verify(&a.Config, pubauth.IngestRequest(req.Key.App, req.Key.Stream, req.Params), z.now(), z.opts)
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
