package conf

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPublishAuthConfig(t *testing.T) {
	t.Parallel()
	c, err := Load(nil, env(nil))
	require.NoError(t, err)
	require.Equal(t, PublishAuth{AliyunExpiry: "delta", StartSkew: Duration(5 * time.Minute)}, c.PublishAuth)

	load := func(yaml string) (*Config, error) {
		p := filepath.Join(t.TempDir(), "liverec.yaml")
		require.NoError(t, os.WriteFile(p, []byte(yaml), 0o644))
		return Load([]string{"--config", p}, env(nil))
	}
	c, err = load("publish_auth:\n  aliyun_expiry: strict\n  start_skew: 30s\n")
	require.NoError(t, err)
	require.Equal(t, PublishAuth{AliyunExpiry: "strict", StartSkew: Duration(30 * time.Second)}, c.PublishAuth)

	_, err = load("publish_auth:\n  aliyun_expiry: lenient\n")
	require.ErrorContains(t, err, "'publish_auth.aliyun_expiry' must be delta or strict")
	_, err = load("publish_auth:\n  start_skew: -1s\n")
	require.ErrorContains(t, err, "'publish_auth.start_skew' must not be negative")
}
