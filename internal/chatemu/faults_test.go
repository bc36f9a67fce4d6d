package chatemu

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	chat "google.golang.org/api/chat/v1"
	"google.golang.org/api/googleapi"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestQuotas(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opt   Option
		limit int
		call  func(svc *chat.Service, space string, i int) error
	}{
		{"space writes", WithSpaceQuota(3), 3, func(svc *chat.Service, _ string, i int) error {
			_, err := svc.Spaces.Create(newSpace(fmt.Sprint("q", i))).Do()
			return err
		}},
		{"membership writes", WithMemberQuota(4), 4, func(svc *chat.Service, space string, i int) error {
			_, err := svc.Spaces.Members.Create(space, user(fmt.Sprintf("u%d@example.com", i))).Do()
			return err
		}},
		{"reads", WithReadQuota(5), 5, func(svc *chat.Service, space string, i int) error {
			_, err := svc.Spaces.Get(space).Do()
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			srv, svc, _ := start(t, tt.opt, WithClock(clock.now), WithWindow(time.Minute), WithRetryAfter())
			space, err := srv.AddSpace("quota")
			if err != nil {
				t.Fatal(err)
			}
			i := 0
			next := func() error { i++; return tt.call(svc, space, i) }
			for range tt.limit {
				if err := next(); err != nil {
					t.Fatalf("call %d within quota: %v", i, err)
				}
				clock.advance(time.Second)
			}
			// Now limit calls in the last minute: refused until the first
			// of them is a minute old, and refused calls do not count.
			for range 3 {
				ge := wantAPIError(t, fmt.Sprintf("call %d over quota", i+1), next(), 429, "RESOURCE_EXHAUSTED")
				if ra := ge.Header.Get("Retry-After"); ra != fmt.Sprint(60-tt.limit) {
					t.Errorf("Retry-After = %q, want %q", ra, fmt.Sprint(60-tt.limit))
				}
			}
			clock.advance(time.Minute - time.Duration(tt.limit)*time.Second)
			if err := next(); err != nil {
				t.Errorf("call once the window moved on: %v", err)
			}
			wantAPIError(t, "the call after it", next(), 429, "RESOURCE_EXHAUSTED")
			if n := srv.Stats().Throttled; n != 4 {
				t.Errorf("Stats().Throttled = %d, want 4", n)
			}
		})
	}

	t.Run("off", func(t *testing.T) {
		t.Parallel()
		srv, svc, _ := start(t, WithSpaceQuota(0), WithClock(func() time.Time { return time.Unix(0, 0) }))
		for i := range 200 {
			if _, err := svc.Spaces.Create(newSpace(fmt.Sprint("free", i))).Do(); err != nil {
				t.Fatalf("create %d with the quota off: %v", i, err)
			}
		}
		if st := srv.Stats(); st.Throttled != 0 || MaxInWindow(st.SpaceWrites, time.Second) != 200 {
			t.Errorf("stats = %d throttled, %d writes in a second; want 0 and 200", st.Throttled, MaxInWindow(st.SpaceWrites, time.Second))
		}
	})
}

func TestMaxInWindow(t *testing.T) {
	t.Parallel()
	base := time.Unix(1000, 0)
	at := func(ms ...int) []time.Time {
		var ts []time.Time
		for _, m := range ms {
			ts = append(ts, base.Add(time.Duration(m)*time.Millisecond))
		}
		return ts
	}
	tests := []struct {
		times []time.Time
		want  int
	}{
		{nil, 0},
		{at(0), 1},
		{at(0, 999), 2},
		{at(0, 1000), 1},
		{at(0, 500, 1400, 1450, 1600), 3},
		{at(1600, 0, 1450, 500, 1400), 3},
		{at(0, 500, 900, 950, 2000), 4},
	}
	for _, tt := range tests {
		if got := MaxInWindow(tt.times, time.Second); got != tt.want {
			t.Errorf("MaxInWindow(%v, 1s) = %d, want %d", tt.times, got, tt.want)
		}
	}
}

