package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"provision/internal/chatemu"
)

// spaceNamed is the name of the emulator's space with that display name,
// or "".
func spaceNamed(emu *chatemu.Server, display string) string {
	for _, sp := range emu.Spaces() {
		if sp.DisplayName == display {
			return sp.Name
		}
	}
	return ""
}

// TestPruneWithheldAfterAFailure: when a space, a member or a setting of
// the run fails, --prune deletes nothing in that run: the orphan stays,
// the summary says how many deletions were withheld and why, and the run
// exits 1.
func TestPruneWithheldAfterAFailure(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		opts   []chatemu.Option
		patch  bool   // the server refuses every spaces.patch
		config string // the second run's, without "Old"
		why    string
	}{
		{name: "a create answered ALREADY_EXISTS",
			config: "spaces:\n  - displayName: \"Kept\"\n    description: \"one\"\n  - displayName: \"Taken\"\n",
			why:    "1 space failed in this run"},
		{name: "a member the server will not add", opts: []chatemu.Option{chatemu.WithUnaddable("zed@example.com")},
			config: "spaces:\n  - displayName: \"Kept\"\n    description: \"one\"\n  - displayName: \"New\"\n    members: [ana@example.com, zed@example.com]\n",
			why:    "1 member could not be added in this run"},
		{name: "a settings patch refused", patch: true,
			config: "spaces:\n  - displayName: \"Kept\"\n    description: \"two\"\n",
			why:    "1 space failed in this run"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu, url := newEmu(t, tt.opts...)
			emu.AddHiddenSpace("Taken")
			if tt.patch {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodPatch && strings.Count(r.URL.Path, "/") == 3 {
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(403)
						w.Write([]byte(`{"error":{"code":403,"status":"PERMISSION_DENIED","message":"The caller does not have permission"}}`))
						return
					}
					emu.ServeHTTP(w, r)
				}))
				t.Cleanup(srv.Close)
				url = srv.URL
			}
			dir := t.TempDir()
			config := filepath.Join(dir, "spaces.yaml")
			write := func(yaml string) {
				t.Helper()
				if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := []string{"--auth", "none", "--endpoint", url, "--rate", "0", "--caller", "caller@example.com", config}
			write("spaces:\n  - displayName: \"Kept\"\n    description: \"one\"\n  - displayName: \"Old\"\n")
			if out := provision(t, args...); out.code != exitOK {
				t.Fatalf("first run: exit %d\n%s", out.code, out.stderr)
			}
			old := spaceNamed(emu, "Old")

			write(tt.config)
			out := provision(t, append([]string{"--prune"}, args...)...)
			if out.code != exitFailed {
				t.Errorf("exit %d, want 1\n%s", out.code, out.stderr)
			}
			want := "Withheld: 1 space not deleted: --prune deletes only once everything else in the run has succeeded, and " + tt.why + ".\n"
			if !strings.Contains(out.stdout, want) {
				t.Errorf("stdout:\n%s\nwant it to say\n%s", out.stdout, want)
			}
			if _, ok := emu.Space(old); !ok || emu.Stats().SpacesDeleted != 0 {
				t.Errorf("Old (%s) was deleted", old)
			}
			if f := resultsOf(t, filepath.Join(dir, "spaces.results.json")); f.Spaces["Old"] == nil || len(f.Deleted) != 0 {
				t.Errorf("results: Old %v, deleted %v; want Old kept", f.Spaces["Old"], f.Deleted)
			}
		})
	}
}

