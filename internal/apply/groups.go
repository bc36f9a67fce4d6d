package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/singleflight"
	cloudidentity "google.golang.org/api/cloudidentity/v1"

	"provision/internal/plan"
	"provision/internal/results"
)

// groupCache holds the groups/ID of each group email looked up in this run
// (or by the refresh before it), and the failures, so that each email is
// looked up once per run; lookups of different emails run at once.
type groupCache struct {
	// flight makes workers needing the same group wait for the one lookup
	// in flight rather than ask again; other emails are not held up.
	flight singleflight.Group
	mu     sync.Mutex
	ids    map[string]string // email → groups/ID, as Cloud Identity answered in this run
	errs   map[string]error  // email → why it could not be resolved
	// recorded are groups/IDs taken from the results file rather than
	// looked up, for apiName.
	recorded map[string]string
	// emails are the emails of groups/IDs an import asked for ("" for
	// one Cloud Identity did not tell).
	emails map[string]string
}

// groupAnswer is one email's lookup: its groups/ID, or why there is none.
type groupAnswer struct {
	id  string
	err error
}

// groupID resolves a member named group:EMAIL to its groups/ID: from this
// run's lookups (a refresh's included), which win over any record; else
// from the IDs recorded for the space (known); else with one Cloud
// Identity groups.lookup (GET /v1/groups:lookup?groupKey.id=EMAIL: Cloud
// Identity API reference; scope cloud-identity.groups.readonly). A group
// the caller cannot see, or that does not exist, is answered 403
// "Permission denied … (or it may not exist)", or 404: either way the
// member fails, named by its email; the run goes on.
//
// Lookups go through the Reads limiter: no read quota of Cloud Identity's
// groups.lookup could be found in Google's published pages (searched:
// Cloud Identity API reference and quota pages), so they are paced as
// Chat reads are, 5% under 3,000 a minute.
func (r *runner) groupID(ctx context.Context, m string, known map[string]string) (string, error) {
	email, ok := strings.CutPrefix(m, plan.GroupPrefix)
	if !ok {
		return m, nil // groups/ID already, or a user
	}
	if a, ok := r.groups.answer(email); ok {
		return a.id, a.err
	}
	if ref := r.opts.Refreshed; ref != nil {
		if a, ok := ref.groups[email]; ok {
			// Looked up again by the refresh before this run.
			return a.id, a.err
		}
	}
	if id := known[m]; id != "" {
		r.groups.record(email, id)
		return id, nil
	}
	if id := r.opts.RecordedGroups[m]; id != "" {
		// Recorded for another space: one lookup per group, not per
		// space.
		r.groups.record(email, id)
		return id, nil
	}
	if r.opts.Groups == nil {
		return "", fmt.Errorf("group %s: resolving a group's email needs Cloud Identity, which this run has no client for", email)
	}
	v, err, _ := r.groups.flight.Do(email, func() (any, error) {
		if a, ok := r.groups.answer(email); ok {
			return a.id, a.err // answered while this one waited
		}
		id, err := r.lookupGroup(ctx, email)
		if err != nil && isStop(ctx, err) {
			return "", err // not an answer about the group: nothing kept
		}
		r.groups.keep(email, groupAnswer{id, err})
		return id, err
	})
	return v.(string), err
}

// lookupGroup asks Cloud Identity for the groups/ID of email.
func (r *runner) lookupGroup(ctx context.Context, email string) (string, error) {
	var got *cloudidentity.LookupGroupNameResponse
	err := r.do(ctx, r.opts.Reads, "groups.lookup", email, func(cctx context.Context) error {
		var err error
		got, err = r.opts.Groups.Groups.Lookup().GroupKeyId(email).Context(cctx).Do()
		return err
	})
	switch {
	case err != nil && isStop(ctx, err):
		return "", err
	case err != nil:
		e := classify(err)
		r.unauthenticated(e)
		if e.kind == notFound || e.kind == denied {
			return "", fmt.Errorf("group %s: Cloud Identity knows no Google Group of that email that you may see (%s)", email, e.Error())
		}
		return "", fmt.Errorf("group %s: looking it up in Cloud Identity: %w", email, e)
	case !strings.HasPrefix(got.Name, "groups/") || idProblem(strings.TrimPrefix(got.Name, "groups/")):
		return "", fmt.Errorf("group %s: Cloud Identity answered %q, which is not groups/ID", email, got.Name)
	}
	return got.Name, nil
}

