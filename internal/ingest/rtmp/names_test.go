package rtmp

import (
	"strings"
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

}

// TestIdentityRefusals: every refusal says which part is wrong and why, in the publisher's
// terms; the message is what the encoder shows and what the log says.
func TestIdentityRefusals(t *testing.T) {
	long := strings.Repeat("x", 129)
	cases := []struct{ app, tcURL, name, want string }{
		{"live", "rtmp://host/live", "a/b",
			`invalid stream name "a/b": "/" is not allowed; use letters, digits, ".", "_", "~" and "-" (at most 128)`},
		{"a b", "rtmp://host/a b", "s",
			`invalid app name "a b": " " is not allowed; use letters, digits, ".", "_", "~" and "-" (at most 128)`},
		{"live", "rtmp://host/live", "café", `invalid stream name "café": "é" is not allowed`},
		{"live", "rtmp://host/live", "../x", `invalid stream name "../x": it may not be "." or contain ".."`},
		{"live", "rtmp://host/live", ".", `invalid stream name ".": it may not be "." or contain ".."`},
		{"live", "rtmp://host/live", long, `invalid stream name "` + long + `": 129 characters, at most 128`},
		{long, "rtmp://host/" + long, "s", `invalid app name "` + long + `": 129 characters, at most 128`},
		{"live", "rtmp://host/live", "?x=1", "missing stream name: publish to rtmp://HOST/APP/STREAM"},
		{"live", "rtmp://host/live", "", "missing stream name: publish to rtmp://HOST/APP/STREAM"},
		{"", "rtmp://host/", "s", "missing app name: publish to rtmp://HOST/APP/STREAM"},
		{"live", "", "s",
			"missing domain: the tcUrl is missing from the connect command and there is no vhost or domain parameter"},
		{"live", "rtmp:///live?auth_key=SECRET", "s",
			`missing domain: the tcUrl "rtmp:///live" has no host and there is no vhost or domain parameter`},
		{"live", "rtmp://host/live?vhost=..", "s",
			`invalid domain ".." from the vhost parameter: it may not be "." or contain ".."`},
		{"live?domain=a/b", "rtmp://host/live", "s",
			`invalid domain "a/b" from the domain parameter: "/" is not allowed; use a host name or an IP address`},
		{"live", "rtmp://" + strings.Repeat("h", 254) + "/live", "s",
			`from the tcUrl's host: 254 characters, at most 253`},
		{"live", "rtmp://ho st/live?auth_key=SECRET", "s",
			`invalid tcUrl "rtmp://ho st/live": invalid character " " in host name`},
	}
	for _, tc := range cases {
		_, _, err := identity(tc.app, tc.tcURL, tc.name)
		require.ErrorIs(t, err, errBadName, "%+v", tc)
		require.Contains(t, err.Error(), tc.want, "%+v", tc)
		require.NotContains(t, err.Error(), "SECRET", "publish credentials never reach the publisher's status or a log")
	}
}
