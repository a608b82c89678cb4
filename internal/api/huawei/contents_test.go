package huawei

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

func contentsPath(query string) string { return "/v1/" + projectA + "/record/contents?" + query }

const indexesPath = "/v1/" + projectA + "/record/indexes"

// TestListRecordContents: the query reaches the service with offset read as a page number and
// record_type as a mode, and each file shows as RecordContentInfoV2 with its recording's stream
// and type.
func TestListRecordContents(t *testing.T) {
	e, f := newCatalogEnv(t)
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	end := start.Add(20*time.Second + 400*time.Millisecond)
	f.recs["rec_1"] = recording.Recording{ID: "rec_1", Domain: "a.com", App: "live", Stream: "s1", Mode: recording.ModeManual}
	f.files = []service.FileView{{File: recording.File{ID: "f_1", RecordingID: "rec_1", Format: recording.FormatHLS,
		State: recording.FileStored, Endpoint: "local", Bucket: "b", ObjectKey: "rec/live/s1/x.m3u8", StartedAt: start,
		EndedAt: &end, Duration: end.Sub(start)}, URL: "http://liverec.test/play/x.m3u8?sig=1"}}
	f.total = 11

	r := e.do(req{method: http.MethodGet, path: contentsPath("publish_domain=a.com&app=live&stream=s1&record_type=COMMAND_RECORD" +
		"&start_time=2026-01-01T00:00:00Z&end_time=2026-01-02T00:00:00Z&offset=2&limit=5")})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, service.ContentQuery{Domain: "a.com", App: "live", Stream: "s1", Mode: recording.ModeManual,
		From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		Offset: 10, Limit: 5}, f.contentQ, "offset is page 2 of 5")
	var got struct {
		Total          int          `json:"total"`
		RecordContents []contentOut `json:"record_contents"`
	}
	r.decode(t, &got)
	require.Equal(t, 11, got.Total)
	require.Equal(t, []contentOut{{PublishDomain: "a.com", FileName: "x.m3u8", App: "live", Stream: "s1", RecordFormat: "HLS",
		RecordType: "COMMAND_RECORD", ObsAddr: obsAddr{Bucket: "b", Location: "local", Object: "rec/live/s1/x.m3u8"},
		DownloadURL: "http://liverec.test/play/x.m3u8?sig=1", StartTime: "2026-01-01T10:00:00Z", EndTime: "2026-01-01T10:00:20Z",
		Duration: 20}}, got.RecordContents)

	// Defaults: page 0 of 10, every type, no end.
	f.files, f.total = nil, 0
	r = e.do(req{method: http.MethodGet, path: contentsPath("publish_domain=a.com&start_time=2026-01-01T00:00:00Z")})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, service.ContentQuery{Domain: "a.com", From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Limit: 10}, f.contentQ)
	require.JSONEq(t, `{"total":0,"record_contents":[]}`, string(r.body))
}

func TestListRecordContentsRefusesBadParameters(t *testing.T) {
	e, f := newCatalogEnv(t)
	const ok = "publish_domain=a.com&start_time=2026-01-01T00:00:00Z"
	for _, tc := range []struct{ query, field string }{
		{"start_time=2026-01-01T00:00:00Z", "publish_domain"},
		{"publish_domain=*&start_time=2026-01-01T00:00:00Z", "publish_domain"},
		{"publish_domain=a.com", "start_time"},
		{"publish_domain=a.com&start_time=2026-01-01", "start_time"},
		{ok + "&end_time=2025-12-31T00:00:00Z", "end_time"},
		{ok + "&end_time=tomorrow", "end_time"},
		{ok + "&record_type=ON_DEMAND_RECORD", "record_type"},
		{ok + "&record_type=continuous_record", "record_type"},
		{ok + "&offset=-1", "offset"},
		{ok + "&offset=x", "offset"},
		{ok + "&offset=9999999999999", "offset"},
		{ok + "&limit=0", "limit"},
		{ok + "&limit=101", "limit"},
	} {
		e.do(req{method: http.MethodGet, path: contentsPath(tc.query)}).
			requireError(t, http.StatusBadRequest, codeBadParameter, tc.field)
	}
	require.Zero(t, f.contentQ, "no bad query reached the service")

	f.err = fmt.Errorf("check domain: %w", recording.ErrNotFound)
	e.do(req{method: http.MethodGet, path: contentsPath(ok)}).requireError(t, http.StatusNotFound, codeNotFound, "")
}

func indexBodyJSON(start, end string, extra string) string {
	return fmt.Sprintf(`{"publish_domain":"a.com","app":"live","stream":"s1","start_time":%q,"end_time":%q%s}`, start, end, extra)
}

// TestCreateRecordIndex: a valid request reaches the service with Huawei's limits and answers
// 201 with CreateRecordIndexResponse.
func TestCreateRecordIndex(t *testing.T) {
	e, f := newCatalogEnv(t)
	from, to := testNow.Add(-time.Hour), testNow.Add(-30*time.Minute)
	f.index = service.IndexView{URL: "http://liverec.test/play/idx.m3u8?sig=1", RecordIndex: recording.RecordIndex{ID: "idx_1",
		Domain: "a.com", App: "live", Stream: "s1", Endpoint: "local", Bucket: "b", ObjectKey: "Index/a.com/live/s1/x.m3u8",
		StartedAt: from.Add(-2 * time.Second), EndedAt: to.Add(time.Second), Duration: 30*time.Minute + 2600*time.Millisecond,
		Width: 640, Height: 360}}

	r := e.do(req{method: http.MethodPost, path: indexesPath, body: indexBodyJSON(formatTime(from), formatTime(to), `,"object":"i/{stream}"`)})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	require.Equal(t, service.IndexRequest{Domain: "a.com", App: "live", Stream: "s1", From: from, To: to, Object: "i/{stream}",
		MaxSpan: 12 * time.Hour, Oldest: 30 * 24 * time.Hour}, f.indexReq)
	require.JSONEq(t, `{"index_url":"http://liverec.test/play/idx.m3u8?sig=1","publish_domain":"a.com","app":"live","stream":"s1",
		"start_time":"2026-01-02T02:04:03Z","end_time":"2026-01-02T02:34:06Z","duration":1803,"width":640,"height":360,
		"location":"local","bucket":"b","object":"Index/a.com/live/s1/x.m3u8"}`, string(r.body))

	// Without object the service's default applies.
	r = e.do(req{method: http.MethodPost, path: indexesPath, body: indexBodyJSON(formatTime(from), formatTime(to), "")})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	require.Empty(t, f.indexReq.Object)
}

