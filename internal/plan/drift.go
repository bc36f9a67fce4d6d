package plan

import (
	"fmt"
	"strings"
)

// Settings drift: the settings a config states compared with those the
// space has, and the spaces.patch calls that bring them back.

// Warnings of a setting the API takes only at creation (DD: externalUserAllowed
// is immutable, predefinedPermissionSettings input only on create). The plan
// adds what the space has and what the config says, in parentheses.
const (
	WarnExternalUsers = "cannot change externalUsers after creation"
	WarnPreset        = "cannot change the permissions preset after creation"
)

// Update masks of spaces.patch (DD, spaces.patch updateMask): space_details
// takes description and guidelines together; each of the others must be
// alone in its call.
const (
	MaskDetails     = "space_details"
	MaskHistory     = "space_history_state"
	MaskAudience    = "access_settings.audience"
	MaskPermissions = "permission_settings" // + "." + a PermissionKeys key
)

// ChangePermissions is the entry of Item.Changes for any number of
// fine-grained permissions changed.
const ChangePermissions = "permissions"

// noSettings is RecordSettings of a space recorded before settings were
// whose config states none: record that none is managed. Never modified.
var noSettings = Settings{}

// drift sets the settings part of an item of a space recorded as created
// or existing: Changes, Patches, Warnings and RecordSettings.
//
// What the space has is, for each setting, what a refresh read (Live)
// when it read it, else what the record says. A record from before
// settings were recorded (Settings nil) is taken to have what the config
// states: an upgraded results file would otherwise patch every setting of
// every space.
func drift(it *Item, s Space, rec Recorded) {
	legacy := rec.Settings == nil
	if rec.Live == nil && (legacy || len(s.Settings) == 0) {
		// No refresh: the record is the truth, and with nothing stated
		// or nothing recorded there is nothing to compare.
		if legacy {
			it.RecordSettings = s.Settings
			if it.RecordSettings == nil {
				it.RecordSettings = noSettings
			}
		}
		return
	}
	has := func(name string) (string, bool) {
		if rec.Live != nil {
			if v, ok := rec.Live.Settings[name]; ok {
				return v, true
			}
		}
		if legacy {
			v, ok := s.Settings.Get(name)
			return v, ok
		}
		v, ok := rec.Settings.Get(name)
		return v, ok
	}
	differs := func(name string) bool {
		want, stated := s.Settings.Get(name)
		if !stated {
			return false
		}
		v, ok := has(name)
		return !ok || v != want
	}

	var record map[string]string
	keep := func(name, v string) {
		// Record what the space is taken to have, where the record does
		// not say so already.
		if r, ok := rec.Settings.Get(name); ok && r == v {
			return
		}
		if record == nil {
			record = make(map[string]string, len(s.Settings))
		}
		record[name] = v
	}

	// space_details: both texts in one call, the one not drifted re-sent.
	desc, guide := differs(SetDescription), differs(SetGuidelines)
	if desc || guide {
		text := func(name string) string {
			if v, ok := s.Settings.Get(name); ok {
				return v
			}
			v, _ := has(name)
			return v
		}
		it.Patches = append(it.Patches, Patch{Mask: MaskDetails, Settings: map[string]string{
			SetDescription: text(SetDescription), SetGuidelines: text(SetGuidelines),
		}})
		if desc {
			it.Changes = append(it.Changes, SetDescription)
		}
		if guide {
			it.Changes = append(it.Changes, SetGuidelines)
		}
	}
	for _, one := range []struct{ name, mask string }{{SetHistory, MaskHistory}, {SetAudience, MaskAudience}} {
		if differs(one.name) {
			it.Patches = append(it.Patches, Patch{Mask: one.mask, Settings: map[string]string{one.name: get(s.Settings, one.name)}})
			it.Changes = append(it.Changes, one.name)
		}
	}
	if p, ok := permissionsPatch(s, differs); ok {
		it.Patches = append(it.Patches, p)
		it.Changes = append(it.Changes, ChangePermissions)
	}

	// Creation only: warn, change nothing, record nothing unknown.
	for _, one := range []struct{ name, warning string }{{SetExternalUsers, WarnExternalUsers}, {SetPreset, WarnPreset}} {
		want, stated := s.Settings.Get(one.name)
		if !stated {
			continue
		}
		switch v, ok := has(one.name); {
		case ok && v != want:
			it.Warnings = append(it.Warnings, fmt.Sprintf("%s (the space has %s; the config says %s)", one.warning, v, want))
		case ok:
			keep(one.name, v)
		}
	}
	for name, want := range s.Settings.All() {
		if name == SetExternalUsers || name == SetPreset || differs(name) {
			continue
		}
		keep(name, want)
	}
	if legacy && record == nil {
		it.RecordSettings = noSettings
		return
	}
	it.RecordSettings = SettingsOf(record)
}

// get is the value of the setting name in s, "" when s does not hold it.
func get(s Settings, name string) string {
	v, _ := s.Get(name)
	return v
}

// permissionsPatch is the one spaces.patch of the fine-grained permissions
// for which differs is true, in the order of PermissionKeys: a mask of
// permission_settings.KEY paths, comma separated (DD).
func permissionsPatch(s Space, differs func(string) bool) (Patch, bool) {
	if len(s.PermissionSettings) == 0 {
		return Patch{}, false
	}
	var mask []string
	var settings map[string]string
	for _, k := range PermissionKeys {
		name := SetPermissionPrefix + k
		if !differs(name) {
			continue
		}
		if settings == nil {
			settings = make(map[string]string, len(s.PermissionSettings))
		}
		mask = append(mask, MaskPermissions+"."+k)
		settings[name] = get(s.Settings, name)
	}
	if mask == nil {
		return Patch{}, false
	}
	return Patch{Mask: strings.Join(mask, ","), Settings: settings}, true
}

// creationPatches sets the part of a Create or Retry item the create call
// cannot carry: fine-grained permissions, set by a patch once the space
// exists.
func creationPatches(it *Item, s Space) {
	stated := func(name string) bool { _, ok := s.Settings.Get(name); return ok }
	if p, ok := permissionsPatch(s, stated); ok {
		it.Patches = append(it.Patches, p)
		it.Changes = append(it.Changes, ChangePermissions)
	}
}

// AdoptedPatches are the patches that bring a space just adopted to what
// the config states, its live settings (as a list or get returned them)
// being all that is known of it: the run that adopts converges at once.
func AdoptedPatches(s Space, live map[string]string) []Patch {
	it := Item{Space: &s}
	drift(&it, s, Recorded{Settings: Settings{}, Live: &Live{Settings: live}})
	return it.Patches
}
