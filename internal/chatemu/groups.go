package chatemu

import (
	"net/http"
	"strings"
)

// lookupGroup answers Cloud Identity's groups.lookup: GET
// /v1/groups:lookup?groupKey.id=EMAIL → {"name": "groups/ID"} (Cloud
// Identity API reference, groups.lookup). A group it does not know is
// answered as Cloud Identity answers a group the caller may not see, 403
// PERMISSION_DENIED "Error(2028): Permission denied for resource … (or it
// may not exist)" (the wording seen for groups in public reports;
// UNCERTAIN for lookup, which may answer 404 NOT_FOUND: clients must take
// both for an unknown group). Scopes are not modelled.
func (s *Server) lookupGroup(c *call) (int, any, *apiError) {
	q := c.r.URL.Query()
	email := normEmail(q.Get("groupKey.id"))
	switch {
	case email == "":
		return 0, nil, newError(statusInvalidArgument, "groupKey.id is required.")
	case q.Get("groupKey.namespace") != "":
		return 0, nil, newError(statusUnimplemented, "Namespaces other than the Google one are not modeled by the emulator.")
	case !strings.Contains(email, "@"):
		return 0, nil, newError(statusInvalidArgument, "groupKey.id %q is not an email address.", email)
	}
	id, ok := s.cfg.groups[email]
	if !ok {
		return 0, nil, newError(statusPermissionDenied, "Error(2028): Permission denied for resource groupKey %s (or it may not exist).", email)
	}
	return http.StatusOK, map[string]string{"name": "groups/" + id}, nil
}

// getGroup answers Cloud Identity's groups.get: GET /v1/groups/ID → the
// Group, whose groupKey.id is its email (Cloud Identity API reference,
// groups.get and Group: "groupKey: The EntityKey of the Group", its id
// "the ID of the entity … an email address" for a Google Group; the
// Chat API names a group by the same ID: DD, Group.name "Represents a
// group in Cloud Identity Groups API. Format: groups/{group}"). A group it
// does not know is answered as lookup answers one, 403 PERMISSION_DENIED
// (UNCERTAIN, as for lookup: 404 is as likely).
func (s *Server) getGroup(c *call) (int, any, *apiError) {
	id := c.args[0]
	for email, gid := range s.cfg.groups {
		if gid == id {
			return http.StatusOK, map[string]any{
				"name":     "groups/" + id,
				"groupKey": map[string]string{"id": email},
				"parent":   "customers/C00000000",
				"labels":   map[string]string{"cloudidentity.googleapis.com/groups.discussion_forum": ""},
			}, nil
		}
	}
	return 0, nil, newError(statusPermissionDenied, "Error(2028): Permission denied for resource groups/%s (or it may not exist).", id)
}

// SetGroup makes groups.lookup answer groups/ID for email from now on, as
// Cloud Identity does once a group is deleted and made again under the
// same email (a new ID); an empty id forgets the group, as if deleted. It
// does not touch the spaces: a membership of the old group stays where it
// is (whether Chat drops a deleted group's memberships is UNCERTAIN). It
// counts no call and charges no quota.
func (s *Server) SetGroup(email, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	email = normEmail(email)
	if id == "" {
		delete(s.cfg.groups, email)
		return
	}
	if s.cfg.groups == nil {
		s.cfg.groups = make(map[string]string)
	}
	s.cfg.groups[email] = strings.TrimPrefix(id, "groups/")
}
