package aliyun

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/liverec/liverec/internal/recording"
)

// apiError is an Alibaba error answer: HTTP status, Code and Message as the cloud documents
// them (reference B.1, the live API's error pages and the POP gateway's common codes).
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// Gateway (authentication and request shape) errors.
func errMissing(param string) *apiError {
	return newError(http.StatusBadRequest, "MissingParameter",
		"The input parameter %q that is mandatory for processing this request is not supplied.", param)
}

// errMissingAction is the live API's form for its own required parameters ("MissingDomainName").
func errMissingAction(param string) *apiError {
	return newError(http.StatusBadRequest, "Missing"+param, "%s is mandatory for this action.", param)
}

func errInvalid(param, reason string) *apiError {
	return newError(http.StatusBadRequest, "InvalidParameter", "The specified parameter %q is not valid: %s.", param, reason)
}

var (
	errUnknownKey = newError(http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	errNonceUsed  = newError(http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
	errExpired    = newError(http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
	errTimeFormat = newError(http.StatusBadRequest, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
	errNoAction   = newError(http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
	errVersion    = newError(http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid.")
	errSigMethod  = newError(http.StatusBadRequest, "InvalidSignatureMethod", "Specified signature method is not supported; use HMAC-SHA1.")
	errSigVersion = newError(http.StatusBadRequest, "InvalidSignatureVersion", "Specified signature version is not supported; use 1.0.")
	errSigType    = newError(http.StatusBadRequest, "InvalidSignatureType", "Bearer token signatures are not supported; sign with an access key.")
	errSTS        = newError(http.StatusBadRequest, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed: STS tokens are not issued by this service.")
	errMethod     = newError(http.StatusMethodNotAllowed, "UnsupportedHTTPMethod", "Only GET and POST are supported.")
	errTooLarge   = newError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is too large.")
	errFormat     = newError(http.StatusBadRequest, "InvalidParameter", "The specified parameter \"Format\" is not valid: only JSON is supported.")
)

// codeSignatureMismatch is the code of errSignature.
const codeSignatureMismatch = "SignatureDoesNotMatch"

// errThrottled is the gateway's answer to a caller over its flow control: here an address that
// failed authentication too often (HTTP 400 as the cloud answers it; the SDK does not retry it).
var errThrottled = newError(http.StatusBadRequest, "Throttling.User", "Request was denied due to user flow control.")

// errSignature carries the server's string to sign, as the cloud does: the SDK compares it with
// its own to tell a wrong secret from a signing bug. It holds no secret.
func errSignature(toSign string) *apiError {
	return newError(http.StatusBadRequest, codeSignatureMismatch,
		"Specified signature is not matched with our calculation. server string to sign is:%s", toSign)
}

// Live API errors.
var (
	errConfigExists  = newError(http.StatusBadRequest, "ConfigAlreadyExists", "Config has already exist.")
	errDomain        = newError(http.StatusNotFound, "InvalidDomain.NotFound", "The domain provided does not exist in our records.")
	errConfigMissing = newError(http.StatusNotFound, "InvalidConfig.NotFound", "Config does not exist.")
	errStreamMissing = newError(http.StatusNotFound, "InvalidStream.NotFound", "Stream does not exist.")
	errCommandState  = newError(http.StatusForbidden, "IllegalOperation", "The command is not valid in the current recording state.")
	errForbidden     = newError(http.StatusUnauthorized, "Forbidden", "User not authorized to operate on the specified resource.")
	errInternal      = newError(http.StatusInternalServerError, "InternalError", "The request processing has failed due to some unknown error.")
)

func errNotifyURL(param, reason string) *apiError {
	return newError(http.StatusBadRequest, "InvalidNotifyUrl.Malformed", "Specified %s is invalid: %s.", param, reason)
}

// toAPIError maps the service's errors; notFound answers recording.ErrNotFound, whose meaning
// depends on the action (the domain or the config). Validation errors reaching here name a
// field no action maps, so they are reported under that name. ok is false for an unexpected
// error, which the caller logs.
func toAPIError(err error, notFound *apiError) (e *apiError, ok bool) {
	var ve *recording.ValidationError
	switch {
	case errors.As(err, &e):
		return e, true
	case errors.As(err, &ve):
		return errInvalid(ve.Field, ve.Reason), true
	case errors.Is(err, recording.ErrConflict):
		return errConfigExists, true
	case errors.Is(err, recording.ErrForbidden):
		return errForbidden, true
	case errors.Is(err, recording.ErrNotFound):
		return notFound, true
	case errors.Is(err, recording.ErrUnauthenticated):
		return errUnknownKey, true
	}
	return errInternal, false
}

// errorBody is the cloud's error document; Recommend is left out when empty.
type errorBody struct {
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Recommend string `json:"Recommend,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, requestID string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"Code":"InternalError"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("x-acs-request-id", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may be gone; nothing left to tell it
}

func (h *handler) writeError(w http.ResponseWriter, requestID string, e *apiError) {
	writeJSON(w, e.status, requestID, errorBody{RequestID: requestID, HostID: h.cfg.HostID, Code: e.code, Message: e.message})
}

// newRequestID returns an id shaped like the cloud's (8-4-4-4-12 upper-case hex).
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	hex.Encode(s[9:13], b[4:6])
	hex.Encode(s[14:18], b[6:8])
	hex.Encode(s[19:23], b[8:10])
	hex.Encode(s[24:36], b[10:16])
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	for i, c := range s {
		if c >= 'a' && c <= 'f' {
			s[i] = c - 'a' + 'A'
		}
	}
	return string(s[:])
}
