package plan

import (
	"fmt"
	"slices"
	"strings"
)

// Pruning: members the config no longer lists (Config.PruneMembers) and
// spaces it no longer lists (Config.Prune). Nothing is removed without
// those flags.

// removals returns the members to delete from a space recorded as created
// or existing, sorted, and a warning when some are kept for safety.
//
// Without a refresh that read the members, they are the members the record
// says this tool added (Applied members, owners and managers, less those
// found in the space already) that the config no longer lists, the space's
// creator (rec.Principal) and the caller aside. With
// one, they are every member the space has (Live.Members: the caller and
// Chat apps left out already) that the config does not list. Unless the
// refresh resolved the config's emails (Live.Resolved), a live member it
// knows only by users/ID may be a person the config lists by email: while
// some such person was not found in the space, those members are kept,
// with a warning, rather than risk removing someone the config lists (the
// next run adds the missing people, learns their IDs, and can tell).
func removals(s Space, rec Recorded, caller string) (remove []string, warning string) {
	want := newMemberSet(s.Members)
	if live := rec.Live; live != nil && live.MembersRead {
		return liveRemovals(s, rec, want, caller)
	}
	var seen map[string]bool
	found := newMemberSet(rec.Found)
	for _, list := range [][]string{rec.Members, rec.Owners, rec.Managers} {
		for _, m := range list {
			if want.has(m) || sameMember(m, rec.Principal) || sameMember(m, caller) || found.has(m) {
				// (Found: in the space before this tool added them.)
				continue
			}
			if seen == nil {
				seen = make(map[string]bool)
			}
			if k := memberKey(m); !seen[k] {
				seen[k] = true
				remove = append(remove, m)
			}
		}
	}
	slices.Sort(remove)
	return remove, ""
}

func liveRemovals(s Space, rec Recorded, want memberSet, caller string) (remove []string, warning string) {
	live := rec.Live
	// The IDs of the config's members, and the people the record knows
	// the IDs of.
	var configIDs, known map[string]bool
	if len(rec.IDs) > 0 {
		configIDs = make(map[string]bool, len(s.Members))
		for _, m := range s.Members {
			if id := lookupID(rec.IDs, m); id != "" {
				configIDs[id] = true
			}
		}
		known = make(map[string]bool, len(rec.IDs))
		for _, id := range rec.IDs {
			known[id] = true
		}
	}
	// Names the record knows for an ID, so that a removal is named by
	// email where it can be.
	emails := make(map[string]string, len(rec.IDs))
	for email, id := range rec.IDs {
		emails[id] = email
	}
	owners := newMemberSet(rec.Owners)
	var unsure, keptOwners []string
	for _, m := range live.Members {
		if want.has(m) || configIDs[m] || sameMember(m, live.Caller) || sameMember(m, caller) || sameMember(m, rec.Principal) {
			continue
		}
		name := m
		if email := emails[m]; email != "" {
			name = email
		}
		if live.Roles[m] == RoleOwner && !owners.has(name) {
			// An owner this tool did not make (one of an adopted space,
			// say) is not removed: it is theirs to give up.
			keptOwners = append(keptOwners, display(name))
			continue
		}
		m = name
		if idOnly(m) && !known[m] && !live.Resolved {
			unsure = append(unsure, m)
			continue
		}
		remove = append(remove, m)
	}
	if len(unsure) > 0 {
		if missing := missingByEmail(s, rec, configIDs); len(missing) > 0 {
			slices.Sort(unsure)
			warning = fmt.Sprintf("not removing %s known only by ID (%s): %s, in the config, %s not found in the space and may be among them",
				plural(len(unsure), "member"), list(unsure), list(missing), wasWere(len(missing)))
		} else {
			remove = append(remove, unsure...)
		}
	}
	if len(keptOwners) > 0 {
		slices.Sort(keptOwners)
		w := fmt.Sprintf("not removing %s this tool did not make: %s", plural(len(keptOwners), "owner"), list(keptOwners))
		if warning != "" {
			warning += "; " + w
		} else {
			warning = w
		}
	}
	slices.Sort(remove)
	return slices.Clip(remove), warning
}

// missingByEmail returns the config's members named by email that the
// refresh did not find in the space, as a person reads them.
func missingByEmail(s Space, rec Recorded, configIDs map[string]bool) []string {
	found := newMemberSet(rec.Live.Members)
	var out []string
	for _, m := range s.Members {
		if !strings.Contains(m, "@") || found.has(m) || sameMember(m, rec.Live.Caller) {
			continue
		}
		if id := lookupID(rec.IDs, m); id != "" && found.has(id) {
			continue
		}
		out = append(out, display(m))
	}
	return out
}

// lookupID is the users/ID recorded for member m (users/EMAIL), or "".
func lookupID(ids map[string]string, m string) string {
	if len(ids) == 0 {
		return ""
	}
	if id, ok := ids[m]; ok {
		return id
	}
	return ids[memberKey(m)]
}

// idOnly reports whether m names a person by users/ID rather than by email.
func idOnly(m string) bool {
	return strings.HasPrefix(m, "users/") && !strings.Contains(m, "@")
}

// list names up to three members, and how many more.
func list(names []string) string {
	const shown = 3
	if len(names) <= shown {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:shown], ", "), len(names)-shown)
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// orphan is the item of a recorded space the config no longer lists. With
// Config.Prune, a space this tool created (status created, with a name)
// is deleted; an adopted one (existing) never is, and says so; one that
// failed or is pending has nothing to delete. One this caller lost access
// to (recorded unreachable, or a refresh's read answered 404 or 403
// without an administrator's read to confirm the space gone) is never
// deleted: it is an Unreachable item.
func orphan(cfg *Config, key string, rec Recorded) Item {
	name := recordedName(key, rec)
	it := Item{Action: Orphan, Key: name, Name: rec.Name, RequestID: rec.RequestID, Principal: rec.Principal}
	if name != key {
		it.RecordedKey = key
	}
	if rec.Status == "unreachable" && (rec.Live != nil || rec.Gone) {
		// Readable again, or confirmed deleted: what it was before.
		rec.Status, it.Reachable = wasStatus(rec), rec.Live != nil
	}
	present := rec.Status == "created" || rec.Status == "existing"
	if !rec.Gone && (rec.Status == "unreachable" || (present && (rec.Lost != 0 || rec.Unreachable))) {
		it.Action = Unreachable
		it.MarkUnreachable = present && rec.Unreachable
		it.Warnings = append(it.Warnings, unreachableWarning(rec))
		return it
	}
	if !cfg.Prune {
		return it
	}
	switch {
	case rec.Status == "created" && rec.Name != "":
		// Only a refresh with an administrator's read tells a space gone
		// (Gone); the run's delete then finds nothing, and the entry
		// moves to the deleted section.
		it.Action = Delete
	case rec.Status == "existing":
		it.Adopted = true
	}
	return it
}
