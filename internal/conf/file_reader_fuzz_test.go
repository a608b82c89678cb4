package conf

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// laxYAML are the mistakes yaml.v3's decoder lets pass and the config file reader refuses,
// and the reader's tighter bound on aliases.
var laxYAML = []string{
	"is not an integer",           // yaml.v3 truncates 600.5 to 600
	"a key must be a name",        // yaml.v3 skips an empty key
	"the list item is empty",      // yaml.v3 drops it
	"aliases expand to more than", // yaml.v3 allows more
	"too many errors",
}

// FuzzFileReader holds the config file reader to yaml.v3's strict decoder, whose meaning it
// keeps: a file both read gives the same Config, a file yaml.v3 refuses is refused, and a
// file only yaml.v3 reads holds one of laxYAML. Every error names the file.
func FuzzFileReader(f *testing.F) {
	f.Add([]byte("recording: {queue_len: 600.5}\nrules: [~]\n"))
	f.Fuzz(func(t *testing.T, file []byte) {
		c := flagsOnly()
		c.File = "fuzz.yaml"
		err := c.decodeFile(file)

		y := flagsOnly()
		y.File = "fuzz.yaml"
		dec := yaml.NewDecoder(bytes.NewReader(file))
		dec.KnownFields(true)
		yerr := dec.Decode(y)
		if errors.Is(yerr, io.EOF) {
			yerr = nil
		}

		switch {
		case err == nil && yerr == nil:
			require.Equal(t, y, c)
		case err == nil:
			t.Fatalf("yaml.v3 refuses what the reader reads: %v", yerr)
		default:
			for _, line := range strings.Split(err.Error(), "\n") {
				require.True(t, strings.HasPrefix(line, "config fuzz.yaml"), "%q names no file", line)
				if yerr == nil {
					require.True(t, containsAny(line, laxYAML), "the reader refuses what yaml.v3 reads: %s", line)
				}
			}
		}
	})
}

// fileReaderSeeds are config files with what a hand-written reader can get wrong: anchors,
// aliases and merges, flow style, empty values, wrong types and unknown keys.
func fileReaderSeeds(testing.TB) [][]any {
	return fuzzcorpus.One(
		[]byte(fuzzcorpus.Lines(
			"recording:",
			"  flush_interval: &quick 250ms",
			"  discovery_window: *quick",
			"  queue_len: 0x40",
			"rules:",
			"  - &base",
			"    domain: a.example.com",
			"    formats: [{format: hls, cycle_s: 60, slice_s: 4}]",
			"    storage: {endpoint: local, bucket: rec}",
			"  - <<: *base",
			"    domain: b.example.com",
			"    start_time: 2024-05-01T08:00:00Z",
			"    overwrite_when_full: yes")),
		[]byte(fuzzcorpus.Lines(
			"storage:",
			"  cors_origins: ~",
			"  endpoints:",
			"    - {name: s3a, type: s3, url: 'http://127.0.0.1:9000', aliases: ['*']}",
			"ingest:",
			"api: {claims_admin_only: on, max_conns: 10}",
			"disk: {low_free: 5%, high_free: 1073741824}",
			"log:",
			"  level: debug")),
		[]byte(fuzzcorpus.Lines(
			"storage:",
			"  spooll: /tmp",
			"  spool: [a]",
			"recording: {queue_len: 600.5, flush_interval: 5}",
			"rules:",
			"  -",
			"  - {strem: x, formats: [{cycle_s: abc}]}",
			"storage: {}")),
	)
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
