package results

import (
	"bytes"
	"encoding/json"
	"sync"
	"time"
)

// Version is the results-file format this package reads and writes.
// Version 1 had no owners: its applied "managers" were made ROLE_MANAGER,
// the Chat UI's owners, and are read as Owners.
const Version = 2

// Status of a space in the results file.
type Status string

const (
	Created  Status = "created"
	Existing Status = "existing"
	Failed   Status = "failed"
	// Pending: a requestId is recorded but the outcome is unknown (the run
	// was interrupted or stopped waiting for quota). Not a failure: the
	// next run asks again with the same requestId.
	Pending Status = "pending"
	// Unreachable: the space exists, but the caller lost access to it
	// (removed from it: the API answers 404 or 403, while an
	// administrator's read, or a create answering ALREADY_EXISTS for its
	// name, says it lives on). Kept with its name, ID and URL, never
	// created again, never deleted; Entry.Was says what it was before.
	Unreachable Status = "unreachable"
)

// File is the results file: the report of every run and the state the next
// run reads. Keys of Spaces are the spaces' keys as written in the config:
// a space's key:, or its display name (trimmed, in NFC).
type File struct {
	Version   int               `json:"version"`
	UpdatedAt time.Time         `json:"updatedAt"`
	Spaces    map[string]*Entry `json:"spaces"`
	// Deleted are the entries of spaces --prune deleted, oldest first, so
	// that their IDs are never lost and never deleted twice.
	Deleted []*Deleted `json:"deleted,omitempty"`
}

// Deleted is a space's entry as it was when the space was deleted.
type Deleted struct {
	DisplayName string    `json:"displayName"`
	DeletedAt   time.Time `json:"deletedAt"`
	Entry       *Entry    `json:"entry"`
}

// Entry is what is known of one space.
type Entry struct {
	// DisplayName is the name this tool last gave the space, when it is
	// not the entry's key (a space renamed under its key, or created with
	// a key: of its own).
	DisplayName string `json:"displayName,omitempty"`
	Name        string `json:"name,omitempty"` // spaces/ID
	ID          string `json:"id,omitempty"`
	URL         string `json:"url,omitempty"`
	Status      Status `json:"status"`
	Error       string `json:"error,omitempty"`
	RequestID   string `json:"requestId,omitempty"`
	// Principal is who sent the create with RequestID (users/EMAIL, or
	// the app's service account); a requestId is only valid for its
	// principal.
	Principal string     `json:"principal,omitempty"`
	CreatedAt *time.Time `json:"createdAt,omitempty"`
	// Previous is the space a refresh found deleted, kept when the space is
	// created again so that its ID is never lost.
	Previous string `json:"previous,omitempty"`
	// Earlier are the spaces before Previous that refreshes found deleted,
	// oldest first: no ID this tool recorded is ever lost.
	Earlier []string `json:"earlier,omitempty"`
	// Was is the status (created or existing) of the space an Unreachable
	// entry names, or of Previous while a create that would replace it is
	// pending or failed: what it is again when it can be read, and whether
	// --prune may ever delete it.
	Was Status `json:"was,omitempty"`
	// Members counts the outcome of membership calls across runs.
	Members *MemberStats `json:"members,omitempty"`
	// Applied lists the members the space has received and the roles it
	// has given, so later runs change only what is new.
	Applied *Applied `json:"applied,omitempty"`
}

// MemberStats counts membership outcomes.
type MemberStats struct {
	Added   int      `json:"added"`
	Invited int      `json:"invited,omitempty"`
	Failed  int      `json:"failed"`
	Missing []string `json:"missing,omitempty"`
	// Pending lists members (to add, or whose role to change) not yet
	// done when a run stopped.
	Pending []string `json:"pending,omitempty"`
}

// Applied lists resource names (users/…, groups/…) received by a space.
// Owners and Managers are disjoint; both are also in Members.
type Applied struct {
	Members  []string `json:"members,omitempty"`
	Owners   []string `json:"owners,omitempty"`   // ROLE_MANAGER ("Owner" in Chat)
	Managers []string `json:"managers,omitempty"` // ROLE_ASSISTANT_MANAGER ("Manager" in Chat)
	// IDs maps members named by email (users/EMAIL) to the users/ID the API
	// lists them as, where a call told it.
	IDs map[string]string `json:"ids,omitempty"`
	// Settings are the settings the config stated and the space received.
	Settings *Settings `json:"settings,omitempty"`
	// Welcome is the welcome message posted in the space
	// (spaces/ID/messages/client-…): it is posted once, never again.
	Welcome string `json:"welcome,omitempty"`
	// WelcomeHash identifies its text (sha256:…), so that a plan can say
	// the text changed since.
	WelcomeHash string `json:"welcomeHash,omitempty"`
	// Found are the members that were in the space already when this
	// tool added them (the API answered ALREADY_EXISTS): they count as
	// received, but --prune-members never removes them, since this tool
	// did not add them.
	Found []string `json:"found,omitempty"`
}

