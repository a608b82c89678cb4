package huawei

import (
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// Throttle refuses addresses that keep failing authentication (*limit.Throttle, shared by
// every API dialect).
type Throttle interface {
	Check(addr netip.Addr) (retryAfter time.Duration, refused bool)
	Fail(addr netip.Addr, keyID, via string)
}

// codeThrottled is the API Gateway's answer when a throttling threshold is reached.
const codeThrottled = "APIGW.0308"

// badCredentialsError marks an authentication failure that tried credentials (an unknown key,
// a signature or token that does not verify), as opposed to a malformed or stale request: the
// throttle counts these. keyID is set when the key exists.
type badCredentialsError struct {
	keyID string
	cause error
}

func (e *badCredentialsError) Error() string { return e.cause.Error() }
func (e *badCredentialsError) Unwrap() error { return e.cause }

// writeThrottled answers 429 as the gateway does, with Retry-After in whole seconds.
func writeThrottled(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	writeError(w, &apiError{status: http.StatusTooManyRequests, Code: codeThrottled,
		Msg: "The throttling threshold has been reached: too many failed authentications from this address"})
}

type noThrottle struct{}

func (noThrottle) Check(netip.Addr) (time.Duration, bool) { return 0, false }
func (noThrottle) Fail(netip.Addr, string, string)        {}
