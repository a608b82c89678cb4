package aliyun

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func storedFile(id string, f recording.Format, key string, start time.Time, d time.Duration) service.FileView {
	end := start.Add(d)
	return service.FileView{File: recording.File{ID: id, Format: f, State: recording.FileStored, Endpoint: "oss-cn-shanghai.aliyuncs.com",
		Bucket: "b1", ObjectKey: key, StartedAt: start, EndedAt: &end, Duration: d}}
}

// contentCall is DescribeLiveStreamRecordContent of test.com/live/cam over [t0, t0+1h) unless
// args override.
func contentCall(key testKey, args ...string) *req {
	r := call(key, "DescribeLiveStreamRecordContent", "DomainName", "test.com", "AppName", "live", "StreamName", "cam",
		"StartTime", t0.Format(timeLayout), "EndTime", t0.Add(time.Hour).Format(timeLayout))
	for i := 0; i+1 < len(args); i += 2 {
		if args[i+1] == "" {
			r.params.Del(args[i])
		} else {
			r.params.Set(args[i], args[i+1])
		}
	}
	return r
}

func TestRecordContentListsTheHLSFiles(t *testing.T) {
	e, f := newCatalogEnv(t)
	f.contents = map[recording.Format][]service.FileView{
		recording.FormatHLS: {storedFile("f_1", recording.FormatHLS, "record/live/cam/a.m3u8", t0, 40500*time.Millisecond),
			storedFile("f_2", recording.FormatHLS, "top.m3u8", t0.Add(time.Minute), 10*time.Second)},
		recording.FormatMP4: {storedFile("f_3", recording.FormatMP4, "record/live/cam/a.mp4", t0, 40*time.Second)},
	}
	var resp struct {
		RecordContentInfoList struct{ RecordContentInfo []recordContentInfo }
	}
	e.do(contentCall(keyP1, "DomainName", "Test.com")).ok(t).decode(t, &resp)
	require.Equal(t, []recordContentInfo{
		{StartTime: "2026-03-04T05:06:07Z", EndTime: "2026-03-04T05:06:47Z", Duration: 40.5, OssBucket: "b1",
			OssEndpoint: "oss-cn-shanghai.aliyuncs.com", OssObjectPrefix: "record/live/cam"},
		{StartTime: "2026-03-04T05:07:07Z", EndTime: "2026-03-04T05:07:17Z", Duration: 10, OssBucket: "b1",
			OssEndpoint: "oss-cn-shanghai.aliyuncs.com"},
	}, resp.RecordContentInfoList.RecordContentInfo)
	f.got(func() {
		require.Equal(t, []service.ContentQuery{{Domain: "test.com", App: "live", Stream: "cam", From: t0, To: t0.Add(time.Hour),
			Format: recording.FormatHLS}}, f.contentQs)
	})
}

func TestRecordContentFallsBackToOtherFormats(t *testing.T) {
	e, f := newCatalogEnv(t)
	f.contents = map[recording.Format][]service.FileView{
		recording.FormatFLV: {storedFile("f_3", recording.FormatFLV, "r/a.flv", t0, 5*time.Second)},
	}
	r := e.do(contentCall(keyP1)).ok(t)
	require.Equal(t, "r", r.get("RecordContentInfoList", "RecordContentInfo", 0, "OssObjectPrefix"))
	require.Equal(t, 5.0, r.get("RecordContentInfoList", "RecordContentInfo", 0, "Duration"))
	f.got(func() {
		require.Len(t, f.contentQs, 3, "HLS, then MP4, then FLV")
		require.Equal(t, recording.FormatMP4, f.contentQs[1].Format)
	})

	f.got(func() { f.contents = nil })
	r = e.do(contentCall(keyP1)).ok(t)
	require.Equal(t, []any{}, r.get("RecordContentInfoList", "RecordContentInfo"), "nothing recorded: an empty list")
}

