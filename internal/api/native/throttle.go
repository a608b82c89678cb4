package native

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

// codeTooManyRequests is the answer to a throttled address.
const codeTooManyRequests = "too_many_requests"

// throttled answers 429 with Retry-After in whole seconds, rounded up.
func (h *handler) throttled(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	writeError(w, http.StatusTooManyRequests, apiError{Code: codeTooManyRequests,
		Message: "too many failed authentications from this address; retry later"})
}

type noThrottle struct{}

func (noThrottle) Check(netip.Addr) (time.Duration, bool) { return 0, false }
func (noThrottle) Fail(netip.Addr, string, string)        {}
