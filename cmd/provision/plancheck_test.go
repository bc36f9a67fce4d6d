package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanMakesTheRunsCredentialChecks: "--plan makes the checks a run
// makes": where the run is refused for want of credentials (exit 2), so is
// the plan, and neither calls the Chat API. No metadata server: a closed
// loopback port.
func TestPlanMakesTheRunsCredentialChecks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A Desktop app client whose endpoints nobody serves: nothing may be
	// asked of them.
	client := filepath.Join(dir, "client_secret.json")
	if err := os.WriteFile(client, []byte(`{"installed":{"client_id":"123-abc.apps.googleusercontent.com","client_secret":"not-a-secret","auth_uri":"http://127.0.0.1:1/auth","token_uri":"http://127.0.0.1:1/token","redirect_uris":["http://localhost"]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"adc with no credentials found", []string{"--auth", "adc"}, "no application default credentials found"},
		{"user with no token cache and no terminal", []string{"--auth", "user", "--credentials", client, "--token-cache", filepath.Join(dir, "none", "token.json")},
			"no token is cached in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var calls int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				http.Error(w, "no call expected", http.StatusTeapot)
			}))
			t.Cleanup(srv.Close)
			sub := t.TempDir()
			config := writeConfig(t, sub, 1, nil)
			args := append(append([]string{}, tc.args...), "--endpoint", srv.URL+"/", config)
			in := invocation{vars: map[string]string{"GCE_METADATA_HOST": "127.0.0.1:1"}}
			run := in.run(t.Context(), t, args...)
			if run.code != exitUsage {
				t.Fatalf("provision %q = exit %d, want 2; stderr:\n%s", args, run.code, run.stderr)
			}
			plan := in.run(t.Context(), t, append([]string{"--plan"}, args...)...)
			if plan.code != exitUsage || !strings.Contains(plan.stderr, tc.want) {
				t.Fatalf("provision --plan %q = exit %d, stderr:\n%s\nwant exit 2 saying %q, as the run is refused", args, plan.code, plan.stderr, tc.want)
			}
			if calls != 0 {
				t.Errorf("%d calls reached the Chat endpoint", calls)
			}
			if _, err := os.Stat(filepath.Join(sub, "spaces.results.json")); err == nil {
				t.Errorf("a results file was written")
			}
		})
	}
}
