package native

import (
	"errors"
	"net/http"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// Live streams, their publish history and the block list.

type streamList struct {
	Streams []recording.LiveStream `json:"streams"`
}

// blockRequest is the optional body of PUT /blocks/{domain}/{app}/{stream}.
type blockRequest struct {
	ResumeAt *string `json:"resume_at"`
}

// blockResult is the answer to a block: the block and whether a publisher was disconnected.
type blockResult struct {
	Block  recording.StreamBlock `json:"block"`
	Kicked bool                  `json:"kicked"`
}

func (h *handler) listStreams(w http.ResponseWriter, r *http.Request, p service.Principal) {
	q := r.URL.Query()
	ls, err := h.svc.ListLiveStreams(r.Context(), p, service.LiveFilter{Domain: q.Get("domain"), App: q.Get("app"), Stream: q.Get("stream")})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if ls == nil {
		ls = []recording.LiveStream{}
	}
	writeJSON(w, http.StatusOK, streamList{Streams: ls})
}

func (h *handler) getStream(w http.ResponseWriter, r *http.Request, p service.Principal) {
	k := pathStreamKey(r)
	ls, err := h.svc.StreamState(r.Context(), p, k.domain, k.app, k.stream)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ls)
}

// kickStream disconnects the publisher without blocking it: it may publish again at once.
func (h *handler) kickStream(w http.ResponseWriter, r *http.Request, p service.Principal) {
	k := pathStreamKey(r)
	if err := h.svc.KickStream(r.Context(), p, k.domain, k.app, k.stream); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listPublishes pages the publications, live and past, of one domain, newest first.
func (h *handler) listPublishes(w http.ResponseWriter, r *http.Request, p service.Principal) {
	q := r.URL.Query()
	f := store.PublishFilter{Domain: q.Get("domain"), App: q.Get("app"), Stream: q.Get("stream")}
	if f.Domain == "" {
		h.fail(w, r, invalidArgument("domain", "domain is required"))
		return
	}
	var err error
	if f.From, f.To, err = timeRange(q); err != nil {
		h.fail(w, r, err)
		return
	}
	if f.Live, err = boolParam(q, "live"); err != nil {
		h.fail(w, r, err)
		return
	}
	if f.Offset, f.Limit, err = offsetLimit(q); err != nil {
		h.fail(w, r, err)
		return
	}
	pubs, total, err := h.svc.ListPublishes(r.Context(), p, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pageOf(pubs, total, ""))
}

func (h *handler) listBlocks(w http.ResponseWriter, r *http.Request, p service.Principal) {
	q := r.URL.Query()
	f := store.BlockFilter{Domain: q.Get("domain"), App: q.Get("app"), Stream: q.Get("stream")}
	var err error
	if f.Offset, f.Limit, err = offsetLimit(q); err != nil {
		h.fail(w, r, err)
		return
	}
	bs, total, err := h.svc.ListBlocks(r.Context(), p, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pageOf(bs, total, ""))
}

// putBlock forbids a stream key (until resume_at, or until deleted) and disconnects its
// publisher at once. Blocking a blocked key again replaces its expiry.
func (h *handler) putBlock(w http.ResponseWriter, r *http.Request, p service.Principal) {
	var req blockRequest
	if err := readJSON(w, r, &req, true); err != nil {
		h.fail(w, r, err)
		return
	}
	resumeAt, err := timeParam(req.ResumeAt, "resume_at")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	k := pathStreamKey(r)
	b := recording.StreamBlock{Domain: k.domain, App: k.app, Stream: k.stream, ResumeAt: resumeAt}
	kicked, err := h.svc.ForbidStream(r.Context(), p, b)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The service does not return the stored block (its CreatedAt): read it back. A block that
	// expired in between is answered as requested.
	stored, err := h.svc.GetBlock(r.Context(), p, k.domain, k.app, k.stream)
	switch {
	case err == nil:
		b = *stored
	case errors.Is(err, recording.ErrNotFound):
		b.CreatedAt = h.now().UTC()
	default:
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, blockResult{Block: b, Kicked: kicked})
}

func (h *handler) getBlock(w http.ResponseWriter, r *http.Request, p service.Principal) {
	k := pathStreamKey(r)
	b, err := h.svc.GetBlock(r.Context(), p, k.domain, k.app, k.stream)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// deleteBlock lifts a block: the stream key may publish again.
func (h *handler) deleteBlock(w http.ResponseWriter, r *http.Request, p service.Principal) {
	k := pathStreamKey(r)
	if err := h.svc.ResumeStream(r.Context(), p, k.domain, k.app, k.stream); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// nodeList is GET /api/v1/nodes.
type nodeList struct {
	Nodes []store.Node `json:"nodes"`
}

func (h *handler) listNodes(w http.ResponseWriter, r *http.Request, p service.Principal) {
	nodes, err := h.svc.ListNodes(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, nodeList{Nodes: nodes})
}