func TestReplay(t *testing.T) {
	t.Parallel()
	srv, svc, _ := start(t)
	first, err := svc.Spaces.Create(newSpace("Once")).RequestId("rid-1").Do()
	if err != nil {
		t.Fatal(err)
	}
	setup, err := svc.Spaces.Setup(&chat.SetUpSpaceRequest{Space: newSpace("Twice"), RequestId: "rid-2", Memberships: []*chat.Membership{user("a@example.com")}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		do   func() (*chat.Space, error)
		want string
	}{
		{"create, same body", func() (*chat.Space, error) { return svc.Spaces.Create(newSpace("Once")).RequestId("rid-1").Do() }, first.Name},
		{"create, other body", func() (*chat.Space, error) { return svc.Spaces.Create(newSpace("Different")).RequestId("rid-1").Do() }, first.Name},
		{"create, invalid body", func() (*chat.Space, error) { return svc.Spaces.Create(&chat.Space{}).RequestId("rid-1").Do() }, first.Name},
		{"setup with a create's id", func() (*chat.Space, error) {
			return svc.Spaces.Setup(&chat.SetUpSpaceRequest{Space: newSpace("Other"), RequestId: "rid-1"}).Do()
		}, first.Name},
		{"setup, same body", func() (*chat.Space, error) {
			return svc.Spaces.Setup(&chat.SetUpSpaceRequest{Space: newSpace("Twice"), RequestId: "rid-2", Memberships: []*chat.Membership{user("a@example.com")}}).Do()
		}, setup.Name},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.do()
			if err != nil || got.Name != tt.want || got.HTTPStatusCode != http.StatusOK {
				t.Fatalf("replay = %v, %v; want %s with 200", got, err, tt.want)
			}
		})
	}
	st := srv.Stats()
	if st.SpacesCreated != 2 || st.RequestIDs != 2 || st.Replays != len(tests) || st.Duplicates != 0 {
		t.Errorf("stats = %d created, %d requestIds, %d replays, %d duplicates; want 2, 2, %d, 0", st.SpacesCreated, st.RequestIDs, st.Replays, st.Duplicates, len(tests))
	}
	if m := srv.Members(setup.Name); len(m) != 2 || m[1].Adds != 1 {
		t.Errorf("Members(%q) = %+v, want the caller and a@example.com added once", setup.Name, m)
	}
	// Without a requestId every create is new: the name check is what
	// stops the second.
	_, err = svc.Spaces.Create(newSpace("Once")).Do()
	wantAPIError(t, "create without requestId", err, 409, "ALREADY_EXISTS")
}

func TestDuplicateNames(t *testing.T) {
	t.Parallel()
	srv, svc, _ := start(t, WithDuplicateNames())
	for i, name := range []string{"Dup", "dup ", "Other"} {
		if _, err := svc.Spaces.Create(newSpace(name)).RequestId(fmt.Sprint(i)).Do(); err != nil {
			t.Fatalf("Create(%q): %v", name, err)
		}
	}
	if st := srv.Stats(); st.Duplicates != 1 || st.SpacesCreated != 3 {
		t.Errorf("stats = %d duplicates of %d spaces, want 1 of 3", st.Duplicates, st.SpacesCreated)
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	t.Run("next calls", func(t *testing.T) {
		t.Parallel()
		srv, svc, _ := start(t)
		srv.FailNext(2)
		for i := range 2 {
			_, err := svc.Spaces.Create(newSpace("Flaky")).RequestId("f").Do()
			wantAPIError(t, fmt.Sprint("attempt ", i+1), err, 503, "UNAVAILABLE")
		}
		if _, err := svc.Spaces.Create(newSpace("Flaky")).RequestId("f").Do(); err != nil {
			t.Fatalf("third attempt: %v", err)
		}
		st := srv.Stats()
		if st.Unavailable != 2 || st.SpacesCreated != 1 || st.Calls["spaces.create"][503] != 2 || len(st.SpaceWrites) != 1 {
			t.Errorf("stats = %+v, want 2 unavailable, 1 space, 1 write charged", st)
		}
	})
	t.Run("rate", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			rate     float64
			min, max int
		}{
			{0, 0, 0}, {1, 100, 100}, {0.5, 20, 80},
		}
		for _, tt := range tests {
			srv, svc, _ := start(t, WithFailureRate(tt.rate), WithSeed(7), WithReadQuota(0))
			failed := 0
			for range 100 {
				var ge *googleapi.Error
				if _, err := svc.Spaces.List().Do(); errors.As(err, &ge) && ge.Code == 503 {
					failed++
				}
			}
			if failed < tt.min || failed > tt.max || srv.Stats().Unavailable != failed {
				t.Errorf("WithFailureRate(%v): %d of 100 calls failed, want %d to %d", tt.rate, failed, tt.min, tt.max)
			}
		}
	})
	t.Run("seeded runs repeat", func(t *testing.T) {
		t.Parallel()
		pattern := func() string {
			srv := New(WithFailureRate(0.3), WithSeed(42), WithReadQuota(0))
			var b strings.Builder
			for range 50 {
				code, _ := serveLocal(srv, "GET", "/v1/spaces", "")
				fmt.Fprint(&b, code/100)
			}
			return b.String()
		}
		if a, b := pattern(), pattern(); a != b {
			t.Errorf("two runs with seed 42 failed differently:\n%s\n%s", a, b)
		}
	})
}

