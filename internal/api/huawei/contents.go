package huawei

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// CatalogService is what the record contents and index, online stream, stream block and
// schedule task endpoints need from *service.Service.
type CatalogService interface {
	RecordContents(ctx context.Context, p service.Principal, q service.ContentQuery) ([]service.FileView, int, error)
	CreateIndex(ctx context.Context, p service.Principal, req service.IndexRequest) (*service.IndexView, error)

	ListLiveStreams(ctx context.Context, p service.Principal, f service.LiveFilter) ([]recording.LiveStream, error)
	KickStream(ctx context.Context, p service.Principal, domain, app, stream string) error
	ForbidStream(ctx context.Context, p service.Principal, b recording.StreamBlock) (bool, error)
	ResumeStream(ctx context.Context, p service.Principal, domain, app, stream string) error
	GetBlock(ctx context.Context, p service.Principal, domain, app, stream string) (*recording.StreamBlock, error)
	ListBlocks(ctx context.Context, p service.Principal, f store.BlockFilter) ([]recording.StreamBlock, int, error)

	CreatePlanTask(ctx context.Context, p service.Principal, t *recording.PlanTask) error
	ListPlanTasks(ctx context.Context, p service.Principal, f store.TaskFilter) ([]recording.PlanTask, int, error)
	StopPlanTask(ctx context.Context, p service.Principal, id string) error
}

// Record index limits (B.3): the range spans at most 12 h, ends by now and starts within the
// last 30 days.
const (
	indexMaxSpan = 12 * time.Hour
	indexOldest  = 30 * 24 * time.Hour
)

// contentTypes are the record_type values a content query filters by. The SDK's enum has the
// first two; PLAN_RECORD is the rules' type of the same name.
var contentTypes = map[string]recording.Mode{
	typeContinuous: recording.ModeAuto,
	typeCommand:    recording.ModeManual,
	typePlan:       recording.ModePlan,
}

// contentOut is RecordContentInfoV2.
type contentOut struct {
	PublishDomain string  `json:"publish_domain"`
	FileName      string  `json:"file_name"`
	App           string  `json:"app"`
	Stream        string  `json:"stream"`
	RecordFormat  string  `json:"record_format"`
	RecordType    string  `json:"record_type"`
	ObsAddr       obsAddr `json:"obs_addr"`
	DownloadURL   string  `json:"download_url,omitempty"`
	StartTime     string  `json:"start_time"`
	EndTime       string  `json:"end_time,omitempty"`
	Duration      int     `json:"duration"`
}

type contentList struct {
	Total          int          `json:"total"`
	RecordContents []contentOut `json:"record_contents"`
}

