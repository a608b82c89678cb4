package huawei

import (
	"context"
	"testing"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// fakeCatalog answers the catalogue, stream and task methods with canned data and keeps what
// each was asked; authentication, domains and rules are the real service's. Requests reach it
// one at a time (httptest.ResponseRecorder), so it needs no lock.
type fakeCatalog struct {
	*service.Service
	// err, when set, is what every faked method answers.
	err error

	contentQ service.ContentQuery
	files    []service.FileView
	total    int
	recs     map[string]recording.Recording

	indexReq service.IndexRequest
	index    service.IndexView

	liveF service.LiveFilter
	live  []recording.LiveStream

	forbidden []recording.StreamBlock // ForbidStream's arguments, in order
	blocks    map[string]recording.StreamBlock
	blockF    store.BlockFilter
	resumed   []string
	kicked    []string

	created []recording.PlanTask
	taskF   store.TaskFilter
	tasks   []recording.PlanTask
	stopped []string
}

// newCatalogEnv is newEnv with the handler over a fakeCatalog.
func newCatalogEnv(t *testing.T) (*env, *fakeCatalog) {
	t.Helper()
	e := newEnv(t)
	f := &fakeCatalog{Service: e.svc, recs: map[string]recording.Recording{}, blocks: map[string]recording.StreamBlock{}}
	e.h = NewHandler(f, Config{Now: func() time.Time { return testNow }})
	return e, f
}

func streamKeyOf(domain, app, stream string) string { return domain + "/" + app + "/" + stream }

// RecordContents answers f.files with their recordings' stream and mode from f.recs, as the
// service does.
func (f *fakeCatalog) RecordContents(_ context.Context, _ service.Principal, q service.ContentQuery) ([]service.FileView, int, error) {
	f.contentQ = q
	out := make([]service.FileView, len(f.files))
	for i, v := range f.files {
		rec := f.recs[v.RecordingID]
		v.Domain, v.App, v.Stream, v.Mode = rec.Domain, rec.App, rec.Stream, rec.Mode
		out[i] = v
	}
	return out, f.total, f.err
}

func (f *fakeCatalog) CreateIndex(_ context.Context, _ service.Principal, req service.IndexRequest) (*service.IndexView, error) {
	f.indexReq = req
	if f.err != nil {
		return nil, f.err
	}
	x := f.index
	return &x, nil
}

func (f *fakeCatalog) ListLiveStreams(_ context.Context, _ service.Principal, lf service.LiveFilter) ([]recording.LiveStream, error) {
	f.liveF = lf
	return f.live, f.err
}

func (f *fakeCatalog) KickStream(_ context.Context, _ service.Principal, domain, app, stream string) error {
	if f.err != nil {
		return f.err
	}
	f.kicked = append(f.kicked, streamKeyOf(domain, app, stream))
	return nil
}

func (f *fakeCatalog) ForbidStream(_ context.Context, _ service.Principal, b recording.StreamBlock) (bool, error) {
	if f.err != nil {
		return false, f.err
	}
	f.forbidden = append(f.forbidden, b)
	f.blocks[streamKeyOf(b.Domain, b.App, b.Stream)] = b
	return true, nil
}

func (f *fakeCatalog) ResumeStream(_ context.Context, _ service.Principal, domain, app, stream string) error {
	if f.err != nil {
		return f.err
	}
	k := streamKeyOf(domain, app, stream)
	if _, ok := f.blocks[k]; !ok {
		return recording.ErrNotFound
	}
	delete(f.blocks, k)
	f.resumed = append(f.resumed, k)
	return nil
}

func (f *fakeCatalog) GetBlock(_ context.Context, _ service.Principal, domain, app, stream string) (*recording.StreamBlock, error) {
	if f.err != nil {
		return nil, f.err
	}
	b, ok := f.blocks[streamKeyOf(domain, app, stream)]
	if !ok {
		return nil, recording.ErrNotFound
	}
	return &b, nil
}

func (f *fakeCatalog) ListBlocks(_ context.Context, _ service.Principal, bf store.BlockFilter) ([]recording.StreamBlock, int, error) {
	f.blockF = bf
	if f.err != nil {
		return nil, 0, f.err
	}
	var out []recording.StreamBlock
	for _, b := range f.blocks {
		out = append(out, b)
	}
	return out, len(out) + bf.Offset, nil
}

func (f *fakeCatalog) CreatePlanTask(_ context.Context, _ service.Principal, t *recording.PlanTask) error {
	if f.err != nil {
		return f.err
	}
	t.ID = "task_new"
	f.created = append(f.created, *t)
	return nil
}

func (f *fakeCatalog) ListPlanTasks(_ context.Context, _ service.Principal, tf store.TaskFilter) ([]recording.PlanTask, int, error) {
	f.taskF = tf
	return append([]recording.PlanTask(nil), f.tasks...), len(f.tasks), f.err
}

func (f *fakeCatalog) StopPlanTask(_ context.Context, _ service.Principal, id string) error {
	if f.err != nil {
		return f.err
	}
	f.stopped = append(f.stopped, id)
	return nil
}
