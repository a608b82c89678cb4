package compat

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/live"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	hwlive "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/live/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/live/v1/model"
	"github.com/stretchr/testify/require"
)

// throttleConfig: three failed authentications within a minute refuse an address for 3 s.
const throttleConfig = "api:\n  auth_failure_limit: 3\n  auth_failure_window: 1m\n  auth_failure_cooldown: 3s\n"

// startThrottled runs liverec with throttleConfig.
func startThrottled(t *testing.T) *server {
	t.Helper()
	p := filepath.Join(t.TempDir(), "liverec.yaml")
	require.NoError(t, os.WriteFile(p, []byte(throttleConfig), 0o644))
	return startLiverec(t, "LIVEREC_CONFIG="+p)
}

// dialFrom dials from the loopback address src (Linux accepts any 127.x address).
func dialFrom(src string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return d.DialContext
}

// TestAliyunThrottling: the SDK's view of failed-authentication throttling. Three bad
// signatures from one address, then the good secret from that address is Throttling.User
// (HTTP 400, which the SDK does not retry), while from another address it works; after the
// cool-down it works again.
func TestAliyunThrottling(t *testing.T) {
	t.Parallel()
	s := startThrottled(t)
	client := func(src, secret string) *live.Client {
		tr := &http.Transport{DialContext: dialFrom(src)}
		t.Cleanup(tr.CloseIdleConnections)
		// Wrapped: the SDK replaces the dialer of an *http.Transport with its own.
		return aliyunClient(t, s, keyA, secret, roundTripper{tr})
	}
	_, err := client("127.0.0.3", secretA).AddLiveAppRecordConfig(
		addRecordConfig("throttle.example.com", "live", live.AddLiveAppRecordConfigRecordFormat{Format: "flv"}))
	require.NoError(t, err)
	describe := func(c *live.Client) error {
		r := live.CreateDescribeLiveRecordConfigRequest()
		r.DomainName = "throttle.example.com"
		_, err := c.DescribeLiveRecordConfig(r)
		return err
	}

	bad := client("127.0.0.2", "wrong-secret")
	for range 3 {
		requireServerError(t, describe(bad), http.StatusBadRequest, "SignatureDoesNotMatch")
	}
	good := client("127.0.0.2", secretA)
	se := requireServerError(t, describe(good), http.StatusBadRequest, "Throttling.User")
	require.Equal(t, "3", se.RespHeaders["Retry-After"][0])
	require.NoError(t, describe(client("127.0.0.3", secretA)), "the same key from another address")
	require.Eventually(t, func() bool { return describe(good) == nil }, 15*time.Second, 250*time.Millisecond,
		"the good key works again after the cool-down")
}

// TestHuaweiThrottling: the same with the Huawei SDK: APIGW.0308 with HTTP 429.
func TestHuaweiThrottling(t *testing.T) {
	t.Parallel()
	s := startThrottled(t)
	client := func(src, sk string) *hwlive.LiveClient {
		cred, err := basic.NewCredentialsBuilder().WithAk(keyA).WithSk(sk).WithProjectId(projectA).SafeBuild()
		require.NoError(t, err)
		hc, err := hwlive.LiveClientBuilder().WithEndpoint("http://" + s.HTTP).WithCredential(cred).
			WithHttpConfig(config.DefaultHttpConfig().WithTimeout(10 * time.Second).WithDialContext(dialFrom(src))).SafeBuild()
		require.NoError(t, err)
		return hwlive.NewLiveClient(hc)
	}
	list := func(c *hwlive.LiveClient) error {
		_, err := c.ListRecordRules(&model.ListRecordRulesRequest{})
		return err
	}

	bad := client("127.0.0.2", "not-the-secret")
	for range 3 {
		requireHuaweiError(t, list(bad), http.StatusUnauthorized, "APIGW.0301")
	}
	good := client("127.0.0.2", secretA)
	requireHuaweiError(t, list(good), http.StatusTooManyRequests, "APIGW.0308")
	require.NoError(t, list(client("127.0.0.3", secretA)), "the same key from another address")
	require.Eventually(t, func() bool { return list(good) == nil }, 15*time.Second, 250*time.Millisecond,
		"the good key works again after the cool-down")
}

// roundTripper hides an *http.Transport from the Alibaba SDK, which would set its dialer.
type roundTripper struct{ http.RoundTripper }
