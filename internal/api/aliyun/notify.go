package aliyun

import (
	"context"
	"errors"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// Notify configs are aliyun-dialect callback configurations, one per domain, for every app.

func (h *handler) addNotifyConfig(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, err := q.required("DomainName")
	if err != nil {
		return nil, err
	}
	if err = checkDomain(domain); err != nil {
		return nil, err
	}
	c := &recording.CallbackConfig{Dialect: recording.DialectAliyun, Domain: domain, App: recording.Wildcard,
		URL: q["NotifyUrl"], OnDemandURL: q["OnDemandUrl"]}
	// The documentation marks NotifyUrl required, but seed 003 adds a config with only an
	// OnDemandUrl: one of the two is enough.
	if c.URL == "" && c.OnDemandURL == "" {
		return nil, errMissingAction("NotifyUrl")
	}
	if c.NeedStatusNotify, _, err = q.optBool("NeedStatusNotify"); err != nil {
		return nil, err
	}
	if err := h.svc.CreateCallback(ctx, p, c); err != nil {
		return nil, notifyError(err, errDomain)
	}
	return &base{}, nil
}

func (h *handler) updateNotifyConfig(ctx context.Context, p service.Principal, q params) (response, error) {
	c, err := h.findNotifyConfig(ctx, p, q)
	if err != nil {
		return nil, err
	}
	// Only what the request names changes: the SDK cannot send an empty value.
	if v, ok := q["NotifyUrl"]; ok {
		c.URL = v
	}
	if v, ok := q["OnDemandUrl"]; ok {
		c.OnDemandURL = v
	}
	need, set, err := q.optBool("NeedStatusNotify")
	if err != nil {
		return nil, err
	}
	if set {
		c.NeedStatusNotify = need
	}
	if err := h.svc.UpdateCallback(ctx, p, c); err != nil {
		return nil, notifyError(err, errConfigMissing)
	}
	return &base{}, nil
}

func (h *handler) deleteNotifyConfig(ctx context.Context, p service.Principal, q params) (response, error) {
	c, err := h.findNotifyConfig(ctx, p, q)
	if err != nil {
		return nil, err
	}
	if err := h.svc.DeleteCallback(ctx, p, c.ID); err != nil {
		return nil, notifyError(err, errConfigMissing)
	}
	return &base{}, nil
}

type liveRecordNotifyConfig struct {
	DomainName       string `json:"DomainName"`
	NotifyURL        string `json:"NotifyUrl"`
	OnDemandURL      string `json:"OnDemandUrl"`
	NeedStatusNotify bool   `json:"NeedStatusNotify"`
}

type describeNotifyConfigResponse struct {
	base
	LiveRecordNotifyConfig liveRecordNotifyConfig `json:"LiveRecordNotifyConfig"`
}

// describeNotifyConfig answers an empty LiveRecordNotifyConfig when the domain has none, so a
// client can check before adding (as the cloud's documentation tells it to).
func (h *handler) describeNotifyConfig(ctx context.Context, p service.Principal, q params) (response, error) {
	c, err := h.findNotifyConfig(ctx, p, q)
	var api *apiError
	if errors.As(err, &api) && api == errConfigMissing {
		return &describeNotifyConfigResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	return &describeNotifyConfigResponse{LiveRecordNotifyConfig: liveRecordNotifyConfig{DomainName: c.Domain,
		NotifyURL: c.URL, OnDemandURL: c.OnDemandURL, NeedStatusNotify: c.NeedStatusNotify}}, nil
}

func (h *handler) findNotifyConfig(ctx context.Context, p service.Principal, q params) (*recording.CallbackConfig, error) {
	domain, err := q.required("DomainName")
	if err != nil {
		return nil, err
	}
	if err = h.svc.CheckDomain(ctx, p, domain); err != nil {
		return nil, notifyError(err, errDomain)
	}
	c, err := h.svc.FindCallback(ctx, p, recording.DialectAliyun, domain, recording.Wildcard)
	if err != nil {
		return nil, notifyError(err, errConfigMissing)
	}
	return c, nil
}

// notifyError maps the service's errors; a bad URL is InvalidNotifyUrl.Malformed.
func notifyError(err error, notFound *apiError) error {
	var ve *recording.ValidationError
	if errors.As(err, &ve) {
		switch ve.Field {
		case "url":
			return errNotifyURL("NotifyUrl", ve.Reason)
		case "on_demand_url":
			return errNotifyURL("OnDemandUrl", ve.Reason)
		case "domain":
			return errInvalid("DomainName", ve.Reason)
		}
	}
	if e, ok := toAPIError(err, notFound); ok {
		return e
	}
	return err
}
