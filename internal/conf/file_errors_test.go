package conf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// loadFile writes lines as a config file and loads it; it returns the file's path too.
func loadFile(t *testing.T, lines ...string) (*Config, string, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "liverec.yaml")
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	c, err := Load([]string{"--config", p}, env(nil))
	return c, p, err
}

// TestFileErrorsNameFileLineAndKey is the acceptance test: a bad duration, an unknown key and
// a wrong type each name the file, the line and column, and the key as the file writes it.
func TestFileErrorsNameFileLineAndKey(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		want  string // after "config PATH "
	}{
		{"duration without a unit", []string{
			"storage:",
			"  spool: /tmp/spool",
			"recording:",
			"  queue_len: 64",
			"  flush_interval: 5",
		}, `line 5 column 19: recording.flush_interval: "5" is not a duration (use a unit: 5s, 500ms, 2m)`},
		{"duration that is no number", []string{
			"callbacks: {retry_max: soon}",
		}, `line 1 column 24: callbacks.retry_max: "soon" is not a duration (such as 5s, 500ms, 2m)`},
		{"duration given a list", []string{
			"ingest:",
			"  idle_timeout: [1s]",
		}, `line 2 column 17: ingest.idle_timeout: is a list, not a duration such as 5s, 500ms, 2m`},
		{"unknown nested key", []string{
			"log: {level: info}",
			"storage:",
			"  spooll: /tmp/spool",
		}, `line 3 column 3: storage.spooll: unknown key, did you mean spool? (known keys under storage: spool, endpoints, upload_bandwidth,`},
		{"unknown top-level key", []string{
			"storage: {}",
			"ingset:",
			"  max_conns: 5",
		}, `line 2 column 1: ingset: unknown key, did you mean ingest? (known top-level keys: storage, ingest, recording,`},
		{"unknown key far from any", []string{
			"recording:",
			"  colour: blue",
		}, `line 2 column 3: recording.colour: unknown key (known keys under recording: flush_interval,`},
		{"unknown key in a rule", []string{
			"rules:",
			"  - domain: push.example.com",
			"    strem: cam1",
		}, `line 3 column 5: rules[0].strem: unknown key, did you mean stream? (known keys under rules[0]: id, project,`},
		{"unknown key in a rule's format", []string{
			"rules:",
			"  - domain: push.example.com",
			"    formats:",
			"      - {format: mp4, cycle: 600}",
		}, `line 4 column 23: rules[0].formats[0].cycle: unknown key, did you mean cycle_s? (known keys under rules[0].formats[0]: format, cycle_s,`},
		{"string for an integer", []string{
			"rules:",
			"  - domain: push.example.com",
			"    formats:",
			"      - format: hls",
			"        cycle_s: 600",
			"        merge_window_s: abc",
		}, `line 6 column 25: rules[0].formats[0].merge_window_s: "abc" is not an integer`},
		{"a fraction for an integer", []string{
			"recording:",
			"  queue_len: 600.5",
		}, `line 2 column 14: recording.queue_len: "600.5" is not an integer`},
		{"a list for a string", []string{
			"storage:",
			"  endpoints:",
			"    - name: [a, b]",
		}, `line 3 column 13: storage.endpoints[0].name: is a list, not a string`},
		{"a mapping for a list", []string{
			"storage:",
			"  cors_origins: {origin: x}",
		}, `line 2 column 17: storage.cors_origins: is a mapping, not a list`},
		{"a string for a section", []string{
			"storage: /tmp",
		}, `line 1 column 10: storage: "/tmp" is not a mapping of keys (spool, endpoints,`},
		{"not a boolean", []string{
			"api:",
			"  claims_admin_only: maybe",
		}, `line 2 column 22: api.claims_admin_only: "maybe" is not true or false`},
		{"an integer too large", []string{
			"ingest:",
			"  max_conns: 99999999999999999999999",
		}, `line 2 column 14: ingest.max_conns: "99999999999999999999999" is out of range`},
		{"not a time", []string{
			"rules:",
			"  - domain: push.example.com",
			"    mode: plan",
			"    start_time: tomorrow",
		}, `line 4 column 17: rules[0].start_time: "tomorrow" is not a time such as 2024-05-01T08:00:00Z`},
		{"a free space that is neither", []string{
			"disk:",
			"  low_free: lots",
		}, `line 2 column 13: disk.low_free: "lots" is not a byte count or a percentage such as "10%"`},
		{"a key written twice", []string{
			"storage:",
			"  spool: /a",
			"  spool: /b",
		}, `line 3 column 3: storage.spool: is written twice (first at line 2)`},
		{"the file is a list", []string{
			"- storage",
		}, `line 1 column 1: the file must be a mapping of keys (storage, ingest,`},
		{"YAML syntax", []string{
			"storage:",
			"  spool: /tmp",
			" endpoints: []",
		}, `line 2: did not find expected key`}, // yaml.v3 names the line before the problem
		{"tab indentation", []string{
			"storage:",
			"\tspool: /tmp",
		}, `line 2: found character that cannot start any token`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, path, err := loadFile(t, tc.lines...)
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), "config "+path+" "+tc.want), "got:  %v\nwant: config %s %s…", err, path, tc.want)
		})
	}
}

