package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// exitMetric reads provision_exit_status from the metrics file at path.
func exitMetric(t *testing.T, path string) float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the metrics file: %v", err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("the metrics file: %v", err)
	}
	mf := mfs["provision_exit_status"]
	if mf == nil || len(mf.GetMetric()) != 1 {
		t.Fatalf("the metrics file has no provision_exit_status")
	}
	return mf.GetMetric()[0].GetGauge().GetValue()
}

// revokeAfter serves the emulator until n space creates have succeeded,
// then answers every call 401, as when the credentials are revoked during
// a run.
func revokeAfter(t *testing.T, n int64) string {
	t.Helper()
	emu, _ := newEmu(t)
	var created atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if created.Load() >= n {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"code":401,"status":"UNAUTHENTICATED","message":"Request had invalid authentication credentials."}}`))
			return
		}
		emu.ServeHTTP(w, r)
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/spaces") {
			created.Add(1)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// TestExitStatusStoppedMidway: "2 refused before any write (nothing
// applied); 3 stopped mid-way by a fatal condition (lock lost, state
// moved, credentials revoked): what was done is recorded, a person must
// look" — and "--metrics records every one of them".
func TestExitStatusStoppedMidway(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		made    int64 // spaces created before the credentials are refused
		code    int
		created int // spaces recorded as created
	}{
		{"refused at the first write", 0, exitUsage, 0},
		{"revoked after two spaces", 2, exitStopped, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := revokeAfter(t, tc.made)
			dir := t.TempDir()
			config := writeConfig(t, dir, 6, nil)
			prom := filepath.Join(dir, "provision.prom")
			out := provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", "--concurrency", "1", "--metrics", prom, config)
			if out.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", out.code, tc.code, out.stderr)
			}
			if got := exitMetric(t, prom); got != float64(tc.code) {
				t.Errorf("provision_exit_status = %v, want %d", got, tc.code)
			}
			f := resultsOf(t, filepath.Join(dir, "spaces.results.json"))
			if n := countStatus(f, "created"); n != tc.created {
				t.Errorf("%d spaces recorded as created, want %d", n, tc.created)
			}
			if tc.code == exitStopped && !strings.Contains(out.stderr, "what this run did is recorded; a person must look") {
				t.Errorf("stderr = %q, want it to say a person must look", out.stderr)
			}
			if tc.code == exitUsage && strings.Contains(out.stderr, "stopped mid-way") {
				t.Errorf("stderr = %q: nothing was applied, yet it says stopped mid-way", out.stderr)
			}
		})
	}
}

// TestMetricsOnRefusedFlag: "--metrics records every one of them": a
// refused flag value after a successful run replaces the file's exit
// status with 2, keeping the time of the last success; a metrics path that
// names some other file is never written by a refused command line.
func TestMetricsOnRefusedFlag(t *testing.T) {
	t.Parallel()
	_, url := newEmu(t)
	dir := t.TempDir()
	config := writeConfig(t, dir, 1, nil)
	prom := filepath.Join(dir, "provision.prom")
	if out := provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", "--metrics", prom, config); out.code != exitOK {
		t.Fatalf("first run: exit %d; stderr:\n%s", out.code, out.stderr)
	}
	for _, args := range [][]string{
		{"--metrics", prom, "--rate", "-1", config},
		{"--rate", "-1", "--metrics", prom, config},
		{"--metrics", prom, "--no-such-flag", config},
		{"--metrics", prom, config, "another.yaml"},
	} {
		out := provision(t, args...)
		if out.code != exitUsage {
			t.Fatalf("provision %q = exit %d, want 2", args, out.code)
		}
		if got := exitMetric(t, prom); got != exitUsage {
			t.Errorf("provision %q: provision_exit_status = %v, want 2", args, got)
		}
		if data, _ := os.ReadFile(prom); !strings.Contains(string(data), "provision_last_success_timestamp_seconds") ||
			strings.Contains(string(data), "provision_last_success_timestamp_seconds 0\n") {
			t.Errorf("provision %q: the time of the last success was lost:\n%s", args, data)
		}
	}
	// No metrics file yet: one is written, saying 2.
	fresh := filepath.Join(dir, "fresh.prom")
	if out := provision(t, "--metrics", fresh, "--concurrency", "0", config); out.code != exitUsage {
		t.Fatalf("exit %d, want 2", out.code)
	}
	if got := exitMetric(t, fresh); got != exitUsage {
		t.Errorf("a new metrics file says provision_exit_status %v, want 2", got)
	}
	// A refused command line whose --metrics names the config: the config
	// is left as it was.
	before, _ := os.ReadFile(config)
	if out := provision(t, "--metrics", config, "--rate", "-1", config); out.code != exitUsage {
		t.Fatalf("exit %d, want 2", out.code)
	}
	if after, _ := os.ReadFile(config); string(after) != string(before) {
		t.Errorf("a refused command line overwrote the config named by --metrics:\n%s", after)
	}
}
