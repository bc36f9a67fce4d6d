package apply_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"provision/internal/apply"
	"provision/internal/chatemu"
	"provision/internal/plan"
	"provision/internal/results"
)

// prune is the command line's --prune, with the default bound.
func prune(cfg *plan.Config) { cfg.Prune = true }

// TestDeletionsWithheldAfterAFailure: when anything else of the run fails,
// --prune deletes nothing in that run, and the summary says how many and
// why.
func TestDeletionsWithheldAfterAFailure(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		opts   []chatemu.Option
		config string
		why    string
	}{
		{"a create refused", nil, "spaces:\n  - displayName: \"Kept\"\n  - displayName: \"Taken\"\n", "1 space failed in this run"},
		{"a member left out", []chatemu.Option{chatemu.WithUnaddable("zed@example.com")},
			"spaces:\n  - displayName: \"Kept\"\n  - displayName: \"New\"\n    members: [ana@example.com, zed@example.com]\n", "1 member could not be added in this run"},
		{"a member refused", []chatemu.Option{chatemu.WithUnaddable("zed@example.com")},
			"spaces:\n  - displayName: \"Kept\"\n    members: [zed@example.com]\n", "1 space failed in this run"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu, svc := emulator(t, tt.opts...)
			emu.AddHiddenSpace("Taken")
			s := newState(t)
			if _, _, err := s.run(context.Background(), svc, "spaces:\n  - displayName: \"Mine\"\n  - displayName: \"Kept\"\n", apply.Options{Caller: caller}); err != nil {
				t.Fatal(err)
			}
			mine := s.file().Spaces["Mine"].Name

			sum, p, err := s.runWith(context.Background(), svc, tt.config, apply.Options{Caller: caller}, prune)
			if err != nil {
				t.Fatal(err)
			}
			if c := p.Counts(); c.Delete != 1 {
				t.Fatalf("plan %+v, want Mine to delete", c)
			}
			if sum.Deleted != 0 || sum.DeletionsWithheld != 1 || sum.Interrupted != 0 {
				t.Errorf("summary %+v; want nothing deleted, 1 deletion withheld, nothing interrupted", sum)
			}
			if !strings.Contains(sum.DeletionsWithheldReason, tt.why) || !strings.Contains(sum.DeletionsWithheldReason, "1 space not deleted") {
				t.Errorf("reason %q, want it to say 1 space not deleted and %q", sum.DeletionsWithheldReason, tt.why)
			}
			if _, ok := emu.Space(mine); !ok {
				t.Error("Mine was deleted")
			}
			if n := calls(emu.Stats(), "spaces.delete"); n != 0 {
				t.Errorf("%d deletes sent, want none", n)
			}
			if f := s.file(); f.Spaces["Mine"] == nil || len(f.Deleted) != 0 {
				t.Errorf("entries %v, deleted %v; want Mine kept", f.Spaces, f.Deleted)
			}
		})
	}
}

// TestDeletionsWithheldWhenInterrupted: a run cancelled before its
// deletions makes none.
func TestDeletionsWithheldWhenInterrupted(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, "spaces:\n  - displayName: \"Mine\"\n", apply.Options{Caller: caller}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sum, _, err := s.runWith(ctx, svc, "spaces:\n  - displayName: \"Other\"\n", apply.Options{Caller: caller}, prune)
	if err == nil || sum.Deleted != 0 || sum.DeletionsWithheld != 1 || !strings.Contains(sum.DeletionsWithheldReason, "interrupted") {
		t.Fatalf("Run: %v, summary %+v; want the deletion withheld as the run was interrupted", err, sum)
	}
	if n := calls(emu.Stats(), "spaces.delete"); n != 0 {
		t.Errorf("%d deletes sent, want none", n)
	}
}

