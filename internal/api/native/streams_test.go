package native

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

func liveStream(domain, stream string) recording.LiveStream {
	return recording.LiveStream{Domain: domain, App: "live", Stream: stream, ClientAddr: "10.0.0.1:5000", Protocol: "rtmp",
		StartedAt: time.Date(2026, 3, 1, 11, 59, 0, 0, time.UTC), VideoCodec: "H264", AudioCodec: "AAC", Width: 1280,
		Height: 720, FrameRate: 25, VideoKbps: 1500, AudioKbps: 128, RecordingID: "rc_" + stream,
		RecordingState: recording.RecordingActive}
}

func TestLiveStreams(t *testing.T) {
	t.Parallel()
	f := newCatalogFake()
	f.live = []recording.LiveStream{liveStream("a.com", "s1"), liveStream("a.com", "s2"), liveStream("b.com", "s1")}
	c := serveCatalog(t, f)

	l := decode[streamList](t, c.json("A", http.MethodGet, "/api/v1/streams", ""), http.StatusOK)
	require.Equal(t, f.live[:2], l.Streams, "only the caller's domains, with what was measured")
	l = decode[streamList](t, c.json("A", http.MethodGet, "/api/v1/streams?domain=a.com&app=live&stream=s2", ""), http.StatusOK)
	require.Equal(t, f.live[1:2], l.Streams)
	r := c.json("C", http.MethodGet, "/api/v1/streams", "")
	require.JSONEq(t, `{"streams":[]}`, string(r.body), "an empty list, not null")
	// Another project's domain does not exist for the caller.
	c.json("A", http.MethodGet, "/api/v1/streams?domain=b.com", "").requireError(t, http.StatusNotFound, codeNotFound, "")

	got := decode[recording.LiveStream](t, c.json("A", http.MethodGet, "/api/v1/streams/A.com/live/s1", ""), http.StatusOK)
	require.Equal(t, f.live[0], got)
	r = c.json("A", http.MethodGet, "/api/v1/streams/a.com/live/gone", "")
	r.requireError(t, http.StatusNotFound, codeNotFound, "")
	require.Contains(t, string(r.body), "not live")
	c.json("A", http.MethodGet, "/api/v1/streams/b.com/live/s1", "").requireError(t, http.StatusNotFound, codeNotFound, "")

	require.Equal(t, http.StatusNoContent, c.json("A", http.MethodPost, "/api/v1/streams/a.com/live/s1/kick", "").status)
	c.json("A", http.MethodPost, "/api/v1/streams/a.com/live/gone/kick", "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("A", http.MethodPost, "/api/v1/streams/b.com/live/s1/kick", "").requireError(t, http.StatusNotFound, codeNotFound, "")
	require.Equal(t, []string{"a.com/live/s1"}, f.kicked)

	c.json("A", http.MethodPost, "/api/v1/streams", "").requireError(t, http.StatusMethodNotAllowed, codeMethodNotAllowed, "")
	c.do("", http.MethodGet, "/api/v1/streams", "", "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
}

func TestPublishes(t *testing.T) {
	t.Parallel()
	f := newCatalogFake()
	c := serveCatalog(t, f)

	l := decode[page[recording.Publish]](t, c.json("A", http.MethodGet,
		"/api/v1/publishes?domain=a.com&app=live&stream=s&from=2026-03-01T10:00:00Z&to=2026-03-01T11:00:00Z&live=true&offset=2&limit=3", ""),
		http.StatusOK)
	require.Equal(t, 7, l.Total)
	require.Len(t, l.Items, 1)
	require.Equal(t, "pub_1", l.Items[0].ID)
	require.Empty(t, l.NextCursor)
	require.Equal(t, "a.com", f.pubFilter.Domain)
	require.Equal(t, "s", f.pubFilter.Stream)
	require.True(t, f.pubFilter.Live)
	require.Equal(t, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), f.pubFilter.From)
	require.Equal(t, time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), f.pubFilter.To)
	require.Equal(t, [2]int{2, 3}, [2]int{f.pubFilter.Offset, f.pubFilter.Limit})

	decode[page[recording.Publish]](t, c.json("A", http.MethodGet, "/api/v1/publishes?domain=a.com", ""), http.StatusOK)
	require.Equal(t, defaultLimit, f.pubFilter.Limit)
	require.False(t, f.pubFilter.Live)

	for _, tc := range []struct{ query, field string }{
		{"", "domain"},
		{"domain=a.com&from=yesterday", "from"},
		{"domain=a.com&from=2026-03-01T10:00:00Z&to=2026-03-01T10:00:00Z", "to"},
		{"domain=a.com&live=maybe", "live"},
		{"domain=a.com&limit=0", "limit"},
		{"domain=a.com&offset=-1", "offset"},
	} {
		c.json("A", http.MethodGet, "/api/v1/publishes?"+tc.query, "").requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
	}
	c.json("B", http.MethodGet, "/api/v1/publishes?domain=a.com", "").requireError(t, http.StatusNotFound, codeNotFound, "")
}

