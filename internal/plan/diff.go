package plan

import (
	"fmt"
	"slices"
	"strings"
)

// Diff compares a config with what earlier runs recorded, keyed by the
// space's key (Space.Key: the config's key:, or its display name). It
// decides, it does not print: see WriteText and WriteJSON.
//
// Members converge: those the space has not received are added, and roles
// are changed either way. Settings converge: a setting the config states
// that differs from what the space has is patched (drift.go). A display
// name changed under the same key is a rename in place (Item.Rename).
// Nothing is removed unless asked: members the config no longer lists are
// left alone (their role too) unless Config.PruneMembers, and recorded
// spaces no longer in the config are Orphan items (after the config's
// spaces, sorted by key), deleted only under Config.Prune and only if this
// tool created them (prune.go). With Recorded.Live (a refresh), what the
// refresh read is the truth rather than the record.
//
// A record matches a config space by identity (KeyOf), never by the text
// as written (see Match). Diff is linear in the number of spaces and
// members.
func Diff(cfg *Config, recorded map[string]Recorded) *Plan {
	return DiffRecords(cfg, RecordMap(recorded))
}

// DiffRecords is Diff of records read as the planner needs them.
func DiffRecords(cfg *Config, recorded Records) *Plan {
	keys := MatchRecords(cfg.Spaces, recorded)
	// Room for the orphans too (the records no space took), so that the
	// items, hundreds of bytes each, are never copied to grow.
	matched := 0
	for _, k := range keys {
		if k != "" {
			matched++
		}
	}
	p := &Plan{File: cfg.File, Items: make([]Item, 0, len(cfg.Spaces)+max(0, recorded.Len()-matched))}
	// The identities of the recorded keys the config's spaces took: a new
	// space may not be recorded under one of them. Built for the first new
	// space (a run with nothing new needs none).
	var taken map[Key]string
	takenBy := func(id Key) (string, bool) {
		if taken == nil {
			taken = make(map[Key]string, matched)
			for i, k := range keys {
				if k != "" {
					taken[KeyOf(k)] = cfg.Spaces[i].DisplayName
				}
			}
		}
		name, ok := taken[id]
		return name, ok
	}

	for i := range cfg.Spaces {
		s := cfg.Spaces[i]
		it := Item{Key: s.DisplayName, Space: &cfg.Spaces[i]}
		key := keys[i]
		if key == "" {
			if k := s.RecordKey(); k != s.DisplayName {
				it.RecordedKey = k
			}
			if other, ok := takenBy(KeyOf(s.RecordKey())); ok {
				// Recording it would overwrite, or shadow, the entry of
				// another space (one renamed under this key): keep both,
				// and ask.
				it.Blocked = fmt.Sprintf("not created: its key %q is the results file's key of the space the config names %q (renamed from it); give this space a key: of its own, or that one key: %q", s.RecordKey(), other, s.RecordKey())
				it.Warnings = append(it.Warnings, it.Blocked)
			}
			it.Action = Create
			it.AddMembers, it.Roles = converge(s, Recorded{})
			creationPatches(&it, s)
			it.Welcome = s.Welcome != ""
			p.Items = append(p.Items, warn(cfg, it))
			continue
		}
		rec, _ := recorded.Get(key)
		if key != s.DisplayName {
			it.RecordedKey = key
		}
		if rec.Status == "unreachable" && rec.Live != nil {
			// A refresh could read it again: what it was before.
			rec.Status, it.Reachable = wasStatus(rec), true
		}
		present := rec.Status == "created" || rec.Status == "existing"
		switch {
		case rec.Gone || (present && rec.Lost != 0):
			// Gone: the requestId belonged to the deleted space, and
			// reusing it could return that space, so the applier makes a
			// new one. The new space has received nothing. Lost: the
			// create is what tells a space deleted from one this caller
			// may no longer see (Item.Recreate).
			it.Action = Create
			it.Recreate = true
			it.PreviousName = rec.Name
			if !rec.Gone {
				it.Lost = rec.Lost
				if n := currentName(key, rec); n != s.DisplayName {
					// The create tells only under the name the space
					// has: under a new one it would make a second space.
					it.ConfirmName = n
				}
			}
			it.AddMembers, it.Roles = converge(s, Recorded{})
			creationPatches(&it, s)
			it.Welcome = s.Welcome != ""
		case rec.Status == "unreachable" || (present && rec.Unreachable):
			it.Action = Unreachable
			it.Name, it.RequestID, it.Principal = rec.Name, rec.RequestID, rec.Principal
			it.MarkUnreachable = rec.Status != "unreachable"
			it.Warnings = append(it.Warnings, unreachableWarning(rec))
		case present:
			it.Name, it.RequestID, it.Principal = rec.Name, rec.RequestID, rec.Principal
			if from := currentName(key, rec); from != s.DisplayName {
				it.Rename = &Rename{From: from, To: s.DisplayName}
			}
			rec, it.Groups = regroup(rec)
			if rec.Live != nil && rec.Live.MembersRead {
				it.AddMembers, it.Roles = convergeLive(s, rec)
			} else {
				it.AddMembers, it.Roles = converge(s, rec)
			}
			it.Roles = keepOwnRole(cfg.Caller, it.Roles)
			if cfg.PruneMembers {
				var w string
				if it.RemoveMembers, w = removals(s, rec, cfg.Caller); w != "" {
					it.Warnings = append(it.Warnings, w)
				}
			}
			drift(&it, s, rec)
			welcome(&it, s, rec)
			it.Action = Exists
			if it.Rename != nil || len(it.AddMembers) > 0 || len(it.Roles) > 0 || len(it.RemoveMembers) > 0 || len(it.Patches) > 0 || it.Welcome || len(it.Groups) > 0 {
				it.Action = Update
			}
		default:
			// Failed, pending (the outcome of the create is unknown), or
			// an entry a run left without a status: the same requestId
			// returns the space if the server made it.
			it.Action = Retry
			it.Name, it.RequestID, it.Principal = rec.Name, rec.RequestID, rec.Principal
			it.AddMembers, it.Roles = converge(s, rec)
			creationPatches(&it, s)
			welcome(&it, s, rec)
		}
		p.Items = append(p.Items, warn(cfg, it))
	}

	var orphans []Item
	var names map[Key]string        // the config's identities, built for the first delete
	var holders map[string][]string // space name → keys recording it (two at most), likewise
	for _, k := range leftOver(recorded, keys, matched) {
		rec, _ := recorded.Get(k)
		it := orphan(cfg, k, rec)
		if it.Action == Delete {
			if names == nil {
				names = make(map[Key]string, 2*len(cfg.Spaces))
				for _, s := range cfg.Spaces {
					names[KeyOf(s.RecordKey())] = s.DisplayName
					names[KeyOf(s.DisplayName)] = s.DisplayName
				}
				holders = make(map[string][]string, recorded.Len())
				for k2 := range recorded.Keys() {
					if r2, _ := recorded.Get(k2); r2.Name != "" && len(holders[r2.Name]) < 2 {
						holders[r2.Name] = append(holders[r2.Name], k2)
					}
				}
			}
			// A record of a space the config names, in another case or
			// form, beside the record the config's space took (two
			// entries of one identity, from configs edited between runs),
			// or a space another entry records too: which one is meant
			// cannot be told, so it is not deleted.
			for _, n := range []string{k, it.Key, currentName(k, rec)} {
				if s, ok := names[KeyOf(n)]; ok {
					it.Action = Orphan
					it.Warnings = append(it.Warnings, fmt.Sprintf("not deleted: the config names %q, which is this space's name in another case or Unicode form; remove one of the two entries from the results file to settle which space the config means", s))
					break
				}
			}
			if other := holderOf(holders, k, rec.Name); it.Action == Delete && other != "" {
				it.Action = Orphan
				it.Warnings = append(it.Warnings, fmt.Sprintf("not deleted: %s is recorded under %q too; remove one of the two entries from the results file to settle which it is", rec.Name, other))
			}
		}
		orphans = append(orphans, it)
	}
	slices.SortFunc(orphans, func(a, b Item) int { return strings.Compare(key(a), key(b)) })
	p.Items = append(p.Items, orphans...)
	heldNames(p, orphans)
	hintRenames(cfg, p, recorded)
	guard(cfg, p)
	return p
}

