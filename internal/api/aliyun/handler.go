// Package aliyun is the Alibaba Cloud ApsaraVideo Live dialect of the management API: RPC
// requests (Action=…&Version=2016-11-01) signed as the official Go SDK signs them, answered
// with the cloud's JSON documents and error codes, so the SDK's live client works unchanged.
package aliyun

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/liverec/liverec/internal/limit"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// Service is what this façade needs from *service.Service.
type Service interface {
	KeySecret(ctx context.Context, id string) (*recording.AccessKey, string, error)
	UseNonce(ctx context.Context, keyID, nonce string, ttl time.Duration) error
	CheckDomain(ctx context.Context, p service.Principal, domain string) error

	CreateRule(ctx context.Context, p service.Principal, r *recording.Rule) error
	UpdateRule(ctx context.Context, p service.Principal, r *recording.Rule) error
	DeleteRule(ctx context.Context, p service.Principal, id string) error
	FindRule(ctx context.Context, p service.Principal, domain, app, stream string) (*recording.Rule, error)
	ListRules(ctx context.Context, p service.Principal, f store.RuleFilter) ([]recording.Rule, int, error)

	CreateCallback(ctx context.Context, p service.Principal, c *recording.CallbackConfig) error
	UpdateCallback(ctx context.Context, p service.Principal, c *recording.CallbackConfig) error
	RecordCommand(ctx context.Context, p service.Principal, domain, app, stream string, c recording.Command) error
	DeleteCallback(ctx context.Context, p service.Principal, id string) error
	FindCallback(ctx context.Context, p service.Principal, dialect recording.Dialect, domain, app string) (*recording.CallbackConfig, error)

	ListDeliveries(ctx context.Context, p service.Principal, f store.DeliveryFilter) ([]recording.Delivery, int, error)

	PublishAuthService
	ContentService
	LiveService
}

// Config tunes the handler; zero values get the defaults.
type Config struct {
	// Now is the clock that judges Timestamp; default time.Now.
	Now func() time.Time
	// MaxSkew is how far Timestamp may be from Now; default 15 minutes, as the cloud.
	MaxSkew time.Duration
	// Logger receives failures (never secrets nor signatures); default discards.
	Logger *slog.Logger
	// HostID is the HostId of error documents; default "live.aliyuncs.com".
	HostID string
	// Throttle refuses addresses that keep failing authentication; nil refuses none.
	Throttle Throttle
}

// Version is the API version of the live product.
const Version = "2016-11-01"

// maxBodyBytes caps form bodies; the SDK sends none, the cloud caps POSTs at a few MB.
const maxBodyBytes = 256 << 10

// maxNonceLen bounds what is stored per nonce; the SDK sends 32 hex digits.
const maxNonceLen = 128

type actionFunc func(ctx context.Context, p service.Principal, q params) (response, error)

type handler struct {
	svc      Service
	cfg      Config
	log      *slog.Logger
	actions  map[string]actionFunc
	throttle Throttle
}

// NewHandler returns the RPC endpoint. The app routes to it every request on "/" carrying an
// Action parameter.
func NewHandler(svc Service, cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = 15 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HostID == "" {
		cfg.HostID = "live.aliyuncs.com"
	}
	h := &handler{svc: svc, cfg: cfg, log: cfg.Logger, throttle: cfg.Throttle}
	if h.throttle == nil {
		h.throttle = noThrottle{}
	}
	h.actions = map[string]actionFunc{
		"AddLiveAppRecordConfig":          h.addRecordConfig,
		"UpdateLiveAppRecordConfig":       h.updateRecordConfig,
		"DeleteLiveAppRecordConfig":       h.deleteRecordConfig,
		"DescribeLiveRecordConfig":        h.describeRecordConfig,
		"AddLiveRecordNotifyConfig":       h.addNotifyConfig,
		"UpdateLiveRecordNotifyConfig":    h.updateNotifyConfig,
		"DeleteLiveRecordNotifyConfig":    h.deleteNotifyConfig,
		"DescribeLiveRecordNotifyConfig":  h.describeNotifyConfig,
		"RealTimeRecordCommand":           h.realTimeRecordCommand,
		"DescribeLiveRecordNotifyRecords": h.describeNotifyRecords,
		"BatchSetLiveDomainConfigs":       h.batchSetDomainConfigs,
		"DescribeLiveDomainConfigs":       h.describeDomainConfigs,
		"BatchDeleteLiveDomainConfigs":    h.batchDeleteDomainConfigs,
		"DescribeLiveStreamAuthChecking":  h.describeStreamAuthChecking,

		"DescribeLiveStreamRecordContent":    h.describeRecordContent,
		"CreateLiveStreamRecordIndexFiles":   h.createIndexFiles,
		"DescribeLiveStreamRecordIndexFiles": h.describeIndexFiles,
		"DescribeLiveStreamRecordIndexFile":  h.describeIndexFile,
		"DeleteLiveStreamRecordIndexFiles":   h.deleteIndexFiles,

		"DescribeLiveStreamsOnlineList":  h.describeOnlineList,
		"DescribeLiveStreamsPublishList": h.describePublishList,
		"DescribeLiveStreamState":        h.describeStreamState,
		"ForbidLiveStream":               h.forbidStream,
		"ResumeLiveStream":               h.resumeStream,
		"DescribeLiveStreamsBlockList":   h.describeBlockList,
	}
	return h
}

