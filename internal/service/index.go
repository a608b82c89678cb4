package service

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/clip"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// Indexes: m3u8 playlists over the stored slices of a stream in a time range (Alibaba
// CreateLiveStreamRecordIndexFiles, Huawei record/indexes), beside each recording's own
// playlists.

// ErrNoMedia is wrapped when no stored media of the stream overlaps the range.
var ErrNoMedia = errors.New("no recorded media in the range")

// Range limits.
const (
	// DefaultMaxSpan bounds an index's range when the dialect sets none (Alibaba's 4 days).
	DefaultMaxSpan = 4 * 24 * time.Hour
	// maxIndexSlices bounds the slices one index lists: 4 days of 2 s slices.
	maxIndexSlices = 4 * 24 * 3600 / 2
)

// IndexRequest asks for an index of one stream over [From, To).
type IndexRequest struct {
	Domain, App, Stream string
	From, To            time.Time
	// EndIncluded adds the slice after To (Alibaba EndTimeIncluded).
	EndIncluded bool
	// Endpoint and Bucket are where the index is written; empty: where its first slice is.
	Endpoint, Bucket string
	// Object is the key template of the index (see renderObject); empty: DefaultIndexObject.
	Object string
	// MaxSpan bounds To-From (Alibaba 4 days, Huawei 12 h); 0: DefaultMaxSpan.
	MaxSpan time.Duration
	// Oldest, when set, requires From after now-Oldest (Huawei: 30 days).
	Oldest time.Duration
}

// Default object templates of indexes and clips (Huawei's index default).
const (
	DefaultIndexObject = "Index/{publish_domain}/{app}/{stream}/{stream}-{start_time}-{end_time}"
	DefaultClipObject  = "Clip/{publish_domain}/{app}/{stream}/{stream}-{start_time}-{end_time}"
)

// IndexView is an index, or a recording's own HLS playlist, with its playable URL.
type IndexView struct {
	recording.RecordIndex
	URL string `json:"url,omitempty"`
	// Kind is KindIndex for one made by CreateIndex, KindRecording for a recording's playlist.
	Kind string `json:"kind"`
}

// Index kinds.
const (
	KindIndex     = "index"
	KindRecording = "recording"
)

// IndexQuery selects indexes and recording playlists of a stream (or of a domain).
type IndexQuery struct {
	Domain, App, Stream string
	From, To            time.Time
	Offset, Limit       int
	OrderDesc           bool
}

// checkRange validates a requested range against the span limits.
func (s *Service) checkRange(from, to time.Time, maxSpan, oldest time.Duration) error {
	if maxSpan <= 0 {
		maxSpan = DefaultMaxSpan
	}
	now := s.now()
	switch {
	case from.IsZero():
		return &recording.ValidationError{Field: "start_time", Reason: "is required"}
	case to.IsZero():
		return &recording.ValidationError{Field: "end_time", Reason: "is required"}
	case !to.After(from):
		return &recording.ValidationError{Field: "end_time", Reason: "must be after start_time"}
	case to.Sub(from) > maxSpan:
		return &recording.ValidationError{Field: "end_time", Reason: "the range must be at most " + spanText(maxSpan)}
	case oldest > 0 && from.Before(now.Add(-oldest)):
		return &recording.ValidationError{Field: "start_time", Reason: "must be within the last " + spanText(oldest)}
	}
	return nil
}

func spanText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + " days"
	}
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}

// streamSlices returns the stored slices of a stream of p's domain that overlap the range.
func (s *Service) streamSlices(ctx context.Context, p Principal, domain, app, stream string, from, to time.Time, endIncluded bool) ([]recording.Slice, error) {
	cat, err := s.catalog()
	if err != nil {
		return nil, err
	}
	if err = checkStreamKey(domain, app, stream); err != nil {
		return nil, err
	}
	if err = s.CheckDomain(ctx, p, domain); err != nil {
		return nil, err
	}
	f := store.SliceFilter{Project: p.Project, Domain: domain, App: app, Stream: stream, From: from, To: to,
		Limit: maxIndexSlices + 2}
	if endIncluded {
		// The slice after To may start up to a slice duration later: look one minute further
		// (the longest slice) and let Select keep only the first one.
		f.To = to.Add(time.Minute)
	}
	all, err := cat.SliceList(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list slices: %w", err)
	}
	sel := clip.Select(all, from, to, endIncluded)
	if len(sel) == 0 {
		return nil, fmt.Errorf("%s/%s/%s: %w", domain, app, stream, ErrNoMedia)
	}
	if len(sel) > maxIndexSlices {
		return nil, &recording.ValidationError{Field: "end_time", Reason: "the range holds too many slices"}
	}
	return sel, nil
}

