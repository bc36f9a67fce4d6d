package chatemu

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type target struct {
	id, email string
	group     bool
}

func (s *Server) resolve(m *membershipIn, path string) (target, *apiError) {
	if (m.Member == nil) == (m.GroupMember == nil) {
		return target{}, newError(statusInvalidArgument, "Exactly one of %s.member and %s.groupMember must be set.", path, path)
	}
	if m.GroupMember != nil {
		if !validRef(m.GroupMember.Name, "groups/") {
			return target{}, newError(statusInvalidArgument, "Invalid group name %q at %q: want groups/{group}.", m.GroupMember.Name, path)
		}
		return target{id: strings.TrimPrefix(m.GroupMember.Name, "groups/"), group: true}, nil
	}
	switch m.Member.Type {
	case "", "TYPE_UNSPECIFIED", "HUMAN":
	default:
		return target{}, newError(statusUnimplemented, "Adding Chat apps is not modeled by the emulator.")
	}
	ref, ok := strings.CutPrefix(m.Member.Name, "users/")
	switch {
	case !ok || ref == "":
		return target{}, newError(statusInvalidArgument, "Invalid user name %q at %q: want users/{user}.", m.Member.Name, path)
	case ref == "app":
		return target{}, newError(statusUnimplemented, "Adding Chat apps is not modeled by the emulator.")
	case strings.Contains(ref, "@"):
		local, domain, _ := strings.Cut(ref, "@")
		if local == "" || domain == "" || strings.ContainsAny(ref, " /") {
			return target{}, newError(statusInvalidArgument, "Invalid user name %q at %q.", m.Member.Name, path)
		}
	case !isDigits(ref):
		return target{}, newError(statusInvalidArgument, "Invalid user name %q at %q: want an email or a numeric ID.", m.Member.Name, path)
	}
	id, email := s.userRef(ref)
	if email == "" {
		email = s.st.emails[id]
	}
	return target{id: id, email: email}, nil
}

func checkCreateRole(role string) *apiError {
	switch role {
	case "", "MEMBERSHIP_ROLE_UNSPECIFIED", "ROLE_MEMBER":
		return nil
	}
	return newError(statusInvalidArgument, "Role %q can only be set with members.patch.", role)
}

func (s *Server) invited(email string) bool {
	if email == "" {
		return false
	}
	for _, p := range s.cfg.invited {
		if p == email || (strings.HasPrefix(p, "@") && strings.HasSuffix(email, p)) {
			return true
		}
	}
	return false
}

// join makes t a member of sp.
func (s *Server) join(sp *space, t target, now time.Time) *member {
	m := &member{id: t.id, name: t.id, email: t.email, group: t.group, role: "ROLE_MEMBER", state: "JOINED", created: now, adds: 1}
	if t.group {
		m.name = groupMembershipID(sp.id, t.id)
	}
	if s.invited(t.email) {
		m.state = "INVITED"
	}
	if t.email != "" {
		s.st.emails[t.id] = t.email
	}
	sp.add(m)
	s.ctr.membersAdded++
	return m
}

// --- members --------------------------------------------------------------

// createMember adds a user or a group. Any member may (the default of a
// collaboration space lets members manage members; that the emulator ignores
// the manageMembersAndGroups setting is a simplification).
func (s *Server) createMember(c *call) (int, any, *apiError) {
	sp, e := s.visible(c)
	if e != nil {
		return 0, nil, e
	}
	var in membershipIn
	if _, e := decodeBody(c.body, "Membership", "membership", &in); e != nil {
		return 0, nil, e
	}
	if e := checkCreateRole(in.Role); e != nil {
		return 0, nil, e
	}
	t, e := s.resolve(&in, "membership")
	if e != nil {
		return 0, nil, e
	}
	sp.memberWrites++
	if m := sp.find(t.id, t.group); m != nil {
		m.adds++
		return 0, nil, newError(statusAlreadyExists, "The member is already in the space.")
	}
	if !t.group && s.cfg.unaddable[t.email] {
		return 0, nil, errPermission()
	}
	return http.StatusOK, s.join(sp, t, c.now).out(sp), nil
}

