package netguard

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRefused(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true, "169.254.0.1": true,
		"::1": true, "fd00::1": true, "fe80::1": true, "0.0.0.0": true, "::ffff:127.0.0.1": true,
		"8.8.8.8": false, "2001:4860:4860::8888": false, "203.0.113.7": false,
		// "this network" and carrier-grade NAT (RFC 6598), also as IPv4-mapped IPv6.
		"0.1.2.3": true, "0.255.255.255": true, "::ffff:0.0.0.1": true,
		"100.64.0.0": true, "100.100.100.200": true, "100.127.255.255": true, "::ffff:100.64.1.1": true,
		"1.0.0.0": false, "100.63.255.255": false, "100.128.0.0": false,
	} {
		require.Equal(t, want, Refused(netip.MustParseAddr(addr)), addr)
	}
}

func TestClientRefusesLoopbackOnlyWhenAsked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	_, err := Client(time.Second, true).Get(srv.URL)
	require.ErrorIs(t, err, ErrRefused)
	resp, err := Client(time.Second, false).Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	// A name that resolves to loopback is refused as well: the check sees the dialed address.
	_, err = Client(time.Second, true).Get("http://localhost:" + srv.URL[len("http://127.0.0.1:"):])
	require.ErrorIs(t, err, ErrRefused)
	// "This network" and carrier-grade NAT are refused at connect time as well.
	_, err = Client(time.Second, true).Get("http://0.1.2.3:" + srv.URL[len("http://127.0.0.1:"):])
	require.ErrorIs(t, err, ErrRefused)
	_, err = Client(time.Second, true).Get("http://100.64.0.1:9/")
	require.ErrorIs(t, err, ErrRefused)
}
