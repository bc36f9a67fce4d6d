package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"provision/internal/apply"
	"provision/internal/chatemu"
	"provision/internal/results"
)

// TestMain lets the test binary double as the provision command for the
// scripts under testdata/script, and points the metadata server at a
// loopback stand-in so that nothing here can reach 169.254.169.254. The
// stand-in is there (as on Google Cloud: --plan --auth adc finds it) but
// gives no token (a run with --auth adc is refused at its first token).
// A test that wants no metadata server at all sets GCE_METADATA_HOST to a
// closed port in the environment it hands run.
func TestMain(m *testing.M) {
	meta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Metadata-Flavor", "Google")
		if r.URL.Path == "/computeMetadata/v1/" {
			return
		}
		http.NotFound(w, r)
	}))
	os.Setenv("GCE_METADATA_HOST", strings.TrimPrefix(meta.URL, "http://"))
	code := testscript.RunMain(m, map[string]func() int{
		"provision": func() int {
			return run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
		},
	})
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	meta.Close()
	os.Exit(code)
}

// fastBackoff keeps retries in tests to milliseconds.
var fastBackoff = apply.Backoff{Base: 2 * time.Millisecond, Cap: 20 * time.Millisecond}

// newEmu serves an emulator with its quotas off (plus opts) on a loopback
// port for the length of the test.
func newEmu(t *testing.T, opts ...chatemu.Option) (*chatemu.Server, string) {
	t.Helper()
	emu := chatemu.New(append([]chatemu.Option{
		chatemu.WithSpaceQuota(0), chatemu.WithMemberQuota(0), chatemu.WithReadQuota(0),
	}, opts...)...)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, srv.URL
}

// outcome is what one run of the command left behind.
type outcome struct {
	code           int
	stdout, stderr string
}

// invocation is one run of the command in-process.
type invocation struct {
	vars map[string]string // the environment run sees; nothing else
	tick time.Duration     // progress interval; 0 means an hour (none)
	// throttle scales the waits for a throttling server; zero: the
	// tests' quick ones.
	throttle apply.Throttle
}

// quickThrottle waits milliseconds, not seconds, for a throttling server.
var quickThrottle = apply.Throttle{Base: 20 * time.Millisecond, Cap: 400 * time.Millisecond}

func (in invocation) run(ctx context.Context, t *testing.T, args ...string) outcome {
	t.Helper()
	// run serialises its own writes to stderr; both are read once it has
	// returned and joined its goroutines.
	var stdout, stderr bytes.Buffer
	tick := in.tick
	if tick == 0 {
		tick = time.Hour
	}
	throttle := in.throttle
	if throttle.Base == 0 {
		throttle = quickThrottle
	}
	e := &env{
		stdout:   &stdout,
		stderr:   &stderr,
		getenv:   func(k string) string { return in.vars[k] },
		backoff:  fastBackoff,
		throttle: throttle,
		tick:     tick,
	}
	code := e.run(ctx, args)
	return outcome{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// provision runs the command with an empty environment.
func provision(t *testing.T, args ...string) outcome {
	t.Helper()
	return invocation{}.run(context.Background(), t, args...)
}

// writeConfig writes a config of spaces "Team 1" … "Team n" into dir; each
// space gets the members members(i) returns (nil for none).
func writeConfig(t testing.TB, dir string, n int, members func(i int) (members, managers []string)) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("spaces:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - displayName: \"Team %d\"\n", i)
		if members == nil {
			continue
		}
		ms, mgrs := members(i)
		if len(ms) > 0 {
			fmt.Fprintf(&b, "    members: [%s]\n", strings.Join(ms, ", "))
		}
		if len(mgrs) > 0 {
			fmt.Fprintf(&b, "    managers: [%s]\n", strings.Join(mgrs, ", "))
		}
	}
	path := filepath.Join(dir, "spaces.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// teamMembers is n members of space i, the first one a manager.
func teamMembers(i, n int) (members, managers []string) {
	for j := range n {
		members = append(members, fmt.Sprintf("t%d-m%d@example.com", i, j))
	}
	if n > 0 {
		managers = members[:1]
	}
	return members, managers
}

// resultsOf reads the results file (and its journal) at path.
func resultsOf(t *testing.T, path string) *results.File {
	t.Helper()
	f, err := results.Load(path)
	if err != nil {
		t.Fatalf("results.Load(%q) = %v", path, err)
	}
	return f
}

// countStatus counts the entries of f with status s.
func countStatus(f *results.File, s results.Status) int {
	n := 0
	for _, en := range f.Spaces {
		if en.Status == s {
			n++
		}
	}
	return n
}
