package aliyun

import (
	"context"
	"errors"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// ContentService is what the content and index actions need from *service.Service.
type ContentService interface {
	RecordContents(ctx context.Context, p service.Principal, q service.ContentQuery) ([]service.FileView, int, error)
	CreateIndex(ctx context.Context, p service.Principal, req service.IndexRequest) (*service.IndexView, error)
	ListIndexes(ctx context.Context, p service.Principal, q service.IndexQuery) ([]service.IndexView, int, error)
	GetIndex(ctx context.Context, p service.Principal, domain, app, stream, id string) (*service.IndexView, error)
	DeleteIndex(ctx context.Context, p service.Principal, domain, app, stream, id string, removeFile bool) error
}

// maxRecordSpan bounds StartTime–EndTime of the content and index actions, as the cloud does.
const maxRecordSpan = 4 * 24 * time.Hour

var (
	// errNoMedia is the cloud's answer to an index over a range without ingest, spelling
	// included.
	errNoMedia = newError(http.StatusNotFound, "InvalidStream.NotFound", "Speicified stream does not exist")
	// errRecordMissing answers a RecordId that names no index of the stream.
	errRecordMissing = newError(http.StatusNotFound, "InvalidRecordId.NotFound", "Specified record does not exist.")
)

// streamKey reads the required DomainName, AppName and StreamName of one stream.
func streamKey(q params) (domain, app, stream string, err error) {
	var v [3]string
	for i, name := range []string{"DomainName", "AppName", "StreamName"} {
		if v[i], err = q.required(name); err != nil {
			return "", "", "", err
		}
	}
	if err = checkDomain(v[0]); err != nil {
		return "", "", "", err
	}
	if err = checkName("AppName", v[1], false); err != nil {
		return "", "", "", err
	}
	if err = checkName("StreamName", v[2], false); err != nil {
		return "", "", "", err
	}
	return strings.ToLower(v[0]), v[1], v[2], nil
}

// timeRange reads the required StartTime and EndTime: EndTime after StartTime, at most
// maxSpan apart.
func timeRange(q params, maxSpan time.Duration) (from, to time.Time, err error) {
	for _, name := range []string{"StartTime", "EndTime"} {
		if _, err = q.required(name); err != nil {
			return from, to, err
		}
	}
	start, end, err := requestWindow(q)
	if err != nil {
		return from, to, err
	}
	switch {
	case !end.After(*start):
		return from, to, errInvalid("EndTime", "must be after StartTime")
	case end.Sub(*start) > maxSpan:
		return from, to, errInvalid("EndTime", "must be at most "+spanText(maxSpan)+" after StartTime")
	}
	return *start, *end, nil
}

func spanText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + " days"
	}
	return d.String()
}

// catalogParams name the Alibaba parameter of each field the service's validation errors may
// carry.
var catalogParams = map[string]string{
	"domain": "DomainName", "app": "AppName", "stream": "StreamName",
	"from": "StartTime", "start_time": "StartTime", "to": "EndTime", "end_time": "EndTime",
	"endpoint": "OssEndpoint", "bucket": "OssBucket", "object": "OssObject",
	"resume_at": "ResumeTime",
}

// catalogError maps the service's errors for the content, index and stream actions; notFound
// answers recording.ErrNotFound (the domain, unless the caller checked it first).
func catalogError(err error, notFound *apiError) error {
	var ve *recording.ValidationError
	switch {
	case errors.As(err, &ve):
		name := catalogParams[ve.Field]
		if name == "" {
			name = ve.Field
		}
		return errInvalid(name, ve.Reason)
	case errors.Is(err, service.ErrNoMedia):
		return errNoMedia
	case errors.Is(err, recording.ErrNotLive):
		return errStreamMissing
	}
	if e, ok := toAPIError(err, notFound); ok {
		return e
	}
	return err
}

type recordContentInfo struct {
	StartTime       string  `json:"StartTime"`
	EndTime         string  `json:"EndTime"`
	Duration        float64 `json:"Duration"`
	OssBucket       string  `json:"OssBucket"`
	OssEndpoint     string  `json:"OssEndpoint"`
	OssObjectPrefix string  `json:"OssObjectPrefix"`
}

type describeRecordContentResponse struct {
	base
	RecordContentInfoList struct {
		RecordContentInfo []recordContentInfo `json:"RecordContentInfo"`
	} `json:"RecordContentInfoList"`
}

// contentFormats is the order in which DescribeLiveStreamRecordContent looks for a stream's
// stored files: its HLS playlists when it has any in the range (what the cloud's content is
// made of), else its MP4 files, else its FLV files. One format only, so a span recorded in
// several formats is listed once.
var contentFormats = []recording.Format{recording.FormatHLS, recording.FormatMP4, recording.FormatFLV}

// describeRecordContent lists the stored files of a stream whose span overlaps StartTime–
// EndTime (at most 4 days), oldest first: one entry per file, OssObjectPrefix being the
// directory of its object key.
func (h *handler) describeRecordContent(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, app, stream, err := streamKey(q)
	if err != nil {
		return nil, err
	}
	from, to, err := timeRange(q, maxRecordSpan)
	if err != nil {
		return nil, err
	}
	resp := &describeRecordContentResponse{}
	resp.RecordContentInfoList.RecordContentInfo = []recordContentInfo{}
	for _, f := range contentFormats {
		files, _, err := h.svc.RecordContents(ctx, p, service.ContentQuery{Domain: domain, App: app, Stream: stream,
			From: from, To: to, Format: f})
		if err != nil {
			return nil, catalogError(err, errDomain)
		}
		if len(files) == 0 {
			continue
		}
		for _, v := range files {
			resp.RecordContentInfoList.RecordContentInfo = append(resp.RecordContentInfoList.RecordContentInfo, contentInfo(&v.File))
		}
		break
	}
	return resp, nil
}

func contentInfo(f *recording.File) recordContentInfo {
	end := f.StartedAt.Add(f.Duration)
	if f.EndedAt != nil {
		end = *f.EndedAt
	}
	dir := path.Dir(f.ObjectKey)
	if dir == "." {
		dir = ""
	}
	return recordContentInfo{StartTime: utc(f.StartedAt), EndTime: utc(end), Duration: f.Duration.Seconds(),
		OssBucket: f.Bucket, OssEndpoint: f.Endpoint, OssObjectPrefix: dir}
}

// utc formats a time as the cloud does; the zero time is empty.
func utc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}
