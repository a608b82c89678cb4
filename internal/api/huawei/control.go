package huawei

import (
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
// and that the stream's rule is a COMMAND_RECORD one. Commands reach no recorder yet, so every
// valid command meets a stream that is not live, which the cloud answers with 404: START needs
// the stream to be published already, and STOP finds no recording task.
func (h *handler) control(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	switch r.URL.Query().Get("action") {
	case "START", "STOP":
	default:
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
	return &apiError{status: http.StatusNotFound, Code: codeNotFound, Msg: "The stream is not being published"}
}
