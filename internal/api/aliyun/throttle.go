package aliyun

import (
	"net/netip"
	"time"
)

// Throttle refuses addresses that keep failing authentication (*limit.Throttle, shared by
// every API dialect).
type Throttle interface {
	Check(addr netip.Addr) (retryAfter time.Duration, refused bool)
	Fail(addr netip.Addr, keyID, via string)
}

type noThrottle struct{}

func (noThrottle) Check(netip.Addr) (time.Duration, bool) { return 0, false }
func (noThrottle) Fail(netip.Addr, string, string)        {}
