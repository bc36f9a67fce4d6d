package apply_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	chat "google.golang.org/api/chat/v1"
	"google.golang.org/api/option"

	"provision/internal/apply"
	"provision/internal/chatemu"
	"provision/internal/plan"
	"provision/internal/results"
)

// fast keeps retries quick in tests; the logic is the same as in production.
var fast = apply.Backoff{Base: 2 * time.Millisecond, Cap: 20 * time.Millisecond}

// emulator starts an in-process emulator, with no quotas unless opts set
// them, and a client for it.
func emulator(t *testing.T, opts ...chatemu.Option) (*chatemu.Server, *chat.Service) {
	t.Helper()
	noQuota := []chatemu.Option{chatemu.WithSpaceQuota(0), chatemu.WithMemberQuota(0), chatemu.WithReadQuota(0)}
	emu := chatemu.New(append(noQuota, opts...)...)
	return emu, client(t, emu)
}

func client(t *testing.T, h http.Handler) *chat.Service {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	svc, err := chat.NewService(context.Background(), option.WithEndpoint(ts.URL+"/"), option.WithHTTPClient(ts.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// state is a results store in a temporary directory.
type state struct {
	t    *testing.T
	path string
}

func newState(t *testing.T) *state {
	return &state{t: t, path: filepath.Join(t.TempDir(), "spaces.results.json")}
}

// config builds a config of n spaces named "Team NNN" with the given
// members each.
func config(n int, members ...string) string {
	var b strings.Builder
	b.WriteString("spaces:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - displayName: \"Team %03d\"\n", i)
		if len(members) > 0 {
			b.WriteString("    members: [" + strings.Join(members, ", ") + "]\n")
		}
	}
	return b.String()
}

// run plans yaml against the state and applies it, as the command does.
func (s *state) run(ctx context.Context, svc *chat.Service, yaml string, o apply.Options) (*apply.Summary, *plan.Plan, error) {
	s.t.Helper()
	return s.runWith(ctx, svc, yaml, o, nil)
}

// runWith is run with the parsed config changed by configure first (the
// command line's part: Prune, PruneMembers, Caller).
func (s *state) runWith(ctx context.Context, svc *chat.Service, yaml string, o apply.Options, configure func(*plan.Config)) (*apply.Summary, *plan.Plan, error) {
	s.t.Helper()
	cfg, err := plan.Parse("spaces.yaml", []byte(yaml), plan.Options{App: o.App})
	if err != nil {
		s.t.Fatalf("Parse: %v", err)
	}
	if configure != nil {
		configure(cfg)
	}
	st, err := results.Open(s.path, results.WithoutSync())
	if err != nil {
		s.t.Fatalf("Open: %v", err)
	}
	p := plan.Diff(cfg, apply.Recorded(st.Snapshot(), nil))
	if o.Backoff == (apply.Backoff{}) {
		o.Backoff = fast
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	sum, err := apply.Run(ctx, svc, st, p, o)
	if cerr := st.Close(); cerr != nil {
		s.t.Fatalf("Close: %v", cerr)
	}
	return sum, p, err
}

func (s *state) file() *results.File {
	s.t.Helper()
	f, err := results.Load(s.path)
	if err != nil {
		s.t.Fatalf("Load: %v", err)
	}
	return f
}

func writes(st chatemu.Stats) int {
	n := 0
	for _, m := range []string{"spaces.create", "spaces.setup", "members.create", "members.patch"} {
		for _, c := range st.Calls[m] {
			n += c
		}
	}
	return n
}

// checkMatchesServer asserts that every space on the server is recorded
// once, as created, under its display name, and nothing else is.
func checkMatchesServer(t *testing.T, emu *chatemu.Server, f *results.File) {
	t.Helper()
	onServer := make(map[string]string)
	for _, sp := range emu.Spaces() {
		onServer[sp.Name] = sp.DisplayName
	}
	seen := make(map[string]bool)
	for key, e := range f.Spaces {
		if e.Status != results.Created && e.Status != results.Existing {
			t.Errorf("results: %q is %s (%s), want created", key, e.Status, e.Error)
			continue
		}
		if seen[e.Name] {
			t.Errorf("results: %s recorded twice", e.Name)
		}
		seen[e.Name] = true
		if got := onServer[e.Name]; got != key {
			t.Errorf("results: %q → %s, which the server has as %q", key, e.Name, got)
		}
		if e.URL == "" || e.ID == "" || e.RequestID == "" {
			t.Errorf("results: %q lacks url, id or requestId: %+v", key, e)
		}
	}
	if len(seen) != len(onServer) {
		t.Errorf("results record %d spaces, the server has %d", len(seen), len(onServer))
	}
}

func TestFaultsCreateEachSpaceOnce(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t, chatemu.WithFailureRate(0.15), chatemu.WithLostResponseRate(0.10), chatemu.WithSeed(3))
	s := newState(t)
	ctx := context.Background()
	o := apply.Options{Concurrency: 4, MaxAttempts: 20}

	sum, _, err := s.run(ctx, svc, config(40), o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	st := emu.Stats()
	if sum.Created != 40 || st.SpacesCreated != 40 || st.Duplicates != 0 {
		t.Fatalf("created %d (server: %d, duplicates %d), want 40", sum.Created, st.SpacesCreated, st.Duplicates)
	}
	if st.LostResponses == 0 || st.Unavailable == 0 {
		t.Fatalf("faults injected: %d lost, %d 503; want some of each", st.LostResponses, st.Unavailable)
	}
	checkMatchesServer(t, emu, s.file())

	// Nothing new: not one write.
	before := writes(emu.Stats())
	sum, p, err := s.run(ctx, svc, config(40), o)
	if err != nil || p.Counts().Unchanged != 40 || sum.SpaceWrites != 0 {
		t.Fatalf("re-run: %v, plan %+v, %d space writes; want 40 unchanged, 0 writes", err, p.Counts(), sum.SpaceWrites)
	}
	if got := writes(emu.Stats()); got != before {
		t.Fatalf("re-run made %d write calls, want 0", got-before)
	}

	// Five more in the file: exactly five more spaces.
	if _, _, err := s.run(ctx, svc, config(45), o); err != nil {
		t.Fatalf("grown run: %v", err)
	}
	if st := emu.Stats(); st.SpacesCreated != 45 {
		t.Fatalf("after growing the file by 5: %d spaces created, want 45", st.SpacesCreated)
	}
	checkMatchesServer(t, emu, s.file())
}

func TestLimiterNeverExceedsRate(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	// 120 a minute: one every 500 ms, burst 1, however many workers.
	o := apply.Options{Concurrency: 8, Spaces: apply.NewLimiter(120)}
	if _, _, err := s.run(context.Background(), svc, config(9), o); err != nil {
		t.Fatal(err)
	}
	st := emu.Stats()
	// Two writes fit in any second; a third only if one of them was held
	// up on its way to the server (the race detector on a busy machine).
	if got := chatemu.MaxInWindow(st.SpaceWrites, time.Second); got > 3 {
		t.Fatalf("%d space writes within one second at --rate 120, want at most 2 (3 with delivery jitter)", got)
	}
	if got := chatemu.MaxInWindow(st.SpaceWrites, 4*time.Second); got > 9 {
		t.Fatalf("%d space writes within four seconds at --rate 120, want at most 9", got)
	}
}

func TestQuotaBelowRate(t *testing.T) {
	t.Parallel()
	// The server allows 5 space writes a second; the client is set to 20.
	emu, svc := emulator(t, chatemu.WithSpaceQuota(5), chatemu.WithWindow(time.Second))
	s := newState(t)
	o := apply.Options{Concurrency: 4, MaxAttempts: 10, Spaces: apply.NewLimiter(1200)}
	sum, _, err := s.run(context.Background(), svc, config(30), o)
	if err != nil {
		t.Fatal(err)
	}
	st := emu.Stats()
	if sum.Created != 30 || st.SpacesCreated != 30 {
		t.Fatalf("created %d (server %d), want 30", sum.Created, st.SpacesCreated)
	}
	if st.Throttled > 30 {
		t.Fatalf("%d 429s for 30 spaces, want at most one per space", st.Throttled)
	}
	if int64(st.Throttled) != sum.Throttled {
		t.Fatalf("summary counts %d 429s, the server sent %d", sum.Throttled, st.Throttled)
	}
}

// googleError answers like the Chat API does.
func googleError(w http.ResponseWriter, code int, status, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":%q,"status":%q}}`, code, msg, status)
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	emu := chatemu.New()
	var calls atomic.Int32
	var first, second atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// One-off oddity: the first create is throttled for a whole second.
		if r.Method == http.MethodPost && calls.Add(1) == 1 {
			first.Store(time.Now().UnixNano())
			w.Header().Set("Retry-After", "1")
			googleError(w, 429, "RESOURCE_EXHAUSTED", "quota exceeded")
			return
		}
		second.CompareAndSwap(0, time.Now().UnixNano())
		emu.ServeHTTP(w, r)
	})
	s := newState(t)
	sum, _, err := s.run(context.Background(), client(t, h), config(1), apply.Options{Concurrency: 1})
	if err != nil || sum.Created != 1 {
		t.Fatalf("Run: %v, created %d; want 1", err, sum.Created)
	}
	if waited := time.Duration(second.Load() - first.Load()); waited < time.Second {
		t.Fatalf("retried %v after a 429 with Retry-After: 1, want at least 1s", waited)
	}
}

func TestFinalErrorsNotRetried(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		googleError(w, 400, "INVALID_ARGUMENT", "display name is not allowed")
	})
	s := newState(t)
	sum, _, err := s.run(context.Background(), client(t, h), config(3), apply.Options{Concurrency: 1})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if sum.Failed != 3 || calls.Load() != 3 {
		t.Fatalf("%d failed after %d calls, want 3 failed after 3 calls", sum.Failed, calls.Load())
	}
	e := s.file().Spaces["Team 000"]
	if e.Status != results.Failed || e.Error != "INVALID_ARGUMENT: display name is not allowed" || e.RequestID == "" {
		t.Fatalf("entry = %+v, want failed with the API's message and a requestId", e)
	}
}

