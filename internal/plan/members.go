package plan

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// The members of a space: the syntax of members, owners and managers, and
// the rule that a person has one role.

// oneRole reports each person listed both as an owner and as a manager of a
// space, defaults included, at the later of the two places, naming the line
// of the other. A person has one role: ROLE_MANAGER ("Owner" in Chat) or
// ROLE_ASSISTANT_MANAGER ("Manager").
func (p *parser) oneRole(defaults, own *settings) {
	if len(defaults.owners)+len(own.owners) == 0 || len(defaults.managers)+len(own.managers) == 0 {
		return
	}
	// Where each owner is first listed: the defaults come first.
	ownerAt := make(map[string]*yaml.Node, len(defaults.owners)+len(own.owners))
	inDefaults := make(map[*yaml.Node]bool, len(defaults.owners)+len(defaults.managers))
	for _, s := range []*settings{defaults, own} {
		for i, m := range s.owners {
			if _, ok := ownerAt[m]; !ok {
				ownerAt[m] = s.ownersAt[i]
			}
			inDefaults[s.ownersAt[i]] = s == defaults
		}
	}
	// The defaults applied to an included file are in the config: a
	// place there is named with its file, and a problem of the defaults
	// alone is reported in it.
	other := defaults.file != "" && defaults.file != p.file
	file := func(n *yaml.Node) string {
		if other && inDefaults[n] {
			return defaults.file
		}
		return p.file
	}
	where := func(n *yaml.Node, from *yaml.Node) string {
		if file(n) != file(from) {
			return fmt.Sprintf("%s:%d:%d, in defaults", file(n), n.Line, n.Column)
		}
		return fmt.Sprintf("line %d", n.Line)
	}
	reported := make(map[string]bool)
	for _, s := range []*settings{defaults, own} {
		for i, m := range s.managers {
			o, ok := ownerAt[m]
			if !ok || reported[m] {
				continue
			}
			reported[m] = true
			g := s.managersAt[i]
			inDefaults[g] = s == defaults
			// At the later of the two places, or, across files, at the
			// one in the file being read.
			atManager := writtenBefore(o, g)
			if file(o) != file(g) {
				atManager = file(g) == p.file
			}
			if atManager {
				p.addIn(file(g), g, "manager %s is also listed as an owner (%s): a person has one role", quote(strings.TrimSpace(g.Value)), where(o, g))
			} else {
				p.addIn(file(o), o, "owner %s is also listed as a manager (%s): a person has one role", quote(strings.TrimSpace(o.Value)), where(g, o))
			}
		}
	}
}

// addIn is add for a node of the given file.
func (p *parser) addIn(file string, n *yaml.Node, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)})
}

// writtenBefore reports whether node a is written before node b.
func writtenBefore(a, b *yaml.Node) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
}

// members validates a list of members, owners or managers and returns their
// resource names, de-duplicated, in order, with the node each was first
// written at.
func (p *parser) members(v *yaml.Node, what, field string) ([]string, []*yaml.Node) {
	if v = p.resolve(v); v == nil || isNull(v) {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		p.add(v, "%s must be a list, not %s", field, describe(v))
		return nil, nil
	}
	out := make([]string, 0, len(v.Content))
	// Only owners and managers need their positions (for oneRole); at is
	// filled for every list, alongside out, but allocated only for them.
	role := what == "owner" || what == "manager"
	var at []*yaml.Node
	if role {
		at = make([]*yaml.Node, 0, len(v.Content))
	}
	for _, item := range v.Content {
		if p.tooDeep {
			return nil, nil
		}
		n := p.resolve(item)
		if n == nil {
			return nil, nil
		}
		if n.Kind != yaml.ScalarNode || isNull(n) {
			p.add(n, "each of %s must be a string, not a %s", field, kindName(n))
			continue
		}
		if role && strings.HasPrefix(strings.TrimSpace(n.Value), "group:") {
			p.add(n, "%s %s is a Google Group: the Chat API cannot make a group %s", what, quote(n.Value), article(what))
			continue
		}
		name, why := Member(n.Value)
		if why != "" {
			p.add(n, "%s %s %s", what, quote(n.Value), why)
			continue
		}
		if IsGroup(name) {
			if role {
				p.add(n, "%s %s is a Google Group: the Chat API cannot make a group %s", what, quote(n.Value), article(what))
				continue
			}
			if p.opts.App {
				p.add(n, "member %s is a Google Group: app authentication cannot add Google Groups", quote(n.Value))
				continue
			}
		}
		out = append(out, name)
		if role {
			at = append(at, n)
		}
	}
	// De-duplicate in place, keeping the first of each (and its position).
	k := 0
	keep := func(i int) {
		out[k] = out[i]
		if at != nil {
			at[k] = at[i]
		}
		k++
	}
	if len(out) <= 16 {
		// A scan beats a map for a few names.
		for i, m := range out {
			if !contains(out[:k], m) {
				keep(i)
			}
		}
	} else {
		seen := make(map[string]bool, len(out))
		for i, m := range out {
			if !seen[m] {
				seen[m] = true
				keep(i)
			}
		}
	}
	if at != nil {
		at = at[:k]
	}
	return out[:k], at
}

