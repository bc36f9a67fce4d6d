package main

import (
	"context"
	"strings"
	"testing"
	"time"

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
