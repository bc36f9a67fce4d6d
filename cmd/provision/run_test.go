package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	chat "google.golang.org/api/chat/v1"

	"provision/internal/chatemu"
	"provision/internal/results"
)

// calls sums the emulator's answers with status code to methods whose name
// ends in suffix ("spaces.create", "members.create").
func calls(st chatemu.Stats, suffix string, code int) int {
	n := 0
	for m, byCode := range st.Calls {
		if strings.HasSuffix(m, suffix) {
			n += byCode[code]
		}
	}
	return n
}

// TestLock: a second run on a results file in use exits 2 naming the lock,
// before any call.
func TestLock(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, 3, nil)
	res := filepath.Join(dir, "spaces.results.json")
	store, err := results.Open(res)
	if err != nil {
		t.Fatalf("results.Open(%q) = %v", res, err)
	}
	defer store.Close()

	out := provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", cfg)
	if out.code != exitUsage {
		t.Errorf("provision with the results file locked = exit %d, want %d; stderr:\n%s", out.code, exitUsage, out.stderr)
	}
	for _, want := range []string{res + ".lock", fmt.Sprintf("pid %d", os.Getpid())} {
		if !strings.Contains(out.stderr, want) {
			t.Errorf("stderr = %q, want it to name %q", out.stderr, want)
		}
	}
	if st := emu.Stats(); st.SpacesCreated != 0 || len(st.Calls) != 0 {
		t.Errorf("emulator saw %v, want no call", st.Calls)
	}
}

// TestSIGINT: an interrupted run exits 130 with everything that finished
// recorded; the next run completes the rest without a duplicate.
func TestSIGINT(t *testing.T) {
	t.Parallel()
	const n = 200
	emu, url := newEmu(t, chatemu.WithLatency(20*time.Millisecond))
	dir := t.TempDir()
	cfg := writeConfig(t, dir, n, nil)
	res := filepath.Join(dir, "spaces.results.json")
	args := []string{"--auth", "none", "--endpoint", url, "--rate", "0", "--concurrency", "4", cfg}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan outcome, 1)
	go func() { done <- invocation{}.run(ctx, t, args...) }()

	// Interrupt once the results show some progress.
	var out outcome
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	giveUp := time.After(20 * time.Second)
wait:
	for {
		select {
		case out = <-done:
			t.Fatalf("the run ended before it was interrupted: exit %d\n%s", out.code, out.stderr)
		case <-giveUp:
			t.Fatal("no space recorded after 20s")
		case <-tick.C:
			if f, err := results.Load(res); err == nil && countStatus(f, results.Created) >= 8 {
				cancel()
				break wait
			}
		}
	}
	out = <-done
	if out.code != exitInterrupted {
		t.Errorf("interrupted run = exit %d, want %d; stderr:\n%s", out.code, exitInterrupted, out.stderr)
	}
	if !strings.Contains(out.stderr, "interrupted") {
		t.Errorf("stderr = %q, want it to say the run was interrupted", out.stderr)
	}
	if !regexp.MustCompile(`(?m)^Done in \S+: \d+ created, .* [1-9]\d* interrupted\.$`).MatchString(out.stdout) {
		t.Errorf("stdout = %q, want a summary with interrupted spaces", out.stdout)
	}

	// Every space the server made is in the results, as created.
	f := resultsOf(t, res)
	made := emu.Spaces()
	if len(made) == 0 || len(made) >= n {
		t.Fatalf("the server has %d spaces after the interrupt, want some but not all %d", len(made), n)
	}
	for _, sp := range made {
		en := f.Spaces[sp.DisplayName]
		if en == nil || en.Status != results.Created || en.Name != sp.Name {
			t.Errorf("results[%q] = %+v, want created as %s", sp.DisplayName, en, sp.Name)
		}
	}

	// The next run does the rest.
	out = invocation{}.run(context.Background(), t, args...)
	if out.code != exitOK {
		t.Fatalf("resumed run = exit %d, want 0; stderr:\n%s", out.code, out.stderr)
	}
	checkAllCreated(t, emu, res, n)
}

