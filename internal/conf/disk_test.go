package conf

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func loadYAML(t *testing.T, y string) (*Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(p, []byte(y), 0o644))
	return Load([]string{"--config", p}, env(nil))
}

func TestDiskDefaultsAndForms(t *testing.T) {
	c, err := Load(nil, env(nil))
	require.NoError(t, err)
	require.Equal(t, 10.0, c.Disk.HighFree.Percent)
	require.Equal(t, 5.0, c.Disk.LowFree.Percent)
	require.Equal(t, 5*time.Second, c.Disk.CheckInterval.D())

	c, err = loadYAML(t, "disk:\n  high_free: 2147483648\n  low_free: 12.5%\n  check_interval: 50ms\n")
	require.NoError(t, err)
	require.Equal(t, int64(2<<30), c.Disk.HighFree.Bytes)
	require.Equal(t, 12.5, c.Disk.LowFree.Percent)
	require.Zero(t, c.Disk.LowFree.Bytes, "a percentage, not bytes")
	require.Equal(t, 50*time.Millisecond, c.Disk.CheckInterval.D())

	c, err = loadYAML(t, "disk:\n  high_free: 0\n  low_free: 0\n")
	require.NoError(t, err, "0 turns the policy off")
	require.Zero(t, c.Disk.LowFree.Bytes)
	require.Zero(t, c.Disk.LowFree.Percent)
}

func TestDiskRejectsBadValues(t *testing.T) {
	for y, want := range map[string]string{
		"disk:\n  high_free: 120%\n":                 "0–100%",
		"disk:\n  low_free: -5\n":                    "byte count or a percentage",
		"disk:\n  low_free: lots\n":                  "byte count or a percentage",
		"disk:\n  high_free: 5%\n  low_free: 10%\n":  "'disk.low_free' (10%) must not be above 'disk.high_free' (5%)",
		"disk:\n  high_free: 100\n  low_free: 200\n": "must not be above",
		"disk:\n  check_interval: 1ms\n":             "'disk.check_interval' must be at least 10ms",
	} {
		_, err := loadYAML(t, y)
		require.ErrorContains(t, err, want, y)
	}
}
