package native

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/retention"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// CatalogService is what the catalogue, playback, index, clip and stream-control routes need
// from *service.Service. The service decides tenancy: another project's domain, recording,
// index or task is recording.ErrNotFound.
type CatalogService interface {
	ListLiveStreams(ctx context.Context, p service.Principal, f service.LiveFilter) ([]recording.LiveStream, error)
	ListNodes(ctx context.Context, p service.Principal) ([]store.Node, error)
	StreamState(ctx context.Context, p service.Principal, domain, app, stream string) (*recording.LiveStream, error)
	KickStream(ctx context.Context, p service.Principal, domain, app, stream string) error
	ListPublishes(ctx context.Context, p service.Principal, f store.PublishFilter) ([]recording.Publish, int, error)
	ForbidStream(ctx context.Context, p service.Principal, b recording.StreamBlock) (bool, error)
	ResumeStream(ctx context.Context, p service.Principal, domain, app, stream string) error
	GetBlock(ctx context.Context, p service.Principal, domain, app, stream string) (*recording.StreamBlock, error)
	ListBlocks(ctx context.Context, p service.Principal, f store.BlockFilter) ([]recording.StreamBlock, int, error)

	ListRecordings(ctx context.Context, p service.Principal, f store.RecordingFilter) ([]recording.Recording, int, string, error)
	GetRecording(ctx context.Context, p service.Principal, id string) (*service.RecordingDetail, error)
	ListFiles(ctx context.Context, p service.Principal, f store.FileFilter) ([]service.FileView, int, string, error)
	DeleteRecordingFiles(ctx context.Context, p service.Principal, id string) (int, error)
	LockRecording(ctx context.Context, p service.Principal, id string, locked bool) (*recording.Recording, error)
	RetentionPreview(ctx context.Context, p service.Principal) ([]retention.Due, error)

	CreateIndex(ctx context.Context, p service.Principal, req service.IndexRequest) (*service.IndexView, error)
	ListIndexes(ctx context.Context, p service.Principal, q service.IndexQuery) ([]service.IndexView, int, error)
	GetIndex(ctx context.Context, p service.Principal, domain, app, stream, id string) (*service.IndexView, error)
	DeleteIndex(ctx context.Context, p service.Principal, domain, app, stream, id string, removeFile bool) error
	CreateClip(ctx context.Context, p service.Principal, req service.ClipRequest) (*service.FileView, error)
	CreateEvent(ctx context.Context, p service.Principal, req service.EventRequest) (*service.EventView, error)

	CreatePlanTask(ctx context.Context, p service.Principal, t *recording.PlanTask) error
	ListPlanTasks(ctx context.Context, p service.Principal, f store.TaskFilter) ([]recording.PlanTask, int, error)
	StopPlanTask(ctx context.Context, p service.Principal, id string) error
}

