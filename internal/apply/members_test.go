package apply_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	chat "google.golang.org/api/chat/v1"

	"provision/internal/apply"
	"provision/internal/chatemu"
	"provision/internal/plan"
	"provision/internal/results"
)

// team is a config of n spaces with members, owners and managers.
func team(n int, members, owners, managers []string) string {
	var b strings.Builder
	b.WriteString("spaces:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - displayName: \"Team %03d\"\n", i)
		b.WriteString("    members: [" + strings.Join(members, ", ") + "]\n")
		if len(owners) > 0 {
			b.WriteString("    owners: [" + strings.Join(owners, ", ") + "]\n")
		}
		if len(managers) > 0 {
			b.WriteString("    managers: [" + strings.Join(managers, ", ") + "]\n")
		}
	}
	return b.String()
}

func people(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d@example.com", prefix, i)
	}
	return out
}

func calls(st chatemu.Stats, method string) int {
	n := 0
	for _, c := range st.Calls[method] {
		n += c
	}
	return n
}

// checkMembers asserts that every space of the emulator has exactly the
// caller plus want (emails or groups), each added once, that owners (plus
// the caller) are its only owners (ROLE_MANAGER) and managers its only
// managers (ROLE_ASSISTANT_MANAGER).
func checkMembers(t *testing.T, emu *chatemu.Server, want, owners, managers []string) {
	t.Helper()
	for _, sp := range emu.Spaces() {
		got := make(map[string]chatemu.Member)
		for _, m := range emu.Members(sp.Name) {
			id := m.Email
			if m.Group != "" {
				id = m.Group
			}
			if m.Adds > 1 {
				t.Errorf("%s: %s added %d times", sp.DisplayName, id, m.Adds)
			}
			got[id] = m
		}
		if len(got) != len(want)+1 {
			t.Errorf("%s has %d members, want %d and the caller", sp.DisplayName, len(got), len(want))
		}
		for _, w := range want {
			if _, ok := got[w]; !ok {
				t.Errorf("%s lacks member %s", sp.DisplayName, w)
			}
		}
		for id, m := range got {
			wantRole := "ROLE_MEMBER"
			switch {
			case slices.Contains(owners, id) || id == "caller@example.com":
				wantRole = "ROLE_MANAGER"
			case slices.Contains(managers, id):
				wantRole = "ROLE_ASSISTANT_MANAGER"
			}
			if m.Role != wantRole {
				t.Errorf("%s: %s is %s, want %s", sp.DisplayName, id, m.Role, wantRole)
			}
		}
	}
}

