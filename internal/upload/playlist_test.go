package upload

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/record/hls"
	"github.com/liverec/liverec/internal/recording"
)

// TestLivePlaylistFollowsStoredSlices: after each stored slice the bucket holds a live playlist
// at the provisional key (end-time variables as "live") that lists exactly the stored slices;
// the final playlist lands at its templated key and the live one goes.
func TestLivePlaylistFollowsStoredSlices(t *testing.T) {
	root, spool := t.TempDir(), t.TempDir()
	local := &blob.Local{Root: root}
	stored := make(chan Stored, 16)
	f := New(Config{Storage: func(string) (ObjectStore, error) { return local, nil }, OnStored: func(s Stored) { stored <- s }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	cfg := recording.FormatConfig{Format: recording.FormatHLS, ObjectTemplate: "{AppName}/{StreamName}_{EscapedStartTime}_{EscapedEndTime}",
		SliceTemplate: "{AppName}/ts/{Sequence}"}
	storage := recording.Storage{Endpoint: "local", Bucket: "b"}
	vars := NameVars{App: "live", Stream: "s", Format: "hls", Start: start}
	dir := filepath.Join(spool, "hls", "0_0")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	liveKey := "live/s_2026-11-21-10-00-00_live.m3u8"
	var slices []hls.Slice
	for i := range 3 {
		s := hls.Slice{Seq: i, Path: filepath.Join(dir, strconv.Itoa(i)+".ts"), Duration: 4 * time.Second,
			Start: time.Duration(i) * 4 * time.Second, Discontinuity: i == 2}
		require.NoError(t, os.WriteFile(s.Path, []byte("slice "+strconv.Itoa(i)), 0o644))
		slices = append(slices, s)
		v := vars
		v.Sequence, v.Start, v.End = i, start.Add(s.Start), start.Add(s.Start+s.Duration)
		f.Enqueue(&Job{Kind: JobSlice, RecordingID: "rec_l", Format: recording.FormatHLS, Seq: i, SpoolPath: s.Path,
			Config: cfg, Storage: storage, Vars: v, Slice: s, PlaylistVars: vars})
		<-stored
		b, err := os.ReadFile(filepath.Join(root, "b", liveKey))
		require.NoError(t, err)
		live := string(b)
		require.Equal(t, i+1, strings.Count(live, "#EXTINF:"), live)
		require.NotContains(t, live, "#EXT-X-ENDLIST")
		require.Contains(t, live, "\n#EXT-X-PLAYLIST-TYPE:EVENT\n", "a live playlist only grows")
		require.Equal(t, []LivePlaylist{{Format: recording.FormatHLS, Endpoint: "local", Bucket: "b", Key: liveKey}},
			f.LivePlaylists("rec_l"))
		require.Empty(t, f.LivePlaylists("rec_other"))
		require.Contains(t, live, "ts/"+strconv.Itoa(i)+".ts")
		require.FileExists(t, filepath.Join(root, "b", "live", "ts", strconv.Itoa(i)+".ts"))
	}
	end := vars
	end.End = start.Add(12 * time.Second)
	f.Enqueue(&Job{Kind: JobPlaylist, RecordingID: "rec_l", Format: recording.FormatHLS, Seq: 0, SpoolPath: dir,
		Config: cfg, Storage: storage, Vars: end, Slices: slices})
	s := <-stored
	require.Equal(t, "live/s_2026-11-21-10-00-00_2026-11-21-10-00-12.m3u8", s.ObjectKey)
	b, err := os.ReadFile(filepath.Join(root, "b", s.ObjectKey))
	require.NoError(t, err)
	require.Equal(t, 3, strings.Count(string(b), "#EXTINF:"))
	require.Equal(t, 1, strings.Count(string(b), "#EXT-X-DISCONTINUITY"))
	require.True(t, strings.HasSuffix(string(b), "#EXT-X-ENDLIST\n"))
	require.Contains(t, string(b), "\n#EXT-X-PLAYLIST-TYPE:VOD\n")
	require.NotContains(t, string(b), "EVENT")
	require.NoFileExists(t, filepath.Join(root, "b", liveKey), "the live playlist goes once the final one is stored")
	require.Empty(t, f.LivePlaylists("rec_l"), "no live playlist once the final one is stored")
	require.NoDirExists(t, dir, "the spool's playlist dir goes too")
}

// countingStore counts live playlist rewrites.
type countingStore struct {
	ObjectStore
	replaces atomic.Int32
}

func (c *countingStore) Replace(ctx context.Context, bucket, key string, data []byte) error {
	c.replaces.Add(1)
	return c.ObjectStore.Replace(ctx, bucket, key, data)
}

// TestQueuedSlicesRewriteTheLivePlaylistOnce: slices that queued up (after an outage) are
// stored one by one, but the live playlist is rewritten only by the last one queued — here not
// at all, since the final playlist is queued behind them.
func TestQueuedSlicesRewriteTheLivePlaylistOnce(t *testing.T) {
	t.Parallel()
	root, spool := t.TempDir(), t.TempDir()
	st := &countingStore{ObjectStore: &blob.Local{Root: root}}
	f := New(Config{Storage: func(string) (ObjectStore, error) { return st, nil }})
	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	cfg := recording.FormatConfig{Format: recording.FormatHLS, ObjectTemplate: "{AppName}/{StreamName}",
		SliceTemplate: "{AppName}/ts/{Sequence}"}
	storage := recording.Storage{Endpoint: "local", Bucket: "b"}
	vars := NameVars{App: "live", Stream: "s", Format: "hls", Start: start}
	dir := filepath.Join(spool, "hls", "0_0")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	var slices []hls.Slice
	enqueueSlice := func(i int) {
		s := hls.Slice{Seq: i, Path: filepath.Join(dir, strconv.Itoa(i)+".ts"), Duration: 2 * time.Second,
			Start: time.Duration(i) * 2 * time.Second}
		require.NoError(t, os.WriteFile(s.Path, []byte("slice "+strconv.Itoa(i)), 0o644))
		slices = append(slices, s)
		v := vars
		v.Sequence, v.Start, v.End = i, start.Add(s.Start), start.Add(s.Start+s.Duration)
		f.Enqueue(&Job{Kind: JobSlice, RecordingID: "rec_q", Format: recording.FormatHLS, Seq: i, SpoolPath: s.Path,
			Config: cfg, Storage: storage, Vars: v, Slice: s, PlaylistVars: vars})
	}
	for i := range 5 {
		enqueueSlice(i) // queued before the Uploader runs: an outage's backlog
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	require.NoError(t, f.Drain(ctx))
	require.Equal(t, int32(1), st.replaces.Load(), "only the last queued slice rewrites the live playlist")
	b, err := os.ReadFile(filepath.Join(root, "b", "live", "s.m3u8"))
	require.NoError(t, err)
	require.Equal(t, 5, strings.Count(string(b), "#EXTINF:"), "and it lists every stored slice")

	enqueueSlice(5)
	f.Enqueue(&Job{Kind: JobPlaylist, RecordingID: "rec_q", Format: recording.FormatHLS, Seq: 0, SpoolPath: dir,
		Config: cfg, Storage: storage, Vars: vars, Slices: slices})
	require.NoError(t, f.Drain(ctx))
	b, err = os.ReadFile(filepath.Join(root, "b", "live", "s.m3u8"))
	require.NoError(t, err)
	require.Equal(t, 6, strings.Count(string(b), "#EXTINF:"), "the final playlist lists all six")
	// Slice 5 rewrites it unless the playlist was queued before a worker took it; the final
	// playlist replaces it.
	require.Contains(t, []int32{2, 3}, st.replaces.Load())
}

// TestLivePlaylistsNewestFirst: a recording with two HLS files in progress (new video
// parameters) lists both, the newest first; a live playlist whose rewrite failed is not
// listed; LivePlaylists is safe while slices are stored.
func TestLivePlaylistsNewestFirst(t *testing.T) {
	t.Parallel()
	root, spool := t.TempDir(), t.TempDir()
	local := &blob.Local{Root: root}
	failing := &failingReplace{ObjectStore: local}
	f := New(Config{Storage: func(name string) (ObjectStore, error) {
		if name == "broken" {
			return failing, nil
		}
		return local, nil
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	stop := make(chan struct{})
	readerDone := make(chan struct{})
	go func() { // concurrent reads, for the race detector
		defer close(readerDone)
		for {
			select {
			case <-stop:
				return
			default:
				f.LivePlaylists("rec_n")
			}
		}
	}()

	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	cfg := recording.FormatConfig{Format: recording.FormatHLS, ObjectTemplate: "{AppName}/{StreamName}_{Sequence}_{EscapedEndTime}",
		SliceTemplate: "{AppName}/ts/{Sequence}_{UnixTimestamp}"}
	enqueue := func(rec, endpoint string, playlist, i int) {
		dir := filepath.Join(spool, rec, strconv.Itoa(playlist))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		s := hls.Slice{Seq: i, Path: filepath.Join(dir, strconv.Itoa(i)+".ts"), Duration: 2 * time.Second}
		require.NoError(t, os.WriteFile(s.Path, []byte("slice"), 0o644))
		pv := NameVars{App: "live", Stream: rec, Format: "hls", Start: start, Sequence: playlist}
		v := pv
		v.Sequence, v.Start = i, start.Add(time.Duration(i)*time.Second)
		f.Enqueue(&Job{Kind: JobSlice, RecordingID: rec, Format: recording.FormatHLS, Seq: i, PlaylistSeq: playlist,
			SpoolPath: s.Path, Config: cfg, Storage: recording.Storage{Endpoint: endpoint, Bucket: "b"}, Vars: v, Slice: s,
			PlaylistVars: pv})
	}
	enqueue("rec_n", "local", 0, 0)
	enqueue("rec_n", "local", 1, 1)
	enqueue("rec_b", "broken", 0, 0)
	require.NoError(t, f.Drain(ctx))
	close(stop)
	<-readerDone
	require.Equal(t, []LivePlaylist{
		{Format: recording.FormatHLS, Endpoint: "local", Bucket: "b", Key: "live/rec_n_1_live.m3u8"},
		{Format: recording.FormatHLS, Endpoint: "local", Bucket: "b", Key: "live/rec_n_0_live.m3u8"},
	}, f.LivePlaylists("rec_n"))
	require.FileExists(t, filepath.Join(root, "b", "live", "rec_n_1_live.m3u8"))
	require.Positive(t, failing.calls.Load())
	require.Empty(t, f.LivePlaylists("rec_b"), "a live playlist that could not be written is not listed")
}

// failingReplace refuses every Replace (a live playlist that cannot be written).
type failingReplace struct {
	ObjectStore
	calls atomic.Int32
}

func (s *failingReplace) Replace(context.Context, string, string, []byte) error {
	s.calls.Add(1)
	return os.ErrPermission
}
