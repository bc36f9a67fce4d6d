package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFailedPatchExitsOne: a settings change the API refuses fails the run
// (exit 1) and says which space and what, though the space itself exists.
func TestFailedPatchExitsOne(t *testing.T) {
	t.Parallel()
	emu, _ := newEmu(t)
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
	dir := t.TempDir()
	config := filepath.Join(dir, "spaces.yaml")
	write := func(desc string) {
		if err := os.WriteFile(config, []byte("spaces:\n  - displayName: \"T\"\n    description: \""+desc+"\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("one")
	if out := provision(t, "--auth", "none", "--endpoint", srv.URL+"/", "--rate", "0", config); out.code != exitOK {
		t.Fatalf("first run: exit %d\n%s", out.code, out.stderr)
	}
	write("two")
	out := provision(t, "--auth", "none", "--endpoint", srv.URL+"/", "--rate", "0", config)
	if out.code != exitFailed || !strings.Contains(out.stderr, `failed: "T": changing the description and guidelines: PERMISSION_DENIED`) {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 naming the refused change", out.code, out.stderr)
	}
}
