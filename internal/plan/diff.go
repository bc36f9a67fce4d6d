package plan

import (
	"crypto/sha256"
	"encoding/hex"
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
	p := &Plan{File: cfg.File, Items: make([]Item, 0, len(cfg.Spaces))}
	keys := Match(cfg.Spaces, recorded)
	used := make(map[string]bool, len(cfg.Spaces))
	// The identities of the recorded keys the config's spaces took: a new
	// space may not be recorded under one of them.
	var taken map[Key]string
	for i, k := range keys {
		if k != "" {
			if taken == nil {
				taken = make(map[Key]string)
			}
			taken[KeyOf(k)] = cfg.Spaces[i].DisplayName
		}
	}

	for i, s := range cfg.Spaces {
		it := Item{Key: s.DisplayName, Space: s}
		key := keys[i]
		if key == "" {
			if k := s.RecordKey(); k != s.DisplayName {
				it.RecordedKey = k
			}
			if other, ok := taken[KeyOf(s.RecordKey())]; ok {
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
		used[key] = true
		rec := recorded[key]
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
	for k, rec := range recorded {
		if used[k] {
			continue
		}
		it := orphan(cfg, k, rec)
		if it.Action == Delete {
			if names == nil {
				names = make(map[Key]string, 2*len(cfg.Spaces))
				for _, s := range cfg.Spaces {
					names[KeyOf(s.RecordKey())] = s.DisplayName
					names[KeyOf(s.DisplayName)] = s.DisplayName
				}
				holders = make(map[string][]string, len(recorded))
				for k2, r2 := range recorded {
					if n := r2.Name; n != "" && len(holders[n]) < 2 {
						holders[n] = append(holders[n], k2)
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

// heldNames warns on each rename to a name that a recorded space no longer
// in the config has: the API refuses the rename while that space exists,
// and --prune deletes it only after everything else, and only when nothing
// failed.
func heldNames(p *Plan, orphans []Item) {
	if len(orphans) == 0 {
		return
	}
	held := make(map[Key]Item, len(orphans))
	for _, o := range orphans {
		held[KeyOf(o.Key)] = o
	}
	for i := range p.Items {
		it := &p.Items[i]
		if it.Rename == nil {
			continue
		}
		if o, ok := held[KeyOf(it.Rename.To)]; ok {
			it.Warnings = append(it.Warnings, fmt.Sprintf("%q is the name of %s, recorded and no longer in the config: the API refuses the rename while that space has the name, and --prune deletes only after every rename; delete or rename that space first, then this one", it.Rename.To, o.Name))
		}
	}
}

// holderOf is a key other than k whose entry records the space name, or
// "".
func holderOf(holders map[string][]string, k, name string) string {
	for _, h := range holders[name] {
		if h != k {
			return h
		}
	}
	return ""
}

// key is the results file's key of an item.
func key(it Item) string {
	if it.RecordedKey != "" {
		return it.RecordedKey
	}
	return it.Key
}

// recordedName is the display name the record gives the space under key:
// the one it was last renamed to, or the key itself; in NFC, so that a
// record written before names were normalised is not taken for a rename.
func recordedName(key string, rec Recorded) string {
	if rec.DisplayName != "" {
		return Text(rec.DisplayName)
	}
	return Text(key)
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

// Match pairs each config space with the key of its record, "" for none.
// Identity decides (KeyOf), in order of strength, each pass taking only
// records no earlier pass took:
//
//  1. a key: as a recorded key (as written, then in any case or form);
//  2. a key: as the name a recorded space has (currentName: the "old name"
//     of a second rename);
//  3. the display name as the name a recorded space has;
//  4. the display name of a space without key: as a recorded key (a space
//     renamed back, or renamed in the Chat UI and read so by --refresh);
//  5. the display name of a space with a key: as a recorded key (a key:
//     added to a space recorded under its name).
//
// A space without key: is thus found by the name its space has before the
// key an entry once had: after a rename whose key: was dropped, the old
// name may name a new space. Two records of one identity (from configs
// edited between runs) resolve to the smallest key, so that the choice
// does not depend on map order; Diff deletes neither (see Diff).
func Match(spaces []Space, recorded map[string]Recorded) []string {
	keys := make([]string, len(spaces))
	if len(recorded) == 0 {
		return keys
	}
	byKey := make(map[Key]string, len(recorded))
	byName := make(map[Key]string, len(recorded))
	for k, rec := range recorded {
		for _, idx := range []struct {
			m  map[Key]string
			id Key
		}{{byKey, KeyOf(k)}, {byName, KeyOf(currentName(k, rec))}} {
			if prev, ok := idx.m[idx.id]; !ok || k < prev {
				idx.m[idx.id] = k
			}
		}
	}
	taken := make(map[string]bool, len(spaces))
	pass := func(f func(s Space) (string, bool)) {
		for i, s := range spaces {
			if keys[i] != "" {
				continue
			}
			if k, ok := f(s); ok && !taken[k] {
				keys[i], taken[k] = k, true
			}
		}
	}
	explicit := func(s Space) bool { return s.Key != "" && s.Key != s.DisplayName }
	pass(func(s Space) (string, bool) {
		if !explicit(s) {
			return "", false
		}
		if _, ok := recorded[s.Key]; ok {
			return s.Key, true
		}
		k, ok := byKey[KeyOf(s.Key)]
		return k, ok
	})
	pass(func(s Space) (string, bool) {
		if !explicit(s) {
			return "", false
		}
		k, ok := byName[KeyOf(s.Key)]
		return k, ok
	})
	pass(func(s Space) (string, bool) {
		if _, ok := recorded[s.DisplayName]; ok && !explicit(s) && KeyOf(currentName(s.DisplayName, recorded[s.DisplayName])) == KeyOf(s.DisplayName) {
			return s.DisplayName, true // the common case, without a lookup
		}
		k, ok := byName[KeyOf(s.DisplayName)]
		return k, ok
	})
	pass(func(s Space) (string, bool) {
		if explicit(s) {
			return "", false
		}
		if _, ok := recorded[s.DisplayName]; ok {
			return s.DisplayName, true
		}
		k, ok := byKey[KeyOf(s.DisplayName)]
		return k, ok
	})
	pass(func(s Space) (string, bool) {
		k, ok := byKey[KeyOf(s.DisplayName)]
		return k, ok && explicit(s)
	})
	return keys
}

// currentName is the display name of a record's space: what a refresh
// read, else the name recorded (recordedName).
func currentName(key string, rec Recorded) string {
	if rec.Live != nil && rec.Live.DisplayName != "" {
		return Text(rec.Live.DisplayName)
	}
	return recordedName(key, rec)
}

// WelcomeID is the client-assigned ID of a space's welcome message:
// "client-welcome-" and a hash of the space's key (its identity: the same
// across a rename) (DD, messages.create
// messageId: begins with client-, up to 63 lower-case letters, digits and
// hyphens, unique in the space). One ID per space, whatever the text: a
// retry, a lost answer or a crash, even one followed by an edit of the
// text, meets the message already posted (ALREADY_EXISTS, or the replay of
// the same requestId) and never posts a second.
func WelcomeID(key string) string {
	sum := sha256.Sum256([]byte(KeyOf(key).String()))
	return "client-welcome-" + hex.EncodeToString(sum[:12])
}

// WelcomeHash identifies a welcome's text in the results file, so that a
// plan can tell a text changed since it was posted.
func WelcomeHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// welcome plans the welcome message of a recorded space: posted once, when
// the config has one and the record none; a text changed since it was
// posted is not posted again, and the plan says so.
func welcome(it *Item, s Space, rec Recorded) {
	if s.Welcome == "" {
		return
	}
	if rec.Welcome == "" {
		it.Welcome = true
		return
	}
	if rec.WelcomeHash != "" && rec.WelcomeHash != WelcomeHash(s.Welcome) {
		it.Warnings = append(it.Warnings, WarnWelcome)
	}
}

// WarnWelcome is the warning of a welcome text changed after it was posted.
const WarnWelcome = "the welcome message was posted already; a changed text is not posted again"

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
