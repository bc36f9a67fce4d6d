package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"

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
	cmd, first := startUntilCreated(t, provisionBin, env, args(t.TempDir()), obj, 5)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
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

// flakyStorage is a proxy in front of the storage emulator that answers
// 503 to some requests without passing them on, and to others after
// passing them on (the answer lost), as a loaded Cloud Storage or a
// network would. It returns the STORAGE_EMULATOR_HOST of the proxy.
func flakyStorage(t *testing.T, srv *fakestorage.Server, fail func(r *http.Request, n int64) (before, after bool)) string {
	t.Helper()
	target, _ := url.Parse(srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var count atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before, after := fail(r, count.Add(1))
		if before {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"code":503,"message":"Service Unavailable"}}`)
			return
		}
		if after {
			rec := httptest.NewRecorder()
			proxy.ServeHTTP(rec, r)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"code":503,"message":"Service Unavailable"}}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	u, _ := url.Parse(front.URL)
	return u.Host
}

// Cloud Storage answering 503 now and then, before or after carrying a
// call out: the run retries, recovers its own writes whose answer was
// lost, and ends as if nothing had happened.
func TestGCSStorageUnavailableAtTimes(t *testing.T) {
	t.Parallel()
	srv, _ := gcsEmulator(t)
	host := flakyStorage(t, srv, func(r *http.Request, n int64) (bool, bool) {
		return n%13 == 5, n%13 == 11
	})
	emu, chatURL := newEmu(t)
	in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": host}}
	const n = 8
	members := func(i int) ([]string, []string) { return teamMembers(i, 3) }
	out := in.run(context.Background(), t, "--auth", "none", "--endpoint", chatURL, "--rate", "0", "--member-rate", "0",
		"--concurrency", "3", "--results", gsResults, writeConfig(t, t.TempDir(), n, members))
	if out.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", out.code, out.stderr)
	}
	if st := emu.Stats(); st.SpacesCreated != n || st.Duplicates != 0 {
		t.Errorf("emulator: %d created, %d duplicates; want %d, 0", st.SpacesCreated, st.Duplicates, n)
	}
	obj := bucketObjects(t, srv)
	f := loadGS(t, obj)
	if countStatus(f, results.Created) != n {
		t.Errorf("results: %d created, want %d", countStatus(f, results.Created), n)
	}
	data, _, _ := obj.Read(context.Background(), "prod/spaces.results.json.lock")
	if !strings.Contains(string(data), `"released":true`) {
		t.Errorf("lock not released: %s", data)
	}
	out = in.run(context.Background(), t, "--auth", "none", "--endpoint", chatURL, "--rate", "0",
		"--results", gsResults, writeConfig(t, t.TempDir(), n, members))
	if out.code != 0 || emu.Stats().SpacesCreated != n {
		t.Errorf("a second run: exit %d, %d created\n%s", out.code, emu.Stats().SpacesCreated, out.stderr)
	}
}

// What the state in a bucket warns about (a journal record it could not
// delete) is said on the run's stderr, in the run's log format: with
// --log-format json, as a JSON line like every other.
func TestGCSWarningsInTheRunsLog(t *testing.T) {
	t.Parallel()
	srv, _ := gcsEmulator(t)
	host := flakyStorage(t, srv, func(r *http.Request, n int64) (bool, bool) {
		return r.Method == http.MethodDelete, false
	})
	_, chatURL := newEmu(t)
	in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": host}}
	out := in.run(context.Background(), t, "--auth", "none", "--endpoint", chatURL, "--rate", "0", "--log-format", "json",
		"--results", gsResults, writeConfig(t, t.TempDir(), 2, nil))
	if out.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", out.code, out.stderr)
	}
	if !strings.Contains(out.stderr, "journal record") {
		t.Errorf("stderr does not warn of the journal records left:\n%s", out.stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(out.stderr), "\n") {
		if line != "" && !strings.HasPrefix(line, "{") {
			t.Errorf("a line of stderr that is not JSON: %s", line)
		}
	}
}

// --auth none is for emulators on this machine: as its Chat endpoint
// must be a loopback address, so must STORAGE_EMULATOR_HOST, or the
// state (names, members) would go in plain text to a store anyone on the
// way may read or change. Refused before any call, plan or run.
func TestGCSAuthNoneEmulatorNotLoopback(t *testing.T) {
	t.Parallel()
	_, chatURL := newEmu(t)
	// 0.0.0.0 is no loopback address; a connection to it stays on this
	// machine, should one be made.
	for _, host := range []string{"0.0.0.0:1", "http://0.0.0.0:1"} {
		in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": host}}
		for _, plan := range []bool{false, true} {
			args := []string{"--auth", "none", "--endpoint", chatURL, "--lock-lease", "3s", "--results", gsResults}
			if plan {
				args = append(args, "--plan")
			}
			start := time.Now()
			out := in.run(context.Background(), t, append(args, writeConfig(t, t.TempDir(), 1, nil))...)
			if out.code != 2 || !strings.Contains(out.stderr, "loopback") || !strings.Contains(out.stderr, "STORAGE_EMULATOR_HOST") {
				t.Errorf("%s, plan %v: exit %d after %s, want 2 saying STORAGE_EMULATOR_HOST must be a loopback address\n%s",
					host, plan, out.code, time.Since(start).Round(time.Millisecond), out.stderr)
			}
		}
	}
}

// --plan while a run holds the lock reads the state, the run's journal
// records included, and writes nothing: not the lock, not an object.
func TestGCSPlanWhileHeld(t *testing.T) {
	t.Parallel()
	srv, host := gcsEmulator(t)
	obj := bucketObjects(t, srv)
	ctx := context.Background()
	held, err := results.OpenRemote(ctx, obj, "prod/spaces.results.json", results.RemoteOptions{Lease: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := held.Record(results.Event{Space: "Team 1", Entry: &results.Entry{Status: results.Created, Name: "spaces/AAA", ID: "AAA", RequestID: "r1"}}); err != nil {
		t.Fatal(err)
	}
	before := map[string]int64{}
	names, _ := obj.List(ctx, "")
	for _, n := range names {
		_, g, _ := obj.Read(ctx, n)
		before[n] = g
	}
	in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": host}}
	out := in.run(ctx, t, "--plan", "--auth", "none", "--endpoint", "http://127.0.0.1:1/", "--results", gsResults, writeConfig(t, t.TempDir(), 2, nil))
	if out.code != 0 || !strings.Contains(out.stdout, "1 to create") || !strings.Contains(out.stdout, "1 unchanged") {
		t.Fatalf("plan: exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}
	names, _ = obj.List(ctx, "")
	if len(names) != len(before) {
		t.Errorf("objects before the plan: %v; after: %v", before, names)
	}
	for _, n := range names {
		if _, g, _ := obj.Read(ctx, n); g != before[n] && !strings.HasSuffix(n, ".lock") {
			t.Errorf("%s written during the plan", n)
		}
	}
	data, _, _ := obj.Read(ctx, "prod/spaces.results.json.lock")
	if strings.Contains(string(data), "released") {
		t.Errorf("the lock was released by the plan: %s", data)
	}
}

// A results object written by someone else during a run: the run's last
// write of it is refused (412) and not made over the new generation; the
// run exits 3, the other's object is untouched and the journal kept.
func TestGCSResultsWrittenByAnotherDuringRun(t *testing.T) {
	t.Parallel()
	srv, host := gcsEmulator(t)
	obj := bucketObjects(t, srv)
	_, chatURL := newEmu(t, chatemu.WithLatency(20*time.Millisecond))
	in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": host}}
	done := make(chan outcome, 1)
	go func() {
		done <- in.run(context.Background(), t, "--auth", "none", "--endpoint", chatURL, "--rate", "0", "--concurrency", "1",
			"--results", gsResults, writeConfig(t, t.TempDir(), 30, nil))
	}()
	for deadline := time.Now().Add(20 * time.Second); !journalHas(t, obj, `"status":"created"`); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no space recorded in 20 s")
		}
	}
	other := []byte(`{"version":2,"spaces":{}}` + "\n")
	ctx := context.Background()
	_, g, err := obj.Read(ctx, "prod/spaces.results.json")
	if err != nil {
		g = 0
	}
	gen, err := obj.Write(ctx, "prod/spaces.results.json", other, g)
	if err != nil {
		t.Fatal(err)
	}
	out := <-done
	if out.code != 3 || !strings.Contains(out.stderr, "written by another run") {
		t.Errorf("exit %d, want 3 saying the results object was written by another run\n%s", out.code, out.stderr)
	}
	if data, g, _ := obj.Read(ctx, "prod/spaces.results.json"); g != gen || string(data) != string(other) {
		t.Errorf("the results object was written over: generation %d, %s", g, data)
	}
	if names, _ := obj.List(ctx, "prod/spaces.results.json.journal/"); len(names) == 0 {
		t.Errorf("the journal was not kept")
	}
}

// Two runs started at the same instant from two directories: exactly one
// takes the lock, the other exits 2 before any call; every space is
// created once.
func TestGCSTwoRunsAtOnce(t *testing.T) {
	t.Parallel()
	for round := range 3 {
		srv, host := gcsEmulator(t)
		emu, chatURL := newEmu(t, chatemu.WithLatency(5*time.Millisecond))
		in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": host}}
		start := make(chan struct{})
		outs := make(chan outcome, 2)
		for range 2 {
			cfg := writeConfig(t, t.TempDir(), 5, nil)
			go func() {
				<-start
				outs <- in.run(context.Background(), t, "--auth", "none", "--endpoint", chatURL, "--rate", "0", "--results", gsResults, cfg)
			}()
		}
		close(start)
		a, b := <-outs, <-outs
		if a.code+b.code != 2 || (a.code != 0 && b.code != 0) {
			t.Fatalf("round %d: exits %d and %d, want 0 and 2\n%s\n%s", round, a.code, b.code, a.stderr, b.stderr)
		}
		if st := emu.Stats(); st.SpacesCreated != 5 || st.AlreadyExists != 0 || st.Replays != 0 {
			t.Fatalf("round %d: %d created, %d ALREADY_EXISTS, %d replays; want 5, 0, 0", round, st.SpacesCreated, st.AlreadyExists, st.Replays)
		}
		if f := loadGS(t, bucketObjects(t, srv)); countStatus(f, results.Created) != 5 {
			t.Fatalf("round %d: %d created in the results", round, countStatus(f, results.Created))
		}
	}
}

// A --results that names an object of another state (its lock, one of
// its journal records) is refused before any call: written as a results
// object there, it would make that state unreadable, or be taken for its
// lock. A name with spaces and other characters an URL escapes is fine.
func TestGCSResultsInsideAnotherState(t *testing.T) {
	t.Parallel()
	srv, host := gcsEmulator(t)
	emu, chatURL := newEmu(t)
	in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": host}}
	ctx := context.Background()
	out := in.run(ctx, t, "--auth", "none", "--endpoint", chatURL, "--rate", "0", "--results", gsResults, writeConfig(t, t.TempDir(), 2, nil))
	if out.code != 0 {
		t.Fatalf("first run: exit %d\n%s", out.code, out.stderr)
	}
	for _, res := range []string{
		gsResults + ".journal/0000000002-0000000001",
		gsResults + ".lock",
		"gs://state/prod/x.json.lock",
	} {
		out := in.run(ctx, t, "--auth", "none", "--endpoint", chatURL, "--rate", "0", "--results", res, writeConfig(t, t.TempDir(), 2, nil))
		if out.code != 2 {
			t.Errorf("--results %s: exit %d, want 2\n%s", res, out.code, out.stderr)
		}
	}
	out = in.run(ctx, t, "--auth", "none", "--endpoint", chatURL, "--rate", "0", "--results", gsResults, writeConfig(t, t.TempDir(), 3, nil))
	if out.code != 0 {
		t.Fatalf("the first state afterwards: exit %d\n%s", out.code, out.stderr)
	}
	odd := "gs://state/prod/spa ces é%20+[x].json"
	_, chatURL = newEmu(t)
	out = in.run(ctx, t, "--auth", "none", "--endpoint", chatURL, "--rate", "0", "--results", odd, writeConfig(t, t.TempDir(), 3, nil))
	if out.code != 0 {
		t.Fatalf("--results %q: exit %d\n%s", odd, out.code, out.stderr)
	}
	if _, _, err := bucketObjects(t, srv).Read(ctx, "prod/spa ces é%20+[x].json"); err != nil {
		t.Errorf("the results object of %q: %v", odd, err)
	}
	if st := emu.Stats(); st.SpacesCreated != 3 {
		t.Errorf("%d spaces created, want 3", st.SpacesCreated)
	}
}

// A storage server that echoes a credential in its error messages: the
// token is never printed, whichever call failed.
func TestGCSNoSecretInStorageErrors(t *testing.T) {
	t.Parallel()
	const tok = "tok-SECRET-5550123"
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"code":400,"message":"you sent Authorization: Bearer `+tok+`; the token `+tok+` is not valid here"}}`)
	}))
	t.Cleanup(hostile.Close)
	u, _ := url.Parse(hostile.URL)
	_, chatURL := newEmu(t)
	for _, plan := range []bool{false, true} {
		in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": u.Host, "GOOGLE_OAUTH_ACCESS_TOKEN": tok}}
		args := []string{"--auth", "token", "--endpoint", chatURL, "--results", gsResults}
		if plan {
			args = append(args, "--plan")
		}
		out := in.run(context.Background(), t, append(args, writeConfig(t, t.TempDir(), 1, nil))...)
		if out.code != 2 {
			t.Errorf("plan %v: exit %d, want 2\n%s", plan, out.code, out.stderr)
		}
		if strings.Contains(out.stderr+out.stdout, tok) {
			t.Errorf("plan %v: the token is printed:\n%s", plan, out.stderr)
		}
	}
}

