package aliyun

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// Index files: m3u8 playlists written on request over the stored HLS slices of one stream in a
// time range (CreateLiveStreamRecordIndexFiles), listed, described and deleted by RecordId.
// The list shows the recordings' own stored playlists too, as the cloud's does.

// maxObjectLen bounds OssObject: it becomes an object key.
const maxObjectLen = 1024

// maxRecordIDs bounds RecordId.N of one delete.
const maxRecordIDs = 100

// recordIndexInfo is the cloud's RecordIndexInfo; RecordInfo (the create answer) is the same
// without Format.
type recordIndexInfo struct {
	RecordID    string  `json:"RecordId"`
	RecordURL   string  `json:"RecordUrl"`
	Format      string  `json:"Format,omitempty"`
	DomainName  string  `json:"DomainName"`
	AppName     string  `json:"AppName"`
	StreamName  string  `json:"StreamName"`
	OssBucket   string  `json:"OssBucket"`
	OssEndpoint string  `json:"OssEndpoint"`
	OssObject   string  `json:"OssObject"`
	StartTime   string  `json:"StartTime"`
	EndTime     string  `json:"EndTime"`
	Duration    float64 `json:"Duration"`
	Height      int     `json:"Height"`
	Width       int     `json:"Width"`
	CreateTime  string  `json:"CreateTime"`
}

func indexInfo(v *service.IndexView, withFormat bool) recordIndexInfo {
	x := &v.RecordIndex
	r := recordIndexInfo{RecordID: x.ID, RecordURL: v.URL, DomainName: x.Domain, AppName: x.App, StreamName: x.Stream,
		OssBucket: x.Bucket, OssEndpoint: x.Endpoint, OssObject: x.ObjectKey, StartTime: utc(x.StartedAt),
		EndTime: utc(x.EndedAt), Duration: x.Duration.Seconds(), Height: x.Height, Width: x.Width, CreateTime: utc(x.CreatedAt)}
	if withFormat {
		r.Format = "m3u8"
	}
	return r
}

type createIndexFilesResponse struct {
	base
	RecordInfo recordIndexInfo `json:"RecordInfo"`
}

// createIndexFiles writes an m3u8 at OssEndpoint/OssBucket/OssObject over the stream's stored
// slices that overlap StartTime–EndTime (at most 4 days); EndTimeIncluded takes one more slice
// after EndTime. A range without stored slices is InvalidStream.NotFound.
func (h *handler) createIndexFiles(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, app, stream, err := streamKey(q)
	if err != nil {
		return nil, err
	}
	var v [3]string
	for i, name := range []string{"OssEndpoint", "OssBucket", "OssObject"} {
		if v[i], err = q.required(name); err != nil {
			return nil, err
		}
	}
	if len(v[2]) > maxObjectLen {
		return nil, errInvalid("OssObject", "must be at most "+strconv.Itoa(maxObjectLen)+" bytes")
	}
	from, to, err := timeRange(q, maxRecordSpan)
	if err != nil {
		return nil, err
	}
	included, _, err := q.optBool("EndTimeIncluded")
	if err != nil {
		return nil, err
	}
	x, err := h.svc.CreateIndex(ctx, p, service.IndexRequest{Domain: domain, App: app, Stream: stream, From: from, To: to,
		EndIncluded: included, Endpoint: v[0], Bucket: v[1], Object: v[2], MaxSpan: maxRecordSpan})
	if err != nil {
		return nil, catalogError(err, errDomain)
	}
	return &createIndexFilesResponse{RecordInfo: indexInfo(x, false)}, nil
}

type describeIndexFilesResponse struct {
	base
	PageNum             int    `json:"PageNum"`
	PageSize            int    `json:"PageSize"`
	Order               string `json:"Order"`
	TotalNum            int    `json:"TotalNum"`
	TotalPage           int    `json:"TotalPage"`
	RecordIndexInfoList struct {
		RecordIndexInfo []recordIndexInfo `json:"RecordIndexInfo"`
	} `json:"RecordIndexInfoList"`
}

// describeIndexFiles pages the index files of a stream whose range overlaps StartTime–EndTime
// (at most 4 days): PageNum from 1, PageSize 5–30 (default 10), Order asc (default) or desc by
// start time.
func (h *handler) describeIndexFiles(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, app, stream, err := streamKey(q)
	if err != nil {
		return nil, err
	}
	from, to, err := timeRange(q, maxRecordSpan)
	if err != nil {
		return nil, err
	}
	pageNum, err := q.intIn("PageNum", 1, 100000, 1)
	if err != nil {
		return nil, err
	}
	pageSize, err := q.intIn("PageSize", 5, 30, 10)
	if err != nil {
		return nil, err
	}
	order, err := q.oneOf("Order", "asc", "asc", "desc")
	if err != nil {
		return nil, err
	}
	xs, total, err := h.svc.ListIndexes(ctx, p, service.IndexQuery{Domain: domain, App: app, Stream: stream, From: from, To: to,
		Offset: (pageNum - 1) * pageSize, Limit: pageSize, OrderDesc: order == "desc"})
	if err != nil {
		return nil, catalogError(err, errDomain)
	}
	resp := &describeIndexFilesResponse{PageNum: pageNum, PageSize: pageSize, Order: order, TotalNum: total,
		TotalPage: (total + pageSize - 1) / pageSize}
	resp.RecordIndexInfoList.RecordIndexInfo = make([]recordIndexInfo, 0, len(xs))
	for i := range xs {
		resp.RecordIndexInfoList.RecordIndexInfo = append(resp.RecordIndexInfoList.RecordIndexInfo, indexInfo(&xs[i], true))
	}
	return resp, nil
}

