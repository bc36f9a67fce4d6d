package apply_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	chat "google.golang.org/api/chat/v1"

	"provision/internal/apply"
	"provision/internal/chatemu"
	"provision/internal/plan"
	"provision/internal/results"
)

// patchLog passes requests on to next, noting the mask and admin access of
// each spaces.patch.
type patchLog struct {
	next  http.Handler
	mu    sync.Mutex
	masks []string
}

func (l *patchLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPatch && strings.Count(r.URL.Path, "/") == 3 {
		l.mu.Lock()
		l.masks = append(l.masks, r.URL.Query().Get("updateMask")+" admin="+r.URL.Query().Get("useAdminAccess"))
		l.mu.Unlock()
	}
	l.next.ServeHTTP(w, r)
}

func (l *patchLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.masks, "; ")
}

// TestSettingsPatchedByMask: settings that drifted are sent as one
// spaces.patch per mask (description and guidelines together; history,
// audience and permissions each alone), at most one a second per space,
// and recorded; the run after sends nothing.
func TestSettingsPatchedByMask(t *testing.T) {
	t.Parallel()
	emu, _ := emulator(t)
	patches := &patchLog{next: emu}
	svc := client(t, patches)
	s := newState(t)
	first := "spaces:\n  - displayName: \"T\"\n    description: \"one\"\n    guidelines: \"rules\"\n    history: on\n"
	if _, _, err := s.run(context.Background(), svc, first, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	second := "spaces:\n  - displayName: \"T\"\n    description: \"two\"\n    guidelines: \"rules\"\n    history: off\n    audience: default\n    permissions:\n      manageApps: owners\n      replyMessages: members\n"
	sum, p, err := s.run(context.Background(), svc, second, apply.Options{})
	if err != nil || p.Counts().Update != 1 || sum.SettingsPatched != 4 {
		t.Fatalf("Run: %v, plan %+v, summary %+v; want 1 update, 4 patches", err, p.Counts(), sum)
	}
	got := patches.String()
	want := "space_details admin=; space_history_state admin=; access_settings.audience admin=; permission_settings.manageApps,permission_settings.replyMessages admin="
	if got != want {
		t.Fatalf("patches %q, want %q", got, want)
	}
	name := s.file().Spaces["T"].Name
	sp, _ := emu.Space(name)
	if sp.SpaceDetails.Description != "two" || sp.SpaceDetails.Guidelines != "rules" || sp.SpaceHistoryState != "HISTORY_OFF" ||
		sp.AccessSettings.Audience != "audiences/default" || sp.PermissionSettings == nil ||
		!sp.PermissionSettings.ManageApps.ManagersAllowed || sp.PermissionSettings.ManageApps.AssistantManagersAllowed ||
		!sp.PermissionSettings.ReplyMessages.MembersAllowed {
		t.Fatalf("space after the patches: %+v %+v %+v", sp.SpaceDetails, sp.AccessSettings, sp.PermissionSettings)
	}
	if st := emu.Stats(); st.Throttled != 0 {
		t.Fatalf("%d 429s: the patches of one space came faster than one a second", st.Throttled)
	}
	before := writes(emu.Stats()) + calls(emu.Stats(), "spaces.patch")
	if _, p, err := s.run(context.Background(), svc, second, apply.Options{}); err != nil || p.Counts().Unchanged != 1 ||
		writes(emu.Stats())+calls(emu.Stats(), "spaces.patch") != before {
		t.Fatalf("re-run: %v, plan %+v; want unchanged and no write", err, p.Counts())
	}
}

// TestPruneDeletesOnlyWhatItCreated: --prune deletes the orphan this tool
// created, moves its entry to the deleted section, and leaves the adopted
// orphan alone; a space already gone counts as deleted.
func TestPruneDeletesOnlyWhatItCreated(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	adopted, _ := emu.AddSpace("Adopted")
	s := newState(t)
	all := "spaces:\n  - displayName: \"Mine\"\n  - displayName: \"Gone\"\n  - displayName: \"Adopted\"\n    adopt: true\n"
	if _, _, err := s.run(context.Background(), svc, all, apply.Options{Caller: caller}); err != nil {
		t.Fatal(err)
	}
	gone := s.file().Spaces["Gone"].Name
	emu.DeleteSpace(gone)
	mine := s.file().Spaces["Mine"].Name

	sum, _, err := s.runWith(context.Background(), svc, "spaces:\n  - displayName: \"Other\"\n", apply.Options{Caller: caller},
		func(cfg *plan.Config) { cfg.Prune = true })
	// Gone answers NOT_FOUND to the delete: without an administrator's
	// read, that may be a caller removed from it, so it is kept.
	if err != nil || sum.Deleted != 1 || sum.Unreachable != 1 || sum.Created != 1 || sum.Failed != 0 {
		t.Fatalf("Run: %v, summary %+v; want 1 deleted, 1 unreachable, 1 created", err, sum)
	}
	f := s.file()
	if _, ok := emu.Space(mine); ok {
		t.Fatal("Mine was not deleted")
	}
	if _, ok := emu.Space(adopted); !ok || f.Spaces["Adopted"] == nil {
		t.Fatal("the adopted space was deleted or its entry dropped")
	}
	if g := f.Spaces["Gone"]; f.Spaces["Mine"] != nil || g == nil || g.Status != results.Unreachable || g.Name != gone || len(f.Deleted) != 1 {
		t.Fatalf("entries %v, deleted %d; want Mine moved to deleted, Gone kept as unreachable", f.Spaces, len(f.Deleted))
	}
	for _, d := range f.Deleted {
		if d.Entry == nil || d.Entry.Name == "" || d.DeletedAt.IsZero() {
			t.Fatalf("deleted entry %+v lacks its name or time", d)
		}
	}
	if n := calls(emu.Stats(), "spaces.delete"); n != 2 {
		t.Fatalf("%d deletes sent, want 2", n)
	}
}

// TestPruneMembersKeepsTheCaller: --prune-members removes the members this
// tool added that the config dropped, never the caller.
func TestPruneMembersKeepsTheCaller(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t, chatemu.WithSeed(3))
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, team(1, []string{"ana@example.com", "bo@example.com", "cy@example.com"}, nil, nil), apply.Options{Caller: caller}); err != nil {
		t.Fatal(err)
	}
	sum, _, err := s.runWith(context.Background(), svc, team(1, []string{"ana@example.com"}, nil, nil), apply.Options{Caller: caller},
		func(cfg *plan.Config) { cfg.PruneMembers = true })
	if err != nil || sum.MembersRemoved != 2 {
		t.Fatalf("Run: %v, summary %+v; want 2 members removed", err, sum)
	}
	checkMembers(t, emu, []string{"ana@example.com"}, nil, nil)
	e := s.file().Spaces["Team 000"]
	if strings.Contains(strings.Join(e.Applied.Members, ","), "bo@") {
		t.Fatalf("applied members %v still list a removed member", e.Applied.Members)
	}
}