// listRecordContents is GET /record/contents (ListRecordContents): the stored files of a
// domain's streams that overlap [start_time, end_time). Its offset is a page number from 0,
// unlike the other lists' offsets. Without record_type every type is listed, each file
// showing its own.
func (h *handler) listRecordContents(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	q := r.URL.Query()
	page, limit, err := pageNumber(q, "offset", "limit")
	if err != nil {
		return err
	}
	cq := service.ContentQuery{Domain: strings.TrimSpace(q.Get("publish_domain")), App: q.Get("app"), Stream: q.Get("stream"),
		Offset: page * limit, Limit: limit}
	if cq.Domain == "" || cq.Domain == recording.Wildcard {
		return badParameter("publish_domain", "a domain is required")
	}
	if v := q.Get("record_type"); v != "" {
		mode, ok := contentTypes[v]
		if !ok {
			return badParameter("record_type", "must be CONTINUOUS_RECORD, COMMAND_RECORD or PLAN_RECORD")
		}
		cq.Mode = mode
	}
	if cq.From, err = queryTime(q, "start_time", true); err != nil {
		return err
	}
	if cq.To, err = queryTime(q, "end_time", false); err != nil {
		return err
	}
	if !cq.To.IsZero() && !cq.To.After(cq.From) {
		return badParameter("end_time", "must be after start_time")
	}
	files, total, err := h.svc.RecordContents(r.Context(), p, cq)
	if err != nil {
		return err
	}
	out := contentList{Total: total, RecordContents: make([]contentOut, 0, len(files))}
	for i := range files {
		out.RecordContents = append(out.RecordContents, contentOutOf(&files[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func contentOutOf(f *service.FileView) contentOut {
	c := contentOut{PublishDomain: f.Domain, FileName: path.Base(f.ObjectKey), App: f.App, Stream: f.Stream,
		RecordFormat: strings.ToUpper(string(f.Format)), RecordType: recordTypeOf(f.Mode),
		ObsAddr:     obsAddr{Bucket: f.Bucket, Location: f.Endpoint, Object: f.ObjectKey},
		DownloadURL: f.URL, StartTime: formatTime(f.StartedAt), Duration: seconds(f.Duration)}
	if f.EndedAt != nil {
		c.EndTime = formatTime(*f.EndedAt)
	}
	return c
}

// seconds rounds d to whole seconds, as the cloud's durations are.
func seconds(d time.Duration) int { return int(math.Round(d.Seconds())) }

// queryTime parses a yyyy-mm-ddThh:mm:ssZ query parameter; a zero time when it is absent and
// not required.
func queryTime(q url.Values, name string, required bool) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		if required {
			return time.Time{}, badParameter(name, "is required")
		}
		return time.Time{}, nil
	}
	return parseTime(name, v)
}

// parseTime reads a time as the SDK writes it (yyyy-mm-ddThh:mm:ssZ); any RFC 3339 time is
// taken too.
func parseTime(name, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badParameter(name, "must be a time as yyyy-mm-ddThh:mm:ssZ (UTC)")
	}
	return t.UTC(), nil
}

// indexBody is RecordIndexRequestBody.
type indexBody struct {
	PublishDomain string  `json:"publish_domain"`
	App           string  `json:"app"`
	Stream        string  `json:"stream"`
	StartTime     *string `json:"start_time"`
	EndTime       *string `json:"end_time"`
	Object        *string `json:"object"`
}

// indexOut is CreateRecordIndexResponse.
type indexOut struct {
	IndexURL      string `json:"index_url"`
	PublishDomain string `json:"publish_domain"`
	App           string `json:"app"`
	Stream        string `json:"stream"`
	StartTime     string `json:"start_time"`
	EndTime       string `json:"end_time"`
	Duration      int    `json:"duration"`
	Width         int    `json:"width"`
	Height        int    `json:"height"`
	Location      string `json:"location"`
	Bucket        string `json:"bucket"`
	Object        string `json:"object"`
}

// createRecordIndex is POST /record/indexes (CreateRecordIndex): an m3u8 over the stored HLS
// slices of one stream that overlap the range, written beside them (201). The range spans at
// most 12 h, ends by now and starts within the last 30 days; a range with no stored slice is
// the not-found code.
func (h *handler) createRecordIndex(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	var b indexBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	for _, f := range []struct{ name, value string }{
		{"publish_domain", b.PublishDomain}, {"app", b.App}, {"stream", b.Stream},
	} {
		if strings.TrimSpace(f.value) == "" || f.value == recording.Wildcard {
			return badParameter(f.name, "one stream must be named (no \"*\")")
		}
	}
	var from, to time.Time
	for _, t := range []struct {
		name string
		v    *string
		dst  *time.Time
	}{{"start_time", b.StartTime, &from}, {"end_time", b.EndTime, &to}} {
		if t.v == nil || *t.v == "" {
			return badParameter(t.name, "is required")
		}
		v, err := parseTime(t.name, *t.v)
		if err != nil {
			return err
		}
		*t.dst = v
	}
	now := h.now()
	switch {
	case !to.After(from):
		return badParameter("end_time", "illegal time range: must be after start_time")
	case to.Sub(from) > indexMaxSpan:
		return badParameter("end_time", "illegal time range: at most 12 hours after start_time")
	case to.After(now):
		return badParameter("end_time", "illegal time range: must not be later than now")
	case !from.After(now.Add(-indexOldest)):
		return badParameter("start_time", "illegal time range: must be within the last 30 days")
	}
	req := service.IndexRequest{Domain: b.PublishDomain, App: b.App, Stream: b.Stream, From: from, To: to,
		MaxSpan: indexMaxSpan, Oldest: indexOldest}
	if b.Object != nil {
		req.Object = *b.Object
	}
	x, err := h.svc.CreateIndex(r.Context(), p, req)
	if err != nil {
		h.fail(w, r, err, indexField)
		return nil
	}
	writeJSON(w, http.StatusCreated, indexOut{IndexURL: x.URL, PublishDomain: x.Domain, App: x.App, Stream: x.Stream,
		StartTime: formatTime(x.StartedAt), EndTime: formatTime(x.EndedAt), Duration: seconds(x.Duration),
		Width: x.Width, Height: x.Height, Location: x.Endpoint, Bucket: x.Bucket, Object: x.ObjectKey})
	return nil
}

// indexField names a field of service.IndexRequest as RecordIndexRequestBody does.
func indexField(f string) string {
	switch strings.ToLower(f) {
	case "domain":
		return "publish_domain"
	case "from", "start", "start_time":
		return "start_time"
	case "to", "end", "end_time":
		return "end_time"
	}
	return f
}

// pageNumber reads a page number parameter (from 0) and a page size parameter (1–100, default
// 10) under the given names.
func pageNumber(q url.Values, pageName, sizeName string) (page, size int, err error) {
	size = defaultLimit
	if v := q.Get(pageName); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 0 || page > math.MaxInt32 {
			return 0, 0, badParameter(pageName, "must be an integer from 0 to 2147483647")
		}
	}
	if v := q.Get(sizeName); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > maxLimit {
			return 0, 0, badParameter(sizeName, "must be an integer from 1 to 100")
		}
	}
	return page, size, nil
}
