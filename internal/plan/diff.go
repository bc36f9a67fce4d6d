package plan

import (
	"slices"
	"strings"
)

// Diff compares a config with what earlier runs recorded, keyed by display
// name as written then. It decides, it does not print: see WriteText and
// WriteJSON. Nothing is ever removed: members or managers recorded but no
// longer in the config are left alone, and so are recorded spaces no longer
// in the config (Orphan items, after the config's spaces, sorted by key).
//
// A record matches a config space with the same name, or failing that, one
// whose name differs only in case or surrounding white space (NameKey), as
// the server sees those as one space. Diff is linear in the number of spaces
// and members.
func Diff(cfg *Config, recorded map[string]Recorded) *Plan {
	p := &Plan{File: cfg.File, Items: make([]Item, 0, len(cfg.Spaces))}

	// byKey maps NameKey to the recorded key to use when there is no exact
	// match. Two recorded names with the same NameKey can only come from
	// configs edited between runs; the smallest wins, so that the choice
	// does not depend on map order.
	byKey := make(map[string]string, len(recorded))
	for k := range recorded {
		nk := NameKey(k)
		if prev, ok := byKey[nk]; !ok || k < prev {
			byKey[nk] = k
		}
	}
	used := make(map[string]bool, len(cfg.Spaces))

	for _, s := range cfg.Spaces {
		it := Item{Key: s.DisplayName, Space: s}
		key, ok := s.DisplayName, false
		if _, ok = recorded[key]; !ok || used[key] {
			key, ok = byKey[NameKey(s.DisplayName)]
			ok = ok && !used[key]
		}
		if !ok {
			it.Action = Create
			it.AddMembers, it.AddManagers = slices.Clip(s.Members), slices.Clip(s.Managers)
			p.Items = append(p.Items, it)
			continue
		}
		used[key] = true
		rec := recorded[key]
		if key != s.DisplayName {
			it.RecordedKey = key
		}
		switch {
		case rec.Gone:
			// The requestId belonged to the deleted space: reusing it
			// could return that space, so the applier makes a new one.
			it.Action = Create
			it.Recreate = true
			it.PreviousName = rec.Name
			it.AddMembers, it.AddManagers = slices.Clip(s.Members), slices.Clip(s.Managers)
		case rec.Status == "created" || rec.Status == "existing":
			it.Name, it.RequestID = rec.Name, rec.RequestID
			it.AddMembers = missing(s.Members, rec.Members, rec.Managers)
			it.AddManagers = missing(s.Managers, rec.Managers)
			it.Action = Exists
			if len(it.AddMembers) > 0 || len(it.AddManagers) > 0 {
				it.Action = Update
			}
		default:
			// Failed, or an entry a run left without a status: the
			// same requestId returns the space if the server made it.
			it.Action = Retry
			it.Name, it.RequestID = rec.Name, rec.RequestID
			it.AddMembers = missing(s.Members, rec.Members, rec.Managers)
			it.AddManagers = missing(s.Managers, rec.Managers)
		}
		p.Items = append(p.Items, it)
	}

	var orphans []Item
	for k, rec := range recorded {
		if !used[k] {
			orphans = append(orphans, Item{Action: Orphan, Key: k, Name: rec.Name, RequestID: rec.RequestID})
		}
	}
	slices.SortFunc(orphans, func(a, b Item) int { return strings.Compare(a.Key, b.Key) })
	p.Items = append(p.Items, orphans...)
	return p
}

// missing returns the names in want that have not been received, comparing
// emails case-insensitively. It returns nil when nothing is missing. A
// manager has been a member first, so managers received count as members.
func missing(want []string, received ...[]string) []string {
	n := 0
	for _, l := range received {
		n += len(l)
	}
	if n == 0 {
		return slices.Clip(want)
	}
	has := func(m string) bool {
		for _, l := range received {
			if slices.ContainsFunc(l, func(r string) bool { return sameMember(m, r) }) {
				return true
			}
		}
		return false
	}
	if n > 16 {
		// Beyond a few members, a set keeps the diff linear.
		set := make(map[string]bool, n)
		for _, l := range received {
			for _, m := range l {
				set[memberKey(m)] = true
			}
		}
		has = func(m string) bool { return set[memberKey(m)] }
	}
	var out []string
	for _, m := range want {
		if !has(m) {
			out = append(out, m)
		}
	}
	return out
}

// sameMember reports whether two resource names are the same member.
func sameMember(a, b string) bool {
	return a == b || (strings.Contains(a, "@") && strings.EqualFold(a, b))
}

// memberKey compares members: emails in any case are one person, other IDs
// are compared as they are.
func memberKey(name string) string {
	if strings.Contains(name, "@") {
		return strings.ToLower(name)
	}
	return name
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
		}
	}
	return c
}

// Changes reports whether applying the plan makes any write call.
func (c Counts) Changes() bool {
	return c.Create+c.Update+c.Retry > 0
}
