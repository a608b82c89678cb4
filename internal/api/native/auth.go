package native

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/limit"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// errNoCredentials is a request that carries no credentials the API understands.
var errNoCredentials = fmt.Errorf("no bearer token or basic access key: %w", recording.ErrUnauthenticated)

// startKey holds a request's start time in its context, for the timing of logged failures.
type startKey struct{}

// authed resolves the caller before calling next; a request without valid credentials is
// answered 401 and never reaches the service.
func (h *handler) authed(next func(h *handler, w http.ResponseWriter, r *http.Request, p service.Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// The request base lets links made for this answer point where the caller reached us.
		ctx := service.WithRequestBase(r.Context(), service.RequestBaseOf(r))
		r = r.WithContext(context.WithValue(ctx, startKey{}, h.now()))
		src := limit.RemoteAddr(r.RemoteAddr)
		if wait, refused := h.throttle.Check(src); refused {
			h.throttled(w, wait) // credentials unchecked: guessing gets no answer
			return
		}
		p, err := h.principal(r)
		if err != nil {
			if errors.Is(err, recording.ErrUnauthenticated) && !errors.Is(err, errNoCredentials) {
				var bs *badSecretError
				keyID := ""
				if errors.As(err, &bs) {
					keyID = bs.keyID
				}
				h.throttle.Fail(src, keyID, "native")
			}
			h.fail(w, r, err)
			return
		}
		next(h, w, r, p)
	}
}

// badSecretError is a Basic secret that does not match its existing access key: the key id is
// counted by the throttle (ids of keys that do not exist are not).
type badSecretError struct{ keyID string }

func (e *badSecretError) Error() string { return "access key secret mismatch" }
func (e *badSecretError) Unwrap() error { return recording.ErrUnauthenticated }

// principal authenticates r by a token (Authorization: Bearer, or X-Auth-Token as Huawei's
// tools send it) or by HTTP Basic with an access key id and secret, so a newcomer can use the
// admin key printed at first start without minting a token first.
func (h *handler) principal(r *http.Request) (service.Principal, error) {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		if token := strings.TrimSpace(r.Header.Get("X-Auth-Token")); token != "" {
			return h.token(r.Context(), token)
		}
		return service.Principal{}, errNoCredentials
	}
	if id, secret, ok := r.BasicAuth(); ok {
		return h.basic(r.Context(), id, secret)
	}
	scheme, token, _ := strings.Cut(authz, " ")
	if token = strings.TrimSpace(token); !strings.EqualFold(scheme, "Bearer") || token == "" {
		return service.Principal{}, errNoCredentials
	}
	return h.token(r.Context(), token)
}

func (h *handler) token(ctx context.Context, token string) (service.Principal, error) {
	p, err := h.svc.Authenticate(ctx, token)
	if err != nil {
		return service.Principal{}, fmt.Errorf("authenticate token: %w", err)
	}
	return p, nil
}

func (h *handler) basic(ctx context.Context, id, secret string) (service.Principal, error) {
	k, want, err := h.svc.KeySecret(ctx, id)
	if err != nil {
		return service.Principal{}, fmt.Errorf("authenticate access key: %w", err)
	}
	// Hashing first gives equal lengths, so the compare's time says nothing about the secret.
	a, b := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return service.Principal{}, &badSecretError{keyID: k.ID}
	}
	return service.PrincipalOf(k), nil
}

// unauthenticatedMessage tells a client without credentials how to send them, and one with
// bad credentials nothing about which part was wrong.
func unauthenticatedMessage(err error) string {
	if errors.Is(err, errNoCredentials) {
		return "authentication required: send Authorization: Bearer <token>, X-Auth-Token, or HTTP Basic with an access key"
	}
	return "invalid or expired credentials"
}

// elapsed is how long ago r's handling started, or 0 when unknown.
func (h *handler) elapsed(r *http.Request) time.Duration {
	if start, ok := r.Context().Value(startKey{}).(time.Time); ok {
		return h.now().Sub(start)
	}
	return 0
}
