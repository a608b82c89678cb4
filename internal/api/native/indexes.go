package native

import (
	"net/http"

	"github.com/liverec/liverec/internal/service"
)

// Indexes (an m3u8 over the stored HLS slices of a time range) and clips (one MP4 of a time
// range).

// indexRequest is the body of POST /indexes.
type indexRequest struct {
	Domain          string  `json:"domain"`
	App             string  `json:"app"`
	Stream          string  `json:"stream"`
	StartTime       *string `json:"start_time"`
	EndTime         *string `json:"end_time"`
	EndTimeIncluded bool    `json:"end_time_included"`
	Endpoint        string  `json:"endpoint"`
	Bucket          string  `json:"bucket"`
	Object          string  `json:"object"`
}

// clipRequest is the body of POST /clips.
type clipRequest struct {
	Domain    string  `json:"domain"`
	App       string  `json:"app"`
	Stream    string  `json:"stream"`
	StartTime *string `json:"start_time"`
	EndTime   *string `json:"end_time"`
	Endpoint  string  `json:"endpoint"`
	Bucket    string  `json:"bucket"`
	Object    string  `json:"object"`
}

// indexConflict is the 409 of deleting a recording's own playlist without its file.
const indexConflict = "a recording's own HLS playlist is not a record to drop: delete it with remove_file=true"

// createIndex writes an index over the stored slices of the range. The span limit is the
// service's default (4 days, as Alibaba's).
func (h *handler) createIndex(w http.ResponseWriter, r *http.Request, p service.Principal) {
	var req indexRequest
	if err := readJSON(w, r, &req, false); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := requireStreamKey(req.Domain, req.App, req.Stream); err != nil {
		h.fail(w, r, err)
		return
	}
	from, to, err := bodyRange(req.StartTime, req.EndTime)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	x, err := h.svc.CreateIndex(r.Context(), p, service.IndexRequest{Domain: req.Domain, App: req.App, Stream: req.Stream,
		From: from, To: to, EndIncluded: req.EndTimeIncluded, Endpoint: req.Endpoint, Bucket: req.Bucket, Object: req.Object})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/indexes/"+x.ID)
	writeJSON(w, http.StatusCreated, x)
}

// listIndexes pages the indexes and the recordings' own HLS playlists whose range overlaps
// [from, to), oldest first.
func (h *handler) listIndexes(w http.ResponseWriter, r *http.Request, p service.Principal) {
	q := r.URL.Query()
	iq := service.IndexQuery{Domain: q.Get("domain"), App: q.Get("app"), Stream: q.Get("stream")}
	var err error
	if iq.From, iq.To, err = timeRange(q); err != nil {
		h.fail(w, r, err)
		return
	}
	if iq.Offset, iq.Limit, iq.OrderDesc, err = paging(q); err != nil {
		h.fail(w, r, err)
		return
	}
	xs, total, err := h.svc.ListIndexes(r.Context(), p, iq)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pageOf(xs, total, ""))
}

// getIndex answers an index (idx_…) or a recording's HLS playlist (f_…). The id names it
// within the project, so domain, app and stream are optional narrowing: when given, an index
// of another stream is not found.
func (h *handler) getIndex(w http.ResponseWriter, r *http.Request, p service.Principal) {
	q := r.URL.Query()
	x, err := h.svc.GetIndex(r.Context(), p, q.Get("domain"), q.Get("app"), q.Get("stream"), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, x)
}

// deleteIndex drops an index record; remove_file=true removes its m3u8 object too (for a
// recording's playlist: the playlist and its slices, and the file is marked deleted).
func (h *handler) deleteIndex(w http.ResponseWriter, r *http.Request, p service.Principal) {
	q := r.URL.Query()
	removeFile, err := boolParam(q, "remove_file")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	err = h.svc.DeleteIndex(r.Context(), p, q.Get("domain"), q.Get("app"), q.Get("stream"), r.PathValue("id"), removeFile)
	if err != nil {
		h.fail(w, r, conflictAs(err, indexConflict))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// createClip exports one MP4 of the range, cut on keyframes; it is a file of a new
// recording (mode clip), listed and played like any other.
func (h *handler) createClip(w http.ResponseWriter, r *http.Request, p service.Principal) {
	var req clipRequest
	if err := readJSON(w, r, &req, false); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := requireStreamKey(req.Domain, req.App, req.Stream); err != nil {
		h.fail(w, r, err)
		return
	}
	from, to, err := bodyRange(req.StartTime, req.EndTime)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, err := h.svc.CreateClip(r.Context(), p, service.ClipRequest{Domain: req.Domain, App: req.App, Stream: req.Stream,
		From: from, To: to, Endpoint: req.Endpoint, Bucket: req.Bucket, Object: req.Object})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/recordings/"+f.RecordingID)
	writeJSON(w, http.StatusCreated, f)
}
