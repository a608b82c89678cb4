package record

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil"
	"github.com/liverec/liverec/internal/upload"
)

var fixtures = filepath.Join(os.TempDir(), "liverec-test-fixtures")

// reporter is the Reporter of the tests: Resolve answers with resolve, or records with rule;
// Ended goes to ended, and the pauses and resumes are counted when paused and resumed are set.
type reporter struct {
	rule            recording.Rule
	resolve         func(StreamInfo) (*recording.Rule, error)
	ended           chan error
	paused, resumed *atomic.Int32
}

func (f *reporter) Resolve(info StreamInfo) (*recording.Rule, error) {
	if f.resolve != nil {
		return f.resolve(info)
	}
	r := f.rule
	return &r, nil
}

func (*reporter) FileStarted(FileStarted) {}

func (f *reporter) Paused() {
	if f.paused != nil {
		f.paused.Add(1)
	}
}

func (f *reporter) Resumed() {
	if f.resumed != nil {
		f.resumed.Add(1)
	}
}

func (*reporter) Failed(error) {}

func (f *reporter) Ended(err error) {
	if f.ended != nil {
		f.ended <- err
	}
}

type harness struct {
	fin    *upload.Uploader
	stored []upload.Stored
	mu     sync.Mutex
	root   string
	cancel context.CancelFunc
	done   chan struct{}
}

func newHarness(t *testing.T) *harness {
	h := &harness{root: t.TempDir(), done: make(chan struct{})}
	local := &blob.Local{Root: h.root}
	h.fin = upload.New(upload.Config{
		Storage:  func(string) (upload.ObjectStore, error) { return local, nil },
		RetryMin: 10 * time.Millisecond,
		OnStored: func(s upload.Stored) { h.mu.Lock(); h.stored = append(h.stored, s); h.mu.Unlock() },
	})
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.fin.Run(ctx); close(h.done) }()
	t.Cleanup(func() { cancel(); <-h.done })
	return h
}

// runRecorder runs a recorder of cfg until its recording ends or the test does; stop ends it
// as a shutdown does and waits for Run to return.
func runRecorder(t *testing.T, cfg Config) (r *Recorder, stop func()) {
	r = NewRecorder(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(ctx)
	}()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return r, stop
}

// record feeds units to a recorder in batches of n and waits until everything is stored.
func (h *harness) record(t *testing.T, rule recording.Rule, units []media.Unit, n int) map[recording.Format][]upload.Stored {
	t.Helper()
	ended := make(chan error, 1)
	r, _ := runRecorder(t, Config{RecordingID: "rec_test", Key: stream.Key{Domain: "d", App: "live", Stream: "s"},
		StartWall: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), SpoolDir: t.TempDir(),
		Jobs: h.fin, Reporter: &reporter{rule: rule, ended: ended}})
	for i := 0; i < len(units); i += n {
		b := stream.NewBatch()
		for j := i; j < min(i+n, len(units)); j++ {
			b.Add(&units[j])
		}
		r.WriteBatch(b)
	}
	r.End(nil)
	require.NoError(t, <-ended)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, h.fin.Drain(ctx))
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[recording.Format][]upload.Stored{}
	for _, s := range h.stored {
		if s.Job.Kind != upload.JobSlice {
			out[s.Job.Format] = append(out[s.Job.Format], s)
		}
	}
	for _, ss := range out {
		sort.Slice(ss, func(i, j int) bool { return ss[i].Job.Seq < ss[j].Job.Seq })
	}
	return out
}

func testRule(cycle, slice int) recording.Rule {
	r := recording.DefaultRule()
	for i := range r.Formats {
		r.Formats[i].CycleS = cycle
		r.Formats[i].MergeWindowS = 0
		r.Formats[i].ObjectTemplate = "{AppName}/{StreamName}/{Sequence}"
		if r.Formats[i].Format == recording.FormatHLS {
			r.Formats[i].SliceS = slice
			r.Formats[i].SliceTemplate = "{AppName}/{StreamName}/ts/{Sequence}"
		}
	}
	return r
}

// TestRecorderCutsEveryFormatOnKeyframes: 10 s at a 2 s GOP with 4 s cycles gives 4, 4 and
// 2 s files in every format, each starting with a keyframe, together holding every frame —
// even when audio older than a cut arrives after the keyframe that made it.
func TestRecorderCutsEveryFormatOnKeyframes(t *testing.T) {
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 10})
	_, units := testutil.LoadFLV(t, src)
	// Move each audio frame that precedes a keyframe (within 60 ms) after it: publishers
	// interleave loosely, and those frames still belong to the file before the cut.
	for i := 1; i < len(units); i++ {
		if units[i].Keyframe && units[i].Track.IsVideo() && !units[i-1].Track.IsVideo() &&
			units[i].DTS-units[i-1].DTS < 60*time.Millisecond {
			units[i-1], units[i] = units[i], units[i-1]
		}
	}
	wantV, wantA := testutil.CountUnits(units)
	h := newHarness(t)
	files := h.record(t, testRule(4, 2), units, 7)
	for _, f := range []recording.Format{recording.FormatFLV, recording.FormatMP4, recording.FormatHLS} {
		require.Len(t, files[f], 3, f)
		var v, a int
		for i, s := range files[f] {
			p := filepath.Join(h.root, s.Bucket, s.ObjectKey)
			pr := testutil.Probe(t, p)
			require.Empty(t, pr.Stderr, p)
			require.True(t, testutil.KeyframeFirst(t, p), p)
			require.Equal(t, []int{120, 120, 60}[i], pr.Video().Packets(), p)
			v += pr.Video().Packets()
			a += pr.Audio().Packets()
		}
		require.Equal(t, wantV, v, f)
		require.Equal(t, wantA, a, f)
	}
	require.Equal(t, "live/s/0.flv", files[recording.FormatFLV][0].ObjectKey)
	require.Equal(t, "live/s/2.m3u8", files[recording.FormatHLS][2].ObjectKey)
}