// CreateIndex writes an m3u8 over the stored slices of a stream that overlap the range and
// records it. The slices keep their place: the index refers to them relatively when it is in
// their bucket, by URL otherwise.
func (s *Service) CreateIndex(ctx context.Context, p Principal, req IndexRequest) (*IndexView, error) {
	req.Domain = strings.ToLower(strings.TrimSpace(req.Domain))
	if err := s.checkRange(req.From, req.To, req.MaxSpan, req.Oldest); err != nil {
		return nil, err
	}
	if s.Objects == nil {
		return nil, errors.New("storage is not available")
	}
	slices, err := s.streamSlices(ctx, p, req.Domain, req.App, req.Stream, req.From, req.To, req.EndIncluded)
	if err != nil {
		return nil, err
	}
	endpoint, bucket, err := s.target(req.Endpoint, req.Bucket, slices[0])
	if err != nil {
		return nil, err
	}
	first, last := slices[0], slices[len(slices)-1]
	x := &recording.RecordIndex{Project: p.Project, Domain: req.Domain, App: req.App, Stream: req.Stream,
		Endpoint: endpoint, Bucket: bucket, StartedAt: first.StartedAt, EndedAt: last.End()}
	for _, sl := range slices {
		x.Duration += sl.Duration
	}
	key, err := renderObject(req.Object, DefaultIndexObject, ".m3u8", x.Domain, x.App, x.Stream, x.StartedAt, x.EndedAt)
	if err != nil {
		return nil, err
	}
	body, err := clip.Index(slices, func(sl recording.Slice) (string, error) {
		if sl.Endpoint == endpoint && sl.Bucket == bucket {
			return clip.RelativeURI(key, sl.ObjectKey)
		}
		u := s.Objects.URL(ctx, sl.Endpoint, sl.Bucket, sl.ObjectKey)
		if u == "" {
			return "", fmt.Errorf("slice %s has no URL outside its bucket", sl.ObjectKey)
		}
		return u, nil
	}, clip.IndexOptions{})
	if err != nil {
		return nil, fmt.Errorf("build index: %w", err)
	}
	if x.ObjectKey, err = s.Objects.PutBytes(ctx, endpoint, bucket, key, body); err != nil {
		return nil, fmt.Errorf("store index: %w", err)
	}
	x.Width, x.Height = s.streamSize(ctx, p, slices)
	cat, _ := s.catalog()
	if err := cat.IndexInsert(ctx, x); err != nil {
		return nil, fmt.Errorf("record index: %w", err)
	}
	return s.indexView(ctx, *x, KindIndex), nil
}

// target resolves where an index or clip is written.
func (s *Service) target(endpoint, bucket string, first recording.Slice) (string, string, error) {
	if endpoint == "" {
		endpoint = first.Endpoint
	} else {
		name, ok := s.Objects.Resolve(endpoint)
		if !ok {
			return "", "", &recording.ValidationError{Field: "endpoint", Reason: "no storage endpoint is named " + strconv.Quote(endpoint)}
		}
		endpoint = name
	}
	if bucket == "" {
		bucket = first.Bucket
	}
	return endpoint, bucket, nil
}

// streamSize is the picture size of the first file of the slices' recording that has one.
func (s *Service) streamSize(ctx context.Context, p Principal, slices []recording.Slice) (int, int) {
	files, _, err := s.Store.FileList(ctx, store.FileFilter{Project: p.Project, RecordingID: slices[0].RecordingID, Limit: 10})
	if err != nil {
		return 0, 0
	}
	for _, f := range files {
		if f.Width > 0 {
			return f.Width, f.Height
		}
	}
	return 0, 0
}