func TestCreateRecordIndexRefusesBadRequests(t *testing.T) {
	e, f := newCatalogEnv(t)
	ts := func(d time.Duration) string { return formatTime(testNow.Add(d)) }
	for _, tc := range []struct{ body, field string }{
		{`{"publish_domain":"a.com","app":"live","start_time":"` + ts(-time.Hour) + `","end_time":"` + ts(-time.Minute) + `"}`, "stream"},
		{`{"publish_domain":"a.com","app":"*","stream":"s","start_time":"` + ts(-time.Hour) + `","end_time":"` + ts(-time.Minute) + `"}`, "app"},
		{`{"publish_domain":"","app":"live","stream":"s","start_time":"` + ts(-time.Hour) + `","end_time":"` + ts(-time.Minute) + `"}`, "publish_domain"},
		{`{"publish_domain":"a.com","app":"live","stream":"s1","start_time":null,"end_time":"` + ts(-time.Minute) + `"}`, "start_time"},
		{`{"publish_domain":"a.com","app":"live","stream":"s1","start_time":"` + ts(-time.Hour) + `"}`, "end_time"},
		{indexBodyJSON("2026-01-02 01:00:00", ts(-time.Minute), ""), "start_time"},
		{indexBodyJSON(ts(-time.Hour), ts(-time.Hour), ""), "end_time"},
		{indexBodyJSON(ts(-13*time.Hour), ts(-time.Minute), ""), "end_time"},
		{indexBodyJSON(ts(-time.Hour), ts(time.Minute), ""), "end_time"},
		{indexBodyJSON(ts(-30*24*time.Hour), ts(-30*24*time.Hour+time.Hour), ""), "start_time"},
		{indexBodyJSON(ts(-time.Hour), ts(-time.Minute), `,"bucket":"b"`), "bucket"},
		{indexBodyJSON(ts(-time.Hour), ts(-time.Minute), `,"object":7`), "object"},
		{`{"publish_domain":"a.com"`, ""},
	} {
		e.do(req{method: http.MethodPost, path: indexesPath, body: tc.body}).
			requireError(t, http.StatusBadRequest, codeBadParameter, tc.field)
	}
	e.do(req{method: http.MethodPost, path: indexesPath, body: indexBodyJSON(ts(-time.Hour), ts(-time.Minute), ""), contentType: "text/plain"}).
		requireError(t, http.StatusBadRequest, codeMediaType, "")
	require.Zero(t, f.indexReq, "no bad request reached the service")

	good := indexBodyJSON(ts(-time.Hour), ts(-time.Minute), "")
	f.err = fmt.Errorf("a.com/live/s1: %w", service.ErrNoMedia)
	e.do(req{method: http.MethodPost, path: indexesPath, body: good}).requireError(t, http.StatusBadRequest, codeBadParameter, "no ts info found")
	f.err = &recording.ValidationError{Field: "domain", Reason: "unknown"}
	e.do(req{method: http.MethodPost, path: indexesPath, body: good}).requireError(t, http.StatusBadRequest, codeBadParameter, "publish_domain: unknown")
	f.err = &recording.ValidationError{Field: "object", Reason: "does not make a valid object key"}
	e.do(req{method: http.MethodPost, path: indexesPath, body: good}).requireError(t, http.StatusBadRequest, codeBadParameter, "object: does not")
	f.err = recording.ErrForbidden
	e.do(req{method: http.MethodPost, path: indexesPath, body: good}).requireError(t, http.StatusForbidden, codeDenied, "")
}

// TestCatalogRoutesMethodNotAllowed: a method no SDK operation uses on a new path is the cloud's
// LIVE.100011011, and a request without credentials is refused before reaching the service.
func TestCatalogRoutesMethodNotAllowed(t *testing.T) {
	e, f := newCatalogEnv(t)
	for _, p := range []string{"record/contents", "record/indexes", "realtime/streams", "stream/blocks", "stream/block-once",
		"schedule/record/tasks"} {
		e.do(req{method: http.MethodPatch, path: "/v1/" + projectA + "/" + p}).
			requireError(t, http.StatusBadRequest, codeMethod, "PATCH")
	}
	e.do(req{method: http.MethodGet, path: "/v1/" + projectA + "/realtime/streams?publish_domain=a.com", noSign: true}).
		requireError(t, http.StatusUnauthorized, codeAuth, "")
	e.do(req{method: http.MethodGet, path: "/v1/" + projectA + "/realtime/streams?" + url.Values{"publish_domain": {"a.com"}}.Encode(),
		key: keyB, secret: secretB}).requireError(t, http.StatusForbidden, codeDenied, "")
	require.Zero(t, f.liveF)
}