// TestAdminPatchesLeaveOutHistoryAndAudience: with Admin, patches carry
// useAdminAccess but for history and audience, which the API does not
// allow with administrator access (DD, spaces.patch updateMask).
func TestAdminPatchesLeaveOutHistoryAndAudience(t *testing.T) {
	t.Parallel()
	emu, _ := emulator(t, chatemu.WithAdmins(chatemu.DefaultCaller))
	patches := &patchLog{next: emu}
	svc := client(t, patches)
	// A space the caller is not in, adopted as an administrator.
	emu.AddForeignSpace("T", "users/boss@example.com", "")
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, "spaces:\n  - displayName: \"T\"\n    adopt: true\n", apply.Options{Admin: true, Caller: caller}); err != nil {
		t.Fatal(err)
	}
	sum, _, err := s.run(context.Background(), svc, "spaces:\n  - displayName: \"T\"\n    description: b\n    history: off\n", apply.Options{Admin: true, Caller: caller})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := patches.String(), "space_details admin=true; space_history_state admin="; got != want {
		t.Fatalf("patches %q, want %q", got, want)
	}
	// The caller is not in the space: the history patch is refused, and
	// says why; the description went through all the same.
	if sum.SettingsPatched != 1 || sum.Failed+sum.MembersFailed == 0 && sum.Updated == 0 {
		t.Fatalf("summary %+v; want the description patched", sum)
	}
}

// TestOtherTextKept: a config that states only the description changes
// only the description: the guidelines, written in Chat, are read and sent
// back as they are, and not recorded as the config's.
func TestOtherTextKept(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, "spaces:\n  - displayName: \"T\"\n    description: one\n", apply.Options{}); err != nil {
		t.Fatal(err)
	}
	name := s.file().Spaces["T"].Name
	emu.EditSpace(name, "one", "Rules written in Chat")
	if _, _, err := s.run(context.Background(), svc, "spaces:\n  - displayName: \"T\"\n    description: two\n", apply.Options{}); err != nil {
		t.Fatal(err)
	}
	sp, _ := emu.Space(name)
	if sp.SpaceDetails == nil || sp.SpaceDetails.Description != "two" || sp.SpaceDetails.Guidelines != "Rules written in Chat" {
		t.Fatalf("space details %+v; want the description changed and the guidelines kept", sp.SpaceDetails)
	}
	if g := s.file().Spaces["T"].Applied.Settings.Guidelines; g != nil {
		t.Fatalf("recorded guidelines %q; the config does not state them", *g)
	}
}

