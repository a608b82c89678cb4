package native

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

func catalogWithRecordings() *catalogFake {
	f := newCatalogFake()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	f.recs = []recording.Recording{
		{ID: "rc_a1", Project: "A", Domain: "a.com", App: "live", Stream: "s", State: recording.RecordingOver, Mode: recording.ModeAuto, StartedAt: t0},
		{ID: "rc_a2", Project: "A", Domain: "a.com", App: "live", Stream: "s", State: recording.RecordingActive, Mode: recording.ModeAuto, StartedAt: t0.Add(time.Hour)},
		{ID: "rc_b1", Project: "B", Domain: "b.com", App: "live", Stream: "s", State: recording.RecordingOver, StartedAt: t0},
	}
	f.files = []service.FileView{
		{File: recording.File{ID: "f_1", RecordingID: "rc_a1", Format: recording.FormatHLS, State: recording.FileStored,
			ObjectKey: "live/s/s.m3u8", Bytes: 1000, Width: 1280, Height: 720}, URL: "http://play.test/f_1.m3u8?sig=x"},
		{File: recording.File{ID: "f_2", RecordingID: "rc_a1", Format: recording.FormatMP4, State: recording.FileStored}, URL: "http://play.test/f_2.mp4?sig=x"},
		{File: recording.File{ID: "f_3", RecordingID: "rc_b1", Format: recording.FormatFLV, State: recording.FileStored}},
	}
	return f
}

func TestListRecordings(t *testing.T) {
	t.Parallel()
	f := catalogWithRecordings()
	c := serveCatalog(t, f)

	l := decode[page[recording.Recording]](t, c.json("A", http.MethodGet, "/api/v1/recordings", ""), http.StatusOK)
	require.Equal(t, 2, l.Total)
	require.Equal(t, []string{"rc_a1", "rc_a2"}, []string{l.Items[0].ID, l.Items[1].ID}, "only the caller's project's")
	require.Empty(t, l.NextCursor)
	require.Equal(t, store.RecordingFilter{Limit: defaultCursorLimit, OrderDesc: true}, f.recFilter, "newest first, 50 a page")

	f.next = "rc_a2"
	r := c.json("A", http.MethodGet, "/api/v1/recordings?domain=a.com&app=live&stream=s&state=recording&mode=plan"+
		"&from=2026-03-01T10:00:00Z&to=2026-03-01T12:00:00Z&limit=500&cursor=rc_a1&order=asc", "")
	l = decode[page[recording.Recording]](t, r, http.StatusOK)
	require.Equal(t, "rc_a2", l.NextCursor)
	require.Equal(t, store.RecordingFilter{Domain: "a.com", App: "live", Stream: "s", State: recording.RecordingActive,
		Mode: recording.ModePlan, From: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		After: "rc_a1", Limit: 500}, f.recFilter)

	for _, tc := range []struct{ query, field string }{
		{"state=done", "state"},
		{"mode=sometimes", "mode"},
		{"from=2026-03-01", "from"},
		{"to=noon", "to"},
		{"from=2026-03-01T12:00:00Z&to=2026-03-01T10:00:00Z", "to"},
		{"limit=501", "limit"},
		{"limit=0", "limit"},
		{"order=newest", "order"},
		{"cursor=rc_gone", "cursor"}, // a cursor of no list the store knows
	} {
		c.json("A", http.MethodGet, "/api/v1/recordings?"+tc.query, "").requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
	}
}

