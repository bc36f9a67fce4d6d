package plan

import (
	"reflect"
	"testing"
)

func users(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "users/" + n + "@example.com"
	}
	return out
}

func TestDiff(t *testing.T) {
	t.Parallel()
	space := func(name string, members, managers []string) Space {
		return Space{DisplayName: name, Members: members, Managers: managers}
	}
	a := space("A", users("alice", "bob"), users("alice"))
	tests := []struct {
		name     string
		spaces   []Space
		recorded map[string]Recorded
		want     []Item
	}{
		{
			name:   "not recorded: create with every member",
			spaces: []Space{a},
			want:   []Item{{Action: Create, Key: "A", Space: a, AddMembers: a.Members, AddManagers: a.Managers}},
		},
		{
			name:   "created, everything received: exists",
			spaces: []Space{a},
			recorded: map[string]Recorded{"A": {Status: "created", Name: "spaces/A1", RequestID: "r1",
				Members: []string{"users/ALICE@example.com", "users/bob@example.com", "users/old@example.com"}, Managers: users("alice")}},
			want: []Item{{Action: Exists, Key: "A", Space: a, Name: "spaces/A1", RequestID: "r1"}},
		},
		{
			name:     "existing (adopted), new member and manager: update",
			spaces:   []Space{a},
			recorded: map[string]Recorded{"A": {Status: "existing", Name: "spaces/A1", Members: users("bob")}},
			want: []Item{{Action: Update, Key: "A", Space: a, Name: "spaces/A1",
				AddMembers: users("alice"), AddManagers: users("alice")}},
		},
		{
			name:     "member to promote only: update with managers",
			spaces:   []Space{a},
			recorded: map[string]Recorded{"A": {Status: "created", Name: "spaces/A1", Members: users("alice", "bob")}},
			want:     []Item{{Action: Update, Key: "A", Space: a, Name: "spaces/A1", AddManagers: users("alice")}},
		},
		{
			name:   "recorded manager counts as a member received",
			spaces: []Space{a},
			recorded: map[string]Recorded{"A": {Status: "created", Name: "spaces/A1",
				Members: users("bob"), Managers: users("Alice")}},
			want: []Item{{Action: Exists, Key: "A", Space: a, Name: "spaces/A1"}},
		},
		{
			name:     "many members: only the new one",
			spaces:   []Space{space("B", users("m01", "m02", "m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11", "m12", "m13", "m14", "m15", "m16", "m17", "NEW"), nil)},
			recorded: map[string]Recorded{"B": {Status: "created", Members: users("M01", "m02", "m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11", "m12", "m13", "m14", "m15", "m16", "m17")}},
			want: []Item{{Action: Update, Key: "B", AddMembers: users("NEW"),
				Space: space("B", users("m01", "m02", "m03", "m04", "m05", "m06", "m07", "m08", "m09", "m10", "m11", "m12", "m13", "m14", "m15", "m16", "m17", "NEW"), nil)}},
		},
		{
			name:     "failed: retry with the same requestId, members not yet received",
			spaces:   []Space{a},
			recorded: map[string]Recorded{"A": {Status: "failed", RequestID: "r1", Members: users("bob")}},
			want: []Item{{Action: Retry, Key: "A", Space: a, RequestID: "r1",
				AddMembers: users("alice"), AddManagers: users("alice")}},
		},
		{
			name:     "no status (interrupted): retry",
			spaces:   []Space{a},
			recorded: map[string]Recorded{"A": {RequestID: "r1", Name: "spaces/A1"}},
			want: []Item{{Action: Retry, Key: "A", Space: a, Name: "spaces/A1", RequestID: "r1",
				AddMembers: a.Members, AddManagers: a.Managers}},
		},
		{
			name:   "gone: create again with a new requestId",
			spaces: []Space{a},
			recorded: map[string]Recorded{"A": {Status: "created", Name: "spaces/A1", RequestID: "r1", Gone: true,
				Members: a.Members, Managers: a.Managers}},
			want: []Item{{Action: Create, Key: "A", Space: a, Recreate: true, PreviousName: "spaces/A1",
				AddMembers: a.Members, AddManagers: a.Managers}},
		},
		{
			name:     "recorded under another case and white space",
			spaces:   []Space{a},
			recorded: map[string]Recorded{" a ": {Status: "created", Name: "spaces/A1", Members: a.Members, Managers: a.Managers}},
			want:     []Item{{Action: Exists, Key: "A", RecordedKey: " a ", Space: a, Name: "spaces/A1"}},
		},
		{
			name:   "exact key preferred, the other is an orphan",
			spaces: []Space{a},
			recorded: map[string]Recorded{
				"a": {Status: "created", Name: "spaces/lower"},
				"A": {Status: "created", Name: "spaces/A1", Members: a.Members, Managers: a.Managers},
			},
			want: []Item{
				{Action: Exists, Key: "A", Space: a, Name: "spaces/A1"},
				{Action: Orphan, Key: "a", Name: "spaces/lower"},
			},
		},
		{
			name:   "orphans after the config's spaces, sorted",
			spaces: []Space{space("Z", nil, nil), a},
			recorded: map[string]Recorded{
				"old c": {Status: "failed", RequestID: "rc"},
				"old b": {Status: "created", Name: "spaces/B"},
				"Old a": {Status: "existing", Name: "spaces/OA"},
			},
			want: []Item{
				{Action: Create, Key: "Z", Space: space("Z", nil, nil)},
				{Action: Create, Key: "A", Space: a, AddMembers: a.Members, AddManagers: a.Managers},
				{Action: Orphan, Key: "Old a", Name: "spaces/OA"},
				{Action: Orphan, Key: "old b", Name: "spaces/B"},
				{Action: Orphan, Key: "old c", RequestID: "rc"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := &Config{File: "f.yaml", Spaces: tt.spaces}
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
	p := &Plan{Items: []Item{{Action: Create}, {Action: Create, Recreate: true}, {Action: Update}, {Action: Exists}, {Action: Retry}, {Action: Orphan}, {Action: Orphan}}}
	want := Counts{Create: 2, Update: 1, Retry: 1, Unchanged: 1, Orphan: 2}
	if got := p.Counts(); got != want {
		t.Errorf("Counts() = %+v, want %+v", got, want)
	}
	if !want.Changes() {
		t.Errorf("%+v.Changes() = false, want true", want)
	}
	if c := (Counts{Unchanged: 3, Orphan: 1}); c.Changes() {
		t.Errorf("%+v.Changes() = true, want false", c)
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
