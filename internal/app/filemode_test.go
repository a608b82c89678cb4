package app

import (
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/conf"
	"github.com/liverec/liverec/internal/filemode"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/testutil"
)

// TestStoredFilesHaveTheFileMode records a short stream in FLV, MP4 and HLS, then makes an
// index and a clip of it: every file in the local bucket (and what is left in the spool) has
// storage.file_mode, and the folders liverec made have it plus x where it has r.
func TestStoredFilesHaveTheFileMode(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4, GOP: 30})
	for _, c := range []struct {
		name, yaml string
		want       fs.FileMode
	}{
		{"Default", "", 0o644},
		{"0640", "storage:\n  file_mode: \"0640\"\n", 0o640},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ta := startApp(t, c.yaml)
			r := cycleRule("127.0.0.1", "modes", 0, 2)
			ta.putRule(t, r)
			publishFFmpeg(t, src, ta.rtmpURL("modes/cam"))
			files := ta.waitFiles(t, "cam", 3)
			start := files[recording.FormatHLS][0].StartedAt
			rng := fmt.Sprintf(`{"domain":"127.0.0.1","app":"modes","stream":"cam","start_time":%q,"end_time":%q}`,
				start.Format(time.RFC3339Nano), start.Add(3*time.Second).Format(time.RFC3339Nano))
			for _, path := range []string{"/api/v1/indexes", "/api/v1/clips"} {
				resp := ta.apiRequest(t, http.MethodPost, path, strings.NewReader(rng))
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.Equal(t, http.StatusCreated, resp.StatusCode, "%s: %s", path, body)
			}

			got := filesOnDisk(t, ta.data)
			for _, ext := range []string{".flv", ".mp4", ".m3u8", ".ts"} {
				require.NotEmpty(t, got[ext], "stored %s files", ext)
			}
			require.Len(t, got[".mp4"], 2, "the recording's MP4 and the clip")
			require.Len(t, got[".m3u8"], 2, "the recording's playlist and the index")
			requireModes(t, filepath.Join(ta.data, "buckets"), c.want)
			requireModes(t, ta.conf.Storage.Spool, c.want)
		})
	}
}

// requireModes checks every file under root and root itself, a folder liverec made.
func requireModes(t *testing.T, root string, want fs.FileMode) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			require.Equal(t, filemode.Dir(want), fi.Mode().Perm(), "folder %s", p)
		} else {
			require.Equal(t, want, fi.Mode().Perm(), "file %s", p)
		}
		return nil
	}))
}

// configRuleYAML is a config file rule of app "cfg" storing into bucket.
func configRuleYAML(bucket string) string {
	return `rules:
  - domain: 127.0.0.1
    app: cfg
    formats: [{format: flv, cycle_s: 0, merge_window_s: 0}]
    storage: {endpoint: local, bucket: ` + bucket + `}
`
}

// TestRuleLocalBuckets: a rule naming a local bucket that does not exist creates its folder
// when it is written (through the API, or at start from the config file), ready for files; one
// whose folder cannot be made is refused then, with a reason naming the bucket and the
// endpoint. (An S3 bucket must exist: TestS3RuleForMissingBucketRefused.)
func TestRuleLocalBuckets(t *testing.T) {
	t.Parallel()
	ta := startApp(t, "storage:\n  file_mode: \"0640\"\n"+configRuleYAML("from-config"))
	root := filepath.Join(ta.data, "buckets")
	fi, err := os.Stat(filepath.Join(root, "from-config"))
	require.NoError(t, err, "the config file rule's bucket folder is made at start")
	require.Equal(t, fs.FileMode(0o750), fi.Mode().Perm())
	r := cycleRule("127.0.0.1", "fresh", 0, 2)
	r.Storage.Bucket = "fresh-bucket"
	ta.putRule(t, r)
	fi, err = os.Stat(filepath.Join(root, "fresh-bucket"))
	require.NoError(t, err, "the bucket's folder is made with the rule")
	require.True(t, fi.IsDir())
	require.Equal(t, fs.FileMode(0o750), fi.Mode().Perm())
	entries, err := os.ReadDir(filepath.Join(root, "fresh-bucket"))
	require.NoError(t, err)
	require.Empty(t, entries, "and left empty")

	require.NoError(t, os.WriteFile(filepath.Join(root, "blocked"), []byte("not a folder"), 0o644))
	body := `{"domain":"127.0.0.1","app":"blocked","stream":"*","mode":"auto",
	  "formats":[{"format":"flv","cycle_s":0,"merge_window_s":0,"object_template":"{AppName}/{StreamName}"}],
	  "storage":{"endpoint":"local","bucket":"blocked"}}`
	resp := ta.apiRequest(t, http.MethodPost, "/api/v1/rules", strings.NewReader(body))
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, string(b))
	for _, want := range []string{"storage.bucket", `bucket \"blocked\" on local storage endpoint \"local\" cannot be used`,
		"exists and is not a folder"} {
		require.Contains(t, string(b), want)
	}
}

// TestConfigRuleLocalBucketInTheWay: a config file rule whose local bucket folder cannot be
// made stops the start with the reason.
func TestConfigRuleLocalBucketInTheWay(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(data, "buckets"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(data, "buckets", "taken"), nil, 0o644))
	p := filepath.Join(t.TempDir(), "liverec.yaml")
	require.NoError(t, os.WriteFile(p, []byte(configRuleYAML("taken")), 0o644))
	c, err := conf.Load([]string{"--data", data, "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0", "--config", p},
		func(k string) string { return testEnv[k] })
	require.NoError(t, err)
	_, err = New(t.Context(), c, slog.New(slog.NewTextHandler(testWriter{t}, nil)), io.Discard)
	require.ErrorContains(t, err, `config rule 0: bucket "taken" on local storage endpoint "local" cannot be used`)
	require.ErrorContains(t, err, "exists and is not a folder")
}