// The warnings of the state quote the storage server too: a credential
// it echoes is taken out of them, in text as in json logs.
func TestGCSNoSecretInStorageWarnings(t *testing.T) {
	t.Parallel()
	const tok = "tok-SECRET-5550199"
	srv, _ := gcsEmulator(t)
	target, _ := url.Parse(srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"code":400,"message":"you sent Authorization: Bearer `+tok+`; the token `+tok+` may not delete"}}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	u, _ := url.Parse(front.URL)
	for _, format := range []string{"text", "json"} {
		_, chatURL := newEmu(t)
		in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": u.Host, "GOOGLE_OAUTH_ACCESS_TOKEN": tok}}
		out := in.run(context.Background(), t, "--auth", "token", "--endpoint", chatURL, "--rate", "0", "--log-format", format,
			"--results", "gs://state/"+format+".json", writeConfig(t, t.TempDir(), 1, nil))
		if out.code != 0 {
			t.Fatalf("%s: exit %d\n%s", format, out.code, out.stderr)
		}
		if !strings.Contains(out.stderr, "journal record") {
			t.Errorf("%s: no warning of the records left:\n%s", format, out.stderr)
		}
		if strings.Contains(out.stderr, tok) {
			t.Errorf("%s: the token is printed:\n%s", format, out.stderr)
		}
	}
}

