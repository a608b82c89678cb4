package rtmp

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/stretchr/testify/require"
)

// amfDepth is the nesting depth skipAMF0 gives a value: 0 for a top-level value, one more per
// enclosing object, ECMA array or strict array.
func amfDepth(v any, depth int) int {
	deepest := depth
	var children []any
	switch o := v.(type) {
	case amf0.Object:
		for _, e := range o {
			children = append(children, e.Value)
		}
	case amf0.ECMAArray:
		for _, e := range o {
			children = append(children, e.Value)
		}
	case amf0.StrictArray:
		children = o
	}
	for _, c := range children {
		deepest = max(deepest, amfDepth(c, depth+1))
	}
	return deepest
}

// FuzzDecodeAMF0 feeds arbitrary AMF0 bodies (RTMP commands, @setDataFrame/onMetaData): the
// depth guard refuses exactly what gortmplib would decode deeper than maxAMFDepth or larger
// than maxAMFSize, and lets everything else through to the same result; what decodes
// re-encodes to bytes that decode to the same values (decode(encode(v)) == v).
func FuzzDecodeAMF0(f *testing.F) {
	for _, d := range []amf0.Data{
		{"connect", float64(1), amf0.Object{{Key: "app", Value: "live"}, {Key: "tcUrl", Value: "rtmp://h/live"}}},
		{"@setDataFrame", "onMetaData", amf0.ECMAArray{{Key: "width", Value: float64(32)}, {Key: "stereo", Value: false}}},
		{"publish", float64(3), nil, "test?x=1", "live", amf0.Undefined{}, amf0.StrictArray{float64(1), "a"}},
	} {
		b, err := d.Marshal()
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tm := time.AfterFunc(10*time.Second, func() { // a hang is a finding too
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
			panic(fmt.Sprintf("slow input of %d bytes", len(b)))
		})
		defer tm.Stop()
		d, err := decodeAMF0(b)
		if len(b) > maxAMFSize {
			require.ErrorIs(t, err, errAMF)
			return
		}
		if len(b) <= 64<<10 { // gortmplib recurses without a bound: only on inputs of sane size
			ref, refErr := amf0.Unmarshal(b)
			deepest := 0
			for _, v := range ref {
				deepest = max(deepest, amfDepth(v, 0))
			}
			switch {
			case refErr != nil:
				require.ErrorIs(t, err, errAMF)
			case deepest > maxAMFDepth:
				require.ErrorIs(t, err, errAMF, "nested %d deep", deepest)
			default:
				require.NoError(t, err, "gortmplib decodes it %d deep", deepest)
				want, err1 := ref.Marshal()
				got, err2 := d.Marshal()
				require.NoError(t, errors.Join(err1, err2))
				require.True(t, bytes.Equal(want, got)) // bytes, not values: NaN != NaN
			}
		}
		if err != nil {
			require.ErrorIs(t, err, errAMF)
			return
		}
		enc, err := d.Marshal()
		require.NoError(t, err)
		again, err := decodeAMF0(enc)
		require.NoError(t, err)
		enc2, err := again.Marshal()
		require.NoError(t, err)
		require.True(t, bytes.Equal(enc, enc2)) // bytes, not values: NaN != NaN
		require.Len(t, again, len(d))
	})
}

// FuzzIdentity feeds the connect command's app and tcUrl and the publish command's name: an
// accepted publish has a key of path-safe names that cannot leave the directory they are
// joined under, its parts come from where they should, and publishing the key again with its
// parameters in the canonical form gives the same key and parameters. A refused one is
// errBadName.
func FuzzIdentity(f *testing.F) {
	f.Add("live", "rtmp://Host.COM:1935/live", "test?x=1")
	f.Add("live?vhost=a.com", "rtmp://host:1935/live?vhost=a.com", "test")
	f.Add("live?domain=D.com&k=1", "rtmp://host/live", "s?k=2")
	f.Add("live", "rtmp://[::1]:1935/live", "s")
	f.Add("live/", "rtmp://host/live/", "a/b")
	f.Fuzz(func(t *testing.T, app, tcURL, name string) {
		key, params, err := identity(app, tcURL, name)
		if err != nil {
			require.True(t, errors.Is(err, errBadName), "%v", err)
			// Errors are logged: hostile names and URLs are truncated (160 bytes, quoted).
			require.LessOrEqual(t, len(err.Error()), 1500)
			return
		}
		require.NoError(t, checkDomain(key.Domain, "the fuzzer"))
		require.NoError(t, checkName("app", key.App))
		require.NoError(t, checkName("stream", key.Stream))
		require.Equal(t, strings.ToLower(key.Domain), key.Domain)
		for _, p := range []string{key.Domain, key.App, key.Stream} {
			require.NotContains(t, p, "/")
			require.NotContains(t, p, "..")
		}
		joined := path.Join("/spool", key.Domain, key.App, key.Stream)
		require.Equal(t, "/spool/"+key.Domain+"/"+key.App+"/"+key.Stream, joined)

		streamName, _, _ := strings.Cut(name, "?")
		appName, _, _ := strings.Cut(app, "?")
		require.Equal(t, streamName, key.Stream)
		require.Equal(t, strings.TrimSuffix(appName, "/"), key.App)
		if d := params.Get("vhost"); d != "" {
			require.Equal(t, strings.ToLower(d), key.Domain)
		}

		host, query := key.Domain, params.Encode()
		if params.Get("vhost") != "" || params.Get("domain") != "" {
			host = "example.com"
		} else if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		canon := (&url.URL{Scheme: "rtmp", Host: host, Path: "/" + key.App}).String()
		if _, perr := url.Parse(canon); perr != nil {
			// checkDomain lets through colon-strings that are no host (":" from "rtmp://::"):
			// those only round-trip as a vhost parameter.
			canon, query = "rtmp://example.com/"+key.App, query+"&vhost="+url.QueryEscape(key.Domain)
		}
		key2, params2, err := identity(key.App, canon, key.Stream+"?"+query)
		require.NoError(t, err, "canonical form %q %q", canon, key.Stream+"?"+query)
		require.Equal(t, key, key2)
		if query == params.Encode() {
			require.Equal(t, query, params2.Encode())
		}
	})
}
