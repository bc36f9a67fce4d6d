package apply_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"provision/internal/apply"
	"provision/internal/chatemu"
	"provision/internal/results"
)

// TestChatAppNotConfigured: the answers that mean the project has no Chat
// app (GAM7 sees them as 404 and as 400) stop the run at once, with advice,
// whatever the call.
func TestChatAppNotConfigured(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code         int
		status, text string
	}{
		{404, "NOT_FOUND", "Google Chat app not found. To create a Chat app, you must turn on the Chat API and configure the app in the Google Cloud console."},
		{400, "FAILED_PRECONDITION", "No bot associated with this project."},
	} {
		t.Run(tc.status, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				googleError(w, tc.code, tc.status, tc.text)
			})
			s := newState(t)
			_, _, err := s.run(context.Background(), client(t, h), config(40), apply.Options{Concurrency: 2})
			var denied *apply.DeniedError
			if !errors.As(err, &denied) || denied.Code != tc.code || !strings.Contains(denied.Advice, "Chat app") {
				t.Fatalf("Run: %v; want a DeniedError with advice about the Chat app", err)
			}
			if n := calls.Load(); n > 4 {
				t.Fatalf("%d calls before stopping, want the first few", n)
			}
		})
	}
}

// TestRefreshTellsDeletedFromHidden: a 404 or a 403 to the caller does
// not tell a space deleted from one the caller lost access to: both are
// Lost, unconfirmed; an administrator's read (--admin) tells them apart.
// A missing Chat app stops the refresh rather than taking every space for
// deleted.
func TestRefreshTellsDeletedFromHidden(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t, chatemu.WithAdmins(chatemu.DefaultCaller))
	mine, _ := emu.AddSpace("Mine")
	gone, _ := emu.AddSpace("Gone")
	emu.DeleteSpace(gone)
	hidden := emu.AddForeignSpace("Hidden", "users/boss@example.com", "")
	targets := map[string]apply.Target{"Mine": {Name: mine}, "Gone": {Name: gone}, "Hidden": {Name: hidden}}
	ref, err := apply.Refresh(context.Background(), svc, targets, apply.Options{}, nil)
	if err != nil || len(ref.Gone) != 0 || len(ref.Unreachable) != 0 || len(ref.Lost) != 2 || ref.Lost["Gone"] != 404 || ref.Lost["Hidden"] != 403 || ref.Live["Mine"] == nil {
		t.Fatalf("Refresh = %+v, %v; want Gone and Hidden lost (404, 403), nothing taken for deleted", ref, err)
	}
	ref, err = apply.Refresh(context.Background(), svc, targets, apply.Options{Admin: true}, nil)
	if err != nil || len(ref.Gone) != 1 || !ref.Gone["Gone"] || len(ref.Unreachable) != 1 || !ref.Unreachable["Hidden"] || len(ref.Lost) != 0 {
		t.Fatalf("Refresh --admin = %+v, %v; want Gone gone and Hidden unreachable", ref, err)
	}

	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		googleError(w, 404, "NOT_FOUND", "Google Chat app not found.")
	})
	ref, err = apply.Refresh(context.Background(), client(t, h), map[string]apply.Target{"Mine": {Name: mine}, "Gone": {Name: gone}}, apply.Options{}, nil)
	var denied *apply.DeniedError
	if !errors.As(err, &denied) || len(ref.Gone) != 0 {
		t.Fatalf("Refresh with no Chat app = %+v, %v; want a DeniedError and nothing gone", ref, err)
	}
}

// TestRolesNotLoweredWhenNotGiven: the tool lowers only roles it gave. An
// adopted space's owner listed as a manager in the config stays owner (the
// member fails, saying why); the caller's own role is never lowered (said,
// not failed).
func TestRolesNotLoweredWhenNotGiven(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	space := emu.AddForeignSpace("Team 000", "users/boss@example.com", "ROLE_MANAGER")
	s := newState(t)
	yaml := "spaces:\n  - displayName: \"Team 000\"\n    adopt: true\n    managers: [boss@example.com, caller@example.com]\n"
	sum, _, err := s.run(context.Background(), svc, yaml, apply.Options{Caller: caller})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range emu.Members(space) {
		if m.Role != "ROLE_MANAGER" {
			t.Errorf("%s%s is %s, want still ROLE_MANAGER", m.Email, m.Group, m.Role)
		}
	}
	e := s.file().Spaces["Team 000"]
	if e.Status != results.Existing || sum.MembersFailed != 1 || len(e.Applied.Managers) != 0 {
		t.Fatalf("entry %+v, summary %+v; want adopted, 1 role change refused (the caller's kept), no manager recorded", e, sum)
	}
	if calls(emu.Stats(), "members.patch") != 0 {
		t.Fatal("a role was patched")
	}
}

// TestAdminRefused: --admin by an account that is no administrator is not
// taken for a space out of sight: the administrator's read refused (403)
// stops the refresh, saying so, and nothing is recorded as unreachable.
func TestAdminRefused(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t) // no administrator
	mine, _ := emu.AddSpace("Mine")
	adopted := emu.AddForeignSpace("Adopted", "users/boss@example.com", "ROLE_ASSISTANT_MANAGER")
	for name, target := range map[string]apply.Target{
		"adopted, read as an administrator": {Name: adopted, Admin: true},
		"created, confirmed as one":         {Name: mine},
	} {
		if name == "created, confirmed as one" {
			emu.RemoveMember(mine, "caller@example.com")
		}
		ref, err := apply.Refresh(context.Background(), svc, map[string]apply.Target{"X": target}, apply.Options{Admin: true}, nil)
		if err == nil || !strings.Contains(err.Error(), "administrator access") || len(ref.Unreachable)+len(ref.Gone)+len(ref.Lost) != 0 {
			t.Errorf("%s: Refresh = %+v, %v; want an error about administrator access, nothing lost", name, ref, err)
		}
	}
}
