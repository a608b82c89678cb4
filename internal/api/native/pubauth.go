package native

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/service"
)

// PublishAuthService is what the publish-auth routes need from *service.Service.
type PublishAuthService interface {
	SetPublishAuth(ctx context.Context, p service.Principal, domains []string, c pubauth.Config) ([]*service.PublishAuth, error)
	GetPublishAuth(ctx context.Context, p service.Principal, domain string) (*service.PublishAuth, error)
	DeletePublishAuth(ctx context.Context, p service.Principal, domain string) error
	CheckPublishURL(ctx context.Context, p service.Principal, domain, rawURL string) (*service.URLCheck, error)
	SignPublishURL(ctx context.Context, p service.Principal, domain, app, stream string, start time.Time) (string, error)
}

// publishAuthRequest is the body of PUT /domains/{domain}/publish-auth: a whole configuration
// (keys are write-only, so they are given on every PUT).
type publishAuthRequest struct {
	Method           pubauth.Method `json:"method"`
	Key              string         `json:"key"`
	BackupKey        string         `json:"backup_key"`
	ValiditySeconds  int64          `json:"validity_s"`
	Args             []pubauth.Arg  `json:"args"`
	WebhookURL       string         `json:"webhook_url"`
	WebhookTimeoutMS int64          `json:"webhook_timeout_ms"`
}

// publishAuthView is a configuration as the native API shows it: never its keys.
type publishAuthView struct {
	Domain           string         `json:"domain"`
	Project          string         `json:"project"`
	Method           pubauth.Method `json:"method"`
	HasKey           bool           `json:"has_key"`
	HasBackupKey     bool           `json:"has_backup_key"`
	ValiditySeconds  int64          `json:"validity_s,omitempty"`
	Args             []pubauth.Arg  `json:"args,omitempty"`
	WebhookURL       string         `json:"webhook_url,omitempty"`
	WebhookTimeoutMS int64          `json:"webhook_timeout_ms,omitempty"`
	ConfigID         int64          `json:"config_id"`
	CreatedAt        time.Time      `json:"created_at"`
	UpdatedAt        time.Time      `json:"updated_at"`
}

func viewOf(a *service.PublishAuth) publishAuthView {
	return publishAuthView{Domain: a.Domain, Project: a.Project, Method: a.Method, HasKey: a.Key != "",
		HasBackupKey: a.BackupKey != "", ValiditySeconds: int64(a.Validity / time.Second), Args: a.Args,
		WebhookURL: a.WebhookURL, WebhookTimeoutMS: a.WebhookTimeout.Milliseconds(), ConfigID: a.ConfigID,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

func pathDomain(r *http.Request) string {
	return strings.ToLower(strings.TrimSpace(r.PathValue("domain")))
}

// putPublishAuth sets a domain's publish authentication ("*": the default, admins only).
func (h *handler) putPublishAuth(w http.ResponseWriter, r *http.Request, p service.Principal) {
	var req publishAuthRequest
	if err := readJSON(w, r, &req, false); err != nil {
		h.fail(w, r, err)
		return
	}
	switch {
	case req.ValiditySeconds < 0 || req.ValiditySeconds > int64(pubauth.MaxAliyunValidity/time.Second):
		h.fail(w, r, invalidArgument("validity_s", "validity_s is out of range"))
		return
	case req.WebhookTimeoutMS < 0 || req.WebhookTimeoutMS > pubauth.MaxWebhookTimeout.Milliseconds():
		h.fail(w, r, invalidArgument("webhook_timeout_ms", "webhook_timeout_ms is out of range"))
		return
	}
	cfg := pubauth.Config{Method: req.Method, Key: req.Key, BackupKey: req.BackupKey,
		Validity: time.Duration(req.ValiditySeconds) * time.Second, Args: req.Args, WebhookURL: req.WebhookURL,
		WebhookTimeout: time.Duration(req.WebhookTimeoutMS) * time.Millisecond}
	set, err := h.svc.SetPublishAuth(r.Context(), p, []string{pathDomain(r)}, cfg)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("publish auth set", "domain", set[0].Domain, "method", set[0].Method, "by", p.KeyID)
	writeJSON(w, http.StatusOK, viewOf(set[0]))
}

func (h *handler) getPublishAuth(w http.ResponseWriter, r *http.Request, p service.Principal) {
	a, err := h.svc.GetPublishAuth(r.Context(), p, pathDomain(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewOf(a))
}

func (h *handler) deletePublishAuth(w http.ResponseWriter, r *http.Request, p service.Principal) {
	domain := pathDomain(r)
	if err := h.svc.DeletePublishAuth(r.Context(), p, domain); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("publish auth deleted", "domain", domain, "by", p.KeyID)
	w.WriteHeader(http.StatusNoContent)
}

type urlCheckRequest struct {
	Domain string `json:"domain"`
	URL    string `json:"url"`
}

type urlCheckResponse struct {
	// Pass tells whether a publish with the URL would be admitted now.
	Pass    bool               `json:"pass"`
	Verdict service.URLVerdict `json:"verdict"`
	Method  pubauth.Method     `json:"method,omitempty"`
	Reason  pubauth.Reason     `json:"reason,omitempty"`
	Detail  string             `json:"detail,omitempty"`
}

// checkPublishURL tells whether a publish URL would be admitted, and why not.
func (h *handler) checkPublishURL(w http.ResponseWriter, r *http.Request, p service.Principal) {
	var req urlCheckRequest
	if err := readJSON(w, r, &req, false); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.URL == "" || len(req.URL) > pubauth.MaxURL {
		h.fail(w, r, invalidArgument("url", "url must be 1–%d characters", pubauth.MaxURL))
		return
	}
	c, err := h.svc.CheckPublishURL(r.Context(), p, req.Domain, req.URL)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, urlCheckResponse{Pass: c.Verdict == service.VerdictPass, Verdict: c.Verdict,
		Method: c.Method, Reason: c.Reason, Detail: c.Detail})
}

type urlSignRequest struct {
	Domain string `json:"domain"`
	App    string `json:"app"`
	Stream string `json:"stream"`
	// StartTime is when the URL becomes valid (RFC 3339); empty is now.
	StartTime *time.Time `json:"start_time"`
}

type urlSignResponse struct {
	URL string `json:"url"`
}

// signPublishURL returns the signed RTMP publish URL of a stream.
func (h *handler) signPublishURL(w http.ResponseWriter, r *http.Request, p service.Principal) {
	var req urlSignRequest
	if err := readJSON(w, r, &req, false); err != nil {
		h.fail(w, r, err)
		return
	}
	var start time.Time
	if req.StartTime != nil {
		start = *req.StartTime
	}
	u, err := h.svc.SignPublishURL(r.Context(), p, req.Domain, req.App, req.Stream, start)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, urlSignResponse{URL: u})
}
