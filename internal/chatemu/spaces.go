package chatemu

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// --- spaces ---------------------------------------------------------------

// checkSpace applies the rules of the document to a space to create.
func (s *Server) checkSpace(in *spaceIn) *apiError {
	switch {
	case in.ImportMode:
		return newError(statusUnimplemented, "Import mode is not modeled by the emulator.")
	case in.SingleUserBotDm:
		return newError(statusUnimplemented, "Direct messages are not modeled by the emulator.")
	case in.SpaceType == "" || in.SpaceType == "SPACE_TYPE_UNSPECIFIED":
		return newError(statusInvalidArgument, "Space type is required.")
	case in.SpaceType != "SPACE":
		return newError(statusInvalidArgument, "Only spaces of type SPACE can be created here; got %q.", in.SpaceType)
	case strings.TrimSpace(in.DisplayName) == "":
		return newError(statusInvalidArgument, "Display name is required for spaces of type SPACE.")
	case utf8.RuneCountInString(in.DisplayName) > maxDisplayName:
		return newError(statusInvalidArgument, "Display name must be at most %d characters.", maxDisplayName)
	case in.Customer != "" && !validRef(in.Customer, "customers/"):
		return newError(statusInvalidArgument, "Invalid customer %q: want customers/{customer}.", in.Customer)
	case in.PermissionSettings != nil:
		// DD: "Space permission settings for existing spaces"; at creation
		// the preset (predefinedPermissionSettings) is the way. That create
		// refuses it, rather than ignoring it, is UNCERTAIN.
		return newError(statusInvalidArgument, "permissionSettings can only be changed with spaces.patch; use predefinedPermissionSettings when creating a space.")
	}
	if d := in.SpaceDetails; d != nil {
		if utf8.RuneCountInString(d.Description) > maxDescription {
			return newError(statusInvalidArgument, "Description must be at most %d characters.", maxDescription)
		}
		if utf8.RuneCountInString(d.Guidelines) > maxGuidelines {
			return newError(statusInvalidArgument, "Guidelines must be at most %d characters.", maxGuidelines)
		}
	}
	if a := in.AccessSettings; a != nil && a.Audience != "" && !validRef(a.Audience, "audiences/") {
		return newError(statusInvalidArgument, "Invalid audience %q: want audiences/{audience}.", a.Audience)
	}
	return s.checkName(in.DisplayName)
}

// checkName refuses a display name an existing space already uses (DD:
// "An existing space within the Google Workspace organization might already
// use this display name"), compared trimmed and case-insensitively
// (UNCERTAIN: no source says how Google compares).
func (s *Server) checkName(displayName string) *apiError {
	if s.st.names[normName(displayName)] > 0 && !s.cfg.duplicates {
		s.ctr.conflicts++
		return newError(statusAlreadyExists, "A space with display name %q already exists.", strings.TrimSpace(displayName))
	}
	return nil
}

func validRef(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	return ok && rest != "" && !strings.Contains(rest, "/")
}

// insert makes a space from a checked request, with its creator as owner
// (ROLE_MANAGER: DD, "the calling user is added as a member", and a human
// creator is made a space manager, unlike an app).
func (s *Server) insert(in *spaceIn, requestID string, now time.Time, creator who) *space {
	sp := &space{
		id:          s.newSpaceID(),
		displayName: in.DisplayName,
		key:         normName(in.DisplayName),
		history:     in.SpaceHistoryState,
		permissions: in.PredefinedPermissionSettings,
		customer:    in.Customer,
		request:     requestID,
		created:     now,
		seq:         len(s.st.order),
		external:    in.ExternalUserAllowed,
		creator:     creator.id,
	}
	if sp.history == "HISTORY_STATE_UNSPECIFIED" {
		sp.history = ""
	}
	if d := in.SpaceDetails; d != nil {
		sp.description, sp.guidelines = d.Description, d.Guidelines
	}
	if a := in.AccessSettings; a != nil {
		sp.audience = a.Audience
	}
	s.st.know(creator)
	sp.add(&member{id: creator.id, name: creator.id, email: creator.email, role: "ROLE_MANAGER", state: "JOINED", created: now})
	if s.st.names[sp.key] > 0 {
		s.ctr.duplicates++
	}
	s.st.names[sp.key]++
	s.st.spaces[sp.id] = sp
	s.st.order = append(s.st.order, sp)
	s.st.live++
	if requestID != "" {
		s.st.requests[requestID] = sp
		s.ctr.requestIDs++
	}
	return sp
}

