package apply_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"provision/internal/apply"
	"provision/internal/chatemu"
	"provision/internal/results"
)

const caller = "users/caller@example.com"

// TestAdoption: ALREADY_EXISTS adopts a space only when asked to, and
// only under every rule; otherwise the space fails, saying which rule
// refused it, and nothing is written to the existing space.
func TestAdoption(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		setup  func(emu *chatemu.Server) string // returns the existing space
		adopt  bool
		caller string
		app    bool
		want   results.Status
		errHas string
	}{
		{"not asked", func(e *chatemu.Server) string { n, _ := e.AddSpace(" team 000 "); return n }, false, caller, false, results.Failed, "set adopt: true on this space (or run with --adopt)"},
		{"owner", func(e *chatemu.Server) string {
			return e.AddForeignSpace("Team 000", "users/boss@example.com", "ROLE_MANAGER")
		}, true, caller, false, results.Existing, ""},
		{"manager", func(e *chatemu.Server) string {
			return e.AddForeignSpace("team 000", "users/boss@example.com", "ROLE_ASSISTANT_MANAGER")
		}, true, caller, false, results.Existing, ""},
		{"member only", func(e *chatemu.Server) string {
			return e.AddForeignSpace("Team 000", "users/boss@example.com", "ROLE_MEMBER")
		}, true, caller, false, results.Failed, "you are a member of spaces/"},
		{"not a member", func(e *chatemu.Server) string { return e.AddForeignSpace("Team 000", "users/boss@example.com", "") }, true, caller, false, results.Failed, "not among the spaces you are a member of"},
		{"caller unknown", func(e *chatemu.Server) string { n, _ := e.AddSpace("Team 000"); return n }, true, "", false, results.Failed, "pass --caller YOUR_EMAIL"},
		{"app", func(e *chatemu.Server) string { n, _ := e.AddSpace("Team 000"); return n }, true, caller, true, results.Failed, "a Chat app is never a space's owner or manager"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu, svc := emulator(t)
			existing := tc.setup(emu)
			s := newState(t)
			yaml := "spaces:\n  - displayName: \"Team 000\"\n    members: [ana@example.com]\n    owners: [bo@example.com]\n"
			if tc.adopt {
				yaml += "    adopt: true\n"
			}
			before := emu.Members(existing)
			sum, _, err := s.run(context.Background(), svc, yaml, apply.Options{Caller: tc.caller, App: tc.app})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			e := s.file().Spaces["Team 000"]
			if e.Status != tc.want || !strings.Contains(e.Error, tc.errHas) {
				t.Fatalf("entry %+v; want %s with an error containing %q", e, tc.want, tc.errHas)
			}
			if st := emu.Stats(); st.SpacesCreated != 0 {
				t.Fatalf("%d spaces created, want none", st.SpacesCreated)
			}
			after := emu.Members(existing)
			switch tc.want {
			case results.Existing:
				if e.Name != existing || sum.Existing != 1 || len(after) != len(before)+2 {
					t.Fatalf("adopted %s (want %s), %d members (want %d)", e.Name, existing, len(after), len(before)+2)
				}
			default:
				if sum.Failed != 1 || len(after) != len(before) {
					t.Fatalf("refused adoption changed the space: %d members, had %d", len(after), len(before))
				}
				if strings.Contains(e.Error, "ALREADY_EXISTS") && !strings.Contains(e.Error, `"Team 000"`) {
					t.Fatalf("error %q does not name the space", e.Error)
				}
			}
		})
	}
}

// TestAdoptionAmbiguous: two of the caller's spaces with the name (an
// organization's duplicates from before names were unique) is a guess, not
// an adoption.
func TestAdoptionAmbiguous(t *testing.T) {
	t.Parallel()
	emu, _ := emulator(t, chatemu.WithDuplicateNames())
	emu.AddForeignSpace("Team 000", "users/boss@example.com", "ROLE_MANAGER")
	emu.AddForeignSpace("TEAM 000 ", "users/other@example.com", "ROLE_MANAGER")
	// Duplicates allowed in the emulator means no ALREADY_EXISTS: answer
	// the create with one.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			googleError(w, 409, "ALREADY_EXISTS", "A space with this display name already exists.")
			return
		}
		emu.ServeHTTP(w, r)
	})
	s := newState(t)
	_, _, err := s.run(context.Background(), client(t, h), "spaces:\n  - displayName: \"Team 000\"\n    adopt: true\n", apply.Options{Caller: caller})
	if err != nil {
		t.Fatal(err)
	}
	if e := s.file().Spaces["Team 000"]; e.Status != results.Failed || !strings.Contains(e.Error, "2 of your spaces have that name") {
		t.Fatalf("entry %+v; want failed: two spaces have that name", e)
	}
}

// TestAdoptionPagesGuarded: a server that repeats a nextPageToken forever
// ends the walk of spaces.list with an error, not a hang.
func TestAdoptionPagesGuarded(t *testing.T) {
	t.Parallel()
	var lists atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost:
			googleError(w, 409, "ALREADY_EXISTS", "A space with this display name already exists.")
		case r.URL.Path == "/v1/spaces":
			n := lists.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"spaces":[{"name":"spaces/AAAA%d","displayName":"Other %d","spaceType":"SPACE"}],"nextPageToken":"same"}`, n, n)
		default:
			googleError(w, 404, "NOT_FOUND", "no")
		}
	})
	s := newState(t)
	_, _, err := s.run(context.Background(), client(t, h), "spaces:\n  - displayName: \"Team 000\"\n    adopt: true\n", apply.Options{Caller: caller})
	if err != nil {
		t.Fatal(err)
	}
	e := s.file().Spaces["Team 000"]
	if e.Status != results.Failed || !strings.Contains(e.Error, `repeated page token "same"`) || lists.Load() > 3 {
		t.Fatalf("entry %+v after %d lists; want failed on the repeated token after 2", e, lists.Load())
	}
}
