package native

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/retention"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// catalogFake serves the catalogue routes from memory and remembers what it was asked. Like
// the service, it decides tenancy: a domain, recording, index or task of another project is
// recording.ErrNotFound. Everything else fails as failingService does.
type catalogFake struct {
	failingService

	mu sync.Mutex
	// owner maps a domain to its project.
	owner   map[string]string
	live    []recording.LiveStream
	blocks  map[string]recording.StreamBlock // by domain/app/stream
	recs    []recording.Recording
	files   []service.FileView
	indexes []service.IndexView
	tasks   []recording.PlanTask
	// next is the cursor the lists return.
	next string

	// What the latest calls were given.
	recFilter   store.RecordingFilter
	fileFilter  store.FileFilter
	pubFilter   store.PublishFilter
	blockFilter store.BlockFilter
	taskFilter  store.TaskFilter
	indexReq    service.IndexRequest
	indexQuery  service.IndexQuery
	indexKey    [3]string // domain, app, stream of the latest GetIndex or DeleteIndex
	removeFile  bool
	clipReq     service.ClipRequest
	eventReq    service.EventRequest
	kicked      []string
}

func newCatalogFake() *catalogFake {
	return &catalogFake{owner: map[string]string{"a.com": "A", "b.com": "B"}, blocks: map[string]recording.StreamBlock{}}
}

func (f *catalogFake) checkDomain(p service.Principal, domain string) error {
	if f.owner[strings.ToLower(domain)] != p.Project {
		return recording.ErrNotFound
	}
	return nil
}

