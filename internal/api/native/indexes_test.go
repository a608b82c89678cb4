package native

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

const indexBody = `{"domain":"a.com","app":"live","stream":"s","start_time":"2026-03-01T10:00:10Z",` +
	`"end_time":"2026-03-01T10:00:30Z","end_time_included":true,"endpoint":"s3","bucket":"b","object":"idx/{stream}"}`

func TestCreateIndex(t *testing.T) {
	t.Parallel()
	f := newCatalogFake()
	c := serveCatalog(t, f)

	r := c.json("A", http.MethodPost, "/api/v1/indexes", indexBody)
	x := decode[service.IndexView](t, r, http.StatusCreated)
	require.Equal(t, "/api/v1/indexes/idx_1", r.header.Get("Location"))
	require.Equal(t, "idx_1", x.ID)
	require.Equal(t, service.KindIndex, x.Kind)
	require.Equal(t, "http://play.test/idx.m3u8?sig=x", x.URL)
	from, to := time.Date(2026, 3, 1, 10, 0, 10, 0, time.UTC), time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC)
	require.Equal(t, service.IndexRequest{Domain: "a.com", App: "live", Stream: "s", From: from, To: to, EndIncluded: true,
		Endpoint: "s3", Bucket: "b", Object: "idx/{stream}"}, f.indexReq, "the native API keeps the service's span limits")
	require.Equal(t, 20*time.Second, x.Duration)

	for _, tc := range []struct{ body, field string }{
		{`{"domain":"a.com","app":"live","stream":"s","end_time":"2026-03-01T10:00:30Z"}`, "start_time"},
		{`{"domain":"a.com","app":"live","stream":"s","start_time":"2026-03-01T10:00:30Z"}`, "end_time"},
		{`{"domain":"a.com","app":"live","stream":"s","start_time":"2026-03-01T10:00:30Z","end_time":"2026-03-01T10:00:10Z"}`, "end_time"},
		{`{"domain":"a.com","app":"live","stream":"s","start_time":"10:00","end_time":"2026-03-01T10:00:10Z"}`, "start_time"},
		{`{"domain":"a.com","app":"live","start_time":"2026-03-01T10:00:00Z","end_time":"2026-03-01T10:00:10Z"}`, "stream"},
		{`{"domain":"a.com","app":"*","stream":"s","start_time":"2026-03-01T10:00:00Z","end_time":"2026-03-01T10:00:10Z"}`, "app"},
		{`{"app":"live","stream":"s","start_time":"2026-03-01T10:00:00Z","end_time":"2026-03-01T10:00:10Z"}`, "domain"},
		{`{"domain":"a.com","app":"live","stream":"s","start_time":"2026-03-01T10:00:00Z","end_time":"2026-03-01T10:00:10Z","end_time_included":"yes"}`, "end_time_included"},
		{`{"domain":"a.com","app":"live","stream":"s","start_time":"2026-03-01T10:00:00Z","end_time":"2026-03-01T10:00:10Z","format":"hls"}`, "format"},
		{``, ""},
	} {
		c.json("A", http.MethodPost, "/api/v1/indexes", tc.body).requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
	}
	c.do("A", http.MethodPost, "/api/v1/indexes", "text/plain", indexBody).requireError(t, http.StatusUnsupportedMediaType, codeUnsupportedMedia, "")

	// Nothing recorded in the range, and another project's domain, are both not found.
	r = c.json("A", http.MethodPost, "/api/v1/indexes", `{"domain":"a.com","app":"live","stream":"empty","start_time":"2026-03-01T10:00:00Z","end_time":"2026-03-01T10:00:10Z"}`)
	r.requireError(t, http.StatusNotFound, codeNotFound, "")
	require.Contains(t, string(r.body), "no recorded media")
	c.json("B", http.MethodPost, "/api/v1/indexes", indexBody).requireError(t, http.StatusNotFound, codeNotFound, "")
}

