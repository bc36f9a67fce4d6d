package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"provision/internal/chatemu"
	"provision/internal/results"
)

// journalHas says whether some journal record of the state in obj holds
// every one of the strings.
func journalHas(t *testing.T, obj results.Objects, want ...string) bool {
	t.Helper()
	ctx := context.Background()
	names, _ := obj.List(ctx, "prod/spaces.results.json.journal/")
	for _, n := range names {
		data, _, err := obj.Read(ctx, n)
		if err != nil {
			continue
		}
		all := true
		for _, w := range want {
			all = all && strings.Contains(string(data), w)
		}
		if all {
			return true
		}
	}
	return false
}

// takeOver overwrites the lock of the state in obj as another run that
// took it over would.
func takeOver(t *testing.T, obj results.Objects) string {
	t.Helper()
	ctx := context.Background()
	lock := "prod/spaces.results.json.lock"
	data, gen, err := obj.Read(ctx, lock)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(data), `"run":"`, `"run":"other-`, 1)
	if _, err := obj.Write(ctx, lock, []byte(other), gen); err != nil {
		t.Fatal(err)
	}
	return other
}

// A run whose lease is lost while a create waits for its turn (the
// requestId recorded and the lock read back as the run's, then the
// limiter's wait, a pause or a cut from Cloud Storage past the lease)
// never sends that create: another run holds the state now.
func TestGCSNoCreateAfterLeaseLost(t *testing.T) {
	t.Parallel()
	srv, host := gcsEmulator(t)
	obj := bucketObjects(t, srv)
	emu, chatURL := newEmu(t)
	in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": host}}
	done := make(chan outcome, 1)
	go func() {
		// 12 space writes a minute: the second create waits 5 s for its
		// turn, after its requestId is recorded.
		done <- in.run(context.Background(), t, "--auth", "none", "--endpoint", chatURL, "--rate", "12", "--concurrency", "1",
			"--lock-lease", "3s", "--results", gsResults, writeConfig(t, t.TempDir(), 2, nil))
	}()
	for deadline := time.Now().Add(20 * time.Second); !journalHas(t, obj, `"space":"Team 2"`, `"status":"pending"`); {
		if time.Now().After(deadline) {
			t.Fatal("the run recorded no requestId for Team 2 in 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The record is read back as the run's within milliseconds; then the
	// lock is taken over, long before the create's turn comes.
	time.Sleep(300 * time.Millisecond)
	takeOver(t, obj)
	out := <-done
	if out.code != 3 {
		t.Errorf("exit %d, want 3\n%s", out.code, out.stderr)
	}
	if got := emu.Stats().SpacesCreated; got != 1 {
		t.Errorf("%d spaces created, want 1: the create of Team 2 was sent after the lease was lost\n%s", got, out.stderr)
	}
	if n := emu.Stats().Calls["spaces.create"]; n[200]+n[0] != 1 {
		t.Errorf("spaces.create calls: %v, want one\n%s", n, out.stderr)
	}
}

// writeCalls counts the calls the emulator answered (or dropped) that
// change something in Chat.
func writeCalls(emu *chatemu.Server) int {
	n := 0
	for method, byCode := range emu.Stats().Calls {
		if writeMethods[method] {
			for _, c := range byCode {
				n += c
			}
		}
	}
	return n
}

// A run stopped (SIGSTOP) past its lease while a second run takes the
// lock over and finishes, then continued (SIGCONT): it sends nothing more
// to Chat, writes nothing more to the bucket, and exits 3.
func TestGCSPausedProcessWritesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries; skipped with -short")
	}
	t.Parallel()
	provisionBin, _ := buildBinaries(t)
	srv, host := gcsEmulator(t)
	obj := bucketObjects(t, srv)
	emu, chatURL := newEmu(t, chatemu.WithLatency(20*time.Millisecond))
	const n = 40
	members := func(i int) ([]string, []string) { return teamMembers(i, 3) }
	args := func(dir string) []string {
		return []string{"--auth", "none", "--endpoint", chatURL, "--rate", "0", "--member-rate", "0", "--concurrency", "2",
			"--lock-lease", "3s", "--results", gsResults, writeConfig(t, dir, n, members)}
	}
	env := append(os.Environ(), "STORAGE_EMULATOR_HOST="+host)
	cmd := exec.Command(provisionBin, args(t.TempDir())...)
	cmd.Env = env
	var first bytes.Buffer
	cmd.Stdout, cmd.Stderr = &first, &first
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if f, err := results.LoadRemote(context.Background(), obj, "prod/spaces.results.json"); err == nil && countStatus(f, results.Created) >= 5 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the first run recorded no 5 spaces in 20 s:\n%s", first.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Signal(syscall.SIGCONT)
	time.Sleep(3*time.Second + 500*time.Millisecond)

	out, err := runBin(provisionBin, env, args(t.TempDir()))
	if code := exitCode(err); code != 0 || !strings.Contains(out, "took over the lock") {
		t.Fatalf("the run after the lease ran out: exit %d, want 0 and a takeover\n%s", code, out)
	}
	ctx := context.Background()
	_, resGen, _ := obj.Read(ctx, "prod/spaces.results.json")
	lock, lockGen, _ := obj.Read(ctx, "prod/spaces.results.json.lock")
	writes := writeCalls(emu)

	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the continued run did not exit in 30 s:\n%s", first.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 3 {
		t.Errorf("the continued run: exit %d, want 3\n%s", code, first.String())
	}
	if got := writeCalls(emu); got != writes {
		t.Errorf("the continued run sent %d writes to Chat after it lost the lease\n%s", got-writes, first.String())
	}
	if _, g, _ := obj.Read(ctx, "prod/spaces.results.json"); g != resGen {
		t.Errorf("the results object was written after the second run ended (generation %d, then %d)", resGen, g)
	}
	if data, g, _ := obj.Read(ctx, "prod/spaces.results.json.lock"); g != lockGen {
		t.Errorf("the lock was written after the second run ended:\n%s\nthen\n%s", lock, data)
	}
	if names, _ := obj.List(ctx, "prod/spaces.results.json.journal/"); len(names) != 0 {
		t.Errorf("journal records left: %v", names)
	}
	if st := emu.Stats(); st.SpacesCreated != n || st.Duplicates != 0 {
		t.Errorf("emulator: %d created, %d duplicates; want %d, 0", st.SpacesCreated, st.Duplicates, n)
	}
	f := loadGS(t, obj)
	if countStatus(f, results.Created) != n {
		t.Errorf("results: %d created, want %d", countStatus(f, results.Created), n)
	}
}
