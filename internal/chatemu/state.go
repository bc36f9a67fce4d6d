package chatemu

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits from the discovery document.
const (
	maxDisplayName   = 128
	maxDescription   = 4096
	maxGuidelines    = 5000
	maxSetupMembers  = 49
	defaultPageSize  = 100
	maxPageSize      = 1000
	spaceURIPrefix   = "https://chat.google.com/room/"
	spaceIDAlphabet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	spaceIDRandChars = 7
)

// state is everything the emulator knows, guarded by Server.mu. Every lookup
// a create needs is one map access, and list pages start at an index, so a
// run of 100,000 spaces costs the same per call as a run of ten.
type state struct {
	spaces   map[string]*space // by ID
	order    []*space          // creation order; nil where a space was deleted
	live     int
	names    map[string]int32  // normalised display name → spaces using it
	requests map[string]*space // requestId → the space it created
	emails   map[string]string // user ID → email, for users first named by email
}

func newState() state {
	return state{
		spaces:   make(map[string]*space),
		names:    make(map[string]int32),
		requests: make(map[string]*space),
		emails:   make(map[string]string),
	}
}

// space is one space, kept compact: strings the request sent, the rest
// derived when rendered.
type space struct {
	id, displayName, key        string
	description, guidelines     string
	history, permissions        string
	audience, customer, request string
	created                     time.Time
	seq                         int // index in state.order
	external, hidden            bool
	joinedHumans, joinedGroups  int32
	memberWrites                int32
	members                     []*member
	byID                        map[string]*member // built once members outgrow a linear scan
}

// member is one membership; its name is spaces/{space.id}/members/{id}.
type member struct {
	id          string // numeric user ID, or the group ID
	email       string // when the user was named by email
	group       bool
	role        string
	state       string
	created     time.Time
	adds        int32 // add requests, the first included
	roleUpdates int32
}

const linearMembers = 8

func (sp *space) find(id string) *member {
	if sp.byID != nil {
		return sp.byID[id]
	}
	for _, m := range sp.members {
		if m.id == id {
			return m
		}
	}
	return nil
}

func (sp *space) add(m *member) {
	sp.members = append(sp.members, m)
	switch {
	case sp.byID != nil:
		sp.byID[m.id] = m
	case len(sp.members) > linearMembers:
		sp.byID = make(map[string]*member, 2*len(sp.members))
		for _, x := range sp.members {
			sp.byID[x.id] = x
		}
	}
	if m.state == "JOINED" {
		if m.group {
			sp.joinedGroups++
		} else {
			sp.joinedHumans++
		}
	}
}

// normName is the key under which display names must be unique.
func normName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// userID derives a stable numeric user ID from an email, shaped like the
// real 21-digit IDs: the same email gets the same ID in every emulator.
func userID(email string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(email))
	return fmt.Sprintf("1%020d", h.Sum64())
}