// answer is what this run's lookup of email found, if it made one.
func (c *groupCache) answer(email string) (groupAnswer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.ids[email]; ok {
		return groupAnswer{id: id}, true
	}
	if err, ok := c.errs[email]; ok {
		return groupAnswer{err: err}, true
	}
	return groupAnswer{}, false
}

// keep remembers a lookup's answer for the rest of the run.
func (c *groupCache) keep(email string, a groupAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a.err != nil {
		if c.errs == nil {
			c.errs = make(map[string]error)
		}
		c.errs[email] = a.err
		return
	}
	if c.ids == nil {
		c.ids = make(map[string]string)
	}
	c.ids[email] = a.id
}

// record remembers the groups/ID a record gave for email.
func (c *groupCache) record(email, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recorded == nil {
		c.recorded = make(map[string]string)
	}
	c.recorded[email] = id
}

// answers are the lookups made, by email, for a run after this one (a
// refresh's, handed to the run that follows it).
func (c *groupCache) answers() map[string]groupAnswer {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]groupAnswer, len(c.ids)+len(c.errs))
	for email, id := range c.ids {
		out[email] = groupAnswer{id: id}
	}
	for email, err := range c.errs {
		out[email] = groupAnswer{err: err}
	}
	return out
}

// regroup takes the new groups/IDs of groups a refresh found made again
// (plan.Item.Groups) as this run's: the group the config names is the new
// one, added by that ID if the space lacks it (and recorded as it is
// added), and recorded under that ID now if the space has it already.
func (r *runner) regroup(k string, changes []plan.GroupChange, toAdd []string) error {
	for _, g := range changes {
		email, ok := strings.CutPrefix(g.Member, plan.GroupPrefix)
		if !ok {
			continue
		}
		r.groups.keep(email, groupAnswer{id: g.Now})
		if slices.Contains(toAdd, g.Member) {
			continue
		}
		if err := r.record(results.Event{Space: k, Member: g.Member, ID: g.Now}); err != nil {
			return err
		}
	}
	return nil
}

// apiName is the resource name the Chat API takes for member m: groups/ID
// for a group named by email (resolved before, by groupID), m itself
// otherwise.
func (r *runner) apiName(m string) string {
	email, ok := strings.CutPrefix(m, plan.GroupPrefix)
	if !ok {
		return m
	}
	r.groups.mu.Lock()
	defer r.groups.mu.Unlock()
	if id := r.groups.ids[email]; id != "" {
		return id
	}
	if id := r.groups.recorded[email]; id != "" {
		return id
	}
	return m
}

// idProblem reports whether an ID has characters no Google ID has.
func idProblem(id string) bool {
	return id == "" || strings.ContainsFunc(id, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')
	})
}

// RecordedGroups returns the groups/ID that f records for each group named
// by email (group:EMAIL), over every space, for Options.RecordedGroups. A
// group recorded with two IDs (deleted and made again, seen by one space's
// refresh only) is left out: it is looked up again.
func RecordedGroups(f *results.File) map[string]string {
	out := make(map[string]string)
	seen := make(map[string]bool)
	for _, en := range f.Spaces {
		if en == nil || en.Applied == nil {
			continue
		}
		for m, id := range en.Applied.IDs {
			if !strings.HasPrefix(m, plan.GroupPrefix) || !strings.HasPrefix(id, "groups/") {
				continue
			}
			if was, ok := out[m]; ok && was != id {
				seen[m] = true
			}
			out[m] = id
		}
	}
	for m := range seen {
		delete(out, m)
	}
	return out
}
