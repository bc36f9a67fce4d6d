package plan

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Changing a space's displayName in the config reads as "delete the old
// space, create a new one": under --prune, the old space and its history
// go. A delete beside a create that look like one space renamed is flagged
// in the plan with how to rename it in place instead.

// RenameHint is the warning under a delete that may be a rename of the
// space named newName.
func RenameHint(newName string) string {
	return fmt.Sprintf("this may be a rename of %q: to rename a space in place, keep its old name as key: and change displayName:", newName)
}

// maxRenamePairs bounds the pairs of deletes and creates whose names are
// compared by edit distance; beyond it, only the checks by map (same
// folded name, same members) are made, so a plan of thousands of both
// stays linear.
const maxRenamePairs = 10_000

// hintRenames warns on each Delete item of p that looks like a rename of a
// space p creates: the new space's members are those the deleted one was
// recorded with (the caller and the space's creator left out, at least one
// member), or the two names are similar (similarName). The first such
// create in config order is named.
func hintRenames(cfg *Config, p *Plan, recorded Records) {
	var creates, deletes []int
	for i, it := range p.Items {
		switch {
		case it.Action == Create:
			creates = append(creates, i)
		case it.Action == Delete:
			deletes = append(deletes, i)
		}
	}
	if len(creates) == 0 || len(deletes) == 0 {
		return
	}
	byFold := make(map[string]string, len(creates))
	byMembers := make(map[string]string, len(creates))
	shared := make(map[string]bool) // members keys of more than one create
	for _, i := range creates {
		s := p.Items[i].Space
		if f := foldName(s.DisplayName); f != "" {
			if _, ok := byFold[f]; !ok {
				byFold[f] = s.DisplayName
			}
		}
		if k := membersKey(cfg.Caller, "", s.Members); k != "" {
			if _, ok := byMembers[k]; ok {
				shared[k] = true
			} else {
				byMembers[k] = s.DisplayName
			}
		}
	}
	// Members that several new spaces share (defaults.members alone, say)
	// tell none of them apart: they are no sign of a rename.
	for k := range shared {
		delete(byMembers, k)
	}
	compare := len(creates)*len(deletes) <= maxRenamePairs
	for _, i := range deletes {
		it := &p.Items[i]
		rec, _ := recorded.Get(key(*it))
		match, ok := byFold[foldName(it.Key)]
		if !ok {
			match, ok = byMembers[membersKey(cfg.Caller, rec.Principal, rec.Members, rec.Owners, rec.Managers)]
		}
		for j := 0; !ok && compare && j < len(creates); j++ {
			if name := p.Items[creates[j]].Key; similarName(it.Key, name) {
				match, ok = name, true
			}
		}
		if ok {
			it.Warnings = append(it.Warnings, RenameHint(match))
		}
	}
}

// membersKey is a set of members as a string, emails in any case counting
// as one, the caller and the space's creator left out; "" for no member.
func membersKey(caller, principal string, lists ...[]string) string {
	var keys []string
	for _, l := range lists {
		for _, m := range l {
			if sameMember(m, caller) || sameMember(m, principal) {
				continue
			}
			keys = append(keys, memberKey(m))
		}
	}
	slices.Sort(keys)
	return strings.Join(slices.Compact(keys), "\n")
}

// foldName is a display name reduced to its letters and digits, lower
// case: names that differ only in case, punctuation and white space
// ("Team-Alpha", "team alpha") fold to the same.
func foldName(name string) string {
	var b strings.Builder
	// NFKC: full-width and other compatibility forms ("Ｚｅｄ", "ﬁ") read
	// as the letters they show.
	for _, r := range norm.NFKC.String(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// similarName reports whether two display names look like one name
// edited: they fold to the same (foldName), or, with the same digits in
// the same order, the folded names are at most one edit (insertion,
// deletion, substitution) per four characters of the longer apart
// ("Platform Team" → "Platform Teams", "Platfrom Engineering" → "Platform
// Engineering").
//
// Names that differ in their digits are never similar: they number a
// series ("Team 1", "Team 2"; "2026-Q1", "2026-Q2"), whose members are
// distinct spaces, and a new number beside an old one is the series going
// on, not a rename.
func similarName(a, b string) bool {
	fa, fb := []rune(foldName(a)), []rune(foldName(b))
	if len(fa) == 0 || len(fb) == 0 {
		return false
	}
	if string(fa) == string(fb) {
		return true
	}
	if digits(fa) != digits(fb) {
		return false
	}
	limit := max(len(fa), len(fb)) / 4
	return limit > 0 && editDistance(fa, fb, limit) <= limit
}

func digits(rs []rune) string {
	var b strings.Builder
	for _, r := range rs {
		if unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// editDistance is the Levenshtein distance between a and b, or limit+1
// once it is known to exceed limit.
func editDistance(a, b []rune, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
