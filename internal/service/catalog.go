package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/retention"
	"github.com/liverec/liverec/internal/store"
)

// Catalogue: recordings, their files and events, and the stored media of a stream.

// Objects reaches the objects of the storage endpoints (the app implements it over blob).
type Objects interface {
	// PutBytes stores data at bucket/key of endpoint without overwriting (a taken key gets a
	// _N suffix) and returns the key used.
	PutBytes(ctx context.Context, endpoint, bucket, key string, data []byte) (string, error)
	// PutFile stores the file at path the same way; the file is consumed.
	PutFile(ctx context.Context, endpoint, bucket, key, path string) (string, error)
	// Delete removes an object; a missing one is not an error.
	Delete(ctx context.Context, endpoint, bucket, key string) error
	// Open reads an object.
	Open(ctx context.Context, endpoint, bucket, key string) (io.ReadCloser, error)
	// URL is a playable URL of the object ("" when none can be made).
	URL(ctx context.Context, endpoint, bucket, key string) string
	// Resolve gives the endpoint's name for a name or alias; false when none matches.
	Resolve(name string) (string, bool)
}

// RecordingDetail is a recording with its files and events.
type RecordingDetail struct {
	recording.Recording
	// LiveURL is the live HLS playlist of a recording in progress ("" when none).
	LiveURL string                  `json:"live_url,omitempty"`
	Files   []FileView              `json:"files"`
	Events  []recording.OutboxEvent `json:"events"`
}

// FileView is a file with its playable URL and the stream and mode of its recording.
type FileView struct {
	recording.File
	URL    string         `json:"url,omitempty"`
	Domain string         `json:"domain"`
	App    string         `json:"app"`
	Stream string         `json:"stream"`
	Mode   recording.Mode `json:"mode,omitempty"`
}

func (s *Service) catalog() (store.Catalog, error) {
	if s.Catalog == nil {
		return nil, errors.New("the catalogue is not available")
	}
	return s.Catalog, nil
}

// ListRecordings pages the recordings of p's project; the returned cursor continues the list
// ("" at its end).
func (s *Service) ListRecordings(ctx context.Context, p Principal, f store.RecordingFilter) ([]recording.Recording, int, string, error) {
	f.Project, f.Domain = p.Project, strings.ToLower(f.Domain)
	recs, total, err := s.Store.RecordingList(ctx, f)
	if err != nil {
		return nil, 0, "", fmt.Errorf("list recordings: %w", err)
	}
	next := ""
	if f.Limit > 0 && len(recs) == f.Limit {
		next = recs[len(recs)-1].ID
	}
	return recs, total, next, nil
}

