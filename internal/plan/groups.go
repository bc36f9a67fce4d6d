package plan

import (
	"maps"
	"slices"
	"strings"
)

// GroupChange is a group named by email (Member, group:EMAIL) whose
// groups/ID is Now where the record says Was: the group was deleted and
// made again under the same email. The group of the config is the one of
// ID Now: it is added where the space lacks it and never pruned; the
// membership of ID Was, if the space still has it, is someone the config
// does not list.
type GroupChange struct {
	Member   string
	Now, Was string
}

// regroup returns rec with the groups/IDs a refresh looked up
// (Live.Groups) in place of those recorded, and the groups whose ID
// changed.
func regroup(rec Recorded) (Recorded, []GroupChange) {
	if rec.Live == nil || len(rec.Live.Groups) == 0 {
		return rec, nil
	}
	var changes []GroupChange
	ids := maps.Clone(rec.IDs)
	if ids == nil {
		ids = make(map[string]string, len(rec.Live.Groups))
	}
	for m, now := range rec.Live.Groups {
		if was := rec.IDs[m]; was != "" && was != now {
			changes = append(changes, GroupChange{Member: m, Now: now, Was: was})
		}
		ids[m] = now
	}
	slices.SortFunc(changes, func(a, b GroupChange) int { return strings.Compare(a.Member, b.Member) })
	rec.IDs = ids
	return rec, changes
}
