// Package huawei is the Huawei Cloud Live dialect of the management API: the
// /v1/{project_id}/record/... REST endpoints, authenticated exactly as the official
// huaweicloud-sdk-go-v3 signs requests, so that SDK works against liverec unchanged.
package huawei

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/liverec/liverec/internal/limit"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// Service is what the façade needs from *service.Service.
type Service interface {
	KeySecret(ctx context.Context, id string) (*recording.AccessKey, string, error)
	Authenticate(ctx context.Context, token string) (service.Principal, error)
	CheckDomain(ctx context.Context, p service.Principal, domain string) error

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

	RecordCommand(ctx context.Context, p service.Principal, domain, app, stream string, c recording.Command) error

	PublishAuthService
	CatalogService
}

// Config tunes the handler.
type Config struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
	// MaxSkew is how far X-Sdk-Date may be from Now; default 15 minutes.
	MaxSkew time.Duration
	// Logger receives request failures; nil discards.
	Logger *slog.Logger
	// Throttle refuses addresses that keep failing authentication; nil refuses none.
	Throttle Throttle
}

// DefaultMaxSkew is the X-Sdk-Date tolerance when Config.MaxSkew is zero.
const DefaultMaxSkew = 15 * time.Minute

// maxBodyBytes caps request bodies; the body is read whole because the signature covers
// its hash.
const maxBodyBytes = 1 << 20

type handler struct {
	svc      Service
	now      func() time.Time
	maxSkew  time.Duration
	log      *slog.Logger
	hostname string
	throttle Throttle
}

// handlerFunc is an endpoint reached after authentication, acting as p in the path's project.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p service.Principal) error

// NewHandler returns the Huawei-compatible API. Its patterns are absolute (/v1/...), so it is
// mounted at "/v1/" without stripping the prefix.
func NewHandler(svc Service, cfg Config) http.Handler {
	h := &handler{svc: svc, now: cfg.Now, maxSkew: cfg.MaxSkew, log: cfg.Logger, throttle: cfg.Throttle}
	if h.throttle == nil {
		h.throttle = noThrottle{}
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.maxSkew <= 0 {
		h.maxSkew = DefaultMaxSkew
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.hostname, _ = os.Hostname()
	if h.hostname == "" {
		h.hostname = "liverec"
	}

	mux := http.NewServeMux()
	route := func(pattern string, f handlerFunc) { mux.Handle(pattern, h.authed(f)) }
	route("POST /v1/{project_id}/record/rules", h.createRule)
	route("GET /v1/{project_id}/record/rules", h.listRules)
	route("GET /v1/{project_id}/record/rules/{id}", h.showRule)
	route("PUT /v1/{project_id}/record/rules/{id}", h.updateRule)
	route("DELETE /v1/{project_id}/record/rules/{id}", h.deleteRule)
	route("POST /v1/{project_id}/record/callbacks", h.createCallback)
	route("GET /v1/{project_id}/record/callbacks", h.listCallbacks)
	route("GET /v1/{project_id}/record/callbacks/{id}", h.showCallback)
	route("PUT /v1/{project_id}/record/callbacks/{id}", h.updateCallback)
	route("DELETE /v1/{project_id}/record/callbacks/{id}", h.deleteCallback)
	route("POST /v1/{project_id}/record/control", h.control)
	route("PUT /v1/{project_id}/guard/key-chain", h.updateKeyChain)
	route("GET /v1/{project_id}/guard/key-chain", h.showKeyChain)
	route("DELETE /v1/{project_id}/guard/key-chain", h.deleteKeyChain)
	route("POST /v1/{project_id}/auth/chain", h.createAuthChain)
	route("GET /v1/{project_id}/record/contents", h.listRecordContents)
	route("POST /v1/{project_id}/record/indexes", h.createRecordIndex)
	route("GET /v1/{project_id}/realtime/streams", h.listLiveStreamsOnline)
	route("POST /v1/{project_id}/stream/blocks", h.createStreamForbidden)
	route("GET /v1/{project_id}/stream/blocks", h.listStreamForbidden)
	route("PUT /v1/{project_id}/stream/blocks", h.updateStreamForbidden)
	route("DELETE /v1/{project_id}/stream/blocks", h.deleteStreamForbidden)
	route("POST /v1/{project_id}/stream/block-once", h.createStreamForbiddenOnce)
	route("POST /v1/{project_id}/schedule/record/tasks", h.createScheduleTask)
	route("GET /v1/{project_id}/schedule/record/tasks", h.listScheduleTasks)
	route("DELETE /v1/{project_id}/schedule/record/tasks", h.deleteScheduleTask)
	// The cloud's own answers instead of the mux's plain-text 404 and 405.
	for _, p := range []string{"/v1/{project_id}/record/rules", "/v1/{project_id}/record/rules/{id}",
		"/v1/{project_id}/record/callbacks", "/v1/{project_id}/record/callbacks/{id}", "/v1/{project_id}/record/control",
		"/v1/{project_id}/guard/key-chain", "/v1/{project_id}/auth/chain", "/v1/{project_id}/record/contents",
		"/v1/{project_id}/record/indexes", "/v1/{project_id}/realtime/streams", "/v1/{project_id}/stream/blocks",
		"/v1/{project_id}/stream/block-once", "/v1/{project_id}/schedule/record/tasks"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			writeError(w, errMethod(r.Method))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { writeError(w, errNoAPI) })
	return h.withRequestID(mux)
}

// withRequestID gives every response an X-request-id in the cloud's
// request_id-timestamp-hostname format.
func (h *handler) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id [16]byte
		_, _ = rand.Read(id[:]) // crypto/rand never fails on supported platforms
		// Set directly: the cloud spells the header this way and Header.Set would canonicalise it.
		w.Header()["X-request-id"] = []string{hex.EncodeToString(id[:]) + "-" +
			strconv.FormatInt(h.now().Unix(), 10) + "-" + h.hostname}
		next.ServeHTTP(w, r)
	})
}

