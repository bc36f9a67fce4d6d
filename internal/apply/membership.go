package apply

import (
	"context"
	"strings"

	chat "google.golang.org/api/chat/v1"

	"provision/internal/plan"
)

// membershipName is a membership's resource name as the server gave it:
// spaces/S/members/M, where the server assigns M (DD, Membership.name:
// "Resource name of the membership, assigned by the server"). It is made
// in one place, nameOf, from a server's answer (members.list, get or
// create), and it is all that members.delete and members.patch take: a
// name composed from a group's ID may name nothing, and a 404 for it says
// nothing of whether the member is still there.
type membershipName struct{ name string }

func (n membershipName) String() string { return n.name }

// nameOf is the name the server gave membership m of space, from one of
// its answers; false when the answer names no membership of that space.
func nameOf(space string, m *chat.Membership) (membershipName, bool) {
	if m == nil {
		return membershipName{}, false
	}
	id, ok := strings.CutPrefix(m.Name, space+"/members/")
	if !ok || id == "" || strings.ContainsAny(id, "/?#%") {
		return membershipName{}, false
	}
	return membershipName{m.Name}, true
}

// listed is one membership of a members.list answer.
type listed struct {
	name membershipName
	role plan.Role
	app  bool // a Chat app (Member.type BOT): never taken for a person
}

// listing is a space's memberships as members.list answered, by member:
// users/ID for people and apps, groups/ID for groups.
type listing map[string]listed

// deleteMembership removes a membership by the name the server gave it:
// the one members.delete of the tool.
func (r *runner) deleteMembership(ctx context.Context, n membershipName, admin bool) error {
	return r.do(ctx, r.opts.Members, "members.delete", n.name, func(cctx context.Context) error {
		call := r.svc.Spaces.Members.Delete(n.name).Context(cctx)
		if admin {
			call = call.UseAdminAccess(true)
		}
		_, err := call.Do()
		return err
	})
}

// patchRole gives the membership of this name the role, with one PATCH
// (updateMask=role).
func (r *runner) patchRole(ctx context.Context, n membershipName, role plan.Role, admin bool) error {
	return r.do(ctx, r.opts.Members, "members.patch", n.name, func(cctx context.Context) error {
		call := r.svc.Spaces.Members.Patch(n.name, &chat.Membership{Role: role.API()}).UpdateMask("role").Context(cctx)
		if admin {
			call = call.UseAdminAccess(true)
		}
		_, err := call.Do()
		return err
	})
}

// memberStillThere reads a membership again by the name the server gave it,
// after a delete answered 404: true when the server still has it, false
// when the read confirms it is gone (404, or NOT_A_MEMBER).
func (r *runner) memberStillThere(ctx context.Context, n membershipName, admin bool) (bool, error) {
	got, err := r.get(ctx, n.name, admin)
	switch {
	case err != nil && spaceNotFound(classify(err)):
		return false, nil
	case err != nil:
		return false, err
	}
	return got.State != "NOT_A_MEMBER", nil
}
