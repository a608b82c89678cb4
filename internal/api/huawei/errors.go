package huawei

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/liverec/liverec/internal/api/strictjson"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// Error codes. LIVE.* are Huawei Live's (api-live ErrorCode page; LIVE.103011019 is what its
// examples answer with a 404); APIGW.* are the API Gateway's, which answers authentication
// failures before a request reaches the Live service.
const (
	codeBadParameter = "LIVE.100011001"
	codeMethod       = "LIVE.100011011"
	codeMediaType    = "LIVE.100011012"
	codeExists       = "LIVE.103011018"
	codeNotFound     = "LIVE.103011019"
	codeDatabase     = "LIVE.103011021"
	codeNoAPI        = "APIGW.0101"
	codeAuth         = "APIGW.0301"
	codeDenied       = "APIGW.0302"
)

// apiError is an error answered as {"error_code", "error_msg"} with an HTTP status.
type apiError struct {
	status int
	Code   string `json:"error_code"`
	Msg    string `json:"error_msg"`
	cause  error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return e.Code + ": " + e.Msg + ": " + e.cause.Error()
	}
	return e.Code + ": " + e.Msg
}

func (e *apiError) Unwrap() error { return e.cause }

var (
	errNoAPI    = &apiError{status: http.StatusNotFound, Code: codeNoAPI, Msg: "The API does not exist or has not been published in the environment"}
	errDenied   = &apiError{status: http.StatusForbidden, Code: codeDenied, Msg: "The IAM user is not authorized to access the API"}
	errNotFound = &apiError{status: http.StatusNotFound, Code: codeNotFound, Msg: "The resource does not exist"}
	errExists   = &apiError{status: http.StatusBadRequest, Code: codeExists, Msg: "The resource already exists"}
	// The cloud answers a stream that is not live with its not-found code.
	errNotLive = &apiError{status: http.StatusNotFound, Code: codeNotFound, Msg: "The stream is not being published"}
	// The cloud answers an index over a range without recordings as a bad parameter (its doc).
	errNoMedia = &apiError{status: http.StatusBadRequest, Code: codeBadParameter, Msg: "no ts info found: no recorded media in the range"}
)

func errMethod(method string) *apiError {
	return &apiError{status: http.StatusBadRequest, Code: codeMethod,
		Msg: "The method specified in the request is not supported: " + method}
}

// badParameter is LIVE.100011001 naming the parameter (its path in the Huawei request).
func badParameter(field, reason string) *apiError {
	msg := "Invalid request parameter"
	if field != "" {
		msg += ": " + field
	}
	if reason != "" {
		msg += ": " + reason
	}
	return &apiError{status: http.StatusBadRequest, Code: codeBadParameter, Msg: msg}
}

// authError is a 401 telling the client msg; cause is only logged.
func authError(msg string, cause error) *apiError {
	return &apiError{status: http.StatusUnauthorized, Code: codeAuth,
		Msg: "Incorrect IAM authentication information: " + msg, cause: fmt.Errorf("%w: %w", recording.ErrUnauthenticated, cause)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing left to tell it
}

func writeError(w http.ResponseWriter, e *apiError) { writeJSON(w, e.status, e) }

// fail answers err in the dialect. fieldName maps the native field path of a
// *recording.ValidationError to the Huawei parameter (nil keeps it).
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error, fieldName func(string) string) {
	var (
		ae *apiError
		ve *recording.ValidationError
	)
	switch {
	case errors.As(err, &ae):
		if ae.status == http.StatusUnauthorized {
			h.log.Info("authentication failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		writeError(w, ae)
	case errors.As(err, &ve):
		field := ve.Field
		if fieldName != nil {
			field = fieldName(field)
		}
		writeError(w, badParameter(field, ve.Reason))
	case errors.Is(err, recording.ErrNotLive):
		writeError(w, errNotLive)
	case errors.Is(err, service.ErrNoMedia):
		writeError(w, errNoMedia)
	case errors.Is(err, recording.ErrNotFound):
		writeError(w, errNotFound)
	case errors.Is(err, recording.ErrConflict):
		writeError(w, errExists)
	case errors.Is(err, recording.ErrForbidden):
		writeError(w, errDenied)
	case errors.Is(err, recording.ErrUnauthenticated):
		writeError(w, authError("verify aksk signature fail", err))
	default:
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, &apiError{status: http.StatusInternalServerError, Code: codeDatabase, Msg: "Failed to access the database"})
	}
}

// decodeBody decodes the (already capped and read) JSON body into v. Unknown fields are
// refused (v declares every field the SDK sends), and so are duplicated keys.
func decodeBody(r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &apiError{status: http.StatusBadRequest, Code: codeMediaType, Msg: "Unsupported media type: Content-Type must be application/json"}
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	err = strictjson.Decode(data, v)
	var de *strictjson.DuplicateKeyError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &de):
		return badParameter(de.Field(), "duplicate key")
	case errors.Is(err, strictjson.ErrTrailingData):
		return badParameter("", "unexpected data after the JSON body")
	}
	return jsonError(err)
}

// jsonError turns encoding/json's errors into LIVE.100011001 naming the field.
func jsonError(err error) error {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return badParameter("", "malformed JSON body")
	case errors.As(err, &te):
		return badParameter(te.Field, "must be a JSON "+jsonKind(te.Type.Kind().String()))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return badParameter(strings.Trim(name, `"`), "unknown field")
	}
	return badParameter("", "invalid JSON body")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int32", "int64", "float64":
		return "number"
	case "slice":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return goKind
}
