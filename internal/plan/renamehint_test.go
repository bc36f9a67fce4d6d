package plan

import (
	"bytes"
	"slices"
	"testing"
)

func TestSimilarName(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"Team-Alpha", "team alpha", true},
		{"Onboarding: Platform", "Onboarding — Platform", true},
		{"Platform Team", "Platform Teams", true},
		{"Platfrom Engineering", "Platform Engineering", true},
		{"Marketing", "Marketing EU", true},
		{"Team 1", "Team 2", false}, // a series: the digits differ
		{"Onboarding 2026-Q1: Platform", "Onboarding 2026-Q2: Platform", false},
		{"Team 1", "Team 10", false},
		{"Sales", "Legal", false},
		{"Team Alpha", "Team Beta", false},
		{"A", "B", false},
		{"AB", "AC", false},
		{"!!!", "???", false},            // nothing to compare
		{"Ｚｅｄ Other", "Zed Other", true}, // full-width letters read as they show
	} {
		if got := similarName(tt.a, tt.b); got != tt.want {
			t.Errorf("similarName(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := similarName(tt.b, tt.a); got != tt.want {
			t.Errorf("similarName(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestRenameHint(t *testing.T) {
	t.Parallel()
	const caller = "users/me@example.com"
	for _, tt := range []struct {
		name     string
		create   Space
		rec      Recorded
		wantHint bool
	}{
		{
			name:     "similar names",
			create:   Space{DisplayName: "Platform Teams"},
			rec:      Recorded{Status: "created", Name: "spaces/OLD"},
			wantHint: true,
		},
		{
			name:   "the same members, the caller and the creator aside, any case",
			create: Space{DisplayName: "Infra", Members: users("ana", "bo")},
			rec: Recorded{Status: "created", Name: "spaces/OLD", Principal: "users/admin@example.com",
				Members: []string{"users/ANA@example.com", "users/bo@example.com", caller, "users/admin@example.com"}},
			wantHint: true,
		},
		{
			name:   "other members, other name",
			create: Space{DisplayName: "Infra", Members: users("ana")},
			rec:    Recorded{Status: "created", Name: "spaces/OLD", Members: users("ana", "bo")},
		},
		{
			name:   "no members on either side is no evidence",
			create: Space{DisplayName: "Infra"},
			rec:    Recorded{Status: "created", Name: "spaces/OLD", Members: []string{caller}},
		},
		{
			name:   "a series goes on",
			create: Space{DisplayName: "Platform Team 2"},
			rec:    Recorded{Status: "created", Name: "spaces/OLD"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			old := "Platform Team"
			if tt.name == "a series goes on" {
				old = "Platform Team 1"
			}
			cfg := &Config{Spaces: []Space{tt.create}, Prune: true, MaxDeletions: 10, Caller: caller}
			p := Diff(cfg, map[string]Recorded{old: tt.rec})
			del := p.Items[len(p.Items)-1]
			if del.Action != Delete {
				t.Fatalf("last item %+v, want a delete", del)
			}
			got := slices.Contains(del.Warnings, RenameHint(tt.create.DisplayName))
			if got != tt.wantHint {
				t.Errorf("delete %q beside create %q: warnings %q, want the rename hint: %v", old, tt.create.DisplayName, del.Warnings, tt.wantHint)
			}
			if c := p.Items[0]; len(c.Warnings) != 0 {
				t.Errorf("create %q warned %q, want the hint under the delete only", c.Key, c.Warnings)
			}
		})
	}
}

// TestRenameHintText: the hint is a warning line under the delete.
// TestRenameHintSharedMembers: members every new space has (from
// defaults) are no sign of a rename.
func TestRenameHintSharedMembers(t *testing.T) {
	t.Parallel()
	shared := users("lead")
	cfg := &Config{Prune: true, MaxDeletions: 10, Spaces: []Space{
		{DisplayName: "Sales", Members: shared}, {DisplayName: "Legal", Members: shared},
	}}
	recorded := map[string]Recorded{
		"Design":  {Status: "created", Name: "spaces/D", Members: shared, Settings: Settings{}},
		"Finance": {Status: "created", Name: "spaces/F", Members: shared, Settings: Settings{}},
	}
	for _, it := range Diff(cfg, recorded).Items {
		if it.Action == Delete && len(it.Warnings) > 0 {
			t.Errorf("delete %q warned %q; want no rename hint for members all new spaces share", it.Key, it.Warnings)
		}
	}
}

func TestRenameHintText(t *testing.T) {
	t.Parallel()
	cfg := &Config{Spaces: []Space{{DisplayName: "New"}}, Prune: true, MaxDeletions: 10}
	p := Diff(cfg, map[string]Recorded{"new!": {Status: "created", Name: "spaces/OLD"}})
	var b bytes.Buffer
	if err := WriteText(&b, p); err != nil {
		t.Fatal(err)
	}
	want := "  - delete \"new!\" (spaces/OLD)\n      ! this may be a rename of \"New\": to rename a space in place, keep its old name as key: and change displayName:\n"
	if !bytes.Contains(b.Bytes(), []byte(want)) {
		t.Errorf("WriteText =\n%s\nwant it to hold\n%s", b.Bytes(), want)
	}
}
