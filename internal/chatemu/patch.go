package chatemu

import (
	"maps"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Update masks of spaces.patch, in proto names, as the DD lists them. Some
// must be alone in a mask (DD: "you must omit all other field masks"):
// space_history_state, access_settings.audience, and the
// permission_settings.* group. space_type only turns a group chat into a
// space and must come with display_name; every emulated space is a SPACE
// already, so it changes nothing.
const (
	maskDetails  = "space_details"
	maskName     = "display_name"
	maskType     = "space_type"
	maskHistory  = "space_history_state"
	maskAudience = "access_settings.audience"
	maskPerms    = "permission_settings" // the group of permission_settings.*
)

// parseMask reads an updateMask: each path in proto or JSON names
// (space_details or spaceDetails). It returns the paths, and for
// permission_settings.* the settings named (by JSON name).
func parseMask(mask string) (paths map[string]bool, perms []string, e *apiError) {
	if strings.TrimSpace(mask) == "" {
		return nil, nil, newError(statusInvalidArgument, "updateMask is required.")
	}
	paths = make(map[string]bool)
	for p := range strings.SplitSeq(mask, ",") {
		p = strings.TrimSpace(p)
		head, sub, _ := strings.Cut(p, ".")
		head = snake(head)
		switch {
		case sub == "" && (head == maskDetails || head == maskName || head == maskType || head == maskHistory):
			paths[head] = true
		case head == "access_settings" && snake(sub) == "audience":
			paths[maskAudience] = true
		case head == "access_settings" && strings.HasPrefix(snake(sub), "access_permission_settings"):
			return nil, nil, newError(statusUnimplemented, "Update mask %q is in the Chat API but not modeled by the emulator.", p)
		case head == maskPerms && sub != "":
			name := sub
			if json, ok := protoNames["PermissionSettings"][sub]; ok {
				name = json
			}
			if f, ok := inputSchemas["PermissionSettings"][name]; !ok || f.ignored {
				return nil, nil, newError(statusInvalidArgument, "Invalid update mask path %q: %q is not a permission setting that can be updated.", p, sub)
			}
			paths[maskPerms] = true
			perms = append(perms, name)
		default:
			return nil, nil, newError(statusInvalidArgument, "Invalid update mask path %q.", p)
		}
	}
	for _, alone := range []string{maskHistory, maskAudience, maskPerms} {
		if paths[alone] && len(paths) > 1 {
			return nil, nil, newError(statusInvalidArgument, "Update mask %q: %s must be updated alone, with no other field mask.", mask, alone)
		}
	}
	if paths[maskType] && !paths[maskName] {
		return nil, nil, newError(statusInvalidArgument, "Update mask %q: space_type must be updated together with display_name.", mask)
	}
	return paths, perms, nil
}

// patchSpace updates a space (spaces.patch). Who may: an owner or a
// manager for details, name and history (the defaults of modifySpaceDetails
// and toggleHistory; the emulator does not apply a space's own settings to
// this: UNCERTAIN); an owner for the audience (DD: "the authenticating user
// must be a space manager", that is ROLE_MANAGER) and for permission
// settings (UNCERTAIN); an administrator with useAdminAccess, except for
// history and audience (DD: "not supported with useAdminAccess").
func (s *Server) patchSpace(c *call) (int, any, *apiError) {
	var in spaceIn
	if _, e := decodeBody(c.body, "Space", "space", &in); e != nil {
		return 0, nil, e
	}
	paths, perms, e := parseMask(c.r.URL.Query().Get("updateMask"))
	if e != nil {
		return 0, nil, e
	}
	sp, e := s.visible(c)
	if e != nil {
		return 0, nil, e
	}
	role := sp.roleOf(c.who)
	switch {
	case c.admin && (paths[maskHistory] || paths[maskAudience]):
		return 0, nil, newError(statusInvalidArgument, "space_history_state and access_settings.audience cannot be updated with useAdminAccess.")
	case c.admin:
	case (paths[maskAudience] || paths[maskPerms]) && role != "ROLE_MANAGER":
		return 0, nil, newError(statusPermissionDenied, "Only a space owner (ROLE_MANAGER) can change who can find the space or its permission settings.")
	case role != "ROLE_MANAGER" && role != "ROLE_ASSISTANT_MANAGER":
		return 0, nil, newError(statusPermissionDenied, "Only a space owner or manager can update the space.")
	}

	// Check everything, then change: a refused patch changes nothing.
	if paths[maskType] && in.SpaceType != "SPACE" {
		return 0, nil, newError(statusInvalidArgument, "space_type can only be changed to SPACE.")
	}
	var description, guidelines string
	if d := in.SpaceDetails; paths[maskDetails] && d != nil {
		// DD: "You must pass both description and guidelines": an absent
		// one is cleared.
		description, guidelines = d.Description, d.Guidelines
		if utf8.RuneCountInString(description) > maxDescription {
			return 0, nil, newError(statusInvalidArgument, "Description must be at most %d characters.", maxDescription)
		}
		if utf8.RuneCountInString(guidelines) > maxGuidelines {
			return 0, nil, newError(statusInvalidArgument, "Guidelines must be at most %d characters.", maxGuidelines)
		}
	}
	if paths[maskName] {
		switch {
		case strings.TrimSpace(in.DisplayName) == "":
			return 0, nil, newError(statusInvalidArgument, "Display name is required for spaces of type SPACE.")
		case utf8.RuneCountInString(in.DisplayName) > maxDisplayName:
			return 0, nil, newError(statusInvalidArgument, "Display name must be at most %d characters.", maxDisplayName)
		case normName(in.DisplayName) != sp.key:
			if e := s.checkName(in.DisplayName); e != nil {
				return 0, nil, e
			}
		}
	}
	if paths[maskHistory] && in.SpaceHistoryState != "HISTORY_ON" && in.SpaceHistoryState != "HISTORY_OFF" {
		return 0, nil, newError(statusInvalidArgument, "space_history_state must be HISTORY_ON or HISTORY_OFF; got %q.", in.SpaceHistoryState)
	}
	audience := ""
	if a := in.AccessSettings; a != nil {
		audience = a.Audience
	}
	if paths[maskAudience] && audience != "" && !validRef(audience, "audiences/") {
		return 0, nil, newError(statusInvalidArgument, "Invalid audience %q: want audiences/{audience}.", audience)
	}
	for _, p := range perms {
		if in.PermissionSettings[p] == nil {
			return 0, nil, newError(statusInvalidArgument, "Update mask names permission_settings.%s but the space's permissionSettings has no %s.", p, p)
		}
	}

	if paths[maskDetails] {
		sp.description, sp.guidelines = description, guidelines
	}
	if paths[maskName] {
		if s.st.names[sp.key]--; s.st.names[sp.key] <= 0 {
			delete(s.st.names, sp.key)
		}
		sp.displayName, sp.key = in.DisplayName, normName(in.DisplayName)
		s.st.names[sp.key]++
	}
	if paths[maskHistory] {
		sp.history = in.SpaceHistoryState
	}
	if paths[maskAudience] {
		sp.audience = audience // "" removes it: the space is private again
	}
	if len(perms) > 0 {
		// The answer is the updated space, whose permissionSettings
		// "lists current permission settings" (DD): every one, those
		// not patched as the space has them. A new map each time:
		// answers already handed out keep theirs.
		next := sp.permissionSettings()
		for _, p := range perms {
			next[p] = *in.PermissionSettings[p]
		}
		sp.perms = next
	}
	s.ctr.spacesPatched++
	return http.StatusOK, sp.out(), nil
}

// permissionSettings returns a copy of a space's permission settings: those
// it was created with, as patched since. The DD says they are "populated in
// the PermissionSettings field" once the space is created, from
// predefinedPermissionSettings (unset: a collaboration space), but not
// what each one is. Here owners (ROLE_MANAGER: "the complete set of space
// permissions") and managers (ROLE_ASSISTANT_MANAGER: "by default,
// managers have all the permissions of an owner except" deleting the space
// and making or changing owners) have every one; members (ROLE_MEMBER:
// "basic permissions, like sending messages"; "managers and owners can
// grant members additional permissions", naming the rest) may post, reply
// and see the members of a collaboration space, and in an announcement
// space ("only space managers can post messages") neither post nor reply
// (all DD, Membership.role and predefinedPermissionSettings; the values
// for members are UNCERTAIN beyond posting).
func (sp *space) permissionSettings() map[string]permission {
	managers := permission{ManagersAllowed: true, AssistantManagersAllowed: true}
	everyone := permission{ManagersAllowed: true, AssistantManagersAllowed: true, MembersAllowed: true}
	out := map[string]permission{
		"manageMembersAndGroups": managers,
		"modifySpaceDetails":     managers,
		"toggleHistory":          managers,
		"useAtMentionAll":        managers,
		"manageApps":             managers,
		"manageWebhooks":         managers,
		"replyMessages":          everyone,
		"viewSpaceMembership":    everyone,
		"postMessages":           everyone,
	}
	if sp.permissions == "ANNOUNCEMENT_SPACE" {
		out["postMessages"], out["replyMessages"] = managers, managers
	}
	maps.Copy(out, sp.perms)
	return out
}