// Settings are the space settings applied, in the config's words; an
// absent field was not managed.
type Settings struct {
	Description   *string `json:"description,omitempty"`
	Guidelines    *string `json:"guidelines,omitempty"`
	History       string  `json:"history,omitempty"`  // on | off
	Audience      string  `json:"audience,omitempty"` // audiences/ID
	ExternalUsers *bool   `json:"externalUsers,omitempty"`
	// Permissions holds "preset" (collaboration | announcement) and the
	// fine-grained permissions (manageApps…) → owners | managers | members.
	Permissions map[string]string `json:"permissions,omitempty"`
}

// Roles of a Role event.
const (
	RoleMember  = "member"
	RoleManager = "manager"
	RoleOwner   = "owner"
)

// Event is one journal record: exactly one of Entry, Member (with or
// without Role and ID, or with Removed), Settings, Deleted, Welcome,
// DisplayName, or the legacy Manager. An Entry replaces the whole entry of Space. Member alone adds
// one name to its Applied members; with Role it also gives it that role
// (owner, manager, or member: neither), moving it between Applied's Owners
// and Managers; with ID it also records the users/ID the API lists it as;
// with Removed it takes the name out of Applied (members, owners,
// managers, IDs) instead. Settings merges into Applied.Settings (an empty
// map starts recording settings, with none stated). Deleted moves the
// entry to File.Deleted. Manager is only read, from journals written by
// version 1, where it meant ROLE_MANAGER: an owner; Record refuses it.
type Event struct {
	Space   string `json:"space"`
	Entry   *Entry `json:"entry,omitempty"`
	Member  string `json:"member,omitempty"`
	Role    string `json:"role,omitempty"`
	Manager string `json:"manager,omitempty"`
	// ID, with Member, records the users/ID the API knows Member as.
	ID string `json:"id,omitempty"`
	// Found, with Member, says the member was in the space already: it is
	// recorded as received and among Applied.Found.
	Found bool `json:"found,omitempty"`
	// Removed, with Member, takes Member out of Applied (members, roles).
	Removed bool `json:"removed,omitempty"`
	// Settings (alone) merges applied settings into the entry, by setting
	// name as the plan names them (description, permissions.manageApps…).
	Settings map[string]string `json:"settings,omitempty"`
	// Deleted (alone) moves the entry of Space to File.Deleted, stamped with
	// this time.
	Deleted *time.Time `json:"deleted,omitempty"`
	// Welcome (alone) records the welcome message posted in the space.
	Welcome string `json:"welcome,omitempty"`
	// WelcomeHash, with Welcome, identifies the text posted.
	WelcomeHash string `json:"welcomeHash,omitempty"`
	// DisplayName (alone) records the name the space was renamed to.
	DisplayName string `json:"displayName,omitempty"`
}

// MarshalJSON writes Event as its fields say, except that an empty, non-nil
// Settings is written as {} rather than left out: such an event still
// says that the entry records its settings (and that the config stated
// none), which Applied.Settings being nil or not tells apart.
func (ev Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(ev.value())
}

// plainEvent is Event without its MarshalJSON method.
type plainEvent Event

// value is what Event's JSON is made from (see MarshalJSON).
func (ev *Event) value() any {
	if ev.Settings == nil || len(ev.Settings) > 0 {
		return (*plainEvent)(ev)
	}
	return &struct {
		*plainEvent
		Settings map[string]string `json:"settings"`
	}{(*plainEvent)(ev), ev.Settings}
}

// eventLine is a journal line being rendered, with its encoder: both are
// reused from one Record to the next (eventLines), so that a run of many
// events does not allocate a line, and an encoder, for each.
type eventLine struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var eventLines = sync.Pool{New: func() any {
	l := &eventLine{}
	l.enc = json.NewEncoder(&l.buf)
	return l
}}

// renderEvent renders ev as a journal line, ending in a newline, as
// json.Marshal(ev) would plus the newline. Hand the line back with
// release once its bytes are copied.
func renderEvent(ev *Event) (*eventLine, error) {
	l := eventLines.Get().(*eventLine)
	l.buf.Reset()
	if err := l.enc.Encode(ev.value()); err != nil {
		l.release()
		return nil, err
	}
	return l, nil
}

func (l *eventLine) release() {
	if l.buf.Cap() > 64<<10 {
		return // an outsized line: not kept
	}
	eventLines.Put(l)
}
