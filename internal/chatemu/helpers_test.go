package chatemu

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	chat "google.golang.org/api/chat/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// start serves a new emulator over loopback HTTP and returns it with a
// real Chat client pointed at it.
func start(t *testing.T, opts ...Option) (*Server, *chat.Service, *httptest.Server) {
	t.Helper()
	srv := New(opts...)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, client(t, ts, nil), ts
}

// client returns a Chat client for ts; rt, when set, carries its requests.
func client(t *testing.T, ts *httptest.Server, rt http.RoundTripper) *chat.Service {
	t.Helper()
	opts := []option.ClientOption{option.WithEndpoint(ts.URL + "/")}
	if rt != nil {
		opts = append(opts, option.WithHTTPClient(&http.Client{Transport: rt}))
	} else {
		opts = append(opts, option.WithoutAuthentication())
	}
	svc, err := chat.NewService(context.Background(), opts...)
	if err != nil {
		t.Fatalf("chat.NewService: %v", err)
	}
	return svc
}

// wantAPIError checks that err is a *googleapi.Error with the HTTP code and
// the status word in its body.
func wantAPIError(t *testing.T, what string, err error, code int, status string) *googleapi.Error {
	t.Helper()
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		t.Fatalf("%s: error = %v, want *googleapi.Error %d %s", what, err, code, status)
	}
	if ge.Code != code || !strings.Contains(ge.Body, `"status":"`+status+`"`) {
		t.Fatalf("%s: error = %d %s, want %d %s", what, ge.Code, ge.Body, code, status)
	}
	return ge
}

func newSpace(name string) *chat.Space {
	return &chat.Space{DisplayName: name, SpaceType: "SPACE"}
}

func user(email string) *chat.Membership {
	return &chat.Membership{Member: &chat.User{Name: "users/" + email, Type: "HUMAN"}}
}

func group(id string) *chat.Membership {
	return &chat.Membership{GroupMember: &chat.Group{Name: "groups/" + id}}
}

// serveLocal calls the handler in-process, without a network.
func serveLocal(srv *Server, method, path, body string) (int, []byte) {
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec.Code, rec.Body.Bytes()
}
