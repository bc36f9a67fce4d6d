package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"provision/internal/chatemu"
)

// jsonRecords decodes stderr of --log-format json: every line one object
// with a severity, a message and a time, or the test fails.
func jsonRecords(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	if strings.ContainsAny(stderr, "\x1b\r") {
		t.Fatalf("stderr holds an escape sequence or a carriage return: %q", stderr)
	}
	var out []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("stderr line %d is not a JSON object: %v\n%s", i+1, err, line)
		}
		if v["severity"] == nil || v["message"] == nil || v["time"] == nil {
			t.Fatalf("stderr line %d lacks severity, message or time: %s", i+1, line)
		}
		out = append(out, v)
	}
	return out
}

// TestJSONLogsOnTerminal: with a terminal, json mode draws no progress bar:
// progress is a line every tick, an INFO object with how far the run is.
func TestJSONLogsOnTerminal(t *testing.T) {
	t.Parallel()
	_, url := newEmu(t, chatemu.WithLatency(15*time.Millisecond))
	dir := t.TempDir()
	config := writeConfig(t, dir, 6, nil)
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" },
		terminal: true, backoff: fastBackoff, throttle: quickThrottle, tick: 10 * time.Millisecond}
	if code := e.run(t.Context(), []string{"--log-format", "json", "--auth", "none", "--endpoint", url, "--rate", "0", "--concurrency", "1", config}); code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	progress := 0
	for _, r := range jsonRecords(t, stderr.String()) {
		msg, _ := r["message"].(string)
		if strings.HasPrefix(msg, "progress: ") {
			progress++
			if r["severity"] != "INFO" || r["total"] != float64(6) || r["done"] == nil {
				t.Errorf("progress record %v, want INFO with done and total 6", r)
			}
		}
	}
	if progress == 0 {
		t.Errorf("no progress line in json mode on a terminal:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), "Done in ") {
		t.Errorf("stdout = %q, want the summary as in text mode", stdout.String())
	}
}

// TestJSONLogsNoSecret: in json mode as in text, a server that echoes the
// token and the endpoint's password has neither printed on stderr, with
// -v, in any field.
func TestJSONLogsNoSecret(t *testing.T) {
	t.Parallel()
	const tok = "tok-SECRET-4815162342"
	endpoint := secretEchoServer(t, "PaSsWoRd-77")
	dir := t.TempDir()
	config := writeConfig(t, dir, 2, nil)
	out := invocation{vars: map[string]string{"GOOGLE_OAUTH_ACCESS_TOKEN": tok}}.run(t.Context(), t,
		"--log-format", "json", "--auth", "token", "--endpoint", endpoint, "--rate", "0", "-v", config)
	if out.code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s", out.code, exitFailed, out.stderr)
	}
	records := jsonRecords(t, out.stderr)
	failed := 0
	for _, r := range records {
		if msg, _ := r["message"].(string); strings.HasPrefix(msg, "failed: ") && r["severity"] == "ERROR" {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("%d failure records, want 2:\n%s", failed, out.stderr)
	}
	for _, secret := range []string{tok, "PaSsWoRd-77"} {
		if strings.Contains(out.stderr, secret) || strings.Contains(out.stdout, secret) {
			t.Errorf("a secret %q is shown:\n%s\n%s", secret, out.stdout, out.stderr)
		}
	}
	if !strings.Contains(out.stderr, "[redacted]") {
		t.Errorf("stderr does not show where the echoed token was taken out:\n%s", out.stderr)
	}
}

// TestJSONLogsMultiLineServerMessage: a server's error message of several
// lines, which stops an import or a refresh, is said with each of its
// lines under "provision: ", as a run names each line of a failure with
// its space: no line of it reads as a record of its own kind (a failure
// of another space, a progress line).
func TestJSONLogsMultiLineServerMessage(t *testing.T) {
	t.Parallel()
	for _, code := range []int{400, 401} {
		status := map[int]string{400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED"}[code]
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"error":{"code":%d,"status":%q,"message":"bad request\nfailed: \"Payroll\": deleted\nprogress: 9/9 spaces"}}`, code, status)
		}))
		t.Cleanup(srv.Close)
		file := t.TempDir() + "/imported.yaml"
		for _, format := range []string{"json", "text"} {
			out := provision(t, "import", "--log-format", format, "--auth", "none", "--endpoint", srv.URL, "--caller", "caller@example.com", file)
			if out.code == exitOK {
				t.Fatalf("%d, %s: exit 0\n%s", code, format, out.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(out.stderr, "\n"), "\n")
			if format == "json" {
				lines = lines[:0]
				for _, r := range jsonRecords(t, out.stderr) {
					if r["space"] != nil || r["done"] != nil {
						t.Errorf("%d: a line of the server's message reads as a record of its own: %v", code, r)
					}
					msg, _ := r["message"].(string)
					lines = append(lines, msg)
				}
			}
			for _, l := range lines {
				if strings.HasPrefix(l, "failed: ") || strings.HasPrefix(l, "progress: ") {
					t.Errorf("%d, %s: stderr line %q is a line of the server's message, said as provision's own", code, format, l)
				}
			}
		}
	}
}

// TestLineRecord: the severity and fields of stderr's plain lines in json
// mode.
func TestLineRecord(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line  string
		sev   string
		attrs string
		ok    bool
	}{
		{`failed: "Team 1": ALREADY_EXISTS: taken`, "ERROR", `space=Team 1`, true},
		{`warning: your own role in "T" is kept (owner); the config lists you as manager`, "WARNING", `space=T`, true},
		{`progress: 3/10 spaces (30%), 2.0/min, elapsed 5s, ETA 10s; waiting for the server's quota (space writes), resuming in 4m10s, at about 17:42 UTC`, "INFO", `done=3 total=10 wait=4m10s`, true},
		{`refresh: 2/9 recorded spaces read`, "INFO", `done=2 total=9`, true},
		{`provision: interrupted; everything that finished is recorded, run again to resume`, "WARNING", ``, true},
		{`provision: results lock lost: …`, "ERROR", ``, true},
		{`spaces.yaml:3:5: unknown key "x"`, "ERROR", ``, true},
		{`hint: pass --caller`, "INFO", ``, true},
		{`Open Google Chat API → Configuration`, "INFO", ``, false},
	} {
		level, attrs, ok := lineRecord(tc.line)
		var got []string
		for _, a := range attrs {
			got = append(got, a.String())
		}
		if severity(level) != tc.sev || strings.Join(got, " ") != tc.attrs || ok != tc.ok {
			t.Errorf("lineRecord(%q) = %s %q %v, want %s %q %v", tc.line, severity(level), got, ok, tc.sev, tc.attrs, tc.ok)
		}
	}
}