// --results naming a folder of the bucket (objects live under NAME/, and
// no object NAME) is refused before any call, as a directory is for a
// local results file: it is a state's location mistyped, not a new state.
func TestGCSResultsIsAFolder(t *testing.T) {
	t.Parallel()
	_, host := gcsEmulator(t)
	emu, chatURL := newEmu(t)
	in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": host}}
	ctx := context.Background()
	out := in.run(ctx, t, "--auth", "none", "--endpoint", chatURL, "--rate", "0", "--results", gsResults, writeConfig(t, t.TempDir(), 2, nil))
	if out.code != 0 {
		t.Fatalf("first run: exit %d\n%s", out.code, out.stderr)
	}
	calls := len(emu.Stats().Calls)
	for _, plan := range []bool{false, true} {
		args := []string{"--auth", "none", "--endpoint", chatURL, "--rate", "0", "--results", "gs://state/prod"}
		if plan {
			args = append(args, "--plan")
		}
		out = in.run(ctx, t, append(args, writeConfig(t, t.TempDir(), 2, nil))...)
		if out.code != 2 || !strings.Contains(out.stderr, "gs://state/prod/") {
			t.Errorf("plan %v: --results gs://state/prod: exit %d, want 2 naming what the folder holds\n%s", plan, out.code, out.stderr)
		}
	}
	if got := emu.Stats().Calls; len(got) != calls || emu.Stats().AlreadyExists != 0 {
		t.Errorf("Chat calls after the refusals: %v", got)
	}
}