// checkAllCreated checks that the server has exactly the n spaces "Team 1"
// … "Team n", each created once, and that the results record each one as
// created with the server's name.
func checkAllCreated(t *testing.T, emu *chatemu.Server, res string, n int) {
	t.Helper()
	st := emu.Stats()
	if st.Spaces != n || st.SpacesCreated != n || st.Duplicates != 0 {
		t.Errorf("emulator: %d spaces, %d created, %d duplicates; want %d, %d, 0", st.Spaces, st.SpacesCreated, st.Duplicates, n, n)
	}
	byName := make(map[string]*chat.Space)
	for _, sp := range emu.Spaces() {
		byName[sp.DisplayName] = sp
	}
	f := resultsOf(t, res)
	for i := 1; i <= n; i++ {
		key := fmt.Sprintf("Team %d", i)
		sp, en := byName[key], f.Spaces[key]
		switch {
		case sp == nil:
			t.Errorf("the server has no space %q", key)
		case en == nil || en.Status != results.Created || en.Name != sp.Name:
			t.Errorf("results[%q] = %+v, want created as %s", key, en, sp.Name)
		}
	}
}

// TestFailedSpace: a name taken by a space that already exists fails that
// space only (nothing is adopted without adopt); the run exits 1 and says
// which and why.
func TestFailedSpace(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t)
	if _, err := emu.AddHiddenSpace("Team 3"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := writeConfig(t, dir, 5, nil)
	out := provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", cfg)
	if out.code != exitFailed {
		t.Errorf("provision = exit %d, want %d; stderr:\n%s", out.code, exitFailed, out.stderr)
	}
	if !regexp.MustCompile(`(?m)^failed: "Team 3": ALREADY_EXISTS: a space named "Team 3" already exists .*set adopt: true`).MatchString(out.stderr) {
		t.Errorf("stderr = %q, want a line failed: \"Team 3\": ALREADY_EXISTS … set adopt: true …", out.stderr)
	}
	if strings.Count(out.stderr, "failed: ") != 1 {
		t.Errorf("stderr = %q, want exactly one failure", out.stderr)
	}
	if !strings.Contains(out.stdout, ": 4 created, 0 existing, 0 updated, 1 failed,") {
		t.Errorf("stdout = %q, want 4 created and 1 failed", out.stdout)
	}
	f := resultsOf(t, filepath.Join(dir, "spaces.results.json"))
	if en := f.Spaces["Team 3"]; en == nil || en.Status != results.Failed || en.Error == "" || en.RequestID == "" {
		t.Errorf(`results["Team 3"] = %+v, want failed with an error and a requestId`, en)
	}
	if got := countStatus(f, results.Created); got != 4 {
		t.Errorf("results: %d created, want 4", got)
	}
}

// TestProgressLog: when stderr is not a terminal, progress is a plain line
// at each tick, without carriage returns or escape sequences.
func TestProgressLog(t *testing.T) {
	t.Parallel()
	_, url := newEmu(t, chatemu.WithLatency(20*time.Millisecond))
	dir := t.TempDir()
	cfg := writeConfig(t, dir, 40, nil)
	out := invocation{tick: 50 * time.Millisecond}.run(context.Background(), t,
		"--auth", "none", "--endpoint", url, "--rate", "0", "--concurrency", "2", cfg)
	if out.code != exitOK {
		t.Fatalf("provision = exit %d, want 0; stderr:\n%s", out.code, out.stderr)
	}
	if !regexp.MustCompile(`(?m)^progress: \d+/40 spaces \(\d+%\), [0-9.]+/min, elapsed \S+, ETA \S+$`).MatchString(out.stderr) {
		t.Errorf("stderr = %q, want progress: N/40 spaces lines", out.stderr)
	}
	if strings.ContainsAny(out.stderr, "\r\x1b") {
		t.Errorf("stderr = %q, want no carriage return or escape sequence", out.stderr)
	}
	if strings.Contains(out.stdout, "progress") {
		t.Errorf("stdout = %q, want progress on stderr only", out.stdout)
	}
}

