package results

import (
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Setting names of a Settings event and of Flat, as the planner names them
// (plan.SetDescription…). This package does not import the planner: the
// names are the format of the journal, fixed here, and a test checks that
// both packages agree.
const (
	settingDescription   = "description"
	settingGuidelines    = "guidelines"
	settingHistory       = "history"
	settingAudience      = "audience"
	settingExternalUsers = "externalUsers"
	settingPermissions   = "permissions." // + "preset" or a permission key
	permissionPreset     = "preset"
)

// permissionKeys are the fine-grained permissions a Settings may hold
// (plan.PermissionKeys: the settable fields of permissionSettings).
var permissionKeys = []string{"manageMembersAndGroups", "modifySpaceDetails", "toggleHistory", "useAtMentionAll", "manageApps", "manageWebhooks", "replyMessages"}

// Flat returns the settings by setting name, as the planner compares them
// (Recorded.Settings): "description", "guidelines", "history", "audience",
// "externalUsers" ("true" or "false"), "permissions.preset" and
// "permissions.KEY". Settings not recorded are absent. A nil Settings (an
// entry recorded before settings were) is nil; an empty one is an empty,
// non-nil map: the entry records settings, and none was stated.
func (s *Settings) Flat() map[string]string {
	if s == nil {
		return nil
	}
	m := make(map[string]string, s.Len())
	for k, v := range s.All() {
		m[k] = v
	}
	return m
}

// Len is the number of settings Flat holds.
func (s *Settings) Len() int {
	if s == nil {
		return 0
	}
	n := len(s.Permissions)
	for _, set := range [...]bool{s.Description != nil, s.Guidelines != nil, s.History != "", s.Audience != "", s.ExternalUsers != nil} {
		if set {
			n++
		}
	}
	return n
}

// All yields what Flat holds, name and value, without building the map;
// in no particular order.
func (s *Settings) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		if s == nil {
			return
		}
		if s.Description != nil && !yield(settingDescription, *s.Description) {
			return
		}
		if s.Guidelines != nil && !yield(settingGuidelines, *s.Guidelines) {
			return
		}
		if s.History != "" && !yield(settingHistory, s.History) {
			return
		}
		if s.Audience != "" && !yield(settingAudience, s.Audience) {
			return
		}
		if s.ExternalUsers != nil && !yield(settingExternalUsers, strconv.FormatBool(*s.ExternalUsers)) {
			return
		}
		for k, v := range s.Permissions {
			if !yield(settingPermissions+k, v) {
				return
			}
		}
	}
}

// Equal reports whether flat holds exactly what Flat would return for s,
// without building it: a planner that has the settings a config states
// can then share that map rather than hold a copy per entry.
func (s *Settings) Equal(flat map[string]string) bool {
	if s == nil || flat == nil {
		return s == nil && flat == nil
	}
	return s.EqualAll(len(flat), maps.All(flat))
}

// EqualAll is Equal for settings given as n names and values, each name
// once (the planner's, which are not a map), for a non-nil s.
func (s *Settings) EqualAll(n int, flat iter.Seq2[string, string]) bool {
	have := s.Len()
	if have != n {
		return false
	}
	for k, v := range flat {
		var have string
		var ok bool
		switch k {
		case settingDescription:
			if ok = s.Description != nil; ok {
				have = *s.Description
			}
		case settingGuidelines:
			if ok = s.Guidelines != nil; ok {
				have = *s.Guidelines
			}
		case settingHistory:
			have, ok = s.History, s.History != ""
		case settingAudience:
			have, ok = s.Audience, s.Audience != ""
		case settingExternalUsers:
			if ok = s.ExternalUsers != nil; ok {
				have = strconv.FormatBool(*s.ExternalUsers)
			}
		default:
			if key, cut := strings.CutPrefix(k, settingPermissions); cut {
				have, ok = s.Permissions[key]
			}
		}
		if !ok || have != v {
			return false
		}
	}
	return true
}

// SettingsOf is the Settings of settings by name (the inverse of Flat): a
// nil map is a nil Settings, any other (even empty) a non-nil one. It does
// not check the values: see checkSettings, which Record applies.
func SettingsOf(flat map[string]string) *Settings {
	if flat == nil {
		return nil
	}
	s := &Settings{}
	s.merge(flat)
	return s
}

// merge sets the settings named in flat, leaving the others as they are.
func (s *Settings) merge(flat map[string]string) {
	for k, v := range flat {
		switch k {
		case settingDescription:
			s.Description = &v
		case settingGuidelines:
			s.Guidelines = &v
		case settingHistory:
			s.History = v
		case settingAudience:
			s.Audience = v
		case settingExternalUsers:
			b := v == "true"
			s.ExternalUsers = &b
		default:
			if key, ok := strings.CutPrefix(k, settingPermissions); ok {
				if s.Permissions == nil {
					s.Permissions = make(map[string]string, len(flat))
				}
				s.Permissions[key] = v
			}
		}
	}
}

// clone returns a deep copy of s.
func (s *Settings) clone() *Settings {
	if s == nil {
		return nil
	}
	c := *s
	if s.Description != nil {
		d := *s.Description
		c.Description = &d
	}
	if s.Guidelines != nil {
		g := *s.Guidelines
		c.Guidelines = &g
	}
	if s.ExternalUsers != nil {
		b := *s.ExternalUsers
		c.ExternalUsers = &b
	}
	c.Permissions = maps.Clone(s.Permissions)
	return &c
}

// checkSetting reports why value may not be recorded as the setting name.
func checkSetting(name, value string) error {
	oneOf := func(words ...string) error {
		if slices.Contains(words, value) {
			return nil
		}
		return fmt.Errorf("setting %q: %q is not one of %s", name, value, strings.Join(quoteAll(words), ", "))
	}
	switch name {
	case settingDescription, settingGuidelines:
		return nil
	case settingHistory:
		return oneOf("on", "off")
	case settingAudience:
		if id, ok := strings.CutPrefix(value, "audiences/"); ok && id != "" && !strings.Contains(id, "/") {
			return nil
		}
		return fmt.Errorf("setting %q: %q is not audiences/ID", name, value)
	case settingExternalUsers:
		return oneOf("true", "false")
	case settingPermissions + permissionPreset:
		return oneOf("collaboration", "announcement")
	}
	if key, ok := strings.CutPrefix(name, settingPermissions); ok && slices.Contains(permissionKeys, key) {
		return oneOf("owners", "managers", "members")
	}
	return fmt.Errorf("unknown setting %q", name)
}

// checkFlat reports why settings by name (a Settings event's, or an
// entry's Flat) are not valid.
func checkFlat(flat map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(flat)) {
		if err := checkSetting(k, flat[k]); err != nil {
			return err
		}
	}
	return nil
}

func quoteAll(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = fmt.Sprintf("%q", w)
	}
	return out
}
