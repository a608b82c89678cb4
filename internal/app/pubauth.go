package app

import (
	"github.com/liverec/liverec/internal/netguard"
	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/pubauth/authorize"
	"github.com/liverec/liverec/internal/pubauth/webhook"
)

// newPublishAuthorizer gives the service the settings of the config file and returns the
// hub's authorizer, its refusal counter registered.
func (a *App) newPublishAuthorizer() *authorize.Authorizer {
	opts := pubauth.Options{AliyunExpiry: pubauth.Expiry(a.conf.PublishAuth.AliyunExpiry),
		MaxSkew: a.conf.PublishAuth.StartSkew.D()}
	a.svc.PublishAuthOptions = opts
	log := a.log.With("component", "publish-auth")
	return authorize.New(authorize.Config{
		Settings: a.svc,
		// Forbidden stream keys are refused first (§9 block list).
		Blocks: a.store,
		// One client for every webhook: its own timeout is the longest a webhook may have;
		// each request is bounded by its domain's timeout.
		Webhook: &webhook.Client{HTTP: netguard.Client(pubauth.MaxWebhookTimeout, a.conf.Callbacks.RefusePrivateTargets)},
		Options: opts,
		// Its own throttle (scope "publish"), shared with the other nodes like the APIs'.
		Throttle:    a.limits.publish,
		ReadTimeout: dbTimeout,
		Registerer:  a.reg,
		Logger:      log,
	})
}
