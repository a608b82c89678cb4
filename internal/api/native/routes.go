package native

import (
	"net/http"
	"slices"
	"strings"

	"github.com/liverec/liverec/internal/service"
)

// route is one endpoint. routes is the single table the mux is built from and the OpenAPI
// test walks, so the document cannot silently miss an endpoint.
type route struct {
	method string
	// pattern is both the net/http pattern and the OpenAPI path template.
	pattern string
	// serve handles an authenticated request; open, when set instead, needs no credentials.
	serve func(h *handler, w http.ResponseWriter, r *http.Request, p service.Principal)
	open  func(h *handler, w http.ResponseWriter, r *http.Request)
}

func routes() []route {
	return []route{
		{method: http.MethodGet, pattern: "/api/v1/openapi.json", open: (*handler).openAPI},

		{method: http.MethodGet, pattern: "/api/v1/whoami", serve: (*handler).whoami},
		{method: http.MethodGet, pattern: "/api/v1/nodes", serve: (*handler).listNodes},

		{method: http.MethodGet, pattern: "/api/v1/rules", serve: (*handler).listRules},
		{method: http.MethodPost, pattern: "/api/v1/rules", serve: (*handler).createRule},
		{method: http.MethodGet, pattern: "/api/v1/rules/{id}", serve: (*handler).getRule},
		{method: http.MethodPut, pattern: "/api/v1/rules/{id}", serve: (*handler).updateRule},
		{method: http.MethodDelete, pattern: "/api/v1/rules/{id}", serve: (*handler).deleteRule},
		{method: http.MethodPost, pattern: "/api/v1/rules/preview", serve: (*handler).previewRule},

		{method: http.MethodGet, pattern: "/api/v1/callbacks", serve: (*handler).listCallbacks},
		{method: http.MethodPost, pattern: "/api/v1/callbacks", serve: (*handler).createCallback},
		{method: http.MethodGet, pattern: "/api/v1/callbacks/{id}", serve: (*handler).getCallback},
		{method: http.MethodPut, pattern: "/api/v1/callbacks/{id}", serve: (*handler).updateCallback},
		{method: http.MethodDelete, pattern: "/api/v1/callbacks/{id}", serve: (*handler).deleteCallback},
		{method: http.MethodPost, pattern: "/api/v1/callbacks/{id}/test", serve: (*handler).testCallback},
		{method: http.MethodPost, pattern: "/api/v1/callback-keys", serve: (*handler).createCallbackKey},

		{method: http.MethodGet, pattern: "/api/v1/access-keys", serve: (*handler).listAccessKeys},
		{method: http.MethodPost, pattern: "/api/v1/access-keys", serve: (*handler).createAccessKey},
		{method: http.MethodPatch, pattern: "/api/v1/access-keys/{id}", serve: (*handler).updateAccessKey},
		{method: http.MethodDelete, pattern: "/api/v1/access-keys/{id}", serve: (*handler).revokeAccessKey},

		{method: http.MethodGet, pattern: "/api/v1/tokens", serve: (*handler).listTokens},
		{method: http.MethodPost, pattern: "/api/v1/tokens", serve: (*handler).createToken},
		{method: http.MethodDelete, pattern: "/api/v1/tokens/{id}", serve: (*handler).deleteToken},

		{method: http.MethodGet, pattern: "/api/v1/domains", serve: (*handler).listDomains},
		{method: http.MethodPut, pattern: "/api/v1/domains/{domain}", serve: (*handler).assignDomain},
		{method: http.MethodGet, pattern: "/api/v1/domains/{domain}/publish-auth", serve: (*handler).getPublishAuth},
		{method: http.MethodPut, pattern: "/api/v1/domains/{domain}/publish-auth", serve: (*handler).putPublishAuth},
		{method: http.MethodDelete, pattern: "/api/v1/domains/{domain}/publish-auth", serve: (*handler).deletePublishAuth},
		{method: http.MethodPost, pattern: "/api/v1/publish-auth/check", serve: (*handler).checkPublishURL},
		{method: http.MethodPost, pattern: "/api/v1/publish-auth/sign", serve: (*handler).signPublishURL},

		{method: http.MethodGet, pattern: "/api/v1/deliveries", serve: (*handler).listDeliveries},
		{method: http.MethodGet, pattern: "/api/v1/deliveries/{id}", serve: (*handler).getDelivery},
		{method: http.MethodGet, pattern: "/api/v1/deliveries/{id}/attempts", serve: (*handler).deliveryAttempts},
		{method: http.MethodPost, pattern: "/api/v1/deliveries/{id}/redeliver", serve: (*handler).redeliver},

		{method: http.MethodGet, pattern: "/api/v1/streams", serve: (*handler).listStreams},
		{method: http.MethodGet, pattern: "/api/v1/streams/{domain}/{app}/{stream}", serve: (*handler).getStream},
		{method: http.MethodPost, pattern: "/api/v1/streams/{domain}/{app}/{stream}/kick", serve: (*handler).kickStream},
		{method: http.MethodPost, pattern: "/api/v1/streams/{domain}/{app}/{stream}/events", serve: (*handler).createEvent},
		{method: http.MethodGet, pattern: "/api/v1/publishes", serve: (*handler).listPublishes},

		{method: http.MethodGet, pattern: "/api/v1/blocks", serve: (*handler).listBlocks},
		{method: http.MethodGet, pattern: "/api/v1/blocks/{domain}/{app}/{stream}", serve: (*handler).getBlock},
		{method: http.MethodPut, pattern: "/api/v1/blocks/{domain}/{app}/{stream}", serve: (*handler).putBlock},
		{method: http.MethodDelete, pattern: "/api/v1/blocks/{domain}/{app}/{stream}", serve: (*handler).deleteBlock},

		{method: http.MethodGet, pattern: "/api/v1/recordings", serve: (*handler).listRecordings},
		{method: http.MethodGet, pattern: "/api/v1/recordings/{id}", serve: (*handler).getRecording},
		{method: http.MethodDelete, pattern: "/api/v1/recordings/{id}/files", serve: (*handler).deleteRecordingFiles},
		{method: http.MethodPost, pattern: "/api/v1/recordings/{id}/lock", serve: (*handler).lockRecording},
		{method: http.MethodDelete, pattern: "/api/v1/recordings/{id}/lock", serve: (*handler).unlockRecording},
		{method: http.MethodGet, pattern: "/api/v1/retention/preview", serve: (*handler).retentionPreview},
		{method: http.MethodGet, pattern: "/api/v1/files", serve: (*handler).listFiles},

		{method: http.MethodGet, pattern: "/api/v1/indexes", serve: (*handler).listIndexes},
		{method: http.MethodPost, pattern: "/api/v1/indexes", serve: (*handler).createIndex},
		{method: http.MethodGet, pattern: "/api/v1/indexes/{id}", serve: (*handler).getIndex},
		{method: http.MethodDelete, pattern: "/api/v1/indexes/{id}", serve: (*handler).deleteIndex},
		{method: http.MethodPost, pattern: "/api/v1/clips", serve: (*handler).createClip},

		{method: http.MethodGet, pattern: "/api/v1/plan-tasks", serve: (*handler).listPlanTasks},
		{method: http.MethodPost, pattern: "/api/v1/plan-tasks", serve: (*handler).createPlanTask},
		{method: http.MethodDelete, pattern: "/api/v1/plan-tasks/{id}", serve: (*handler).deletePlanTask},
	}
}

