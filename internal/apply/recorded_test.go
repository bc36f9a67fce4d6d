package apply_test

import (
	"maps"
	"reflect"
	"slices"
	"testing"

	"provision/internal/apply"
	"provision/internal/plan"
	"provision/internal/results"
)

// TestRecords checks that the planner's view read in place says what
// Recorded says, record by record, and keeps what a later Record changes
// apart from the records it made.
func TestRecords(t *testing.T) {
	t.Parallel()
	d, other := "Platform", "Sales"
	yes := true
	f := &results.File{Version: results.Version, Spaces: map[string]*results.Entry{
		"Same":     {Status: results.Created, Name: "spaces/S", Applied: &results.Applied{Settings: &results.Settings{Description: &d, History: "on"}}},
		"Drifted":  {Status: results.Created, Name: "spaces/D", Applied: &results.Applied{Settings: &results.Settings{Description: &other, ExternalUsers: &yes, Permissions: map[string]string{"preset": "announcement"}}}},
		"Legacy":   {Status: results.Created, Name: "spaces/L", Applied: &results.Applied{Members: []string{"users/a@example.com"}}},
		"Orphaned": {Status: results.Existing, Name: "spaces/O", Applied: &results.Applied{Settings: &results.Settings{}}},
		"Failed":   {Status: results.Failed, Error: "x"},
	}}
	ref := &apply.Refreshed{Lost: map[string]int{"Drifted": 404}}
	want := apply.Recorded(f, ref)
	got := apply.Records(f, ref)
	if got.Len() != len(want) {
		t.Errorf("Len = %d, want %d", got.Len(), len(want))
	}
	if keys := slices.Sorted(got.Keys()); !slices.Equal(keys, slices.Sorted(maps.Keys(want))) {
		t.Errorf("Keys = %q, want %q", keys, slices.Sorted(maps.Keys(want)))
	}
	for k, w := range want {
		if r, ok := got.Get(k); !ok || !reflect.DeepEqual(r, w) {
			t.Errorf("Get(%q) = %+v, %v, want %+v (Recorded)", k, r, ok, w)
		}
	}
	if _, ok := got.Get("Nowhere"); ok {
		t.Error(`Get("Nowhere") found a record`)
	}
	if s := want["Drifted"].Settings.Map(); !maps.Equal(s, map[string]string{plan.SetDescription: other, plan.SetExternalUsers: "true", plan.SetPreset: "announcement"}) {
		t.Errorf("settings of %q = %v, want what the entry records", "Drifted", s)
	}
	if s := want["Legacy"].Settings; s != nil {
		t.Errorf("settings of %q = %v, want nil (recorded before settings were)", "Legacy", s)
	}
	if s := want["Orphaned"].Settings; s == nil || len(s) != 0 {
		t.Errorf("settings of %q = %#v, want empty, not nil (settings recorded, none stated)", "Orphaned", s)
	}
	r, _ := got.Get("Legacy")
	f.Spaces["Legacy"].Applied.Members[0] = "users/changed@example.com"
	if r.Members[0] != "users/a@example.com" {
		t.Errorf("a record shares its members with the file: %q", r.Members)
	}
}
