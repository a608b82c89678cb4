package app

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/conf"
)

// TestAuthThrottleSharedAcrossNodes: two nodes on one database count a client's failed
// authentications together. Two failures on one node and one on the other reach
// api.auth_failure_limit: both nodes then refuse the client, even with the right secret.
func TestAuthThrottleSharedAcrossNodes(t *testing.T) {
	nodes := twoNodes(t, func(c *conf.Config) { c.API.AuthFailureLimit = 3 })
	status := func(ta *testApp, secret string) int {
		req, err := http.NewRequest(http.MethodGet, ta.base+"/api/v1/rules", nil)
		require.NoError(t, err)
		req.SetBasicAuth(testEnv["LIVEREC_ACCESS_KEY_ID"], secret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	right, wrong := testEnv["LIVEREC_ACCESS_KEY_SECRET"], "wrong"
	require.Equal(t, http.StatusUnauthorized, status(nodes[0], wrong))
	require.Equal(t, http.StatusUnauthorized, status(nodes[0], wrong))
	require.Equal(t, http.StatusOK, status(nodes[0], right), "under the limit")
	require.Equal(t, http.StatusOK, status(nodes[1], right))
	require.Equal(t, http.StatusUnauthorized, status(nodes[1], wrong))
	for i, ta := range nodes {
		require.Eventually(t, func() bool { return status(ta, right) == http.StatusTooManyRequests },
			10*time.Second, 50*time.Millisecond, "node %d refuses the client once the nodes have synced", i)
	}
}