func (h *handler) mux() *http.ServeMux {
	mux := http.NewServeMux()
	var paths []string
	allowed := map[string][]string{}
	for _, rt := range routes() {
		if rt.open != nil {
			mux.HandleFunc(rt.method+" "+rt.pattern, func(w http.ResponseWriter, r *http.Request) { rt.open(h, w, r) })
		} else {
			mux.HandleFunc(rt.method+" "+rt.pattern, h.authed(rt.serve))
		}
		if _, ok := allowed[rt.pattern]; !ok {
			paths = append(paths, rt.pattern)
		}
		allowed[rt.pattern] = append(allowed[rt.pattern], rt.method)
		if rt.method == http.MethodGet { // the mux serves HEAD with GET's handler
			allowed[rt.pattern] = append(allowed[rt.pattern], http.MethodHead)
		}
	}
	// JSON errors instead of the mux's plain-text ones.
	for _, p := range paths {
		h405 := methodNotAllowed(strings.Join(allowed[p], ", "))
		if !narrows(p, paths) {
			mux.HandleFunc(p, h405)
			continue
		}
		// A literal path under another's wildcard (rules/preview under rules/{id}): a
		// method-less pattern would conflict with the other's methods, so each is named.
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
			http.MethodPatch, http.MethodDelete, http.MethodOptions} {
			if !slices.Contains(allowed[p], m) {
				mux.HandleFunc(m+" "+p, h405)
			}
		}
	}
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, apiError{Code: codeNotFound, Message: "no such endpoint"})
	})
	return mux
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, apiError{Code: codeMethodNotAllowed, Message: r.Method + " is not allowed here"})
	}
}

// narrows tells whether another of paths matches every path p matches, with a wildcard where p
// has a literal segment.
func narrows(p string, paths []string) bool {
	ps := strings.Split(p, "/")
	for _, q := range paths {
		qs := strings.Split(q, "/")
		if q == p || len(qs) != len(ps) {
			continue
		}
		general := true
		for i := range ps {
			if qs[i] != ps[i] && !(strings.HasPrefix(qs[i], "{") && !strings.HasSuffix(qs[i], "...}")) {
				general = false
				break
			}
		}
		if general {
			return true
		}
	}
	return false
}
