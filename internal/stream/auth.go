package stream

import (
	"context"
	"errors"
)

// Authorizer decides whether a publisher may publish (§11 publish authentication). The hub
// calls it for every publish request before admitting it, on the publisher's own goroutine
// and without holding the hub's lock, so a slow decision (a webhook) delays only that
// publisher. It sees the request's ingest parameters, credentials included; the hub strips the
// credentials before anything else sees them.
type Authorizer interface {
	// Authorize returns nil to admit req. A refusal is returned to Publish's caller wrapped in
	// ErrUnauthorized, so the caller can tell it apart and inspect it (a throttle counts
	// refusals per remote address).
	Authorize(ctx context.Context, req PublishRequest) error
}

// ErrUnauthorized is returned by Publish, wrapping the Authorizer's refusal, for a publisher
// that may not publish.
var ErrUnauthorized = errors.New("publish not authorized")
