package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"

	"provision/internal/chatemu"
	"provision/internal/results"
)

// gcsEmulator starts a Cloud Storage emulator on a loopback port with the
// bucket "state", and returns it and the STORAGE_EMULATOR_HOST that
// points at it.
func gcsEmulator(t testing.TB) (*fakestorage.Server, string) {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "state"})
	u, _ := url.Parse(srv.URL())
	return srv, u.Host
}

// bucketObjects is the bucket "state" of srv, as the store sees it.
func bucketObjects(t *testing.T, srv *fakestorage.Server) results.Objects {
	t.Helper()
	c, err := storage.NewClient(context.Background(), option.WithEndpoint(srv.URL()+"/storage/v1/"),
		option.WithoutAuthentication(), storage.WithJSONReads())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return results.GCS(c, "state")
}

const gsResults = "gs://state/prod/spaces.results.json"

func loadGS(t *testing.T, obj results.Objects) *results.File {
	t.Helper()
	f, err := results.LoadRemote(context.Background(), obj, "prod/spaces.results.json")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// startUntilCreated starts bin with env and args, and returns once the
// bucket's results object records at least k spaces created; the process
// runs on, its stdout and stderr in the buffer returned. Past 20 s the
// process is killed and the test fails.
func startUntilCreated(t *testing.T, bin string, env, args []string, obj results.Objects, k int) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if f, err := results.LoadRemote(context.Background(), obj, "prod/spaces.results.json"); err == nil && countStatus(f, results.Created) >= k {
			return cmd, &out
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the first run recorded no %d spaces in 20 s:\n%s", k, out.String())
		}
	}
}

// dirFiles lists the files in dir.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// Runs from different working directories (machines, CI jobs) share one
// state in the bucket: the second creates only what the first did not,
// a plan from a third sees everything, and none writes a local file.
func TestGCSRunsShareState(t *testing.T) {
	t.Parallel()
	srv, host := gcsEmulator(t)
	emu, chatURL := newEmu(t)
	in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": host}}
	ctx := context.Background()

	first := t.TempDir()
	out := in.run(ctx, t, "--auth", "none", "--endpoint", chatURL, "--rate", "0", "--results", gsResults, writeConfig(t, first, 3, nil))
	if out.code != 0 {
		t.Fatalf("first run: exit %d\n%s", out.code, out.stderr)
	}
	second := t.TempDir()
	out = in.run(ctx, t, "--auth", "none", "--endpoint", chatURL, "--rate", "0", "--results", gsResults, writeConfig(t, second, 5, nil))
	if out.code != 0 {
		t.Fatalf("second run: exit %d\n%s", out.code, out.stderr)
	}
	if st := emu.Stats(); st.SpacesCreated != 5 || st.Replays != 0 || st.AlreadyExists != 0 {
		t.Fatalf("emulator: %d created, %d replays, %d ALREADY_EXISTS; want 5, 0, 0", st.SpacesCreated, st.Replays, st.AlreadyExists)
	}
	third := t.TempDir()
	out = in.run(ctx, t, "--plan", "--results", gsResults, writeConfig(t, third, 5, nil))
	if out.code != 0 || !strings.Contains(out.stdout, "0 to create") || !strings.Contains(out.stdout, "5 unchanged") {
		t.Fatalf("plan from a third directory: exit %d\n%s%s", out.code, out.stdout, out.stderr)
	}
	for _, dir := range []string{first, second, third} {
		if got := dirFiles(t, dir); len(got) != 1 || got[0] != "spaces.yaml" {
			t.Errorf("files in a working directory: %v, want only the config", got)
		}
	}
	f := loadGS(t, bucketObjects(t, srv))
	if countStatus(f, results.Created) != 5 {
		t.Fatalf("results in the bucket: %d created, want 5", countStatus(f, results.Created))
	}
}