// A lease lost before the run has written anything to Chat (its only
// create so far refused by the server, the next held back by the lease)
// is exit 2, nothing applied: the write the gate held back was never
// sent, and is not taken for one the server may have carried out.
func TestGCSLeaseLostBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	srv, host := gcsEmulator(t)
	obj := bucketObjects(t, srv)
	var creates atomic.Int64
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Method == http.MethodPost {
			creates.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"refused"}}`)
	}))
	t.Cleanup(chat.Close)
	in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": host}}
	done := make(chan outcome, 1)
	go func() {
		done <- in.run(context.Background(), t, "--auth", "none", "--endpoint", chat.URL+"/", "--rate", "12", "--concurrency", "1",
			"--lock-lease", "3s", "--results", gsResults, writeConfig(t, t.TempDir(), 2, nil))
	}()
	for deadline := time.Now().Add(20 * time.Second); !journalHas(t, obj, `"space":"Team 2"`, `"status":"pending"`); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the run recorded no requestId for Team 2 in 20 s")
		}
	}
	time.Sleep(300 * time.Millisecond)
	takeOver(t, obj)
	out := <-done
	if out.code != 2 {
		t.Errorf("exit %d, want 2\n%s", out.code, out.stderr)
	}
	if n := creates.Load(); n != 1 {
		t.Errorf("%d creates sent, want 1", n)
	}
}