// response is a success document; every one carries the RequestId.
type response interface{ setRequestID(string) }

type base struct {
	RequestID string `json:"RequestId"`
}

func (b *base) setRequestID(id string) { b.RequestID = id }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	// Links made for the answer point where the caller reached us (service.RequestBase).
	r = r.WithContext(service.WithRequestBase(r.Context(), service.RequestBaseOf(r)))
	resp, err := h.serve(w, r)
	if err != nil {
		// Codes only: messages may echo parameters, and the string to sign.
		e, ok := toAPIError(err, errDomain)
		switch {
		case !ok:
			h.log.Error("aliyun api request failed", "request_id", requestID, "err", err)
		case e.status >= 500:
			h.log.Error("aliyun api request failed", "request_id", requestID, "code", e.code)
		default:
			h.log.Debug("aliyun api request refused", "request_id", requestID, "code", e.code)
		}
		h.writeError(w, requestID, e)
		return
	}
	resp.setRequestID(requestID)
	writeJSON(w, http.StatusOK, requestID, resp)
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) (response, error) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return nil, errMethod
	}
	src := limit.RemoteAddr(r.RemoteAddr)
	if wait, refused := h.throttle.Check(src); refused {
		// Credentials unchecked: guessing gets no answer.
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		return nil, errThrottled
	}
	q, err := readParams(w, r, maxBodyBytes)
	if err != nil {
		return nil, err
	}
	act, err := h.route(q)
	if err != nil {
		return nil, err
	}
	p, err := h.authenticate(r.Context(), r.Method, q)
	if err != nil {
		// An unknown key or a signature that does not match tried credentials: counted. (A
		// stale timestamp or a spent nonce did not.) The signature is checked after the key
		// was found, so its key exists.
		var ae *apiError
		switch {
		case errors.Is(err, errUnknownKey):
			h.throttle.Fail(src, "", "aliyun")
		case errors.As(err, &ae) && ae.code == codeSignatureMismatch:
			h.throttle.Fail(src, q[paramAccessKeyID], "aliyun")
		}
		return nil, err
	}
	return act(r.Context(), p, q)
}

// route checks the request's shape before its signature, as the cloud's gateway does: the
// common parameters, the version and the action.
func (h *handler) route(q params) (actionFunc, error) {
	for _, name := range []string{paramAction, paramVersion, paramAccessKeyID, paramSignature,
		paramSignatureMethod, paramSignatureVersion, paramSignatureNonce, paramTimestamp} {
		if q[name] == "" {
			return nil, errMissing(name)
		}
	}
	if q[paramVersion] != Version {
		return nil, errVersion
	}
	act, ok := h.actions[q[paramAction]]
	if !ok {
		return nil, errNoAction
	}
	if f := q[paramFormat]; f != "" && f != "JSON" && f != "json" {
		return nil, errFormat
	}
	return act, nil
}

// authenticate checks the RPC signature v1, then the timestamp window, then spends the nonce.
// The nonce is spent only for a valid signature, so forged requests cannot burn a client's
// nonces, and it is remembered for twice the skew: long enough to outlive its timestamp.
func (h *handler) authenticate(ctx context.Context, method string, q params) (service.Principal, error) {
	switch {
	case q[paramSignatureMethod] != "HMAC-SHA1":
		return service.Principal{}, errSigMethod
	case q[paramSignatureVersion] != "1.0":
		return service.Principal{}, errSigVersion
	case q[paramSignatureType] != "":
		return service.Principal{}, errSigType
	case q[paramSecurityToken] != "":
		return service.Principal{}, errSTS
	case len(q[paramSignatureNonce]) > maxNonceLen:
		return service.Principal{}, errInvalid(paramSignatureNonce, "at most 128 characters")
	}
	ts, err := time.Parse(time.RFC3339, q[paramTimestamp])
	if err != nil {
		return service.Principal{}, errTimeFormat
	}
	if skew := h.cfg.Now().Sub(ts); skew > h.cfg.MaxSkew || skew < -h.cfg.MaxSkew {
		return service.Principal{}, errExpired
	}
	key, secret, err := h.svc.KeySecret(ctx, q[paramAccessKeyID])
	if errors.Is(err, recording.ErrUnauthenticated) {
		return service.Principal{}, errUnknownKey
	}
	if err != nil {
		return service.Principal{}, err
	}
	toSign := stringToSign(method, q)
	if !signatureMatches(q[paramSignature], sign(secret, toSign)) {
		return service.Principal{}, errSignature(toSign)
	}
	if err := h.svc.UseNonce(ctx, key.ID, q[paramSignatureNonce], 2*h.cfg.MaxSkew); err != nil {
		if errors.Is(err, recording.ErrUnauthenticated) {
			return service.Principal{}, errNonceUsed
		}
		return service.Principal{}, err
	}
	return service.PrincipalOf(key), nil
}
