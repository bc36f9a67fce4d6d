// The results file as the planner reads it.

package apply

import (
	"iter"
	"maps"
	"slices"

	"provision/internal/plan"
	"provision/internal/results"
)

// Recorded turns the results file into the planner's view of it, with
// what a Refresh read of the live spaces when ref is not nil. It shares
// nothing with f that a later Record may change (lists and maps are
// copied; strings are immutable).
func Recorded(f *results.File, ref *Refreshed) map[string]plan.Recorded {
	m := make(map[string]plan.Recorded, len(f.Spaces))
	for k, en := range f.Spaces {
		m[k] = record(k, en, ref)
	}
	return m
}

// Records is Recorded read in place: each record is made when the planner
// asks for it, and none is kept, so that the planner's view of a large file
// is not a second copy of it. f may be the store's own state
// (results.Store.View) and must not change while the planner reads it; the
// records made share nothing with it that a later Record may change.
func Records(f *results.File, ref *Refreshed) plan.Records {
	return fileRecords{f, ref}
}

type fileRecords struct {
	f   *results.File
	ref *Refreshed
}

func (r fileRecords) Len() int               { return len(r.f.Spaces) }
func (r fileRecords) Keys() iter.Seq[string] { return maps.Keys(r.f.Spaces) }

func (r fileRecords) Get(key string) (plan.Recorded, bool) {
	en, ok := r.f.Spaces[key]
	if !ok {
		return plan.Recorded{}, false
	}
	return record(key, en, r.ref), true
}

// record is the planner's view of the entry under key k.
func record(k string, en *results.Entry, ref *Refreshed) plan.Recorded {
	r := plan.Recorded{Status: string(en.Status), Was: string(en.Was), Name: en.Name, DisplayName: en.DisplayName,
		RequestID: en.RequestID, Principal: en.Principal}
	if en.Applied != nil {
		r.Welcome, r.WelcomeHash, r.Found = en.Applied.Welcome, en.Applied.WelcomeHash, slices.Clone(en.Applied.Found)
		r.Members, r.Owners, r.Managers = slices.Clone(en.Applied.Members), slices.Clone(en.Applied.Owners), slices.Clone(en.Applied.Managers)
		r.IDs = maps.Clone(en.Applied.IDs)
		if st := en.Applied.Settings; st != nil {
			r.Settings = plan.SettingsFrom(st.Len(), st.All())
		}
	}
	if ref != nil {
		r.Gone, r.Lost, r.Unreachable, r.Live = ref.Gone[k], ref.Lost[k], ref.Unreachable[k], ref.Live[k]
	}
	return r
}
