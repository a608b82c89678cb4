package native

import (
	"net/http"
	"strings"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

type domainList struct {
	Total   int                     `json:"total"`
	Domains []recording.DomainClaim `json:"domains"`
}

// domainAssignment is the body of PUT /domains/{domain} and its answer.
type domainAssignment struct {
	Domain  string `json:"domain,omitempty"`
	Project string `json:"project"`
}

// listDomains lists the domains the caller's project owns (claimed or assigned).
func (h *handler) listDomains(w http.ResponseWriter, r *http.Request, p service.Principal) {
	ds, err := h.svc.ListDomains(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if ds == nil {
		ds = []recording.DomainClaim{}
	}
	writeJSON(w, http.StatusOK, domainList{Total: len(ds), Domains: ds})
}

// assignDomain gives a domain to a project, whoever owned it: an admin's act, which the
// service enforces (403 for other keys).
func (h *handler) assignDomain(w http.ResponseWriter, r *http.Request, p service.Principal) {
	var req domainAssignment
	if err := readJSON(w, r, &req, false); err != nil {
		h.fail(w, r, err)
		return
	}
	domain := strings.ToLower(strings.TrimSpace(r.PathValue("domain")))
	if req.Domain != "" && !strings.EqualFold(strings.TrimSpace(req.Domain), domain) {
		h.fail(w, r, invalidArgument("domain", "domain in the body must match the path"))
		return
	}
	if req.Project == "" {
		h.fail(w, r, invalidArgument("project", "project is required"))
		return
	}
	if err := h.svc.AssignDomain(r.Context(), p, domain, req.Project); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("domain assigned", "domain", domain, "project", req.Project, "by", p.KeyID)
	writeJSON(w, http.StatusOK, domainAssignment{Domain: domain, Project: req.Project})
}
