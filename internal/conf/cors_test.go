package conf

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCORSOrigins(t *testing.T) {
	load := func(yaml string) (*Config, error) {
		p := filepath.Join(t.TempDir(), "c.yaml")
		require.NoError(t, os.WriteFile(p, []byte(yaml), 0o644))
		return Load([]string{"--config", p}, env(nil))
	}
	c, err := load("storage:\n  cors_origins: [\"*\", \"https://player.example\", \"http://127.0.0.1:8081\"]\n")
	require.NoError(t, err)
	require.Equal(t, []string{"*", "https://player.example", "http://127.0.0.1:8081"}, c.Storage.CORSOrigins)
	c, err = load("storage:\n  cors_origins: []\n")
	require.NoError(t, err)
	require.Nil(t, c.Storage.CORSOrigins, "an empty list is the default")
	for _, bad := range []string{"player.example", "https://player.example/", "https://p.example/x", "ftp://p.example",
		"https://p.example?x", "https://u@p.example", "", "**"} {
		_, err := load("storage:\n  cors_origins: [\"" + bad + "\"]\n")
		require.ErrorContains(t, err, "'storage.cors_origins[0]'", bad)
	}
}
