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

// Leaser gives one node of a cluster at a time the keys it publishes. The hub asks it
// after the Authorizer, on the publisher's goroutine and without its lock.
type Leaser interface {
	// Acquire takes key for this node. A refusal wraps ErrBusy: another node publishes it.
	Acquire(ctx context.Context, key Key) error
	// Release gives key back once no publication of it is left here. It must not block.
	Release(key Key)
}