func TestGetRecording(t *testing.T) {
	t.Parallel()
	c := serveCatalog(t, catalogWithRecordings())

	d := decode[service.RecordingDetail](t, c.json("A", http.MethodGet, "/api/v1/recordings/rc_a1", ""), http.StatusOK)
	require.Equal(t, "rc_a1", d.ID)
	require.Len(t, d.Files, 2)
	require.Equal(t, "http://play.test/f_1.m3u8?sig=x", d.Files[0].URL)
	require.Equal(t, 1280, d.Files[0].Width)
	require.Empty(t, d.LiveURL, "an ended recording has no live playlist")
	r := c.json("A", http.MethodGet, "/api/v1/recordings/rc_a1", "")
	require.Contains(t, string(r.body), `"events":[]`, "lists are never null")

	d = decode[service.RecordingDetail](t, c.json("A", http.MethodGet, "/api/v1/recordings/rc_a2", ""), http.StatusOK)
	require.Equal(t, "http://play.test/live/rc_a2.m3u8?sig=x", d.LiveURL)
	require.Contains(t, string(c.json("A", http.MethodGet, "/api/v1/recordings/rc_a2", "").body), `"files":[]`)

	c.json("B", http.MethodGet, "/api/v1/recordings/rc_a1", "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("A", http.MethodGet, "/api/v1/recordings/rc_none", "").requireError(t, http.StatusNotFound, codeNotFound, "")
}

func TestDeleteRecordingFilesIsForAdmins(t *testing.T) {
	t.Parallel()
	c := serveCatalog(t, catalogWithRecordings())
	c.json("A", http.MethodDelete, "/api/v1/recordings/rc_a1/files", "").requireError(t, http.StatusForbidden, codeForbidden, "")
	admin := c.as(service.Principal{Project: "A", Admin: true})
	r := c.send(admin, http.MethodDelete, "/api/v1/recordings/rc_a1/files", "", "")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.JSONEq(t, `{"deleted":2}`, string(r.body))
	otherAdmin := c.as(service.Principal{Project: "B", Admin: true})
	c.send(otherAdmin, http.MethodDelete, "/api/v1/recordings/rc_a1/files", "", "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("A", http.MethodGet, "/api/v1/recordings/rc_a1/files", "").requireError(t, http.StatusMethodNotAllowed, codeMethodNotAllowed, "")
}

func TestListFiles(t *testing.T) {
	t.Parallel()
	f := catalogWithRecordings()
	c := serveCatalog(t, f)

	l := decode[page[service.FileView]](t, c.json("A", http.MethodGet, "/api/v1/files", ""), http.StatusOK)
	require.Equal(t, 2, l.Total)
	require.Equal(t, "f_1", l.Items[0].ID)
	require.Equal(t, "http://play.test/f_2.mp4?sig=x", l.Items[1].URL)
	require.Equal(t, store.FileFilter{Limit: defaultCursorLimit, OrderDesc: true}, f.fileFilter)
	require.Empty(t, decode[page[service.FileView]](t, c.json("C", http.MethodGet, "/api/v1/files", ""), http.StatusOK).Items)

	f.next = "f_2"
	l = decode[page[service.FileView]](t, c.json("A", http.MethodGet, "/api/v1/files?recording_id=rc_a1&domain=a.com&app=live&stream=s"+
		"&format=hls&state=deleted&mode=clip&from=2026-03-01T10:00:00Z&to=2026-03-01T12:00:00Z&limit=1&cursor=f_1&order=desc", ""), http.StatusOK)
	require.Equal(t, "f_2", l.NextCursor)
	require.Equal(t, store.FileFilter{RecordingID: "rc_a1", Domain: "a.com", App: "live", Stream: "s", Format: recording.FormatHLS,
		State: recording.FileDeleted, Mode: recording.ModeClip, From: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		To: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), After: "f_1", Limit: 1, OrderDesc: true}, f.fileFilter)

	for _, tc := range []struct{ query, field string }{
		{"format=m3u8", "format"},
		{"state=lost", "state"},
		{"mode=x", "mode"},
		{"from=x", "from"},
		{"limit=1000", "limit"},
		{"order=x", "order"},
		{"cursor=f_gone", "cursor"},
	} {
		c.json("A", http.MethodGet, "/api/v1/files?"+tc.query, "").requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
	}
}

// Over the real service and SQLite store, a project lists and reads only its own recordings
// and files.
func TestRecordingsAreIsolatedOverTheService(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	ctx := t.Context()
	t0 := c.clock.Now().Add(-time.Hour)
	ids := map[string]string{}
	for _, project := range []string{"A", "B"} {
		rec := &recording.Recording{Project: project, RuleID: "rl_x", Domain: project + ".com", App: "live", Stream: "s",
			State: recording.RecordingOver, Mode: recording.ModeAuto, StartedAt: t0}
		require.NoError(t, c.svc.Store.RecordingInsert(ctx, rec))
		require.NoError(t, c.svc.Store.FileInsert(ctx, &recording.File{RecordingID: rec.ID, Format: recording.FormatFLV,
			State: recording.FileFailed, StartedAt: t0}))
		ids[project] = rec.ID
	}
	l := decode[page[recording.Recording]](t, c.json("A", http.MethodGet, "/api/v1/recordings", ""), http.StatusOK)
	require.Equal(t, 1, l.Total)
	require.Equal(t, ids["A"], l.Items[0].ID)
	fl := decode[page[service.FileView]](t, c.json("A", http.MethodGet, "/api/v1/files", ""), http.StatusOK)
	require.Equal(t, 1, fl.Total)
	require.Equal(t, ids["A"], fl.Items[0].RecordingID)
	require.Empty(t, decode[page[service.FileView]](t, c.json("A", http.MethodGet, "/api/v1/files?recording_id="+ids["B"], ""), http.StatusOK).Items)

	d := decode[service.RecordingDetail](t, c.json("A", http.MethodGet, "/api/v1/recordings/"+ids["A"], ""), http.StatusOK)
	require.Len(t, d.Files, 1)
	c.json("A", http.MethodGet, "/api/v1/recordings/"+ids["B"], "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("A", http.MethodDelete, "/api/v1/recordings/"+ids["A"]+"/files", "").requireError(t, http.StatusForbidden, codeForbidden, "")
	// B's recording is no cursor of A's list.
	c.json("A", http.MethodGet, "/api/v1/recordings?cursor="+ids["B"], "").requireError(t, http.StatusBadRequest, codeInvalidArgument, "cursor")
}