// A second run, from anywhere, is refused while the first holds the lock:
// exit 2 naming the lock and its holder, before any Chat call.
func TestGCSSecondRunRefused(t *testing.T) {
	t.Parallel()
	srv, host := gcsEmulator(t)
	emu, chatURL := newEmu(t)
	held, err := results.OpenRemote(context.Background(), bucketObjects(t, srv), "prod/spaces.results.json", results.RemoteOptions{Version: "v9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": host}}
	out := in.run(context.Background(), t, "--auth", "none", "--endpoint", chatURL, "--rate", "0", "--results", gsResults, writeConfig(t, t.TempDir(), 2, nil))
	if out.code != 2 {
		t.Fatalf("exit %d, want 2\n%s", out.code, out.stderr)
	}
	for _, want := range []string{"in use by another run", gsResults + ".lock", "pid ", "version v9.9.9"} {
		if !strings.Contains(out.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, out.stderr)
		}
	}
	if n := len(emu.Stats().Calls); n != 0 {
		t.Errorf("the refused run made Chat calls: %v", emu.Stats().Calls)
	}
}

// A state that cannot be used is refused before any Chat call, with
// exit 2 and what to do: the bucket missing, no permission, an object
// that is not a results file, --auth none without an emulator, a bad
// --lock-lease or location.
func TestGCSRefusedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	srv, host := gcsEmulator(t)
	srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "state", Name: "notes.json"}, Content: []byte("# not JSON\n")})
	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"error":{"code":403,"message":"runner@p.iam.gserviceaccount.com does not have storage.objects.get access to the Google Cloud Storage object.","errors":[{"reason":"forbidden","message":"denied"}]}}`)
	}))
	t.Cleanup(forbidden.Close)
	fu, _ := url.Parse(forbidden.URL)
	emu, chatURL := newEmu(t)
	for _, tc := range []struct {
		name, emulator, results string
		args                    []string
		want                    []string
	}{
		{"no bucket", host, "gs://missing-bucket/x.json", nil, []string{"bucket does not exist", "gs://missing-bucket", "gcloud storage buckets create"}},
		{"403", fu.Host, gsResults, nil, []string{"permission denied", "storage.objects.get", "roles/storage.objectUser"}},
		{"not a results file", host, "gs://state/notes.json", nil, []string{`gs://state/notes.json`, "line 1, column 1"}},
		{"auth none without an emulator", "", gsResults, nil, []string{"--auth none sends no credentials", "STORAGE_EMULATOR_HOST"}},
		{"lease too short", host, gsResults, []string{"--lock-lease", "1s"}, []string{"--lock-lease must be between 3s and 1h"}},
		{"no object", host, "gs://state/", nil, []string{"names no object"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": tc.emulator}}
			for _, plan := range []bool{false, true} {
				args := append([]string{"--auth", "none", "--endpoint", chatURL, "--results", tc.results}, tc.args...)
				if plan {
					args = append(args, "--plan")
				}
				out := in.run(context.Background(), t, append(args, writeConfig(t, t.TempDir(), 2, nil))...)
				if out.code != 2 {
					t.Fatalf("plan %v: exit %d, want 2\n%s", plan, out.code, out.stderr)
				}
				for _, w := range tc.want {
					if !strings.Contains(out.stderr, w) {
						t.Errorf("plan %v: stderr does not say %q:\n%s", plan, w, out.stderr)
					}
				}
			}
		})
	}
	if calls := emu.Stats().Calls; len(calls) != 0 {
		t.Errorf("Chat calls made by refused runs: %v", calls)
	}
}

