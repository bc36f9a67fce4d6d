package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"provision/internal/chatemu"
	"provision/internal/results"
)

var chaosLong = flag.Bool("chaos.long", false, "TestChaos: about 50 kills over more spaces (make chaos)")

// binaries are the provision and chatemu commands, built once per test
// binary into binDir (removed by TestMain).
var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func buildBinaries(t *testing.T) (provision, emulator string) {
	t.Helper()
	buildOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go command is needed to build the binaries: %w", err)
			return
		}
		if binDir, err = os.MkdirTemp("", "provision-chaos-"); err != nil {
			buildErr = err
			return
		}
		for _, b := range [][2]string{{"provision", "."}, {"chatemu", "provision/cmd/chatemu"}} {
			out, err := exec.Command(gobin, "build", "-o", filepath.Join(binDir, b[0]), b[1]).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %s: %w\n%s", b[1], err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "provision"), filepath.Join(binDir, "chatemu")
}

// startEmulator runs chatemu with args and returns its base URL (the first
// line it prints), ending with "/".
func startEmulator(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("chatemu %s: reading its address: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	url := strings.TrimSpace(line)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("chatemu printed %q, want its http://127.0.0.1:PORT/ address", line)
	}
	if !strings.HasSuffix(url, "/") {
		url += "/"
	}
	return url
}

// getJSON GETs url into v, retrying the injected 503s.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	var last string
	for range 50 {
		resp, err := http.Get(url)
		if err != nil {
			last = err.Error()
			continue
		}
		body := new(bytes.Buffer)
		_, err = body.ReadFrom(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(body.Bytes(), v); err != nil {
				t.Fatalf("GET %s: %v", url, err)
			}
			return
		}
		last = fmt.Sprintf("%d %s", resp.StatusCode, body)
	}
	t.Fatalf("GET %s: %s", url, last)
}

// chaosMembers gives every third space a few members and a manager, and
// every 40th more members than spaces.setup takes (so members.create
// follows) and two managers.
func chaosMembers(i int) (members, managers []string) {
	switch {
	case i%40 == 0:
		ms, _ := teamMembers(i, 60)
		return ms, []string{ms[0], ms[55]}
	case i%3 == 0:
		return teamMembers(i, 3)
	}
	return nil, nil
}

// TestChaos kills provision with SIGKILL at random moments while the
// emulator fails and loses answers at random, then lets it finish: the
// results file is readable after every kill, and in the end every space
// exists once, is recorded with the server's name, and has its members
// exactly once.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries; skipped with -short")
	}
	t.Parallel()
	n, kills := 120, 5
	if *chaosLong {
		n, kills = 1000, 50
	}
	provisionBin, emuBin := buildBinaries(t)
	seed := rand.Uint64()%1_000_000 + 1
	t.Logf("chaos: %d spaces, up to %d kills, emulator and kill seed %d", n, kills, seed)
	url := startEmulator(t, emuBin, "--fail-rate", "0.1", "--drop-rate", "0.1",
		"--space-quota", "0", "--member-quota", "0", "--read-quota", "0",
		"--latency", "5ms", "--seed", fmt.Sprint(seed))
	rng := rand.New(rand.NewPCG(seed, seed))

	dir := t.TempDir()
	cfg := writeConfig(t, dir, n, chaosMembers)
	// Each space is greeted: exactly once, whatever is killed or lost.
	withWelcome(t, cfg, "Welcome, team!")
	res := filepath.Join(dir, "spaces.results.json")
	const concurrency = 4
	args := []string{"--auth", "none", "--endpoint", url, "--rate", "0", "--member-rate", "0",
		"--concurrency", fmt.Sprint(concurrency), "--max-attempts", "20", cfg}

	// recorded holds every space ever recorded as created: its name must
	// never change, whatever happens later.
	recorded := make(map[string]string)
	killed := 0
	for range kills {
		var out bytes.Buffer
		cmd := exec.Command(provisionBin, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		delay := 50*time.Millisecond + time.Duration(rng.Int64N(int64(350*time.Millisecond)))
		var err error
		done := false
		select {
		case <-time.After(delay):
			_ = cmd.Process.Kill() // SIGKILL: no deferred code, no signal handler
			err = <-exited
			killed++
		case err = <-exited:
			done = true
		}
		f, lerr := results.Load(res)
		if lerr != nil {
			t.Fatalf("after kill %d: results.Load = %v", killed, lerr)
		}
		for k, en := range f.Spaces {
			if en.Status != results.Created {
				continue
			}
			if prev, ok := recorded[k]; ok && prev != en.Name {
				t.Errorf("after kill %d: %q recorded as %s, earlier as %s", killed, k, en.Name, prev)
			}
			recorded[k] = en.Name
		}
		if done {
			if err != nil {
				t.Fatalf("run ended on its own with %v:\n%s", err, out.String())
			}
			break
		}
	}
	t.Logf("chaos: killed provision %d times; %d spaces recorded as created before the last run", killed, len(recorded))

	// The last run, left alone, finishes the job.
	start := time.Now()
	out, err := exec.Command(provisionBin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	var summary []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Done in") || strings.HasPrefix(l, "Members:") || strings.HasPrefix(l, "API:") {
			summary = append(summary, l)
		}
	}
	t.Logf("chaos: the final run took %v:\n%s", time.Since(start).Round(time.Millisecond), strings.Join(summary, "\n"))
	checkChaos(t, url, res, n, recorded, killed*concurrency)
}