func TestRecordContentRefusesBadParameters(t *testing.T) {
	e, _ := newCatalogEnv(t)
	e.do(contentCall(keyP1, "StreamName", "")).fails(t, http.StatusBadRequest, "MissingStreamName")
	e.do(contentCall(keyP1, "StartTime", "")).fails(t, http.StatusBadRequest, "MissingStartTime")
	e.do(contentCall(keyP1, "EndTime", "2026-03-04 06:00:00")).fails(t, http.StatusBadRequest, "InvalidParameter", "EndTime")
	e.do(contentCall(keyP1, "EndTime", t0.Format(timeLayout))).fails(t, http.StatusBadRequest, "InvalidParameter", "after StartTime")
	e.do(contentCall(keyP1, "EndTime", t0.Add(4*24*time.Hour+time.Second).Format(timeLayout))).
		fails(t, http.StatusBadRequest, "InvalidParameter", "4 days")
	e.do(contentCall(keyP1, "AppName", "a/b")).fails(t, http.StatusBadRequest, "InvalidParameter", "AppName")
	e.do(contentCall(keyP1, "StreamName", "*")).fails(t, http.StatusBadRequest, "InvalidParameter", "StreamName")
	// Another project's domain, and one nobody has, are the same answer.
	e.do(contentCall(keyP1, "DomainName", "p2.com")).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	e.do(contentCall(keyP1, "DomainName", "nobody.com")).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	// Exactly 4 days is allowed.
	e.do(contentCall(keyP1, "EndTime", t0.Add(4*24*time.Hour).Format(timeLayout))).ok(t)
}

func indexView(id string, start time.Time, d time.Duration) service.IndexView {
	return service.IndexView{RecordIndex: recording.RecordIndex{ID: id, Project: "p1", Domain: "test.com", App: "live", Stream: "cam",
		Endpoint: "local", Bucket: "b1", ObjectKey: "idx/" + id + ".m3u8", StartedAt: start, EndedAt: start.Add(d), Duration: d,
		Width: 640, Height: 360, CreatedAt: t0.Add(2 * time.Hour)}, URL: "http://h/" + id, Kind: service.KindIndex}
}

func createCall(key testKey, args ...string) *req {
	r := call(key, "CreateLiveStreamRecordIndexFiles", "DomainName", "test.com", "AppName", "live", "StreamName", "cam",
		"OssEndpoint", "oss-cn-shanghai.aliyuncs.com", "OssBucket", "b1", "OssObject", "{AppName}/{StreamName}/{Date}/{Hour}.m3u8",
		"StartTime", t0.Format(timeLayout), "EndTime", t0.Add(20*time.Second).Format(timeLayout))
	for i := 0; i+1 < len(args); i += 2 {
		if args[i+1] == "" {
			r.params.Del(args[i])
		} else {
			r.params.Set(args[i], args[i+1])
		}
	}
	return r
}

func TestCreateIndexFiles(t *testing.T) {
	e, f := newCatalogEnv(t)
	x := indexView("idx_1", t0.Add(-2*time.Second), 24*time.Second)
	f.index = &x
	var resp struct{ RecordInfo map[string]any }
	e.do(createCall(keyP1, "EndTimeIncluded", "true")).ok(t).decode(t, &resp)
	require.Equal(t, map[string]any{"RecordId": "idx_1", "RecordUrl": "http://h/idx_1", "DomainName": "test.com", "AppName": "live",
		"StreamName": "cam", "OssBucket": "b1", "OssEndpoint": "local", "OssObject": "idx/idx_1.m3u8",
		"StartTime": "2026-03-04T05:06:05Z", "EndTime": "2026-03-04T05:06:29Z", "Duration": 24.0, "Width": 640.0, "Height": 360.0,
		"CreateTime": "2026-03-04T07:06:07Z"}, resp.RecordInfo)
	f.got(func() {
		require.Equal(t, service.IndexRequest{Domain: "test.com", App: "live", Stream: "cam", From: t0, To: t0.Add(20 * time.Second),
			EndIncluded: true, Endpoint: "oss-cn-shanghai.aliyuncs.com", Bucket: "b1", Object: "{AppName}/{StreamName}/{Date}/{Hour}.m3u8",
			MaxSpan: 4 * 24 * time.Hour}, f.indexReq)
	})

	f.got(func() { f.indexErr = errors.Join(errors.New("x"), service.ErrNoMedia) })
	r := e.do(createCall(keyP1))
	r.fails(t, http.StatusNotFound, "InvalidStream.NotFound")
	require.Equal(t, "Speicified stream does not exist", r.body["Message"])
	f.got(func() { require.False(t, f.indexReq.EndIncluded, "EndTimeIncluded defaults to false") })

	f.got(func() {
		f.indexErr = &recording.ValidationError{Field: "object", Reason: "does not make a valid object key"}
	})
	e.do(createCall(keyP1)).fails(t, http.StatusBadRequest, "InvalidParameter", "OssObject")
	f.got(func() { f.indexErr = &recording.ValidationError{Field: "endpoint", Reason: "no storage endpoint"} })
	e.do(createCall(keyP1)).fails(t, http.StatusBadRequest, "InvalidParameter", "OssEndpoint")
}

