package conf

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLimitDefaults(t *testing.T) {
	c, err := Load(nil, env(nil))
	require.NoError(t, err)
	require.Equal(t, 1000, c.Ingest.MaxConns)
	require.Equal(t, 100, c.Ingest.MaxConnsPerIP)
	require.Equal(t, int64(256<<20), c.Ingest.MaxPendingBytes)
	require.Equal(t, 1000, c.API.MaxConns)
	require.Equal(t, 100, c.API.MaxConnsPerIP)
	require.Equal(t, 10*time.Second, c.API.ReadHeaderTimeout.D())
	require.Equal(t, 30*time.Second, c.API.ReadTimeout.D())
	require.Equal(t, 30*time.Second, c.API.WriteTimeout.D())
	require.Equal(t, time.Minute, c.API.IdleTimeout.D())
	require.Equal(t, 10, c.API.AuthFailureLimit)
	require.Equal(t, time.Minute, c.API.AuthFailureWindow.D())
	require.Equal(t, 5*time.Minute, c.API.AuthFailureCooldown.D())
}

func TestLimitErrors(t *testing.T) {
	for yaml, want := range map[string]string{
		"ingest:\n  max_conns_per_ip: -1\n":    "'ingest.max_conns_per_ip' must not be negative",
		"ingest:\n  max_pending_bytes: 1000\n": "'ingest.max_pending_bytes' must be at least 10 MiB",
		"api:\n  max_conns: -5\n":              "'api.max_conns' must not be negative",
		"api:\n  max_conns_per_ip: -5\n":       "'api.max_conns_per_ip' must not be negative",
		"api:\n  read_timeout: -1s\n":          "'api.read_timeout' must not be negative",
		"api:\n  write_timeout: -1s\n":         "'api.write_timeout' must not be negative",
		"api:\n  idle_timeout: -1s\n":          "'api.idle_timeout' must not be negative",
		"api:\n  read_header_timeout: -1s\n":   "'api.read_header_timeout' must not be negative",
		"api:\n  auth_failure_limit: -1\n":     "'api.auth_failure_limit' must not be negative",
		"api:\n  auth_failure_window: -1s\n":   "'api.auth_failure_window' must not be negative",
		"api:\n  auth_failure_cooldown: -1s\n": "'api.auth_failure_cooldown' must not be negative",
		"api:\n  read_timeout: soon\n":         `api.read_timeout: "soon" is not a duration`,
	} {
		p := filepath.Join(t.TempDir(), "c.yaml")
		require.NoError(t, os.WriteFile(p, []byte(yaml), 0o644))
		_, err := Load([]string{"--config", p}, env(nil))
		require.ErrorContains(t, err, want, yaml)
	}
	p := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(p, []byte("ingest:\n  max_conns_per_ip: 7\n  max_pending_bytes: 67108864\napi:\n  read_timeout: 500ms\n  auth_failure_limit: 3\n"), 0o644))
	c, err := Load([]string{"--config", p}, env(nil))
	require.NoError(t, err)
	require.Equal(t, 7, c.Ingest.MaxConnsPerIP)
	require.Equal(t, int64(64<<20), c.Ingest.MaxPendingBytes)
	require.Equal(t, 500*time.Millisecond, c.API.ReadTimeout.D())
	require.Equal(t, 3, c.API.AuthFailureLimit)
}