// GetRecording returns a recording of p's project with its files (and their URLs) and events.
func (s *Service) GetRecording(ctx context.Context, p Principal, id string) (*RecordingDetail, error) {
	rec, err := s.Store.RecordingGet(ctx, p.Project, id)
	if err != nil {
		return nil, fmt.Errorf("get recording: %w", err)
	}
	files, _, err := s.Store.FileList(ctx, store.FileFilter{RecordingID: id})
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	evs, err := s.Store.EventsOf(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	views, err := s.fileViews(ctx, p, files, rec)
	if err != nil {
		return nil, err
	}
	d := &RecordingDetail{Recording: *rec, Files: views, Events: evs}
	if d.Events == nil {
		d.Events = []recording.OutboxEvent{}
	}
	if (rec.State == recording.RecordingActive || rec.State == recording.RecordingPaused) && s.LiveURL != nil {
		d.LiveURL = s.LiveURL(ctx, id)
	}
	return d, nil
}

// fileViews presents files of p's project with their URLs and their recordings' stream and
// mode; known recordings are given, the others are read once each (a page shares few).
func (s *Service) fileViews(ctx context.Context, p Principal, files []recording.File, known ...*recording.Recording) ([]FileView, error) {
	recs := map[string]*recording.Recording{}
	for _, r := range known {
		recs[r.ID] = r
	}
	out := make([]FileView, 0, len(files))
	for _, f := range files {
		rec := recs[f.RecordingID]
		if rec == nil {
			var err error
			if rec, err = s.Store.RecordingGet(ctx, p.Project, f.RecordingID); err != nil {
				return nil, fmt.Errorf("get recording of file %s: %w", f.ID, err)
			}
			recs[f.RecordingID] = rec
		}
		v := FileView{File: f, Domain: rec.Domain, App: rec.App, Stream: rec.Stream, Mode: rec.Mode}
		v.SpoolPath = "" // a path on the server: not the API's business
		if f.State == recording.FileStored && s.Objects != nil {
			v.URL = s.Objects.URL(ctx, f.Endpoint, f.Bucket, f.ObjectKey)
		}
		out = append(out, v)
	}
	return out, nil
}

// ListFiles pages the files of p's project's recordings, with their URLs; the returned cursor
// continues the list.
func (s *Service) ListFiles(ctx context.Context, p Principal, f store.FileFilter) ([]FileView, int, string, error) {
	f.Project, f.Domain = p.Project, strings.ToLower(f.Domain)
	files, total, err := s.Store.FileList(ctx, f)
	if err != nil {
		return nil, 0, "", fmt.Errorf("list files: %w", err)
	}
	next := ""
	if f.Limit > 0 && len(files) == f.Limit {
		next = files[len(files)-1].ID
	}
	views, err := s.fileViews(ctx, p, files)
	if err != nil {
		return nil, 0, "", err
	}
	return views, total, next, nil
}

// DeleteRecordingFiles removes the stored objects of a recording of p's project (an HLS file's
// slices with its playlist) and marks its files deleted; the records stay. Admin only. It
// returns how many files it deleted; files already deleted or not stored are left as they are.
func (s *Service) DeleteRecordingFiles(ctx context.Context, p Principal, id string) (int, error) {
	if !p.Admin {
		return 0, fmt.Errorf("delete stored files: %w", recording.ErrForbidden)
	}
	cat, err := s.catalog()
	if err != nil {
		return 0, err
	}
	rec, err := s.Store.RecordingGet(ctx, p.Project, id)
	if err != nil {
		return 0, fmt.Errorf("get recording: %w", err)
	}
	files, _, err := s.Store.FileList(ctx, store.FileFilter{RecordingID: id, State: recording.FileStored})
	if err != nil {
		return 0, fmt.Errorf("list files: %w", err)
	}
	if s.Deleter != nil {
		due := make([]store.DueFile, len(files))
		for i, f := range files {
			due[i] = store.DueFile{File: f, Recording: *rec}
		}
		n, _, err := s.Deleter.Delete(ctx, due, recording.DeleteAPI)
		if err != nil {
			return n, fmt.Errorf("delete stored files: %w", err)
		}
		return n, nil
	}
	n := 0
	for _, f := range files {
		if err := s.deleteFileObjects(ctx, cat, &f); err != nil {
			return n, err
		}
		if err := cat.FileDelete(ctx, p.Project, f.ID, s.now()); err != nil {
			return n, fmt.Errorf("mark file %s deleted: %w", f.ID, err)
		}
		n++
	}
	return n, nil
}

// deleteFileObjects removes a file's object and, for HLS, its slices' objects.
func (s *Service) deleteFileObjects(ctx context.Context, cat store.Catalog, f *recording.File) error {
	if s.Objects == nil {
		return errors.New("storage is not available")
	}
	return retention.DeleteObjects(ctx, s.Objects, cat, f)
}

// ContentQuery selects the stored files of one stream in a time range (Alibaba
// DescribeLiveStreamRecordContent, Huawei record/contents).
type ContentQuery struct {
	Domain, App, Stream string
	From, To            time.Time
	Format              recording.Format
	Mode                recording.Mode
	Offset, Limit       int
}

// RecordContents returns the stored files of a stream of p's domain whose span overlaps the
// range, oldest first, and how many there are. Clips are exports of the recordings, not
// recorded content: they are left out unless q.Mode asks for them.
func (s *Service) RecordContents(ctx context.Context, p Principal, q ContentQuery) ([]FileView, int, error) {
	domain := strings.ToLower(q.Domain)
	if err := s.CheckDomain(ctx, p, domain); err != nil {
		return nil, 0, err
	}
	notMode := recording.ModeClip
	if q.Mode != "" {
		notMode = ""
	}
	files, total, err := s.Store.FileList(ctx, store.FileFilter{Project: p.Project, Domain: domain, App: q.App,
		Stream: q.Stream, State: recording.FileStored, Format: q.Format, Mode: q.Mode, NotMode: notMode,
		From: q.From, To: q.To, Offset: q.Offset, Limit: q.Limit})
	if err != nil {
		return nil, 0, fmt.Errorf("list record contents: %w", err)
	}
	views, err := s.fileViews(ctx, p, files)
	if err != nil {
		return nil, 0, err
	}
	return views, total, nil
}
