// Package plan turns a config file into validated spaces and compares them
// with what earlier runs recorded. It is pure: bytes in, a Plan or every
// problem with its position out; no network, clock or environment.
package plan

// Action is what a run will do for one space.
type Action string

const (
	Create Action = "create" // not recorded: create it
	Update Action = "update" // recorded as present, but settings, members or roles to change
	Exists Action = "exists" // recorded as present, nothing to do
	Retry  Action = "retry"  // recorded as failed or pending: create again with the same requestId
	// Unreachable: recorded, but this caller lost access to the space
	// (the API answers 404 or 403 while the space exists): kept as
	// recorded, never created again, never deleted, nothing sent.
	Unreachable Action = "unreachable"
	Orphan      Action = "orphan" // recorded, no longer in the config: reported, never touched
	Delete      Action = "delete" // an orphan this tool created, deleted because Config.Prune asks
)

// Setting names, as the plan shows them and Space.Settings and
// Recorded.Settings key them. Values are the config's words: "on"/"off"
// for history, "audiences/ID" for audience ("default" normalised to
// "audiences/default"), "true"/"false" for externalUsers, "collaboration"/
// "announcement" for the preset, "owners"/"managers"/"members" for each
// permission.
const (
	SetDescription   = "description"
	SetGuidelines    = "guidelines"
	SetHistory       = "history"
	SetAudience      = "audience"
	SetExternalUsers = "externalUsers"      // creation only
	SetPreset        = "permissions.preset" // creation only
	// Fine-grained permissions are "permissions." + one of PermissionKeys.
	SetPermissionPrefix = "permissions."
)

// PermissionKeys are the settable fields of permissionSettings (DD,
// PermissionSettings; postMessages is output only), in the order of the
// discovery document.
var PermissionKeys = []string{"manageMembersAndGroups", "modifySpaceDetails", "toggleHistory", "useAtMentionAll", "manageApps", "manageWebhooks", "replyMessages"}

// Patch is one spaces.patch the run sends: Mask is its updateMask (one of
// "space_details", "space_history_state", "access_settings.audience", or
// "permission_settings.KEY[,permission_settings.KEY…]": DD, spaces.patch),
// Settings the values it sends, by setting name (for space_details, both
// description and guidelines: the unchanged one is sent again).
type Patch struct {
	Mask     string
	Settings map[string]string
}

// Space is one space of the config with the defaults applied, validated and
// normalised.
type Space struct {
	DisplayName string // as written in the config, trimmed, in NFC (Text)
	// Key is the space's key in the results file: the config's key:, or
	// the display name when it has none; trimmed, in NFC. Renaming a
	// space is changing DisplayName under the same Key. Compare it only
	// through KeyOf.
	Key         string
	Description string
	Guidelines  string
	// History is "", "on" or "off" ("" leaves the API's default).
	History string
	// ExternalUsers is nil when unset.
	ExternalUsers *bool
	// Audience is "", "default" or "audiences/ID".
	Audience string
	// Permissions is "", "collaboration" or "announcement".
	Permissions string
	// Members are resource names (users/EMAIL lower-cased, users/ID,
	// groups/ID), de-duplicated, in config order, owners and managers
	// included.
	Members []string
	// Owners get ROLE_MANAGER, which the Chat UI calls "Owner" (may delete
	// the space); Managers get ROLE_ASSISTANT_MANAGER, the UI's "Manager".
	// Both are users, subsets of Members, and disjoint.
	Owners   []string
	Managers []string
	// Adopt allows taking over a space of this name that already exists
	// (adopt: true in the config; --adopt sets it on every space).
	Adopt bool
	// Welcome is the first message posted once in the space ("" for none).
	Welcome string
	// PermissionSettings are the fine-grained permissions the config states:
	// one of PermissionKeys → "owners", "managers" or "members" (who may).
	PermissionSettings map[string]string
	// Settings are the settings the config states, defaults applied, by
	// setting name (SetDescription…); a setting it does not state is not
	// managed and is absent.
	Settings Settings
	// Line and Col locate the space's entry in the config file.
	Line, Col int
}

// RecordKey is the space's key in the results file: Key, or the display
// name when Key is not set.
func (s Space) RecordKey() string {
	if s.Key != "" {
		return s.Key
	}
	return s.DisplayName
}

// AudienceName is the Audience as the Chat API takes it: "default" is the
// config's short form of "audiences/default".
func (s Space) AudienceName() string {
	if s.Audience == "default" {
		return "audiences/default"
	}
	return s.Audience
}

// Role is a member's role in a space, in the Chat UI's words.
type Role string

const (
	RoleMember  Role = "member"
	RoleManager Role = "manager" // ROLE_ASSISTANT_MANAGER
	RoleOwner   Role = "owner"   // ROLE_MANAGER
)

// API is the role as the Chat API names it (Membership.role in the
// discovery document: "ROLE_MANAGER … In the Chat UI, this role is called
// Owner"; "ROLE_ASSISTANT_MANAGER … called Manager").
func (r Role) API() string {
	switch r {
	case RoleOwner:
		return "ROLE_MANAGER"
	case RoleManager:
		return "ROLE_ASSISTANT_MANAGER"
	}
	return "ROLE_MEMBER"
}

