package apply_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"provision/internal/apply"
	"provision/internal/chatemu"
	"provision/internal/plan"
	"provision/internal/results"
)

// TestNoTakeoverAfterPrincipalChange: a space refused for ALREADY_EXISTS is
// someone else's; a later run under another principal makes a new
// requestId, but without adopt it still does not take the space over.
func TestNoTakeoverAfterPrincipalChange(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	space := emu.AddForeignSpace("Team X", "users/boss@example.com", "ROLE_ASSISTANT_MANAGER")
	s := newState(t)
	yaml := "spaces:\n  - displayName: \"Team X\"\n    members: [zed@example.com]\n"
	for _, who := range []string{"users/a@example.com", caller} {
		if _, _, err := s.run(context.Background(), svc, yaml, apply.Options{Caller: who, Principal: who}); err != nil {
			t.Fatal(err)
		}
		if e := s.file().Spaces["Team X"]; e.Status != results.Failed || !strings.Contains(e.Error, "set adopt: true") {
			t.Fatalf("run as %s: entry %+v; want failed, with the advice to adopt", who, e)
		}
	}
	if n := len(emu.Members(space)); n != 2 {
		t.Fatalf("the existing space has %d members, want its 2: nothing written to it", n)
	}
}

// TestRefreshNotFoundOfSomethingElse: a 404 that is not a NOT_FOUND of
// the space (an HTML page, a path the server does not serve) is an error,
// and so is every recorded space answering NOT_FOUND at once: nothing is
// taken for deleted.
func TestRefreshNotFoundOfSomethingElse(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	a, _ := emu.AddSpace("A")
	b, _ := emu.AddSpace("B")
	targets := map[string]apply.Target{"A": {Name: a}, "B": {Name: b}}
	html := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(404)
		fmt.Fprint(w, "<html><body>Not Found</body></html>")
	})
	ref, err := apply.Refresh(context.Background(), client(t, html), targets, apply.Options{}, nil)
	if err == nil || len(ref.Gone) != 0 {
		t.Fatalf("Refresh of an HTML 404 = %+v, %v; want an error and nothing gone", ref, err)
	}
	// A wrong base URL: every path is "Method not found".
	wrong := client(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = "/v1" + r.URL.Path
		emu.ServeHTTP(w, r)
	}))
	if ref, err := apply.Refresh(context.Background(), wrong, targets, apply.Options{}, nil); err == nil || len(ref.Gone) != 0 {
		t.Fatalf("Refresh through a wrong base URL = %+v, %v; want an error and nothing gone", ref, err)
	}
	emu.DeleteSpace(a)
	if ref, err := apply.Refresh(context.Background(), svc, targets, apply.Options{}, nil); err != nil || len(ref.Gone) != 0 || ref.Lost["A"] != 404 {
		t.Fatalf("Refresh with A deleted = %+v, %v; want A lost (404), not taken for gone", ref, err)
	}
}

// TestPreviousKeptAndRecovered: a space a refresh took for deleted keeps
// its ID in previous through an unfinished recreate; and when the recreate
// finds the name taken by that very space, the space is recorded again,
// not created twice nor failed.
func TestPreviousKeptAndRecovered(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, config(1), apply.Options{}); err != nil {
		t.Fatal(err)
	}
	old := s.file().Spaces["Team 000"]
	// A refresh that wrongly saw it gone, then a recreate cut short.
	st, err := results.Open(s.path, results.WithoutSync())
	if err != nil {
		t.Fatal(err)
	}
	pending := results.Entry{Status: results.Pending, RequestID: "r-2", Previous: old.Name, Was: results.Created}
	if err := st.Record(results.Event{Space: "Team 000", Entry: &pending}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, _, err := s.run(context.Background(), svc, config(1), apply.Options{}); err != nil {
		t.Fatal(err)
	}
	e := s.file().Spaces["Team 000"]
	if e.Status != results.Created || e.Name != old.Name || e.Previous != old.Name {
		t.Fatalf("entry %+v; want %s recorded again, previous kept", e, old.Name)
	}
	if st := emu.Stats(); st.SpacesCreated != 1 {
		t.Fatalf("server created %d spaces, want 1", st.SpacesCreated)
	}
}

