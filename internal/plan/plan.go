// Package plan turns a config file into validated spaces and compares them
// with what earlier runs recorded. It is pure: bytes in, a Plan or every
// problem with its position out; no network, clock or environment.
package plan

// Action is what a run will do for one space.
type Action string

const (
	Create Action = "create" // not recorded: create it
	Update Action = "update" // recorded as present, but members or managers are missing
	Exists Action = "exists" // recorded as present, nothing to do
	Retry  Action = "retry"  // recorded as failed (or interrupted): create again with the same requestId
	Orphan Action = "orphan" // recorded, no longer in the config: reported, never touched
)

// Space is one space of the config with the defaults applied, validated and
// normalised.
type Space struct {
	DisplayName string // as written in the config, trimmed
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
	// groups/ID), de-duplicated, in config order, managers included.
	Members []string
	// Managers are resource names, a subset of Members.
	Managers []string
	// Line and Col locate the space's entry in the config file.
	Line, Col int
}

// AudienceName is the Audience as the Chat API takes it: "default" is the
// config's short form of "audiences/default".
func (s Space) AudienceName() string {
	if s.Audience == "default" {
		return "audiences/default"
	}
	return s.Audience
}

// Config is a parsed and validated config file.
type Config struct {
	File   string
	Spaces []Space
}

// Recorded is what earlier runs recorded for one display name.
type Recorded struct {
	Status    string // "created", "existing" or "failed"
	Name      string // spaces/ID, when known
	RequestID string
	Members   []string // members the space has received
	Managers  []string // managers the space has received
	// Gone is set by a refresh that found the space deleted (404).
	Gone bool
}

// Item is one line of the plan.
type Item struct {
	Action Action
	// Key is the display name: the config's for spaces in the config, the
	// results file's for orphans.
	Key string
	// RecordedKey is the results file's key for this space when it differs
	// from Key (the config changed the name's case or surrounding white
	// space); empty otherwise. The results entry is found under it.
	RecordedKey string
	Space       Space // zero for orphans
	// Name and RequestID are carried over from the record, when there is one.
	// Gone spaces and new ones have an empty RequestID: the applier makes one.
	Name      string
	RequestID string
	// Recreate is set when the space was recorded but a refresh found it
	// gone; Name is then empty and PreviousName holds the deleted space.
	Recreate     bool
	PreviousName string
	// AddMembers and AddManagers are what the space still has to receive
	// (all of Space.Members/Managers for Create and Retry).
	AddMembers  []string
	AddManagers []string
}

// Plan is the config compared with the recorded results, in config order,
// orphans last.
type Plan struct {
	File  string
	Items []Item
}

// Counts summarises a plan.
type Counts struct {
	Create, Update, Retry, Unchanged, Orphan int
}
