package chatemu

import (
	"encoding/json"
	"fmt"
	"strings"

	chat "google.golang.org/api/chat/v1"
)

// Member is a snapshot of one membership, for tests.
type Member struct {
	Name  string // spaces/{space}/members/{member}, as the server names it
	User  string // users/{numeric id}; "" for a group
	Email string // the email the user was added with, when known
	Group string // groups/{id}; "" for a user
	Role  string // ROLE_MEMBER, ROLE_MANAGER…
	State string // JOINED or INVITED
	// Adds counts the requests to add this member (setup or members.create),
	// the first one included; above 1 means a client tried to add it again.
	// It is 0 for the caller, who is added by the create itself.
	Adds        int
	RoleUpdates int
}

// spaceID accepts "spaces/ID" or "ID".
func spaceID(name string) string { return strings.TrimPrefix(name, "spaces/") }

// Spaces returns every existing space in creation order, as spaces.get would
// return it, hidden ones (AddHiddenSpace) included.
func (s *Server) Spaces() []*chat.Space {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*chat.Space, 0, s.st.live)
	for _, sp := range s.st.order {
		if sp != nil {
			out = append(out, sp.snapshot())
		}
	}
	return out
}

// Space returns one space by name ("spaces/ID" or "ID").
func (s *Server) Space(name string) (*chat.Space, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.st.spaces[spaceID(name)]
	if sp == nil {
		return nil, false
	}
	return sp.snapshot(), true
}

// RequestID returns the requestId that created a space, "" if none.
func (s *Server) RequestID(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sp := s.st.spaces[spaceID(name)]; sp != nil {
		return sp.request
	}
	return ""
}

// Members returns a space's memberships in the order they were made, the
// caller's first; nil if the space does not exist.
func (s *Server) Members(name string) []Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.st.spaces[spaceID(name)]
	if sp == nil {
		return nil
	}
	out := make([]Member, 0, len(sp.members))
	for _, m := range sp.members {
		mm := Member{
			Name:        "spaces/" + sp.id + "/members/" + m.name,
			Email:       m.email,
			Role:        m.role,
			State:       m.state,
			Adds:        int(m.adds),
			RoleUpdates: int(m.roleUpdates),
		}
		if m.group {
			mm.Group = "groups/" + m.id
		} else {
			mm.User = "users/" + m.id
		}
		out = append(out, mm)
	}
	return out
}

// DeleteSpace deletes a space as if someone had since removed it, without
// counting a call or charging a quota. It reports whether the space existed.
func (s *Server) DeleteSpace(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.st.spaces[spaceID(name)]
	if sp == nil {
		return false
	}
	s.remove(sp)
	return true
}

// AddSpace makes a space owned by the default caller, as an earlier run
// would have, without counting a call or charging a quota. It returns its
// name.
func (s *Server) AddSpace(displayName string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seed(displayName, s.caller, who{}, "")
}

// someoneElse owns the spaces AddHiddenSpace makes.
const someoneElse = "users/someone.else@example.com"

// AddHiddenSpace makes a space someone else created: its display name is
// taken (creates of it get ALREADY_EXISTS), but the default caller is not a
// member, so lists leave it out and gets answer PERMISSION_DENIED. It is
// AddForeignSpace(displayName, "users/someone.else@example.com", "").
func (s *Server) AddHiddenSpace(displayName string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seed(displayName, s.newWho(someoneElse), who{}, "")
}

// AddForeignSpace makes a space created by owner ("users/EMAIL", who is its
// owner, ROLE_MANAGER) in which the default caller has callerRole: ""
// (not a member: the space is not listed and get answers
// PERMISSION_DENIED), "ROLE_MEMBER", "ROLE_ASSISTANT_MANAGER" (manager) or
// "ROLE_MANAGER" (a second owner). Its display name is taken, as any. It
// counts no call and charges no quota, and returns the space's name. It
// panics if the name is invalid or taken, or the role unknown: a mistake in
// a test's setup.
func (s *Server) AddForeignSpace(displayName, owner, callerRole string) string {
	return s.AddForeignSpaceFor(s.cfg.caller, displayName, owner, callerRole)
}

// AddForeignSpaceFor is AddForeignSpace for another caller ("users/EMAIL",
// such as one of WithTokens).
func (s *Server) AddForeignSpaceFor(caller, displayName, owner, callerRole string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch callerRole {
	case "", "ROLE_MEMBER", "ROLE_ASSISTANT_MANAGER", "ROLE_MANAGER":
	default:
		panic(fmt.Sprintf("chatemu: AddForeignSpace(%q): unknown role %q", displayName, callerRole))
	}
	name, err := s.seed(displayName, s.newWho(owner), s.newWho(caller), callerRole)
	if err != nil {
		panic("chatemu: " + err.Error())
	}
	return name
}

