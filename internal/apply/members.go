package apply

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	chat "google.golang.org/api/chat/v1"

	"provision/internal/plan"
	"provision/internal/results"
)

// maxSetupMembers is how many memberships spaces.setup takes besides the
// caller (SetUpSpaceRequest.memberships in the discovery document).
const maxSetupMembers = 49

// setupMembers picks the members sent with spaces.setup: at most 49, never
// the caller, whom the API adds itself.
func (r *runner) setupMembers(ctx context.Context, members []string) []string {
	out := make([]string, 0, min(len(members), maxSetupMembers))
	for _, m := range members {
		if len(out) == maxSetupMembers {
			break
		}
		if r.isCaller(m) {
			continue
		}
		// A group named by email goes with setup once resolved; one that
		// cannot be is left for members.create, which reports it.
		if _, err := r.groupID(ctx, m, nil); err != nil {
			continue
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (r *runner) isCaller(m string) bool {
	return r.opts.Caller != "" && strings.EqualFold(m, r.opts.Caller)
}

func membership(m string) *chat.Membership {
	if strings.HasPrefix(m, "groups/") {
		return &chat.Membership{GroupMember: &chat.Group{Name: m}}
	}
	return &chat.Membership{Member: &chat.User{Name: m, Type: "HUMAN"}}
}

// memberships are the setup memberships of ms, groups named by email
// given by their resolved groups/ID.
func (r *runner) memberships(ms []string) []*chat.Membership {
	out := make([]*chat.Membership, len(ms))
	for i, m := range ms {
		out[i] = membership(r.apiName(m))
	}
	return out
}

// getMember reads member m's membership of space by its alias (the email
// for users: DD, members.get), with the caller's administrator privilege
// when admin is set.
func (r *runner) getMember(ctx context.Context, space, m string, admin bool) (*chat.Membership, error) {
	return r.get(ctx, alias(space, m), admin)
}

// get is one members.get of target: a membership's name, or its alias.
func (r *runner) get(ctx context.Context, target string, admin bool) (*chat.Membership, error) {
	var got *chat.Membership
	err := r.do(ctx, r.opts.Reads, "members.get", target, func(cctx context.Context) error {
		call := r.svc.Spaces.Members.Get(target).Context(cctx)
		if admin {
			call = call.UseAdminAccess(true)
		}
		var err error
		got, err = call.Do()
		return err
	})
	return got, err
}

// alias is the member part of a membership name that the API resolves for
// a get: the email (or user ID) for users.
func alias(space, m string) string {
	return space + "/members/" + strings.TrimPrefix(m, "users/")
}

// verifySetup checks which of the members sent with setup the space really
// has, since setup silently skips members the caller may not add. One list
// of the space's memberships settles it when every user and group is there;
// otherwise each user is looked up by email to name the missing ones.
// Verified members are recorded as received; missing ones are left for the
// next run to add one by one.
func (r *runner) verifySetup(ctx context.Context, k string, entry *results.Entry, setup []string) error {
	var users, joined, invited int
	groups := make(map[string]bool)
	seen := make(map[string]bool)
	token := ""
	for pages := 1; ; pages++ {
		var page *chat.ListMembershipsResponse
		err := r.do(ctx, r.opts.Reads, "members.list", entry.Name, func(cctx context.Context) error {
			var err error
			page, err = r.svc.Spaces.Members.List(entry.Name).ShowGroups(true).ShowInvited(true).
				PageSize(1000).PageToken(token).Context(cctx).Do()
			return err
		})
		if err != nil {
			return r.verifyFailed(k, entry, err)
		}
		for _, m := range page.Memberships {
			switch {
			case m.GroupMember != nil:
				groups[m.GroupMember.Name] = true
				joined++
			case m.Member != nil && m.Member.Type == "HUMAN" && m.Role != "ROLE_MANAGER":
				// The caller is the space's owner (ROLE_MANAGER); everyone
				// setup added is a plain member.
				users++
				if m.State == "INVITED" {
					invited++
				} else {
					joined++
				}
			}
		}
		if token = page.NextPageToken; token == "" {
			break
		}
		if seen[token] || pages >= maxListPages {
			return r.verifyFailed(k, entry, fmt.Errorf("the server's pages of members never end (page token %q after %d pages)", token, pages))
		}
		seen[token] = true
	}

	var wantUsers []string
	var done, missing []string
	for _, m := range setup {
		switch {
		case plan.IsGroup(m):
			if groups[r.apiName(m)] {
				done = append(done, m)
			} else {
				missing = append(missing, m)
			}
		default:
			wantUsers = append(wantUsers, m)
		}
	}
	if users >= len(wantUsers) {
		done = append(done, wantUsers...)
	} else {
		joined, invited = len(done), 0
		for _, m := range wantUsers {
			got, err := r.getMember(ctx, entry.Name, m, false)
			switch {
			case err == nil && got.State != "NOT_A_MEMBER":
				done = append(done, m)
				if got.State == "INVITED" {
					invited++
				} else {
					joined++
				}
			case err == nil || classify(err).kind == notFound:
				missing = append(missing, m)
			default:
				return r.verifyFailed(k, entry, err)
			}
		}
	}
	if !r.opts.App && r.opts.Caller != "" {
		done = append(done, r.opts.Caller)
	}
	r.stats.membersAdded.Add(int64(joined))
	r.stats.membersInvited.Add(int64(invited))
	r.stats.membersMissing.Add(int64(len(missing)))
	applied := &results.Applied{Members: done}
	if cur := r.rec.Entry(k); cur != nil && cur.Applied != nil {
		// Settings recorded at the create stay.
		applied.Settings, applied.IDs, applied.Welcome = cur.Applied.Settings, maps.Clone(cur.Applied.IDs), cur.Applied.Welcome
	}
	for _, m := range done {
		// The groups/ID of groups named by email, so that later runs
		// need no lookup.
		if strings.HasPrefix(m, plan.GroupPrefix) {
			if applied.IDs == nil {
				applied.IDs = make(map[string]string)
			}
			applied.IDs[m] = r.apiName(m)
		}
	}
	entry.Applied = applied
	entry.Members = &results.MemberStats{Added: joined, Invited: invited, Missing: missing}
	return r.record(results.Event{Space: k, Entry: entry})
}

// verifyFailed records that the setup members could not be checked. They
// stay unrecorded, so the next run adds them one by one (ALREADY_EXISTS
// counts as added), which converges either way.
func (r *runner) verifyFailed(k string, entry *results.Entry, err error) error {
	entry.Members = &results.MemberStats{Pending: entry.Members.Pending}
	if rerr := r.record(results.Event{Space: k, Entry: entry}); rerr != nil {
		return rerr
	}
	return fmt.Errorf("checking the members of %s: %w", entry.Name, err)
}

// members adds members one by one, then makes the role changes the plan
// still needs for this space (owners, managers, and demotions), one PATCH
// each. Each success is recorded as it happens; the entry's counts are
// recorded at the end.
func (r *runner) members(ctx context.Context, k string, entry *results.Entry, add []string, roles []plan.RoleChange) error {
	if entry.Name == "" || (len(add) == 0 && len(roles) == 0) {
		return nil
	}
	stats := results.MemberStats{}
	if entry.Members != nil {
		stats = *entry.Members
	}
	stats.Failed, stats.Pending = 0, nil
	var firstErr error
	fail := func(what string, err error) {
		stats.Failed++
		r.stats.membersFailed.Add(1)
		if firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", what, err)
		}
	}
	// names are the memberships the creates named, by member.
	names := make(map[string]membershipName)
	ids := make(map[string]string)   // member named by email → users/ID
	found := make(map[string]bool)   // members the space had already
	refused := make(map[string]bool) // members whose add failed: no role to give
	stopped := false
	for i, m := range add {
		if ctx.Err() != nil {
			stats.Pending = append(stats.Pending, add[i:]...)
			stopped = true
			break
		}
		if r.isCaller(m) {
			// The space's creator, or the adopter: a member already.
			if err := r.record(results.Event{Space: k, Member: m}); err != nil {
				return err
			}
			continue
		}
		// Tried now: whatever the answer, it is no longer what setup skipped.
		stats.Missing = without(stats.Missing, []string{m})
		var known map[string]string
		if entry.Applied != nil {
			known = entry.Applied.IDs
		}
		api, err := r.groupID(ctx, m, known)
		if err != nil {
			if isStop(ctx, err) {
				stats.Pending = append(stats.Pending, add[i:]...)
				stopped = true
				break
			}
			fail("adding "+m, err)
			refused[strings.ToLower(m)] = true
			continue
		}
		if api != m {
			ids[m] = api
		}
		var got *chat.Membership
		err = r.do(ctx, r.opts.Members, "members.create", entry.Name+" "+m, func(cctx context.Context) error {
			var err error
			call := r.svc.Spaces.Members.Create(entry.Name, membership(api)).Context(cctx)
			if r.admin(entry) {
				call = call.UseAdminAccess(true)
			}
			got, err = call.Do()
			return err
		})
		if err != nil {
			e := classify(err)
			switch {
			case isStop(ctx, err):
				stats.Pending = append(stats.Pending, add[i:]...)
				stopped = true
			case e.kind == exists:
				got = nil // a member already (GAM7 catches the same 409): as good as added
				found[m] = true
			default:
				r.unauthenticated(e)
				fail("adding "+m, e)
				refused[strings.ToLower(m)] = true
				continue
			}
			if stopped {
				break
			}
		} else {
			if n, ok := nameOf(entry.Name, got); ok {
				names[m] = n
			}
			if got.Member != nil && strings.Contains(m, "@") && strings.HasPrefix(got.Member.Name, "users/") {
				ids[m] = got.Member.Name
			}
			if got.State == "INVITED" {
				stats.Invited++
				r.stats.membersInvited.Add(1)
			} else {
				stats.Added++
				r.stats.membersAdded.Add(1)
			}
		}
		if err := r.record(results.Event{Space: k, Member: m, ID: ids[m], Found: found[m]}); err != nil {
			return err
		}
	}
	for i, rc := range roles {
		if stopped || ctx.Err() != nil {
			for _, p := range roles[i:] {
				stats.Pending = append(stats.Pending, p.Member)
			}
			stopped = true
			break
		}
		if refused[strings.ToLower(rc.Member)] {
			continue // already counted as failed; the next run tries both again
		}
		changed, err := r.setRole(ctx, entry.Name, entry.Principal, r.admin(entry), rc, names[rc.Member])
		var kept ownRoleKept
		if errors.As(err, &kept) {
			// Not a failure: said once, and the role the caller has is
			// recorded, so that the next plan has nothing to lower.
			r.warn(k, fmt.Sprintf("your own role in %q is kept (%s); the config lists you as %s", k, kept.live, rc.To))
			if err := r.record(results.Event{Space: k, Member: rc.Member, Role: string(kept.live)}); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			if isStop(ctx, err) {
				for _, p := range roles[i:] {
					stats.Pending = append(stats.Pending, p.Member)
				}
				stopped = true
				break
			}
			r.unauthenticated(classify(err))
			fail(fmt.Sprintf("making %s %s", strings.TrimPrefix(rc.Member, "users/"), article(rc.To)), err)
			continue
		}
		if changed {
			r.stats.rolesSet.Add(1)
		}
		if err := r.record(results.Event{Space: k, Member: rc.Member, Role: string(rc.To)}); err != nil {
			return err
		}
	}
	// The journal now holds what this space received; fold in the counts.
	if cur := r.rec.Entry(k); cur != nil {
		*entry = *cur
	}
	entry.Members = &stats
	if err := r.record(results.Event{Space: k, Entry: entry}); err != nil {
		return err
	}
	if stopped {
		return context.Cause(ctx)
	}
	return firstErr
}

func article(r plan.Role) string {
	if r == plan.RoleOwner {
		return "an owner"
	}
	return "a " + string(r)
}

// errOwnRole refuses to lower the caller's own role: the run would lose
// its hold on the space it manages.
var errOwnRole = errors.New("that is you (the caller): your own role is not lowered; change it in Chat if you mean it, or list yourself under owners")

// ownRoleKept is setRole's answer when the role to lower is the caller's
// own, as read from the space: kept, and said, not a failure.
type ownRoleKept struct{ live plan.Role }

func (e ownRoleKept) Error() string { return errOwnRole.Error() }

// warn says what a space kept as it was though the plan asked otherwise.
func (r *runner) warn(key, msg string) {
	if r.opts.OnWarning != nil {
		r.opts.OnWarning(key, msg)
		return
	}
	r.log.Warn(msg, "space", key)
}

// setRole gives member rc.Member the role rc.To with one PATCH of its
// membership (role mask; ROLE_MANAGER is the Chat UI's owner,
// ROLE_ASSISTANT_MANAGER its manager: DD, Membership.role). The
// membership's name is the one the server gave, in its answer to the
// create that added the member, or to a get by email: lists carry numeric
// user IDs, so they cannot tell which membership is whose. A member who
// already has the role needs no write.
func (r *runner) setRole(ctx context.Context, space, principal string, admin bool, rc plan.RoleChange, name membershipName) (changed bool, err error) {
	// Whoever runs the tool is never lowered: the caller, or, when the
	// caller is unknown, the principal that created the space.
	self := r.isCaller(rc.Member) || (r.opts.Caller == "" && principal != "" && strings.EqualFold(principal, rc.Member))
	if name == (membershipName{}) {
		got, err := r.getMember(ctx, space, rc.Member, admin)
		if err != nil {
			if isStop(ctx, err) {
				return false, err
			}
			return false, fmt.Errorf("finding the membership: %w", err)
		}
		live := plan.RoleOf(got.Role)
		switch {
		case live == rc.To:
			return false, nil // already so: nothing to write
		case self && rc.To.Rank() < live.Rank():
			return false, ownRoleKept{live}
		case live.Rank() > rc.From.Rank() && rc.To.Rank() < live.Rank():
			// Someone else gave this role (in Chat, or before the space
			// was adopted): lowering it is not this tool's to do.
			return false, fmt.Errorf("%s is %s of %s, which was not given by provision; not lowering it", strings.TrimPrefix(rc.Member, "users/"), article(live), space)
		}
		n, ok := nameOf(space, got)
		if !ok {
			return false, fmt.Errorf("finding the membership: the server answered %q, which is no membership of %s", got.Name, space)
		}
		name = n
	} else if self && rc.To.Rank() < rc.From.Rank() {
		return false, ownRoleKept{rc.From}
	}
	err = r.patchRole(ctx, name, rc.To, admin)
	return err == nil, err
}

// without returns list less the elements of drop, compared without case.
func without(list, drop []string) []string {
	if len(drop) == 0 || len(list) == 0 {
		return list
	}
	skip := make(map[string]bool, len(drop))
	for _, d := range drop {
		skip[strings.ToLower(d)] = true
	}
	var out []string
	for _, m := range list {
		if !skip[strings.ToLower(m)] {
			out = append(out, m)
		}
	}
	return out
}