type describeIndexFileResponse struct {
	base
	RecordIndexInfo recordIndexInfo `json:"RecordIndexInfo"`
}

// describeIndexFile describes one index file of a stream by its RecordId.
func (h *handler) describeIndexFile(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, app, stream, err := streamKey(q)
	if err != nil {
		return nil, err
	}
	id, err := q.required("RecordId")
	if err != nil {
		return nil, err
	}
	// The domain first: a not-found afterwards is the record's.
	if err = h.svc.CheckDomain(ctx, p, domain); err != nil {
		return nil, catalogError(err, errDomain)
	}
	x, err := h.svc.GetIndex(ctx, p, domain, app, stream, id)
	if err != nil {
		return nil, catalogError(err, errRecordMissing)
	}
	return &describeIndexFileResponse{RecordIndexInfo: indexInfo(x, true)}, nil
}

type recordDeleteInfo struct {
	RecordID string `json:"RecordId"`
	Message  string `json:"Message"`
}

type deleteIndexFilesResponse struct {
	base
	Code                 string `json:"Code"`
	Message              string `json:"Message"`
	RecordDeleteInfoList struct {
		RecordDeleteInfo []recordDeleteInfo `json:"RecordDeleteInfo"`
	} `json:"RecordDeleteInfoList"`
}

// deleteIndexFiles deletes the index records RecordId.1…N of a stream; RemoveFile deletes
// their m3u8 objects too. Each id gets its own Message: "OK", or why it was not deleted (a
// recording's own playlist goes only with RemoveFile, its slices with it). Code and Message
// are "OK" when every id was deleted, "PartialFailure" and a count otherwise.
func (h *handler) deleteIndexFiles(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, app, stream, err := streamKey(q)
	if err != nil {
		return nil, err
	}
	ids, err := recordIDs(q)
	if err != nil {
		return nil, err
	}
	remove, _, err := q.optBool("RemoveFile")
	if err != nil {
		return nil, err
	}
	if err = h.svc.CheckDomain(ctx, p, domain); err != nil {
		return nil, catalogError(err, errDomain)
	}
	resp := &deleteIndexFilesResponse{Code: "OK", Message: "OK"}
	resp.RecordDeleteInfoList.RecordDeleteInfo = make([]recordDeleteInfo, 0, len(ids))
	failed := 0
	for _, id := range ids {
		msg := "OK"
		switch err := h.svc.DeleteIndex(ctx, p, domain, app, stream, id, remove); {
		case err == nil:
		case errors.Is(err, recording.ErrNotFound):
			msg = "Specified record does not exist."
		case errors.Is(err, recording.ErrConflict):
			msg = "A recording's own playlist is deleted only with RemoveFile."
		case errors.Is(err, recording.ErrForbidden):
			msg = "User not authorized to operate on the specified resource."
		default:
			h.log.Error("delete record index", "record_id", id, "err", err)
			msg = "The request processing has failed due to some unknown error."
		}
		if msg != "OK" {
			failed++
		}
		resp.RecordDeleteInfoList.RecordDeleteInfo = append(resp.RecordDeleteInfoList.RecordDeleteInfo,
			recordDeleteInfo{RecordID: id, Message: msg})
	}
	if failed > 0 {
		resp.Code = "PartialFailure"
		resp.Message = strconv.Itoa(failed) + " of " + strconv.Itoa(len(ids)) + " records were not deleted."
	}
	return resp, nil
}

// recordIDs reads the repeated RecordId.N (N from 1, as the SDK numbers them), in order.
func recordIDs(q params) ([]string, error) {
	byN := map[int]string{}
	for k, v := range q {
		idx, ok := strings.CutPrefix(k, "RecordId.")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(idx)
		if err != nil || n < 1 || n > maxRecordIDs || strconv.Itoa(n) != idx {
			return nil, errInvalid(k, "expected RecordId.N with N from 1 to "+strconv.Itoa(maxRecordIDs))
		}
		if v == "" || len(v) > 128 {
			return nil, errInvalid(k, "must be a record id")
		}
		byN[n] = v
	}
	if len(byN) == 0 {
		return nil, errMissingAction("RecordId")
	}
	ids := make([]string, 0, len(byN))
	for n := 1; n <= maxRecordIDs && len(ids) < len(byN); n++ {
		if v, ok := byN[n]; ok {
			ids = append(ids, v)
		}
	}
	return ids, nil
}
