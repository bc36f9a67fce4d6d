// The OAuth scopes a run asks for, and why.

package auth

import "strings"

// OAuth scopes. Besides creating spaces and memberships, a run reads
// spaces (spaces.list after ALREADY_EXISTS, spaces.get for --refresh), which
// chat.spaces.create alone does not allow.
const (
	scopePrefix         = "https://www.googleapis.com/auth/"
	scopeSpacesCreate   = scopePrefix + "chat.spaces.create"
	scopeSpacesReadonly = scopePrefix + "chat.spaces.readonly"
	scopeMemberships    = scopePrefix + "chat.memberships"
	scopeAppSpaces      = scopePrefix + "chat.app.spaces.create"
	scopeAppMemberships = scopePrefix + "chat.app.memberships"
	// A Chat app lists and reads spaces with chat.bot (DD: spaces.list
	// takes chat.bot under app authentication; spaces.get chat.bot or
	// chat.app.spaces). It needs no administrator approval.
	scopeBot = scopePrefix + "chat.bot"

	// Settings changed after creation (spaces.patch), deletions (--prune)
	// and administrator access (--admin).
	scopeSpaces           = scopePrefix + "chat.spaces"
	scopeDelete           = scopePrefix + "chat.delete"
	scopeAppSpacesAll     = scopePrefix + "chat.app.spaces"
	scopeAppDelete        = scopePrefix + "chat.app.delete"
	scopeAdminSpaces      = scopePrefix + "chat.admin.spaces"
	scopeAdminMemberships = scopePrefix + "chat.admin.memberships"
	scopeAdminDelete      = scopePrefix + "chat.admin.delete"

	// Reads alone (--plan --refresh).
	scopeMembershipsReadonly      = scopePrefix + "chat.memberships.readonly"
	scopeAdminSpacesReadonly      = scopePrefix + "chat.admin.spaces.readonly"
	scopeAdminMembershipsReadonly = scopePrefix + "chat.admin.memberships.readonly"

	// The welcome message (messages.create; a Chat app posts with
	// chat.bot) and groups named by email (Cloud Identity groups.lookup).
	scopeMessagesCreate = scopePrefix + "chat.messages.create"
	scopeGroupsReadonly = scopePrefix + "cloud-identity.groups.readonly"
)

// Identity scopes, asked for by User along with the Chat scopes: with them
// the token endpoint returns an ID token that names the user, so that the
// caller's email is known and can be left out of spaces.setup's member
// lists (the API adds the caller itself and refuses a setup that names
// it). They are optional: a token granted without them still serves, and
// Credentials.Email is then "".
const (
	scopeOpenID = "openid"
	scopeEmail  = scopePrefix + "userinfo.email"
)

var identityScopes = []string{scopeOpenID, scopeEmail}

// scopePurpose says why a scope is needed, for the message that asks for a
// new consent.
var scopePurpose = map[string]string{
	scopeSpacesCreate:             "to create spaces",
	scopeSpacesReadonly:           "to find spaces that already exist",
	scopeMemberships:              "to add members and managers",
	scopeAppSpaces:                "to create spaces as the Chat app",
	scopeAppMemberships:           "to add members as the Chat app",
	scopeBot:                      "to find and check spaces as the Chat app",
	scopeSpaces:                   "to create spaces and change their settings",
	scopeDelete:                   "to delete spaces (--prune)",
	scopeAppSpacesAll:             "to create spaces and change their settings as the Chat app",
	scopeAppDelete:                "to delete spaces as the Chat app (--prune)",
	scopeAdminSpaces:              "to find and change spaces as an administrator (--admin)",
	scopeAdminMemberships:         "to change members as an administrator (--admin)",
	scopeAdminDelete:              "to delete spaces as an administrator (--admin --prune)",
	scopeMembershipsReadonly:      "to read members (--plan --refresh)",
	scopeAdminSpacesReadonly:      "to read spaces as an administrator (--plan --refresh --admin)",
	scopeAdminMembershipsReadonly: "to read members as an administrator (--plan --refresh --admin)",
	scopeMessagesCreate:           "to post the welcome message",
	scopeGroupsReadonly:           "to find groups named by email",
}

// Needs says what a run will do, for the scopes it asks for.
type Needs struct {
	Members bool // members, owners or managers to add or change (or remove)
	Patch   bool // settings to change after creation (spaces.patch)
	Delete  bool // spaces to delete (--prune)
	Admin   bool // the caller's administrator privilege (--admin)
	// ReadOnly: reads only (--plan --refresh); Members then asks to read
	// memberships.
	ReadOnly bool
	Messages bool // a welcome message to post (messages.create)
	Groups   bool // groups named by email to resolve (Cloud Identity)
}

// Scopes returns the OAuth scopes (full URLs) a run in mode m needs; members
// says whether the config has members, owners or managers. Modes Token and
// None return nil: their scopes are not chosen by provision.
func Scopes(m Mode, members bool) []string { return ScopesFor(m, Needs{Members: members}) }

// ScopesFor returns the OAuth scopes (full URLs) a run in mode m needs for
// n, the fewest that allow every call (DD: each method lists the scopes
// that allow it). chat.spaces allows create, setup, get, list and patch,
// so it replaces chat.spaces.create and chat.spaces.readonly when settings
// are patched; chat.app.spaces does the same for a Chat app.
func ScopesFor(m Mode, n Needs) []string {
	var s []string
	switch {
	case n.ReadOnly && (m == User || m == ServiceAccount || m == ADC):
		s = append(s, scopeSpacesReadonly)
		if n.Members {
			s = append(s, scopeMembershipsReadonly)
		}
		if n.Admin {
			s = append(s, scopeAdminSpacesReadonly, scopeAdminMembershipsReadonly)
		}
		if n.Groups {
			s = append(s, scopeGroupsReadonly)
		}
		return s
	case n.ReadOnly && m == App:
		return []string{scopeBot, scopeAppMemberships}
	}
	switch m {
	case User, ServiceAccount, ADC:
		if n.Patch {
			s = append(s, scopeSpaces)
		} else {
			s = append(s, scopeSpacesCreate, scopeSpacesReadonly)
		}
		if n.Members {
			s = append(s, scopeMemberships)
		}
		if n.Delete {
			s = append(s, scopeDelete)
		}
		if n.Admin {
			s = append(s, scopeAdminSpaces, scopeAdminMemberships)
			if n.Delete {
				s = append(s, scopeAdminDelete)
			}
		}
		if n.Messages {
			s = append(s, scopeMessagesCreate)
		}
		if n.Groups {
			s = append(s, scopeGroupsReadonly)
		}
	case App:
		if n.Patch {
			s = append(s, scopeAppSpacesAll)
		} else {
			s = append(s, scopeAppSpaces)
		}
		s = append(s, scopeBot)
		if n.Members {
			s = append(s, scopeAppMemberships)
		}
		if n.Delete {
			s = append(s, scopeAppDelete)
		}
	}
	return s
}

// shortScope returns a scope without its https://www.googleapis.com/auth/
// prefix, for messages.
func shortScope(s string) string { return strings.TrimPrefix(s, scopePrefix) }

func shortScopes(ss []string) string {
	short := make([]string, len(ss))
	for i, s := range ss {
		short[i] = shortScope(s)
	}
	return strings.Join(short, ", ")
}