// A run killed (SIGKILL) mid-way, with create answers lost, and then a
// run from another directory: refused while the dead run's lease lasts,
// then taking the lock over, saying so, and creating every space exactly
// once.
func TestGCSKilledRunResumedElsewhere(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries; skipped with -short")
	}
	t.Parallel()
	provisionBin, emuBin := buildBinaries(t)
	srv, host := gcsEmulator(t)
	obj := bucketObjects(t, srv)
	chatURL := startEmulator(t, emuBin, "--drop-rate", "0.2", "--space-quota", "0", "--member-quota", "0", "--read-quota", "0",
		"--latency", "20ms", "--seed", "7")
	const n = 60
	args := func(dir string) []string {
		return []string{"--auth", "none", "--endpoint", chatURL, "--rate", "0", "--concurrency", "4", "--max-attempts", "20",
			"--lock-lease", "3s", "--results", gsResults, writeConfig(t, dir, n, nil)}
	}
	env := append(os.Environ(), "STORAGE_EMULATOR_HOST="+host)

	// Kill it once it has recorded a few spaces.
	cmd, _ := startUntilCreated(t, provisionBin, env, args(t.TempDir()), obj, 5)
	cmd.Process.Kill()
	cmd.Wait()
	atKill := loadGS(t, obj)
	t.Logf("killed with %d created, %d pending of %d", countStatus(atKill, results.Created), countStatus(atKill, results.Pending), n)
	if countStatus(atKill, results.Created) == n {
		t.Fatalf("the first run finished before it was killed")
	}

	second := t.TempDir()
	out, err := runBin(provisionBin, env, args(second))
	if code := exitCode(err); code != 2 || !strings.Contains(out, "in use by another run") {
		t.Fatalf("a run while the dead run's lease lasts: exit %d, want 2 naming the holder\n%s", code, out)
	}
	time.Sleep(3*time.Second + 200*time.Millisecond)
	out, err = runBin(provisionBin, env, args(second))
	if code := exitCode(err); code != 0 {
		t.Fatalf("the run after the lease ran out: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "took over the lock "+gsResults+".lock") {
		t.Errorf("the takeover was not said:\n%s", out)
	}
	var st emuStats
	getJSON(t, chatURL+"_emulator/stats", &st)
	if st.Spaces != n || st.SpacesCreated != n || st.Duplicates != 0 {
		t.Errorf("emulator: %d spaces, %d created, %d duplicates; want %d, %d, 0", st.Spaces, st.SpacesCreated, st.Duplicates, n, n)
	}
	f := loadGS(t, obj)
	if countStatus(f, results.Created) != n {
		t.Errorf("results: %d created, want %d", countStatus(f, results.Created), n)
	}
	for k, en := range atKill.Spaces {
		if en.Status == results.Created && f.Spaces[k].Name != en.Name {
			t.Errorf("%q recorded as %s before the kill, %s after", k, en.Name, f.Spaces[k].Name)
		}
	}
	if got := dirFiles(t, second); len(got) != 1 {
		t.Errorf("files in the working directory: %v, want only the config", got)
	}
	t.Logf("emulator: %d lost create answers, %d replays", st.LostResponses, st.Replays)
}

func runBin(bin string, env, args []string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// A run whose lock another run takes over (this one was paused past its
// lease) stops at its next record: exit 3 (stopped mid-way, after it
// began writing), saying so, and nothing more is sent or written.
func TestGCSLockTakenOverMidRun(t *testing.T) {
	t.Parallel()
	srv, host := gcsEmulator(t)
	obj := bucketObjects(t, srv)
	emu, chatURL := newEmu(t, chatemu.WithLatency(30*time.Millisecond))
	in := invocation{vars: map[string]string{"STORAGE_EMULATOR_HOST": host}}
	done := make(chan outcome, 1)
	go func() {
		done <- in.run(context.Background(), t, "--auth", "none", "--endpoint", chatURL, "--rate", "0", "--concurrency", "2",
			"--results", gsResults, writeConfig(t, t.TempDir(), 200, nil))
	}()
	ctx := context.Background()
	lock := "prod/spaces.results.json.lock"
	for deadline := time.Now().Add(20 * time.Second); ; {
		names, _ := obj.List(ctx, "prod/spaces.results.json.journal/")
		if len(names) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run wrote no 3 journal records in 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Another run takes the lock over, as after a lease that ran out.
	data, gen, err := obj.Read(ctx, lock)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(data), `"run":"`, `"run":"other-`, 1)
	if _, err := obj.Write(ctx, lock, []byte(other), gen); err != nil {
		t.Fatal(err)
	}
	out := <-done
	if out.code != 3 {
		t.Fatalf("exit %d, want 3\n%s", out.code, out.stderr)
	}
	if !strings.Contains(out.stderr, "taken over by another run") {
		t.Errorf("stderr does not say the lock was taken over:\n%s", out.stderr)
	}
	created := emu.Stats().SpacesCreated
	if created >= 200 {
		t.Fatalf("the run went on to create all %d spaces", created)
	}
	// Nothing more: the lock is the other run's, unreleased, and the
	// results object is not written over it.
	after, _, _ := obj.Read(ctx, lock)
	if string(after) != other {
		t.Errorf("the lock was written after the takeover: %s", after)
	}
	time.Sleep(100 * time.Millisecond)
	if got := emu.Stats().SpacesCreated; got != created {
		t.Errorf("spaces created after the run returned: %d, then %d", created, got)
	}
}