// Rank orders roles by what they allow: owner, manager, member.
func (r Role) Rank() int {
	switch r {
	case RoleOwner:
		return 2
	case RoleManager:
		return 1
	}
	return 0
}

// RoleOf is the Role of an API role name; unknown names are members.
func RoleOf(api string) Role {
	switch api {
	case "ROLE_MANAGER":
		return RoleOwner
	case "ROLE_ASSISTANT_MANAGER":
		return RoleManager
	}
	return RoleMember
}

// RoleChange is one membership PATCH: Member goes From one role To another.
type RoleChange struct {
	Member   string
	From, To Role
}

// Config is a parsed and validated config file.
type Config struct {
	File   string
	Spaces []Space
	// App is set when the config was parsed for app authentication.
	App bool
	// PruneMembers and Prune are set by the command line (--prune-members,
	// --prune) before Diff: members this tool added and spaces it created
	// that the config no longer lists are planned for removal.
	PruneMembers, Prune bool
	// Caller is who runs the tool (users/EMAIL), set by the command line:
	// never planned for removal. The command refuses --prune-members when
	// it does not know the caller.
	Caller string
	// MaxDeletions and MaxRemovals bound the spaces deleted and the members
	// removed (over all spaces) in one run (guard.go): a plan over a bound
	// plans none of them. 0 allows none; Parse sets the command line's
	// defaults, DefaultMaxDeletions and DefaultMaxRemovals.
	MaxDeletions, MaxRemovals int
}

// Recorded is what earlier runs recorded for one key.
type Recorded struct {
	Status string // "created", "existing", "failed", "pending" or "unreachable"
	// Was is, for an unreachable space, its status before access was
	// lost ("created" or "existing"): what it is again once readable.
	Was  string
	Name string // spaces/ID, when known
	// DisplayName is the name the space was last given, when it is not
	// the key (a space renamed under its key); "" means the key.
	DisplayName string
	RequestID   string
	// Principal is who made the create with RequestID ("" when unknown).
	Principal string
	Members   []string // members the space has received
	Owners    []string // made owners (ROLE_MANAGER)
	Managers  []string // made managers (ROLE_ASSISTANT_MANAGER)
	// Gone is set by a refresh that confirmed the space deleted: an
	// administrator's read (--admin) answered NOT_FOUND.
	Gone bool
	// Lost is the HTTP status (404 or 403) a refresh's read got for the
	// space, unconfirmed: the space may be deleted, or this caller may
	// no longer be in it. 0 when the read succeeded or none was made.
	Lost int
	// Unreachable is set by a refresh that confirmed, with an
	// administrator's read, that the space exists though this caller
	// cannot see it.
	Unreachable bool
	// Settings are the settings applied (recorded), by setting name. nil
	// means the entry was recorded before settings were: the space is
	// taken to have what the config states (no drift), and Item.RecordSettings
	// asks the run to record that; an empty one records no setting.
	Settings Settings
	// Welcome is the welcome message posted (spaces/ID/messages/ID), "" if
	// none was.
	Welcome string
	// WelcomeHash is WelcomeHash of the text posted.
	WelcomeHash string
	// Found are members that were in the space before this tool added
	// them: --prune-members without a refresh leaves them alone.
	Found []string
	// IDs maps members recorded by email (users/EMAIL) to the users/ID the
	// API lists them as, so that a refresh's Live.Members can be matched
	// with the config's.
	IDs map[string]string
	// Live is what a refresh read of the space; nil without a refresh.
	Live *Live
}

// Live is a space as a refresh read it.
type Live struct {
	// DisplayName is the space's name as read ("" when not known): a
	// space renamed in the Chat UI is found, and renamed back, by it.
	DisplayName string
	// Settings by setting name, as spaces.get returned them. A setting the
	// read did not return (the preset, which is input only) is taken from
	// the record.
	Settings map[string]string
	// MembersRead is set when the memberships were read: Members then
	// lists who is in the space (config names where the refresh could tell,
	// users/ID or groups/ID otherwise), the caller and Chat apps left out,
	// and Roles their roles.
	MembersRead bool
	Members     []string
	Roles       map[string]Role
	// Resolved is set when the refresh looked up every config member named
	// by email that it could not match by a recorded ID (members.get with
	// the email), so that Members names each config member in the space
	// by its config name: a users/ID in Members is then no one the config
	// lists. Without it, --prune-members keeps members known only by ID
	// while a config member was not found (they may be the same person).
	Resolved bool
	// Caller is the caller's own resource name (users/EMAIL or users/ID),
	// when known: it is in the space without being listed in Members, so
	// the plan neither adds, removes nor changes the role of it.
	Caller string
	// Groups are the config's groups named by email (group:EMAIL) that the
	// refresh looked up again, with the groups/ID Cloud Identity answered:
	// they win over the IDs recorded (see GroupChange).
	Groups map[string]string
}

