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
	m := make(map[string]plan.Recorded, len(f.Spaces))
	for k, en := range f.Spaces {
		r := plan.Recorded{Status: string(en.Status), Was: string(en.Was), Name: en.Name, DisplayName: en.DisplayName,
			RequestID: en.RequestID, Principal: en.Principal}
		if en.Applied != nil {
			r.Welcome, r.WelcomeHash, r.Found = en.Applied.Welcome, en.Applied.WelcomeHash, slices.Clone(en.Applied.Found)
			r.Members, r.Owners, r.Managers = slices.Clone(en.Applied.Members), slices.Clone(en.Applied.Owners), slices.Clone(en.Applied.Managers)
			r.IDs = maps.Clone(en.Applied.IDs)
			if en.Applied.Settings != nil {
				r.Settings = en.Applied.Settings.Flat()
			}
		}
		if ref != nil {
			r.Gone, r.Lost, r.Unreachable, r.Live = ref.Gone[k], ref.Lost[k], ref.Unreachable[k], ref.Live[k]
		}
		m[k] = r
	}
	return m
}