// authed refuses a throttled address, reads the capped body, authenticates the request,
// checks that the caller may act in the path's project and runs f as that project.
func (h *handler) authed(f handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Links made for the answer point where the caller reached us (service.RequestBase).
		r = r.WithContext(service.WithRequestBase(r.Context(), service.RequestBaseOf(r)))
		src := limit.RemoteAddr(r.RemoteAddr)
		if wait, refused := h.throttle.Check(src); refused {
			writeThrottled(w, wait) // credentials unchecked: guessing gets no answer
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeError(w, badParameter("", fmt.Sprintf("request body must be at most %d bytes", maxBodyBytes)))
			return
		case err != nil:
			h.log.Info("read request body", "method", r.Method, "path", r.URL.Path, "err", err)
			return // the client went away; there is nobody to answer
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		p, err := h.authenticate(r, body)
		if err != nil {
			var bc *badCredentialsError
			if errors.As(err, &bc) {
				h.throttle.Fail(src, bc.keyID, "huawei")
			}
			h.fail(w, r, err, nil)
			return
		}
		project := r.PathValue("project_id")
		if p.Project != project {
			if !p.Admin {
				// 403 whatever the path names: it tells nothing about other projects.
				h.fail(w, r, errDenied, nil)
				return
			}
			p.Project = project // an admin acts in the project it names
		}
		if err := f(w, r, p); err != nil {
			h.fail(w, r, err, nil)
		}
	})
}

// authenticate accepts an X-Auth-Token issued by the native API or an SDK-HMAC-SHA256 signature.
func (h *handler) authenticate(r *http.Request, body []byte) (service.Principal, error) {
	if tok := r.Header.Get("X-Auth-Token"); tok != "" && r.Header.Get("Authorization") == "" {
		p, err := h.svc.Authenticate(r.Context(), tok)
		if err != nil {
			return service.Principal{}, authError("invalid or expired token", &badCredentialsError{cause: err})
		}
		return p, nil
	}
	return h.verifySignature(r, body)
}