// withWelcome gives every space of the config at path a welcome message.
func withWelcome(t *testing.T, path, text string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data = append([]byte(fmt.Sprintf("defaults:\n  welcome: %q\n", text)), data...)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// emuStats is the part of GET /_emulator/stats the chaos test reads.
type emuStats struct {
	Spaces        int            `json:"spaces"`
	SpacesCreated int            `json:"spacesCreated"`
	Duplicates    int            `json:"duplicates"`
	Messages      int            `json:"messagesCreated"`
	Replays       int            `json:"replays"`
	LostResponses int            `json:"lostResponses"`
	Unavailable   int            `json:"unavailable"`
	MemberAdds    map[string]int `json:"memberAdds"`
}

func checkChaos(t *testing.T, url, res string, n int, recorded map[string]string, cut int) {
	t.Helper()
	var st emuStats
	getJSON(t, url+"_emulator/stats", &st)
	t.Logf("chaos: emulator %d spaces, %d replays, %d lost responses, %d injected 503s",
		st.SpacesCreated, st.Replays, st.LostResponses, st.Unavailable)
	if st.Messages != n {
		t.Errorf("emulator: %d welcome messages posted, want one in each of the %d spaces", st.Messages, n)
	}
	if st.Spaces != n || st.SpacesCreated != n || st.Duplicates != 0 {
		t.Errorf("emulator: %d spaces, %d created, %d duplicates; want %d, %d, 0", st.Spaces, st.SpacesCreated, st.Duplicates, n, n)
	}

	// The server's spaces by display name.
	server := make(map[string]string)
	token := ""
	for {
		var page struct {
			Spaces []struct {
				Name, DisplayName string
			}
			NextPageToken string
		}
		getJSON(t, url+"v1/spaces?pageSize=1000&pageToken="+token, &page)
		for _, sp := range page.Spaces {
			if prev, ok := server[sp.DisplayName]; ok {
				t.Errorf("the server has %q twice: %s and %s", sp.DisplayName, prev, sp.Name)
			}
			server[sp.DisplayName] = sp.Name
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}

	f := resultsOf(t, res)
	memberships := make(map[string]int) // space name → memberships added
	extra := 0
	for m, adds := range st.MemberAdds {
		sp, _, _ := strings.Cut(m, "/members/")
		memberships[sp]++
		extra += adds - 1
	}
	maxMembers := 0
	for i := 1; i <= n; i++ {
		key := fmt.Sprintf("Team %d", i)
		en, name := f.Spaces[key], server[key]
		if name == "" {
			t.Errorf("the server has no space %q", key)
			continue
		}
		if en == nil || en.Status != results.Created || en.Name != name {
			t.Errorf("results[%q] = %+v, want created as %s", key, en, name)
			continue
		}
		if prev, ok := recorded[key]; ok && prev != name {
			t.Errorf("%q was recorded as %s after a kill, but is %s", key, prev, name)
		}
		members, managers := chaosMembers(i)
		maxMembers = max(maxMembers, len(members))
		if got := memberships[name]; got != len(members) {
			t.Errorf("%q (%s) has %d members added on the server, want %d", key, name, got, len(members))
		}
		var applied []string
		if en.Applied != nil {
			applied = en.Applied.Members
		}
		if len(applied) != len(members) || (en.Members != nil && (en.Members.Failed != 0 || len(en.Members.Pending) != 0)) {
			t.Errorf("results[%q]: applied %d members (stats %+v), want %d, none failed or pending", key, len(applied), en.Members, len(members))
		}
		if len(managers) > 0 && (en.Applied == nil || len(en.Applied.Managers) != len(managers)) {
			t.Errorf("results[%q].applied = %+v, want %d managers", key, en.Applied, len(managers))
		}
	}
	// A membership exists at most once by construction of the emulator, but
	// asking again for one already made (a 409) is counted. A run does not
	// repeat a members.create that was answered, and the emulator never loses
	// those answers, so repeats come only from calls a kill cut off before
	// their outcome was recorded: at most the calls of the spaces in flight.
	t.Logf("chaos: %d memberships, %d repeated add requests", len(st.MemberAdds), extra)
	if limit := cut * maxMembers; extra > limit {
		t.Errorf("%d repeated member add requests, more than the %d the kills can explain", extra, limit)
	}
}

// TestSignal sends the real binary SIGINT, as a person pressing Ctrl-C
// would: it stops starting calls, records what finished and exits 130; a
// second SIGINT quits at once, still 130. The next run completes the job.
func TestSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries; skipped with -short")
	}
	t.Parallel()
	provisionBin, _ := buildBinaries(t)
	for _, signals := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d signals", signals), func(t *testing.T) {
			t.Parallel()
			const n = 100
			emu, url := newEmu(t, chatemu.WithLatency(30*time.Millisecond))
			dir := t.TempDir()
			cfg := writeConfig(t, dir, n, nil)
			res := filepath.Join(dir, "spaces.results.json")
			args := []string{"--auth", "none", "--endpoint", url, "--rate", "0", "--concurrency", "2", cfg}

			var stdout, stderr bytes.Buffer
			cmd := exec.Command(provisionBin, args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				if f, err := results.Load(res); err == nil && countStatus(f, results.Created) >= 4 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("no space recorded after 20s")
				}
			}
			for range signals {
				// The first signal may have ended the run before the second.
				if err := cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
					t.Fatal(err)
				}
				time.Sleep(5 * time.Millisecond)
			}
			err := <-exited
			if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
				t.Fatalf("provision after %d SIGINT = %v (exit %d), want exit %d\nstderr:\n%s", signals, err, code, exitInterrupted, stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr = %q, want it to say interrupted", stderr.String())
			}
			// Whatever the server made is recorded, even after a second
			// signal: the journal holds every call that finished.
			f := resultsOf(t, res)
			made := emu.Spaces()
			if len(made) >= n {
				t.Fatalf("all %d spaces made before the interrupt took effect", n)
			}
			for _, sp := range made {
				if en := f.Spaces[sp.DisplayName]; en == nil || en.RequestID == "" || (signals == 1 && (en.Status != results.Created || en.Name != sp.Name)) {
					t.Errorf("results[%q] = %+v, want it recorded (created as %s)", sp.DisplayName, en, sp.Name)
				}
			}

			out := invocation{}.run(context.Background(), t, args...)
			if out.code != exitOK {
				t.Fatalf("resumed run = exit %d, want 0; stderr:\n%s", out.code, out.stderr)
			}
			checkAllCreated(t, emu, res, n)
		})
	}
}
