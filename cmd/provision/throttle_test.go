package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"provision/internal/chatemu"
	"provision/internal/results"
)

// TestCreationLimit: 100 spaces against a server with a space-creation
// limit per "minute" and per "hour" (windows scaled down) that sends no
// Retry-After, with --max-attempts 3: every space is created once, none
// fails, exit 0.
func TestCreationLimit(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t,
		chatemu.WithCreationLimit(4, 12),
		chatemu.WithWindow(200*time.Millisecond),
		chatemu.WithLongWindow(time.Second))
	dir := t.TempDir()
	config := writeConfig(t, dir, 100, nil)
	out := provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", "--max-attempts", "3", config)
	if out.code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", out.code, out.stdout, out.stderr)
	}
	st := emu.Stats()
	if st.SpacesCreated != 100 || st.Duplicates != 0 || st.Throttled == 0 {
		t.Fatalf("server created %d spaces (%d duplicates) after %d 429s; want 100 once, throttled along the way", st.SpacesCreated, st.Duplicates, st.Throttled)
	}
	f := resultsOf(t, filepath.Join(dir, "spaces.results.json"))
	if n := countStatus(f, results.Created); n != 100 {
		t.Fatalf("%d spaces recorded as created, want 100", n)
	}
	if !strings.Contains(out.stdout, ": 100 created, 0 existing, 0 updated, 0 failed") {
		t.Fatalf("summary:\n%s", out.stdout)
	}
}

// TestQuotaNeverComesBack: a server whose creation quota is spent stops the
// run after --max-wait, exit 1, nothing recorded as failed; the next run,
// once the quota is back, finishes the job without a duplicate.
func TestQuotaNeverComesBack(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t, chatemu.WithCreationLimit(0, 3), chatemu.WithLongWindow(4*time.Second))
	dir := t.TempDir()
	config := writeConfig(t, dir, 8, nil)
	start := time.Now()
	out := invocation{tick: 200 * time.Millisecond}.run(context.Background(), t,
		"--auth", "none", "--endpoint", url, "--rate", "0", "--concurrency", "2", "--max-wait", "1s", config)
	elapsed := time.Since(start)
	if out.code != 1 {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", out.code, out.stderr)
	}
	if elapsed > 4*time.Second {
		t.Fatalf("stopped after %v with --max-wait 1s", elapsed)
	}
	for _, want := range []string{
		"provision: stopped: the server refused space writes for ",
		"Nothing failed",
		"waiting for the server's quota (space writes), resuming in",
		", at about ",
	} {
		if !strings.Contains(out.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out.stderr)
		}
	}
	if strings.Contains("\n"+out.stderr, "\nfailed: ") {
		t.Errorf("a space was reported failed:\n%s", out.stderr)
	}
	path := filepath.Join(dir, "spaces.results.json")
	f := resultsOf(t, path)
	if countStatus(f, results.Failed) != 0 || countStatus(f, results.Created) != 3 || countStatus(f, results.Pending) == 0 {
		t.Fatalf("results: %d created, %d pending, %d failed; want 3 created, some pending, none failed",
			countStatus(f, results.Created), countStatus(f, results.Pending), countStatus(f, results.Failed))
	}

	// The quota comes back; the next run resumes.
	out = provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", "--max-wait", "1m", config)
	if out.code != 0 {
		t.Fatalf("second run: exit %d\nstderr:\n%s", out.code, out.stderr)
	}
	if st := emu.Stats(); st.SpacesCreated != 8 || st.Duplicates != 0 {
		t.Fatalf("server created %d spaces (%d duplicates), want 8", st.SpacesCreated, st.Duplicates)
	}
}

func TestResuming(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 4, 17, 37, 50, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{4*time.Minute + 10*time.Second, "resuming in 4m10s, at about 16:42 UTC"},
		{58*time.Minute + 3*time.Second, "resuming in 58m3s, at about 17:35 UTC"},
		{2500 * time.Millisecond, "resuming in 2.5s, at about 16:37:52 UTC"},
	} {
		if got := resuming(tc.d, now); got != tc.want {
			t.Errorf("resuming(%v, %v) = %q, want %q", tc.d, now, got, tc.want)
		}
	}
}
