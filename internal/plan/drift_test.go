package plan

import (
	"reflect"
	"testing"
)

// set builds settings by name from name, value pairs.
func set(kv ...string) map[string]string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// details is the space_details patch with both texts.
func details(description, guidelines string) Patch {
	return Patch{Mask: MaskDetails, Settings: set(SetDescription, description, SetGuidelines, guidelines)}
}

func TestDiffSettings(t *testing.T) {
	t.Parallel()
	space := func(settings map[string]string) Space {
		s := Space{DisplayName: "S", Settings: SettingsOf(settings)}
		for k, v := range settings {
			if key, ok := cutPermission(k); ok {
				if s.PermissionSettings == nil {
					s.PermissionSettings = map[string]string{}
				}
				s.PermissionSettings[key] = v
			}
		}
		return s
	}
	created := func(settings map[string]string, live *Live) Recorded {
		return Recorded{Status: "created", Name: "spaces/S", Settings: SettingsOf(settings), Live: live}
	}
	liveOf := func(settings map[string]string) *Live { return &Live{Settings: settings} }
	all := set("description", "d", "guidelines", "g", "history", "on", "audience", "audiences/default",
		"externalUsers", "false", "permissions.preset", "collaboration", "permissions.manageApps", "owners")
	tests := []struct {
		name  string
		space Space
		rec   Recorded
		want  Item // Key, Space, Name filled in by the test
	}{
		{
			name:  "recorded as stated: exists",
			space: space(all),
			rec:   created(all, nil),
			want:  Item{Action: Exists},
		},
		{
			name:  "nothing stated, nothing recorded",
			space: space(nil),
			rec:   created(set(), nil),
			want:  Item{Action: Exists},
		},
		{
			name:  "description changed, guidelines not stated: the recorded guidelines re-sent",
			space: space(set("description", "new")),
			rec:   created(set("description", "old", "guidelines", "rules"), nil),
			want: Item{Action: Update, Changes: []string{"description"},
				Patches: []Patch{details("new", "rules")}},
		},
		{
			name:  "guidelines changed, description stated: both from the config",
			space: space(set("description", "d", "guidelines", "new")),
			rec:   created(set("description", "d", "guidelines", "old"), nil),
			want: Item{Action: Update, Changes: []string{"guidelines"},
				Patches: []Patch{details("d", "new")}},
		},
		{
			name:  "description stated, never recorded, guidelines unknown: sent empty",
			space: space(set("description", "d")),
			rec:   created(set(), nil),
			want: Item{Action: Update, Changes: []string{"description"},
				Patches: []Patch{details("d", "")}},
		},
		{
			name:  "description emptied",
			space: space(set("description", "")),
			rec:   created(set("description", "old"), nil),
			want: Item{Action: Update, Changes: []string{"description"},
				Patches: []Patch{details("", "")}},
		},
		{
			name:  "history alone",
			space: space(set("history", "off", "description", "d")),
			rec:   created(set("history", "on", "description", "d"), nil),
			want: Item{Action: Update, Changes: []string{"history"},
				Patches: []Patch{{Mask: MaskHistory, Settings: set("history", "off")}}},
		},
		{
			name:  "audience alone",
			space: space(set("audience", "audiences/eng")),
			rec:   created(set("audience", "audiences/default"), nil),
			want: Item{Action: Update, Changes: []string{"audience"},
				Patches: []Patch{{Mask: MaskAudience, Settings: set("audience", "audiences/eng")}}},
		},
		{
			name:  "permissions: one patch for every key changed, in the discovery document's order",
			space: space(set("permissions.manageApps", "members", "permissions.manageMembersAndGroups", "managers", "permissions.replyMessages", "owners")),
			rec:   created(set("permissions.manageApps", "owners", "permissions.replyMessages", "owners"), nil),
			want: Item{Action: Update, Changes: []string{"permissions"},
				Patches: []Patch{{Mask: "permission_settings.manageMembersAndGroups,permission_settings.manageApps",
					Settings: set("permissions.manageMembersAndGroups", "managers", "permissions.manageApps", "members")}}},
		},
		{
			name:  "up to four patches, changes in order",
			space: space(set("description", "d2", "guidelines", "g2", "history", "off", "audience", "audiences/x", "permissions.toggleHistory", "owners")),
			rec:   created(set("description", "d", "guidelines", "g", "history", "on", "audience", "audiences/default", "permissions.toggleHistory", "members"), nil),
			want: Item{Action: Update, Changes: []string{"description", "guidelines", "history", "audience", "permissions"},
				Patches: []Patch{
					details("d2", "g2"),
					{Mask: MaskHistory, Settings: set("history", "off")},
					{Mask: MaskAudience, Settings: set("audience", "audiences/x")},
					{Mask: "permission_settings.toggleHistory", Settings: set("permissions.toggleHistory", "owners")},
				}},
		},
		{
			name:  "a setting the record lacks is applied",
			space: space(set("history", "on", "description", "d")),
			rec:   created(set("description", "d"), nil),
			want: Item{Action: Update, Changes: []string{"history"},
				Patches: []Patch{{Mask: MaskHistory, Settings: set("history", "on")}}},
		},
		{
			name:  "a setting no longer stated is no longer managed",
			space: space(set("description", "d")),
			rec:   created(set("description", "d", "history", "on", "permissions.manageApps", "owners"), nil),
			want:  Item{Action: Exists},
		},
		{
			name:  "creation only: warned, not an update, nothing recorded",
			space: space(set("externalUsers", "true", "permissions.preset", "announcement")),
			rec:   created(set("externalUsers", "false", "permissions.preset", "collaboration"), nil),
			want: Item{Action: Exists, Warnings: []string{
				"cannot change externalUsers after creation (the space has false; the config says true)",
				"cannot change the permissions preset after creation (the space has collaboration; the config says announcement)",
			}},
		},
		{
			name:  "creation only, unknown to the record: nothing said",
			space: space(set("externalUsers", "true", "permissions.preset", "announcement", "description", "d")),
			rec:   created(set("description", "d"), nil),
			want:  Item{Action: Exists},
		},
		{
			name:  "creation only warned beside a patch",
			space: space(set("externalUsers", "true", "history", "off")),
			rec:   created(set("externalUsers", "false", "history", "on"), nil),
			want: Item{Action: Update, Changes: []string{"history"},
				Patches:  []Patch{{Mask: MaskHistory, Settings: set("history", "off")}},
				Warnings: []string{"cannot change externalUsers after creation (the space has false; the config says true)"}},
		},
		{
			name:  "recorded before settings were: no drift, the config's settings to record",
			space: space(all),
			rec:   created(nil, nil),
			want:  Item{Action: Exists, RecordSettings: SettingsOf(all)},
		},
		{
			name:  "refresh: a description edited in the Chat UI is drift",
			space: space(set("description", "d", "guidelines", "g")),
			rec:   created(set("description", "d", "guidelines", "g"), liveOf(set("description", "edited", "guidelines", "g", "history", "on"))),
			want: Item{Action: Update, Changes: []string{"description"},
				Patches: []Patch{details("d", "g")}},
		},
		{
			name:  "refresh: guidelines not stated are re-sent as the space has them",
			space: space(set("description", "d")),
			rec:   created(set("description", "d", "guidelines", "recorded"), liveOf(set("description", "edited", "guidelines", "live"))),
			want: Item{Action: Update, Changes: []string{"description"},
				Patches: []Patch{details("d", "live")}},
		},
		{
			name:  "refresh: the space already has what the config states, the record catches up",
			space: space(set("description", "new", "history", "on")),
			rec:   created(set("description", "old", "history", "on"), liveOf(set("description", "new", "history", "on"))),
			want:  Item{Action: Exists, RecordSettings: SettingsOf(set("description", "new"))},
		},
		{
			name:  "refresh: the preset is not read, the record's is used",
			space: space(set("permissions.preset", "announcement", "externalUsers", "false")),
			rec:   created(set("permissions.preset", "collaboration"), liveOf(set("externalUsers", "true"))),
			want: Item{Action: Exists, Warnings: []string{
				"cannot change externalUsers after creation (the space has true; the config says false)",
				"cannot change the permissions preset after creation (the space has collaboration; the config says announcement)",
			}},
		},
		{
			name:  "refresh: a permission changed in the Chat UI",
			space: space(set("permissions.manageWebhooks", "managers", "permissions.manageApps", "owners")),
			rec:   created(set("permissions.manageWebhooks", "managers", "permissions.manageApps", "owners"), liveOf(set("permissions.manageWebhooks", "members", "permissions.manageApps", "owners"))),
			want: Item{Action: Update, Changes: []string{"permissions"},
				Patches: []Patch{{Mask: "permission_settings.manageWebhooks", Settings: set("permissions.manageWebhooks", "managers")}}},
		},
		{
			name:  "refresh of a space recorded before settings were: drift against the live space, the rest recorded",
			space: space(set("description", "d", "history", "on", "externalUsers", "false", "permissions.preset", "collaboration")),
			rec:   created(nil, liveOf(set("description", "other", "history", "on", "externalUsers", "false"))),
			want: Item{Action: Update, Changes: []string{"description"}, Patches: []Patch{details("d", "")},
				RecordSettings: SettingsOf(set("history", "on", "externalUsers", "false", "permissions.preset", "collaboration"))},
		},
		{
			name:  "refresh of a space recorded before settings were, nothing stated: record that",
			space: space(nil),
			rec:   created(nil, liveOf(set("description", "x"))),
			want:  Item{Action: Exists, RecordSettings: SettingsOf(set())},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Diff(&Config{Spaces: []Space{tt.space}}, map[string]Recorded{"S": tt.rec})
			want := tt.want
			want.Key, want.Space, want.Name = "S", &tt.space, "spaces/S"
			if !reflect.DeepEqual(got.Items, []Item{want}) {
				t.Errorf("Diff(%+v, %+v) =\n%+v\nwant\n%+v", tt.space, tt.rec, got.Items, []Item{want})
			}
		})
	}
}

