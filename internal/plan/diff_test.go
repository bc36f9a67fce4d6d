package plan

import (
	"reflect"
	"slices"
	"testing"
)

func users(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "users/" + n + "@example.com"
	}
	return out
}

// to lists role changes of users: to(RoleOwner, "alice") is alice made an
// owner from a member.
func to(role Role, names ...string) []RoleChange {
	out := make([]RoleChange, len(names))
	for i, m := range users(names...) {
		out[i] = RoleChange{Member: m, From: RoleMember, To: role}
	}
	return out
}

func TestDiff(t *testing.T) {
	t.Parallel()
	// none is RecordSettings of a space recorded before settings were,
	// whose config states none.
	none := Settings{}
	space := func(name string, members, owners, managers []string) Space {
		return Space{DisplayName: name, Members: members, Owners: owners, Managers: managers}
	}
	// a: alice owner, bob manager, carol member.
	spaceRef := func(name string, members, owners, managers []string) *Space {
		s := space(name, members, owners, managers)
		return &s
	}
	a := space("A", users("alice", "bob", "carol"), users("alice"), users("bob"))
	aRoles := append(to(RoleOwner, "alice"), to(RoleManager, "bob")...)
	many := users("m01", "m02", "m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11", "m12", "m13", "m14", "m15", "m16", "m17")
	big := space("B", append(slices.Clone(many), users("NEW")...), users("m01", "m02"), users("m03"))
	tests := []struct {
		name     string
		app      bool
		spaces   []Space
		recorded map[string]Recorded
		want     []Item
	}{
		{
			name:   "not recorded: create with every member, owners and managers from member",
			spaces: []Space{a},
			want:   []Item{{Action: Create, Key: "A", Space: &a, AddMembers: a.Members, Roles: aRoles}},
		},
		{
			name:   "created, everything received: exists",
			spaces: []Space{a},
			recorded: map[string]Recorded{"A": {Status: "created", Name: "spaces/A1", RequestID: "r1", Principal: "users/me@example.com",
				Members: []string{"users/ALICE@example.com", "users/bob@example.com", "users/carol@example.com", "users/old@example.com"},
				Owners:  users("Alice"), Managers: users("bob")}},
			want: []Item{{Action: Exists, Key: "A", RecordSettings: none, Space: &a, Name: "spaces/A1", RequestID: "r1", Principal: "users/me@example.com"}},
		},
		{
			name:     "existing (adopted), new members with roles: update",
			spaces:   []Space{a},
			recorded: map[string]Recorded{"A": {Status: "existing", Name: "spaces/A1", Members: users("carol")}},
			want: []Item{{Action: Update, Key: "A", RecordSettings: none, Space: &a, Name: "spaces/A1",
				AddMembers: users("alice", "bob"), Roles: aRoles}},
		},
		{
			name:     "members to promote only: update with roles",
			spaces:   []Space{a},
			recorded: map[string]Recorded{"A": {Status: "created", Name: "spaces/A1", Members: users("alice", "bob", "carol")}},
			want:     []Item{{Action: Update, Key: "A", RecordSettings: none, Space: &a, Name: "spaces/A1", Roles: aRoles}},
		},
		{
			name:   "owner and manager swapped, a member demoted, someone gone left alone",
			spaces: []Space{a},
			recorded: map[string]Recorded{"A": {Status: "created", Name: "spaces/A1",
				Members: users("alice", "bob", "carol", "dan"), Owners: users("bob", "carol", "dan"), Managers: users("alice")}},
			want: []Item{{Action: Update, Key: "A", RecordSettings: none, Space: &a, Name: "spaces/A1", Roles: []RoleChange{
				{Member: "users/alice@example.com", From: RoleManager, To: RoleOwner},
				{Member: "users/bob@example.com", From: RoleOwner, To: RoleManager},
				{Member: "users/carol@example.com", From: RoleOwner, To: RoleMember},
			}}},
		},
		{
			name:   "manager demoted to member, new owner is a new member",
			spaces: []Space{space("C", users("alice", "bob"), users("bob"), nil)},
			recorded: map[string]Recorded{"C": {Status: "existing", Name: "spaces/C1",
				Members: users("alice"), Managers: users("alice")}},
			want: []Item{{Action: Update, Key: "C", RecordSettings: none, Space: spaceRef("C", users("alice", "bob"), users("bob"), nil), Name: "spaces/C1",
				AddMembers: users("bob"), Roles: []RoleChange{
					{Member: "users/bob@example.com", From: RoleMember, To: RoleOwner},
					{Member: "users/alice@example.com", From: RoleManager, To: RoleMember},
				}}},
		},
		{
			name:   "recorded owners and managers count as members received",
			spaces: []Space{a},
			recorded: map[string]Recorded{"A": {Status: "created", Name: "spaces/A1",
				Members: users("carol"), Owners: users("Alice"), Managers: users("BOB")}},
			want: []Item{{Action: Exists, Key: "A", RecordSettings: none, Space: &a, Name: "spaces/A1"}},
		},
		{
			name:   "recorded both owner and manager: owner, so a manager is demoted",
			spaces: []Space{a},
			recorded: map[string]Recorded{"A": {Status: "created", Name: "spaces/A1",
				Members: users("alice", "bob", "carol"), Owners: users("alice", "bob"), Managers: users("bob")}},
			want: []Item{{Action: Update, Key: "A", RecordSettings: none, Space: &a, Name: "spaces/A1", Roles: []RoleChange{
				{Member: "users/bob@example.com", From: RoleOwner, To: RoleManager},
			}}},
		},
		{
			name:   "many members: only the new one, roles compared by set",
			spaces: []Space{big},
			recorded: map[string]Recorded{"B": {Status: "created", Members: users("M01", "m02", "m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11", "m12", "m13", "m14", "m15", "m16", "m17"),
				Owners: users("m01", "M03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11", "m12", "m13", "m14", "m15", "m16", "m17")}},
			want: []Item{{Action: Update, Key: "B", RecordSettings: none, Space: &big, AddMembers: users("NEW"), Roles: []RoleChange{
				{Member: "users/m02@example.com", From: RoleMember, To: RoleOwner},
				{Member: "users/m03@example.com", From: RoleOwner, To: RoleManager},
				{Member: "users/m04@example.com", From: RoleOwner, To: RoleMember},
				{Member: "users/m05@example.com", From: RoleOwner, To: RoleMember},
				{Member: "users/m06@example.com", From: RoleOwner, To: RoleMember},
				{Member: "users/m07@example.com", From: RoleOwner, To: RoleMember},
				{Member: "users/m08@example.com", From: RoleOwner, To: RoleMember},
				{Member: "users/m09@example.com", From: RoleOwner, To: RoleMember},
				{Member: "users/m10@example.com", From: RoleOwner, To: RoleMember},
				{Member: "users/m11@example.com", From: RoleOwner, To: RoleMember},
				{Member: "users/m12@example.com", From: RoleOwner, To: RoleMember},
				{Member: "users/m13@example.com", From: RoleOwner, To: RoleMember},
				{Member: "users/m14@example.com", From: RoleOwner, To: RoleMember},
				{Member: "users/m15@example.com", From: RoleOwner, To: RoleMember},
				{Member: "users/m16@example.com", From: RoleOwner, To: RoleMember},
				{Member: "users/m17@example.com", From: RoleOwner, To: RoleMember},
			}}},
		},
		{
			name:     "failed: retry with the same requestId and principal, members not yet received",
			spaces:   []Space{a},
			recorded: map[string]Recorded{"A": {Status: "failed", RequestID: "r1", Principal: "users/me@example.com", Members: users("carol")}},
			want: []Item{{Action: Retry, Key: "A", Space: &a, RequestID: "r1", Principal: "users/me@example.com",
				AddMembers: users("alice", "bob"), Roles: aRoles}},
		},
		{
			name:     "pending: retry like failed",
			spaces:   []Space{a},
			recorded: map[string]Recorded{"A": {Status: "pending", RequestID: "r1", Principal: "users/me@example.com"}},
			want: []Item{{Action: Retry, Key: "A", Space: &a, RequestID: "r1", Principal: "users/me@example.com",
				AddMembers: a.Members, Roles: aRoles}},
		},
		{
			name:     "no status (interrupted): retry",
			spaces:   []Space{a},
			recorded: map[string]Recorded{"A": {RequestID: "r1", Name: "spaces/A1"}},
			want: []Item{{Action: Retry, Key: "A", Space: &a, Name: "spaces/A1", RequestID: "r1",
				AddMembers: a.Members, Roles: aRoles}},
		},
		{
			name:   "gone: create again with a new requestId, everything from the start",
			spaces: []Space{a},
			recorded: map[string]Recorded{"A": {Status: "created", Name: "spaces/A1", RequestID: "r1", Principal: "users/me@example.com", Gone: true,
				Members: a.Members, Owners: a.Owners, Managers: a.Managers}},
			want: []Item{{Action: Create, Key: "A", Space: &a, Recreate: true, PreviousName: "spaces/A1",
				AddMembers: a.Members, Roles: aRoles}},
		},
		{
			name:     "recorded under white space",
			spaces:   []Space{a},
			recorded: map[string]Recorded{" A ": {Status: "created", Name: "spaces/A1", Members: a.Members, Owners: a.Owners, Managers: a.Managers}},
			want:     []Item{{Action: Exists, Key: "A", RecordSettings: none, RecordedKey: " A ", Space: &a, Name: "spaces/A1"}},
		},
		{
			// The same space (one identity), its name's case changed in
			// the config: renamed in place, never created again.
			name:     "recorded under another case and white space",
			spaces:   []Space{a},
			recorded: map[string]Recorded{" a ": {Status: "created", Name: "spaces/A1", Members: a.Members, Owners: a.Owners, Managers: a.Managers}},
			want: []Item{{Action: Update, Key: "A", RecordSettings: none, RecordedKey: " a ", Space: &a, Name: "spaces/A1",
				Rename: &Rename{From: "a", To: "A"}}},
		},
		{
			name:   "exact key preferred, the other is an orphan",
			spaces: []Space{a},
			recorded: map[string]Recorded{
				"a": {Status: "created", Name: "spaces/lower"},
				"A": {Status: "created", Name: "spaces/A1", Members: a.Members, Owners: a.Owners, Managers: a.Managers},
			},
			want: []Item{
				{Action: Exists, Key: "A", RecordSettings: none, Space: &a, Name: "spaces/A1"},
				{Action: Orphan, Key: "a", Name: "spaces/lower"},
			},
		},
		{
			name:   "orphans after the config's spaces, sorted",
			spaces: []Space{space("Z", nil, nil, nil), a},
			recorded: map[string]Recorded{
				"old c": {Status: "failed", RequestID: "rc", Principal: "users/me@example.com"},
				"old b": {Status: "created", Name: "spaces/B"},
				"Old a": {Status: "existing", Name: "spaces/OA"},
			},
			want: []Item{
				{Action: Create, Key: "Z", Space: spaceRef("Z", nil, nil, nil)},
				{Action: Create, Key: "A", Space: &a, AddMembers: a.Members, Roles: aRoles},
				{Action: Orphan, Key: "Old a", Name: "spaces/OA"},
				{Action: Orphan, Key: "old b", Name: "spaces/B"},
				{Action: Orphan, Key: "old c", RequestID: "rc", Principal: "users/me@example.com"},
			},
		},
		{
			name:   "app: a space created or retried without owners is warned about",
			app:    true,
			spaces: []Space{space("N", users("bob"), nil, users("bob")), space("R", nil, nil, nil), space("O", users("alice"), users("alice"), nil), space("E", nil, nil, nil)},
			recorded: map[string]Recorded{
				"R": {Status: "failed", RequestID: "r"},
				"E": {Status: "created", Name: "spaces/E"},
			},
			want: []Item{
				{Action: Create, Key: "N", Space: spaceRef("N", users("bob"), nil, users("bob")), AddMembers: users("bob"), Roles: to(RoleManager, "bob"), Warnings: []string{NoOwner}},
				{Action: Retry, Key: "R", Space: spaceRef("R", nil, nil, nil), RequestID: "r", Warnings: []string{NoOwner}},
				{Action: Create, Key: "O", Space: spaceRef("O", users("alice"), users("alice"), nil), AddMembers: users("alice"), Roles: to(RoleOwner, "alice")},
				{Action: Exists, Key: "E", RecordSettings: none, Space: spaceRef("E", nil, nil, nil), Name: "spaces/E"},
			},
		},
		{
			name:   "user auth: no warning",
			spaces: []Space{space("N", nil, nil, nil)},
			want:   []Item{{Action: Create, Key: "N", Space: spaceRef("N", nil, nil, nil)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := &Config{File: "f.yaml", Spaces: tt.spaces, App: tt.app}
			got := Diff(cfg, tt.recorded)
			if got.File != "f.yaml" {
				t.Errorf("Diff().File = %q, want %q", got.File, "f.yaml")
			}
			if !reflect.DeepEqual(got.Items, tt.want) {
				t.Errorf("Diff(%v) =\n%+v\nwant\n%+v", tt.recorded, got.Items, tt.want)
			}
		})
	}
}

func TestCounts(t *testing.T) {
	t.Parallel()
	p := &Plan{Items: []Item{{Action: Create}, {Action: Create, Recreate: true}, {Action: Update}, {Action: Exists}, {Action: Retry}, {Action: Orphan}, {Action: Orphan}, {Action: Delete}}}
	want := Counts{Create: 2, Update: 1, Retry: 1, Unchanged: 1, Orphan: 2, Delete: 1}
	if got := p.Counts(); got != want {
		t.Errorf("Counts() = %+v, want %+v", got, want)
	}
	if !want.Changes() {
		t.Errorf("%+v.Changes() = false, want true", want)
	}
	if c := (Counts{Unchanged: 3, Orphan: 1}); c.Changes() {
		t.Errorf("%+v.Changes() = true, want false", c)
	}
	if c := (Counts{Unchanged: 3, Delete: 1}); !c.Changes() {
		t.Errorf("%+v.Changes() = false, want true", c)
	}
}

func TestAudienceName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "default": "audiences/default", "audiences/x1": "audiences/x1"} {
		if got := (Space{Audience: in}).AudienceName(); got != want {
			t.Errorf("Space{Audience: %q}.AudienceName() = %q, want %q", in, got, want)
		}
	}
}
