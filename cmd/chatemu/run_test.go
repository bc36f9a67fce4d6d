package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	chat "google.golang.org/api/chat/v1"
	"google.golang.org/api/option"

	"provision/internal/chatemu"
)

// lockedBuffer is a bytes.Buffer safe for the logger and the test at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// bearer adds a token to each request.
type bearer string

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

// startRun runs the command in a goroutine and returns its base URL, a stop
// function that returns the exit status, and its stderr.
func startRun(t *testing.T, args ...string) (string, func() int, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		code := run(ctx, args, pw, stderr)
		pw.Close()
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("run(%q): reading the first line: %v (stderr: %s)", args, err, stderr)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	stopped := false
	var code int
	stop := func() int {
		if !stopped {
			cancel()
			code, stopped = <-done, true
		}
		return code
	}
	t.Cleanup(func() { stop() })
	return strings.TrimSuffix(line, "\n"), stop, stderr
}

var urlLine = regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+/$`)

func TestRun(t *testing.T) {
	t.Parallel()
	const token = "emu-token-1"
	url, stop, stderr := startRun(t, "--addr", "127.0.0.1:0", "--token", token, "--seed", "3", "--space-quota", "2", "-v")
	if !urlLine.MatchString(url) {
		t.Fatalf("first line = %q, want http://127.0.0.1:PORT/", url)
	}
	svc, err := chat.NewService(context.Background(), option.WithEndpoint(url), option.WithHTTPClient(&http.Client{Transport: bearer(token)}))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{200, 200, 429} {
		_, err := svc.Spaces.Create(&chat.Space{DisplayName: string(rune('A' + i)), SpaceType: "SPACE"}).Do()
		if (err == nil) != (want == 200) || (err != nil && !strings.Contains(err.Error(), "429")) {
			t.Errorf("create %d: %v, want status %d", i, err, want)
		}
	}
	resp, err := http.Get(url + "_emulator/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st chatemu.Stats
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || st.SpacesCreated != 2 || st.Throttled != 1 {
		t.Errorf("stats = %+v, %v; want 2 spaces and 1 throttled", st, err)
	}
	if code := stop(); code != 0 {
		t.Errorf("run after cancel = %d, want 0", code)
	}
	logs := stderr.String()
	if !strings.Contains(logs, "chatemu listening") || !strings.Contains(logs, "spaces.create") {
		t.Errorf("stderr = %q, want the listening line and the calls (-v)", logs)
	}
	if strings.Contains(logs, token) {
		t.Errorf("stderr carries the token: %q", logs)
	}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"--help"}, 0},
		{[]string{"--nope"}, 2},
		{[]string{"extra"}, 2},
		{[]string{"--space-quota", "-1"}, 2},
		{[]string{"--fail-rate", "1.5"}, 2},
		{[]string{"--drop-rate", "-0.1"}, 2},
		{[]string{"--window", "0s"}, 2},
		{[]string{"--latency", "-1s"}, 2},
		{[]string{"--addr", "127.0.0.1:-5"}, 1},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if got := run(ctx, tt.args, &stdout, &stderr); got != tt.want {
				t.Errorf("run(%q) = %d, want %d (stderr: %s)", tt.args, got, tt.want, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("run(%q) wrote %q to stdout, want nothing", tt.args, stdout.String())
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want options
	}{
		{nil, options{addr: "127.0.0.1:0", spaceQuota: 60, memberQuota: 300, readQuota: 3000, window: time.Minute}},
		{[]string{"--addr", "127.0.0.1:8085", "--space-quota", "0", "--member-quota", "10", "--read-quota", "5", "--window", "10s",
			"--latency", "20ms", "--fail-rate", "0.1", "--drop-rate", "0.2", "--token", "t", "--seed", "9", "-v"},
			options{addr: "127.0.0.1:8085", spaceQuota: 0, memberQuota: 10, readQuota: 5, window: 10 * time.Second,
				latency: 20 * time.Millisecond, failRate: 0.1, dropRate: 0.2, token: "t", seed: 9, verbose: true}},
	}
	for _, tt := range tests {
		got, err := parseArgs(tt.args, io.Discard)
		if err != nil || got != tt.want {
			t.Errorf("parseArgs(%q) = %+v, %v; want %+v", tt.args, got, err, tt.want)
		}
	}
}
