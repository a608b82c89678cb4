// Package netguard refuses outgoing connections to private and loopback addresses when asked
// to (a config switch for callback and on-demand URLs). The check runs on the address
// actually dialed, after DNS resolution, so a name that resolves to an internal address is
// refused too.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrRefused is returned for a connection to a refused address.
var ErrRefused = errors.New("refused: callback targets on private or loopback addresses are disabled")

// refusedPrefixes are internal ranges the netip predicates do not cover: "this network"
// (0.0.0.0/8, which Linux dials as the local host) and carrier-grade NAT space (100.64.0.0/10,
// RFC 6598: a provider's internal network, where cloud metadata services also live).
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
}

// Refused tells whether addr must not be dialed: loopback, private (RFC 1918, RFC 4193),
// link-local, unspecified, multicast, "this network" or carrier-grade NAT.
func Refused(addr netip.Addr) bool {
	addr = addr.Unmap()
	if addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsUnspecified() || addr.IsMulticast() {
		return true
	}
	for _, p := range refusedPrefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// control is a net.Dialer Control that refuses internal addresses.
func control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrRefused, address)
	}
	if Refused(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrRefused, ap.Addr())
	}
	return nil
}

// Client returns an HTTP client with the given timeout that follows no redirects and, when
// refuseInternal is set, refuses internal addresses at connect time.
func Client(timeout time.Duration, refuseInternal bool) *http.Client {
	d := &net.Dialer{Timeout: timeout}
	if refuseInternal {
		d.Control = control
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = d.DialContext
	tr.Proxy = nil // a proxy would dial on our behalf and bypass the check
	return &http.Client{
		Timeout:   timeout,
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
