package plan

import (
	"reflect"
	"testing"
)

func TestDiffLiveMembers(t *testing.T) {
	t.Parallel()
	// alice owner, bob manager, carol member.
	a := Space{DisplayName: "A", Members: users("alice", "bob", "carol"), Owners: users("alice"), Managers: users("bob")}
	live := func(members []string, roles map[string]Role) *Live {
		return &Live{MembersRead: true, Members: members, Roles: roles}
	}
	u := func(name string) string { return "users/" + name + "@example.com" }
	tests := []struct {
		name      string
		rec       Recorded
		add       []string
		roles     []RoleChange
		removeAll bool // with PruneMembers
		remove    []string
		warnings  []string
	}{
		{
			name: "as the config says: nothing",
			rec: Recorded{Members: a.Members, Owners: a.Owners, Managers: a.Managers,
				Live: live(a.Members, map[string]Role{u("alice"): RoleOwner, u("bob"): RoleManager})},
		},
		{
			name: "a member removed in the Chat UI is added again",
			rec: Recorded{Members: a.Members, Owners: a.Owners, Managers: a.Managers,
				Live: live(users("alice", "bob"), map[string]Role{u("alice"): RoleOwner, u("bob"): RoleManager})},
			add: users("carol"),
		},
		{
			name: "an owner removed in the Chat UI comes back as owner",
			rec: Recorded{Members: a.Members, Owners: a.Owners, Managers: a.Managers,
				Live: live(users("bob", "carol"), map[string]Role{u("bob"): RoleManager})},
			add:   users("alice"),
			roles: to(RoleOwner, "alice"),
		},
		{
			name: "members listed by ID are matched through the recorded IDs, case aside",
			rec: Recorded{Members: a.Members, Owners: a.Owners, Managers: a.Managers,
				IDs:  map[string]string{u("alice"): "users/1", u("bob"): "users/2"},
				Live: live([]string{"users/1", "users/2", "users/CAROL@example.com"}, map[string]Role{"users/1": RoleOwner, "users/2": RoleManager})},
		},
		{
			name: "roles lowered in the Chat UI are raised again",
			rec: Recorded{Members: a.Members, Owners: a.Owners, Managers: a.Managers,
				Live: live(a.Members, map[string]Role{u("bob"): RoleManager})},
			roles: to(RoleOwner, "alice"),
		},
		{
			name: "a role this tool gave is lowered; one given in the Chat UI is not",
			rec: Recorded{Members: a.Members, Owners: users("alice", "carol"), Managers: a.Managers,
				Live: live(a.Members, map[string]Role{u("alice"): RoleOwner, u("bob"): RoleOwner, u("carol"): RoleOwner})},
			roles: []RoleChange{{Member: u("carol"), From: RoleOwner, To: RoleMember}},
		},
		{
			name: "the caller is neither added nor changed",
			rec: Recorded{Members: a.Members,
				Live: &Live{MembersRead: true, Members: users("bob", "carol"), Roles: map[string]Role{u("bob"): RoleManager}, Caller: "users/Alice@example.com"}},
		},
		{
			name: "members read but nothing recorded of them: roles from the live space",
			rec:  Recorded{Live: live(users("alice", "bob", "carol", "dan"), map[string]Role{u("carol"): RoleManager, u("dan"): RoleOwner})},
			roles: []RoleChange{
				{Member: u("alice"), From: RoleMember, To: RoleOwner},
				{Member: u("bob"), From: RoleMember, To: RoleManager},
			},
		},
		{
			name:      "prune: every live member the config does not list, sorted, the caller aside",
			removeAll: true,
			rec: Recorded{Members: a.Members, Owners: a.Owners, Managers: a.Managers,
				IDs: map[string]string{u("old"): "users/8"},
				Live: &Live{MembersRead: true, Members: append(users("zed", "bob", "carol", "alice"), "users/8", "groups/eng", "users/9"),
					Roles: map[string]Role{u("alice"): RoleOwner, u("bob"): RoleManager}, Caller: u("me")}},
			remove: []string{"groups/eng", "users/9", u("old"), u("zed")}, // users/8 named by the email the record knows
		},
		{
			name:      "prune: members known only by ID kept while someone of the config is not found",
			removeAll: true,
			rec: Recorded{Members: a.Members, Owners: a.Owners, Managers: a.Managers,
				IDs:  map[string]string{u("old"): "users/8"},
				Live: live([]string{u("alice"), u("bob"), "users/9", "users/8", "users/7", u("zed")}, map[string]Role{u("alice"): RoleOwner, u("bob"): RoleManager})},
			add:      users("carol"),
			remove:   []string{u("old"), u("zed")},
			warnings: []string{"not removing 2 members known only by ID (users/7, users/9): carol@example.com, in the config, was not found in the space and may be among them"},
		},
		{
			name:      "prune: an owner this tool did not make is kept, with a warning",
			removeAll: true,
			rec: Recorded{Members: a.Members, Owners: a.Owners, Managers: a.Managers,
				Live: &Live{MembersRead: true, Resolved: true, Members: []string{u("alice"), u("bob"), "users/9", u("zed")},
					Roles: map[string]Role{u("alice"): RoleOwner, u("bob"): RoleManager, "users/9": RoleOwner}}},
			add:      users("carol"),
			remove:   []string{u("zed")},
			warnings: []string{"not removing 1 owner this tool did not make: users/9"},
		},
		{
			name:      "prune: members known only by ID removed when the refresh resolved the config's emails",
			removeAll: true,
			rec: Recorded{Members: a.Members, Owners: a.Owners, Managers: a.Managers,
				Live: &Live{MembersRead: true, Resolved: true, Members: []string{u("alice"), u("bob"), "users/9"},
					Roles: map[string]Role{u("alice"): RoleOwner, u("bob"): RoleManager}}},
			add:    users("carol"),
			remove: []string{"users/9"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := tt.rec
			rec.Status, rec.Name, rec.Settings = "created", "spaces/A", Settings{}
			got := Diff(&Config{Spaces: []Space{a}, PruneMembers: tt.removeAll, MaxRemovals: DefaultMaxRemovals}, map[string]Recorded{"A": rec})
			want := Item{Action: Exists, Key: "A", Space: &a, Name: "spaces/A", AddMembers: tt.add, Roles: tt.roles, RemoveMembers: tt.remove, Warnings: tt.warnings}
			if len(tt.add)+len(tt.roles)+len(tt.remove) > 0 {
				want.Action = Update
			}
			if !reflect.DeepEqual(got.Items, []Item{want}) {
				t.Errorf("Diff(%+v) =\n%+v\nwant\n%+v", rec, got.Items, []Item{want})
			}
		})
	}
}