// TestDeleteRefusedFailsThatSpace: a 403 on a delete fails that one space
// (the caller may no longer delete it), it does not stop the run as a
// refused credential would; a 404 that is not about the space is no
// deletion either.
func TestDeleteRefusedFailsThatSpace(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, config(3), apply.Options{}); err != nil {
		t.Fatal(err)
	}
	refused := s.file().Spaces["Team 000"].Name
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodDelete && r.URL.Path == "/v1/"+refused:
			googleError(w, 403, "PERMISSION_DENIED", "The caller does not have permission")
		case r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, s.file().Spaces["Team 001"].ID):
			w.WriteHeader(404) // a proxy's page, not the API's NOT_FOUND
		default:
			emu.ServeHTTP(w, r)
		}
	})
	sum, _, err := s.runWith(context.Background(), client(t, h), "spaces:\n  - displayName: \"Other\"\n", apply.Options{Concurrency: 1},
		func(cfg *plan.Config) { cfg.Prune = true })
	if err != nil || sum.Deleted != 1 || sum.Failed != 2 || sum.Created != 1 {
		t.Fatalf("Run: %v, summary %+v; want 1 deleted, 2 failed, the new space created", err, sum)
	}
	f := s.file()
	if f.Spaces["Team 000"] == nil || f.Spaces["Team 001"] == nil || len(f.Deleted) != 1 {
		t.Fatalf("entries %v, deleted %v; want only Team 002 moved to deleted", f.Spaces, f.Deleted)
	}
}

// TestPruneMembersKeepsWhoWasThere: a member the space had before this
// tool added them (ALREADY_EXISTS) is recorded as found; dropped from the
// config, --prune-members without a refresh leaves them: this tool did not
// add them.
func TestPruneMembersKeepsWhoWasThere(t *testing.T) {
	t.Parallel()
	_, svc := emulator(t)
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, team(1, []string{"ana@example.com"}, nil, nil), apply.Options{Caller: caller}); err != nil {
		t.Fatal(err)
	}
	name := s.file().Spaces["Team 000"].Name
	// Dana joins in Chat; then the config lists her.
	if _, err := svc.Spaces.Members.Create(name, &chat.Membership{Member: &chat.User{Name: "users/dana@example.com", Type: "HUMAN"}}).Do(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.run(context.Background(), svc, team(1, []string{"ana@example.com", "dana@example.com"}, nil, nil), apply.Options{Caller: caller}); err != nil {
		t.Fatal(err)
	}
	if f := s.file().Spaces["Team 000"].Applied.Found; !slices.Equal(f, []string{"users/dana@example.com"}) {
		t.Fatalf("found %q, want dana", f)
	}
	cfg, err := plan.Parse("spaces.yaml", []byte(team(1, []string{"ana@example.com"}, nil, nil)), plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.PruneMembers, cfg.Caller = true, caller
	p := plan.Diff(cfg, apply.Recorded(s.file(), nil))
	if it := p.Items[0]; it.Action != plan.Exists || len(it.RemoveMembers) != 0 {
		t.Fatalf("plan %s, removing %q; want dana left alone", it.Action, it.RemoveMembers)
	}
}

// TestAdoptionConvergesInOneRun: the run that adopts a space also patches
// what it lacks of the config; the plan after it has nothing to do.
func TestAdoptionConvergesInOneRun(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	name := emu.AddForeignSpace("Team A", "users/boss@example.com", "ROLE_MANAGER")
	emu.EditSpace(name, "old words", "Owner's rules")
	s := newState(t)
	yaml := "spaces:\n  - displayName: \"Team A\"\n    adopt: true\n    description: \"Team A space\"\n    history: off\n"
	sum, _, err := s.run(context.Background(), svc, yaml, apply.Options{Caller: caller})
	if err != nil || sum.Existing != 1 || sum.SettingsPatched != 2 {
		t.Fatalf("Run: %v, summary %+v; want adopted with 2 patches", err, sum)
	}
	sp, _ := emu.Space(name)
	if sp.SpaceDetails.Description != "Team A space" || sp.SpaceDetails.Guidelines != "Owner's rules" || sp.SpaceHistoryState != "HISTORY_OFF" {
		t.Fatalf("space after adoption: %+v, history %s", sp.SpaceDetails, sp.SpaceHistoryState)
	}
	if _, p, err := s.run(context.Background(), svc, yaml, apply.Options{Caller: caller}); err != nil || p.Counts().Unchanged != 1 {
		t.Fatalf("the run after: %v, plan %+v; want nothing to do", err, p.Counts())
	}
}
