package chatemu

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	chat "google.golang.org/api/chat/v1"
)

func TestPatchSpace(t *testing.T) {
	t.Parallel()
	srv, svc, ts := start(t, WithSpaceWriteRate(0), WithSpaceQuota(0))
	sp, err := svc.Spaces.Create(&chat.Space{DisplayName: "Before", SpaceType: "SPACE", SpaceDetails: &chat.SpaceDetails{Description: "d0", Guidelines: "g0"}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddSpace("Taken"); err != nil {
		t.Fatal(err)
	}
	ok := []struct {
		name, mask string
		in         *chat.Space
		check      func(*chat.Space) bool
	}{
		{"details, both taken", "space_details", &chat.Space{SpaceDetails: &chat.SpaceDetails{Description: "d1"}},
			func(s *chat.Space) bool { return s.SpaceDetails.Description == "d1" && s.SpaceDetails.Guidelines == "" }},
		{"name, JSON mask", "displayName", &chat.Space{DisplayName: "After"}, func(s *chat.Space) bool { return s.DisplayName == "After" }},
		{"name in another case", "display_name", &chat.Space{DisplayName: "AFTER"}, func(s *chat.Space) bool { return s.DisplayName == "AFTER" }},
		{"name and type", "display_name,space_type", &chat.Space{DisplayName: "After", SpaceType: "SPACE"}, func(s *chat.Space) bool { return s.DisplayName == "After" }},
		{"details and name", "space_details, display_name", &chat.Space{DisplayName: "Both", SpaceDetails: &chat.SpaceDetails{Guidelines: "g2"}},
			func(s *chat.Space) bool { return s.DisplayName == "Both" && s.SpaceDetails.Guidelines == "g2" }},
		{"history alone", "space_history_state", &chat.Space{SpaceHistoryState: "HISTORY_OFF"}, func(s *chat.Space) bool { return s.SpaceHistoryState == "HISTORY_OFF" }},
		{"audience alone", "accessSettings.audience", &chat.Space{AccessSettings: &chat.AccessSettings{Audience: "audiences/default"}},
			func(s *chat.Space) bool {
				return s.AccessSettings.Audience == "audiences/default" && s.AccessSettings.AccessState == "DISCOVERABLE"
			}},
		{"audience removed", "access_settings.audience", &chat.Space{}, func(s *chat.Space) bool { return s.AccessSettings.AccessState == "PRIVATE" }},
		{"permission settings", "permission_settings.manageMembersAndGroups,permissionSettings.manage_apps", &chat.Space{PermissionSettings: &chat.PermissionSettings{
			ManageMembersAndGroups: &chat.PermissionSetting{ManagersAllowed: true},
			ManageApps:             &chat.PermissionSetting{ManagersAllowed: true, AssistantManagersAllowed: true},
		}}, func(s *chat.Space) bool {
			p := s.PermissionSettings
			return p != nil && p.ManageMembersAndGroups.ManagersAllowed && !p.ManageMembersAndGroups.MembersAllowed && p.ManageApps.AssistantManagersAllowed
		}},
	}
	for _, tt := range ok {
		got, err := svc.Spaces.Patch(sp.Name, tt.in).UpdateMask(tt.mask).Do()
		if err != nil || !tt.check(got) {
			t.Errorf("%s: Patch(%q) = %+v, %v", tt.name, tt.mask, got, err)
		}
		if snap, _ := srv.Space(sp.Name); !tt.check(snap) {
			t.Errorf("%s: Space() after the patch = %+v", tt.name, snap)
		}
	}
	// The old name is free, the new one taken.
	if _, err := svc.Spaces.Create(newSpace("Before")).Do(); err != nil {
		t.Errorf("create with the name the patch gave up: %v", err)
	}
	_, err = svc.Spaces.Create(newSpace("both")).Do()
	wantAPIError(t, "create with the patched name", err, 409, "ALREADY_EXISTS")

	bad := []struct {
		name, mask string
		in         *chat.Space
		code       int
		status     string
	}{
		{"no mask", "", newSpace("x"), 400, "INVALID_ARGUMENT"},
		{"unknown path", "colour", newSpace("x"), 400, "INVALID_ARGUMENT"},
		{"history with another", "space_history_state,display_name", &chat.Space{DisplayName: "x", SpaceHistoryState: "HISTORY_ON"}, 400, "INVALID_ARGUMENT"},
		{"audience with another", "access_settings.audience,space_details", &chat.Space{}, 400, "INVALID_ARGUMENT"},
		{"permissions with another", "permission_settings.manageApps,display_name", &chat.Space{DisplayName: "x"}, 400, "INVALID_ARGUMENT"},
		{"output-only permission", "permission_settings.postMessages", &chat.Space{}, 400, "INVALID_ARGUMENT"},
		{"permission not sent", "permission_settings.manageWebhooks", &chat.Space{}, 400, "INVALID_ARGUMENT"},
		{"type alone", "space_type", &chat.Space{SpaceType: "SPACE"}, 400, "INVALID_ARGUMENT"},
		{"blank name", "display_name", newSpace(" "), 400, "INVALID_ARGUMENT"},
		{"long name", "display_name", newSpace(strings.Repeat("n", 129)), 400, "INVALID_ARGUMENT"},
		{"taken name", "display_name", newSpace(" taken"), 409, "ALREADY_EXISTS"},
		{"long description", "space_details", &chat.Space{SpaceDetails: &chat.SpaceDetails{Description: strings.Repeat("d", 4097)}}, 400, "INVALID_ARGUMENT"},
		{"history unspecified", "space_history_state", &chat.Space{}, 400, "INVALID_ARGUMENT"},
		{"bad audience", "access_settings.audience", &chat.Space{AccessSettings: &chat.AccessSettings{Audience: "everyone"}}, 400, "INVALID_ARGUMENT"},
		{"access permissions", "access_settings.access_permission_settings", &chat.Space{}, 501, "UNIMPLEMENTED"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Spaces.Patch(sp.Name, tt.in).UpdateMask(tt.mask).Do()
			wantAPIError(t, tt.name, err, tt.code, tt.status)
		})
	}
	if snap, _ := srv.Space(sp.Name); snap.DisplayName != "Both" {
		t.Errorf("after refused patches the name is %q, want it unchanged", snap.DisplayName)
	}
	if n := srv.Stats().SpacesPatched; n != len(ok) {
		t.Errorf("Stats().SpacesPatched = %d, want %d", n, len(ok))
	}
	// A body with proto names works for patch too.
	code, body := do(t, ts, "PATCH", "/v1/"+sp.Name+"?updateMask=display_name", `{"display_name":"Snake"}`)
	if code != 200 || body["displayName"] != "Snake" {
		t.Errorf("patch with a proto-named body = %d %v", code, body)
	}
}

func TestPatchSpaceRoles(t *testing.T) {
	t.Parallel()
	srv, svc, _ := start(t, WithSpaceWriteRate(0))
	manager := srv.AddForeignSpace("Managed", "users/olga@example.com", "ROLE_ASSISTANT_MANAGER")
	member := srv.AddForeignSpace("Joined", "users/olga@example.com", "ROLE_MEMBER")
	if _, err := svc.Spaces.Patch(manager, &chat.Space{SpaceDetails: &chat.SpaceDetails{Description: "m"}}).UpdateMask("space_details").Do(); err != nil {
		t.Errorf("a manager updating the details: %v", err)
	}
	_, err := svc.Spaces.Patch(manager, &chat.Space{}).UpdateMask("access_settings.audience").Do()
	wantAPIError(t, "a manager changing the audience", err, 403, "PERMISSION_DENIED")
	_, err = svc.Spaces.Patch(manager, &chat.Space{PermissionSettings: &chat.PermissionSettings{ManageApps: &chat.PermissionSetting{}}}).UpdateMask("permission_settings.manageApps").Do()
	wantAPIError(t, "a manager changing permissions", err, 403, "PERMISSION_DENIED")
	_, err = svc.Spaces.Patch(member, newSpace("Mine now")).UpdateMask("display_name").Do()
	wantAPIError(t, "a member renaming the space", err, 403, "PERMISSION_DENIED")
}

// TestPatchPermissionSettings checks that a patch of permission settings
// answers with the updated space (DD: the response is the Space, whose
// permissionSettings "lists current permission settings"): every setting,
// the ones not patched as the space has them, as spaces.get shows them
// after.
func TestPatchPermissionSettings(t *testing.T) {
	t.Parallel()
	_, svc, _ := start(t, WithSpaceWriteRate(0), WithSpaceQuota(0))
	owners := &chat.PermissionSetting{ManagersAllowed: true}
	managers := &chat.PermissionSetting{ManagersAllowed: true, AssistantManagersAllowed: true}
	everyone := &chat.PermissionSetting{ManagersAllowed: true, AssistantManagersAllowed: true, MembersAllowed: true}
	collaboration := chat.PermissionSettings{
		ManageMembersAndGroups: managers, ModifySpaceDetails: managers, ToggleHistory: managers, UseAtMentionAll: managers,
		ManageApps: managers, ManageWebhooks: managers, ReplyMessages: everyone, ViewSpaceMembership: everyone, PostMessages: everyone,
	}
	announcement := collaboration
	announcement.PostMessages, announcement.ReplyMessages = managers, managers

	tests := []struct {
		name, preset string
		start        chat.PermissionSettings
	}{
		{"collaboration", "", collaboration},
		{"collaboration, named", "COLLABORATION_SPACE", collaboration},
		{"announcement", "ANNOUNCEMENT_SPACE", announcement},
	}
	for _, tt := range tests {
		in := newSpace("Perms " + tt.name)
		in.PredefinedPermissionSettings = tt.preset
		sp, err := svc.Spaces.Create(in).Do()
		if err != nil {
			t.Fatal(err)
		}
		want := tt.start
		want.ManageApps = owners
		got, err := svc.Spaces.Patch(sp.Name, &chat.Space{PermissionSettings: &chat.PermissionSettings{ManageApps: owners}}).
			UpdateMask("permission_settings.manageApps").Do()
		if err != nil || !samePermissions(got.PermissionSettings, &want) {
			t.Errorf("%s: Patch(manageApps) = %s, %v; want every setting: %s", tt.name, permissionsJSON(got), err, permissionsJSON(&chat.Space{PermissionSettings: &want}))
		}
		if read, err := svc.Spaces.Get(sp.Name).Do(); err != nil || !samePermissions(read.PermissionSettings, &want) {
			t.Errorf("%s: Get after the patch = %s, %v; want what the patch answered", tt.name, permissionsJSON(read), err)
		}
		// A second patch keeps the first.
		want.UseAtMentionAll = everyone
		got, err = svc.Spaces.Patch(sp.Name, &chat.Space{PermissionSettings: &chat.PermissionSettings{UseAtMentionAll: everyone}}).
			UpdateMask("permissionSettings.useAtMentionAll").Do()
		if err != nil || !samePermissions(got.PermissionSettings, &want) {
			t.Errorf("%s: Patch(useAtMentionAll) = %s, %v; want %s", tt.name, permissionsJSON(got), err, permissionsJSON(&chat.Space{PermissionSettings: &want}))
		}
	}
}

func samePermissions(a, b *chat.PermissionSettings) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return a != nil && string(ja) == string(jb)
}

