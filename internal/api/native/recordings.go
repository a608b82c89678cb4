package native

import (
	"net/http"
	"net/url"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// The recordings catalogue: recordings, their files with playable URLs, and the admin's
// removal of stored files.

type deletedFiles struct {
	Deleted int `json:"deleted"`
}

func (h *handler) listRecordings(w http.ResponseWriter, r *http.Request, p service.Principal) {
	f, err := recordingFilter(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	recs, total, next, err := h.svc.ListRecordings(r.Context(), p, f)
	if err != nil {
		h.fail(w, r, cursorError(err, f.After))
		return
	}
	writeJSON(w, http.StatusOK, pageOf(recs, total, next))
}

// getRecording answers a recording with its files (and their URLs), its events and, while it
// is in progress, its live HLS URL.
func (h *handler) getRecording(w http.ResponseWriter, r *http.Request, p service.Principal) {
	d, err := h.svc.GetRecording(r.Context(), p, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if d.Files == nil {
		d.Files = []service.FileView{}
	}
	if d.Events == nil {
		d.Events = []recording.OutboxEvent{}
	}
	writeJSON(w, http.StatusOK, d)
}

// deleteRecordingFiles removes a recording's stored objects (admin only); the records stay,
// marked deleted.
func (h *handler) deleteRecordingFiles(w http.ResponseWriter, r *http.Request, p service.Principal) {
	n, err := h.svc.DeleteRecordingFiles(r.Context(), p, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deletedFiles{Deleted: n})
}

func (h *handler) listFiles(w http.ResponseWriter, r *http.Request, p service.Principal) {
	f, err := fileFilter(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	files, total, next, err := h.svc.ListFiles(r.Context(), p, f)
	if err != nil {
		h.fail(w, r, cursorError(err, f.After))
		return
	}
	writeJSON(w, http.StatusOK, pageOf(files, total, next))
}

// recordingFilter reads GET /recordings' query; the service sets the project.
func recordingFilter(q url.Values) (store.RecordingFilter, error) {
	f := store.RecordingFilter{Domain: q.Get("domain"), App: q.Get("app"), Stream: q.Get("stream")}
	var err error
	if f.State, err = enumParam(q, "state", recordingStates...); err != nil {
		return f, err
	}
	if f.Mode, err = enumParam(q, "mode", recordingModes...); err != nil {
		return f, err
	}
	if f.From, f.To, err = timeRange(q); err != nil {
		return f, err
	}
	cp, err := cursorPaging(q)
	if err != nil {
		return f, err
	}
	f.Limit, f.After, f.OrderDesc = cp.limit, cp.cursor, cp.desc
	return f, nil
}

// fileFilter reads GET /files' query; the service sets the project.
func fileFilter(q url.Values) (store.FileFilter, error) {
	f := store.FileFilter{RecordingID: q.Get("recording_id"), Domain: q.Get("domain"), App: q.Get("app"), Stream: q.Get("stream")}
	var err error
	if f.Format, err = enumParam(q, "format", fileFormats...); err != nil {
		return f, err
	}
	if f.State, err = enumParam(q, "state", fileStates...); err != nil {
		return f, err
	}
	if f.Mode, err = enumParam(q, "mode", recordingModes...); err != nil {
		return f, err
	}
	if f.From, f.To, err = timeRange(q); err != nil {
		return f, err
	}
	cp, err := cursorPaging(q)
	if err != nil {
		return f, err
	}
	f.Limit, f.After, f.OrderDesc = cp.limit, cp.cursor, cp.desc
	return f, nil
}