// cutPermission returns the key of a fine-grained permission's setting name.
func cutPermission(name string) (string, bool) {
	if len(name) > len(SetPermissionPrefix) && name[:len(SetPermissionPrefix)] == SetPermissionPrefix && name != SetPreset {
		return name[len(SetPermissionPrefix):], true
	}
	return "", false
}

func TestDiffCreationPatches(t *testing.T) {
	t.Parallel()
	perms := Space{DisplayName: "P", Permissions: "announcement", PermissionSettings: set("replyMessages", "owners", "manageApps", "managers"),
		Settings: SettingsOf(set("description", "d", "permissions.preset", "announcement", "permissions.replyMessages", "owners", "permissions.manageApps", "managers"))}
	plain := Space{DisplayName: "Q", Settings: SettingsOf(set("description", "d", "history", "on"))}
	patch := Patch{Mask: "permission_settings.manageApps,permission_settings.replyMessages",
		Settings: set("permissions.manageApps", "managers", "permissions.replyMessages", "owners")}
	got := Diff(&Config{Spaces: []Space{perms, plain}}, map[string]Recorded{"Q": {Status: "failed", RequestID: "r"}})
	want := []Item{
		{Action: Create, Key: "P", Space: &perms, Changes: []string{"permissions"}, Patches: []Patch{patch}},
		{Action: Retry, Key: "Q", Space: &plain, RequestID: "r"},
	}
	if !reflect.DeepEqual(got.Items, want) {
		t.Errorf("Diff() =\n%+v\nwant\n%+v", got.Items, want)
	}
	got = Diff(&Config{Spaces: []Space{perms}}, map[string]Recorded{"P": {Status: "pending", RequestID: "r"}})
	want = []Item{{Action: Retry, Key: "P", Space: &perms, RequestID: "r", Changes: []string{"permissions"}, Patches: []Patch{patch}}}
	if !reflect.DeepEqual(got.Items, want) {
		t.Errorf("Diff(pending) =\n%+v\nwant\n%+v", got.Items, want)
	}
	got = Diff(&Config{Spaces: []Space{perms}}, map[string]Recorded{"P": {Status: "created", Name: "spaces/P", Gone: true}})
	want = []Item{{Action: Create, Key: "P", Space: &perms, Recreate: true, PreviousName: "spaces/P", Changes: []string{"permissions"}, Patches: []Patch{patch}}}
	if !reflect.DeepEqual(got.Items, want) {
		t.Errorf("Diff(gone) =\n%+v\nwant\n%+v", got.Items, want)
	}
}

func TestPermissionAllowed(t *testing.T) {
	t.Parallel()
	for _, who := range []string{WhoOwners, WhoManagers, WhoMembers} {
		o, m, e, ok := PermissionAllowed(who)
		if !ok || PermissionWho(o, m, e) != who {
			t.Errorf("PermissionWho(PermissionAllowed(%q)) = %q (ok %v), want %q", who, PermissionWho(o, m, e), ok, who)
		}
	}
	if _, _, _, ok := PermissionAllowed("everyone"); ok {
		t.Errorf("PermissionAllowed(%q) ok, want not", "everyone")
	}
	if got := PermissionWho(false, true, true); got != "" {
		t.Errorf("PermissionWho(false, true, true) = %q, want %q", got, "")
	}
}
