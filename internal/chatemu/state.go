package chatemu

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
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
	requests map[string]*space // requestId → the space it created (its creator made the request)
	emails   map[string]string // user ID → email, for users first named by email
}

// know records the email of a user named by email.
func (st *state) know(w who) {
	if w.email != "" {
		st.emails[w.id] = w.email
	}
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
	creator                     string // user ID of the creator
	created                     time.Time
	seq                         int // index in state.order
	external                    bool
	joinedHumans, joinedGroups  int32
	memberWrites                int32
	members                     []*member
	byID                        map[string]*member    // built once members outgrow a linear scan
	perms                       map[string]permission // set by spaces.patch, by JSON name
	messages                    []*message
}

// permission is one PermissionSetting: who may do one thing.
type permission struct {
	ManagersAllowed          bool `json:"managersAllowed"`
	AssistantManagersAllowed bool `json:"assistantManagersAllowed"`
	MembersAllowed           bool `json:"membersAllowed"`
}

// message is one message made by messages.create.
type message struct {
	id, clientID, requestID string
	sender                  string // user ID
	text                    string
	created                 time.Time
}

// member is one membership; its name is spaces/{space.id}/members/{name}.
type member struct {
	id string // numeric user ID, or the group ID
	// name is the {member} of the membership's name, which the server
	// assigns (DD, Membership.name): a user's numeric ID, or for a group
	// an opaque ID that is not the group's (groupMembershipID).
	name        string
	email       string // when the user was named by email
	group       bool
	role        string
	state       string
	created     time.Time
	adds        int32 // add requests, the first included
	roleUpdates int32
}

const linearMembers = 8

// key is how byID indexes a member by who it is: a user by its ID, a group
// by groups/ID, so that a user's ID and a group's never meet.
func memberKey(id string, group bool) string {
	if group {
		return "groups/" + id
	}
	return id
}

// find returns the membership of the user (or, with group, the group) of
// this ID.
func (sp *space) find(id string, group bool) *member {
	if sp.byID != nil {
		if m := sp.byID[memberKey(id, group)]; m != nil && m.id == id && m.group == group {
			return m
		}
		return nil
	}
	for _, m := range sp.members {
		if m.id == id && m.group == group {
			return m
		}
	}
	return nil
}

// named returns the membership whose name ends in /members/{seg}: a user
// by its ID, a group only by the ID its membership was given, never by
// the group's own ID.
func (sp *space) named(seg string) *member {
	if sp.byID != nil {
		if m := sp.byID[seg]; m != nil && m.name == seg {
			return m
		}
		return nil
	}
	for _, m := range sp.members {
		if m.name == seg {
			return m
		}
	}
	return nil
}

// index puts m in byID under who it is and under its membership name.
func (sp *space) index(m *member) {
	sp.byID[memberKey(m.id, m.group)] = m
	if m.group {
		sp.byID[m.name] = m
	}
}

// roleOf returns the caller's role in sp, "" if not a member. Only a
// membership of the user counts, not one through a group.
func (sp *space) roleOf(w who) string {
	if m := sp.find(w.id, false); m != nil {
		return m.role
	}
	return ""
}

// owners counts the human owners (ROLE_MANAGER) of sp.
func (sp *space) owners() int {
	n := 0
	for _, m := range sp.members {
		if !m.group && m.role == "ROLE_MANAGER" {
			n++
		}
	}
	return n
}

// drop removes membership m from sp.
func (sp *space) drop(m *member) {
	for i, x := range sp.members {
		if x == m {
			sp.members = append(sp.members[:i], sp.members[i+1:]...)
			break
		}
	}
	if sp.byID != nil {
		delete(sp.byID, memberKey(m.id, m.group))
		if m.group {
			delete(sp.byID, m.name)
		}
	}
	if m.state == "JOINED" {
		if m.group {
			sp.joinedGroups--
		} else {
			sp.joinedHumans--
		}
	}
}

func (sp *space) add(m *member) {
	sp.members = append(sp.members, m)
	switch {
	case sp.byID != nil:
		sp.index(m)
	case len(sp.members) > linearMembers:
		sp.byID = make(map[string]*member, 2*len(sp.members))
		for _, x := range sp.members {
			sp.index(x)
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

// normName is the key under which display names must be unique: trimmed,
// in NFC, case folded. Display names are unique in the organization (DD,
// spaces.create); that case, surrounding white space and the Unicode form
// do not tell two apart is UNCERTAIN (docs/emulator.md).
func normName(s string) string {
	return norm.NFC.String(cases.Fold().String(norm.NFC.String(strings.TrimSpace(s))))
}

// userID derives a stable numeric user ID from an email, shaped like the
// real 21-digit IDs: the same email gets the same ID in every emulator.
func userID(email string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(email))
	return fmt.Sprintf("1%020d", h.Sum64())
}

// groupMembershipID is the {member} of a group's membership name. The
// real server assigns membership names (DD, Membership.name: "assigned by
// the server") and documents no format for a group's; here it is a hash
// of the space and the group: stable (the same group in the same space is
// always named alike) and never the group's own ID, so that a client that
// composes spaces/S/members/{groupID} instead of using the name it was
// given is answered 404, as it would be by a server whose names it does
// not know (UNCERTAIN: the real IDs' shape).
func groupMembershipID(spaceID, groupID string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(spaceID + "/groups/" + groupID))
	return fmt.Sprintf("%016x", h.Sum64())
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
	PredefinedPermissionSettings string        `json:"predefinedPermissionSettings"`
	PermissionSettings           permissionsIn `json:"permissionSettings"`
	Customer                     string        `json:"customer"`
	ImportMode                   bool          `json:"importMode"`
	SingleUserBotDm              bool          `json:"singleUserBotDm"`
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

type permissionsIn map[string]*permission

type setupIn struct {
	Space       *spaceIn       `json:"space"`
	RequestID   string         `json:"requestId"`
	Memberships []membershipIn `json:"memberships"`
}

// --- responses ------------------------------------------------------------

type spaceOut struct {
	Name                string                `json:"name"`
	Type                string                `json:"type"`
	DisplayName         string                `json:"displayName"`
	SpaceThreadingState string                `json:"spaceThreadingState"`
	SpaceType           string                `json:"spaceType"`
	SpaceHistoryState   string                `json:"spaceHistoryState"`
	ExternalUserAllowed bool                  `json:"externalUserAllowed,omitempty"`
	SpaceDetails        *detailsOut           `json:"spaceDetails,omitempty"`
	AccessSettings      accessOut             `json:"accessSettings"`
	MembershipCount     countOut              `json:"membershipCount"`
	CreateTime          string                `json:"createTime"`
	SpaceURI            string                `json:"spaceUri"`
	Customer            string                `json:"customer,omitempty"`
	PermissionSettings  map[string]permission `json:"permissionSettings,omitempty"`
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
		// Every space has permission settings, patched or not: "Output
		// lists current permission settings", and after creation
		// "settings are populated in the PermissionSettings field"
		// (chat-api.json beside chat-gen.go of
		// google.golang.org/api/chat/v1: Space.permissionSettings and
		// Space.predefinedPermissionSettings). Under app authentication
		// the same page says they are "only populated … when the Chat
		// app created the space"; this emulator does not tell callers
		// apart here and always shows them.
		PermissionSettings: sp.permissionSettings(),
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
		Name:       "spaces/" + sp.id + "/members/" + m.name,
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
