package rtmp

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/stream"
)

func TestIdentityShapes(t *testing.T) {
	cases := []struct {
		app, tcURL, name string
		key              stream.Key
		params           string
	}{
		// rtmp://host/live/test?x=1 as ffmpeg and OBS send it.
		{"live", "rtmp://Host.COM:1935/live", "test?x=1",
			stream.Key{Domain: "host.com", App: "live", Stream: "test"}, "x=1"},
		// rtmp://host/live?vhost=a.com/test: the query belongs to the app.
		{"live?vhost=a.com", "rtmp://host:1935/live?vhost=a.com", "test",
			stream.Key{Domain: "a.com", App: "live", Stream: "test"}, "vhost=a.com"},
		// The query only in the app field, the domain parameter, both queries merged.
		{"live?domain=D.com&k=1", "rtmp://host/live", "s?k=2",
			stream.Key{Domain: "d.com", App: "live", Stream: "s"}, "domain=D.com&k=2&k=1"},
		{"live", "rtmp://[::1]:1935/live", "s", stream.Key{Domain: "::1", App: "live", Stream: "s"}, ""},
	}
	for _, tc := range cases {
		key, params, err := identity(tc.app, tc.tcURL, tc.name)
		require.NoError(t, err, tc)
		require.Equal(t, tc.key, key)
		require.Equal(t, tc.params, params.Encode())
	}

	for _, tc := range [][3]string{
		{"live", "rtmp://host/live", "a/b"},
		{"live", "rtmp://host/live", "../x"},
		{"live", "rtmp://host/live", "?x=1"},
		{"", "rtmp://host/", "s"},
		{"live", "", "s"},                          // no domain at all
		{"live", "rtmp://host/live?vhost=..", "s"}, // domain must be path-safe too
		{"live", "rtmp://ho st/live", "s"},
	} {
		_, _, err := identity(tc[0], tc[1], tc[2])
		require.True(t, errors.Is(err, errBadName), "%q: %v", tc, err)
	}
}
