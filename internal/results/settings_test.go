package results

import (
	"maps"
	"testing"
)

// TestSettingsEqual checks Equal against Flat: equal to its own Flat,
// different from a Flat with any one setting changed, added or missing.
func TestSettingsEqual(t *testing.T) {
	t.Parallel()
	d, g, yes := "Platform", "", true
	all := &Settings{Description: &d, Guidelines: &g, History: "on", Audience: "audiences/default", ExternalUsers: &yes,
		Permissions: map[string]string{"preset": "collaboration", "manageApps": "owners"}}
	for name, s := range map[string]*Settings{
		"nil":   nil,
		"empty": {},
		"all":   all,
		"one":   {Description: &d},
		"perms": {Permissions: map[string]string{"manageApps": "members"}},
	} {
		if !s.Equal(s.Flat()) {
			t.Errorf("%s: Equal(Flat()) = false, want true", name)
		}
	}
	base := all.Flat()
	for _, change := range []func(map[string]string){
		func(m map[string]string) { m["description"] = "Other" },
		func(m map[string]string) { m["guidelines"] = "be kind" },
		func(m map[string]string) { m["externalUsers"] = "false" },
		func(m map[string]string) { m["permissions.manageApps"] = "managers" },
		func(m map[string]string) { m["permissions.replyMessages"] = "owners" },
		func(m map[string]string) { delete(m, "history") },
		func(m map[string]string) { delete(m, "permissions.preset") },
		func(m map[string]string) { delete(m, "guidelines"); m["permissions.toggleHistory"] = "owners" },
	} {
		m := maps.Clone(base)
		change(m)
		if all.Equal(m) {
			t.Errorf("Equal(%v) = true for %v, want false", m, base)
		}
	}
	if (&Settings{}).Equal(nil) || (*Settings)(nil).Equal(map[string]string{}) {
		t.Error("an empty Settings equals nil, or nil an empty map; want neither: nil means settings were not recorded")
	}
}
