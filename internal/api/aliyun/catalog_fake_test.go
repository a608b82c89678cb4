package aliyun

import (
	"context"
	"sync"
	"testing"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// catalogFake is the real service (keys, domains) with canned content, index and live-stream
// answers. Each method checks the domain as the service does, then records what it was asked.
// The handler runs on the server's goroutines, so every field is read under mu (got).
type catalogFake struct {
	*service.Service
	mu sync.Mutex

	contents  map[recording.Format][]service.FileView
	contentQs []service.ContentQuery

	index    *service.IndexView
	indexErr error
	indexReq service.IndexRequest
	indexes  []service.IndexView
	indexQ   service.IndexQuery
	// deleteErr answers DeleteIndex per id; deleted lists the ids deleted, removeFile the flag.
	deleteErr  map[string]error
	deleted    []string
	removeFile bool

	live    []recording.LiveStream
	liveF   service.LiveFilter
	pubs    []recording.Publish
	pubF    store.PublishFilter
	kicked  []string
	blocks  []recording.StreamBlock
	blockF  store.BlockFilter
	resumed []string
}

// newCatalogEnv serves a catalogFake; test.com is p1's domain (claimed by a notify config).
func newCatalogEnv(t *testing.T) (*env, *catalogFake) {
	t.Helper()
	f := &catalogFake{}
	e := newEnvWith(t, func(s *service.Service) Service { f.Service = s; return f })
	e.do(call(keyP1, "AddLiveRecordNotifyConfig", "DomainName", "test.com", "NotifyUrl", "http://cb.example.com/")).ok(t)
	e.do(call(keyP2, "AddLiveRecordNotifyConfig", "DomainName", "p2.com", "NotifyUrl", "http://cb.example.com/")).ok(t)
	return e, f
}

// got runs fn under the fake's lock.
func (f *catalogFake) got(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

func (f *catalogFake) RecordContents(ctx context.Context, p service.Principal, q service.ContentQuery) ([]service.FileView, int, error) {
	if err := f.CheckDomain(ctx, p, q.Domain); err != nil {
		return nil, 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.contentQs = append(f.contentQs, q)
	files := f.contents[q.Format]
	return files, len(files), nil
}

func (f *catalogFake) CreateIndex(ctx context.Context, p service.Principal, req service.IndexRequest) (*service.IndexView, error) {
	if err := f.CheckDomain(ctx, p, req.Domain); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.indexReq = req
	return f.index, f.indexErr
}

func (f *catalogFake) ListIndexes(ctx context.Context, p service.Principal, q service.IndexQuery) ([]service.IndexView, int, error) {
	if err := f.CheckDomain(ctx, p, q.Domain); err != nil {
		return nil, 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.indexQ = q
	return page(f.indexes, q.Offset/max(q.Limit, 1)+1, q.Limit), len(f.indexes), nil
}

func (f *catalogFake) GetIndex(ctx context.Context, p service.Principal, domain, app, stream, id string) (*service.IndexView, error) {
	if err := f.CheckDomain(ctx, p, domain); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.indexes {
		if x := &f.indexes[i]; x.ID == id && x.Domain == domain && x.App == app && x.Stream == stream {
			return x, nil
		}
	}
	return nil, recording.ErrNotFound
}

func (f *catalogFake) DeleteIndex(ctx context.Context, p service.Principal, domain, _, _, id string, removeFile bool) error {
	if err := f.CheckDomain(ctx, p, domain); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removeFile = removeFile
	if err := f.deleteErr[id]; err != nil {
		return err
	}
	f.deleted = append(f.deleted, id)
	return nil
}

func (f *catalogFake) ListLiveStreams(ctx context.Context, p service.Principal, lf service.LiveFilter) ([]recording.LiveStream, error) {
	if err := f.CheckDomain(ctx, p, lf.Domain); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.liveF = lf
	var out []recording.LiveStream
	for _, l := range f.live {
		if l.Domain == lf.Domain && (lf.App == "" || l.App == lf.App) && (lf.Stream == "" || l.Stream == lf.Stream) {
			out = append(out, l)
		}
	}
	return out, nil
}

func (f *catalogFake) StreamState(ctx context.Context, p service.Principal, domain, app, stream string) (*recording.LiveStream, error) {
	ls, err := f.ListLiveStreams(ctx, p, service.LiveFilter{Domain: domain, App: app, Stream: stream})
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, recording.ErrNotLive
	}
	return &ls[0], nil
}

func (f *catalogFake) ListPublishes(ctx context.Context, p service.Principal, pf store.PublishFilter) ([]recording.Publish, int, error) {
	if err := f.CheckDomain(ctx, p, pf.Domain); err != nil {
		return nil, 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pubF = pf
	var out []recording.Publish
	for _, pub := range f.pubs {
		if pf.Stream == "" || pub.Stream == pf.Stream {
			out = append(out, pub)
		}
	}
	return out, len(out), nil
}

func (f *catalogFake) KickStream(ctx context.Context, p service.Principal, domain, app, stream string) error {
	if _, err := f.StreamState(ctx, p, domain, app, stream); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kicked = append(f.kicked, domain+"/"+app+"/"+stream)
	return nil
}

func (f *catalogFake) ForbidStream(ctx context.Context, p service.Principal, b recording.StreamBlock) (bool, error) {
	if err := f.CheckDomain(ctx, p, b.Domain); err != nil {
		return false, err
	}
	if b.ResumeAt != nil && b.ResumeAt.Year() < 2000 {
		return false, &recording.ValidationError{Field: "resume_at", Reason: "must be in the future"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blocks = append(f.blocks, b)
	return true, nil
}

func (f *catalogFake) ResumeStream(ctx context.Context, p service.Principal, domain, app, stream string) error {
	if err := f.CheckDomain(ctx, p, domain); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, b := range f.blocks {
		if b.Domain == domain && b.App == app && b.Stream == stream {
			f.blocks = append(f.blocks[:i], f.blocks[i+1:]...)
			f.resumed = append(f.resumed, domain+"/"+app+"/"+stream)
			return nil
		}
	}
	return recording.ErrNotFound
}

func (f *catalogFake) ListBlocks(ctx context.Context, p service.Principal, bf store.BlockFilter) ([]recording.StreamBlock, int, error) {
	if err := f.CheckDomain(ctx, p, bf.Domain); err != nil {
		return nil, 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blockF = bf
	return page(f.blocks, bf.Offset/max(bf.Limit, 1)+1, bf.Limit), len(f.blocks), nil
}