// memberOf finds the membership a {member} path segment names: the ID the
// server gave the membership (a user's numeric ID; for a group, the ID of
// groupMembershipID, never the group's own ID, which is answered 404 like
// any name the server never gave) or, when alias is true, a user's email.
// The DD documents the alias for get and delete; GAM7 also sends it to
// patch, which the emulator refuses (stricter: UNCERTAIN).
func (s *Server) memberOf(c *call, alias bool) (*space, *member, *apiError) {
	sp, e := s.visible(c)
	if e != nil {
		return nil, nil, e
	}
	ref := c.args[1]
	var m *member
	if strings.Contains(ref, "@") {
		if !alias {
			return nil, nil, newError(statusInvalidArgument, "Membership name %q: the email alias is accepted only by members.get and members.delete.", "spaces/"+sp.id+"/members/"+ref)
		}
		id, _ := s.userRef(ref)
		m = sp.find(id, false)
	} else {
		m = sp.named(ref)
	}
	if m == nil {
		return nil, nil, errNotFound()
	}
	return sp, m, nil
}

func (s *Server) getMember(c *call) (int, any, *apiError) {
	sp, m, e := s.memberOf(c, true)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, m.out(sp), nil
}

// patchMember changes a role (updateMask=role). Only an owner
// (ROLE_MANAGER) or an administrator may: DD, an owner "may make owners";
// that a manager (ROLE_ASSISTANT_MANAGER) may change no role at all is
// UNCERTAIN (the Chat UI lets managers manage members, not owners). A group
// gets no role but member. The last owner cannot be demoted (UNCERTAIN),
// which keeps every space with a human owner.
func (s *Server) patchMember(c *call) (int, any, *apiError) {
	var in membershipIn
	if _, e := decodeBody(c.body, "Membership", "membership", &in); e != nil {
		return 0, nil, e
	}
	mask := c.r.URL.Query().Get("updateMask")
	if mask == "" {
		return 0, nil, newError(statusInvalidArgument, "updateMask is required.")
	}
	for p := range strings.SplitSeq(mask, ",") {
		if p = strings.TrimSpace(p); p != "role" && p != "*" {
			return 0, nil, newError(statusInvalidArgument, "Invalid update mask path %q: only role can be updated.", p)
		}
	}
	sp, m, e := s.memberOf(c, false)
	if e != nil {
		return 0, nil, e
	}
	sp.memberWrites++
	switch in.Role {
	case "ROLE_MEMBER", "ROLE_MANAGER", "ROLE_ASSISTANT_MANAGER":
	default:
		return 0, nil, newError(statusInvalidArgument, "Role is required and must be ROLE_MEMBER, ROLE_MANAGER or ROLE_ASSISTANT_MANAGER; got %q.", in.Role)
	}
	if !c.admin && sp.roleOf(c.who) != "ROLE_MANAGER" {
		return 0, nil, newError(statusPermissionDenied, "Only a space owner (ROLE_MANAGER) can change roles.")
	}
	if m.group && in.Role != "ROLE_MEMBER" {
		return 0, nil, newError(statusInvalidArgument, "A group membership cannot be given role %q.", in.Role)
	}
	if m.role == "ROLE_MANAGER" && in.Role != "ROLE_MANAGER" && sp.owners() == 1 {
		return 0, nil, newError(statusFailedPrecondition, "The space must keep at least one owner (ROLE_MANAGER).")
	}
	m.role = in.Role
	m.roleUpdates++
	return http.StatusOK, m.out(sp), nil
}

