package apply_test

import (
	"maps"
	"reflect"
	"testing"

	"provision/internal/apply"
	"provision/internal/plan"
	"provision/internal/results"
)

// TestRecordedFor checks that the planner's view built for a config's
// spaces says what Recorded says, and shares a space's settings map where
// the entry records exactly those settings.
func TestRecordedFor(t *testing.T) {
	t.Parallel()
	d, other := "Platform", "Sales"
	f := &results.File{Version: results.Version, Spaces: map[string]*results.Entry{
		"Same":     {Status: results.Created, Name: "spaces/S", Applied: &results.Applied{Settings: &results.Settings{Description: &d, History: "on"}}},
		"Drifted":  {Status: results.Created, Name: "spaces/D", Applied: &results.Applied{Settings: &results.Settings{Description: &other, History: "on"}}},
		"Legacy":   {Status: results.Created, Name: "spaces/L", Applied: &results.Applied{Members: []string{"users/a@example.com"}}},
		"Orphaned": {Status: results.Created, Name: "spaces/O", Applied: &results.Applied{Settings: &results.Settings{}}},
	}}
	stated := plan.SettingsOf(map[string]string{plan.SetDescription: d, plan.SetHistory: "on"})
	spaces := []plan.Space{
		{DisplayName: "Same", Key: "Same", Settings: stated},
		{DisplayName: "Drifted", Key: "Drifted", Settings: stated},
		{DisplayName: "Legacy", Key: "Legacy", Settings: stated},
	}
	got, want := apply.RecordedFor(f, nil, spaces), apply.Recorded(f, nil)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RecordedFor = %+v, want %+v (Recorded)", got, want)
	}
	if s := got["Same"].Settings; reflect.ValueOf(s).UnsafePointer() != reflect.ValueOf(stated).UnsafePointer() {
		t.Errorf("RecordedFor: settings of %q = a list of their own %v, want the space's, shared", "Same", s)
	}
	if s := got["Drifted"].Settings; !maps.Equal(s.Map(), map[string]string{plan.SetDescription: other, plan.SetHistory: "on"}) {
		t.Errorf("RecordedFor: settings of %q = %v, want what the entry records", "Drifted", s)
	}
	if s := got["Legacy"].Settings; s != nil {
		t.Errorf("RecordedFor: settings of %q = %v, want nil (recorded before settings were)", "Legacy", s)
	}
}