func TestLostResponse(t *testing.T) {
	t.Parallel()
	srv, svc, _ := start(t)
	srv.DropNext(1)
	_, err := svc.Spaces.Create(newSpace("Lost")).RequestId("lost-1").Do()
	var ge *googleapi.Error
	if err == nil || errors.As(err, &ge) {
		t.Fatalf("create with its response lost: error %v, want a transport error", err)
	}
	spaces := srv.Spaces()
	if len(spaces) != 1 || spaces[0].DisplayName != "Lost" {
		t.Fatalf("Spaces() = %v, want the space made before the response was lost", spaces)
	}
	// The retry with the same requestId gets the space; one with a new
	// requestId is told the name is taken.
	got, err := svc.Spaces.Create(newSpace("Lost")).RequestId("lost-1").Do()
	if err != nil || got.Name != spaces[0].Name {
		t.Errorf("retry with the same requestId = %v, %v; want %s", got, err, spaces[0].Name)
	}
	_, err = svc.Spaces.Create(newSpace("Lost")).RequestId("lost-2").Do()
	wantAPIError(t, "retry with a new requestId", err, 409, "ALREADY_EXISTS")

	// Setup loses its answer the same way.
	srv.DropNext(1)
	if _, err := svc.Spaces.Setup(&chat.SetUpSpaceRequest{Space: newSpace("Lost too"), RequestId: "lost-3"}).Do(); err == nil {
		t.Errorf("setup with its response lost: no error")
	}
	st := srv.Stats()
	if st.LostResponses != 2 || st.SpacesCreated != 2 || st.Calls["spaces.create"][0] != 1 || st.Calls["spaces.setup"][0] != 1 {
		t.Errorf("stats = %+v, want 2 lost responses, 2 spaces", st)
	}

	// At rate 1 every successful create loses its answer, failures do not.
	srv2, svc2, _ := start(t, WithLostResponseRate(1), WithSeed(1))
	for i := range 3 {
		if _, err := svc2.Spaces.Create(newSpace(fmt.Sprint("s", i))).Do(); err == nil {
			t.Errorf("create %d at drop rate 1: no error", i)
		}
	}
	_, err = svc2.Spaces.Create(newSpace("s0")).Do()
	wantAPIError(t, "create of a taken name at drop rate 1", err, 409, "ALREADY_EXISTS")
	if n := len(srv2.Spaces()); n != 3 {
		t.Errorf("Spaces() at drop rate 1 = %d, want 3", n)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	srv, svc, _ := start(t, WithLatency(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := svc.Spaces.Create(newSpace("Slow")).Context(ctx).Do()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("create against an hour of latency: %v, want a deadline error", err)
	}
	// The call gave up before reaching the state: nothing was made.
	if n := len(srv.Spaces()); n != 0 {
		t.Errorf("Spaces() = %d, want 0", n)
	}
}

// bearer adds a token to each request.
type bearer string

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

func TestToken(t *testing.T) {
	t.Parallel()
	const secret = "tok-abc123"
	srv, anon, ts := start(t, WithToken(secret))
	tests := []struct {
		name string
		svc  *chat.Service
		ok   bool
	}{
		{"none", anon, false},
		{"wrong", client(t, ts, bearer("tok-other")), false},
		{"right", client(t, ts, bearer(secret)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.svc.Spaces.List().Do()
			if tt.ok {
				if err != nil {
					t.Errorf("List with the right token: %v", err)
				}
				return
			}
			ge := wantAPIError(t, "List", err, 401, "UNAUTHENTICATED")
			if strings.Contains(ge.Body, secret) || ge.Header.Get("Www-Authenticate") == "" {
				t.Errorf("401 body %q / headers %v: want no token echoed and a WWW-Authenticate header", ge.Body, ge.Header)
			}
		})
	}
	if n := srv.Stats().Unauthenticated; n != 2 {
		t.Errorf("Stats().Unauthenticated = %d, want 2", n)
	}
}
