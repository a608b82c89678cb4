package native

import (
	"net/http"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// maxDescription bounds an access key's description.
const maxDescription = 256

// accessKeyRequest is the optional body of POST /access-keys. Project and admin other than
// the caller's own non-admin project need an admin key.
type accessKeyRequest struct {
	Project     string `json:"project"`
	Admin       bool   `json:"admin"`
	Description string `json:"description"`
}

// accessKeyCreated is the only response that ever carries a secret.
type accessKeyCreated struct {
	ID          string    `json:"id"`
	Secret      string    `json:"secret"`
	Project     string    `json:"project"`
	Admin       bool      `json:"admin"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

type accessKeyList struct {
	Total      int                   `json:"total"`
	AccessKeys []recording.AccessKey `json:"access_keys"`
}

func (h *handler) createAccessKey(w http.ResponseWriter, r *http.Request, p service.Principal) {
	var req accessKeyRequest
	if err := readJSON(w, r, &req, true); err != nil {
		h.fail(w, r, err)
		return
	}
	if len(req.Description) > maxDescription {
		h.fail(w, r, invalidArgument("description", "description must be at most %d bytes", maxDescription))
		return
	}
	k, secret, err := h.svc.CreateAccessKey(r.Context(), p, req.Project, req.Admin, req.Description)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// An audit trail of who made which key; the secret stays out of it.
	h.log.Info("access key created", "id", k.ID, "project", k.Project, "admin", k.Admin, "by", p.KeyID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, accessKeyCreated{
		ID: k.ID, Secret: secret, Project: k.Project, Admin: k.Admin, Description: k.Description, CreatedAt: k.CreatedAt,
	})
}

// listAccessKeys lists keys, revoked ones included; secrets stay sealed. The caller's project's,
// or for an admin another project's (?project=) or every project's (?project=*).
func (h *handler) listAccessKeys(w http.ResponseWriter, r *http.Request, p service.Principal) {
	ks, err := h.svc.ListAccessKeys(r.Context(), p, r.URL.Query().Get("project"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if ks == nil {
		ks = []recording.AccessKey{}
	}
	writeJSON(w, http.StatusOK, accessKeyList{Total: len(ks), AccessKeys: ks})
}

// keyProject is the project a key change names: ?project= (an admin acting on another
// project's key) or the caller's own. For logs only; the service decides what is allowed.
func keyProject(r *http.Request, p service.Principal) string {
	if project := r.URL.Query().Get("project"); project != "" {
		return project
	}
	return p.Project
}

// revokeAccessKey revokes a key of the caller's project, or for an admin of ?project=.
func (h *handler) revokeAccessKey(w http.ResponseWriter, r *http.Request, p service.Principal) {
	id := r.PathValue("id")
	if err := h.svc.RevokeAccessKey(r.Context(), p, r.URL.Query().Get("project"), id); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("access key revoked", "id", id, "project", keyProject(r, p), "by", p.KeyID)
	w.WriteHeader(http.StatusNoContent)
}

// accessKeyUpdate is the body of PATCH /access-keys/{id}.
type accessKeyUpdate struct {
	Enabled *bool `json:"enabled"`
}

// updateAccessKey disables or enables a key (of ?project=, for an admin); disabling ends its
// tokens.
func (h *handler) updateAccessKey(w http.ResponseWriter, r *http.Request, p service.Principal) {
	var req accessKeyUpdate
	if err := readJSON(w, r, &req, false); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.Enabled == nil {
		h.fail(w, r, invalidArgument("enabled", "enabled (true or false) is required"))
		return
	}
	id, project := r.PathValue("id"), r.URL.Query().Get("project")
	if err := h.svc.SetAccessKeyDisabled(r.Context(), p, project, id, !*req.Enabled); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("access key updated", "id", id, "project", keyProject(r, p), "enabled", *req.Enabled, "by", p.KeyID)
	ks, err := h.svc.ListAccessKeys(r.Context(), p, project)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, k := range ks {
		if k.ID == id {
			writeJSON(w, http.StatusOK, k)
			return
		}
	}
	h.fail(w, r, recording.ErrNotFound)
}