// Item is one line of the plan.
type Item struct {
	Action Action
	// Key is the display name: the config's for spaces in the config; for
	// orphans, the one recorded (the results file's key unless renamed).
	Key string
	// RecordedKey is the results file's key for this space when it differs
	// from Key: the key the entry is recorded under (one that differs in
	// case or Unicode form, or the name a space had before a rename), or
	// the config's key: for a new space; empty otherwise. The results
	// entry is found, or made, under it.
	RecordedKey string
	// Space is the config's space (Config.Spaces, shared rather than
	// copied: a plan of many spaces holds each once); nil for orphans and
	// for unreachable spaces the config does not name.
	Space *Space
	// Name, RequestID and Principal are carried over from the record, when
	// there is one. Gone spaces and new ones have an empty RequestID: the
	// applier makes one.
	Name      string
	RequestID string
	Principal string
	// Recreate is set when the space was recorded but a refresh found it
	// gone, or lost (Lost: unconfirmed); Name is then empty and
	// PreviousName holds the recorded space. A create that then answers
	// ALREADY_EXISTS while PreviousName still cannot be read proves the
	// space lives on out of this caller's sight: it is recorded as
	// unreachable, never created twice.
	Recreate     bool
	PreviousName string
	// Lost is Recorded.Lost of a Recreate: the HTTP status that made the
	// space look gone, unconfirmed. ConfirmName, when set, is the name the
	// recorded space has, different from the config's: the create is sent
	// under it, since only that name's ALREADY_EXISTS tells that the space
	// lives on (a rename follows, in a later run).
	Lost        int
	ConfirmName string
	// Rename is set when the space is to be renamed in place (spaces.patch
	// with mask display_name) before anything else: the record names it
	// From, the config To.
	Rename *Rename
	// Blocked, when set, says why the item must not be applied: a new
	// space whose key is the results file's key of another space. The run
	// fails it with no call, and records nothing for it.
	Blocked string
	// AddMembers are the members the space still has to receive: all of
	// Space.Members for Create, those not recorded as received for
	// Update and Retry, or, after a refresh that read the members, those
	// the space does not have (Live.Members).
	AddMembers []string
	// Roles are the role changes still to make, after the members are
	// added, owners first, then managers, then demotions to member. For
	// Create, and Retry of a space recorded with no role, every owner and
	// manager From member; otherwise each member whose recorded role
	// differs from the config's, either way. After a refresh that read the
	// members, From is the live role, and a role is lowered only where the
	// record shows this tool gave it (the recorded role is the live one).
	Roles []RoleChange
	// Warnings are shown with the item in the plan ("no person will own
	// this space": NoOwner; a setting the API takes only at creation:
	// WarnExternalUsers, WarnPreset; members kept by --prune-members
	// because a refresh could not tell who they are).
	Warnings []string
	// Changes names the settings that drifted (SetDescription,
	// SetGuidelines, SetHistory, SetAudience, then ChangePermissions once
	// for any number of fine-grained permissions), Patches the
	// spaces.patch calls that bring them back, in that order: at most one
	// per mask (MaskDetails, MaskHistory, MaskAudience, MaskPermissions).
	// For Create and Retry, the fine-grained permissions, which the create
	// cannot carry, are a patch to send once the space exists.
	Changes []string
	Patches []Patch
	// RemoveMembers are members to delete (Config.PruneMembers), sorted.
	RemoveMembers []string
	// Groups are the groups named by email whose groups/ID a refresh found
	// changed since it was recorded, sorted by member: the new ID is the
	// config's member, and the run records it.
	Groups []GroupChange
	// RecordSettings, when not nil, are settings the results file should
	// record for this space with no call, because the plan takes the space
	// to have them while the record does not say so: all the config states
	// for a space recorded before settings were (then an empty map still
	// asks to record, so that later changes are seen as drift), or what a
	// refresh found the space has. Settings patched are not in it: the run
	// records those once the patch succeeds. May be shared with
	// Space.Settings: do not modify.
	RecordSettings Settings
	// Adopted is set on an orphan kept because the space was adopted
	// (recorded as existing), when Config.Prune asks to delete orphans:
	// --prune deletes only spaces this tool created.
	Adopted bool
	// Withheld is set on an orphan that Config.Prune would delete, kept
	// because the plan's deletions are over Config.MaxDeletions (Guard).
	Withheld bool
	// Welcome is set when the space is to receive Space.Welcome: it has
	// none recorded (WelcomeID names the message).
	Welcome bool
	// MarkUnreachable, on an Unreachable item, asks the run to record the
	// space as unreachable (a refresh confirmed it lives out of sight);
	// Reachable, on any item of a space recorded as unreachable, asks it
	// to record the space's earlier status again (a refresh could read
	// it). Neither makes a call.
	MarkUnreachable, Reachable bool
}

// Rename is a display name changed under the same key.
type Rename struct{ From, To string }

// Plan is the config compared with the recorded results, in config order,
// orphans last.
type Plan struct {
	File  string
	Items []Item
	// Guard is what the bounds on destruction decided (guard.go).
	Guard Guard
}

// Counts summarises a plan.
type Counts struct {
	Create, Update, Retry, Unchanged, Orphan int
	Delete, Unreachable                      int
}