// deleteMember removes a membership, named by the name the server gave it
// or, for a user, by email (DD: "You can use the email as an alias"). An owner or a manager may remove members; only
// an owner may remove an owner (DD: "To delete memberships for space
// managers, the requester must be a space manager"); anyone may leave
// (UNCERTAIN). The last owner cannot be removed (UNCERTAIN). The answer is
// the deleted membership (DD: response Membership).
func (s *Server) deleteMember(c *call) (int, any, *apiError) {
	sp, m, e := s.memberOf(c, true)
	if e != nil {
		return 0, nil, e
	}
	sp.memberWrites++
	caller := sp.roleOf(c.who)
	switch {
	case c.admin, m.id == c.who.id && !m.group:
	case caller == "ROLE_MANAGER":
	case caller == "ROLE_ASSISTANT_MANAGER" && m.role != "ROLE_MANAGER":
	default:
		return 0, nil, newError(statusPermissionDenied, "The caller does not have permission to remove this member.")
	}
	if !m.group && m.role == "ROLE_MANAGER" && sp.owners() == 1 {
		return 0, nil, newError(statusFailedPrecondition, "The space must keep at least one owner (ROLE_MANAGER).")
	}
	out := m.out(sp)
	sp.drop(m)
	s.ctr.membersDeleted++
	return http.StatusOK, out, nil
}

var memberFilterTerm = regexp.MustCompile(`^\s*(role|member\.type)\s*(=|!=)\s*"([A-Z_]+)"\s*$`)

// memberFilter is a members.list filter in disjunctive normal form.
type memberFilter [][]filterTerm

type filterTerm struct {
	field, value string
	negate       bool
}

func parseMemberFilter(f string) (memberFilter, *apiError) {
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	var out memberFilter
	for or := range strings.SplitSeq(f, " OR ") {
		var and []filterTerm
		for t := range strings.SplitSeq(or, " AND ") {
			m := memberFilterTerm.FindStringSubmatch(t)
			if m == nil || (m[1] == "role" && m[2] == "!=") {
				return nil, newError(statusInvalidArgument, "Invalid filter %q.", f)
			}
			and = append(and, filterTerm{field: m[1], value: m[3], negate: m[2] == "!="})
		}
		out = append(out, and)
	}
	return out, nil
}

func (f memberFilter) match(m *member) bool {
	if f == nil {
		return true
	}
	for _, and := range f {
		ok := true
		for _, t := range and {
			var v string
			switch t.field {
			case "role":
				v = m.role
			case "member.type":
				if !m.group {
					v = "HUMAN"
				}
			}
			if (v == t.value) == t.negate {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func boolParam(q, name string) (bool, *apiError) {
	if q == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(q)
	if err != nil {
		return false, newError(statusInvalidArgument, "Invalid value at %q (TYPE_BOOL), %q", name, q)
	}
	return b, nil
}

func (s *Server) listMembers(c *call) (int, any, *apiError) {
	sp, e := s.visible(c)
	if e != nil {
		return 0, nil, e
	}
	q := c.r.URL.Query()
	size, e := pageSize(q.Get("pageSize"))
	if e != nil {
		return 0, nil, e
	}
	filter, e := parseMemberFilter(q.Get("filter"))
	if e != nil {
		return 0, nil, e
	}
	showGroups, e := boolParam(q.Get("showGroups"), "show_groups")
	if e != nil {
		return 0, nil, e
	}
	showInvited, e := boolParam(q.Get("showInvited"), "show_invited")
	if e != nil {
		return 0, nil, e
	}
	scope := "members/" + sp.id
	start, e := decodeToken(q.Get("pageToken"), scope)
	if e != nil {
		return 0, nil, e
	}
	var out listMembersOut
	for i := start; i < len(sp.members); i++ {
		m := sp.members[i]
		// As in the real API, groups and invitations are listed only when
		// asked for.
		if (m.group && !showGroups) || (m.state == "INVITED" && !showInvited) || !filter.match(m) {
			continue
		}
		if len(out.Memberships) == size {
			out.NextPageToken = encodeToken(scope, i)
			break
		}
		out.Memberships = append(out.Memberships, m.out(sp))
	}
	return http.StatusOK, out, nil
}
