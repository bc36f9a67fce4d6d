package results

import "time"

// Version is the results-file format this package reads and writes.
const Version = 1

// Status of a space in the results file.
type Status string

const (
	Created  Status = "created"
	Existing Status = "existing"
	Failed   Status = "failed"
)

// File is the results file: the report of every run and the state the next
// run reads. Keys of Spaces are display names as written in the config.
type File struct {
	Version   int               `json:"version"`
	UpdatedAt time.Time         `json:"updatedAt"`
	Spaces    map[string]*Entry `json:"spaces"`
}

// Entry is what is known of one space.
type Entry struct {
	Name      string     `json:"name,omitempty"` // spaces/ID
	ID        string     `json:"id,omitempty"`
	URL       string     `json:"url,omitempty"`
	Status    Status     `json:"status"`
	Error     string     `json:"error,omitempty"`
	RequestID string     `json:"requestId,omitempty"`
	CreatedAt *time.Time `json:"createdAt,omitempty"`
	// Members counts the outcome of membership calls across runs.
	Members *MemberStats `json:"members,omitempty"`
	// Applied lists the members and managers the space has received, so
	// later runs add only what is new.
	Applied *Applied `json:"applied,omitempty"`
}

// MemberStats counts membership outcomes.
type MemberStats struct {
	Added   int      `json:"added"`
	Invited int      `json:"invited,omitempty"`
	Failed  int      `json:"failed"`
	Missing []string `json:"missing,omitempty"`
	// Pending lists members and managers not yet done when a run stopped.
	Pending []string `json:"pending,omitempty"`
}

// Applied lists resource names (users/…, groups/…) received by a space.
type Applied struct {
	Members  []string `json:"members,omitempty"`
	Managers []string `json:"managers,omitempty"`
}

// Event is one journal record. Exactly one of Entry, Member or Manager is
// set. An Entry replaces the whole entry of Space; Member and Manager add
// one name to its Applied lists (creating them as needed).
type Event struct {
	Space   string `json:"space"`
	Entry   *Entry `json:"entry,omitempty"`
	Member  string `json:"member,omitempty"`
	Manager string `json:"manager,omitempty"`
}