func (s *Service) indexView(ctx context.Context, x recording.RecordIndex, kind string) *IndexView {
	v := &IndexView{RecordIndex: x, Kind: kind}
	if s.Objects != nil {
		v.URL = s.Objects.URL(ctx, x.Endpoint, x.Bucket, x.ObjectKey)
	}
	return v
}

// fileIndex presents a recording's stored HLS file as an index.
func fileIndex(f recording.File, rec *recording.Recording) recording.RecordIndex {
	x := recording.RecordIndex{ID: f.ID, Project: rec.Project, Domain: rec.Domain, App: rec.App, Stream: rec.Stream,
		Endpoint: f.Endpoint, Bucket: f.Bucket, ObjectKey: f.ObjectKey, StartedAt: f.StartedAt, Duration: f.Duration,
		Width: f.Width, Height: f.Height, CreatedAt: f.StartedAt}
	if f.EndedAt != nil {
		x.EndedAt, x.CreatedAt = *f.EndedAt, *f.EndedAt
	}
	return x
}

// maxListed bounds what ListIndexes merges before paging.
const maxListed = 10000

// ListIndexes returns the indexes and the recordings' stored HLS playlists of a stream (or of
// a domain when App and Stream are empty) whose range overlaps [From, To), by start time.
func (s *Service) ListIndexes(ctx context.Context, p Principal, q IndexQuery) ([]IndexView, int, error) {
	cat, err := s.catalog()
	if err != nil {
		return nil, 0, err
	}
	q.Domain = strings.ToLower(q.Domain)
	if q.Domain != "" {
		if err = s.CheckDomain(ctx, p, q.Domain); err != nil {
			return nil, 0, err
		}
	}
	xs, _, err := cat.IndexList(ctx, store.IndexFilter{Project: p.Project, Domain: q.Domain, App: q.App, Stream: q.Stream,
		From: q.From, To: q.To, Limit: maxListed})
	if err != nil {
		return nil, 0, fmt.Errorf("list indexes: %w", err)
	}
	all := make([]IndexView, 0, len(xs))
	for _, x := range xs {
		all = append(all, IndexView{RecordIndex: x, Kind: KindIndex})
	}
	files, _, err := s.Store.FileList(ctx, store.FileFilter{Project: p.Project, Domain: q.Domain, App: q.App, Stream: q.Stream,
		Format: recording.FormatHLS, State: recording.FileStored, From: q.From, To: q.To, Limit: maxListed})
	if err != nil {
		return nil, 0, fmt.Errorf("list playlists: %w", err)
	}
	recs := map[string]*recording.Recording{}
	for _, f := range files {
		rec := recs[f.RecordingID]
		if rec == nil {
			if rec, err = s.Store.RecordingGet(ctx, p.Project, f.RecordingID); err != nil {
				return nil, 0, fmt.Errorf("get recording: %w", err)
			}
			recs[f.RecordingID] = rec
		}
		all = append(all, IndexView{RecordIndex: fileIndex(f, rec), Kind: KindRecording})
	}
	sort.SliceStable(all, func(i, j int) bool {
		if q.OrderDesc {
			return all[i].StartedAt.After(all[j].StartedAt)
		}
		return all[i].StartedAt.Before(all[j].StartedAt)
	})
	page := pageOf(all, q.Offset, q.Limit)
	for i := range page {
		if s.Objects != nil {
			page[i].URL = s.Objects.URL(ctx, page[i].Endpoint, page[i].Bucket, page[i].ObjectKey)
		}
	}
	return page, len(all), nil
}

