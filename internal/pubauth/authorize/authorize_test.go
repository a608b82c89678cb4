package authorize

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/liverec/liverec/internal/limit"
	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/pubauth/webhook"
	"github.com/liverec/liverec/internal/secret"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store/sqldb"
	"github.com/liverec/liverec/internal/store/sqldb/sqldbtest"
	"github.com/liverec/liverec/internal/stream"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const primaryKey = "LiveRecPrimaryKey01"

// aliyunSigned signs rtmp URL path app/stream as Alibaba's type A does, independently of
// liverec's code: auth_key=ts-0-0-md5("/app/stream-ts-0-0-key").
func aliyunSigned(path, key string, ts int64) string {
	sum := md5.Sum(fmt.Appendf(nil, "/%s-%d-0-0-%s", path, ts, key))
	return fmt.Sprintf("%s?auth_key=%d-0-0-%s", path, ts, hex.EncodeToString(sum[:]))
}

// A publish authentication that cannot be read refuses (fail closed) and is counted.
func TestFailsClosed(t *testing.T) {
	t.Parallel()
	db, err := sqldb.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "liverec.db"))
	require.NoError(t, err)
	box, err := secret.New(make([]byte, secret.KeySize))
	require.NoError(t, err)
	require.NoError(t, db.Close())
	z := New(Config{Settings: &service.Service{Store: db, Sealer: box}, Webhook: &webhook.Client{}})
	err = z.Authorize(t.Context(), stream.PublishRequest{Key: stream.Key{Domain: "a.com", App: "live", Stream: "s"}})
	require.Equal(t, pubauth.ReasonUnavailable, pubauth.ReasonOf(err), "%v", err)
	require.Equal(t, 1.0, promtest.ToFloat64(z.refused.WithLabelValues("unavailable")))
}

// TestThrottlesGuessing: an address whose publishes fail authentication
// api.auth_failure_limit times is refused for the cool-down, even with a right signature and
// without its credentials being checked; another address with the same URL is admitted.
func TestThrottlesGuessing(t *testing.T) {
	t.Parallel()
	db := sqldbtest.OpenSQLiteAt(t, filepath.Join(t.TempDir(), "liverec.db"))
	box, err := secret.New(make([]byte, secret.KeySize))
	require.NoError(t, err)
	svc := &service.Service{Store: db, Sealer: box}
	admin := service.Principal{Project: "default", Admin: true}
	_, err = svc.SetPublishAuth(t.Context(), admin, []string{"a.com"},
		pubauth.Config{Method: pubauth.MethodAliyunA, Key: primaryKey, Validity: time.Hour})
	require.NoError(t, err)
	clock := time.Now()
	z := New(Config{Settings: svc, Webhook: &webhook.Client{}, Throttle: limit.NewThrottle(limit.ThrottleConfig{
		Limit: 3, Window: time.Minute, Cooldown: time.Minute, Now: func() time.Time { return clock }})})
	publish := func(remote, signedPath string) error {
		u, perr := url.Parse("rtmp://a.com/" + signedPath)
		require.NoError(t, perr)
		return z.Authorize(t.Context(), stream.PublishRequest{Key: stream.Key{Domain: "a.com", App: "live",
			Stream: "s"}, Params: u.Query(), Remote: remote})
	}
	good := aliyunSigned("live/s", primaryKey, time.Now().Unix())
	bad := aliyunSigned("live/s", "WrongKey00000000000", time.Now().Unix())
	require.NoError(t, publish("127.0.0.2:5000", good))
	for range 3 {
		require.Equal(t, pubauth.ReasonBadSignature, pubauth.ReasonOf(publish("127.0.0.2:5001", bad)))
	}
	err = publish("127.0.0.2:5002", good)
	require.Equal(t, pubauth.ReasonThrottled, pubauth.ReasonOf(err), "%v", err)
	require.NoError(t, publish("127.0.0.3:5000", good), "another address is not held back")
	require.Equal(t, 1.0, promtest.ToFloat64(z.refused.WithLabelValues("throttled")))
	clock = clock.Add(time.Minute)
	require.NoError(t, publish("127.0.0.2:5003", good), "after the cool-down")
}
