package huawei

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// Key chains (URL validation): one per domain, liverec's one publish authentication per
// domain. A domain set up with the Alibaba API's type A reads here as a_md5 with its primary key;
// domains with another method (the webhook, or none) have no key chain.

// PublishAuthService is what the key-chain endpoints need from *service.Service.
type PublishAuthService interface {
	SetPublishAuth(ctx context.Context, p service.Principal, domains []string, c pubauth.Config) ([]*service.PublishAuth, error)
	GetPublishAuth(ctx context.Context, p service.Principal, domain string) (*service.PublishAuth, error)
	DeletePublishAuth(ctx context.Context, p service.Principal, domain string) error
	SignPublishURL(ctx context.Context, p service.Principal, domain, app, stream string, start time.Time) (string, error)
}

// maskedKey is what ShowDomainKeyChain answers for the key, as the cloud documents it: keys
// are never returned.
const maskedKey = "********************************"

var huaweiMethods = map[string]pubauth.Method{
	"a_md5": pubauth.MethodHuaweiA, "b_md5": pubauth.MethodHuaweiB, "c_aes": pubauth.MethodHuaweiC,
	"d_sha256": pubauth.MethodHuaweiD,
}

// keyChainInfo is the SDK's KeyChainInfo.
type keyChainInfo struct {
	Key      string `json:"key"`
	AuthType string `json:"auth_type"`
	Timeout  int32  `json:"timeout"`
}

// shownKeyChain is ShowDomainKeyChainResponse.
type shownKeyChain struct {
	Key      string `json:"key"`
	AuthType string `json:"auth_type"`
	Timeout  int32  `json:"timeout"`
}

// authChainBody is CreateUrlAuthchainReq.
type authChainBody struct {
	Domain     string  `json:"domain"`
	DomainType string  `json:"domain_type"`
	Stream     string  `json:"stream"`
	App        string  `json:"app"`
	CheckLevel *int32  `json:"check_level,omitempty"`
	StartTime  *string `json:"start_time,omitempty"`
}

// keyChainField names a native field as KeyChainInfo does.
func keyChainField(f string) string {
	switch f {
	case "validity_s":
		return "timeout"
	case "method":
		return "auth_type"
	}
	return f
}

func queryDomain(r *http.Request) (string, error) {
	d := strings.TrimSpace(r.URL.Query().Get("domain"))
	if d == "" || d == recording.Wildcard {
		return "", badParameter("domain", "a domain is required")
	}
	return d, nil
}

// updateKeyChain is PUT /guard/key-chain?domain= (UpdateDomainKeyChain).
func (h *handler) updateKeyChain(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	domain, err := queryDomain(r)
	if err != nil {
		return err
	}
	var b keyChainInfo
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	method, ok := huaweiMethods[b.AuthType]
	if !ok {
		return badParameter("auth_type", "must be a_md5, b_md5 or d_sha256")
	}
	cfg := pubauth.Config{Method: method, Key: b.Key, Validity: time.Duration(b.Timeout) * time.Second}
	if _, err := h.svc.SetPublishAuth(r.Context(), p, []string{domain}, cfg); err != nil {
		h.fail(w, r, err, keyChainField)
		return nil
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// keyChainOf returns the key chain form of domain's publish authentication; 404 without one.
func (h *handler) keyChainOf(r *http.Request, p service.Principal, domain string) (*shownKeyChain, error) {
	a, err := h.svc.GetPublishAuth(r.Context(), p, domain)
	if err != nil {
		return nil, err
	}
	kc := &shownKeyChain{Key: maskedKey, Timeout: int32(a.Validity / time.Second)}
	switch a.Method {
	case pubauth.MethodHuaweiA, pubauth.MethodAliyunA:
		kc.AuthType = "a_md5"
	case pubauth.MethodHuaweiB:
		kc.AuthType = "b_md5"
	case pubauth.MethodHuaweiD:
		kc.AuthType = "d_sha256"
	default:
		return nil, &apiError{status: http.StatusNotFound, Code: codeNotFound, Msg: "The domain has no URL validation key"}
	}
	return kc, nil
}

// showKeyChain is GET /guard/key-chain?domain= (ShowDomainKeyChain); the key is masked.
func (h *handler) showKeyChain(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	domain, err := queryDomain(r)
	if err != nil {
		return err
	}
	kc, err := h.keyChainOf(r, p, domain)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, kc)
	return nil
}

// deleteKeyChain is DELETE /guard/key-chain?domain= (DeleteDomainKeyChain): 204, or 404 when
// the domain has no key chain.
func (h *handler) deleteKeyChain(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	domain, err := queryDomain(r)
	if err != nil {
		return err
	}
	if _, err := h.keyChainOf(r, p, domain); err != nil {
		return err
	}
	if err := h.svc.DeletePublishAuth(r.Context(), p, domain); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// createAuthChain is POST /auth/chain (CreateUrlAuthchain): the signed RTMP publish URL of the
// stream, made with the domain's key chain (or Alibaba type-A key). Huawei documents the API as
// a debugging aid; its keychain format is not documented, so liverec returns full URLs.
func (h *handler) createAuthChain(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	var b authChainBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	for _, f := range []struct{ name, value string }{{"domain", b.Domain}, {"domain_type", b.DomainType},
		{"app", b.App}, {"stream", b.Stream}} {
		if f.value == "" {
			return badParameter(f.name, "is required")
		}
	}
	switch b.DomainType {
	case "push":
	case "pull":
		return badParameter("domain_type", "only push: liverec records streams, it does not play them")
	default:
		return badParameter("domain_type", "must be push or pull")
	}
	var start time.Time
	if b.StartTime != nil && *b.StartTime != "" {
		t, err := time.Parse(time.RFC3339, *b.StartTime)
		if err != nil {
			return badParameter("start_time", "must be a time such as 2006-01-02T15:04:05Z")
		}
		start = t
	}
	signed, err := h.svc.SignPublishURL(r.Context(), p, b.Domain, b.App, b.Stream, start)
	var ve *recording.ValidationError
	if errors.As(err, &ve) {
		return badParameter(ve.Field, ve.Reason)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Keychain []string `json:"keychain"`
	}{[]string{signed}})
	return nil
}