func TestBlocks(t *testing.T) {
	t.Parallel()
	f := newCatalogFake()
	f.live = []recording.LiveStream{liveStream("a.com", "s1")}
	c := serveCatalog(t, f)
	path := "/api/v1/blocks/a.com/live/s1"

	// Blocking a live stream disconnects it; the block has no expiry unless given one.
	res := decode[blockResult](t, c.do("A", http.MethodPut, path, "", ""), http.StatusOK)
	require.True(t, res.Kicked)
	require.Nil(t, res.Block.ResumeAt)
	require.Equal(t, "s1", res.Block.Stream)
	require.False(t, res.Block.CreatedAt.IsZero(), "the block as stored")

	res = decode[blockResult](t, c.json("A", http.MethodPut, "/api/v1/blocks/A.com/live/idle", `{"resume_at":"2026-03-01T13:00:00Z"}`), http.StatusOK)
	require.False(t, res.Kicked, "nobody was publishing")
	require.Equal(t, "a.com", res.Block.Domain)
	require.Equal(t, time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC), *res.Block.ResumeAt)

	for _, tc := range []struct{ body, field string }{
		{`{"resume_at":"tomorrow"}`, "resume_at"},
		{`{"resume_at":"2026-03-01T11:00:00Z"}`, "resume_at"}, // the service refuses the past
		{`{"resume_at":3}`, "resume_at"},
		{`{"until":"2026-03-01T13:00:00Z"}`, "until"},
		{`{"resume_at":null,"resume_at":null}`, "resume_at"},
	} {
		c.json("A", http.MethodPut, path, tc.body).requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
	}
	c.do("A", http.MethodPut, path, "text/plain", `{}`).requireError(t, http.StatusUnsupportedMediaType, codeUnsupportedMedia, "")

	b := decode[recording.StreamBlock](t, c.json("A", http.MethodGet, path, ""), http.StatusOK)
	require.Equal(t, "a.com", b.Domain)
	l := decode[page[recording.StreamBlock]](t, c.json("A", http.MethodGet, "/api/v1/blocks?domain=a.com&limit=10", ""), http.StatusOK)
	require.Equal(t, 2, l.Total)
	require.Len(t, l.Items, 2)
	require.Equal(t, 10, f.blockFilter.Limit)
	require.Equal(t, 0, decode[page[recording.StreamBlock]](t, c.json("B", http.MethodGet, "/api/v1/blocks", ""), http.StatusOK).Total)
	c.json("A", http.MethodGet, "/api/v1/blocks?limit=x", "").requireError(t, http.StatusBadRequest, codeInvalidArgument, "limit")

	// Project B can neither see, lift nor replace A's blocks.
	c.json("B", http.MethodGet, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("B", http.MethodDelete, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("B", http.MethodPut, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")

	require.Equal(t, http.StatusNoContent, c.json("A", http.MethodDelete, path, "").status)
	c.json("A", http.MethodGet, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("A", http.MethodDelete, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")
}

// A real service without a live hub lists no streams and finds none.
func TestStreamsOverTheService(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	require.JSONEq(t, `{"streams":[]}`, string(c.json("A", http.MethodGet, "/api/v1/streams", "").body))
	require.Equal(t, http.StatusCreated, c.json("A", http.MethodPost, "/api/v1/rules", `{"domain":"a.com","app":"live","formats":[{"format":"flv"}]}`).status)
	c.json("A", http.MethodGet, "/api/v1/streams/a.com/live/s", "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("B", http.MethodGet, "/api/v1/streams?domain=a.com", "").requireError(t, http.StatusNotFound, codeNotFound, "")
}