func (s *Server) remove(sp *space) {
	delete(s.st.spaces, sp.id)
	s.st.order[sp.seq] = nil
	s.st.live--
	if s.st.names[sp.key]--; s.st.names[sp.key] <= 0 {
		delete(s.st.names, sp.key)
	}
	// A requestId whose space is gone is forgotten: a later create with it
	// makes a new space.
	if sp.request != "" && s.st.requests[sp.request] == sp {
		delete(s.st.requests, sp.request)
	}
	s.ctr.spacesDeleted++
}

// replay answers a create whose requestId already made a space: with 200
// and an echo of the space in this request plus the name of the space made
// (DD: "the returned space might not be fully populated; the API echoes the
// space in your request with the system-assigned resource name
// populated"). Output-only fields sent are left out of the echo
// (UNCERTAIN). The same requestId from another caller is an error (DD:
// "Reusing an existing request ID with a different authenticated user
// results in an error"; its status and wording are UNCERTAIN).
func (s *Server) replay(c *call, requestID string, sent map[string]any) (map[string]any, bool, *apiError) {
	if requestID == "" {
		return nil, false, nil
	}
	sp := s.st.requests[requestID]
	if sp == nil {
		return nil, false, nil
	}
	if sp.creator != c.who.id {
		return nil, false, newError(statusInvalidArgument, "Request ID %q was already used by another caller.", requestID)
	}
	s.ctr.replays++
	return echo("Space", sent, "spaces/"+sp.id), true, nil
}

// echo copies the input fields of a request body (with JSON names) and sets
// name.
func echo(schema string, sent map[string]any, name string) map[string]any {
	out := make(map[string]any, len(sent)+1)
	for k, v := range sent {
		if f := inputSchemas[schema][k]; v != nil && !f.ignored {
			out[k] = v
		}
	}
	out["name"] = name
	return out
}

func (s *Server) createSpace(c *call) (int, any, *apiError) {
	var in spaceIn
	tree, e := decodeBody(c.body, "Space", "space", &in)
	if e != nil {
		return 0, nil, e
	}
	requestID := c.r.URL.Query().Get("requestId")
	if out, ok, e := s.replay(c, requestID, tree); ok || e != nil {
		return http.StatusOK, out, e
	}
	if e := s.checkSpace(&in); e != nil {
		return 0, nil, e
	}
	sp := s.insert(&in, requestID, c.now, c.who)
	s.ctr.spacesCreated++
	c.created = true
	return http.StatusOK, sp.out(), nil
}

// target is a member named in a request, resolved.
func (s *Server) setupSpace(c *call) (int, any, *apiError) {
	var in setupIn
	tree, e := decodeBody(c.body, "SetUpSpaceRequest", "", &in)
	if e != nil {
		return 0, nil, e
	}
	sent, _ := tree["space"].(map[string]any)
	if out, ok, e := s.replay(c, in.RequestID, sent); ok || e != nil {
		return http.StatusOK, out, e
	}
	if in.Space == nil {
		return 0, nil, newError(statusInvalidArgument, "space is required.")
	}
	if len(in.Memberships) > maxSetupMembers {
		return 0, nil, newError(statusInvalidArgument, "At most %d memberships can be set up with a space (got %d); add the others with members.create.", maxSetupMembers, len(in.Memberships))
	}
	targets := make([]target, 0, len(in.Memberships))
	seen := make(map[string]bool, len(in.Memberships))
	for i := range in.Memberships {
		path := fmt.Sprintf("memberships[%d]", i)
		if e := checkCreateRole(in.Memberships[i].Role); e != nil {
			return 0, nil, e
		}
		t, e := s.resolve(&in.Memberships[i], path)
		if e != nil {
			return 0, nil, e
		}
		if !t.group && t.id == c.who.id {
			return 0, nil, newError(statusInvalidArgument, "%s names the calling user, who is added automatically and must be omitted.", path)
		}
		if seen[t.id] {
			return 0, nil, newError(statusInvalidArgument, "%s names a member listed twice.", path)
		}
		seen[t.id] = true
		targets = append(targets, t)
	}
	if e := s.checkSpace(in.Space); e != nil {
		return 0, nil, e
	}
	sp := s.insert(in.Space, in.RequestID, c.now, c.who)
	s.ctr.spacesCreated++
	c.created = true
	for _, t := range targets {
		// Members the caller may not add are left out without an error.
		if !t.group && s.cfg.unaddable[t.email] {
			continue
		}
		s.join(sp, t, c.now)
	}
	return http.StatusOK, sp.out(), nil
}