// TestAuthToken: --auth token sends the token from the environment; with -v
// the token still appears nowhere; a refused token stops the run with
// advice.
func TestAuthToken(t *testing.T) {
	t.Parallel()
	const token = "ya29.test-token-7f3e9a1c5b"
	members := func(i int) ([]string, []string) { return teamMembers(i, 3) }
	for _, tc := range []struct {
		name    string
		sent    string
		verbose bool
		code    int
	}{
		{"accepted", token, false, exitOK},
		{"accepted -v", token, true, exitOK},
		{"refused", "ya29.expired-token-0000", false, exitUsage},
		{"refused -v", "ya29.expired-token-0000", true, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu, url := newEmu(t, chatemu.WithToken(token))
			dir := t.TempDir()
			const n = 12 // more spaces than workers, so that a stop shows
			cfg := writeConfig(t, dir, n, members)
			args := []string{"--auth", "token", "--endpoint", url, "--rate", "0", cfg}
			if tc.verbose {
				args = append([]string{"-v"}, args...)
			}
			out := invocation{vars: map[string]string{"GOOGLE_OAUTH_ACCESS_TOKEN": tc.sent}}.run(context.Background(), t, args...)
			if out.code != tc.code {
				t.Fatalf("provision = exit %d, want %d; stderr:\n%s", out.code, tc.code, out.stderr)
			}
			st := emu.Stats()
			if tc.code == exitOK {
				if st.SpacesCreated != n || st.Unauthenticated != 0 {
					t.Errorf("emulator: %d spaces created, %d refused; want %d, 0", st.SpacesCreated, st.Unauthenticated, n)
				}
			} else {
				if st.SpacesCreated != 0 || st.Unauthenticated == 0 {
					t.Errorf("emulator: %d spaces created, %d refused; want 0, some", st.SpacesCreated, st.Unauthenticated)
				}
				// One refusal stops the run: at most the calls already in
				// flight (one per worker) reach the server.
				if st.Unauthenticated > 4 {
					t.Errorf("emulator refused %d calls, want the run to stop after the first", st.Unauthenticated)
				}
				for _, want := range []string{"provision: stopped:", "HTTP 401", "GOOGLE_OAUTH_ACCESS_TOKEN was refused: it may have expired"} {
					if !strings.Contains(out.stderr, want) {
						t.Errorf("stderr = %q, want it to say %q", out.stderr, want)
					}
				}
			}
			if tc.verbose && !strings.Contains(out.stderr, "level=DEBUG") {
				t.Errorf("stderr with -v = %q, want debug logs", out.stderr)
			}
			// Neither token is written anywhere: not in the output, not in
			// any file beside the config.
			places := map[string]string{"stdout": out.stdout, "stderr": out.stderr}
			files, _ := filepath.Glob(filepath.Join(dir, "*"))
			for _, p := range files {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				places[filepath.Base(p)] = string(b)
			}
			if _, ok := places["spaces.results.json"]; !ok && tc.code == exitOK {
				t.Errorf("no results file in %v", files)
			}
			for where, text := range places {
				for _, secret := range []string{tc.sent, strings.TrimPrefix(tc.sent, "ya29.")} {
					if strings.Contains(text, secret) {
						t.Errorf("%s contains the token %q:\n%s", where, secret, text)
					}
				}
			}
		})
	}
}

// keyPEM is an RSA key for the service-account key files, generated once
// (generation is slow under -race).
var keyPEM = sync.OnceValue(func() string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
})

// tokenServer stands in for Google's token endpoint: it answers the
// jwt-bearer grant with token, and records the scopes asked for.
type tokenServer struct {
	*httptest.Server
	mu     sync.Mutex
	scopes []string
}

func newTokenServer(t *testing.T, token string) *tokenServer {
	t.Helper()
	ts := &tokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/token" || r.ParseForm() != nil ||
			r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		// The assertion is header.claims.signature; the claims name the scopes.
		var claims struct{ Scope string }
		if parts := strings.Split(r.PostForm.Get("assertion"), "."); len(parts) == 3 {
			if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
				_ = json.Unmarshal(b, &claims)
			}
		}
		ts.mu.Lock()
		ts.scopes = strings.Fields(claims.Scope)
		ts.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, token)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// keyFile writes a service-account key whose token_uri is ts's.
