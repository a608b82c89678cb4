// Package limit keeps one client from starving the others: caps on open connections, in all
// and per source address (Gate, Listener), a byte budget shared by many holders (Budget), and
// a throttle on failed authentication (Throttle), which the nodes of a deployment may share
// through their database. Each is a small type safe for concurrent use, created and owned by
// the server that applies it: there is no package state.
package limit

import (
	"net"
	"net/netip"
)

// Source is the address limits count a client under: an IPv4 address as it is, an IPv6 one
// by its /64 prefix (one host usually holds a whole /64, so per-address limits would be
// meaningless). The zero Addr stands for a remote address that is not IP (a pipe in tests).
func Source(addr net.Addr) netip.Addr {
	var a netip.Addr
	switch v := addr.(type) {
	case *net.TCPAddr:
		a = v.AddrPort().Addr()
	case nil:
		return netip.Addr{}
	default:
		ap, err := netip.ParseAddrPort(addr.String())
		if err != nil {
			return netip.Addr{}
		}
		a = ap.Addr()
	}
	return SourceOf(a)
}

// SourceOf is Source for an address already parsed.
func SourceOf(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, err := a.Prefix(64)
		if err == nil {
			return p.Addr()
		}
	}
	return a
}

// RemoteAddr parses an http.Request's RemoteAddr ("host:port"); the zero Addr when it is not
// an IP address. The address is the peer's: behind a reverse proxy every client shares the
// proxy's, and limits count them together.
func RemoteAddr(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr()
}
