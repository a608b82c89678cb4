package service_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// fakeObjects keeps objects in memory, by "endpoint/bucket/key".
type fakeObjects struct {
	mu   sync.Mutex
	objs map[string][]byte
}

func newFakeObjects() *fakeObjects { return &fakeObjects{objs: map[string][]byte{}} }

func (f *fakeObjects) PutBytes(_ context.Context, endpoint, bucket, key string, data []byte) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := key
	for i := 1; f.objs[endpoint+"/"+bucket+"/"+k] != nil; i++ {
		k = fmt.Sprintf("%s_%d", key, i)
	}
	f.objs[endpoint+"/"+bucket+"/"+k] = append([]byte(nil), data...)
	return k, nil
}

func (f *fakeObjects) PutFile(context.Context, string, string, string, string) (string, error) {
	return "", fmt.Errorf("not used here")
}

func (f *fakeObjects) Delete(_ context.Context, endpoint, bucket, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objs, endpoint+"/"+bucket+"/"+key)
	return nil
}

func (f *fakeObjects) Open(_ context.Context, endpoint, bucket, key string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.objs[endpoint+"/"+bucket+"/"+key]
	if !ok {
		return nil, fmt.Errorf("no object %s", key)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (f *fakeObjects) URL(_ context.Context, endpoint, bucket, key string) string {
	return "http://media.test/" + endpoint + "/" + bucket + "/" + key
}

func (f *fakeObjects) Resolve(name string) (string, bool) {
	return name, name == "local" || name == "s3"
}

func (f *fakeObjects) has(endpoint, bucket, key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.objs[endpoint+"/"+bucket+"/"+key]
	return ok
}

// recorded is a stored recording of alice's stream a.com/live/s1 from t0 for n 2 s slices in
// one HLS file (Seq 0) and one FLV file, each object present in objs.
type recorded struct {
	rec    *recording.Recording
	hls    *recording.File
	flv    *recording.File
	slices []recording.Slice
}

func record(t *testing.T, s *service.Service, objs *fakeObjects, t0 time.Time, n int) recorded {
	t.Helper()
	ctx := t.Context()
	end := t0.Add(time.Duration(n) * 2 * time.Second)
	rec := &recording.Recording{Project: alice.Project, Domain: "a.com", App: "live", Stream: "s1",
		State: recording.RecordingOver, Mode: recording.ModeAuto, StartedAt: t0, EndedAt: &end}
	require.NoError(t, s.Store.RecordingInsert(ctx, rec))
	r := recorded{rec: rec}
	for i := range n {
		sl := recording.Slice{RecordingID: rec.ID, FileSeq: 0, Seq: i, Endpoint: "local", Bucket: "b",
			ObjectKey: fmt.Sprintf("rec/%s/%d.ts", rec.ID, i), StartedAt: t0.Add(time.Duration(i) * 2 * time.Second),
			Duration: 2 * time.Second, Bytes: 1000}
		require.NoError(t, s.Catalog.SliceInsert(ctx, &sl))
		_, err := objs.PutBytes(ctx, "local", "b", sl.ObjectKey, []byte("ts"))
		require.NoError(t, err)
		r.slices = append(r.slices, sl)
	}
	for _, f := range []recording.Format{recording.FormatHLS, recording.FormatFLV} {
		key := "rec/" + rec.ID + "/index." + string(f)
		file := &recording.File{RecordingID: rec.ID, Format: f, State: recording.FileStored, Endpoint: "local",
			Bucket: "b", ObjectKey: key, StartedAt: t0, EndedAt: &end, Duration: end.Sub(t0), Width: 640, Height: 360}
		require.NoError(t, s.Store.FileInsert(ctx, file))
		_, err := objs.PutBytes(ctx, "local", "b", key, []byte("media"))
		require.NoError(t, err)
		if f == recording.FormatHLS {
			r.hls = file
		} else {
			r.flv = file
		}
	}
	return r
}

func newCatalogService(t testing.TB) (*service.Service, *fakeObjects, *clock) {
	t.Helper()
	s := newService(t)
	cat, ok := s.Store.(store.Catalog)
	require.True(t, ok, "the SQLite driver implements store.Catalog")
	objs := newFakeObjects()
	c := &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	s.Catalog, s.Objects, s.Now = cat, objs, c.now
	require.NoError(t, s.CreateRule(t.Context(), alice, newRule("a.com", "live", "")))
	return s, objs, c
}

func TestRecordingsCatalogue(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, objs, c := newCatalogService(t)
	t0 := c.t.Add(-time.Hour)
	var recs []recorded
	for i := range 3 {
		recs = append(recs, record(t, s, objs, t0.Add(time.Duration(i)*10*time.Minute), 3))
	}

	page, total, next, err := s.ListRecordings(ctx, alice, store.RecordingFilter{Limit: 2, OrderDesc: true})
	require.NoError(t, err)
	require.Equal(t, 3, total)
	require.Equal(t, []string{recs[2].rec.ID, recs[1].rec.ID}, []string{page[0].ID, page[1].ID})
	require.Equal(t, recs[1].rec.ID, next)
	page, _, next, err = s.ListRecordings(ctx, alice, store.RecordingFilter{Limit: 2, OrderDesc: true, After: next})
	require.NoError(t, err)
	require.Len(t, page, 1)
	require.Equal(t, recs[0].rec.ID, page[0].ID)
	require.Empty(t, next)

	page, _, _, err = s.ListRecordings(ctx, bob, store.RecordingFilter{})
	require.NoError(t, err)
	require.Empty(t, page, "bob sees none of alice's recordings")

	d, err := s.GetRecording(ctx, alice, recs[0].rec.ID)
	require.NoError(t, err)
	require.Len(t, d.Files, 2)
	require.Equal(t, "http://media.test/local/b/"+recs[0].hls.ObjectKey, d.Files[0].URL)
	require.NotNil(t, d.Events)
	_, err = s.GetRecording(ctx, bob, recs[0].rec.ID)
	require.ErrorIs(t, err, recording.ErrNotFound)

	files, total, _, err := s.ListFiles(ctx, alice, store.FileFilter{Format: recording.FormatFLV})
	require.NoError(t, err)
	require.Equal(t, 3, total)
	require.Len(t, files, 3)

	contents, total, err := s.RecordContents(ctx, alice, service.ContentQuery{Domain: "a.com", App: "live", Stream: "s1",
		From: t0.Add(9 * time.Minute), To: t0.Add(11 * time.Minute)})
	require.NoError(t, err)
	require.Equal(t, 2, total, "the HLS and FLV files of the second recording overlap")
	require.Equal(t, recs[1].rec.ID, contents[0].RecordingID)
	_, _, err = s.RecordContents(ctx, bob, service.ContentQuery{Domain: "a.com"})
	require.ErrorIs(t, err, recording.ErrNotFound)

	// A clip of the stream is an export, not recorded content: listed only when asked for.
	clipEnd := t0.Add(11 * time.Minute)
	clipRec := &recording.Recording{Project: alice.Project, Domain: "a.com", App: "live", Stream: "s1",
		State: recording.RecordingOver, Mode: recording.ModeClip, StartedAt: t0.Add(10 * time.Minute), EndedAt: &clipEnd}
	require.NoError(t, s.Store.RecordingInsert(ctx, clipRec))
	require.NoError(t, s.Store.FileInsert(ctx, &recording.File{RecordingID: clipRec.ID, Format: recording.FormatMP4,
		State: recording.FileStored, Endpoint: "local", Bucket: "b", ObjectKey: "clip.mp4", StartedAt: clipRec.StartedAt,
		EndedAt: &clipEnd}))
	contents, total, err = s.RecordContents(ctx, alice, service.ContentQuery{Domain: "a.com", App: "live", Stream: "s1",
		From: t0.Add(9 * time.Minute), To: t0.Add(11 * time.Minute)})
	require.NoError(t, err)
	require.Equal(t, 2, total, "the clip is left out")
	for _, c := range contents {
		require.NotEqual(t, recording.ModeClip, c.Mode)
	}
	contents, _, err = s.RecordContents(ctx, alice, service.ContentQuery{Domain: "a.com", App: "live", Stream: "s1",
		Mode: recording.ModeClip})
	require.NoError(t, err)
	require.Len(t, contents, 1)
	require.Equal(t, clipRec.ID, contents[0].RecordingID)

	// Deleting stored files: an admin's act; the objects go, the records stay marked.
	_, err = s.DeleteRecordingFiles(ctx, alice, recs[0].rec.ID)
	require.ErrorIs(t, err, recording.ErrForbidden)
	adminOfA := admin
	adminOfA.Project = alice.Project
	n, err := s.DeleteRecordingFiles(ctx, adminOfA, recs[0].rec.ID)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.False(t, objs.has("local", "b", recs[0].hls.ObjectKey))
	require.False(t, objs.has("local", "b", recs[0].slices[1].ObjectKey), "an HLS file's slices go with it")
	require.True(t, objs.has("local", "b", recs[1].slices[1].ObjectKey), "other recordings keep theirs")
	d, err = s.GetRecording(ctx, alice, recs[0].rec.ID)
	require.NoError(t, err)
	for _, f := range d.Files {
		require.Equal(t, recording.FileDeleted, f.State)
		require.Empty(t, f.URL)
	}
	n, err = s.DeleteRecordingFiles(ctx, adminOfA, recs[0].rec.ID)
	require.NoError(t, err)
	require.Zero(t, n, "deleted files are not deleted twice")
}

func TestIndexes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, objs, c := newCatalogService(t)
	t0 := c.t.Add(-time.Hour)
	r := record(t, s, objs, t0, 10) // 20 s of slices

	req := service.IndexRequest{Domain: "a.com", App: "live", Stream: "s1", From: t0.Add(5 * time.Second),
		To: t0.Add(11 * time.Second), Object: "idx/{StreamName}-{Date}"}
	x, err := s.CreateIndex(ctx, alice, req)
	require.NoError(t, err)
	require.Equal(t, t0.Add(4*time.Second), x.StartedAt, "starts with the slice that holds From")
	require.Equal(t, t0.Add(12*time.Second), x.EndedAt)
	require.Equal(t, 8*time.Second, x.Duration)
	require.Equal(t, "idx/s1-"+t0.Format("2006-01-02")+".m3u8", x.ObjectKey)
	require.Equal(t, 640, x.Width)
	require.Equal(t, service.KindIndex, x.Kind)
	rc, err := objs.Open(ctx, "local", "b", x.ObjectKey)
	require.NoError(t, err)
	body, _ := io.ReadAll(rc)
	for i := 2; i <= 5; i++ {
		require.Contains(t, string(body), "../rec/"+r.rec.ID+fmt.Sprintf("/%d.ts", i), "relative to the index")
	}
	require.NotContains(t, string(body), fmt.Sprintf("/%d.ts\n", 6))

	_, err = s.CreateIndex(ctx, alice, service.IndexRequest{Domain: "a.com", App: "live", Stream: "s1",
		From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour)})
	require.ErrorIs(t, err, service.ErrNoMedia)
	_, err = s.CreateIndex(ctx, alice, service.IndexRequest{Domain: "a.com", App: "live", Stream: "s1",
		From: t0, To: t0.Add(13 * time.Hour), MaxSpan: 12 * time.Hour})
	requireValidation(t, err, "end_time")
	_, err = s.CreateIndex(ctx, alice, service.IndexRequest{Domain: "a.com", App: "live", Stream: "s1",
		From: t0, To: t0})
	requireValidation(t, err, "end_time")
	_, err = s.CreateIndex(ctx, bob, req)
	require.ErrorIs(t, err, recording.ErrNotFound)

	list, total, err := s.ListIndexes(ctx, alice, service.IndexQuery{Domain: "a.com", App: "live", Stream: "s1",
		From: t0, To: t0.Add(time.Minute)})
	require.NoError(t, err)
	require.Equal(t, 2, total, "the made index and the recording's own playlist")
	require.Equal(t, []string{r.hls.ID, x.ID}, []string{list[0].ID, list[1].ID})
	require.Equal(t, service.KindRecording, list[0].Kind)

	got, err := s.GetIndex(ctx, alice, "a.com", "live", "s1", x.ID)
	require.NoError(t, err)
	require.Equal(t, x.ObjectKey, got.ObjectKey)
	_, err = s.GetIndex(ctx, alice, "a.com", "live", "other", x.ID)
	require.ErrorIs(t, err, recording.ErrNotFound)
	_, err = s.GetIndex(ctx, bob, "", "", "", x.ID)
	require.ErrorIs(t, err, recording.ErrNotFound)

	require.ErrorIs(t, s.DeleteIndex(ctx, alice, "a.com", "live", "s1", r.hls.ID, false), recording.ErrConflict)
	require.NoError(t, s.DeleteIndex(ctx, alice, "a.com", "live", "s1", x.ID, true))
	require.False(t, objs.has("local", "b", x.ObjectKey))
	require.True(t, objs.has("local", "b", r.slices[3].ObjectKey), "an index never takes its slices along")
	_, err = s.GetIndex(ctx, alice, "", "", "", x.ID)
	require.ErrorIs(t, err, recording.ErrNotFound)
	require.NoError(t, s.DeleteIndex(ctx, alice, "a.com", "live", "s1", r.hls.ID, true))
	require.False(t, objs.has("local", "b", r.slices[3].ObjectKey), "a recording's playlist goes with its slices")
	require.True(t, strings.HasPrefix(x.ID, store.IndexPrefix))
}
