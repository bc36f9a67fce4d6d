package plan

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestDiffRecreatedGroup: a group named by email that a refresh looked up
// again with a new ID is the config's member under that ID: added if the
// space lacks it, never pruned; the old ID's membership is someone the
// config does not list, pruned with PruneMembers only.
func TestDiffRecreatedGroup(t *testing.T) {
	t.Parallel()
	const eng = "group:eng@example.com"
	s := Space{DisplayName: "A", Members: []string{"users/ana@example.com", eng}}
	rec := func(ids map[string]string, live *Live) Recorded {
		return Recorded{Status: "created", Name: "spaces/A", Members: s.Members, IDs: ids, Settings: Settings{}, Live: live}
	}
	live := func(groups map[string]string, members ...string) *Live {
		return &Live{MembersRead: true, Resolved: true, Members: members, Groups: groups}
	}
	changed := []GroupChange{{Member: eng, Now: "groups/new", Was: "groups/old"}}
	recorded := map[string]string{eng: "groups/old"}
	tests := []struct {
		name   string
		rec    Recorded
		prune  bool
		action Action
		groups []GroupChange
		add    []string
		remove []string
	}{
		{"the new group in the space, the old one too, pruned", rec(recorded, live(map[string]string{eng: "groups/new"}, "users/ana@example.com", eng, "groups/old")),
			true, Update, changed, nil, []string{"groups/old"}},
		{"the new group missing: added, the old one pruned", rec(recorded, live(map[string]string{eng: "groups/new"}, "users/ana@example.com", "groups/old")),
			true, Update, changed, []string{eng}, []string{"groups/old"}},
		{"without PruneMembers the old one stays", rec(recorded, live(map[string]string{eng: "groups/new"}, "users/ana@example.com", "groups/old")),
			false, Update, changed, []string{eng}, nil},
		{"the new group in the space, the old one gone: only the record changes", rec(recorded, live(map[string]string{eng: "groups/new"}, "users/ana@example.com", eng)),
			true, Update, changed, nil, nil},
		{"the same ID: nothing", rec(recorded, live(map[string]string{eng: "groups/old"}, "users/ana@example.com", eng)),
			true, Exists, nil, nil, nil},
		{"no ID recorded: nothing changed", rec(nil, live(map[string]string{eng: "groups/new"}, "users/ana@example.com", eng)),
			true, Exists, nil, nil, nil},
		{"not looked up (Cloud Identity did not answer): the record's ID", rec(recorded, live(nil, "users/ana@example.com", eng)),
			true, Exists, nil, nil, nil},
		{"no refresh: the record's ID", rec(recorded, nil),
			true, Exists, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := &Config{Spaces: []Space{s}, PruneMembers: tt.prune, MaxRemovals: 100, Caller: "users/caller@example.com"}
			it := Diff(cfg, map[string]Recorded{"A": tt.rec}).Items[0]
			if it.Action != tt.action || !reflect.DeepEqual(it.Groups, tt.groups) || !reflect.DeepEqual(it.AddMembers, tt.add) || !reflect.DeepEqual(it.RemoveMembers, tt.remove) {
				t.Errorf("Diff = %s, groups %v, add %q, remove %q; want %s, %v, %q, %q",
					it.Action, it.Groups, it.AddMembers, it.RemoveMembers, tt.action, tt.groups, tt.add, tt.remove)
			}
		})
	}
}

// TestWriteRecreatedGroup: a group's new ID is on a line of its own under
// its space, and a field of the item in the JSON plan.
func TestWriteRecreatedGroup(t *testing.T) {
	t.Parallel()
	p := &Plan{File: "spaces.yaml", Items: []Item{{Action: Update, Key: "A", Name: "spaces/A",
		Groups: []GroupChange{{Member: "group:eng@example.com", Now: "groups/new", Was: "groups/old"}}}}}
	var text bytes.Buffer
	if err := WriteText(&text, p); err != nil {
		t.Fatal(err)
	}
	if want := "  ~ update \"A\"\n      ~ group:eng@example.com now groups/new, was groups/old\n"; !strings.Contains(text.String(), want) {
		t.Errorf("WriteText = \n%s\nwant it to hold\n%s", text.String(), want)
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, p); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Spaces []struct {
			Groups []map[string]string `json:"groups"`
		} `json:"spaces"`
	}
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]string{{"member": "group:eng@example.com", "now": "groups/new", "was": "groups/old"}}
	if len(got.Spaces) != 1 || !reflect.DeepEqual(got.Spaces[0].Groups, want) {
		t.Errorf("WriteJSON = %s; want groups %v", js.String(), want)
	}
}