// TestFileErrorsAllReported: one start shows every bad key of the file, not the first only.
func TestFileErrorsAllReported(t *testing.T) {
	_, path, err := loadFile(t,
		"storage:",
		"  spooll: /tmp",
		"ingest:",
		"  idle_timeout: 5",
		"recording: {queue_len: x}")
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 3, err.Error())
	require.True(t, strings.HasPrefix(lines[0], "config "+path+" line 2 column 3: storage.spooll: unknown key"), lines[0])
	require.True(t, strings.HasPrefix(lines[1], "config "+path+" line 4 column 17: ingest.idle_timeout: \"5\""), lines[1])
	require.True(t, strings.HasPrefix(lines[2], "config "+path+" line 5 column 24: recording.queue_len: \"x\""), lines[2])

	var many []string
	for i := range 30 {
		many = append(many, "k"+strings.Repeat("x", i)+": 1")
	}
	_, _, err = loadFile(t, many...)
	require.ErrorContains(t, err, "too many errors")
	require.Len(t, strings.Split(err.Error(), "\n"), maxFileErrors+1)
}

// TestValidateErrorsNameTheLine: Validate's errors about keys written in the file get the
// file and line; a key the file leaves out gets its nearest written parent's; errors about
// flags and environment variables name no file.
func TestValidateErrorsNameTheLine(t *testing.T) {
	_, path, err := loadFile(t,
		"storage:",
		"  part_size: 1024",
		"  endpoints:",
		"    - name: store1",
		"      type: s3",
		"      url: http://127.0.0.1:9000",
		"log:",
		"  level: loud",
		"rules:",
		"  - domain: push.example.com",
		"    app: live",
		"    formats:",
		"      - format: mp4",
		"        cycle_s: 1")
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 4, err.Error())
	for i, want := range []string{ // in the file's order
		"config " + path + " line 2 column 3: 'storage.part_size' must be at least 5 MiB",
		"config " + path + " line 4 column 7: 'storage.endpoints[0].access_key' and secret_key are required",
		"config " + path + " line 8 column 3: 'log.level' must be debug, info, warn or error",
		"config " + path + " line 14 column 9: 'rules[0].formats[0].cycle_s' must be 5–43200 or 0",
	} {
		require.True(t, strings.HasPrefix(lines[i], want), "got:  %s\nwant: %s…", lines[i], want)
	}
	var ke *keyError
	require.True(t, errors.As(err, &ke), "the key stays readable: %v", err)

	p := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(p, []byte("log: {level: debug}\n"), 0o644))
	_, err = Load([]string{"--config", p, "--shutdown-timeout", "0s"}, env(nil))
	require.EqualError(t, err, "'shutdown-timeout' must be greater than zero")
}

// TestFileMergesAndAliases: YAML anchors, aliases and merge keys read as yaml.v3 reads them,
// an explicit key winning over a merged one; their errors still name the key.
func TestFileMergesAndAliases(t *testing.T) {
	c, _, err := loadFile(t,
		"recording:",
		"  flush_interval: &quick 250ms",
		"  discovery_window: *quick",
		"rules:",
		"  - &base",
		"    domain: a.example.com",
		"    app: live",
		"    formats: [{format: flv, cycle_s: 60}]",
		"  - <<: *base",
		"    domain: b.example.com")
	require.NoError(t, err)
	require.Equal(t, 250*time.Millisecond, c.Recording.DiscoveryWindow.D())
	require.Len(t, c.Rules, 2)
	require.Equal(t, "b.example.com", c.Rules[1].Domain)
	require.Equal(t, "live", c.Rules[1].App)
	require.Equal(t, 60, c.Rules[1].Formats[0].CycleS)

	_, path, err := loadFile(t,
		"base: &b {app: live, strem: x}",
		"rules:",
		"  - <<: *b",
		"    domain: b.example.com")
	require.ErrorContains(t, err, "config "+path+" line 1 column 1: base: unknown key")
	require.ErrorContains(t, err, "config "+path+" line 1 column 22: rules[0].strem: unknown key, did you mean stream?")

	_, path, err = loadFile(t,
		"storage: &s",
		"  spool: /tmp/spool",
		"  <<: *s")
	require.ErrorContains(t, err, "config "+path+" line 3 column 7: storage: alias *s is inside its own anchor")
}

// TestFileAliasBomb: aliases that multiply a small file into a huge tree are refused, fast.
func TestFileAliasBomb(t *testing.T) {
	lines := []string{"f0: &f0 {format: flv, cycle_s: 60}"}
	refs := strings.Repeat("*f0, ", 400)
	lines = append(lines, "r0: &r0 {domain: a.example.com, formats: ["+refs+"*f0]}")
	lines = append(lines, "rules: ["+strings.Repeat("*r0, ", 400)+"*r0]")
	c := flagsOnly()
	err := c.decodeFile([]byte(strings.Join(lines, "\n")))
	require.ErrorContains(t, err, "aliases expand to more than")
}

// TestFileNullsKeepDefaults: a key with nothing after it reads as yaml.v3 reads it: sections
// and values keep what they had, lists become empty.
func TestFileNullsKeepDefaults(t *testing.T) {
	c, _, err := loadFile(t,
		"storage:",
		"ingest:",
		"  idle_timeout:",
		"  max_conns: ~",
		"recording:",
		"  time_zone:",
		"rules:")
	require.NoError(t, err)
	defaults, err := Load(nil, env(nil))
	require.NoError(t, err)
	c.File = ""
	require.Equal(t, defaults, c)
}

func TestNearestKey(t *testing.T) {
	known := []string{"spool", "endpoints", "part_size", "link_expiry"}
	for key, want := range map[string]string{
		"spooll": "spool", "Spool": "spool", "endpoint": "endpoints", "partsize": "part_size",
		"link-expiry": "link_expiry", "colour": "", "s": "", "": "",
	} {
		require.Equal(t, want, nearest(key, known), key)
	}
	require.Equal(t, 3, editDistance("kitten", "sitting"))
	require.Equal(t, 0, editDistance("", ""))
	require.Equal(t, 4, editDistance("", "abcd"))
}
