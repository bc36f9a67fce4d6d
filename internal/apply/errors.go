package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"
)

// kind is what a failed call means for the run. Every API error is sorted
// into one of these by classify, and nowhere else.
type kind int

const (
	final     kind = iota // fails this space (or member); not retried
	transient             // retried with backoff
	throttled             // 429, or a 403 about a quota: the limiter pauses and slows down
	exists                // ALREADY_EXISTS
	notFound              // NOT_FOUND
	denied                // 401, 403: credentials or permissions
	noApp                 // the Chat app is not configured: every call fails the same way
)

// apiError is a classified failure of one call.
type apiError struct {
	kind       kind
	code       int    // HTTP status, 0 for transport errors
	status     string // Google's status word: ALREADY_EXISTS, …
	message    string
	retryAfter time.Duration // from Retry-After or RetryInfo, 0 if none
	err        error
}

func (e *apiError) Error() string {
	switch {
	case e.status != "" && e.message != "":
		return e.status + ": " + e.message
	case e.status != "":
		return e.status
	case e.code != 0:
		return fmt.Sprintf("HTTP %d: %s", e.code, e.message)
	case e.message != "":
		return e.message // the error's text, redacted
	}
	return e.err.Error()
}

func (e *apiError) Unwrap() error { return e.err }

// classify sorts an error from the Chat client into a kind. It reads the
// status word from the response body, where googleapi keeps it, and the
// server's requested delay from Retry-After or a RetryInfo detail.
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		e := &apiError{code: gerr.Code, message: gerr.Message, err: err}
		e.status, e.retryAfter = parseBody(gerr.Body)
		if d := parseRetryAfter(gerr.Header.Get("Retry-After")); d > 0 {
			e.retryAfter = d
		}
		if e.message == "" {
			e.message = http.StatusText(gerr.Code)
		}
		e.kind = kindOf(gerr.Code, e.status, e.message)
		return e
	}
	e := &apiError{err: err, message: err.Error()}
	var rerr *oauth2.RetrieveError
	if errors.As(err, &rerr) {
		// The token endpoint refused to issue a token: every later call
		// would fail the same way, so it counts as a 401 from the API.
		e.kind, e.code, e.status = denied, http.StatusUnauthorized, "UNAUTHENTICATED"
		e.message = "getting an access token: " + rerr.ErrorCode
		if rerr.ErrorCode == "" {
			e.message = fmt.Sprintf("getting an access token: HTTP %d", rerr.Response.StatusCode)
		}
		return e
	}
	switch {
	case errors.Is(err, context.Canceled):
		e.kind = final
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE):
		e.kind = transient
	default:
		var nerr net.Error
		if errors.As(err, &nerr) {
			e.kind = transient
		} else if strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "EOF") {
			e.kind = transient
		}
	}
	return e
}

func kindOf(code int, status, message string) kind {
	switch {
	case code == http.StatusTooManyRequests || status == "RESOURCE_EXHAUSTED" || quotaDenied(code, message):
		return throttled
	case (code == http.StatusNotFound || code == http.StatusBadRequest) && appMissing(message):
		return noApp
	case code == http.StatusConflict && status != "ABORTED":
		return exists
	case code == http.StatusNotFound:
		return notFound
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return denied
	case code == http.StatusRequestTimeout, code == http.StatusInternalServerError,
		code == http.StatusBadGateway, code == http.StatusServiceUnavailable,
		code == http.StatusGatewayTimeout, status == "ABORTED", status == "UNAVAILABLE":
		return transient
	}
	return final
}

// quotaDenied tells a 403 that means "slow down": GAM7's checkGAPIError
// treats a 403 whose message says "Quota exceeded for quota metric" (and
// the older "Rate Limit Exceeded") as throttling, not as a refusal
// (API-FACTS.md, Quotas and throttling).
func quotaDenied(code int, message string) bool {
	if code != http.StatusForbidden {
		return false
	}
	m := strings.ToLower(message)
	return strings.Contains(m, "quota exceeded") || strings.Contains(m, "rate limit exceeded") ||
		strings.Contains(m, "quota metric")
}

// appMissing tells the answers that mean the Chat app is not configured in
// the Cloud project (GAM7 checkGAPIError: "Google Chat app not found", "No
// bot associated with this project"; seen as 404 and as 400): every call of
// the run would fail the same way.
func appMissing(message string) bool {
	m := strings.ToLower(message)
	return strings.Contains(m, "google chat app not found") || strings.Contains(m, "no bot associated with this project")
}

// parseBody reads Google's error shape:
// {"error":{"status":"WORD","details":[{"@type":"…RetryInfo","retryDelay":"1.5s"}]}}
func parseBody(body string) (status string, retry time.Duration) {
	var doc struct {
		Error struct {
			Status  string `json:"status"`
			Details []struct {
				Type       string `json:"@type"`
				RetryDelay string `json:"retryDelay"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(body), &doc) != nil {
		return "", 0
	}
	for _, d := range doc.Error.Details {
		if strings.HasSuffix(d.Type, "google.rpc.RetryInfo") {
			if v, err := time.ParseDuration(d.RetryDelay); err == nil && v > 0 {
				retry = v
			}
		}
	}
	return doc.Error.Status, retry
}

// parseRetryAfter reads the header as seconds or as an HTTP date.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}
