package native

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes every route of routes() (checked by a test). A string, so the
// embedded document cannot be modified at run time.
//
//go:embed openapi.json
var openAPIDocument string

// openAPI serves the document without authentication: it holds nothing secret, and tools
// need it before they hold credentials.
func (h *handler) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(openAPIDocument)) // the client may be gone; nothing left to tell it
}