// seed makes a space created by owner, with guest as a member of role
// guestRole when guestRole is set.
func (s *Server) seed(displayName string, owner, guest who, guestRole string) (string, error) {
	in := &spaceIn{DisplayName: displayName, SpaceType: "SPACE"}
	conflicts := s.ctr.conflicts
	if e := s.checkSpace(in); e != nil {
		s.ctr.conflicts = conflicts
		return "", fmt.Errorf("adding space %q: %w", displayName, e)
	}
	now := s.cfg.now()
	sp := s.insert(in, "", now, owner)
	if guestRole != "" && guest.id != owner.id {
		s.join(sp, target{id: guest.id, email: guest.email}, now).role = guestRole
		s.ctr.membersAdded--
	}
	return "spaces/" + sp.id, nil
}

// snapshot renders a space as spaces.get would, plus the input-only
// predefinedPermissionSettings it was created with, for tests to check.
func (s *space) snapshot() *chat.Space {
	o := s.out()
	sp := &chat.Space{
		PredefinedPermissionSettings: s.permissions,
		Name:                         o.Name,
		Type:                         o.Type,
		DisplayName:                  o.DisplayName,
		SpaceThreadingState:          o.SpaceThreadingState,
		SpaceType:                    o.SpaceType,
		SpaceHistoryState:            o.SpaceHistoryState,
		ExternalUserAllowed:          o.ExternalUserAllowed,
		AccessSettings:               &chat.AccessSettings{AccessState: o.AccessSettings.AccessState, Audience: o.AccessSettings.Audience},
		MembershipCount: &chat.MembershipCount{
			JoinedDirectHumanUserCount: int64(o.MembershipCount.JoinedDirectHumanUserCount),
			JoinedGroupCount:           int64(o.MembershipCount.JoinedGroupCount),
		},
		CreateTime: o.CreateTime,
		SpaceUri:   o.SpaceURI,
		Customer:   o.Customer,
	}
	if o.SpaceDetails != nil {
		sp.SpaceDetails = &chat.SpaceDetails{Description: o.SpaceDetails.Description, Guidelines: o.SpaceDetails.Guidelines}
	}
	if len(s.perms) > 0 {
		b, _ := json.Marshal(s.perms)
		sp.PermissionSettings = new(chat.PermissionSettings)
		_ = json.Unmarshal(b, sp.PermissionSettings)
	}
	return sp
}

// RenameSpace gives a space another display name as someone in the Chat UI
// would, without counting a call. It reports whether the space exists and
// the name was free (names are unique in the organization).
func (s *Server) RenameSpace(name, displayName string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.st.spaces[spaceID(name)]
	key := normName(displayName)
	if sp == nil || (key != sp.key && s.st.names[key] > 0) {
		return false
	}
	if s.st.names[sp.key]--; s.st.names[sp.key] <= 0 {
		delete(s.st.names, sp.key)
	}
	sp.displayName, sp.key = displayName, key
	s.st.names[key]++
	return true
}

// EditSpace changes a space's description and guidelines as someone in
// the Chat UI would, without counting a call or charging a quota. It
// reports whether the space exists.
func (s *Server) EditSpace(name, description, guidelines string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.st.spaces[spaceID(name)]
	if sp == nil {
		return false
	}
	sp.description, sp.guidelines = description, guidelines
	return true
}

// RemoveMember takes a member (an email, or groups/ID) out of a space as
// someone in the Chat UI would, without counting a call or charging a
// quota. It reports whether the member was there.
func (s *Server) RemoveMember(name, member string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.st.spaces[spaceID(name)]
	if sp == nil {
		return false
	}
	id, group := strings.CutPrefix(member, "groups/")
	if strings.Contains(member, "@") {
		id, _ = s.userRef(member)
	}
	m := sp.find(id, group)
	if m == nil {
		return false
	}
	sp.drop(m)
	return true
}

// SetNotFoundForNonMembers switches the answer to a caller that is not in
// a space between 404 NOT_FOUND (on) and 403 PERMISSION_DENIED (off): see
// WithNotFoundForNonMembers.
func (s *Server) SetNotFoundForNonMembers(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.hideAs404 = on
}

// AddMember makes a user (by email) a member of a space with role (
// ROLE_MEMBER, ROLE_ASSISTANT_MANAGER or ROLE_MANAGER) as someone in the
// Chat UI would, without counting a call or charging a quota. It reports
// whether the space exists and the user was not in it.
func (s *Server) AddMember(name, email, role string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.st.spaces[spaceID(name)]
	if sp == nil {
		return false
	}
	id, e := s.userRef(email)
	if sp.find(id, false) != nil {
		return false
	}
	s.join(sp, target{id: id, email: e}, s.cfg.now()).role = role
	s.ctr.membersAdded--
	return true
}