func (ts *tokenServer) keyFile(t *testing.T, dir string) string {
	t.Helper()
	key, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "test-project", "private_key_id": "kid-1",
		"private_key": keyPEM(), "client_email": "chat-app@test-project.iam.gserviceaccount.com",
		"client_id": "104729000000000000001", "token_uri": ts.URL + "/token",
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "key.json")
	if err := os.WriteFile(path, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAuthApp: under --auth app, spaces are made with spaces.create and the
// customer, and every member is added with members.create; groups are
// refused before any call.
func TestAuthApp(t *testing.T) {
	t.Parallel()
	const token = "app-access-token-42"
	emu, url := newEmu(t, chatemu.WithToken(token))
	tokens := newTokenServer(t, token)
	dir := t.TempDir()
	key := tokens.keyFile(t, dir)
	members := map[int][]string{}
	cfg := writeConfig(t, dir, 4, func(i int) ([]string, []string) {
		ms, mgrs := teamMembers(i, i-1) // Team 1 has none, Team 4 three
		members[i] = ms
		return ms, mgrs
	})

	out := provision(t, "--auth", "app", "--credentials", key, "--endpoint", url, "--rate", "0", cfg)
	if out.code != exitOK {
		t.Fatalf("provision --auth app = exit %d, want 0; stderr:\n%s", out.code, out.stderr)
	}
	if n := strings.Count(out.stdout, "! no person will own this space"); n != 4 {
		t.Errorf("plan warned %d times that no person will own a space, want 4 (no owners: under app auth):\n%s", n, out.stdout)
	}
	tokens.mu.Lock()
	scopes := tokens.scopes
	tokens.mu.Unlock()
	for _, want := range []string{"https://www.googleapis.com/auth/chat.app.spaces.create", "https://www.googleapis.com/auth/chat.app.memberships", "https://www.googleapis.com/auth/chat.bot"} {
		if !slices.Contains(scopes, want) {
			t.Errorf("scopes asked for = %q, want %q among them", scopes, want)
		}
	}
	st := emu.Stats()
	if got := calls(st, "spaces.create", 200); got != 4 {
		t.Errorf("spaces.create answered 200 %d times, want 4 (calls %v)", got, st.Calls)
	}
	if got := calls(st, "spaces.setup", 200) + calls(st, "spaces.setup", 400) + calls(st, "spaces.setup", 403); got != 0 {
		t.Errorf("spaces.setup called %d times under app auth, want 0", got)
	}
	if got := calls(st, "members.create", 200); got != 0+1+2+3 {
		t.Errorf("members.create answered 200 %d times, want 6 (calls %v)", got, st.Calls)
	}
	f := resultsOf(t, filepath.Join(dir, "spaces.results.json"))
	for i := 1; i <= 4; i++ {
		key := fmt.Sprintf("Team %d", i)
		en := f.Spaces[key]
		if en == nil || en.Status != results.Created {
			t.Errorf("results[%q] = %+v, want created", key, en)
			continue
		}
		sp, ok := emu.Space(en.Name)
		if !ok || sp.Customer != "customers/my_customer" {
			t.Errorf("space %q on the server = %+v, want customer customers/my_customer", key, sp)
		}
		// The emulator makes its caller a member of every space it
		// creates, whatever the credentials.
		caller := strings.TrimPrefix(chatemu.DefaultCaller, "users/")
		var got []string
		for _, m := range emu.Members(en.Name) {
			if m.Email == "" || m.Email == caller {
				continue
			}
			got = append(got, m.Email)
			if manager := m.Email == fmt.Sprintf("t%d-m0@example.com", i); manager != (m.Role == "ROLE_ASSISTANT_MANAGER") {
				t.Errorf("member %s of %q has role %s, want manager (ROLE_ASSISTANT_MANAGER): %v", m.Email, key, m.Role, manager)
			}
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(members[i]))
		if !slices.Equal(got, want) {
			t.Errorf("members of %q on the server = %q, want %q", key, got, want)
		}
	}

	// A group cannot be added by a Chat app: refused as a config problem.
	groups := filepath.Join(dir, "groups.yaml")
	if err := os.WriteFile(groups, []byte("spaces:\n  - displayName: \"With a group\"\n    members: [groups/0123abcd]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := emu.Stats()
	out = provision(t, "--auth", "app", "--credentials", key, "--endpoint", url, "--rate", "0", groups)
	if out.code != exitUsage {
		t.Errorf("provision --auth app with a group = exit %d, want %d; stderr:\n%s", out.code, exitUsage, out.stderr)
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(groups) + `:3:\d+: .*groups/0123abcd`).MatchString(out.stderr) {
		t.Errorf("stderr = %q, want FILE:3:COL naming the group", out.stderr)
	}
	if after := emu.Stats(); after.SpacesCreated != before.SpacesCreated {
		t.Errorf("emulator created %d spaces for a refused config", after.SpacesCreated-before.SpacesCreated)
	}
	if _, err := os.Stat(filepath.Join(dir, "groups.results.json")); err == nil {
		t.Errorf("groups.results.json written for a refused config")
	}
}
