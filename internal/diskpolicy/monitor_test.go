package diskpolicy

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// disks is a fake filesystem: free space per path, changed by the test and by deletions.
type disks struct {
	mu    sync.Mutex
	space map[string]Space
	fail  error
}

func (d *disks) free(path string) (Space, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return Space{}, d.fail
	}
	return d.space[path], nil
}

func (d *disks) set(path string, free int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.space[path]
	s.Free = free
	d.space[path] = s
}

// reclaimer is a fake Reclaimer over stored files per endpoint; deleting one frees its bytes
// on the endpoint's path.
type reclaimer struct {
	d       *disks
	paths   map[string]string // endpoint → path
	mu      sync.Mutex
	files   map[string][]recording.File
	deleted []recording.File
	reasons []string
	listErr error
}

func (r *reclaimer) OldestOverwritable(_ context.Context, endpoint string, limit int) ([]store.DueFile, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.listErr != nil {
		return nil, r.listErr
	}
	fs := slices.Clone(r.files[endpoint])
	slices.SortFunc(fs, func(a, b recording.File) int { return a.StartedAt.Compare(b.StartedAt) })
	var due []store.DueFile
	for _, f := range fs[:min(limit, len(fs))] {
		due = append(due, store.DueFile{File: f})
	}
	return due, nil
}

func (r *reclaimer) Delete(_ context.Context, files []store.DueFile, reason string) (int, int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int
	var bytes int64
	for _, d := range files {
		f := d.File
		i := slices.IndexFunc(r.files[f.Endpoint], func(g recording.File) bool { return g.ID == f.ID })
		if i < 0 {
			continue
		}
		r.files[f.Endpoint] = slices.Delete(r.files[f.Endpoint], i, i+1)
		r.deleted = append(r.deleted, f)
		r.reasons = append(r.reasons, reason)
		p := r.paths[f.Endpoint]
		s, _ := r.d.free(p)
		r.d.set(p, s.Free+f.Bytes)
		n++
		bytes += f.Bytes
	}
	return n, bytes, nil
}

func (r *reclaimer) deletedIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, f := range r.deleted {
		ids = append(ids, f.ID)
	}
	return ids
}

// warnings counts the warnings logged.
type warnings struct {
	slog.Handler
	n *atomic.Int64
}

func (w warnings) Handle(_ context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn {
		w.n.Add(1)
	}
	return nil
}
func (w warnings) Enabled(context.Context, slog.Level) bool { return true }
func (w warnings) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w warnings) WithGroup(string) slog.Handler            { return w }

type fixture struct {
	m     *Monitor
	d     *disks
	r     *reclaimer
	warns *atomic.Int64
	met   *Metrics
}

// newFixture watches a spool volume /data (1000 bytes, plenty free) and an endpoint volume
// /cams (1000 bytes) holding endpoint "cams", with marks high 10% (100 bytes), low 5% (50).
func newFixture(t *testing.T, withReclaimer bool) *fixture {
	t.Helper()
	d := &disks{space: map[string]Space{"/data": {Free: 900, Total: 1000}, "/cams": {Free: 900, Total: 1000}}}
	r := &reclaimer{d: d, paths: map[string]string{"cams": "/cams"}, files: map[string][]recording.File{}}
	warns := &atomic.Int64{}
	met := NewMetrics(prometheus.NewRegistry())
	cfg := Config{
		Volumes: []Volume{{Name: "data", Path: "/data", Spool: true},
			{Name: "endpoint:cams", Path: "/cams", Endpoints: []string{"cams"}}},
		High: Mark{Percent: 10}, Low: Mark{Percent: 5}, Interval: time.Hour, Free: d.free, Batch: 2,
		Logger: slog.New(warnings{Handler: slog.DiscardHandler, n: warns}), Metrics: met,
	}
	if withReclaimer {
		cfg.Reclaimer = r
	}
	m, err := New(cfg)
	require.NoError(t, err)
	return &fixture{m: m, d: d, r: r, warns: warns, met: met}
}

