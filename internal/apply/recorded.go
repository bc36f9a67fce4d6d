// The results file as the planner reads it.

package apply

import (
	"maps"
	"slices"

	"provision/internal/plan"
	"provision/internal/results"
)

// Recorded turns the results file into the planner's view of it, with
// what a Refresh read of the live spaces when ref is not nil. It shares
// nothing with f that a later Record may change (lists and maps are
// copied; strings are immutable), so f may be the store's own state, read
// in place (results.Store.View).
func Recorded(f *results.File, ref *Refreshed) map[string]plan.Recorded {
	return RecordedFor(f, ref, nil)
}

// RecordedFor is Recorded for a plan of spaces: where an entry records
// exactly the settings that the space of its key states (the usual case:
// nothing drifted), its Settings is that space's map, shared rather than
// built again. Neither side ever modifies these maps, and the planner's
// view of a large file then does not hold every space's settings twice.
func RecordedFor(f *results.File, ref *Refreshed, spaces []plan.Space) map[string]plan.Recorded {
	var stated map[string]plan.Settings
	if len(spaces) > 0 {
		stated = make(map[string]plan.Settings, len(spaces))
		for _, s := range spaces {
			stated[s.RecordKey()] = s.Settings
		}
	}
	m := make(map[string]plan.Recorded, len(f.Spaces))
	for k, en := range f.Spaces {
		r := plan.Recorded{Status: string(en.Status), Was: string(en.Was), Name: en.Name, DisplayName: en.DisplayName,
			RequestID: en.RequestID, Principal: en.Principal}
		if en.Applied != nil {
			r.Welcome, r.WelcomeHash, r.Found = en.Applied.Welcome, en.Applied.WelcomeHash, slices.Clone(en.Applied.Found)
			r.Members, r.Owners, r.Managers = slices.Clone(en.Applied.Members), slices.Clone(en.Applied.Owners), slices.Clone(en.Applied.Managers)
			r.IDs = maps.Clone(en.Applied.IDs)
			if st := en.Applied.Settings; st != nil {
				if want, ok := stated[k]; ok && want != nil && st.EqualAll(len(want), want.All()) {
					r.Settings = want
				} else {
					r.Settings = plan.SettingsOf(st.Flat())
				}
			}
		}
		if ref != nil {
			r.Gone, r.Lost, r.Unreachable, r.Live = ref.Gone[k], ref.Lost[k], ref.Unreachable[k], ref.Live[k]
		}
		m[k] = r
	}
	return m
}