func TestUnauthenticatedStopsTheRun(t *testing.T) {
	t.Parallel()
	for _, code := range []int{401, 403} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				googleError(w, code, map[int]string{401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}[code], "no")
			})
			s := newState(t)
			_, _, err := s.run(context.Background(), client(t, h), config(50), apply.Options{Concurrency: 2})
			var denied *apply.DeniedError
			if !errors.As(err, &denied) || denied.Code != code {
				t.Fatalf("Run: %v, want a DeniedError with code %d", err, code)
			}
			if n := calls.Load(); n > 4 {
				t.Fatalf("%d calls made before stopping, want only the first few", n)
			}
		})
	}
}

func TestInterruptRecordsEverythingCreated(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t, chatemu.WithLatency(5*time.Millisecond))
	s := newState(t)
	ctx, cancel := context.WithCancel(context.Background())
	var done atomic.Int32
	o := apply.Options{Concurrency: 4, OnDone: func(apply.Outcome) {
		if done.Add(1) == 5 {
			cancel()
		}
	}}
	sum, _, err := s.run(ctx, svc, config(100), o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	if sum.Interrupted == 0 || sum.Created+sum.Interrupted != 100 {
		t.Fatalf("summary %+v: want created + interrupted = 100", sum)
	}
	f := s.file()
	created := 0
	for _, e := range f.Spaces {
		if e.Status == results.Created {
			created++
		}
	}
	if n := len(emu.Spaces()); created != n {
		t.Fatalf("%d spaces recorded as created, the server has %d", created, n)
	}
	// The next run finishes the job without repeating any of it.
	if _, _, err := s.run(context.Background(), svc, config(100), apply.Options{}); err != nil {
		t.Fatal(err)
	}
	if st := emu.Stats(); st.SpacesCreated != 100 || st.Duplicates != 0 {
		t.Fatalf("after resuming: %d spaces created, want 100", st.SpacesCreated)
	}
	checkMatchesServer(t, emu, s.file())
}