func TestListGetAndDeleteIndexes(t *testing.T) {
	t.Parallel()
	f := newCatalogFake()
	c := serveCatalog(t, f)
	decode[service.IndexView](t, c.json("A", http.MethodPost, "/api/v1/indexes", indexBody), http.StatusCreated)
	f.indexes = append(f.indexes, service.IndexView{Kind: service.KindRecording, RecordIndex: recording.RecordIndex{
		ID: "f_hls", Project: "A", Domain: "a.com", App: "live", Stream: "s"}})

	l := decode[page[service.IndexView]](t, c.json("A", http.MethodGet,
		"/api/v1/indexes?domain=a.com&app=live&stream=s&from=2026-03-01T10:00:00Z&to=2026-03-01T11:00:00Z&offset=1&limit=5&order=desc", ""), http.StatusOK)
	require.Equal(t, 2, l.Total)
	require.Equal(t, []string{service.KindIndex, service.KindRecording}, []string{l.Items[0].Kind, l.Items[1].Kind})
	require.Equal(t, service.IndexQuery{Domain: "a.com", App: "live", Stream: "s", From: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		To: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), Offset: 1, Limit: 5, OrderDesc: true}, f.indexQuery)
	require.Equal(t, 0, decode[page[service.IndexView]](t, c.json("B", http.MethodGet, "/api/v1/indexes", ""), http.StatusOK).Total)
	for _, q := range []struct{ query, field string }{{"from=x", "from"}, {"limit=0", "limit"}, {"order=x", "order"}} {
		c.json("A", http.MethodGet, "/api/v1/indexes?"+q.query, "").requireError(t, http.StatusBadRequest, codeInvalidArgument, q.field)
	}

	// The id names the index in the project: domain, app and stream only narrow.
	x := decode[service.IndexView](t, c.json("A", http.MethodGet, "/api/v1/indexes/idx_1", ""), http.StatusOK)
	require.Equal(t, "s", x.Stream)
	require.Equal(t, [3]string{}, f.indexKey)
	decode[service.IndexView](t, c.json("A", http.MethodGet, "/api/v1/indexes/idx_1?domain=a.com&app=live&stream=s", ""), http.StatusOK)
	require.Equal(t, [3]string{"a.com", "live", "s"}, f.indexKey)
	c.json("A", http.MethodGet, "/api/v1/indexes/idx_1?domain=c.com", "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("B", http.MethodGet, "/api/v1/indexes/idx_1", "").requireError(t, http.StatusNotFound, codeNotFound, "")

	// A recording's own playlist is deleted only with its file.
	r := c.json("A", http.MethodDelete, "/api/v1/indexes/f_hls", "")
	r.requireError(t, http.StatusConflict, codeConflict, "")
	require.Contains(t, string(r.body), "remove_file=true")
	c.json("A", http.MethodDelete, "/api/v1/indexes/idx_1?remove_file=maybe", "").requireError(t, http.StatusBadRequest, codeInvalidArgument, "remove_file")
	c.json("B", http.MethodDelete, "/api/v1/indexes/idx_1?remove_file=true", "").requireError(t, http.StatusNotFound, codeNotFound, "")
	require.Equal(t, http.StatusNoContent, c.json("A", http.MethodDelete, "/api/v1/indexes/f_hls?remove_file=true", "").status)
	require.True(t, f.removeFile)
	require.Equal(t, http.StatusNoContent, c.json("A", http.MethodDelete, "/api/v1/indexes/idx_1", "").status)
	require.False(t, f.removeFile)
}

func TestCreateClip(t *testing.T) {
	t.Parallel()
	f := newCatalogFake()
	c := serveCatalog(t, f)
	body := `{"domain":"a.com","app":"live","stream":"s","start_time":"2026-03-01T10:00:05Z","end_time":"2026-03-01T10:00:25Z",` +
		`"endpoint":"local","bucket":"clips","object":"c/{stream}"}`

	r := c.json("A", http.MethodPost, "/api/v1/clips", body)
	fv := decode[service.FileView](t, r, http.StatusCreated)
	require.Equal(t, "/api/v1/recordings/rc_clip", r.header.Get("Location"))
	require.Equal(t, recording.FormatMP4, fv.Format)
	require.Equal(t, "http://play.test/clip.mp4?sig=x", fv.URL)
	require.Equal(t, service.ClipRequest{Domain: "a.com", App: "live", Stream: "s", From: time.Date(2026, 3, 1, 10, 0, 5, 0, time.UTC),
		To: time.Date(2026, 3, 1, 10, 0, 25, 0, time.UTC), Endpoint: "local", Bucket: "clips", Object: "c/{stream}"}, f.clipReq)

	for _, tc := range []struct{ body, field string }{
		{`{"domain":"a.com","app":"live","stream":"s","end_time":"2026-03-01T10:00:25Z"}`, "start_time"},
		{`{"domain":"a.com","app":"live","stream":"s","start_time":"2026-03-01T10:00:25Z","end_time":"2026-03-01T10:00:25Z"}`, "end_time"},
		{`{"domain":"a.com","stream":"s","start_time":"2026-03-01T10:00:05Z","end_time":"2026-03-01T10:00:25Z"}`, "app"},
		{`{"domain":"a.com","app":"live","stream":"s","start_time":"2026-03-01T10:00:05Z","end_time":"2026-03-01T10:00:25Z","end_time_included":true}`, "end_time_included"},
		{`{"domain":"a.com","app":"live","stream":"s","start_time":"2026-03-01T10:00:05Z","end_time":"2026-03-01T10:00:25Z"} {}`, ""},
	} {
		c.json("A", http.MethodPost, "/api/v1/clips", tc.body).requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
	}
	c.json("A", http.MethodPost, "/api/v1/clips", `{"domain":"a.com","app":"live","stream":"empty","start_time":"2026-03-01T10:00:05Z","end_time":"2026-03-01T10:00:25Z"}`).
		requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("B", http.MethodPost, "/api/v1/clips", body).requireError(t, http.StatusNotFound, codeNotFound, "")
}
