// The caller's own role: never lowered, so never planned lower.

package plan

// keepOwnRole drops from roles a change that would lower the role of
// caller (the caller's resource name, users/EMAIL or users/ID; "" when
// unknown): the applier never lowers it (a run would lose its hold on the
// space), and says so once when it finds the config lists the caller
// lower than the space does. The plan shows no demotion it will not make.
func keepOwnRole(caller string, roles []RoleChange) []RoleChange {
	if caller == "" || len(roles) == 0 {
		return roles
	}
	out := roles[:0:0]
	for _, rc := range roles {
		if sameMember(rc.Member, caller) && rc.To.Rank() < rc.From.Rank() {
			continue
		}
		out = append(out, rc)
	}
	return out
}
