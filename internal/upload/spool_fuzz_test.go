package upload

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
)

// FuzzReadManifest feeds arbitrary recording.json files, as a crash or a bad disk may leave
// them, to the recovery's manifest reader: what reads back re-encodes to a manifest that reads
// back the same (decode(encode(v)) == v), a manifest is refused when its JSON does not end
// within maxManifestSize, and the recovery jobs of a manifest whose stream key and rule are
// valid name objects inside the rule's base path.
func FuzzReadManifest(f *testing.F) {
	rule := recording.DefaultRule()
	rule.Project = "p"
	rule.Storage.BasePath = "base/dir"
	for _, m := range []Manifest{
		{RecordingID: "rec_1", Key: stream.Key{Domain: "a.com", App: "live", Stream: "s"}, Rule: rule,
			Start: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)},
		{RecordingID: "rec_2"},
	} {
		b, err := json.Marshal(m)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(`{"recording_id":"x","rule":{"formats":[{"format":"flv","object_template":"{AppName}/../x"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, ManifestName), data, 0o644))
		m, err := readManifest(dir)
		if err != nil {
			return
		}
		// The first JSON value ends within the limit.
		dec := json.NewDecoder(bytes.NewReader(data))
		var raw json.RawMessage
		require.NoError(t, dec.Decode(&raw))
		require.LessOrEqual(t, dec.InputOffset(), int64(maxManifestSize))

		enc, err := json.Marshal(m)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, ManifestName), enc, 0o644))
		again, err := readManifest(dir)
		require.NoError(t, err, "%s", enc)
		enc2, err := json.Marshal(again)
		require.NoError(t, err)
		require.Equal(t, string(enc), string(enc2))

		r := m.Rule
		r.Normalize()
		if r.Validate() != nil || !validKey(m.Key) || !validName(m.RecordingID) {
			return
		}
		spool := t.TempDir()
		for _, p := range []string{"flv/3_1700000000000.flv", "mp4/3_1700000000000.fmp4", "hls/3_1700000000000/index.m3u8"} {
			p = filepath.Join(spool, m.RecordingID, p)
			require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
			require.NoError(t, os.WriteFile(p, nil, 0o644))
		}
		m.Rule = r
		jobs, err := RecoveryJobs(spool, m)
		require.NoError(t, err)
		require.Len(t, jobs, len(r.Formats))
		for _, j := range jobs {
			requireInside(t, r.Storage.BasePath, objectKey(j.Storage, j.Config.ObjectTemplate, j.Vars, Extension(string(j.Format))))
			if j.Config.SliceTemplate != "" {
				requireInside(t, r.Storage.BasePath, objectKey(j.Storage, j.Config.SliceTemplate, j.Vars, ".ts"))
			}
		}
	})
}

// validName is ingest's name rule: 1–128 of A–Z a–z 0–9 . _ ~ -, not ".", no "..".
func validName(s string) bool {
	if s == "" || len(s) > 128 || s == "." || strings.Contains(s, "..") {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._~-", c) >= 0) {
			return false
		}
	}
	return true
}

// validKey is ingest's stream key rule: valid names and a lower-case domain that may hold ':'.
func validKey(k stream.Key) bool {
	return validName(strings.ReplaceAll(k.Domain, ":", "_")) && strings.ToLower(k.Domain) == k.Domain &&
		validName(k.App) && validName(k.Stream)
}

// requireInside checks an object key the way every store needs it: relative, clean, without
// "." or ".." segments and under the base path.
func requireInside(t *testing.T, base, key string) {
	t.Helper()
	require.NotEmpty(t, key)
	require.False(t, strings.HasPrefix(key, "/"), "key %q starts with /", key)
	require.Equal(t, path.Clean(key), key, "key %q is not clean", key)
	for _, seg := range strings.Split(key, "/") {
		require.NotContains(t, []string{".", ".."}, seg, "key %q", key)
	}
	if base != "" { // a valid base path may hold "a//b", which names the same prefix as "a/b"
		require.True(t, strings.HasPrefix(key, path.Clean(base)+"/"), "key %q outside base %q", key, base)
	}
}

// FuzzObjectKey renders object and slice templates that rule validation accepts, with names
// ingest accepts and any times and sequence numbers: every key stays a clean relative key
// inside the rule's base path (no "..", no leading "/", no empty segment).
func FuzzObjectKey(f *testing.F) {
	f.Add("record/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}", "", "a.com", "live", "s", 0, int64(1700000000), uint32(600))
	f.Add("Record/{publish_domain}/{app}/{record_type}/{record_format}/{stream}_{file_start_time}/{file_start_time}",
		"/base/", "a.com", "live", "s", 3, int64(-62135596800), uint32(0))
	f.Add("{file_start_time_unix}_{file_end_time_unix}_{ts_sequence_number}", "b", "::1", "l", "s", -1, int64(253402300799), uint32(1))
	f.Add("//{AppName}/.{StreamName}/", "", "a.com", "a.", ".b", 7, int64(0), uint32(5))
	f.Fuzz(func(t *testing.T, tmpl, base, domain, app, str string, seq int, start int64, dur uint32) {
		r := recording.Rule{Project: "p", Domain: "*", App: "*", Formats: []recording.FormatConfig{
			{Format: recording.FormatHLS, CycleS: 3600, SliceS: 10, ObjectTemplate: tmpl, SliceTemplate: tmpl}},
			Storage: recording.Storage{BasePath: base}}
		r.Normalize()
		k := stream.Key{Domain: domain, App: app, Stream: str}
		if r.Validate() != nil || !validKey(k) {
			return
		}
		st := time.Unix(start, 0)
		v := NameVars{Domain: k.Domain, App: k.App, Stream: k.Stream, Format: "hls", RecordType: RecordType(r.Mode),
			Sequence: seq, Start: st, End: st.Add(time.Duration(dur) * time.Second)}
		for _, end := range []time.Time{v.End, {}} { // {}: the live playlist
			v.End = end
			for _, ext := range []string{".m3u8", ".ts"} {
				requireInside(t, r.Storage.BasePath, objectKey(r.Storage, tmpl, v, ext))
			}
		}
	})
}

// FuzzReadJournal feeds arbitrary slice journals followed by the lines putSlice appends after a
// restart: each appended entry reads back exactly as written (decode(encode(v)) == v) whatever
// a crash or bad disk left before it (a cut line, an over-long one), and what is read are
// whole entries: non-negative numbers, keys without separators.
func FuzzReadJournal(f *testing.F) {
	f.Add([]byte("0\tlive/0.ts\t1000\t30\t43\n1\tlive/1.ts\t2000\t30\t43\n"), 2, "live/2.ts", int64(188), int64(1), int64(0))
	f.Add([]byte("0\tlive/0.ts\t10"), 1, "k", int64(0), int64(0), int64(0))
	f.Add([]byte(strings.Repeat("x", 5000)+"\n"), 9, "a/b.ts", int64(1), int64(2), int64(3))
	f.Fuzz(func(t *testing.T, before []byte, seq int, key string, n, video, audio int64) {
		got := parseJournal(bytes.NewReader(before))
		require.LessOrEqual(t, len(got), bytes.Count(before, []byte("\n")))
		for s, e := range got {
			require.GreaterOrEqual(t, s, 0)
			require.NotEmpty(t, e.key)
			require.NotContains(t, e.key, "\t")
			require.NotContains(t, e.key, "\n")
			require.GreaterOrEqual(t, min(e.stats.Bytes, e.stats.VideoFrames, e.stats.AudioFrames), int64(0))
		}

		if seq < 0 || seq == math.MaxInt || key == "" || strings.ContainsAny(key, "\t\r\n") || len(key) > 1024 || min(n, video, audio) < 0 {
			return // putSlice writes none of these: keys are clean relative object keys
		}
		want := FileStats{Bytes: n, VideoFrames: video, AudioFrames: audio}
		journal := append(bytes.Clone(before), journalLine(seq, key, want)+journalLine(seq+1, key+"_1", want)...)
		got = parseJournal(bytes.NewReader(journal))
		require.Equal(t, journalEntry{key: key, stats: want}, got[seq])
		require.Equal(t, journalEntry{key: key + "_1", stats: want}, got[seq+1])
	})
}

// TestReadJournalFile: readJournal reads the file putSlice appends to: lines of earlier
// versions (no leading newline) count, a line a crash cut does not hide the next entry, and a
// playlist without a journal has no entries.
func TestReadJournalFile(t *testing.T) {
	dir := t.TempDir()
	require.Empty(t, readJournal(dir))
	st := FileStats{Bytes: 1000, VideoFrames: 30, AudioFrames: 43}
	journal := "0\tlive/0.ts\t1000\t30\t43\n" + "1\tlive/1" + journalLine(2, "live/2.ts", st)
	require.NoError(t, os.WriteFile(filepath.Join(dir, sliceJournal), []byte(journal), 0o644))
	require.Equal(t, map[int]journalEntry{0: {"live/0.ts", st}, 2: {"live/2.ts", st}}, readJournal(dir))
}
