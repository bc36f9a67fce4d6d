package apply

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	chat "google.golang.org/api/chat/v1"

	"provision/internal/plan"
	"provision/internal/results"
)

// perSpaceWrite is the least time between two writes to one space that
// spaces.patch and spaces.delete allow ("1 write per second per space":
// the Limits page; UNCERTAIN, the current page says 60 per minute).
const perSpaceWrite = time.Second

// patch brings a space's settings back to the config, one spaces.patch per
// plan.Patch (the masks that must travel alone: DD, spaces.patch
// updateMask), at most one a second. Each patch is recorded as it
// succeeds; the first failure ends the space's patches, and is returned.
func (r *runner) patch(ctx context.Context, k string, entry *results.Entry, stated plan.Settings, patches []plan.Patch) (last time.Time, failed error) {
	for _, p := range patches {
		if ctx.Err() != nil {
			return last, errors.Join(failed, context.Cause(ctx))
		}
		if err := sincePatch(ctx, last); err != nil {
			return last, errors.Join(failed, err)
		}
		if p.Mask == plan.MaskDetails {
			// Description and guidelines travel together: the one the
			// config does not state is sent as the space has it now, so
			// that changing one never wipes the other (DD, spaces.patch:
			// "pass the existing value for the other field").
			var err error
			if p, err = r.keepOtherText(ctx, entry, stated, p); err != nil {
				if isStop(ctx, err) {
					return last, errors.Join(failed, err)
				}
				failed = errors.Join(failed, fmt.Errorf("changing %s: %w", maskWords(p.Mask), err))
				continue
			}
		}
		body, err := patchBody(p)
		if err != nil {
			return last, errors.Join(failed, err)
		}
		// Admin access does not reach history or audience (DD).
		admin := r.admin(entry) && p.Mask != plan.MaskHistory && p.Mask != plan.MaskAudience
		err = r.do(ctx, r.opts.Spaces, "spaces.patch", entry.Name+" "+p.Mask, func(cctx context.Context) error {
			call := r.svc.Spaces.Patch(entry.Name, body).UpdateMask(p.Mask).Context(cctx)
			if admin {
				call = call.UseAdminAccess(true)
			}
			_, err := call.Do()
			return err
		})
		last = time.Now()
		if err != nil {
			if isStop(ctx, err) {
				return last, errors.Join(failed, err)
			}
			r.unauthenticated(classify(err))
			why := ""
			if r.admin(entry) && (p.Mask == plan.MaskHistory || p.Mask == plan.MaskAudience) {
				why = " (the API does not change history or audience with administrator access: only a member of the space can)"
			}
			if e := classify(err); spaceNotFound(e) {
				why = " (the space is gone, deleted in Chat? run with --refresh to plan it again)"
			}
			// The other masks are still worth sending.
			failed = errors.Join(failed, fmt.Errorf("changing %s%s: %w", maskWords(p.Mask), why, err))
			continue
		}
		r.stats.patches.Add(1)
		if err := r.record(results.Event{Space: k, Settings: onlyStated(p.Settings, stated)}); err != nil {
			return last, errors.Join(failed, err)
		}
	}
	return last, failed
}

// keepOtherText fills the text of a space_details patch that the config
// does not state with the space's own, read now.
func (r *runner) keepOtherText(ctx context.Context, entry *results.Entry, stated plan.Settings, p plan.Patch) (plan.Patch, error) {
	_, hasDesc := stated.Get(plan.SetDescription)
	_, hasGuide := stated.Get(plan.SetGuidelines)
	if hasDesc && hasGuide {
		return p, nil
	}
	sp, err := r.getSpace(ctx, entry.Name, r.admin(entry))
	if err != nil {
		if e := classify(err); spaceNotFound(e) {
			return p, fmt.Errorf("the space is gone (deleted in Chat?): run with --refresh to plan it again: %w", e)
		}
		return p, fmt.Errorf("reading the space's other text first: %w", err)
	}
	live := liveSettings(sp)
	out := plan.Patch{Mask: p.Mask, Settings: maps.Clone(p.Settings)}
	if !hasDesc {
		out.Settings[plan.SetDescription] = live[plan.SetDescription]
	}
	if !hasGuide {
		out.Settings[plan.SetGuidelines] = live[plan.SetGuidelines]
	}
	return out, nil
}

// onlyStated keeps the settings the config states: a text re-sent as the
// space had it is not the config's to record.
func onlyStated(set map[string]string, stated plan.Settings) map[string]string {
	out := make(map[string]string, len(set))
	for k, v := range set {
		if _, ok := stated.Get(k); ok {
			out[k] = v
		}
	}
	return out
}

// maskWords names a mask as the plan does.
func maskWords(mask string) string {
	switch {
	case mask == "space_details":
		return "the description and guidelines"
	case mask == "space_history_state":
		return "history"
	case mask == "access_settings.audience":
		return "the audience"
	case strings.HasPrefix(mask, "permission_settings."):
		return "permissions"
	}
	return mask
}

