package stream

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/pubauth"
)

// keyAuthorizer admits the streams named "ok" and refuses the others with a pubauth refusal;
// stream "slow" waits for release first. It records the parameters it was shown.
type keyAuthorizer struct {
	release chan struct{}
	entered chan struct{}

	mu   sync.Mutex
	seen []url.Values
}

func (a *keyAuthorizer) Authorize(ctx context.Context, req PublishRequest) error {
	a.mu.Lock()
	a.seen = append(a.seen, req.Params)
	a.mu.Unlock()
	switch req.Key.Stream {
	case "ok":
		return nil
	case "slow":
		close(a.entered)
		select {
		case <-a.release:
		case <-ctx.Done():
		}
		return &pubauth.Refusal{Reason: pubauth.ReasonWebhookFailed, Detail: "no answer"}
	}
	return &pubauth.Refusal{Reason: pubauth.ReasonBadSignature, Detail: "wrong key"}
}

// admitted returns how many publications the hub holds.
func admitted(h *Hub) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.active)
}

func TestAuthorizerRefusesBeforeAdmission(t *testing.T) {
	t.Parallel()
	opened := 0
	auth := &keyAuthorizer{}
	h := &Hub{Authorizer: auth, Open: func(*Publication) Sink { opened++; return &fakeSink{} }}
	params := url.Values{"auth_key": {"1-0-0-abc"}, "txSecret": {"s"}, "hwTime": {"t"}, "callback_id": {"7"}}

	_, err := h.Publish(t.Context(), PublishRequest{Key: Key{"a.com", "live", "bad"}, Params: params, Remote: "203.0.113.7:1"})
	require.ErrorIs(t, err, ErrUnauthorized)
	require.Equal(t, pubauth.ReasonBadSignature, pubauth.ReasonOf(err), "the refusal's reason is there for a throttle")
	require.Zero(t, admitted(h), "a refused publisher is never admitted")
	require.Zero(t, opened, "nothing records it")

	p, err := h.Publish(t.Context(), PublishRequest{Key: Key{"a.com", "live", "ok"}, Params: params})
	require.NoError(t, err)
	require.Equal(t, 1, opened)
	require.Equal(t, url.Values{"callback_id": {"7"}}, p.Req.Params, "credentials never go past the authorizer")
	auth.mu.Lock()
	require.Equal(t, params, auth.seen[1], "the authorizer sees them")
	auth.mu.Unlock()
	require.Len(t, params, 4, "the caller's parameters are not modified")
	p.Close(errors.New("done"))
}

// A slow decision holds up its own publisher only: others are admitted meanwhile.
func TestSlowAuthorizerBlocksOnlyItsPublisher(t *testing.T) {
	t.Parallel()
	auth := &keyAuthorizer{release: make(chan struct{}), entered: make(chan struct{})}
	h := &Hub{Authorizer: auth}
	done := make(chan error, 1)
	go func() {
		_, err := h.Publish(t.Context(), PublishRequest{Key: Key{"a.com", "live", "slow"}})
		done <- err
	}()
	<-auth.entered
	p, err := h.Publish(t.Context(), PublishRequest{Key: Key{"a.com", "live", "ok"}})
	require.NoError(t, err, "admitted while the slow decision is pending")
	require.Equal(t, 1, admitted(h), "the pending publisher is not")
	close(auth.release)
	err = <-done
	require.ErrorIs(t, err, ErrUnauthorized)
	require.Equal(t, pubauth.ReasonWebhookFailed, pubauth.ReasonOf(err))
	p.Close(errors.New("done"))
}

// Without an authorizer every publisher is admitted, and credentials are still dropped.
func TestNoAuthorizerStillDropsCredentials(t *testing.T) {
	t.Parallel()
	h := &Hub{}
	p, err := h.Publish(t.Context(), PublishRequest{Key: Key{"a.com", "live", "s"},
		Params: url.Values{"hwSecret": {"x"}, "record_config": {"{}"}}})
	require.NoError(t, err)
	require.Equal(t, url.Values{"record_config": {"{}"}}, p.Req.Params)
	p.Close(errors.New("done"))
}
