package chatemu

import (
	"fmt"
	"net/http"
)

// Status words of google.rpc.Code the emulator answers with.
const (
	statusInvalidArgument    = "INVALID_ARGUMENT"
	statusFailedPrecondition = "FAILED_PRECONDITION"
	statusUnauthenticated    = "UNAUTHENTICATED"
	statusPermissionDenied   = "PERMISSION_DENIED"
	statusNotFound           = "NOT_FOUND"
	statusAlreadyExists      = "ALREADY_EXISTS"
	statusResourceExhausted  = "RESOURCE_EXHAUSTED"
	statusInternal           = "INTERNAL"
	statusUnimplemented      = "UNIMPLEMENTED"
	statusUnavailable        = "UNAVAILABLE"
)

// httpCodes maps each status word to the HTTP status Google sends with it.
var httpCodes = map[string]int{
	statusInvalidArgument:    http.StatusBadRequest,
	statusFailedPrecondition: http.StatusBadRequest,
	statusUnauthenticated:    http.StatusUnauthorized,
	statusPermissionDenied:   http.StatusForbidden,
	statusNotFound:           http.StatusNotFound,
	statusAlreadyExists:      http.StatusConflict,
	statusResourceExhausted:  http.StatusTooManyRequests,
	statusInternal:           http.StatusInternalServerError,
	statusUnimplemented:      http.StatusNotImplemented,
	statusUnavailable:        http.StatusServiceUnavailable,
}

// apiError is an error answer in Google's JSON shape:
// {"error":{"code":N,"message":"…","status":"WORD"}}.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
	Details []any  `json:"details,omitempty"`

	header http.Header // extra response headers (Retry-After, WWW-Authenticate)
}

func newError(status, format string, args ...any) *apiError {
	return &apiError{Code: httpCodes[status], Status: status, Message: fmt.Sprintf(format, args...)}
}

func (e *apiError) Error() string { return e.Status + ": " + e.Message }

// errorInfo is a google.rpc.ErrorInfo detail, as Google attaches to quota
// and authentication errors.
func errorInfo(reason string, metadata map[string]string) map[string]any {
	return map[string]any{
		"@type":    "type.googleapis.com/google.rpc.ErrorInfo",
		"reason":   reason,
		"domain":   "googleapis.com",
		"metadata": metadata,
	}
}

var (
	errNotFound   = func() *apiError { return newError(statusNotFound, "Requested entity was not found.") }
	errPermission = func() *apiError { return newError(statusPermissionDenied, "The caller does not have permission") }
)