// page is the body of the catalogue's lists. NextCursor continues a cursor-paged list and is
// absent at its end (and on offset-paged lists).
type page[T any] struct {
	Total      int    `json:"total"`
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func pageOf[T any](items []T, total int, next string) page[T] {
	if items == nil {
		items = []T{}
	}
	return page[T]{Total: total, Items: items, NextCursor: next}
}

// Paging of the cursor-paged lists (recordings, files), which can be long.
const (
	defaultCursorLimit = 50
	maxCursorLimit     = 500
)

// cursorPage is the paging of a cursor-paged list: newest first unless order=asc.
type cursorPage struct {
	limit  int
	cursor string
	desc   bool
}

func cursorPaging(q url.Values) (cursorPage, error) {
	limit, err := intParam(q.Get("limit"), "limit", defaultCursorLimit, 1, maxCursorLimit)
	if err != nil {
		return cursorPage{}, err
	}
	cp := cursorPage{limit: limit, cursor: q.Get("cursor"), desc: true}
	switch q.Get("order") {
	case "", "desc":
	case "asc":
		cp.desc = false
	default:
		return cursorPage{}, invalidArgument("order", "order must be asc or desc")
	}
	return cp, nil
}

// cursorError turns the store's "no such cursor" into a 400 naming the parameter: a cursor
// is only valid for the list (and order) that returned it.
func cursorError(err error, cursor string) error {
	if cursor != "" && errors.Is(err, recording.ErrNotFound) {
		return invalidArgument("cursor", "cursor does not continue this list")
	}
	return err
}

// offsetLimit reads the offset and limit of a list with a fixed order.
func offsetLimit(q url.Values) (offset, limit int, err error) {
	if offset, err = intParam(q.Get("offset"), "offset", 0, 0, -1); err != nil {
		return 0, 0, err
	}
	limit, err = intParam(q.Get("limit"), "limit", defaultLimit, 1, maxLimit)
	return offset, limit, err
}

// timeRange reads the optional from and to (RFC 3339) of a list; to must be after from.
func timeRange(q url.Values) (from, to time.Time, err error) {
	if from, err = queryTime(q, "from"); err != nil {
		return from, to, err
	}
	if to, err = queryTime(q, "to"); err != nil {
		return from, to, err
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return from, to, invalidArgument("to", "to must be after from")
	}
	return from, to, nil
}

// boolParam parses an optional boolean query parameter (true/false, 1/0).
func boolParam(q url.Values, name string) (bool, error) {
	if !q.Has(name) {
		return false, nil
	}
	b, err := strconv.ParseBool(q.Get(name))
	if err != nil {
		return false, invalidArgument(name, "%s must be true or false", name)
	}
	return b, nil
}

// enumParam reads an optional query parameter that must be one of values.
func enumParam[T ~string](q url.Values, name string, values ...T) (T, error) {
	v := T(q.Get(name))
	if v != "" && !slices.Contains(values, v) {
		return "", invalidArgument(name, "%s must be one of %v", name, values)
	}
	return v, nil
}

var (
	recordingStates = []recording.State{recording.RecordingActive, recording.RecordingPaused,
		recording.RecordingOver, recording.RecordingFailed, recording.RecordingNotRecorded}
	fileStates = []recording.FileState{recording.FileWriting, recording.FileCompleted, recording.FileStored,
		recording.FileFailed, recording.FileDeleted}
	recordingModes = []recording.Mode{recording.ModeAuto, recording.ModeOnDemandHTTP, recording.ModeOnDemandParam,
		recording.ModeManual, recording.ModePlan, recording.ModeClip, recording.ModeEvent}
	fileFormats = []recording.Format{recording.FormatFLV, recording.FormatMP4, recording.FormatHLS}
)

// streamKey is the {domain}/{app}/{stream} of a path.
type streamKey struct{ domain, app, stream string }

func pathStreamKey(r *http.Request) streamKey {
	return streamKey{domain: pathDomain(r), app: r.PathValue("app"), stream: r.PathValue("stream")}
}

// requireStreamKey refuses a body that does not name one stream.
func requireStreamKey(domain, app, stream string) error {
	for _, part := range []struct{ field, v string }{{"domain", domain}, {"app", app}, {"stream", stream}} {
		if part.v == "" || part.v == recording.Wildcard {
			return invalidArgument(part.field, "%s must name one %s", part.field, part.field)
		}
	}
	return nil
}

// requiredTime parses a required RFC 3339 body field.
func requiredTime(s *string, field string) (time.Time, error) {
	if s == nil {
		return time.Time{}, invalidArgument(field, "%s is required", field)
	}
	t, err := timeParam(s, field)
	if err != nil {
		return time.Time{}, err
	}
	return *t, nil
}

// bodyRange reads a body's required start_time and end_time; the end must be after the start.
func bodyRange(start, end *string) (from, to time.Time, err error) {
	if from, err = requiredTime(start, "start_time"); err != nil {
		return from, to, err
	}
	if to, err = requiredTime(end, "end_time"); err != nil {
		return from, to, err
	}
	if !to.After(from) {
		return from, to, invalidArgument("end_time", "end_time must be after start_time")
	}
	return from, to, nil
}
