package rtmp

import (
	"context"
	"strings"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil"
)

// verifier is an authorizer on pubauth with one Alibaba type-A config for every domain.
type verifier struct{ cfg *pubauth.Config }

func (v verifier) Authorize(_ context.Context, req stream.PublishRequest) error {
	return pubauth.Verify(v.cfg, pubauth.IngestRequest(req.Key.App, req.Key.Stream, req.Params), time.Now(), pubauth.Options{})
}

// A publish the authorizer refuses gets an error status and the connection closes; nothing
// reaches a sink, and the credential never reaches the log.
func TestPublishUnauthorized(t *testing.T) {
	cfg := &pubauth.Config{Method: pubauth.MethodAliyunA, Key: "LiveRecPrimaryKey01", Validity: time.Hour}
	e := startServer(t, func(_ *Config, h *stream.Hub) { h.Authorizer = verifier{cfg} })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	signed, err := pubauth.Sign(cfg, pubauth.IngestRequest("live", "cam", nil), time.Now(), "", pubauth.Options{})
	require.NoError(t, err)
	require.NoError(t, testutil.Publish(ctx, e.url("live#cam?"+signed+"&callback_x=1"), nil, testutil.PublishOptions{}))
	s := e.nextSink(t, time.Second)
	require.Empty(t, s.pub.Req.Params.Get("auth_key"), "the credential stops at the authorizer")
	require.Equal(t, "1", s.pub.Req.Params.Get("callback_x"))
	s.waitEnd(t, 2*time.Second)

	forged := strings.Replace(signed, "-0-0-", "-1-0-", 1)
	for _, path := range []string{"live#cam", "live#cam?" + forged, "live#other?" + signed} {
		err := testutil.Publish(ctx, e.url(path), nil, testutil.PublishOptions{})
		require.Error(t, err, path)
		require.Contains(t, err.Error(), "NetStream.Publish.Unauthorized", path)
	}
	require.Equal(t, 1, e.sinkCount(), "refused publishers never reach the hub's sinks")
	require.Eventually(t, func() bool {
		return strings.Count(grepLines(e.logs.String(), "reason=unauthorized"), "\n") == 3
	}, 2*time.Second, 10*time.Millisecond, "each refusal is logged with its reason")
	line := e.waitLog(t, time.Second, "reason=unauthorized", "missing")
	require.Contains(t, line, "remote=")
	require.Contains(t, e.logs.String(), "bad_signature")
	require.Equal(t, float64(3), promtest.ToFloat64(e.srv.Metrics.rejected.WithLabelValues(reasonUnauthorized)))
	hash := signed[strings.LastIndexByte(signed, '-')+1:]
	require.NotContains(t, e.logs.String(), hash, "signatures are never logged")
	require.NotContains(t, e.logs.String(), cfg.Key)
}
