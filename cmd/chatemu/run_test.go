package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	chat "google.golang.org/api/chat/v1"
	"google.golang.org/api/googleapi"
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
		{[]string{"--create-quota", "-1"}, 2},
		{[]string{"--long-window", "0s"}, 2},
		{[]string{"--caller", "me@example.com"}, 2},
		{[]string{"--user-token", "t"}, 2},
		{[]string{"--user-token", "t=me@example.com"}, 2},
		{[]string{"--foreign-space", "X"}, 2},
		{[]string{"--foreign-space", "X=admin"}, 2},
		{[]string{"--foreign-space", "X=none", "--foreign-space", "x=member"}, 2},
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
		{nil, options{addr: "127.0.0.1:0", spaceQuota: 60, memberQuota: 300, readQuota: 3000, messageQuota: 3000, spaceWriteRate: 1,
			window: time.Minute, longWindow: time.Hour, caller: "users/caller@example.com"}},
		{[]string{"--addr", "127.0.0.1:8085", "--space-quota", "0", "--member-quota", "10", "--read-quota", "5", "--window", "10s",
			"--latency", "20ms", "--fail-rate", "0.1", "--drop-rate", "0.2", "--token", "t", "--seed", "9", "-v",
			"--message-quota", "7", "--space-write-rate", "0", "--create-quota", "3", "--create-hourly-quota", "30", "--long-window", "1m",
			"--retry-after", "--caller", "users/me@example.com", "--user-token", "ta=users/a@example.com", "--user-token", "tb=users/b@example.com",
			"--admin", "a@example.com", "--foreign-space", "Theirs=none", "--foreign-space", "A=B=owner", "--foreign-space", "Mine too=manager"},
			options{addr: "127.0.0.1:8085", spaceQuota: 0, memberQuota: 10, readQuota: 5, window: 10 * time.Second,
				latency: 20 * time.Millisecond, failRate: 0.1, dropRate: 0.2, token: "t", seed: 9, verbose: true,
				messageQuota: 7, spaceWriteRate: 0, createQuota: 3, createHourlyQuota: 30, longWindow: time.Minute, retryAfter: true,
				caller: "users/me@example.com", tokens: map[string]string{"ta": "users/a@example.com", "tb": "users/b@example.com"},
				admins:  []string{"a@example.com"},
				foreign: []foreignSpace{{"Theirs", ""}, {"A=B", "ROLE_MANAGER"}, {"Mine too", "ROLE_ASSISTANT_MANAGER"}}}},
	}
	for _, tt := range tests {
		got, err := parseArgs(tt.args, io.Discard)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseArgs(%q) = %+v, %v; want %+v", tt.args, got, err, tt.want)
		}
	}
}

// TestRunLimitsAndCallers starts the command with a creation limit, tokens
// and a foreign space, and checks what clients see.
func TestRunLimitsAndCallers(t *testing.T) {
	t.Parallel()
	url, _, _ := startRun(t, "--create-quota", "2", "--user-token", "ta=users/a@example.com", "--user-token", "tb=users/b@example.com",
		"--caller", "users/a@example.com", "--foreign-space", "Theirs=none", "--foreign-space", "Shared=manager")
	svc := func(tok string) *chat.Service {
		s, err := chat.NewService(context.Background(), option.WithEndpoint(url), option.WithHTTPClient(&http.Client{Transport: bearer(tok)}))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := svc("ta"), svc("tb")
	list, err := a.Spaces.List().Do()
	if err != nil || len(list.Spaces) != 1 || list.Spaces[0].DisplayName != "Shared" {
		t.Fatalf("a's List = %v, %v; want the space seeded with a as manager", list, err)
	}
	me, err := a.Spaces.Members.Get(list.Spaces[0].Name + "/members/a@example.com").Do()
	if err != nil || me.Role != "ROLE_ASSISTANT_MANAGER" {
		t.Errorf("a's membership = %v, %v; want ROLE_ASSISTANT_MANAGER", me, err)
	}
	_, err = a.Spaces.Create(&chat.Space{DisplayName: "theirs", SpaceType: "SPACE"}).Do()
	if err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("create of a foreign space's name: %v, want 409", err)
	}
	if _, err := b.Spaces.Create(&chat.Space{DisplayName: "B1", SpaceType: "SPACE"}).Do(); err != nil {
		t.Fatal(err)
	}
	_, err = b.Spaces.Create(&chat.Space{DisplayName: "B2", SpaceType: "SPACE"}).Do()
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != 429 || ge.Header.Get("Retry-After") != "" || !strings.Contains(ge.Body, "space_creation_requests") {
		t.Errorf("third create over --create-quota 2 (the 409 was charged too): %v, want 429 without Retry-After", err)
	}
	if _, err := svc("tc").Spaces.List().Do(); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("List with an unknown token: %v, want 401", err)
	}
}
