package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"provision/internal/chatemu"
	"provision/internal/plan"
)

// TestImportThrottledAndFailing: an import's reads go through the run's
// limiter and retries: against a server that throttles (429, no
// Retry-After) and fails a fifth of its calls (503), every space is still
// imported, and the config written reads back to them.
func TestImportThrottledAndFailing(t *testing.T) {
	t.Parallel()
	const n = 12
	emu, url := newEmu(t, chatemu.WithReadQuota(6), chatemu.WithWindow(300*time.Millisecond), chatemu.WithFailureRate(0.2), chatemu.WithSeed(3))
	for i := range n {
		name, err := emu.AddSpace(fmt.Sprintf("Team %02d", i))
		if err != nil {
			t.Fatal(err)
		}
		emu.AddMember(name, fmt.Sprintf("person%d@example.com", i), "ROLE_MEMBER")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "imported.yaml")
	out := provision(t, "import", "--auth", "none", "--endpoint", url, "--caller", chatemu.DefaultCaller, file)
	if out.code != exitOK {
		t.Fatalf("provision import = exit %d; stderr:\n%s", out.code, out.stderr)
	}
	if !strings.Contains(out.stdout, fmt.Sprintf("Imported: %d spaces into", n)) {
		t.Errorf("stdout = %q, want %d spaces imported", out.stdout, n)
	}
	st := emu.Stats()
	if st.Throttled == 0 || st.Unavailable == 0 {
		t.Errorf("the emulator throttled %d and failed %d calls; want some of each for this test to mean anything", st.Throttled, st.Unavailable)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := plan.Parse(file, data, plan.Options{})
	if err != nil {
		t.Fatalf("Parse(imported) = %v", err)
	}
	if len(cfg.Spaces) != n {
		t.Fatalf("imported config has %d spaces, want %d", len(cfg.Spaces), n)
	}
	for _, s := range cfg.Spaces {
		if len(s.Members) != 2 || len(s.Owners) != 1 || !s.Adopt {
			t.Errorf("imported space %q: members %v, owners %v, adopt %v; want the caller as owner and one member", s.DisplayName, s.Members, s.Owners, s.Adopt)
		}
	}
}

// TestImportSkipsWhatAConfigCannotState: a space whose name a config
// refuses (only invisible characters, which Chat took once) is named on
// stderr and left out; the others are imported.
func TestImportSkipsWhatAConfigCannotState(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t)
	if _, err := emu.AddSpace("\u200b\u200b"); err != nil {
		t.Skipf("the emulator refuses the name: %v", err)
	}
	if _, err := emu.AddSpace("Fine"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "imported.yaml")
	out := provision(t, "import", "--auth", "none", "--endpoint", url, "--caller", "caller@example.com", file)
	if out.code != exitOK || !strings.Contains(out.stdout, "Imported: 1 space into") || !strings.Contains(out.stderr, "a config cannot state it as it is: config:") {
		t.Fatalf("provision import = exit %d\nstdout:\n%s\nstderr:\n%s", out.code, out.stdout, out.stderr)
	}
}

// TestImportSkipsASecondSpaceOfAName: spaces made before Chat made names
// unique may share one; the config names each space once, so the second
// (by name, then ID) is named on stderr and left out.
func TestImportSkipsASecondSpaceOfAName(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t, chatemu.WithDuplicateNames())
	for _, name := range []string{"Twin", "twin"} {
		if _, err := emu.AddSpace(name); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "imported.yaml")
	out := provision(t, "import", "--auth", "none", "--endpoint", url, "--caller", "caller@example.com", file)
	if out.code != exitOK || !strings.Contains(out.stdout, "Imported: 1 space into") || !strings.Contains(out.stderr, "has the same name, and a config names each space once") {
		t.Fatalf("provision import = exit %d\nstdout:\n%s\nstderr:\n%s", out.code, out.stdout, out.stderr)
	}
}

// TestImportSpaceGoneMeanwhile: a space listed that answers 404 when read
// (deleted between the list and the read) is named on stderr and left
// out; the rest is imported.
func TestImportSpaceGoneMeanwhile(t *testing.T) {
	t.Parallel()
	emu := chatemu.New(chatemu.WithSpaceQuota(0), chatemu.WithMemberQuota(0), chatemu.WithReadQuota(0))
	gone, err := emu.AddSpace("Gone")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emu.AddSpace("Kept"); err != nil {
		t.Fatal(err)
	}
	// A one-off oddity: the space is deleted right after the list.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/"+gone {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"code":404,"message":"Space not found.","status":"NOT_FOUND"}}`)
			return
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "imported.yaml")
	out := provision(t, "import", "--auth", "none", "--endpoint", srv.URL, "--caller", "caller@example.com", file)
	if out.code != exitOK || !strings.Contains(out.stdout, "Imported: 1 space into") ||
		!strings.Contains(out.stderr, `skipped "Gone" (`+gone+`): listed, then answered 404 or 403 when read`) {
		t.Fatalf("provision import = exit %d\nstdout:\n%s\nstderr:\n%s", out.code, out.stdout, out.stderr)
	}
}

// TestImportProgress: an import says how far it is on stderr, a plain line
// every tick, as a run does when stderr is no terminal.
func TestImportProgress(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t, chatemu.WithLatency(5*time.Millisecond))
	for i := range 20 {
		if _, err := emu.AddSpace(fmt.Sprintf("Team %02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "imported.yaml")
	out := invocation{tick: 10 * time.Millisecond}.run(context.Background(), t, "import", "--auth", "none", "--endpoint", url, "--caller", "caller@example.com", "--concurrency", "1", file)
	if out.code != exitOK || !regexp.MustCompile(`(?m)^import: \d+/20 spaces read$`).MatchString(out.stderr) {
		t.Fatalf("provision import = exit %d\nstderr:\n%s", out.code, out.stderr)
	}
}
