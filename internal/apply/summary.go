// What a run did: each space's outcome, and the summary they add up to.

package apply

import (
	"provision/internal/plan"
	"provision/internal/results"
	"time"
)

// Outcome is what happened to one space of the plan.
type Outcome struct {
	Key    string
	Action plan.Action
	Entry  results.Entry
	// Err is the failure of the space or of one of its members, if any.
	Err error
	// Interrupted is set when the run stopped before the space was done.
	Interrupted bool
	// Deleted is set when a Delete item's space was deleted (or confirmed
	// gone) and its entry moved to the deleted section.
	Deleted bool
}

// Summary counts what a run did.
type Summary struct {
	Planned     int `json:"planned"` // spaces to create, retry or update
	Created     int `json:"created"`
	Existing    int `json:"existing"` // adopted after ALREADY_EXISTS
	Updated     int `json:"updated"`
	Failed      int `json:"failed"`
	Skipped     int `json:"skipped"` // already present, nothing to do
	Interrupted int `json:"interrupted"`

	MembersAdded   int `json:"membersAdded"`
	MembersInvited int `json:"membersInvited"`
	MembersFailed  int `json:"membersFailed"`
	MembersMissing int `json:"membersMissing"`
	RolesSet       int `json:"rolesSet"` // owners and managers made, people demoted
	MembersRemoved int `json:"membersRemoved"`
	Deleted        int `json:"deleted"` // spaces deleted (--prune)
	Renamed        int `json:"renamed"` // spaces renamed in place
	// Unreachable counts spaces this caller lost access to (kept, nothing
	// sent): found so in this run, or recorded so.
	Unreachable     int `json:"unreachable"`
	SettingsPatched int `json:"settingsPatched"` // spaces.patch calls that succeeded
	WelcomesPosted  int `json:"welcomesPosted"`  // welcome messages posted

	// DeletionsWithheld counts the spaces --prune was to delete that the
	// run did not, and the reason says why: the plan is over
	// --max-deletions, or something else failed or stopped in the run.
	// RemovalsWithheld is the same for the members of --prune-members
	// (over --max-removals).
	DeletionsWithheld       int    `json:"deletionsWithheld"`
	DeletionsWithheldReason string `json:"deletionsWithheldReason,omitempty"`
	RemovalsWithheld        int    `json:"removalsWithheld"`
	RemovalsWithheldReason  string `json:"removalsWithheldReason,omitempty"`

	SpaceWrites   int64 `json:"spaceWrites"`
	MessageWrites int64 `json:"messageWrites"`
	MemberWrites  int64 `json:"memberWrites"`
	Reads         int64 `json:"reads"`
	Retries       int64 `json:"retries"`
	Throttled     int64 `json:"throttled"`

	// Calls counts attempts by method and HTTP status (0: no answer).
	Calls map[string]map[int]int `json:"calls"`
	// QuotaWait is how long the server's quota held the run.
	QuotaWait time.Duration `json:"-"`

	Elapsed time.Duration `json:"-"`
}

func (s *Summary) add(o Outcome) {
	if o.Interrupted {
		return // counted at the end, with those never started
	}
	switch {
	case o.Action == plan.Delete && o.Err != nil:
		s.Failed++
	case o.Action == plan.Delete && o.Deleted:
		s.Deleted++
	case o.Entry.Status == results.Unreachable && o.Err == nil:
		// A create's ALREADY_EXISTS, or a delete's NOT_FOUND with no
		// administrator's read to confirm it, left the space kept.
		s.Unreachable++
		s.Planned--
	case o.Entry.Status == results.Failed:
		s.Failed++
	case o.Action == plan.Update && o.Err != nil:
		s.Failed++ // the space is there, but what it was to receive failed
	case o.Action == plan.Update:
		s.Updated++
	case o.Entry.Status == results.Created:
		s.Created++
	case o.Entry.Status == results.Existing:
		s.Existing++
	}
}