func TestDiffPruneMembers(t *testing.T) {
	t.Parallel()
	a := Space{DisplayName: "A", Members: users("alice", "bob"), Owners: users("alice")}
	rec := Recorded{Status: "existing", Name: "spaces/A", Principal: "users/me@example.com", Settings: Settings{},
		Members:  append(users("alice", "bob", "zoe", "carol", "me"), "groups/old"),
		Owners:   users("alice", "dan"),
		Managers: users("carol")}
	for _, prune := range []bool{false, true} {
		got := Diff(&Config{Spaces: []Space{a}, PruneMembers: prune, MaxRemovals: DefaultMaxRemovals}, map[string]Recorded{"A": rec})
		want := Item{Action: Exists, Key: "A", Space: &a, Name: "spaces/A", Principal: "users/me@example.com"}
		if prune {
			// The creator stays; an owner recorded only as owner goes too.
			want.Action = Update
			want.RemoveMembers = append([]string{"groups/old"}, users("carol", "dan", "zoe")...)
		}
		if !reflect.DeepEqual(got.Items, []Item{want}) {
			t.Errorf("Diff(PruneMembers: %v) =\n%+v\nwant\n%+v", prune, got.Items, []Item{want})
		}
	}
	// Failed and new spaces have nothing to remove.
	got := Diff(&Config{Spaces: []Space{a, {DisplayName: "B"}}, PruneMembers: true}, map[string]Recorded{"A": {Status: "failed", RequestID: "r", Members: users("zoe")}})
	for _, it := range got.Items {
		if it.RemoveMembers != nil {
			t.Errorf("Diff(failed and new, PruneMembers) item %q removes %v, want none", it.Key, it.RemoveMembers)
		}
	}
}

func TestDiffPrune(t *testing.T) {
	t.Parallel()
	recorded := map[string]Recorded{
		"Made":     {Status: "created", Name: "spaces/M", RequestID: "rm", Principal: "users/me@example.com"},
		"Gone":     {Status: "created", Name: "spaces/G", Gone: true},
		"Adopted":  {Status: "existing", Name: "spaces/A"},
		"Failed":   {Status: "failed", RequestID: "rf"},
		"Pending":  {Status: "pending", RequestID: "rp"},
		"Kept":     {Status: "created", Name: "spaces/K", Settings: Settings{}},
		"Nameless": {Status: "created"},
	}
	cfg := &Config{Spaces: []Space{{DisplayName: "Kept"}}, MaxDeletions: DefaultMaxDeletions}
	orphans := []Item{
		{Action: Orphan, Key: "Adopted", Name: "spaces/A"},
		{Action: Orphan, Key: "Failed", RequestID: "rf"},
		{Action: Orphan, Key: "Gone", Name: "spaces/G"},
		{Action: Orphan, Key: "Made", Name: "spaces/M", RequestID: "rm", Principal: "users/me@example.com"},
		{Action: Orphan, Key: "Nameless"},
		{Action: Orphan, Key: "Pending", RequestID: "rp"},
	}
	kept := Item{Action: Exists, Key: "Kept", Space: &cfg.Spaces[0], Name: "spaces/K"}
	got := Diff(cfg, recorded)
	if want := append([]Item{kept}, orphans...); !reflect.DeepEqual(got.Items, want) {
		t.Errorf("Diff(without Prune) =\n%+v\nwant\n%+v", got.Items, want)
	}
	if c := got.Counts(); c.Changes() || c.Orphan != 6 || c.Delete != 0 {
		t.Errorf("Diff(without Prune).Counts() = %+v, want 6 orphans and no change", c)
	}

	cfg.Prune = true
	orphans[0].Adopted = true
	orphans[2].Action = Delete
	orphans[3].Action = Delete
	got = Diff(cfg, recorded)
	if want := append([]Item{kept}, orphans...); !reflect.DeepEqual(got.Items, want) {
		t.Errorf("Diff(Prune) =\n%+v\nwant\n%+v", got.Items, want)
	}
	if c := got.Counts(); !c.Changes() || c.Orphan != 4 || c.Delete != 2 || c.Unchanged != 1 {
		t.Errorf("Diff(Prune).Counts() = %+v, want 2 to delete, 4 orphans, 1 unchanged", c)
	}
}