// TestOwnRoleKeptWithoutCaller: with the caller unknown, the principal that
// created the space stands for it: its role is not lowered, and that is
// said once, as a warning, not a failure.
func TestOwnRoleKeptWithoutCaller(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	first := "spaces:\n  - displayName: \"T\"\n    owners: [caller@example.com, boss@example.com]\n"
	if _, _, err := s.run(context.Background(), svc, first, apply.Options{Caller: caller, Principal: caller}); err != nil {
		t.Fatal(err)
	}
	second := "spaces:\n  - displayName: \"T\"\n    owners: [boss@example.com]\n    managers: [caller@example.com]\n"
	var mu sync.Mutex
	var warnings []string
	onWarning := func(key, msg string) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, msg)
	}
	sum, _, err := s.run(context.Background(), svc, second, apply.Options{OnWarning: onWarning})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range emu.Members(s.file().Spaces["T"].Name) {
		if m.Email == "caller@example.com" && m.Role != "ROLE_MANAGER" {
			t.Fatalf("the caller's role was lowered to %s", m.Role)
		}
	}
	want := `your own role in "T" is kept (owner); the config lists you as manager`
	if sum.MembersFailed != 0 || len(warnings) != 1 || warnings[0] != want {
		t.Fatalf("summary %+v, warnings %q; want no failure and the kept role said once: %q", sum, warnings, want)
	}
}

// TestCallerAlreadyHasRole: an adopted space whose manager is the caller,
// listed as a manager: nothing to do, no error, no role counted.
func TestCallerAlreadyHasRole(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	emu.AddForeignSpace("F", "users/boss@example.com", "ROLE_ASSISTANT_MANAGER")
	s := newState(t)
	yaml := "spaces:\n  - displayName: \"F\"\n    adopt: true\n    managers: [caller@example.com]\n"
	sum, _, err := s.run(context.Background(), svc, yaml, apply.Options{Caller: caller})
	if err != nil || sum.MembersFailed != 0 || sum.RolesSet != 0 || sum.Existing != 1 {
		t.Fatalf("Run: %v, summary %+v; want adopted, no failure, no role change", err, sum)
	}
	if calls(emu.Stats(), "members.patch") != 0 {
		t.Fatal("a role was patched")
	}
}

// TestAnswersEndAThrottlingEpisode: calls the server answers (here 409s)
// end an episode of throttling as successes do, so a run whose calls are
// answered never stops for quota.
func TestAnswersEndAThrottlingEpisode(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t, chatemu.WithCreationLimit(3, 0), chatemu.WithWindow(300*time.Millisecond))
	var b strings.Builder
	b.WriteString("spaces:\n")
	for i := range 30 {
		name := fmt.Sprintf("T%02d", i)
		emu.AddForeignSpace(name, "users/boss@example.com", "")
		fmt.Fprintf(&b, "  - displayName: %q\n", name)
	}
	s := newState(t)
	o := apply.Options{Concurrency: 2, Throttle: apply.Throttle{Base: 20 * time.Millisecond, Cap: 100 * time.Millisecond, MaxWait: 800 * time.Millisecond}}
	sum, _, err := s.run(context.Background(), svc, b.String(), o)
	if err != nil {
		t.Fatalf("Run: %v; want no quota stop", err)
	}
	if sum.Failed != 30 {
		t.Fatalf("summary %+v; want 30 failed (names taken)", sum)
	}
}

