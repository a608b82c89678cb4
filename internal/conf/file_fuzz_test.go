package conf

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// flagsOnly is a Config as Load has it before reading the file: flag values only.
func flagsOnly() *Config {
	return &Config{HTTP: ":8080", RTMP: ":1935", Data: "/data", ShutdownTimeout: 30 * time.Second}
}

// FuzzConfigFile feeds arbitrary config files through what Load does with them: no input
// panics or hangs the YAML decoder; a file that validates writes back (yaml.Marshal) into a
// file that reads and validates to the same configuration (decode(encode(v)) == v), and its
// defaults are already applied (setDefaults changes nothing more).
func FuzzConfigFile(f *testing.F) {
	f.Add([]byte("storage:\n  endpoints:\n    - name: s3a\n      type: s3\n      url: http://127.0.0.1:9000\n      aliases: [\"*\"]\n"))
	f.Add([]byte("ingest:\n  publish_idle_timeout: 300ms\nrecording:\n  time_zone: Asia/Shanghai\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("storage: {link_expiry: -1s}\nunknown: 1\n"))
	f.Fuzz(func(t *testing.T, file []byte) {
		c := flagsOnly()
		if c.decodeFile(file) != nil {
			return
		}
		c.setDefaults()
		if c.Validate() != nil {
			return
		}
		once, err := yaml.Marshal(c)
		require.NoError(t, err)
		c.setDefaults()
		again, err := yaml.Marshal(c)
		require.NoError(t, err)
		require.Equal(t, string(once), string(again), "setDefaults is not idempotent")

		back := flagsOnly()
		require.NoError(t, back.decodeFile(once), "%s", once)
		back.setDefaults()
		require.NoError(t, back.Validate(), "%s", once)
		twice, err := yaml.Marshal(back)
		require.NoError(t, err)
		require.Equal(t, string(once), string(twice))
	})
}