// TestPruneRunsLast: the run deletes once every create, retry, settings
// patch and member change is done. The server holds the create of "Slow"
// until a delete arrives (or half a second passes): a run that deleted
// before the rest was done would delete while Slow is held.
func TestPruneRunsLast(t *testing.T) {
	t.Parallel()
	emu, _ := newEmu(t)
	taken, _ := emu.AddHiddenSpace("Retried")
	var mu sync.Mutex
	var calls []string // calls as they complete; deletes as they arrive
	deleting := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			once.Do(func() { close(deleting) })
			mu.Lock()
			calls = append(calls, "DELETE "+r.URL.Path)
			mu.Unlock()
			emu.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte(`"Slow"`)) {
			select {
			case <-deleting:
			case <-time.After(500 * time.Millisecond):
			}
		}
		emu.ServeHTTP(w, r)
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	config := filepath.Join(dir, "spaces.yaml")
	args := []string{"--auth", "none", "--endpoint", srv.URL, "--rate", "0", "--caller", "caller@example.com", "--concurrency", "4", config}
	first := "spaces:\n  - displayName: \"Old\"\n  - displayName: \"Edited\"\n    description: \"one\"\n  - displayName: \"Retried\"\n"
	if err := os.WriteFile(config, []byte(first), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := provision(t, args...); out.code != exitFailed || !strings.Contains(out.stderr, `failed: "Retried"`) {
		t.Fatalf("first run: exit %d, want 1 with Retried failed\n%s", out.code, out.stderr)
	}
	emu.DeleteSpace(taken) // the next run's retry succeeds
	yaml := first[:strings.Index(first, "  - displayName: \"Edited\"")] +
		"  - displayName: \"Slow\"\n  - displayName: \"A\"\n    members: [ana@example.com, bo@example.com]\n    owners: [ana@example.com]\n" +
		"  - displayName: \"B\"\n  - displayName: \"Edited\"\n    description: \"two\"\n  - displayName: \"Retried\"\n"
	yaml = strings.Replace(yaml, "  - displayName: \"Old\"\n", "", 1)
	if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	calls = nil
	mu.Unlock()
	out := provision(t, append([]string{"--prune"}, args...)...)
	if out.code != exitOK || !strings.Contains(out.stdout, ": 4 created, 0 existing, 1 updated,") || !strings.Contains(out.stdout, "1 space deleted") {
		t.Fatalf("exit %d, want 0, 4 created (one a retry), 1 updated, 1 deleted\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	text := strings.Join(calls, "\n")
	// A settings patch, a setup, a role given, the creates (one a retry).
	for _, want := range []string{`(?m)^PATCH /v1/spaces/[^/]+$`, `(?m)^POST /v1/spaces:setup$`, `(?m)^PATCH /v1/spaces/[^/]+/members/`, `(?m)^POST /v1/spaces$`} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("no call matching %s: the run is not the one meant\n%s", want, text)
		}
	}
	if last := calls[len(calls)-1]; !strings.HasPrefix(last, "DELETE ") || strings.Count(text, "DELETE ") != 1 {
		t.Fatalf("calls in order:\n%s\nwant one delete, last", text)
	}
}