// TestMalformedAnswerFailsTheSpace: a create answered 200 with a name
// that is no space name fails that space, saying so, with its requestId
// kept; the run goes on and is not stopped by a record the results file
// refuses.
func TestMalformedAnswerFailsTheSpace(t *testing.T) {
	t.Parallel()
	emu, _ := emulator(t)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.URL.RawQuery, "requestId") {
			var body map[string]any
			_ = json.NewDecoder(r.Body).Decode(&body)
			if body["displayName"] == "Team 001" {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"name":"spaces/../../etc","displayName":"Team 001"}`)
				return
			}
			b, _ := json.Marshal(body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			r.ContentLength = int64(len(b))
		}
		emu.ServeHTTP(w, r)
	})
	s := newState(t)
	sum, _, err := s.run(context.Background(), client(t, h), config(3), apply.Options{Concurrency: 1})
	if err != nil || sum.Created != 2 || sum.Failed != 1 {
		t.Fatalf("Run: %v, summary %+v; want 2 created, 1 failed", err, sum)
	}
	e := s.file().Spaces["Team 001"]
	if e.Status != results.Failed || !strings.Contains(e.Error, "the server's answer is malformed") || e.RequestID == "" {
		t.Fatalf("entry %+v; want failed for a malformed answer, requestId kept", e)
	}
}

// TestMemberPagesGuarded: a members.list that repeats its page token ends
// the check of a new space's members, not the run.
func TestMemberPagesGuarded(t *testing.T) {
	t.Parallel()
	emu, _ := emulator(t)
	var lists atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/members") {
			lists.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"memberships":[],"nextPageToken":"again"}`)
			return
		}
		emu.ServeHTTP(w, r)
	})
	s := newState(t)
	sum, _, err := s.run(context.Background(), client(t, h), team(1, []string{"ana@example.com"}, nil, nil), apply.Options{})
	if err != nil || sum.Created != 1 || lists.Load() > 3 {
		t.Fatalf("Run: %v, summary %+v after %d lists; want created, the walk ended after 2", err, sum, lists.Load())
	}
}

// TestNoIDLost: a space deleted and created again twice keeps both
// earlier IDs, the latest in previous, the one before in earlier.
func TestNoIDLost(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, config(1), apply.Options{}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 2 {
		e := s.file().Spaces["Team 000"]
		ids = append(ids, e.Name)
		emu.DeleteSpace(e.Name)
		ref, err := apply.Refresh(context.Background(), svc, map[string]apply.Target{"Team 000": {Name: e.Name}}, apply.Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		st, err := results.Open(s.path, results.WithoutSync())
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := plan.Parse("spaces.yaml", []byte(config(1)), plan.Options{})
		if _, err := apply.Run(context.Background(), svc, st, plan.Diff(cfg, apply.Recorded(st.Snapshot(), &ref)), apply.Options{Backoff: fast}); err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	e := s.file().Spaces["Team 000"]
	if e.Previous != ids[1] || len(e.Earlier) != 1 || e.Earlier[0] != ids[0] || e.Name == ids[0] || e.Name == ids[1] {
		t.Fatalf("entry %+v; want previous %s and earlier [%s]", e, ids[1], ids[0])
	}
}

// TestWrongCallerKeepsThePrincipal: a refresh under a mistyped --caller
// still keeps the principal that made the space out of the members the
// config lacks, so --prune-members cannot remove them from their space.
func TestWrongCallerKeepsThePrincipal(t *testing.T) {
	t.Parallel()
	_, svc := emulator(t)
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, team(1, []string{"ana@example.com"}, nil, nil), apply.Options{Caller: caller, Principal: caller}); err != nil {
		t.Fatal(err)
	}
	e := s.file().Spaces["Team 000"]
	ref, err := apply.Refresh(context.Background(), svc, map[string]apply.Target{"Team 000": {Name: e.Name, Members: []string{"users/ana@example.com"}, Principal: e.Principal}},
		apply.Options{Caller: "users/calller@example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if live := ref.Live["Team 000"]; len(live.Members) != 1 || live.Members[0] != "users/ana@example.com" {
		t.Fatalf("live members %q; want only ana: the space's creator is not a stranger", live.Members)
	}
}
