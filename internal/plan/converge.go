// Members and roles converging: what a space still has to receive, from
// the record or from what a refresh read.

package plan

import (
	"slices"
	"strings"
)

// recordedRole returns the role rec says this tool gave each member: owner
// if recorded among the owners, manager among the managers, else member.
func recordedRole(rec Recorded) func(m string) Role {
	owners, managers := newMemberSet(rec.Owners), newMemberSet(rec.Managers)
	return func(m string) Role {
		switch {
		case owners.has(m):
			// An owner recorded as a manager too (a hand-edited file):
			// owner is the role that must not linger by mistake.
			return RoleOwner
		case managers.has(m):
			return RoleManager
		}
		return RoleMember
	}
}

// converge returns what space s still has to receive, given what rec says
// it has received: the members to add, and the role changes to make after
// them, in the order owners, managers, then members demoted. A member's
// desired role is owner if listed in s.Owners, manager if in s.Managers,
// else member; its recorded role is owner if in rec.Owners, manager if in
// rec.Managers, else member (and member for one not yet received). People
// recorded but no longer in the config are left alone.
func converge(s Space, rec Recorded) (add []string, roles []RoleChange) {
	received := newMemberSet(rec.Members, rec.Owners, rec.Managers)
	add = received.missing(s.Members)
	if len(rec.Owners)+len(rec.Managers) == 0 {
		// Nothing recorded with a role: every owner and manager is a
		// member now (or about to be).
		for _, m := range s.Owners {
			roles = append(roles, RoleChange{Member: m, From: RoleMember, To: RoleOwner})
		}
		for _, m := range s.Managers {
			roles = append(roles, RoleChange{Member: m, From: RoleMember, To: RoleManager})
		}
		return add, roles
	}
	was := recordedRole(rec)
	for _, m := range s.Owners {
		if from := was(m); from != RoleOwner {
			roles = append(roles, RoleChange{Member: m, From: from, To: RoleOwner})
		}
	}
	for _, m := range s.Managers {
		if from := was(m); from != RoleManager {
			roles = append(roles, RoleChange{Member: m, From: from, To: RoleManager})
		}
	}
	// Demotions: members the config gives no role but the record does.
	// Only people recorded with a role can need one, so the config's
	// members are looked at only when there are such people.
	wanted := newMemberSet(s.Owners, s.Managers)
	for _, m := range s.Members {
		if from := was(m); from != RoleMember && !wanted.has(m) {
			roles = append(roles, RoleChange{Member: m, From: from, To: RoleMember})
		}
	}
	return add, roles
}

// convergeLive is converge against the members a refresh read: the space
// has Live.Members with Live.Roles (members matched by email, or through
// the users/ID recorded for them). The config's members the space lacks
// are added, even if recorded as received (someone removed them in the
// Chat UI). Roles the config raises are raised; a role is lowered only
// when the record shows this tool gave it (the recorded role is the live
// one): a role given in the Chat UI to someone the config lists as a
// member stays. The caller (Live.Caller) is left alone.
func convergeLive(s Space, rec Recorded) (add []string, roles []RoleChange) {
	live := rec.Live
	in := newMemberSet(live.Members)
	var liveRole map[string]Role
	if len(live.Roles) > 0 {
		liveRole = make(map[string]Role, len(live.Roles))
		for m, r := range live.Roles {
			liveRole[memberKey(m)] = r
		}
	}
	// now is the member's role in the space, and whether it is there.
	now := func(m string) (Role, bool) {
		id := lookupID(rec.IDs, m)
		switch {
		case in.has(m):
			if r, ok := liveRole[memberKey(m)]; ok {
				return r, true
			}
			if id != "" {
				if r, ok := liveRole[id]; ok {
					return r, true
				}
			}
			return RoleMember, true
		case id != "" && in.has(id):
			if r, ok := liveRole[id]; ok {
				return r, true
			}
			return RoleMember, true
		}
		return RoleMember, false
	}
	given := recordedRole(rec)
	change := func(m string, to Role) {
		from, _ := now(m)
		if from == to || (to.Rank() < from.Rank() && given(m) != from) {
			return
		}
		roles = append(roles, RoleChange{Member: m, From: from, To: to})
	}
	for _, m := range s.Members {
		if sameMember(m, live.Caller) {
			continue
		}
		if _, ok := now(m); !ok {
			add = append(add, m)
		}
	}
	for _, m := range s.Owners {
		if !sameMember(m, live.Caller) {
			change(m, RoleOwner)
		}
	}
	for _, m := range s.Managers {
		if !sameMember(m, live.Caller) {
			change(m, RoleManager)
		}
	}
	wanted := newMemberSet(s.Owners, s.Managers)
	for _, m := range s.Members {
		if !wanted.has(m) && !sameMember(m, live.Caller) {
			change(m, RoleMember)
		}
	}
	return add, roles
}

// memberSet answers "is this member in these lists?", comparing emails
// case-insensitively. Most spaces have a few members: a scan beats a map;
// beyond a few, a map keeps the diff linear.
type memberSet struct {
	lists [][]string
	set   map[string]bool // nil: scan lists
	n     int
}

func newMemberSet(lists ...[]string) memberSet {
	s := memberSet{lists: lists}
	for _, l := range lists {
		s.n += len(l)
	}
	if s.n > 16 {
		s.set = make(map[string]bool, s.n)
		for _, l := range lists {
			for _, m := range l {
				s.set[memberKey(m)] = true
			}
		}
	}
	return s
}

func (s memberSet) has(m string) bool {
	if s.set != nil {
		return s.set[memberKey(m)]
	}
	for _, l := range s.lists {
		if slices.ContainsFunc(l, func(r string) bool { return sameMember(m, r) }) {
			return true
		}
	}
	return false
}

// missing returns the names in want that are not in the set, or nil when
// none is.
func (s memberSet) missing(want []string) []string {
	if s.n == 0 {
		return slices.Clip(want)
	}
	var out []string
	for _, m := range want {
		if !s.has(m) {
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
