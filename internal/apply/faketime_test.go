package apply_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	chat "google.golang.org/api/chat/v1"
	"google.golang.org/api/option"
)

// inProcess is a client that calls h directly, with no socket in between,
// so that a test inside a synctest bubble runs the applier and the
// emulator on the bubble's fake clock: an hour of quota windows passes in
// milliseconds, and no figure depends on the machine's speed.
func inProcess(t *testing.T, h http.Handler) *chat.Service {
	t.Helper()
	svc, err := chat.NewService(context.Background(), option.WithEndpoint("http://chat.test/"),
		option.WithHTTPClient(&http.Client{Transport: direct{h}}))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// direct is an http.RoundTripper that serves each request with its
// handler, in the caller's goroutine.
type direct struct{ h http.Handler }

func (d direct) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil {
		r.Body = http.NoBody // as a server sees a request without one
	}
	rec := httptest.NewRecorder()
	d.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}