// TestMaxDeletions: a config cut to one space, with 13 created, would
// delete 12 under --prune: over the default bound of 10, none is deleted,
// the run names the flag that allows it and exits 1, and the metrics
// count them; with --max-deletions 12 they go.
func TestMaxDeletions(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t)
	dir := t.TempDir()
	metrics := filepath.Join(dir, "provision.prom")
	config := writeConfig(t, dir, 13, nil)
	args := []string{"--auth", "none", "--endpoint", url, "--rate", "0", "--metrics", metrics, config}
	if out := provision(t, args...); out.code != exitOK {
		t.Fatalf("first run: exit %d\n%s", out.code, out.stderr)
	}
	writeConfig(t, dir, 1, nil)

	out := provision(t, append([]string{"--prune"}, args...)...)
	want := "Withheld: the plan would delete 12 spaces, over --max-deletions 10: none deleted; run with --max-deletions 12 to allow it.\n"
	if out.code != exitFailed || !strings.Contains(out.stdout, want) {
		t.Fatalf("exit %d, stdout:\n%s\nwant exit 1 and\n%s", out.code, out.stdout, want)
	}
	if st := emu.Stats(); st.Spaces != 13 || st.SpacesDeleted != 0 {
		t.Fatalf("emulator: %d spaces, %d deleted; want 13, none deleted", st.Spaces, st.SpacesDeleted)
	}
	m := parseMetrics(t, metrics)
	if m[`provision_withheld{what="deletions"}`] != 12 || m["provision_exit_status"] != 1 {
		t.Errorf("metrics: withheld deletions %v, exit %v; want 12, 1", m[`provision_withheld{what="deletions"}`], m["provision_exit_status"])
	}

	out = provision(t, append([]string{"--prune", "--max-deletions", "12"}, args...)...)
	if out.code != exitOK || strings.Contains(out.stdout, "Withheld") {
		t.Fatalf("--max-deletions 12: exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	if st := emu.Stats(); st.Spaces != 1 || st.SpacesDeleted != 12 {
		t.Fatalf("emulator: %d spaces, %d deleted; want 1, 12 deleted", st.Spaces, st.SpacesDeleted)
	}
	if m := parseMetrics(t, metrics); m[`provision_withheld{what="deletions"}`] != 0 {
		t.Errorf("metrics: withheld deletions %v, want 0", m[`provision_withheld{what="deletions"}`])
	}
}

// TestMaxRemovals: emptying defaults.members across 51 spaces would remove
// 102 members under --prune-members, over the default bound of 100: no
// member is removed, the rest of the run is applied, the run says so and
// exits 1; with --max-removals 102 they go.
func TestMaxRemovals(t *testing.T) {
	t.Parallel()
	const n = 51
	emu, url := newEmu(t)
	dir := t.TempDir()
	write := func(defaults string, extra bool) string {
		t.Helper()
		var b strings.Builder
		fmt.Fprintf(&b, "defaults:\n  members: [%s]\nspaces:\n", defaults)
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "  - displayName: \"Team %d\"\n    members: [own%d@example.com]\n", i, i)
		}
		if extra {
			b.WriteString("  - displayName: \"Extra\"\n")
		}
		path := filepath.Join(dir, "spaces.yaml")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	config := write("lead@example.com, coach@example.com", false)
	metrics := filepath.Join(dir, "provision.prom")
	args := []string{"--auth", "none", "--endpoint", url, "--rate", "0", "--member-rate", "0", "--caller", "caller@example.com", "--metrics", metrics, config}
	if out := provision(t, args...); out.code != exitOK {
		t.Fatalf("first run: exit %d\n%s", out.code, out.stderr)
	}
	write("", true)

	out := provision(t, append([]string{"--prune-members"}, args...)...)
	want := "Withheld: the plan would remove 102 members, over --max-removals 100: none removed; run with --max-removals 102 to allow it.\n"
	if out.code != exitFailed || !strings.Contains(out.stdout, want) {
		t.Fatalf("exit %d, stdout:\n%s\nwant exit 1 and\n%s", out.code, out.stdout, want)
	}
	if st := emu.Stats(); st.MembersDeleted != 0 || spaceNamed(emu, "Extra") == "" {
		t.Fatalf("emulator: %d members removed, Extra %q; want none removed and Extra created", st.MembersDeleted, spaceNamed(emu, "Extra"))
	}
	if m := parseMetrics(t, metrics); m[`provision_withheld{what="removals"}`] != 102 || m["provision_exit_status"] != 1 {
		t.Errorf("metrics: withheld removals %v, exit %v; want 102, 1", m[`provision_withheld{what="removals"}`], m["provision_exit_status"])
	}

	out = provision(t, append([]string{"--prune-members", "--max-removals", "102"}, args...)...)
	if out.code != exitOK || strings.Contains(out.stdout, "Withheld") {
		t.Fatalf("--max-removals 102: exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	if st := emu.Stats(); st.MembersDeleted != 102 {
		t.Fatalf("emulator: %d members removed, want 102", st.MembersDeleted)
	}
}