// GetIndex returns an index (idx_…) or a recording's stored HLS file (f_…) of p's project;
// domain, app and stream, when set, must be its own.
func (s *Service) GetIndex(ctx context.Context, p Principal, domain, app, stream, id string) (*IndexView, error) {
	if strings.HasPrefix(id, store.IndexPrefix) {
		cat, err := s.catalog()
		if err != nil {
			return nil, err
		}
		x, err := cat.IndexGet(ctx, p.Project, id)
		if err != nil {
			return nil, fmt.Errorf("get index: %w", err)
		}
		if !sameStream(x.Domain, x.App, x.Stream, domain, app, stream) {
			return nil, fmt.Errorf("index %s: %w", id, recording.ErrNotFound)
		}
		return s.indexView(ctx, *x, KindIndex), nil
	}
	f, rec, err := s.hlsFile(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !sameStream(rec.Domain, rec.App, rec.Stream, domain, app, stream) {
		return nil, fmt.Errorf("index %s: %w", id, recording.ErrNotFound)
	}
	return s.indexView(ctx, fileIndex(*f, rec), KindRecording), nil
}

// hlsFile returns a stored HLS file of p's project and its recording.
func (s *Service) hlsFile(ctx context.Context, p Principal, id string) (*recording.File, *recording.Recording, error) {
	f, err := s.Store.FileGet(ctx, p.Project, id)
	if err != nil {
		return nil, nil, fmt.Errorf("get file: %w", err)
	}
	if f.Format != recording.FormatHLS || f.State != recording.FileStored {
		return nil, nil, fmt.Errorf("index %s: %w", id, recording.ErrNotFound)
	}
	rec, err := s.Store.RecordingGet(ctx, p.Project, f.RecordingID)
	if err != nil {
		return nil, nil, fmt.Errorf("get recording: %w", err)
	}
	return f, rec, nil
}

func sameStream(d, a, st, domain, app, stream string) bool {
	return (domain == "" || strings.EqualFold(d, domain)) && (app == "" || a == app) && (stream == "" || st == stream)
}

// DeleteIndex deletes an index (removeFile: its m3u8 too). For a recording's HLS file,
// removeFile deletes its playlist and slices and marks the file deleted; without it the
// request is a conflict: a recording's own playlist is not a record to drop.
func (s *Service) DeleteIndex(ctx context.Context, p Principal, domain, app, stream, id string, removeFile bool) error {
	x, err := s.GetIndex(ctx, p, domain, app, stream, id)
	if err != nil {
		return err
	}
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	if x.Kind == KindRecording {
		if !removeFile {
			return fmt.Errorf("a recording's own playlist is deleted with its files (RemoveFile): %w", recording.ErrConflict)
		}
		f, _, err := s.hlsFile(ctx, p, id)
		if err != nil {
			return err
		}
		if err := s.deleteFileObjects(ctx, cat, f); err != nil {
			return err
		}
		return cat.FileDelete(ctx, p.Project, id, s.now())
	}
	if removeFile && s.Objects != nil {
		if err := s.Objects.Delete(ctx, x.Endpoint, x.Bucket, x.ObjectKey); err != nil {
			return fmt.Errorf("delete index object: %w", err)
		}
	}
	if err := cat.IndexDelete(ctx, p.Project, id); err != nil {
		return fmt.Errorf("delete index: %w", err)
	}
	return nil
}

// renderObject renders an index or clip key template with both clouds' variables and the
// actual range, and adds ext when the key lacks it.
func renderObject(tmpl, def, ext, domain, app, stream string, start, end time.Time) (string, error) {
	if strings.TrimSpace(tmpl) == "" {
		tmpl = def
	}
	start, end = start.UTC(), end.UTC()
	iso := "2006-01-02T15:04:05Z"
	r := strings.NewReplacer(
		"{publish_domain}", domain, "{DomainName}", domain, "{Domain}", domain,
		"{app}", app, "{AppName}", app, "{stream}", stream, "{StreamName}", stream,
		"{start_time}", start.Format(iso), "{end_time}", end.Format(iso),
		"{Date}", start.Format("2006-01-02"), "{Hour}", start.Format("15"), "{Minute}", start.Format("04"),
		"{Second}", start.Format("05"), "{UnixTimestamp}", strconv.FormatInt(start.Unix(), 10),
		"{StartTime}", start.Format("2006-01-02-15:04:05"), "{EndTime}", end.Format("2006-01-02-15:04:05"),
		"{EscapedStartTime}", start.Format("2006-01-02-15-04-05"), "{EscapedEndTime}", end.Format("2006-01-02-15-04-05"))
	key := strings.TrimLeft(r.Replace(strings.TrimSpace(tmpl)), "/")
	if !strings.HasSuffix(key, ext) {
		key += ext
	}
	if key == ext || path.Clean(key) != key || strings.Contains(key, "..") || strings.ContainsAny(key, "{}") {
		return "", &recording.ValidationError{Field: "object", Reason: "does not make a valid object key: " + strconv.Quote(key)}
	}
	return key, nil
}