// userRef resolves the {user} of users/{user} to an ID and, when it was an
// email, that email.
func (s *Server) userRef(ref string) (id, email string) {
	if strings.Contains(ref, "@") {
		email = normEmail(ref)
		return userID(email), email
	}
	return ref, ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func (s *Server) newSpaceID() string {
	for {
		b := []byte("AAAA")
		for range spaceIDRandChars {
			b = append(b, spaceIDAlphabet[s.rng.IntN(len(spaceIDAlphabet))])
		}
		if id := string(b); s.st.spaces[id] == nil {
			return id
		}
	}
}

// --- request bodies -------------------------------------------------------

type spaceIn struct {
	DisplayName  string `json:"displayName"`
	SpaceType    string `json:"spaceType"`
	SpaceDetails *struct {
		Description string `json:"description"`
		Guidelines  string `json:"guidelines"`
	} `json:"spaceDetails"`
	SpaceHistoryState   string `json:"spaceHistoryState"`
	ExternalUserAllowed bool   `json:"externalUserAllowed"`
	AccessSettings      *struct {
		Audience string `json:"audience"`
	} `json:"accessSettings"`
	PredefinedPermissionSettings string `json:"predefinedPermissionSettings"`
	Customer                     string `json:"customer"`
	ImportMode                   bool   `json:"importMode"`
	SingleUserBotDm              bool   `json:"singleUserBotDm"`
}

type membershipIn struct {
	Role   string `json:"role"`
	Member *struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"member"`
	GroupMember *struct {
		Name string `json:"name"`
	} `json:"groupMember"`
}

type setupIn struct {
	Space       *spaceIn       `json:"space"`
	RequestID   string         `json:"requestId"`
	Memberships []membershipIn `json:"memberships"`
}

// --- responses ------------------------------------------------------------

type spaceOut struct {
	Name                string      `json:"name"`
	Type                string      `json:"type"`
	DisplayName         string      `json:"displayName"`
	SpaceThreadingState string      `json:"spaceThreadingState"`
	SpaceType           string      `json:"spaceType"`
	SpaceHistoryState   string      `json:"spaceHistoryState"`
	ExternalUserAllowed bool        `json:"externalUserAllowed,omitempty"`
	SpaceDetails        *detailsOut `json:"spaceDetails,omitempty"`
	AccessSettings      accessOut   `json:"accessSettings"`
	MembershipCount     countOut    `json:"membershipCount"`
	CreateTime          string      `json:"createTime"`
	SpaceURI            string      `json:"spaceUri"`
	Customer            string      `json:"customer,omitempty"`
}

type detailsOut struct {
	Description string `json:"description,omitempty"`
	Guidelines  string `json:"guidelines,omitempty"`
}

type accessOut struct {
	AccessState string `json:"accessState"`
	Audience    string `json:"audience,omitempty"`
}

type countOut struct {
	JoinedDirectHumanUserCount int32 `json:"joinedDirectHumanUserCount,omitempty"`
	JoinedGroupCount           int32 `json:"joinedGroupCount,omitempty"`
}

type membershipOut struct {
	Name        string    `json:"name"`
	State       string    `json:"state"`
	Role        string    `json:"role"`
	Member      *userOut  `json:"member,omitempty"`
	GroupMember *groupOut `json:"groupMember,omitempty"`
	CreateTime  string    `json:"createTime"`
}

type userOut struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type groupOut struct {
	Name string `json:"name"`
}

type listSpacesOut struct {
	Spaces        []spaceOut `json:"spaces,omitempty"`
	NextPageToken string     `json:"nextPageToken,omitempty"`
}

type listMembersOut struct {
	Memberships   []membershipOut `json:"memberships,omitempty"`
	NextPageToken string          `json:"nextPageToken,omitempty"`
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (sp *space) out() spaceOut {
	o := spaceOut{
		Name:                "spaces/" + sp.id,
		Type:                "ROOM",
		DisplayName:         sp.displayName,
		SpaceThreadingState: "THREADED_MESSAGES",
		SpaceType:           "SPACE",
		SpaceHistoryState:   sp.history,
		ExternalUserAllowed: sp.external,
		AccessSettings:      accessOut{AccessState: "PRIVATE"},
		MembershipCount:     countOut{sp.joinedHumans, sp.joinedGroups},
		CreateTime:          timestamp(sp.created),
		SpaceURI:            spaceURIPrefix + sp.id + "?cls=7",
		Customer:            sp.customer,
	}
	if o.SpaceHistoryState == "" {
		o.SpaceHistoryState = "HISTORY_ON"
	}
	if sp.description != "" || sp.guidelines != "" {
		o.SpaceDetails = &detailsOut{sp.description, sp.guidelines}
	}
	if sp.audience != "" {
		o.AccessSettings = accessOut{AccessState: "DISCOVERABLE", Audience: sp.audience}
	}
	return o
}

func (m *member) out(sp *space) membershipOut {
	o := membershipOut{
		Name:       "spaces/" + sp.id + "/members/" + m.id,
		State:      m.state,
		Role:       m.role,
		CreateTime: timestamp(m.created),
	}
	if m.group {
		o.GroupMember = &groupOut{Name: "groups/" + m.id}
	} else {
		// Only the canonical users/{id} is returned, never the email the
		// member was added with.
		o.Member = &userOut{Name: "users/" + m.id, Type: "HUMAN"}
	}
	return o
}

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
	if s.st.names[normName(in.DisplayName)] > 0 && !s.cfg.duplicates {
		s.ctr.conflicts++
		return newError(statusAlreadyExists, "A space with display name %q already exists.", strings.TrimSpace(in.DisplayName))
	}
	return nil
}

func validRef(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	return ok && rest != "" && !strings.Contains(rest, "/")
}

// insert makes a space from a checked request, with the caller as its
// manager.
func (s *Server) insert(in *spaceIn, requestID string, now time.Time, hidden bool) *space {
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
		hidden:      hidden,
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
	if !hidden {
		sp.add(&member{id: s.callerID, email: s.callerEm, role: "ROLE_MANAGER", state: "JOINED", created: now})
	}
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

// replay answers a create whose requestId already made a space.
func (s *Server) replay(requestID string) (spaceOut, bool) {
	if requestID == "" {
		return spaceOut{}, false
	}
	sp := s.st.requests[requestID]
	if sp == nil {
		return spaceOut{}, false
	}
	s.ctr.replays++
	return sp.out(), true
}

func (s *Server) createSpace(c *call) (int, any, *apiError) {
	var in spaceIn
	if e := decodeBody(c.body, "Space", &in); e != nil {
		return 0, nil, e
	}
	requestID := c.r.URL.Query().Get("requestId")
	if out, ok := s.replay(requestID); ok {
		return http.StatusOK, out, nil
	}
	if e := s.checkSpace(&in); e != nil {
		return 0, nil, e
	}
	sp := s.insert(&in, requestID, c.now, false)
	s.ctr.spacesCreated++
	c.created = true
	return http.StatusOK, sp.out(), nil
}

// target is a member named in a request, resolved.
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
	m := &member{id: t.id, email: t.email, group: t.group, role: "ROLE_MEMBER", state: "JOINED", created: now, adds: 1}
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

func (s *Server) setupSpace(c *call) (int, any, *apiError) {
	var in setupIn
	if e := decodeBody(c.body, "SetUpSpaceRequest", &in); e != nil {
		return 0, nil, e
	}
	if out, ok := s.replay(in.RequestID); ok {
		return http.StatusOK, out, nil
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
		if !t.group && t.id == s.callerID {
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
	sp := s.insert(in.Space, in.RequestID, c.now, false)
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

// visible returns the space named by a path segment, if the caller may see it.
func (s *Server) visible(id string) (*space, *apiError) {
	sp := s.st.spaces[id]
	switch {
	case sp == nil:
		return nil, errNotFound()
	case sp.hidden:
		return nil, errPermission()
	}
	return sp, nil
}

func (s *Server) getSpace(c *call) (int, any, *apiError) {
	sp, e := s.visible(c.args[0])
	if e != nil {
		return 0, nil, e
	}
	return http.StatusOK, sp.out(), nil
}

func (s *Server) deleteSpace(c *call) (int, any, *apiError) {
	sp, e := s.visible(c.args[0])
	if e != nil {
		return 0, nil, e
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
	for i := start; i < len(s.st.order); i++ {
		sp := s.st.order[i]
		if sp == nil || sp.hidden {
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

// --- members --------------------------------------------------------------

func (s *Server) createMember(c *call) (int, any, *apiError) {
	sp, e := s.visible(c.args[0])
	if e != nil {
		return 0, nil, e
	}
	var in membershipIn
	if e := decodeBody(c.body, "Membership", &in); e != nil {
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
	if m := sp.find(t.id); m != nil {
		m.adds++
		return 0, nil, newError(statusAlreadyExists, "The member is already in the space.")
	}
	if !t.group && s.cfg.unaddable[t.email] {
		return 0, nil, errPermission()
	}
	return http.StatusOK, s.join(sp, t, c.now).out(sp), nil
}

// memberOf finds the membership a {member} path segment names: a numeric
// ID, a group ID, or, when alias is true, a user's email.
func (s *Server) memberOf(c *call, alias bool) (*space, *member, *apiError) {
	sp, e := s.visible(c.args[0])
	if e != nil {
		return nil, nil, e
	}
	ref := c.args[1]
	if strings.Contains(ref, "@") {
		if !alias {
			return nil, nil, newError(statusInvalidArgument, "Membership name %q: the email alias is accepted only by members.get.", "spaces/"+sp.id+"/members/"+ref)
		}
		ref, _ = s.userRef(ref)
	}
	m := sp.find(ref)
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

func (s *Server) patchMember(c *call) (int, any, *apiError) {
	var in membershipIn
	if e := decodeBody(c.body, "Membership", &in); e != nil {
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
	if m.group && in.Role != "ROLE_MEMBER" {
		return 0, nil, newError(statusInvalidArgument, "A group membership cannot be given role %q.", in.Role)
	}
	m.role = in.Role
	m.roleUpdates++
	return http.StatusOK, m.out(sp), nil
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
	sp, e := s.visible(c.args[0])
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