// wasStatus is the status an unreachable space had before access was
// lost; "existing" when the record does not say, since --prune deletes
// only what it knows this tool created.
func wasStatus(rec Recorded) string {
	if rec.Was == "created" {
		return "created"
	}
	return "existing"
}

// WarnUnreachable begins the warning of a space this caller lost access
// to; unreachableWarning adds how it was told and what to do.
const WarnUnreachable = "this account lost access to the space"

func unreachableWarning(rec Recorded) string {
	how := "recorded as unreachable"
	switch {
	case rec.Unreachable:
		how = "an administrator's read finds it"
	case rec.Lost != 0:
		how = fmt.Sprintf("the API answers %d to this account: deleted, or no longer shared with it", rec.Lost)
	}
	return fmt.Sprintf("%s (%s): %s; kept as recorded, never created again or deleted. Add the account back to the space, or run with --admin --refresh to read it as an administrator", WarnUnreachable, rec.Name, how)
}

// NoOwner is the warning of a space an app creates without owners: the
// Chat app is not made an owner of the spaces it creates (SPEC §1), so no
// person could manage it.
const NoOwner = "no person will own this space: a Chat app is not made an owner of the spaces it creates; list someone under owners:"

// warn adds the plan's warnings to an item.
func warn(cfg *Config, it Item) Item {
	if cfg.App && (it.Action == Create || it.Action == Retry) && len(it.Space.Owners) == 0 {
		it.Warnings = append(it.Warnings, NoOwner)
	}
	return it
}

// Counts returns how many items the plan has of each action.
func (p *Plan) Counts() Counts {
	var c Counts
	for _, it := range p.Items {
		switch it.Action {
		case Create:
			c.Create++
		case Update:
			c.Update++
		case Retry:
			c.Retry++
		case Exists:
			c.Unchanged++
		case Orphan:
			c.Orphan++
		case Delete:
			c.Delete++
		case Unreachable:
			c.Unreachable++
		}
	}
	return c
}

// Changes reports whether applying the plan makes any write call.
func (c Counts) Changes() bool {
	return c.Create+c.Update+c.Retry+c.Delete > 0
}

// leftOver returns the recorded keys no space took (keys, from Match, of
// which matched are taken), in no order: none, and no set of the taken
// keys built, when every record was taken.
func leftOver(recorded Records, keys []string, matched int) []string {
	if matched == recorded.Len() {
		return nil
	}
	used := make(map[string]bool, matched)
	for _, k := range keys {
		if k != "" {
			used[k] = true
		}
	}
	var out []string
	for k := range recorded.Keys() {
		if !used[k] {
			out = append(out, k)
		}
	}
	return out
}