// addFiles stores files of 20 bytes on cams, file i started i minutes after t0, listed in a
// shuffled order.
func (f *fixture) addFiles(n int) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, i := range []int{3, 0, 4, 1, 2, 5, 6, 7, 8, 9} {
		if i >= n {
			continue
		}
		f.r.files["cams"] = append(f.r.files["cams"], recording.File{ID: "f" + string(rune('0'+i)),
			Endpoint: "cams", Bytes: 20, StartedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
}

func (f *fixture) status(name string) Status {
	for _, s := range f.m.Status() {
		if s.Volume == name {
			return s
		}
	}
	panic("no volume " + name)
}

func TestWarnsOnceBelowHighAndRecovers(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	f.m.Check(ctx)
	require.Zero(t, f.warns.Load())
	require.Equal(t, "ok", f.status("endpoint:cams").Detail(f.m.Marks()))
	require.Equal(t, 900.0, testutil.ToFloat64(f.met.freeBytes.WithLabelValues("endpoint:cams")))

	f.d.set("/cams", 80) // below high (100), above low (50)
	for range 3 {
		f.m.Check(ctx)
	}
	require.Equal(t, int64(1), f.warns.Load(), "one warning per crossing, not per check")
	s := f.status("endpoint:cams")
	require.True(t, s.BelowHigh)
	require.False(t, s.Refusing)
	require.Contains(t, s.Detail(f.m.Marks()), "warning: 80 B free, below disk.high_free (10%)")
	require.Equal(t, 1.0, testutil.ToFloat64(f.met.low.WithLabelValues("endpoint:cams")))
	require.Equal(t, 80.0, testutil.ToFloat64(f.met.freeBytes.WithLabelValues("endpoint:cams")))
	require.NoError(t, f.m.Refuse("cams"), "below the high mark only warns")

	f.d.set("/cams", 150)
	f.m.Check(ctx)
	require.Equal(t, 0.0, testutil.ToFloat64(f.met.low.WithLabelValues("endpoint:cams")))
	f.d.set("/cams", 90)
	f.m.Check(ctx)
	require.Equal(t, int64(2), f.warns.Load(), "a new crossing warns again")
}

func TestReclaimsOldestUntilAboveHigh(t *testing.T) {
	f := newFixture(t, true)
	f.addFiles(6)
	f.d.set("/cams", 40) // below low (50): 60 bytes missing to the high mark (100)
	f.m.Check(context.Background())
	require.Equal(t, []string{"f0", "f1", "f2"}, f.r.deletedIDs(), "the oldest go first, only as many as needed")
	require.Equal(t, []string{recording.DeleteDiskFull, recording.DeleteDiskFull, recording.DeleteDiskFull}, f.r.reasons)
	s := f.status("endpoint:cams")
	require.Equal(t, int64(100), s.Space.Free)
	require.False(t, s.Refusing)
	require.False(t, s.BelowHigh)
	require.NoError(t, f.m.Refuse("cams"))
	require.Len(t, f.r.files["cams"], 3, "files beyond the need are kept")
}

func TestBetweenMarksDeletesNothing(t *testing.T) {
	f := newFixture(t, true)
	f.addFiles(3)
	f.d.set("/cams", 60) // below high, above low
	f.m.Check(context.Background())
	require.Empty(t, f.r.deletedIDs(), "deleting starts below the low mark")
}

func TestRefusesWithNothingToDeleteAndRecoversAboveHigh(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	f.d.set("/cams", 40)
	f.m.Check(ctx)
	err := f.m.Refuse("cams")
	require.ErrorContains(t, err, "disk full: volume endpoint:cams (/cams) has 40 bytes free, below disk.low_free (5%)")
	require.NoError(t, f.m.Refuse("other"), "a volume refuses only the recordings it stores")
	require.Equal(t, 1.0, testutil.ToFloat64(f.met.refusing.WithLabelValues("endpoint:cams")))
	require.Contains(t, f.status("endpoint:cams").Detail(f.m.Marks()), "new recordings on it are refused")

	f.d.set("/cams", 70) // above low, below high: still refusing (hysteresis)
	f.m.Check(ctx)
	require.Error(t, f.m.Refuse("cams"))
	f.d.set("/cams", 100)
	f.m.Check(ctx)
	require.NoError(t, f.m.Refuse("cams"))
	require.Equal(t, 0.0, testutil.ToFloat64(f.met.refusing.WithLabelValues("endpoint:cams")))
}

func TestRefuseMeasuresARefusingVolumeAgain(t *testing.T) {
	f := newFixture(t, true)
	f.d.set("/data", 10)
	f.m.Check(context.Background())
	require.Error(t, f.m.Refuse("cams"))
	f.d.set("/data", 60)
	require.ErrorContains(t, f.m.Refuse("cams"), "has 60 bytes free", "above low is not enough")
	f.d.set("/data", 500)
	require.NoError(t, f.m.Refuse("cams"), "space back is taken without waiting for the next check")
	require.False(t, f.status("data").Refusing)
	require.Equal(t, 500.0, testutil.ToFloat64(f.met.freeBytes.WithLabelValues("data")))
}

func TestRefusesWhenDeletingIsNotEnough(t *testing.T) {
	f := newFixture(t, true)
	f.addFiles(1)
	f.d.set("/cams", 10) // one 20-byte file brings it to 30, still below low
	f.m.Check(context.Background())
	require.Equal(t, []string{"f0"}, f.r.deletedIDs())
	require.ErrorContains(t, f.m.Refuse("cams"), "has 30 bytes free")
}

func TestWithoutReclaimerRefuses(t *testing.T) {
	f := newFixture(t, false)
	f.addFiles(3)
	f.d.set("/cams", 10)
	f.m.Check(context.Background())
	require.Empty(t, f.r.deletedIDs())
	require.Error(t, f.m.Refuse("cams"))
}

func TestSpoolVolumeRefusesEveryRecording(t *testing.T) {
	f := newFixture(t, true)
	f.addFiles(5)
	f.d.set("/data", 30)
	f.m.Check(context.Background())
	require.ErrorContains(t, f.m.Refuse("cams"), "disk full: volume data (/data) has 30 bytes free")
	require.ErrorContains(t, f.m.Refuse("s3-endpoint"), "volume data")
	require.Empty(t, f.r.deletedIDs(), "files on another volume free nothing on the spool's")
}

func TestReclaimStopsWhenNothingIsDeleted(t *testing.T) {
	f := newFixture(t, true)
	f.addFiles(2)
	stuck := &stuckReclaimer{reclaimer: f.r}
	f.m.cfg.Reclaimer = stuck
	f.d.set("/cams", 10)
	f.m.Check(context.Background())
	require.Equal(t, 1, stuck.calls, "a delete that removes nothing ends the pass")
	require.Error(t, f.m.Refuse("cams"))
}

type stuckReclaimer struct {
	*reclaimer
	calls int
}

func (s *stuckReclaimer) Delete(context.Context, []store.DueFile, string) (int, int64, error) {
	s.calls++
	return 0, 0, errors.New("bucket unreachable")
}

func TestMeasureErrorIsAWarningDetail(t *testing.T) {
	f := newFixture(t, true)
	f.d.fail = errors.New("statfs: no such file")
	f.m.Check(context.Background())
	f.m.Check(context.Background())
	require.Equal(t, int64(2), f.warns.Load(), "logged once per volume, not per check")
	require.Contains(t, f.status("data").Detail(f.m.Marks()), "warning: free space not measured")
	require.NoError(t, f.m.Refuse("cams"))
}

func TestByteMarksAndMixedKinds(t *testing.T) {
	require.Equal(t, int64(100), Mark{Percent: 10}.Of(1000))
	require.Equal(t, int64(7), Mark{Bytes: 7}.Of(1000))
	d := &disks{space: map[string]Space{"/v": {Free: 150, Total: 1000}}}
	// A byte low mark above a percentage high mark is both marks.
	m, err := New(Config{Volumes: []Volume{{Name: "v", Path: "/v", Endpoints: []string{"e"}}},
		High: Mark{Percent: 10}, Low: Mark{Bytes: 200}, Interval: time.Second, Free: d.free,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	m.Check(context.Background())
	s := m.Status()[0]
	require.Equal(t, int64(200), s.High)
	require.True(t, s.Refusing)
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := New(Config{})
	require.ErrorContains(t, err, "interval")
	_, err = New(Config{Interval: time.Second, High: Mark{Percent: 120}})
	require.ErrorContains(t, err, "0–100%")
	_, err = New(Config{Interval: time.Second, Volumes: []Volume{{Name: "a"}, {Name: "a"}}})
	require.ErrorContains(t, err, "used twice")
}

func TestRunChecksUntilCancelled(t *testing.T) {
	d := &disks{space: map[string]Space{"/v": {Free: 900, Total: 1000}}}
	m, err := New(Config{Volumes: []Volume{{Name: "v", Path: "/v"}}, High: Mark{Percent: 10},
		Low: Mark{Percent: 5}, Interval: 10 * time.Millisecond, Free: d.free, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	require.Eventually(t, func() bool { return m.Status()[0].Measured }, 5*time.Second, 5*time.Millisecond)
	d.set("/v", 20)
	require.Eventually(t, func() bool { return m.Refuse("x") == nil && m.Status()[0].Refusing }, 5*time.Second,
		5*time.Millisecond, "a later check sees the change")
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestVolumesGroupsByFilesystem(t *testing.T) {
	data := t.TempDir()
	vols, err := Volumes(data, data+"/../"+"x-missing", nil)
	require.Error(t, err, "a missing path is an error, not a silent skip")
	require.Nil(t, vols)

	spool, root := t.TempDir(), t.TempDir()
	vols, err = Volumes(data, spool, []EndpointRoot{{Endpoint: "local", Root: root}})
	require.NoError(t, err)
	require.Len(t, vols, 1, "temp dirs share one filesystem")
	require.Equal(t, "data", vols[0].Name)
	require.True(t, vols[0].Spool)
	require.Equal(t, []string{"local"}, vols[0].Endpoints)
	sp, err := Statfs(data)
	require.NoError(t, err)
	require.Positive(t, sp.Total)
	require.LessOrEqual(t, sp.Free, sp.Total)
}
