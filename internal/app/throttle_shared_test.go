package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/conf"
)

// TestAuthThrottleSharedAcrossNodes: two nodes on one database count a client's failed
// authentications together. Two failures on one node and one on the other reach
// api.auth_failure_limit: both nodes then refuse the client, even with the right secret.
func TestAuthThrottleSharedAcrossNodes(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "shared.db")
	masterKey := strings.Repeat("6c", 32) // the nodes of a deployment share it
	nodes := make([]*testApp, 2)
	for i := range nodes {
		c, err := conf.Load([]string{"--data", t.TempDir(), "--db", db, "--http", "127.0.0.1:0",
			"--rtmp", "127.0.0.1:0", "--shutdown-timeout", "60s"}, func(k string) string { return testEnv[k] })
		require.NoError(t, err)
		c.MasterKey, c.API.AuthFailureLimit = masterKey, 3
		log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
		a, err := New(t.Context(), c, log, io.Discard)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		ta := &testApp{App: a, cancel: cancel, done: make(chan error, 1), base: "http://" + a.HTTPAddr().String()}
		go func() { ta.done <- a.Run(ctx) }()
		t.Cleanup(func() { ta.stop(t) })
		nodes[i] = ta
	}
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
