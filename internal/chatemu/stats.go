package chatemu

import (
	"slices"
	"time"
)

// Stats are the emulator's counters, as Server.Stats and GET /_emulator/stats
// report them.
type Stats struct {
	// Calls counts API calls by method ("spaces.create", "members.patch",
	// "unknown" for paths outside the API) and HTTP status; status 0 is a
	// lost response (the connection was closed without an answer).
	Calls map[string]map[int]int `json:"calls"`

	Spaces        int `json:"spaces"`        // spaces that exist now
	SpacesCreated int `json:"spacesCreated"` // by spaces.create and spaces.setup, replays excluded
	SpacesDeleted int `json:"spacesDeleted"`
	// RequestIDs counts the distinct requestIds that created a space.
	RequestIDs int `json:"requestIds"`
	// Replays counts creates answered with the space an earlier call with the
	// same requestId made.
	Replays int `json:"replays"`
	// Duplicates counts spaces created under a display name (trimmed,
	// case-insensitive) another existing space already had. It stays 0
	// unless WithDuplicateNames turned the ALREADY_EXISTS check off.
	Duplicates    int `json:"duplicates"`
	AlreadyExists int `json:"alreadyExists"` // 409 answers to creates
	MembersAdded  int `json:"membersAdded"`  // memberships made, by setup or members.create

	MembersDeleted  int `json:"membersDeleted"`  // memberships removed by members.delete
	SpacesPatched   int `json:"spacesPatched"`   // spaces.patch calls that changed a space
	MessagesCreated int `json:"messagesCreated"` // messages made, replays excluded

	Throttled       int `json:"throttled"`       // 429 answers, whichever limit refused
	Unavailable     int `json:"unavailable"`     // injected 503 answers
	LostResponses   int `json:"lostResponses"`   // creates whose answer was dropped
	Unauthenticated int `json:"unauthenticated"` // 401 answers

	// SpaceWrites and MemberWrites are the times of the calls charged to the
	// space-write and membership-write quotas, in order.
	SpaceWrites  []time.Time `json:"spaceWrites"`
	MemberWrites []time.Time `json:"memberWrites"`
	// Creates are the times of the calls charged to the space-creation
	// limit (spaces.create and spaces.setup let through, replays and
	// refusals for content included), in order.
	Creates []time.Time `json:"creates"`
	// CreateLimited and CreateLimitedLong count the creates refused with 429
	// by the creation limit of the window and of the long window
	// (WithCreationLimit); Throttled counts them too.
	CreateLimited     int `json:"createLimited"`
	CreateLimitedLong int `json:"createLimitedLong"`

	// MemberWritesBySpace counts, per space name, the members.create and
	// members.patch calls that reached that space.
	MemberWritesBySpace map[string]int `json:"memberWritesBySpace"`
	// MemberAdds counts, per membership name ("spaces/S/members/ID"), the
	// requests to add that member (setup or members.create, the 409 answers
	// included): any value above 1 is a member a client tried to add twice.
	MemberAdds map[string]int `json:"memberAdds"`
}

// MaxInWindow returns the largest number of times that fall in any interval
// of length d (such as the most writes in any one second).
func MaxInWindow(times []time.Time, d time.Duration) int {
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= d {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// counters is the mutable part of Stats, guarded by Server.mu.
type counters struct {
	calls                                                                    map[string]map[int]int
	spacesCreated, spacesDeleted, requestIDs, replays, duplicates, conflicts int
	membersAdded, throttled, unavailable, lost, unauthenticated              int
	membersDeleted, spacesPatched, messagesCreated                           int
	createLimited, createLimitedLong                                         int
	spaceWrites, memberWrites, creates                                       []time.Time
}

func (c *counters) call(method string, code int) {
	if c.calls == nil {
		c.calls = make(map[string]map[int]int)
	}
	m := c.calls[method]
	if m == nil {
		m = make(map[int]int)
		c.calls[method] = m
	}
	m[code]++
}
