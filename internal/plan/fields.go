// The keys of a space and of defaults: which are known, what each may
// hold, and a suggestion for a key that is not.

package plan

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// opt is a setting that may be absent (or null, which counts as absent).
type opt[T any] struct {
	v   T
	set bool
}

func (o opt[T]) or(def opt[T]) T {
	if o.set {
		return o.v
	}
	return def.v
}

// controlChar tells a control character a text may not hold: all but the
// line break, carriage return and tab.
func controlChar(r rune) bool {
	return (r < ' ' && r != '\n' && r != '\t' && r != '\r') || r == 0x7f
}

// settings are what defaults and spaces have in common, as written.
type settings struct {
	// permissions is the preset; perms the fine-grained permissions
	// (PermissionKeys → owners | managers | members), nil when none.
	description, guidelines, history, audience, permissions opt[string]
	welcome                                                 opt[string]
	externalUsers, adopt                                    opt[bool]
	perms                                                   map[string]string
	members, owners, managers                               []string
	// ownersAt and managersAt are where each of owners and managers is
	// written, for the message about a person given both roles.
	ownersAt, managersAt []*yaml.Node
	// file is the file those nodes are in, when it is not the one being
	// read: the config's, for the defaults applied to an included file.
	file string
}

func boolPtr(own, def opt[bool]) *bool {
	switch {
	case own.set:
		return &own.v
	case def.set:
		return &def.v
	}
	return nil
}

// fields checks a mapping's keys (unknown, duplicated, not strings) and calls
// f for each known key, in file order, with the key's canonical spelling.
func (p *parser) fields(m *yaml.Node, where string, known []string, f func(key string, k, v *yaml.Node)) {
	// seen is indexed like known: duplicates are found without a map, and
	// duplicates of unknown keys need no report beyond "unknown".
	var seen [16]*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if p.tooDeep {
			return
		}
		k := p.resolve(m.Content[i])
		if k == nil {
			return
		}
		v := m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.add(k, "a key %s must be a string, not a %s", where, kindName(k))
			continue
		}
		if k.Tag == "!!merge" {
			p.add(k, `merge keys ("<<") are not supported; put shared settings under defaults`)
			continue
		}
		idx := -1
		for j, name := range known {
			if k.Value == name {
				idx = j
				break
			}
		}
		if idx < 0 {
			p.unknownKey(k, where, known)
			continue
		}
		if first := seen[idx]; first != nil {
			p.add(k, "duplicate key %q %s (first at line %d)", k.Value, where, first.Line)
			continue
		}
		seen[idx] = k
		f(known[idx], k, v)
	}
}

func (p *parser) unknownKey(k *yaml.Node, where string, known []string) {
	if where == "in defaults" && (k.Value == "displayName" || k.Value == "key") {
		p.add(k, "%s cannot be set in defaults: each space has its own", k.Value)
		return
	}
	if where == "in permissions" && k.Value == "postMessages" {
		p.add(k, "permissions.postMessages cannot be set: the Chat API only reports it (output only)")
		return
	}
	if s := suggest(k.Value, known); s != "" {
		p.add(k, "unknown key %s %s; did you mean %q?", quote(k.Value), where, s)
		return
	}
	p.add(k, "unknown key %s %s (known keys: %s)", quote(k.Value), where, strings.Join(known, ", "))
}

