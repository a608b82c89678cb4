package native

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// Paging of list endpoints.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// ruleRequest is the body of POST and PUT: the writable fields of a rule. Formats and storage
// stay raw until decodeRule lays them over their defaults.
type ruleRequest struct {
	Domain    string            `json:"domain"`
	App       string            `json:"app"`
	Stream    string            `json:"stream"`
	Mode      recording.Mode    `json:"mode"`
	Formats   []json.RawMessage `json:"formats"`
	Storage   json.RawMessage   `json:"storage"`
	StartTime *string           `json:"start_time"`
	EndTime   *string           `json:"end_time"`
	// Retention, disk policy and pre-roll (issue 17); absent is 0/false: keep, refuse, off.
	RetentionS        int64 `json:"retention_s"`
	OverwriteWhenFull bool  `json:"overwrite_when_full"`
	PreRollS          int   `json:"pre_roll_s"`
}

type ruleList struct {
	Total int              `json:"total"`
	Rules []recording.Rule `json:"rules"`
}

// ruleConflict is the 409 of a rule whose key another rule of the project has.
const ruleConflict = "a rule with this domain, app and stream already exists"

func (h *handler) listRules(w http.ResponseWriter, r *http.Request, p service.Principal) {
	q := r.URL.Query()
	f := store.RuleFilter{Domain: q.Get("domain"), App: q.Get("app"), Stream: q.Get("stream")}
	var err error
	if f.Offset, f.Limit, f.OrderDesc, err = paging(q); err != nil {
		h.fail(w, r, err)
		return
	}
	rules, total, err := h.svc.ListRules(r.Context(), p, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if rules == nil {
		rules = []recording.Rule{}
	}
	writeJSON(w, http.StatusOK, ruleList{Total: total, Rules: rules})
}

func (h *handler) createRule(w http.ResponseWriter, r *http.Request, p service.Principal) {
	rule, err := decodeRule(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.svc.CreateRule(r.Context(), p, rule); err != nil {
		h.fail(w, r, conflictAs(err, ruleConflict))
		return
	}
	w.Header().Set("Location", "/api/v1/rules/"+rule.ID)
	writeJSON(w, http.StatusCreated, rule)
}

func (h *handler) getRule(w http.ResponseWriter, r *http.Request, p service.Principal) {
	rule, err := h.svc.GetRule(r.Context(), p, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rule)
}

// updateRule replaces a rule: fields left out get their defaults, as on creation.
func (h *handler) updateRule(w http.ResponseWriter, r *http.Request, p service.Principal) {
	rule, err := decodeRule(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rule.ID = r.PathValue("id")
	if err := h.svc.UpdateRule(r.Context(), p, rule); err != nil {
		h.fail(w, r, conflictAs(err, ruleConflict))
		return
	}
	writeJSON(w, http.StatusOK, rule)
}

func (h *handler) deleteRule(w http.ResponseWriter, r *http.Request, p service.Principal) {
	if err := h.svc.DeleteRule(r.Context(), p, r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// decodeRule reads a ruleRequest into a native rule. Each format starts from the native defaults
// of its format and storage from the default bucket, so an absent field gets its default while
// an explicit 0 (no cycle, no merge window) is kept.
func decodeRule(w http.ResponseWriter, r *http.Request) (*recording.Rule, error) {
	if err := requireJSON(r); err != nil {
		return nil, err
	}
	var req ruleRequest
	if err := decodeBody(http.MaxBytesReader(w, r.Body, maxBodyBytes), &req); err != nil {
		return nil, err
	}
	return req.rule()
}

// rule lays the request over the native defaults (see decodeRule).
func (req *ruleRequest) rule() (*recording.Rule, error) {
	rule := &recording.Rule{
		Dialect: recording.DialectNative,
		Domain:  req.Domain,
		App:     req.App,
		Stream:  req.Stream,
		Mode:    req.Mode,
		Storage: recording.Storage{Endpoint: recording.DefaultEndpoint, Bucket: recording.DefaultBucket},

		RetentionS:        req.RetentionS,
		OverwriteWhenFull: req.OverwriteWhenFull,
		PreRollS:          req.PreRollS,
	}
	for i, raw := range req.Formats {
		prefix := fmt.Sprintf("formats[%d].", i)
		var peek struct {
			Format string `json:"format"`
		}
		if err := json.Unmarshal(raw, &peek); err != nil {
			return nil, jsonError(err, raw, prefix)
		}
		fc := recording.DefaultFormatConfig(recording.Format(strings.ToLower(peek.Format)))
		if err := decodeStrict(raw, &fc, prefix); err != nil {
			return nil, err
		}
		rule.Formats = append(rule.Formats, fc)
	}
	if req.Storage != nil {
		if err := decodeStrict(req.Storage, &rule.Storage, "storage."); err != nil {
			return nil, err
		}
	}
	var err error
	if rule.StartTime, err = timeParam(req.StartTime, "start_time"); err != nil {
		return nil, err
	}
	if rule.EndTime, err = timeParam(req.EndTime, "end_time"); err != nil {
		return nil, err
	}
	return rule, nil
}

// requireJSON refuses writes whose body is not declared as JSON (415).
func requireJSON(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return &badRequest{http.StatusUnsupportedMediaType, apiError{
			Code: codeUnsupportedMedia, Message: "Content-Type must be application/json",
		}}
	}
	return nil
}

func timeParam(s *string, field string) (*time.Time, error) {
	if s == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return nil, invalidArgument(field, "%s must be an RFC 3339 time", field)
	}
	return &t, nil
}

// paging reads the offset, limit and order parameters every list endpoint takes.
func paging(q url.Values) (offset, limit int, desc bool, err error) {
	if offset, limit, err = offsetLimit(q); err != nil {
		return 0, 0, false, err
	}
	switch q.Get("order") {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return 0, 0, false, invalidArgument("order", "order must be asc or desc")
	}
	return offset, limit, desc, nil
}

// intParam parses a query parameter; max < 0 means no upper bound.
func intParam(s, name string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || (hi >= 0 && n > hi) {
		if hi >= 0 {
			return 0, invalidArgument(name, "%s must be an integer from %d to %d", name, lo, hi)
		}
		return 0, invalidArgument(name, "%s must be an integer of at least %d", name, lo)
	}
	return n, nil
}