func TestSetupWithMembersAndManager(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	members := []string{"ana@example.com", "bo@example.com", "cy@example.com", "groups/team42"}
	yaml := team(10, members, []string{"ana@example.com"}, []string{"bo@example.com"})
	sum, _, err := s.run(context.Background(), svc, yaml, apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := emu.Stats()
	// One space write each, no membership write but the role patches.
	if calls(st, "spaces.setup") != 10 || calls(st, "spaces.create") != 0 ||
		calls(st, "members.create") != 0 || calls(st, "members.patch") != 20 {
		t.Fatalf("calls %v; want 10 setups, 0 members.create, 20 patches", st.Calls)
	}
	if sum.Created != 10 || sum.RolesSet != 20 || sum.MembersAdded != 40 {
		t.Fatalf("summary %+v; want 10 created, 40 members added, 20 roles", sum)
	}
	checkMembers(t, emu, members, []string{"ana@example.com"}, []string{"bo@example.com"})
	e := s.file().Spaces["Team 000"]
	if e.Applied == nil || len(e.Applied.Members) != 4 ||
		!slices.Equal(e.Applied.Owners, []string{"users/ana@example.com"}) || !slices.Equal(e.Applied.Managers, []string{"users/bo@example.com"}) {
		t.Fatalf("recorded %+v, want 4 members, ana the owner, bo the manager", e.Applied)
	}

	// Re-run: nothing to do, not one write.
	before := writes(emu.Stats())
	_, p, err := s.run(context.Background(), svc, yaml, apply.Options{})
	if err != nil || p.Counts().Unchanged != 10 || writes(emu.Stats()) != before {
		t.Fatalf("re-run: %v, plan %+v, %d writes; want 10 unchanged and no write", err, p.Counts(), writes(emu.Stats())-before)
	}

	// A member and a manager more, and roles moved both ways: exactly
	// those are written, one PATCH each. ana goes from owner to manager,
	// bo from manager to owner, cy from member to manager.
	more := append(slices.Clone(members), "dee@example.com")
	yaml = team(10, more, []string{"bo@example.com"}, []string{"ana@example.com", "cy@example.com"})
	_, p, err = s.run(context.Background(), svc, yaml, apply.Options{})
	if err != nil || p.Counts().Update != 10 {
		t.Fatalf("grown run: %v, plan %+v; want 10 updates", err, p.Counts())
	}
	st = emu.Stats()
	if calls(st, "spaces.setup") != 10 || calls(st, "members.create") != 10 || calls(st, "members.patch") != 50 {
		t.Fatalf("calls %v; want 10 members.create and 30 more patches", st.Calls)
	}
	checkMembers(t, emu, more, []string{"bo@example.com"}, []string{"ana@example.com", "cy@example.com"})

	// Demoted back to plain members: one PATCH each, recorded.
	yaml = team(10, more, nil, nil)
	if _, _, err = s.run(context.Background(), svc, yaml, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	checkMembers(t, emu, more, nil, nil)
	if e := s.file().Spaces["Team 003"]; len(e.Applied.Owners)+len(e.Applied.Managers) != 0 {
		t.Fatalf("after demotion, recorded %+v; want no owners or managers", e.Applied)
	}
	before = writes(emu.Stats())
	if _, p, err = s.run(context.Background(), svc, yaml, apply.Options{}); err != nil || p.Counts().Unchanged != 10 || writes(emu.Stats()) != before {
		t.Fatalf("re-run after demotion: %v, plan %+v; want 10 unchanged and no write", err, p.Counts())
	}
}

func TestMoreMembersThanSetupTakes(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t, chatemu.WithFailureRate(0.1), chatemu.WithLostResponseRate(0.1), chatemu.WithSeed(9))
	s := newState(t)
	members := people("newhire", 60)
	owners := []string{members[0], members[55]} // one added by setup, one after
	sum, _, err := s.run(context.Background(), svc, team(3, members, owners, nil), apply.Options{MaxAttempts: 20})
	if err != nil {
		t.Fatal(err)
	}
	st := emu.Stats()
	if st.SpacesCreated != 3 || st.Duplicates != 0 {
		t.Fatalf("%d spaces created, want 3", st.SpacesCreated)
	}
	if sum.MembersAdded != 180 || sum.RolesSet != 6 {
		t.Fatalf("summary %+v; want 180 members, 6 owners", sum)
	}
	// 49 members come with setup, 11 one by one, per space.
	if got := st.MemberWrites; len(got) < 3*(11+2) {
		t.Fatalf("%d membership writes, want at least %d", len(got), 3*13)
	}
	checkMembers(t, emu, members, owners, nil)
	for key, e := range s.file().Spaces {
		if len(e.Applied.Members) != 60 || len(e.Applied.Owners) != 2 {
			t.Errorf("%s: %d members, %d owners recorded; want 60 and 2", key, len(e.Applied.Members), len(e.Applied.Owners))
		}
	}
}

func TestCallerLeftOutOfSetup(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	// The emulator, like the API, refuses a setup that names the caller.
	yaml := team(2, []string{"Caller@example.com", "ana@example.com"}, []string{"caller@example.com"}, nil)
	o := apply.Options{Caller: "users/caller@example.com"}
	if _, _, err := s.run(context.Background(), svc, yaml, o); err != nil {
		t.Fatal(err)
	}
	checkMembers(t, emu, []string{"ana@example.com"}, nil, nil)
	before := writes(emu.Stats())
	_, p, err := s.run(context.Background(), svc, yaml, o)
	if err != nil || p.Counts().Unchanged != 2 || writes(emu.Stats()) != before {
		t.Fatalf("re-run: %v, plan %+v; want 2 unchanged and no write", err, p.Counts())
	}
}

func TestSetupSkipsMembers(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t, chatemu.WithUnaddable("blocked@example.com"), chatemu.WithInvited("guest@partner.example"))
	s := newState(t)
	yaml := team(1, []string{"ana@example.com", "blocked@example.com", "guest@partner.example"}, nil, nil)
	sum, _, err := s.run(context.Background(), svc, yaml, apply.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.MembersAdded != 1 || sum.MembersInvited != 1 || sum.MembersMissing != 1 {
		t.Fatalf("summary %+v; want 1 added, 1 invited, 1 missing", sum)
	}
	e := s.file().Spaces["Team 000"]
	if e.Members == nil || !slices.Equal(e.Members.Missing, []string{"users/blocked@example.com"}) || e.Members.Invited != 1 {
		t.Fatalf("recorded members %+v; want blocked@example.com missing, 1 invited", e.Members)
	}
	// The next run tries the missing member on its own, and records why it
	// failed.
	_, p, err := s.run(context.Background(), svc, yaml, apply.Options{})
	if err != nil || p.Counts().Update != 1 {
		t.Fatalf("second run: %v, plan %+v; want 1 update", err, p.Counts())
	}
	e = s.file().Spaces["Team 000"]
	if e.Members.Failed != 1 || calls(emu.Stats(), "members.create") != 1 {
		t.Fatalf("after the second run: %+v; want 1 failed member after 1 members.create", e.Members)
	}
}

func TestAppAuthAddsMembersOneByOne(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	members := []string{"ana@example.com", "bo@example.com"}
	o := apply.Options{App: true, Customer: "customers/C0123"}
	if _, _, err := s.run(context.Background(), svc, team(2, members, members[:1], nil), o); err != nil {
		t.Fatal(err)
	}
	st := emu.Stats()
	if calls(st, "spaces.setup") != 0 || calls(st, "spaces.create") != 2 || calls(st, "members.create") != 4 {
		t.Fatalf("calls %v; want 2 creates and 4 members.create, no setup", st.Calls)
	}
	checkMembers(t, emu, members, members[:1], nil)
}

func TestRefreshRecreatesDeletedSpace(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	yaml := team(3, []string{"ana@example.com"}, nil, nil)
	if _, _, err := s.run(context.Background(), svc, yaml, apply.Options{}); err != nil {
		t.Fatal(err)
	}
	old := s.file().Spaces["Team 001"]
	emu.DeleteSpace(old.Name)

	names := map[string]apply.Target{}
	for k, e := range s.file().Spaces {
		names[k] = apply.Target{Name: e.Name}
	}
	ref, err := apply.Refresh(context.Background(), svc, names, apply.Options{}, nil)
	if err != nil || len(ref.Lost) != 1 || ref.Lost["Team 001"] != 404 {
		t.Fatalf("Refresh = %+v, %v; want Team 001 lost (404)", ref, err)
	}
	cfg, err := plan.Parse("spaces.yaml", []byte(yaml), plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Diff(cfg, apply.Recorded(s.file(), &ref))
	if c := p.Counts(); c.Create != 1 || c.Unchanged != 2 {
		t.Fatalf("plan after refresh: %+v; want 1 create, 2 unchanged", c)
	}
	st, err := results.Open(s.path, results.WithoutSync())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apply.Run(context.Background(), svc, st, p, apply.Options{Backoff: fast}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	e := s.file().Spaces["Team 001"]
	if e.Status != results.Created || e.Name == old.Name || e.RequestID == old.RequestID || e.Previous != old.Name {
		t.Fatalf("Team 001 = %+v; want a new space with a new requestId, the old one as previous", e)
	}
	checkMatchesServer(t, emu, s.file())
	checkMembers(t, emu, []string{"ana@example.com"}, nil, nil)
}

func TestResumeAfterSetupChecksMembersOnce(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t)
	s := newState(t)
	members := []string{"users/ana@example.com", "users/bo@example.com", "groups/team42"}
	yaml := team(1, []string{"ana@example.com", "bo@example.com", "groups/team42"}, []string{"bo@example.com"}, nil)

	// A run that set the space up and was killed before it checked the
	// members left this behind.
	setupRun := func() (string, error) {
		cfg, err := plan.Parse("spaces.yaml", []byte(yaml), plan.Options{})
		if err != nil {
			return "", err
		}
		p := plan.Diff(cfg, nil)
		st, err := results.Open(s.path, results.WithoutSync())
		if err != nil {
			return "", err
		}
		defer st.Close()
		// Setup through the emulator, as the killed run did.
		name, err := emu.AddSpace(p.Items[0].Space.DisplayName)
		if err != nil {
			return "", err
		}
		for _, m := range []string{"ana@example.com", "bo@example.com"} {
			if _, err := svc.Spaces.Members.Create(name, &chat.Membership{Member: &chat.User{Name: "users/" + m, Type: "HUMAN"}}).Do(); err != nil {
				return "", err
			}
		}
		if _, err := svc.Spaces.Members.Create(name, &chat.Membership{GroupMember: &chat.Group{Name: "groups/team42"}}).Do(); err != nil {
			return "", err
		}
		e := results.Entry{Name: name, ID: strings.TrimPrefix(name, "spaces/"), Status: results.Created, RequestID: "r-1",
			Members: &results.MemberStats{Pending: members}}
		return name, st.Record(results.Event{Space: "Team 000", Entry: &e})
	}
	name, err := setupRun()
	if err != nil {
		t.Fatal(err)
	}
	before := emu.Stats()

	_, p, err := s.run(context.Background(), svc, yaml, apply.Options{})
	if err != nil || p.Counts().Update != 1 {
		t.Fatalf("resumed run: %v, plan %+v; want 1 update", err, p.Counts())
	}
	st := emu.Stats()
	if got := calls(st, "members.create") - calls(before, "members.create"); got != 0 {
		t.Fatalf("resumed run added %d members one by one, want 0: setup had added them", got)
	}
	if got := calls(st, "members.list") - calls(before, "members.list"); got != 1 {
		t.Fatalf("resumed run listed members %d times, want 1", got)
	}
	e := s.file().Spaces["Team 000"]
	if e.Name != name || len(e.Applied.Members) != 3 || !slices.Equal(e.Applied.Owners, []string{"users/bo@example.com"}) {
		t.Fatalf("entry after resuming: %+v (applied %+v)", e, e.Applied)
	}
}