func TestCreateIndexFilesRefusesBadParameters(t *testing.T) {
	e, f := newCatalogEnv(t)
	for _, name := range []string{"DomainName", "AppName", "StreamName", "OssEndpoint", "OssBucket", "OssObject", "StartTime", "EndTime"} {
		e.do(createCall(keyP1, name, "")).fails(t, http.StatusBadRequest, "Missing"+name)
	}
	e.do(createCall(keyP1, "EndTimeIncluded", "maybe")).fails(t, http.StatusBadRequest, "InvalidParameter", "EndTimeIncluded")
	e.do(createCall(keyP1, "EndTime", t0.Add(-time.Second).Format(timeLayout))).fails(t, http.StatusBadRequest, "InvalidParameter", "EndTime")
	e.do(createCall(keyP1, "EndTime", t0.Add(5*24*time.Hour).Format(timeLayout))).fails(t, http.StatusBadRequest, "InvalidParameter", "4 days")
	long := make([]byte, maxObjectLen+1)
	for i := range long {
		long[i] = 'a'
	}
	e.do(createCall(keyP1, "OssObject", string(long))).fails(t, http.StatusBadRequest, "InvalidParameter", "OssObject")
	e.do(createCall(keyP2)).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	f.got(func() { require.Empty(t, f.indexReq.Domain, "no bad request reached the service") })
}

func listCall(key testKey, args ...string) *req {
	r := call(key, "DescribeLiveStreamRecordIndexFiles", "DomainName", "test.com", "AppName", "live", "StreamName", "cam",
		"StartTime", t0.Format(timeLayout), "EndTime", t0.Add(time.Hour).Format(timeLayout))
	for i := 0; i+1 < len(args); i += 2 {
		r.params.Set(args[i], args[i+1])
	}
	return r
}

func TestDescribeIndexFiles(t *testing.T) {
	e, f := newCatalogEnv(t)
	for i := range 7 {
		f.indexes = append(f.indexes, indexView("idx_"+string(rune('a'+i)), t0.Add(time.Duration(i)*time.Minute), time.Minute))
	}
	f.indexes[6].Kind = service.KindRecording
	r := e.do(listCall(keyP1, "PageNum", "2", "PageSize", "5", "Order", "desc")).ok(t)
	require.Equal(t, 2.0, r.body["PageNum"])
	require.Equal(t, 5.0, r.body["PageSize"])
	require.Equal(t, "desc", r.body["Order"])
	require.Equal(t, 7.0, r.body["TotalNum"])
	require.Equal(t, 2.0, r.body["TotalPage"])
	list := r.get("RecordIndexInfoList", "RecordIndexInfo").([]any)
	require.Len(t, list, 2)
	require.Equal(t, "idx_f", r.get("RecordIndexInfoList", "RecordIndexInfo", 0, "RecordId"))
	require.Equal(t, "m3u8", r.get("RecordIndexInfoList", "RecordIndexInfo", 0, "Format"))
	require.Equal(t, "2026-03-04T05:11:07Z", r.get("RecordIndexInfoList", "RecordIndexInfo", 0, "StartTime"))
	f.got(func() {
		require.Equal(t, service.IndexQuery{Domain: "test.com", App: "live", Stream: "cam", From: t0, To: t0.Add(time.Hour),
			Offset: 5, Limit: 5, OrderDesc: true}, f.indexQ)
	})

	r = e.do(listCall(keyP1)).ok(t)
	require.Equal(t, "asc", r.body["Order"])
	require.Equal(t, 10.0, r.body["PageSize"])
	require.Len(t, r.get("RecordIndexInfoList", "RecordIndexInfo"), 7)

	e.do(listCall(keyP1, "PageSize", "4")).fails(t, http.StatusBadRequest, "InvalidParameter", "PageSize")
	e.do(listCall(keyP1, "PageSize", "31")).fails(t, http.StatusBadRequest, "InvalidParameter", "PageSize")
	e.do(listCall(keyP1, "PageNum", "0")).fails(t, http.StatusBadRequest, "InvalidParameter", "PageNum")
	e.do(listCall(keyP1, "Order", "up")).fails(t, http.StatusBadRequest, "InvalidParameter", "Order")
	e.do(listCall(keyP1, "EndTime", t0.Add(97*time.Hour).Format(timeLayout))).fails(t, http.StatusBadRequest, "InvalidParameter", "EndTime")
	e.do(listCall(keyP2)).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
}

