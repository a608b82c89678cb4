package native

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/liverec/liverec/internal/api/strictjson"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// Error codes of the native API.
const (
	codeInvalidArgument  = "invalid_argument"
	codeUnauthenticated  = "unauthenticated"
	codeForbidden        = "forbidden"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeConflict         = "conflict"
	codeTooLarge         = "too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeInternal         = "internal"
)

// apiError is the body of every error response: {"error": {...}}.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing left to tell it
}

func writeError(w http.ResponseWriter, status int, e apiError) {
	if status == http.StatusUnauthorized {
		// No Basic challenge: it would make browsers (the console, later) pop up a login box.
		w.Header().Set("WWW-Authenticate", `Bearer realm="liverec"`)
	}
	writeJSON(w, status, struct {
		Error apiError `json:"error"`
	}{e})
}

// fail answers err with its status: the service's sentinels, validation and decoding errors
// keep their meaning; anything else is logged and hidden behind a 500. Another project's object
// is ErrNotFound, never ErrForbidden, so projects cannot learn of each other's objects.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ve *recording.ValidationError
		be *badRequest
		me *http.MaxBytesError
		se *service.StateError
	)
	switch {
	case errors.As(err, &ve):
		writeError(w, http.StatusBadRequest, apiError{Code: codeInvalidArgument, Message: ve.Error(), Field: ve.Field})
	case errors.As(err, &be):
		writeError(w, be.status, be.apiError)
	case errors.As(err, &me):
		writeError(w, http.StatusRequestEntityTooLarge, apiError{Code: codeTooLarge, Message: fmt.Sprintf("body larger than %d bytes", me.Limit)})
	case errors.Is(err, recording.ErrUnauthenticated):
		writeError(w, http.StatusUnauthorized, apiError{Code: codeUnauthenticated, Message: unauthenticatedMessage(err)})
	case errors.Is(err, recording.ErrForbidden):
		writeError(w, http.StatusForbidden, apiError{Code: codeForbidden, Message: "this access key may not do this"})
	case errors.Is(err, recording.ErrNotLive):
		writeError(w, http.StatusNotFound, apiError{Code: codeNotFound, Message: "the stream is not live"})
	case errors.Is(err, service.ErrNoMedia):
		writeError(w, http.StatusNotFound, apiError{Code: codeNotFound, Message: "no recorded media in the range"})
	case errors.Is(err, recording.ErrNotFound):
		writeError(w, http.StatusNotFound, apiError{Code: codeNotFound, Message: "not found"})
	case errors.As(err, &se):
		writeError(w, http.StatusConflict, apiError{Code: codeConflict, Message: se.Reason})
	case errors.Is(err, recording.ErrConflict):
		writeError(w, http.StatusConflict, apiError{Code: codeConflict, Message: "conflicts with an existing object"})
	default:
		// Errors carry no secrets: keys and tokens are never part of an error's text.
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "elapsed", h.elapsed(r), "err", err)
		writeError(w, http.StatusInternalServerError, apiError{Code: codeInternal, Message: "internal error"})
	}
}

// badRequest is a client error found before the service is reached.
type badRequest struct {
	status int
	apiError
}

func (e *badRequest) Error() string { return e.Message }

// conflictAs gives a conflict its resource's message.
func conflictAs(err error, message string) error {
	if errors.Is(err, recording.ErrConflict) {
		return &badRequest{http.StatusConflict, apiError{Code: codeConflict, Message: message}}
	}
	return err
}

func invalidArgument(field, format string, args ...any) *badRequest {
	return &badRequest{http.StatusBadRequest, apiError{Code: codeInvalidArgument, Message: fmt.Sprintf(format, args...), Field: field}}
}

// decodeStrict decodes one JSON value from data into v, refusing duplicated keys, unknown
// fields and trailing data. Errors name the field, prefixed with prefix (the value's path in
// the request).
func decodeStrict(data []byte, v any, prefix string) error {
	err := strictjson.Decode(data, v)
	var de *strictjson.DuplicateKeyError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &de):
		field := prefix + de.Field()
		return invalidArgument(field, "duplicate key %s", field)
	case errors.Is(err, strictjson.ErrTrailingData):
		return invalidArgument(strings.TrimSuffix(prefix, "."), "unexpected data after the JSON value")
	}
	return jsonError(err, data, prefix)
}

// readJSON decodes a write's JSON body into v. An optional body may be left out entirely:
// then v keeps its zero value and no Content-Type is needed.
func readJSON(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	if !optional {
		if err := requireJSON(r); err != nil {
			return err
		}
		return decodeBody(http.MaxBytesReader(w, r.Body, maxBodyBytes), v)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return bodyReadError(err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := requireJSON(r); err != nil {
		return err
	}
	return decodeStrict(data, v, "")
}

// decodeBody reads one JSON value from a request body already capped by http.MaxBytesReader.
func decodeBody(body io.Reader, v any) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return bodyReadError(err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return invalidArgument("", "empty body")
	}
	return decodeStrict(data, v, "")
}

// bodyReadError is a body too large (413), or one that could not be read: cut, or sent slower
// than the server's read timeout allows. A client error, not one to log as the server's.
func bodyReadError(err error) error {
	var me *http.MaxBytesError
	if errors.As(err, &me) {
		return err
	}
	return &badRequest{http.StatusBadRequest, apiError{Code: codeInvalidArgument,
		Message: "the request body could not be read (cut, or sent too slowly)"}}
}