// TestDeletionsWithheldWhenStopped: a run that stops on its own (here,
// credentials refused at the first create) makes no deletion.
func TestDeletionsWithheldWhenStopped(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, "spaces:\n  - displayName: \"Mine\"\n", apply.Options{Caller: caller}); err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			googleError(w, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
			return
		}
		emu.ServeHTTP(w, r)
	})
	sum, _, err := s.runWith(context.Background(), client(t, h), "spaces:\n  - displayName: \"Other\"\n", apply.Options{Caller: caller}, prune)
	if err == nil || sum.Deleted != 0 || sum.DeletionsWithheld != 1 || !strings.Contains(sum.DeletionsWithheldReason, "the run stopped") {
		t.Fatalf("Run: %v, summary %+v; want the deletion withheld as the run stopped", err, sum)
	}
	if n := calls(emu.Stats(), "spaces.delete"); n != 0 {
		t.Errorf("%d deletes sent, want none", n)
	}
}

// TestDeletionsRunLast: the deletions start once every other space of the
// run is done. The create of "Slow" is held until a delete arrives (or a
// while passes): a run that deleted before its creates were done would
// delete while Slow is held.
func TestDeletionsRunLast(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, "spaces:\n  - displayName: \"Old\"\n", apply.Options{Caller: caller}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log []string // completed calls, and deletes as they arrive
	deleting := make(chan struct{})
	var once sync.Once
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			once.Do(func() { close(deleting) })
			mu.Lock()
			log = append(log, "delete")
			mu.Unlock()
			emu.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte(`"Slow"`)) {
			select {
			case <-deleting:
			case <-time.After(500 * time.Millisecond):
			}
		}
		emu.ServeHTTP(w, r)
		mu.Lock()
		log = append(log, r.Method+" "+r.URL.Path)
		mu.Unlock()
	})
	yaml := "spaces:\n  - displayName: \"Slow\"\n  - displayName: \"A\"\n    members: [ana@example.com]\n  - displayName: \"B\"\n  - displayName: \"C\"\n"
	sum, _, err := s.runWith(context.Background(), client(t, h), yaml, apply.Options{Caller: caller, Concurrency: 4}, prune)
	if err != nil || sum.Created != 4 || sum.Deleted != 1 {
		t.Fatalf("Run: %v, summary %+v; want 4 created, 1 deleted", err, sum)
	}
	mu.Lock()
	defer mu.Unlock()
	if log[len(log)-1] != "delete" {
		t.Fatalf("calls in order: %q; want the delete after every other call", log)
	}
}

// TestPlanGuardHonoured: the applier deletes nothing and removes no member
// when the plan says they are withheld, even if it is handed items that
// delete and remove.
func TestPlanGuardHonoured(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	two := "spaces:\n  - displayName: \"Kept\"\n    members: [ana@example.com, bo@example.com]\n  - displayName: \"Old\"\n"
	if _, _, err := s.run(context.Background(), svc, two, apply.Options{Caller: caller}); err != nil {
		t.Fatal(err)
	}
	cfg, err := plan.Parse("spaces.yaml", []byte("spaces:\n  - displayName: \"Kept\"\n    members: [ana@example.com]\n"), plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Prune, cfg.PruneMembers, cfg.Caller = true, true, caller
	p := plan.Diff(cfg, apply.Recorded(s.file(), nil))
	if c := p.Counts(); c.Delete != 1 || c.Update != 1 {
		t.Fatalf("plan %+v, want 1 delete and 1 update", c)
	}
	// A plan tampered with, or built by other code: its items delete and
	// remove, its guard says not to.
	p.Guard.DeletionsWithheld, p.Guard.RemovalsWithheld = true, true
	st, err := results.Open(s.path, results.WithoutSync())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := apply.Run(context.Background(), svc, st, p, apply.Options{Caller: caller, Backoff: fast, Timeout: 5 * time.Second})
	if cerr := st.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	if sum.Deleted != 0 || sum.MembersRemoved != 0 || sum.DeletionsWithheld != 1 || sum.RemovalsWithheld != 1 || sum.Interrupted != 0 {
		t.Errorf("summary %+v; want nothing deleted or removed, both withheld, nothing interrupted", sum)
	}
	st2 := emu.Stats()
	if n := calls(st2, "spaces.delete") + calls(st2, "members.delete"); n != 0 {
		t.Errorf("%d deletes sent, want none", n)
	}
}