// article puts "a" or "an" before a role: "an owner", "a manager".
func article(role string) string {
	if role == "owner" {
		return "an " + role
	}
	return "a " + role
}

// Member normalises a member as written in a config file to its resource
// name: an email becomes users/EMAIL, lower-cased; users/ID and groups/ID are
// kept (the email in users/EMAIL lower-cased). When s is none of those, it
// returns why, as the end of a sentence starting with the value.
func Member(s string) (name, why string) {
	s = strings.TrimSpace(s)
	if email, ok := strings.CutPrefix(s, GroupPrefix); ok {
		// A group by its email, resolved through Cloud Identity when the
		// run needs its groups/ID.
		if why := checkEmail(email); why != "" {
			return "", why
		}
		return GroupPrefix + strings.ToLower(email), ""
	}
	for _, prefix := range []string{"users/", "groups/"} {
		id, ok := strings.CutPrefix(s, prefix)
		if !ok {
			continue
		}
		if prefix == "users/" && strings.Contains(id, "@") {
			if why := checkEmail(id); why != "" {
				return "", why
			}
			return "users/" + strings.ToLower(id), ""
		}
		if why := idProblem(prefix, id); why != "" {
			return "", "is not a valid resource name: " + why
		}
		if prefix == "users/" && !strings.EqualFold(id, "app") && strings.Trim(id, "0123456789") != "" {
			// The Chat API names people users/{numeric ID} or
			// users/{email} (DD, User.name); anything else is refused
			// with the whole space.
			return "", "is not a valid resource name: a user's ID is a number (users/123456789), or use the email"
		}
		if prefix == "users/" && strings.EqualFold(id, "app") {
			return "", "is the calling Chat app, not a person: list people by email or users/ID"
		}
		return s, ""
	}
	if !strings.Contains(s, "@") {
		return "", "is not an email address, users/ID, groups/ID or group:EMAIL"
	}
	if why := checkEmail(s); why != "" {
		return "", why
	}
	return "users/" + strings.ToLower(s), ""
}

// GroupPrefix names a Google Group by its email in a config
// (group:eng@example.com); the run resolves it to groups/ID.
const GroupPrefix = "group:"

// IsGroup reports whether a member's resource name is a group's, by ID
// (groups/ID) or by email (group:EMAIL).
func IsGroup(name string) bool {
	return strings.HasPrefix(name, "groups/") || strings.HasPrefix(name, GroupPrefix)
}

// idProblem says what makes id unfit to follow prefix ("users/") in a
// resource name, or returns "". An ID is letters, digits, "-", "_" and ".":
// what the Chat API's IDs are made of. Anything else (a "/", "%", "?" or
// "#") would change the resource named, or the request's URL, and make the
// API refuse the whole space; "." and ".." are path steps, not IDs.
func idProblem(prefix, id string) string {
	switch id {
	case "":
		return "nothing after " + prefix
	case ".", "..":
		return fmt.Sprintf("the ID after %s cannot be %q", prefix, id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Sprintf(`the ID after %s may hold only letters, digits, "-", "_" and ".", not %s`, prefix, runeName(r))
		}
	}
	return ""
}

// runeName names a character for a message: quoted when it shows,
// "a space", or its code point.
func runeName(r rune) string {
	switch {
	case r == ' ':
		return "a space"
	case unicode.IsPrint(r) && !invisible(r):
		return strconv.Quote(string(r))
	}
	return fmt.Sprintf("%U", r)
}

// checkEmail is a sanity check of an email's shape, not RFC 5322: it catches
// typos (two @, no domain, a stray space) without rejecting real addresses.
func checkEmail(s string) string {
	local, domain, _ := strings.Cut(s, "@")
	switch {
	case strings.Count(s, "@") > 1:
		return "is not a valid email address: more than one @"
	case strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || !unicode.IsPrint(r) || strings.ContainsRune(`,;:<>()[]\"`, r)
	}):
		return "is not a valid email address: it contains a space or a character not allowed"
	case local == "":
		return "is not a valid email address: nothing before the @"
	case domain == "":
		return "is not a valid email address: no domain after the @"
	case !strings.Contains(domain, "."):
		return "is not a valid email address: the domain has no dot"
	case strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return "is not a valid email address: the domain has an empty part"
	case strings.ContainsAny(local, "/?#%"):
		// Legal in an address, but the email goes into the URL of
		// members.get (spaces/S/members/EMAIL), where these would change
		// the resource named.
		return `is not an email address the Chat API can take: "/", "?", "#" and "%" cannot be in it`
	case strings.ContainsFunc(domain, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r > 0x7f)
	}):
		return "is not a valid email address: the domain may hold only letters, digits, \"-\" and \".\""
	}
	return ""
}

// merge concatenates lists of resource names, keeping the first of each.
// Emails are already lower-cased, so equal strings are equal members.
func merge(lists ...[]string) []string {
	total := 0
	for _, l := range lists {
		total += len(l)
	}
	if total == 0 {
		return nil
	}
	out := make([]string, 0, total)
	if total <= 16 {
		// Most spaces have a few members: a scan beats a map.
		for _, l := range lists {
			for _, m := range l {
				if !contains(out, m) {
					out = append(out, m)
				}
			}
		}
		return out
	}
	seen := make(map[string]bool, total)
	for _, l := range lists {
		for _, m := range l {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