// patchBody is the Space a patch sends: only the fields of its mask.
func patchBody(p plan.Patch) (*chat.Space, error) {
	sp := &chat.Space{}
	switch {
	case p.Mask == "space_details":
		sp.SpaceDetails = &chat.SpaceDetails{
			Description:     p.Settings[plan.SetDescription],
			Guidelines:      p.Settings[plan.SetGuidelines],
			ForceSendFields: []string{"Description", "Guidelines"},
		}
	case p.Mask == "space_history_state":
		sp.SpaceHistoryState = historyState(p.Settings[plan.SetHistory])
	case p.Mask == "access_settings.audience":
		// An empty audience makes the space private again (DD).
		sp.AccessSettings = &chat.AccessSettings{Audience: p.Settings[plan.SetAudience], ForceSendFields: []string{"Audience"}}
	case strings.HasPrefix(p.Mask, "permission_settings."):
		ps := &chat.PermissionSettings{}
		for key, who := range p.Settings {
			name, ok := strings.CutPrefix(key, plan.SetPermissionPrefix)
			if !ok || name == "preset" {
				continue
			}
			set, err := permission(who)
			if err != nil {
				return nil, fmt.Errorf("permission %s: %w", name, err)
			}
			switch name {
			case "manageMembersAndGroups":
				ps.ManageMembersAndGroups = set
			case "modifySpaceDetails":
				ps.ModifySpaceDetails = set
			case "toggleHistory":
				ps.ToggleHistory = set
			case "useAtMentionAll":
				ps.UseAtMentionAll = set
			case "manageApps":
				ps.ManageApps = set
			case "manageWebhooks":
				ps.ManageWebhooks = set
			case "replyMessages":
				ps.ReplyMessages = set
			default:
				return nil, fmt.Errorf("unknown permission %q", name)
			}
		}
		sp.PermissionSettings = ps
	default:
		return nil, fmt.Errorf("unknown update mask %q", p.Mask)
	}
	return sp, nil
}

// permission is who may, in the API's words: owners are ROLE_MANAGER
// (managersAllowed), managers ROLE_ASSISTANT_MANAGER
// (assistantManagersAllowed), members ROLE_MEMBER (DD, PermissionSetting).
// Each level includes the ones above it.
func permission(who string) (*chat.PermissionSetting, error) {
	p := &chat.PermissionSetting{ForceSendFields: []string{"ManagersAllowed", "AssistantManagersAllowed", "MembersAllowed"}}
	switch who {
	case "owners":
		p.ManagersAllowed = true
	case "managers":
		p.ManagersAllowed, p.AssistantManagersAllowed = true, true
	case "members":
		p.ManagersAllowed, p.AssistantManagersAllowed, p.MembersAllowed = true, true, true
	default:
		return nil, fmt.Errorf("%q is not owners, managers or members", who)
	}
	return p, nil
}

// whoMay reads a PermissionSetting back into the config's word; "" when
// it matches none of the three levels.
func whoMay(p *chat.PermissionSetting) string {
	switch {
	case p == nil:
		return ""
	case p.ManagersAllowed && p.AssistantManagersAllowed && p.MembersAllowed:
		return "members"
	case p.ManagersAllowed && p.AssistantManagersAllowed && !p.MembersAllowed:
		return "managers"
	case p.ManagersAllowed && !p.AssistantManagersAllowed && !p.MembersAllowed:
		return "owners"
	}
	return "custom"
}

func historyState(h string) string {
	switch h {
	case "on":
		return "HISTORY_ON"
	case "off":
		return "HISTORY_OFF"
	}
	return ""
}

// liveSettings is a space as spaces.get returned it, in the plan's
// setting names and the config's words.
func liveSettings(s *chat.Space) map[string]string {
	m := make(map[string]string)
	desc, guide := "", ""
	if s.SpaceDetails != nil {
		desc, guide = s.SpaceDetails.Description, s.SpaceDetails.Guidelines
	}
	m[plan.SetDescription], m[plan.SetGuidelines] = desc, guide
	switch s.SpaceHistoryState {
	case "HISTORY_ON":
		m[plan.SetHistory] = "on"
	case "HISTORY_OFF":
		m[plan.SetHistory] = "off"
	}
	audience := ""
	if s.AccessSettings != nil {
		audience = s.AccessSettings.Audience
	}
	m[plan.SetAudience] = audience
	if s.ExternalUserAllowed {
		m[plan.SetExternalUsers] = "true"
	} else {
		m[plan.SetExternalUsers] = "false"
	}
	if ps := s.PermissionSettings; ps != nil {
		for key, p := range map[string]*chat.PermissionSetting{
			"manageMembersAndGroups": ps.ManageMembersAndGroups,
			"modifySpaceDetails":     ps.ModifySpaceDetails,
			"toggleHistory":          ps.ToggleHistory,
			"useAtMentionAll":        ps.UseAtMentionAll,
			"manageApps":             ps.ManageApps,
			"manageWebhooks":         ps.ManageWebhooks,
			"replyMessages":          ps.ReplyMessages,
		} {
			if w := whoMay(p); w != "" {
				m[plan.SetPermissionPrefix+key] = w
			}
		}
	}
	return m
}