func (f *catalogFake) ListLiveStreams(_ context.Context, p service.Principal, lf service.LiveFilter) ([]recording.LiveStream, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if lf.Domain != "" {
		if err := f.checkDomain(p, lf.Domain); err != nil {
			return nil, err
		}
	}
	var out []recording.LiveStream
	for _, l := range f.live {
		if f.checkDomain(p, l.Domain) == nil && (lf.Domain == "" || strings.EqualFold(lf.Domain, l.Domain)) &&
			(lf.App == "" || lf.App == l.App) && (lf.Stream == "" || lf.Stream == l.Stream) {
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

func (f *catalogFake) KickStream(ctx context.Context, p service.Principal, domain, app, stream string) error {
	if _, err := f.StreamState(ctx, p, domain, app, stream); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kicked = append(f.kicked, domain+"/"+app+"/"+stream)
	return nil
}

func (f *catalogFake) ListPublishes(_ context.Context, p service.Principal, pf store.PublishFilter) ([]recording.Publish, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pubFilter = pf
	if err := f.checkDomain(p, pf.Domain); err != nil {
		return nil, 0, err
	}
	at := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	return []recording.Publish{{ID: "pub_1", Domain: pf.Domain, App: "live", Stream: "s", ClientAddr: "10.0.0.1:5000",
		Protocol: "rtmp", StartedAt: at}}, 7, nil
}

func (f *catalogFake) ForbidStream(ctx context.Context, p service.Principal, b recording.StreamBlock) (bool, error) {
	if err := f.checkDomain(p, b.Domain); err != nil {
		return false, err
	}
	if b.ResumeAt != nil && !b.ResumeAt.After(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
		return false, &recording.ValidationError{Field: "resume_at", Reason: "must be in the future"}
	}
	_, err := f.StreamState(ctx, p, b.Domain, b.App, b.Stream)
	f.mu.Lock()
	defer f.mu.Unlock()
	b.CreatedAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.blocks[b.Domain+"/"+b.App+"/"+b.Stream] = b
	return err == nil, nil
}

func (f *catalogFake) ResumeStream(_ context.Context, p service.Principal, domain, app, stream string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.checkDomain(p, domain); err != nil {
		return err
	}
	k := domain + "/" + app + "/" + stream
	if _, ok := f.blocks[k]; !ok {
		return recording.ErrNotFound
	}
	delete(f.blocks, k)
	return nil
}

func (f *catalogFake) GetBlock(_ context.Context, p service.Principal, domain, app, stream string) (*recording.StreamBlock, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.checkDomain(p, domain); err != nil {
		return nil, err
	}
	b, ok := f.blocks[domain+"/"+app+"/"+stream]
	if !ok {
		return nil, recording.ErrNotFound
	}
	return &b, nil
}

func (f *catalogFake) ListBlocks(_ context.Context, p service.Principal, bf store.BlockFilter) ([]recording.StreamBlock, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blockFilter = bf
	if bf.Domain != "" {
		if err := f.checkDomain(p, bf.Domain); err != nil {
			return nil, 0, err
		}
	}
	var out []recording.StreamBlock
	for _, b := range f.blocks {
		if f.checkDomain(p, b.Domain) == nil {
			out = append(out, b)
		}
	}
	return out, len(out), nil
}

func (f *catalogFake) ListRecordings(_ context.Context, p service.Principal, rf store.RecordingFilter) ([]recording.Recording, int, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recFilter = rf
	if rf.After == "rc_gone" {
		return nil, 0, "", recording.ErrNotFound
	}
	var out []recording.Recording
	for _, r := range f.recs {
		if r.Project == p.Project {
			out = append(out, r)
		}
	}
	return out, len(out), f.next, nil
}

func (f *catalogFake) GetRecording(_ context.Context, p service.Principal, id string) (*service.RecordingDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.recs {
		if r.ID == id && r.Project == p.Project {
			d := &service.RecordingDetail{Recording: r}
			for _, fv := range f.files {
				if fv.RecordingID == id {
					d.Files = append(d.Files, fv)
				}
			}
			if r.State == recording.RecordingActive {
				d.LiveURL = "http://play.test/live/" + id + ".m3u8?sig=x"
			}
			return d, nil
		}
	}
	return nil, recording.ErrNotFound
}

func (f *catalogFake) ListFiles(_ context.Context, p service.Principal, ff store.FileFilter) ([]service.FileView, int, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fileFilter = ff
	if ff.After == "f_gone" {
		return nil, 0, "", recording.ErrNotFound
	}
	owned := map[string]bool{}
	for _, r := range f.recs {
		owned[r.ID] = r.Project == p.Project
	}
	var out []service.FileView
	for _, fv := range f.files {
		if owned[fv.RecordingID] {
			out = append(out, fv)
		}
	}
	return out, len(out), f.next, nil
}

func (f *catalogFake) DeleteRecordingFiles(ctx context.Context, p service.Principal, id string) (int, error) {
	if !p.Admin {
		return 0, recording.ErrForbidden
	}
	d, err := f.GetRecording(ctx, p, id)
	if err != nil {
		return 0, err
	}
	return len(d.Files), nil
}

func (f *catalogFake) CreateIndex(_ context.Context, p service.Principal, req service.IndexRequest) (*service.IndexView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.indexReq = req
	if err := f.checkDomain(p, req.Domain); err != nil {
		return nil, err
	}
	if req.Stream == "empty" {
		return nil, service.ErrNoMedia
	}
	x := service.IndexView{Kind: service.KindIndex, URL: "http://play.test/idx.m3u8?sig=x", RecordIndex: recording.RecordIndex{
		ID: "idx_1", Project: p.Project, Domain: req.Domain, App: req.App, Stream: req.Stream,
		ObjectKey: "Index/a.m3u8", StartedAt: req.From, EndedAt: req.To, Duration: req.To.Sub(req.From)}}
	f.indexes = append(f.indexes, x)
	return &x, nil
}

func (f *catalogFake) ListIndexes(_ context.Context, p service.Principal, q service.IndexQuery) ([]service.IndexView, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.indexQuery = q
	var out []service.IndexView
	for _, x := range f.indexes {
		if x.Project == p.Project {
			out = append(out, x)
		}
	}
	return out, len(out), nil
}

func (f *catalogFake) GetIndex(_ context.Context, p service.Principal, domain, app, stream, id string) (*service.IndexView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.indexKey = [3]string{domain, app, stream}
	for _, x := range f.indexes {
		if x.ID == id && x.Project == p.Project && (domain == "" || domain == x.Domain) {
			return &x, nil
		}
	}
	return nil, recording.ErrNotFound
}

func (f *catalogFake) DeleteIndex(ctx context.Context, p service.Principal, domain, app, stream, id string, removeFile bool) error {
	x, err := f.GetIndex(ctx, p, domain, app, stream, id)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removeFile = removeFile
	if x.Kind == service.KindRecording && !removeFile {
		return recording.ErrConflict
	}
	return nil
}

func (f *catalogFake) CreateClip(_ context.Context, p service.Principal, req service.ClipRequest) (*service.FileView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clipReq = req
	if err := f.checkDomain(p, req.Domain); err != nil {
		return nil, err
	}
	if req.Stream == "empty" {
		return nil, service.ErrNoMedia
	}
	return &service.FileView{URL: "http://play.test/clip.mp4?sig=x", File: recording.File{ID: "f_clip", RecordingID: "rc_clip",
		Format: recording.FormatMP4, State: recording.FileStored, ObjectKey: "Clip/a.mp4", StartedAt: req.From}}, nil
}

func (f *catalogFake) CreatePlanTask(_ context.Context, p service.Principal, t *recording.PlanTask) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.checkDomain(p, t.Domain); err != nil {
		return err
	}
	if t.StartTime.IsZero() {
		t.StartTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	}
	if !t.EndTime.After(t.StartTime) {
		return &recording.ValidationError{Field: "end_time", Reason: "must be after start_time"}
	}
	t.ID, t.Project = "task_1", p.Project
	f.tasks = append(f.tasks, *t)
	return nil
}

func (f *catalogFake) ListPlanTasks(_ context.Context, p service.Principal, tf store.TaskFilter) ([]recording.PlanTask, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.taskFilter = tf
	var out []recording.PlanTask
	for _, t := range f.tasks {
		if t.Project == p.Project {
			out = append(out, t)
		}
	}
	return out, len(out), nil
}

func (f *catalogFake) StopPlanTask(_ context.Context, p service.Principal, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, t := range f.tasks {
		if t.ID == id && t.Project == p.Project && t.StoppedAt == nil {
			at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			f.tasks[i].StoppedAt = &at
			return nil
		}
	}
	return recording.ErrNotFound
}

// Authenticate takes a token to be the project it names; "admin:X" is an admin of X.
func (f *catalogFake) Authenticate(_ context.Context, token string) (service.Principal, error) {
	if project, ok := strings.CutPrefix(token, "admin:"); ok {
		return service.Principal{Project: project, Admin: true}, nil
	}
	return service.Principal{Project: token}, nil
}

// serveCatalog serves the API over f.
func serveCatalog(t *testing.T, f *catalogFake) *client {
	t.Helper()
	return serve(t, f, &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}, func(p service.Principal) string {
		if p.Admin {
			return "admin:" + p.Project
		}
		return p.Project
	})
}

func (f *catalogFake) CreateEvent(_ context.Context, p service.Principal, req service.EventRequest) (*service.EventView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eventReq = req
	if err := f.checkDomain(p, req.Domain); err != nil {
		return nil, err
	}
	return &service.EventView{RecordingID: "rec_event", To: time.Unix(100, 0).UTC()}, nil
}

func (f *catalogFake) LockRecording(_ context.Context, p service.Principal, id string, locked bool) (*recording.Recording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.recs {
		if f.recs[i].ID == id && f.recs[i].Project == p.Project {
			f.recs[i].Locked = locked
			r := f.recs[i]
			return &r, nil
		}
	}
	return nil, recording.ErrNotFound
}

func (f *catalogFake) RetentionPreview(_ context.Context, p service.Principal) ([]retention.Due, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []retention.Due{}
	for _, r := range f.recs {
		if r.Project == p.Project && !r.Locked && r.EndedAt != nil {
			out = append(out, retention.Due{FileID: "f_" + r.ID, RecordingID: r.ID, EndedAt: *r.EndedAt,
				DueAt: r.EndedAt.Add(time.Minute)})
		}
	}
	return out, nil
}
