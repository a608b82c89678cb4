package upload

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
}

func TestReadSpoolSortsWhatItFinds(t *testing.T) {
	t.Parallel()
	spool := t.TempDir()
	good := "rec_00000000000000a1"
	writeFile(t, filepath.Join(spool, good, ManifestName), `{"recording_id":"`+good+`"}`)
	writeFile(t, filepath.Join(spool, "rec_00000000000000a2", ManifestName), `{"recording_id":`) // damaged
	writeFile(t, filepath.Join(spool, "rec_00000000000000a2", "flv", "0_1.flv"), "FLV")
	writeFile(t, filepath.Join(spool, "rec_00000000000000a3", "flv", "0_1.flv"), "FLV") // no manifest
	writeFile(t, filepath.Join(spool, "rec_00000000000000a4", ManifestName), `{"recording_id":"rec_00000000000000ff"}`)
	require.NoError(t, os.MkdirAll(filepath.Join(spool, "rec_00000000000000a5", "hls", "0_1"), 0o755)) // no file
	writeFile(t, filepath.Join(spool, "photos", "cat.jpg"), "JPEG")
	writeFile(t, filepath.Join(spool, "notes.txt"), "mine")
	require.NoError(t, os.MkdirAll(filepath.Join(spool, "rec_NOTHEX"), 0o755))
	writeFile(t, filepath.Join(spool, QuarantineDir, "rec_00000000000000b1-1", "x"), "old")

	c, err := ReadSpool(spool)
	require.NoError(t, err)
	require.Len(t, c.Manifests, 1)
	require.Equal(t, good, c.Manifests[0].RecordingID)
	in := func(names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = filepath.Join(spool, n)
		}
		return out
	}
	require.ElementsMatch(t, in("rec_00000000000000a2", "rec_00000000000000a3", "rec_00000000000000a4"), c.Unreadable,
		"damaged, missing and mismatched manifests over files")
	require.Equal(t, in("rec_00000000000000a5"), c.Empty)
	require.ElementsMatch(t, in("photos", "notes.txt", "rec_NOTHEX"), c.Foreign)
}

func TestQuarantineMovesTheDirWhole(t *testing.T) {
	t.Parallel()
	spool := t.TempDir()
	dir := filepath.Join(spool, "rec_00000000000000a3")
	writeFile(t, filepath.Join(dir, "flv", "0_1.flv"), "FLV")
	dst, err := Quarantine(spool, dir, time.Unix(1700000000, 0))
	require.NoError(t, err)
	require.Equal(t, filepath.Join(spool, QuarantineDir, "rec_00000000000000a3-1700000000"), dst)
	b, err := os.ReadFile(filepath.Join(dst, "flv", "0_1.flv"))
	require.NoError(t, err)
	require.Equal(t, "FLV", string(b))
	require.NoDirExists(t, dir)
	c, err := ReadSpool(spool)
	require.NoError(t, err)
	require.Equal(t, SpoolContents{}, c, "the quarantine is not read as spool")
}

func TestCheckSpoolPlacement(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	data := filepath.Join(root, "data")
	buckets := filepath.Join(data, "buckets")
	db := filepath.Join(data, "liverec.db")
	require.NoError(t, os.MkdirAll(buckets, 0o755))
	link := filepath.Join(root, "link-to-data")
	require.NoError(t, os.Symlink(data, link))
	for _, tc := range []struct {
		spool string
		ok    bool
	}{
		{filepath.Join(data, "spool"), true}, // the default
		{filepath.Join(root, "spool"), true}, // beside the data dir
		{data, false},                        // the data dir itself
		{root, false},                        // holds the data dir
		{link, false},                        // the data dir through a symlink
		{buckets, false},                     // a bucket root
		{filepath.Join(buckets, "s"), false}, // inside a bucket root
		{data + "/./", false},                // unclean spelling of the data dir
		{filepath.Join(root, "data2"), true}, // a name that only shares a prefix
		{filepath.Join(data, "bucketsX"), true},
	} {
		err := CheckSpoolPlacement(tc.spool, data, db, []string{buckets})
		if tc.ok {
			require.NoError(t, err, tc.spool)
		} else {
			require.Error(t, err, tc.spool)
			require.Contains(t, err.Error(), "storage.spool", tc.spool)
		}
	}
}
