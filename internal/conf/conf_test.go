package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil))
	require.NoError(t, err)
	require.Equal(t, ":8080", c.HTTP)
	require.Equal(t, ":1935", c.RTMP)
	require.Equal(t, "./data", c.Data)
	require.Equal(t, 30*time.Second, c.ShutdownTimeout)
	require.Equal(t, filepath.Join("data", "spool"), c.Storage.Spool)
	require.Len(t, c.Storage.Endpoints, 1)
	require.Equal(t, Endpoint{Name: "local", Type: "local", Root: filepath.Join("data", "buckets"), Aliases: []string{"*"}}, c.Storage.Endpoints[0])
	require.Equal(t, 5*time.Second, c.Ingest.PublishIdleTimeout.D())
}

func TestFlagsBeatEnvironment(t *testing.T) {
	c, err := Load([]string{"--rtmp", "127.0.0.1:1936"}, env(map[string]string{
		"LIVEREC_RTMP": "127.0.0.1:9", "LIVEREC_HTTP": "127.0.0.1:8081", "LIVEREC_SHUTDOWN_TIMEOUT": "3s",
	}))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:1936", c.RTMP)
	require.Equal(t, "127.0.0.1:8081", c.HTTP)
	require.Equal(t, 3*time.Second, c.ShutdownTimeout)
}

func TestConfigFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(p, []byte(`
storage:
  spool: /tmp/spool
  endpoints:
    - name: local
      type: local
      root: /tmp/buckets
      aliases: ["*", "cn-north-4"]
ingest:
  publish_idle_timeout: 300ms
recording:
  flush_interval: 250ms
`), 0o644))
	c, err := Load([]string{"--config", p}, env(nil))
	require.NoError(t, err)
	require.Equal(t, "/tmp/spool", c.Storage.Spool)
	require.Equal(t, []string{"*", "cn-north-4"}, c.Storage.Endpoints[0].Aliases)
	require.Equal(t, 300*time.Millisecond, c.Ingest.PublishIdleTimeout.D())
	require.Equal(t, 250*time.Millisecond, c.Recording.FlushInterval.D())
}

func TestConfigErrors(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"ingest:\n  read_batch: 5s\n", "'ingest.read_batch' must be at most 1s"},
		{"ingest:\n  idle_timeout: soon\n", `ingest.idle_timeout: "soon" is not a duration`},
		{"log:\n  level: loud\n", "'log.level' must be debug, info, warn or error"},
		{"storage:\n  endpoints:\n    - name: s\n      type: ftp\n", `'storage.endpoints[0].type' "ftp" is not a storage type`},
		{"storage:\n  endpoints:\n    - name: s\n      type: s3\n      url: ftp://x\n      access_key: a\n      secret_key: b\n", `'storage.endpoints[0].url' "ftp://x" is not an http(s) URL`},
		{"storage:\n  endpoints:\n    - name: s\n      type: s3\n      url: http://127.0.0.1:9000\n", `'storage.endpoints[0].access_key' and secret_key are required`},
		{"storage:\n  part_size: 1024\n", `'storage.part_size' must be at least 5 MiB`},
		{"unknown_key: 1\n", "unknown_key: unknown key"},
		{"recording:\n  time_zone: Mars/Olympus\n", "'recording.time_zone'"},
	}
	for _, c := range cases {
		p := filepath.Join(t.TempDir(), "c.yaml")
		require.NoError(t, os.WriteFile(p, []byte(c.yaml), 0o644))
		_, err := Load([]string{"--config", p}, env(nil))
		require.ErrorContains(t, err, c.want, c.yaml)
	}
	_, err := Load([]string{"--bogus"}, env(nil))
	require.ErrorContains(t, err, "flag provided but not defined")
	_, err = Load(nil, env(map[string]string{"LIVEREC_SHUTDOWN_TIMEOUT": "x"}))
	require.ErrorContains(t, err, "LIVEREC_SHUTDOWN_TIMEOUT")
}

func TestConfigRules(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(p, []byte(`
rules:
  - domain: example.com
    app: live
    stream: "*"
    mode: auto
    formats:
      - format: mp4
        cycle_s: 600
        merge_window_s: 0
        object_template: "{AppName}/{StreamName}/{EscapedStartTime}"
    storage:
      endpoint: local
      bucket: recordings
`), 0o644))
	c, err := Load([]string{"--config", p}, env(nil))
	require.NoError(t, err)
	require.Len(t, c.Rules, 1)
	r := c.Rules[0]
	require.Equal(t, "example.com", r.Domain)
	require.Equal(t, 600, r.Formats[0].CycleS)
	require.Equal(t, "recordings", r.Storage.Bucket)
}

// TestDocumentedDefaults keeps docs/config.md's sample equal to the code's defaults.
func TestDocumentedDefaults(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.md"))
	require.NoError(t, err)
	s := string(doc)
	start := strings.Index(s, "```yaml\n")
	require.GreaterOrEqual(t, start, 0)
	s = s[start+len("```yaml\n"):]
	end := strings.Index(s, "```")
	require.GreaterOrEqual(t, end, 0)
	sample := s[:end]
	p := filepath.Join(t.TempDir(), "sample.yaml")
	require.NoError(t, os.WriteFile(p, []byte(sample), 0o644))
	fromDoc, err := Load([]string{"--config", p}, env(nil))
	require.NoError(t, err)
	defaults, err := Load(nil, env(nil))
	require.NoError(t, err)
	fromDoc.File = ""
	fromDoc.Rules = nil
	require.Equal(t, defaults, fromDoc)
}