// suggest returns the known key closest to a misspelt one, or "" when none is
// close: same letters in another case, or an edit distance of at most 2
// (1 for short keys).
func suggest(key string, known []string) string {
	if len(key) > 64 {
		return ""
	}
	lower := strings.ToLower(key)
	best, bestDist := "", 3
	for _, k := range known {
		kl := strings.ToLower(k)
		if lower == kl || strings.ReplaceAll(strings.ReplaceAll(lower, "_", ""), "-", "") == kl {
			return k
		}
		limit := 2
		if len(k) < 6 {
			limit = 1
		}
		if d := distance(lower, kl); d <= limit && d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance between two short strings.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	return editDistance(ra, rb, max(len(ra), len(rb)))
}

// setting validates one key shared by defaults and spaces into s.
func (p *parser) setting(s *settings, key string, k, v *yaml.Node) {
	switch key {
	case "description", "guidelines":
		text, ok := p.text(k, v)
		if !ok {
			return
		}
		limit := MaxDescription
		if key == "guidelines" {
			limit = MaxGuidelines
		}
		if count := utf8.RuneCountInString(text); count > limit {
			p.add(v, "%s is %d characters, over the limit of %d: %s", key, count, limit, quote(text))
			return
		}
		if i := strings.IndexFunc(text, controlChar); i >= 0 {
			p.add(v, "%s contains control character %U: only line breaks and tabs may be in it", key, []rune(text[i:])[0])
			return
		}
		if key == "description" {
			s.description = opt[string]{text, true}
		} else {
			s.guidelines = opt[string]{text, true}
		}
	case "history":
		v = p.resolve(v)
		if v == nil || isNull(v) {
			return
		}
		if v.Kind == yaml.ScalarNode {
			// YAML 1.1 read on/off as booleans and the parser reads
			// true/false so; accept both spellings.
			switch strings.ToLower(v.Value) {
			case "on", "true":
				if v.Tag == "!!str" || v.Tag == "!!bool" {
					s.history = opt[string]{"on", true}
					return
				}
			case "off", "false":
				if v.Tag == "!!str" || v.Tag == "!!bool" {
					s.history = opt[string]{"off", true}
					return
				}
			}
		}
		p.add(v, `history must be "on" or "off", not %s`, valueOf(v))
	case "externalUsers":
		v = p.resolve(v)
		if v == nil || isNull(v) {
			return
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
			if b, err := strconv.ParseBool(strings.ToLower(v.Value)); err == nil {
				s.externalUsers = opt[bool]{b, true}
				return
			}
		}
		p.add(v, "externalUsers must be true or false, not %s", valueOf(v))
	case "welcome":
		text, ok := p.text(k, v)
		if !ok {
			return
		}
		switch {
		case len(text) > MaxWelcome:
			p.add(v, "welcome is %d bytes, over the limit of %d of a Chat message", len(text), MaxWelcome)
		case strings.ContainsFunc(text, controlChar):
			p.add(v, "welcome contains a control character; only line breaks and tabs may be in a message")
		case text != "" && !strings.ContainsFunc(text, func(r rune) bool { return !invisible(r) }) && strings.TrimSpace(text) != "":
			p.add(v, "welcome has only invisible characters (%s): a message must show", runeList(text))
		default:
			// An empty welcome in a space turns the defaults' off.
			s.welcome = opt[string]{strings.TrimSpace(text), true}
		}
	case "adopt":
		v = p.resolve(v)
		if v == nil || isNull(v) {
			return
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
			if b, err := strconv.ParseBool(strings.ToLower(v.Value)); err == nil {
				s.adopt = opt[bool]{b, true}
				return
			}
		}
		p.add(v, "adopt must be true or false, not %s", valueOf(v))
	case "audience":
		text, ok := p.text(k, v)
		if !ok {
			return
		}
		a, valid := audience(text)
		if !valid {
			p.add(v, `audience must be "default" or "audiences/ID", not %s`, quote(text))
			return
		}
		if p.opts.App {
			p.add(v, "audience %s: app authentication cannot set a target audience (it needs user authentication)", quote(text))
			return
		}
		s.audience = opt[string]{a, true}
	case "permissions":
		p.permissions(s, k, v)
	case "members":
		s.members, _ = p.members(v, "member", "members")
	case "owners":
		s.owners, s.ownersAt = p.members(v, "owner", "owners")
	case "managers":
		s.managers, s.managersAt = p.members(v, "manager", "managers")
	}
}

// audience normalises an audience value and says whether it is valid.
func audience(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "default") {
		return "default", true
	}
	id, ok := strings.CutPrefix(s, "audiences/")
	return s, ok && idProblem("audiences/", id) == ""
}
