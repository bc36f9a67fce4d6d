package plan

import (
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
func stated(defaults, own *settings, perms map[string]string, shared *map[string]string) map[string]string {
	if !own.statesSettings() {
		if *shared == nil && defaults.statesSettings() {
			*shared = settingsMap(defaults, defaults, perms)
		}
		return *shared
	}
	return settingsMap(defaults, own, perms)
}

// settingsMap builds Space.Settings from own's settings over defaults'.
func settingsMap(defaults, own *settings, perms map[string]string) map[string]string {
	m := make(map[string]string, 7+len(perms))
	text := func(name string, own, def opt[string]) {
		switch {
		case own.set:
			m[name] = own.v
		case def.set:
			m[name] = def.v
		}
	}
	text(SetDescription, own.description, defaults.description)
	text(SetGuidelines, own.guidelines, defaults.guidelines)
	text(SetHistory, own.history, defaults.history)
	text(SetAudience, own.audience, defaults.audience)
	text(SetPreset, own.permissions, defaults.permissions)
	if a, ok := m[SetAudience]; ok {
		m[SetAudience] = Space{Audience: a}.AudienceName()
	}
	if b := boolPtr(own.externalUsers, defaults.externalUsers); b != nil {
		m[SetExternalUsers] = "false"
		if *b {
			m[SetExternalUsers] = "true"
		}
	}
	for k, v := range perms {
		m[SetPermissionPrefix+k] = v
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