func permissionsJSON(sp *chat.Space) string {
	if sp == nil {
		return "<nil>"
	}
	b, _ := json.Marshal(sp.PermissionSettings)
	return string(b)
}

// TestPermissionSettingsUnpatched checks that a space never patched shows
// its permission settings in get and list answers, as the preset it was
// created with sets them: Google populates them at creation.
func TestPermissionSettingsUnpatched(t *testing.T) {
	t.Parallel()
	_, svc, _ := start(t)
	ctx := context.Background()
	for _, tc := range []struct {
		preset  string
		members bool // may members post?
	}{
		{"", true},
		{"COLLABORATION_SPACE", true},
		{"ANNOUNCEMENT_SPACE", false},
	} {
		sp := newSpace("Permissions " + tc.preset)
		sp.PredefinedPermissionSettings = tc.preset
		created, err := svc.Spaces.Create(sp).Context(ctx).Do()
		if err != nil {
			t.Fatalf("create %q: %v", sp.DisplayName, err)
		}
		got, err := svc.Spaces.Get(created.Name).Context(ctx).Do()
		if err != nil {
			t.Fatalf("get %s: %v", created.Name, err)
		}
		list, err := svc.Spaces.List().Context(ctx).Do()
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		var listed *chat.Space
		for _, s := range list.Spaces {
			if s.Name == created.Name {
				listed = s
			}
		}
		for what, s := range map[string]*chat.Space{"get": got, "list": listed} {
			if s == nil || s.PermissionSettings == nil {
				t.Fatalf("%s of a space created with preset %q: no permissionSettings, want the current settings", what, tc.preset)
			}
			ps := s.PermissionSettings
			if ps.ManageApps == nil || !ps.ManageApps.ManagersAllowed || ps.ManageApps.MembersAllowed {
				t.Errorf("%s (preset %q): manageApps = %+v, want owners and managers only", what, tc.preset, ps.ManageApps)
			}
			if ps.PostMessages == nil || ps.PostMessages.MembersAllowed != tc.members {
				t.Errorf("%s (preset %q): postMessages = %+v, want membersAllowed %v", what, tc.preset, ps.PostMessages, tc.members)
			}
		}
	}
}