// TestRecorderQueueFullDropsWithoutBlocking: a recorder that cannot keep up drops batches
// instead of blocking ingest.
func TestRecorderQueueFullDropsWithoutBlocking(t *testing.T) {
	// The recorder is stuck deciding until every write returned: a blocking WriteBatch would
	// deadlock here.
	written := make(chan struct{})
	ended := make(chan error, 1)
	r := NewRecorder(Config{RecordingID: "rec_q", SpoolDir: t.TempDir(), QueueLen: 1, Reporter: &reporter{
		resolve: func(StreamInfo) (*recording.Rule, error) { <-written; return nil, nil }, ended: ended}})
	r.SetMetadata(2000) // a stated bitrate: the decision needs no measuring window
	runDone := make(chan struct{})
	go func() { defer close(runDone); _ = r.Run(context.Background()) }()
	video, audio := &media.Track{Codec: media.CodecH264}, &media.Track{Codec: media.CodecAAC}
	go func() {
		for i := range 100 {
			b := stream.NewBatch()
			b.Add(&media.Unit{Track: video, Keyframe: true, DTS: time.Duration(i), Data: []byte{1}})
			b.Add(&media.Unit{Track: audio, DTS: time.Duration(i), Data: []byte{1}})
			r.WriteBatch(b)
		}
		close(written)
	}()
	select {
	case <-written:
	case <-time.After(10 * time.Second):
		t.Fatal("WriteBatch blocked on a recorder that was not consuming")
	}
	r.End(nil)
	require.True(t, errors.Is(<-ended, errNotRecorded))
	<-runDone
}

// TestRecorderResolveSeesTracksAndBitrate: the decision comes once the tracks are known and
// the video bitrate was measured (no onMetaData here), and a negative decision records nothing.
func TestRecorderResolveSeesTracksAndBitrate(t *testing.T) {
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	_, units := testutil.LoadFLV(t, src)
	var sizes int64
	for _, u := range units {
		if u.Track.IsVideo() {
			sizes += int64(len(u.Data))
		}
	}
	fileKbps := float64(sizes*8) / 4 / 1000

	var got StreamInfo
	spool := t.TempDir()
	ended := make(chan error, 1)
	r, _ := runRecorder(t, Config{RecordingID: "rec_no", SpoolDir: spool, Reporter: &reporter{
		resolve: func(info StreamInfo) (*recording.Rule, error) { got = info; return nil, nil }, ended: ended}})
	for i := 0; i < len(units); i += 10 {
		b := stream.NewBatch()
		for j := i; j < min(i+10, len(units)); j++ {
			b.Add(&units[j])
		}
		r.WriteBatch(b)
	}
	r.End(nil)
	require.True(t, errors.Is(<-ended, errNotRecorded))
	require.Equal(t, 1280, got.Tracks.Video.Width)
	require.NotNil(t, got.Tracks.Audio)
	require.InDelta(t, fileKbps, float64(got.VideoKbps), fileKbps*0.35, "measured over the first 2 s")
	entries, err := os.ReadDir(spool)
	require.NoError(t, err)
	require.Empty(t, entries, "a stream that is not recorded leaves nothing in the spool")
}

// TestRecorderShortStreamIsRecorded: a publisher that leaves while its media is still held
// back for the decision (here after half a second) is recorded all the same.
func TestRecorderShortStreamIsRecorded(t *testing.T) {
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	_, units := testutil.LoadFLV(t, src)
	var short []media.Unit
	for _, u := range units {
		if u.DTS < 500*time.Millisecond {
			short = append(short, u)
		}
	}
	wantV, wantA := testutil.CountUnits(short)
	h := newHarness(t)
	files := h.record(t, testRule(0, 2), short, 5)
	require.Len(t, files[recording.FormatMP4], 1)
	pr := testutil.Probe(t, filepath.Join(h.root, files[recording.FormatMP4][0].Bucket, files[recording.FormatMP4][0].ObjectKey))
	require.Equal(t, wantV, pr.Video().Packets())
	require.Equal(t, wantA, pr.Audio().Packets())
}

func TestUntilMultipleAlignsEveryRecorderToTheSameInstants(t *testing.T) {
	for _, c := range []struct {
		now  int64 // Unix nanoseconds
		d    time.Duration
		want time.Duration
	}{
		{1_250_000_000, time.Second, 750 * time.Millisecond},
		{1_999_999_999, time.Second, time.Nanosecond},
		{2_000_000_000, time.Second, time.Second}, // on an instant: the next one, never 0
		{1_250_000_000, 200 * time.Millisecond, 150 * time.Millisecond},
	} {
		require.Equal(t, c.want, untilMultiple(time.Unix(0, c.now), c.d), "now %d, d %v", c.now, c.d)
	}
	// Recorders started at any moment wake at the same instants.
	const d = time.Second
	for start := int64(1_700_000_000_000_000_000); start < 1_700_000_000_000_000_000+3e9; start += 123_456_789 {
		at := start + int64(untilMultiple(time.Unix(0, start), d))
		require.Zero(t, at%int64(d))
		require.Greater(t, at, start)
		require.LessOrEqual(t, at-start, int64(d))
	}
}