func TestDescribeIndexFile(t *testing.T) {
	e, f := newCatalogEnv(t)
	f.indexes = []service.IndexView{indexView("idx_1", t0, time.Minute)}
	get := func(key testKey, id string) *req {
		return call(key, "DescribeLiveStreamRecordIndexFile", "DomainName", "test.com", "AppName", "live", "StreamName", "cam", "RecordId", id)
	}
	r := e.do(get(keyP1, "idx_1")).ok(t)
	require.Equal(t, "idx_1", r.get("RecordIndexInfo", "RecordId"))
	require.Equal(t, "http://h/idx_1", r.get("RecordIndexInfo", "RecordUrl"))
	require.Equal(t, 60.0, r.get("RecordIndexInfo", "Duration"))
	e.do(get(keyP1, "idx_2")).fails(t, http.StatusNotFound, "InvalidRecordId.NotFound")
	e.do(get(keyP2, "idx_1")).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	e.do(get(keyP1, "")).fails(t, http.StatusBadRequest, "MissingRecordId")
}

func TestDeleteIndexFiles(t *testing.T) {
	e, f := newCatalogEnv(t)
	f.deleteErr = map[string]error{"idx_gone": recording.ErrNotFound, "f_1": recording.ErrConflict}
	del := func(args ...string) *req {
		return call(keyP1, "DeleteLiveStreamRecordIndexFiles", append([]string{"DomainName", "test.com", "AppName", "live",
			"StreamName", "cam"}, args...)...)
	}
	r := e.do(del("RecordId.1", "idx_1", "RecordId.2", "idx_gone", "RecordId.3", "f_1", "RemoveFile", "true")).ok(t)
	require.Equal(t, "PartialFailure", r.body["Code"])
	require.Equal(t, "2 of 3 records were not deleted.", r.body["Message"])
	var resp struct {
		RecordDeleteInfoList struct{ RecordDeleteInfo []recordDeleteInfo }
	}
	r.decode(t, &resp)
	require.Equal(t, []recordDeleteInfo{{"idx_1", "OK"}, {"idx_gone", "Specified record does not exist."},
		{"f_1", "A recording's own playlist is deleted only with RemoveFile."}}, resp.RecordDeleteInfoList.RecordDeleteInfo)
	f.got(func() {
		require.Equal(t, []string{"idx_1"}, f.deleted)
		require.True(t, f.removeFile)
	})

	r = e.do(del("RecordId.1", "idx_2")).ok(t)
	require.Equal(t, "OK", r.body["Code"])
	require.Equal(t, "OK", r.get("RecordDeleteInfoList", "RecordDeleteInfo", 0, "Message"))
	f.got(func() { require.False(t, f.removeFile, "RemoveFile defaults to false") })

	e.do(del()).fails(t, http.StatusBadRequest, "MissingRecordId")
	e.do(del("RecordId.0", "idx_1")).fails(t, http.StatusBadRequest, "InvalidParameter", "RecordId.0")
	e.do(del("RecordId.01", "idx_1")).fails(t, http.StatusBadRequest, "InvalidParameter", "RecordId.01")
	e.do(del("RecordId.101", "idx_1")).fails(t, http.StatusBadRequest, "InvalidParameter", "RecordId.101")
	e.do(del("RecordId.1", "idx_1", "RemoveFile", "yes")).fails(t, http.StatusBadRequest, "InvalidParameter", "RemoveFile")
	r2 := call(keyP2, "DeleteLiveStreamRecordIndexFiles", "DomainName", "test.com", "AppName", "live", "StreamName", "cam", "RecordId.1", "idx_1")
	e.do(r2).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	f.got(func() { require.Equal(t, []string{"idx_1", "idx_2"}, f.deleted, "no refused request deleted anything") })
}

func TestRecordIDsKeepTheirOrder(t *testing.T) {
	ids, err := recordIDs(params{"RecordId.3": "c", "RecordId.1": "a", "RecordId.10": "j", "Other": "x"})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "c", "j"}, ids)
}
