package huawei

import (
	"errors"
	"net/http"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// controlBody is RecordControlInfo: one stream, no wildcards.
type controlBody struct {
	PublishDomain string `json:"publish_domain"`
	App           string `json:"app"`
	Stream        string `json:"stream"`
}

// control is POST /record/control?action=START|STOP (§5 manual mode). It checks the command
// and that the stream's rule is a COMMAND_RECORD one, then hands it to the stream's recorder:
// a stream that is not published is 404 (START needs a live stream), a START within 10 s of a
// STOP is LIVE.100011022 "Record task exist", a command out of state LIVE.103011022.
func (h *handler) control(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	action := r.URL.Query().Get("action")
	cmd := map[string]recording.Command{"START": recording.CommandStartAfterGap, "STOP": recording.CommandStop}[action]
	if cmd == "" {
		return badParameter("action", "must be START or STOP")
	}
	var b controlBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	for _, f := range []struct{ name, value string }{
		{"publish_domain", b.PublishDomain}, {"app", b.App}, {"stream", b.Stream},
	} {
		if f.value == "" || f.value == recording.Wildcard {
			return badParameter(f.name, "one stream must be named (no \"*\")")
		}
	}
	// A domain of another project is not found, like everything of it.
	if err := h.svc.CheckDomain(r.Context(), p, b.PublishDomain); err != nil {
		return err
	}
	rules, _, err := h.svc.ListRules(r.Context(), p, store.RuleFilter{})
	if err != nil {
		return err
	}
	key := recording.Rule{Domain: b.PublishDomain, App: b.App, Stream: b.Stream}
	key.Normalize()
	rule := recording.MatchRule(rules, key.Domain, key.App, key.Stream)
	switch {
	case rule == nil:
		return &apiError{status: http.StatusNotFound, Code: codeNotFound, Msg: "No recording rule matches the stream"}
	case rule.Mode != recording.ModeManual:
		return badParameter("record_type", "the stream's recording rule is "+recordTypeOf(rule.Mode)+", not COMMAND_RECORD")
	}
	switch err := h.svc.RecordCommand(r.Context(), p, key.Domain, key.App, key.Stream, cmd); {
	case err == nil:
		writeJSON(w, http.StatusOK, struct{}{})
		return nil
	case errors.Is(err, recording.ErrNotLive):
		return &apiError{status: http.StatusNotFound, Code: codeNotFound, Msg: "The stream is not being published"}
	case errors.Is(err, recording.ErrCommandTooSoon):
		return &apiError{status: http.StatusBadRequest, Code: "LIVE.100011022", Msg: "Record task exist"}
	case errors.Is(err, recording.ErrCommandState):
		return &apiError{status: http.StatusBadRequest, Code: "LIVE.103011022", Msg: "Operation not allowed in the current state"}
	default:
		return err
	}
}
