package plan

import (
	"iter"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The settings of a space: the permissions key (a preset or a mapping of
// fine-grained permissions) and Space.Settings, the settings a config
// states, by name.

// Who may do what a fine-grained permission governs, in the config's words
// (the Chat UI's roles: owners only; owners and managers; everyone).
const (
	WhoOwners   = "owners"
	WhoManagers = "managers"
	WhoMembers  = "members"
)

// Permission presets (predefinedPermissionSettings, creation only).
const (
	PresetCollaboration = "collaboration"
	PresetAnnouncement  = "announcement"
)

// permissionFields are the keys of a permissions mapping.
var permissionFields = append([]string{"preset"}, PermissionKeys...)

// IsPermissionKey reports whether key is one of PermissionKeys.
func IsPermissionKey(key string) bool {
	for _, k := range PermissionKeys {
		if k == key {
			return true
		}
	}
	return false
}

// PermissionAllowed is a fine-grained permission as the API's
// PermissionSetting states it (DD, PermissionSetting): who may, as the
// booleans managersAllowed (owners, ROLE_MANAGER), assistantManagersAllowed
// (managers, ROLE_ASSISTANT_MANAGER) and membersAllowed. Owners are allowed
// whatever the word, since "owners" is the narrowest setting the config
// has; ok is false for a word that is none of WhoOwners, WhoManagers and
// WhoMembers.
func PermissionAllowed(who string) (owners, managers, members, ok bool) {
	switch who {
	case WhoOwners:
		return true, false, false, true
	case WhoManagers:
		return true, true, false, true
	case WhoMembers:
		return true, true, true, true
	}
	return false, false, false, false
}

// PermissionWho is the config's word for a PermissionSetting read from the
// API, the inverse of PermissionAllowed; any other combination is "", which
// differs from every word a config can state, so that a refresh plans to
// set it.
func PermissionWho(owners, managers, members bool) string {
	switch {
	case owners && managers && members:
		return WhoMembers
	case owners && managers && !members:
		return WhoManagers
	case owners && !managers && !members:
		return WhoOwners
	}
	return ""
}

// permissions validates the permissions key into s: a preset, written as a
// scalar, or a mapping with an optional preset and any of PermissionKeys.
func (p *parser) permissions(s *settings, k, v *yaml.Node) {
	if v = p.resolve(v); v == nil || isNull(v) {
		return
	}
	switch v.Kind {
	case yaml.ScalarNode:
		if preset, ok := p.preset(v, "permissions"); ok {
			s.permissions = opt[string]{preset, true}
		}
		return
	case yaml.MappingNode:
	default:
		p.add(v, `permissions must be a preset ("collaboration" or "announcement") or a mapping of permissions, not a %s`, kindName(v))
		return
	}
	p.fields(v, "in permissions", permissionFields, func(key string, k, v *yaml.Node) {
		if key == "preset" {
			if v = p.resolve(v); v == nil || isNull(v) {
				return
			}
			if v.Kind != yaml.ScalarNode {
				p.add(v, "permissions.preset must be a string, not a %s", kindName(v))
				return
			}
			if preset, ok := p.preset(v, "permissions.preset"); ok {
				s.permissions = opt[string]{preset, true}
			}
			return
		}
		text, ok := p.text(k, v)
		if !ok {
			return
		}
		switch who := strings.ToLower(strings.TrimSpace(text)); who {
		case WhoOwners, WhoManagers, WhoMembers:
			if s.perms == nil {
				s.perms = make(map[string]string, len(PermissionKeys))
			}
			s.perms[key] = who
		default:
			p.add(p.resolve(v), `permissions.%s must be "owners", "managers" or "members" (who may: owners only; owners and managers; everyone), not %s`, key, quote(text))
		}
	})
}

// preset validates a preset written at v, field naming it in the message.
func (p *parser) preset(v *yaml.Node, field string) (string, bool) {
	switch lower := strings.ToLower(strings.TrimSpace(v.Value)); lower {
	case PresetCollaboration, PresetAnnouncement:
		return lower, true
	}
	p.add(v, `%s must be "collaboration" or "announcement", not %s`, field, quote(v.Value))
	return "", false
}

// mergePermissions is the fine-grained permissions of a space: the
// defaults', each overridden by the space's own. The result is shared with
// the inputs when one of them is empty; no one modifies these maps.
func mergePermissions(defaults, own map[string]string) map[string]string {
	switch {
	case len(own) == 0:
		return defaults
	case len(defaults) == 0:
		return own
	}
	out := make(map[string]string, len(defaults)+len(own))
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

// statesSettings reports whether s states any setting that Space.Settings
// holds.
func (s *settings) statesSettings() bool {
	return s.description.set || s.guidelines.set || s.history.set || s.audience.set ||
		s.externalUsers.set || s.permissions.set || len(s.perms) > 0
}

// stated returns Space.Settings for a space whose own settings are own,
// merged over defaults: the settings the config states, by name. A space
// that states none of its own shares the defaults' map, made once in
// *shared; no one modifies these maps.
func stated(defaults, own *settings, perms map[string]string, shared *Settings) Settings {
	if !own.statesSettings() {
		if *shared == nil && defaults.statesSettings() {
			*shared = settingsMap(defaults, defaults, perms)
		}
		return *shared
	}
	return settingsMap(defaults, own, perms)
}

// settingsMap builds Space.Settings from own's settings over defaults'.
func settingsMap(defaults, own *settings, perms map[string]string) Settings {
	n := len(perms)
	for _, set := range [...]bool{own.description.set || defaults.description.set, own.guidelines.set || defaults.guidelines.set,
		own.history.set || defaults.history.set, own.audience.set || defaults.audience.set,
		own.permissions.set || defaults.permissions.set, own.externalUsers.set || defaults.externalUsers.set} {
		if set {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	m := make(Settings, 0, n)
	text := func(name string, own, def opt[string]) {
		switch {
		case own.set:
			m = append(m, Setting{name, own.v})
		case def.set:
			m = append(m, Setting{name, def.v})
		}
	}
	text(SetDescription, own.description, defaults.description)
	text(SetGuidelines, own.guidelines, defaults.guidelines)
	text(SetHistory, own.history, defaults.history)
	switch {
	case own.audience.set:
		m = append(m, Setting{SetAudience, Space{Audience: own.audience.v}.AudienceName()})
	case defaults.audience.set:
		m = append(m, Setting{SetAudience, Space{Audience: defaults.audience.v}.AudienceName()})
	}
	text(SetPreset, own.permissions, defaults.permissions)
	if b := boolPtr(own.externalUsers, defaults.externalUsers); b != nil {
		m = append(m, Setting{SetExternalUsers, "false"})
		if *b {
			m[len(m)-1].Value = "true"
		}
	}
	for k, v := range perms {
		m = append(m, Setting{SetPermissionPrefix + k, v})
	}
	m.sort()
	return m
}

// Settings are settings by name (SetDescription…), as Space.Settings,
// Recorded.Settings and Item.RecordSettings hold them: sorted by name,
// each name once. A slice rather than a map: a space states a few
// settings, and the smallest Go map takes some 340 bytes for two, a
// slice of them 64, which a config of 100,000 spaces holds for each.
// nil and empty differ where Recorded.Settings says so.
type Settings []Setting

// Setting is one setting and its value, in the config's words.
type Setting struct{ Name, Value string }

// SettingsOf is the Settings of m: nil for nil, empty (not nil) for an
// empty map.
func SettingsOf(m map[string]string) Settings {
	if m == nil {
		return nil
	}
	s := make(Settings, 0, len(m))
	for k, v := range m {
		s = append(s, Setting{k, v})
	}
	s.sort()
	return s
}

func (s Settings) sort() {
	slices.SortFunc(s, func(a, b Setting) int { return strings.Compare(a.Name, b.Name) })
}

// Get is the value of the setting name, and whether s holds it.
func (s Settings) Get(name string) (string, bool) {
	for _, st := range s {
		if st.Name == name {
			return st.Value, true
		}
	}
	return "", false
}

// Map returns s as a map by name (nil for nil).
func (s Settings) Map() map[string]string {
	if s == nil {
		return nil
	}
	m := make(map[string]string, len(s))
	for _, st := range s {
		m[st.Name] = st.Value
	}
	return m
}

// All yields each setting's name and value, in name order.
func (s Settings) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, st := range s {
			if !yield(st.Name, st.Value) {
				return
			}
		}
	}
}