// visible returns the space named by a path segment, if the caller may see
// it: a member of it, or an administrator with useAdminAccess. A space
// the caller is not in answers 403 PERMISSION_DENIED, or, with
// WithNotFoundForNonMembers, 404 NOT_FOUND as if it did not exist: which
// one the real API gives is UNCERTAIN (a caller removed from a space it
// created must not take either for a deletion).
func (s *Server) visible(c *call) (*space, *apiError) {
	sp := s.st.spaces[c.args[0]]
	switch {
	case sp == nil:
		return nil, errNotFound()
	case c.admin, sp.roleOf(c.who) != "":
		return sp, nil
	case s.cfg.hideAs404:
		return nil, errNotFound()
	}
	return nil, errPermission()
}

func (s *Server) getSpace(c *call) (int, any, *apiError) {
	sp, e := s.visible(c)
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, sp.out(), nil
}

// deleteSpace deletes a space, its members and messages (DD: "cascades").
// Only an owner may (Chat UI: an owner may delete the space; DD for app
// auth: only spaces the app created), or an administrator.
func (s *Server) deleteSpace(c *call) (int, any, *apiError) {
	sp, e := s.visible(c)
	if e != nil {
		return 0, nil, e
	}
	if !c.admin && sp.roleOf(c.who) != "ROLE_MANAGER" {
		return 0, nil, newError(statusPermissionDenied, "Only a space owner (ROLE_MANAGER) can delete the space.")
	}
	s.remove(sp)
	return http.StatusOK, struct{}{}, nil
}

var spaceFilterTerm = regexp.MustCompile(`^\s*(?:spaceType|space_type)\s*=\s*"([A-Z_]+)"\s*$`)

// parseSpaceFilter returns the space types a spaces.list filter allows; nil
// means all.
func parseSpaceFilter(f string) (map[string]bool, *apiError) {
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	types := make(map[string]bool)
	for term := range strings.SplitSeq(f, " OR ") {
		m := spaceFilterTerm.FindStringSubmatch(term)
		if m == nil {
			return nil, newError(statusInvalidArgument, "Invalid filter %q.", f)
		}
		switch m[1] {
		case "SPACE", "GROUP_CHAT", "DIRECT_MESSAGE":
			types[m[1]] = true
		default:
			return nil, newError(statusInvalidArgument, "Invalid space type %q in filter.", m[1])
		}
	}
	return types, nil
}

func pageSize(q string) (int, *apiError) {
	if q == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.Atoi(q)
	switch {
	case err != nil:
		return 0, newError(statusInvalidArgument, "Invalid value at 'page_size' (TYPE_INT32), %q", q)
	case n < 0:
		return 0, newError(statusInvalidArgument, "Page size must not be negative.")
	case n == 0:
		return defaultPageSize, nil
	}
	return min(n, maxPageSize), nil
}

// Page tokens are opaque to clients; inside, they hold the index to resume
// from and what they page over, so a token is never applied to another list.
func encodeToken(scope string, index int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(scope + ":" + strconv.Itoa(index)))
}

func decodeToken(tok, scope string) (int, *apiError) {
	if tok == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(b), scope+":"); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 {
				return n, nil
			}
		}
	}
	return 0, newError(statusInvalidArgument, "Invalid page token.")
}

func (s *Server) listSpaces(c *call) (int, any, *apiError) {
	q := c.r.URL.Query()
	size, e := pageSize(q.Get("pageSize"))
	if e != nil {
		return 0, nil, e
	}
	types, e := parseSpaceFilter(q.Get("filter"))
	if e != nil {
		return 0, nil, e
	}
	start, e := decodeToken(q.Get("pageToken"), "spaces")
	if e != nil {
		return 0, nil, e
	}
	var out listSpacesOut
	if types != nil && !types["SPACE"] {
		return http.StatusOK, out, nil // every emulated space is a SPACE
	}
	// DD: spaces.list "lists spaces the caller is a member of".
	for i := start; i < len(s.st.order); i++ {
		sp := s.st.order[i]
		if sp == nil || sp.roleOf(c.who) == "" {
			continue
		}
		if len(out.Spaces) == size {
			out.NextPageToken = encodeToken("spaces", i)
			break
		}
		out.Spaces = append(out.Spaces, sp.out())
	}
	return http.StatusOK, out, nil
}
