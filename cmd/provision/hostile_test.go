package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestNoSecretInOutputOrResults: a server that echoes the Authorization
// header and the token in its error messages, a password and a key in the
// endpoint, and -v: neither the token nor the password nor the key reaches
// stdout, stderr or the results file.
func TestNoSecretInOutputOrResults(t *testing.T) {
	t.Parallel()
	const tok = "tok-SECRET-8675309"
	endpoint := secretEchoServer(t, "PaSsWoRd-42")
	dir := t.TempDir()
	config := writeConfig(t, dir, 2, nil)
	out := invocation{vars: map[string]string{"GOOGLE_OAUTH_ACCESS_TOKEN": tok}}.run(t.Context(), t,
		"--auth", "token", "--endpoint", endpoint, "--rate", "0", "-v", config)
	if out.code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s", out.code, exitFailed, out.stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "spaces.results.json"))
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"stdout": out.stdout, "stderr": out.stderr, "results": string(data)} {
		for _, secret := range []string{tok, "PaSsWoRd-42"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows a secret %q:\n%s", what, secret, text)
			}
		}
	}
	if !strings.Contains(string(data), "[redacted]") {
		t.Errorf("the results file does not show where the echoed token was taken out:\n%s", data)
	}
}

// TestRefusedBeforeAnyCall: a token with a line break, an endpoint port
// that cannot exist, and a plan for an endpoint the run would refuse are
// usage errors (exit 2) before any call.
func TestRefusedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t)
	dir := t.TempDir()
	config := writeConfig(t, dir, 1, nil)
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"token with CR LF", map[string]string{"GOOGLE_OAUTH_ACCESS_TOKEN": "abc-secret\r\nX-Evil: 1"}, []string{"--auth", "token", "--endpoint", url}, "is malformed: character 11 is U+000D"},
		{"port", nil, []string{"--auth", "none", "--endpoint", "http://127.0.0.1:99999/"}, "port 99999 is not a port"},
		{"plan for a non-loopback emulator", nil, []string{"--plan", "--auth", "none", "--endpoint", "http://10.1.1.1/"}, "is not a loopback address"},
		{"plan with a bad token", map[string]string{"GOOGLE_OAUTH_ACCESS_TOKEN": "a b"}, []string{"--plan", "--auth", "token", "--endpoint", url}, "is malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := invocation{vars: tc.vars}.run(t.Context(), t, append(tc.args, config)...)
			if out.code != exitUsage || !strings.Contains(out.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 saying %q", out.code, out.stderr, tc.want)
			}
			if strings.Contains(out.stderr, "abc-secret") {
				t.Fatalf("stderr shows the token: %q", out.stderr)
			}
		})
	}
	if st := emu.Stats(); len(st.Calls) != 0 {
		t.Fatalf("calls were made: %v", st.Calls)
	}
}

// TestResultsDirectoryMovedMidRun: the directory of the results file is
// renamed while the run is creating: the run stops (exit 3: it had begun
// writing) at its next record, and never prints a path that no longer exists; what it recorded
// is where the directory went.
func TestResultsDirectoryMovedMidRun(t *testing.T) {
	t.Parallel()
	emu, _ := newEmu(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	moved := filepath.Join(dir, "moved")
	if err := os.Mkdir(state, 0o755); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			once.Do(func() {
				if err := os.Rename(state, moved); err != nil {
					t.Error(err)
				}
			})
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	config := writeConfig(t, dir, 5, nil)
	out := provision(t, "--auth", "none", "--endpoint", srv.URL+"/", "--rate", "0", "--concurrency", "1",
		"--results", filepath.Join(state, "spaces.results.json"), config)
	if out.code != exitStopped || !strings.Contains(out.stderr, "moved") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 3 saying the directory moved", out.code, out.stderr)
	}
	for _, line := range strings.Split(out.stdout, "\n") {
		if rest, ok := strings.CutPrefix(line, "Results: "); ok {
			path, _, _ := strings.Cut(rest, " (")
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("the summary names %q, which does not exist", rest)
			}
			if !strings.HasPrefix(path, moved) {
				t.Fatalf("the summary names %q, not where the state went (%s)", path, moved)
			}
		}
	}
	if st := emu.Stats(); st.SpacesCreated > 2 {
		t.Fatalf("%d spaces created after the state was lost; want the run stopped at once", st.SpacesCreated)
	}
}

// TestBasicCredentialsEchoedAreRedacted: with the endpoint's password sent
// as HTTP Basic authentication (--auth none to an endpoint with user:pass),
// a server that echoes the header, or the token URL-encoded, has neither
// printed nor stored.
func TestBasicCredentialsEchoedAreRedacted(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		a := r.Header.Get("Authorization")
		fmt.Fprintf(w, `{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"token %s; again %s"}}`,
			strings.TrimPrefix(a, "Basic "), url.QueryEscape(a))
	}))
	t.Cleanup(srv.Close)
	endpoint := strings.Replace(srv.URL, "http://", "http://bob:PASSW0RDX@", 1) + "/"
	dir := t.TempDir()
	config := writeConfig(t, dir, 1, nil)
	out := provision(t, "--auth", "none", "--endpoint", endpoint, "--rate", "0", config)
	data, _ := os.ReadFile(filepath.Join(dir, "spaces.results.json"))
	secret := base64.StdEncoding.EncodeToString([]byte("bob:PASSW0RDX"))
	for what, text := range map[string]string{"stdout": out.stdout, "stderr": out.stderr, "results": string(data)} {
		if strings.Contains(text, secret) || strings.Contains(text, "PASSW0RDX") || strings.Contains(text, url.QueryEscape(secret)) {
			t.Errorf("%s shows the endpoint's credentials:\n%s", what, text)
		}
	}
}

// TestLockLostSaidOnce: the lock removed while the run holds it stops the
// run (exit 3: a space was made) with one message, and the summary says the results file was
// not written.
func TestLockLostSaidOnce(t *testing.T) {
	t.Parallel()
	emu, _ := newEmu(t)
	dir := t.TempDir()
	res := filepath.Join(dir, "spaces.results.json")
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			once.Do(func() {
				if err := os.Remove(res + ".lock"); err != nil {
					t.Error(err)
				}
			})
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	config := writeConfig(t, dir, 5, nil)
	out := provision(t, "--auth", "none", "--endpoint", srv.URL+"/", "--rate", "0", "--concurrency", "1", config)
	if out.code != exitStopped || strings.Count(out.stderr, "results lock lost") != 1 || strings.Contains(out.stderr, "run stopped: ") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 3 and the lost lock said once", out.code, out.stderr)
	}
	if !strings.Contains(out.stdout, "Results: not written: the lock was lost") {
		t.Fatalf("summary:\n%s", out.stdout)
	}
}

// secretEchoServer starts a server that answers every call 400 with the
// Authorization header, the token and the URL in its message, and returns
// its endpoint with the user admin and password in it.
func secretEchoServer(t *testing.T, password string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		auth := r.Header.Get("Authorization")
		fmt.Fprintf(w, `{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"you sent %s; invalid credential %s; url %s"}}`,
			auth, strings.TrimPrefix(auth, "Bearer "), r.URL.String())
	}))
	t.Cleanup(srv.Close)
	return strings.Replace(srv.URL, "http://", "http://admin:"+password+"@", 1) + "/"
}
