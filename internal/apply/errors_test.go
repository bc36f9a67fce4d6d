package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	gerr := func(code int, status string, hdr http.Header) error {
		body := fmt.Sprintf(`{"error":{"code":%d,"message":"m","status":%q}}`, code, status)
		return &googleapi.Error{Code: code, Message: "m", Body: body, Header: hdr}
	}
	retryInfo := &googleapi.Error{Code: 429, Message: "m", Body: `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2.5s"}]}}`}
	tests := []struct {
		name   string
		err    error
		kind   kind
		status string
		after  time.Duration
	}{
		{"429 with Retry-After", gerr(429, "RESOURCE_EXHAUSTED", http.Header{"Retry-After": {"3"}}), throttled, "RESOURCE_EXHAUSTED", 3 * time.Second},
		{"429 with RetryInfo", retryInfo, throttled, "RESOURCE_EXHAUSTED", 2500 * time.Millisecond},
		{"503", gerr(503, "UNAVAILABLE", nil), transient, "UNAVAILABLE", 0},
		{"500", gerr(500, "INTERNAL", nil), transient, "INTERNAL", 0},
		{"502", gerr(502, "", nil), transient, "", 0},
		{"504", gerr(504, "DEADLINE_EXCEEDED", nil), transient, "DEADLINE_EXCEEDED", 0},
		{"408", gerr(408, "", nil), transient, "", 0},
		{"409 already exists", gerr(409, "ALREADY_EXISTS", nil), exists, "ALREADY_EXISTS", 0},
		{"409 aborted", gerr(409, "ABORTED", nil), transient, "ABORTED", 0},
		{"404", gerr(404, "NOT_FOUND", nil), notFound, "NOT_FOUND", 0},
		{"401", gerr(401, "UNAUTHENTICATED", nil), denied, "UNAUTHENTICATED", 0},
		{"403", gerr(403, "PERMISSION_DENIED", nil), denied, "PERMISSION_DENIED", 0},
		{"400", gerr(400, "INVALID_ARGUMENT", nil), final, "INVALID_ARGUMENT", 0},
		{"412", gerr(400, "FAILED_PRECONDITION", nil), final, "FAILED_PRECONDITION", 0},
		{"reset", &url.Error{Op: "Post", URL: "u", Err: syscall.ECONNRESET}, transient, "", 0},
		{"EOF", &url.Error{Op: "Post", URL: "u", Err: io.EOF}, transient, "", 0},
		{"timeout", fmt.Errorf("call: %w", context.DeadlineExceeded), transient, "", 0},
		{"canceled", context.Canceled, final, "", 0},
		{"token refused", &url.Error{Op: "Post", URL: "u", Err: &oauth2.RetrieveError{ErrorCode: "invalid_grant", Response: &http.Response{StatusCode: 400}}}, denied, "UNAUTHENTICATED", 0},
		{"other", errors.New("something else"), final, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := classify(tt.err)
			if e.kind != tt.kind || e.status != tt.status || e.retryAfter != tt.after {
				t.Errorf("classify(%v) = kind %d, status %q, retry after %v; want %d, %q, %v", tt.err, e.kind, e.status, e.retryAfter, tt.kind, tt.status, tt.after)
			}
		})
	}
}
