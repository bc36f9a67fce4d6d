package apply

import (
	"context"
	"fmt"
	"strings"
	"sync"

	cloudidentity "google.golang.org/api/cloudidentity/v1"

	"provision/internal/plan"
)

// groupCache holds the groups/ID of each group email looked up in this run,
// and the failures, so that each email is looked up once per run.
type groupCache struct {
	// lookup is held through a lookup, so that workers needing the same
	// group wait for the first one's answer rather than ask again.
	lookup sync.Mutex
	mu     sync.Mutex
	ids    map[string]string // email → groups/ID
	errs   map[string]error  // email → why it could not be resolved
}

// groupID resolves a member named group:EMAIL to its groups/ID: from the
// IDs recorded for the space (known), from this run's lookups, or with one
// Cloud Identity groups.lookup (GET /v1/groups:lookup?groupKey.id=EMAIL:
// Cloud Identity API reference; scope cloud-identity.groups.readonly). A
// group the caller cannot see, or that does not exist, is answered 403
// "Permission denied … (or it may not exist)", or 404: either way the
// member fails, named by its email; the run goes on.
func (r *runner) groupID(ctx context.Context, m string, known map[string]string) (string, error) {
	email, ok := strings.CutPrefix(m, plan.GroupPrefix)
	if !ok {
		return m, nil // groups/ID already, or a user
	}
	if id := known[m]; id != "" {
		r.groups.remember(email, id)
		return id, nil
	}
	r.groups.lookup.Lock()
	defer r.groups.lookup.Unlock()
	r.groups.mu.Lock()
	id, err := r.groups.ids[email], r.groups.errs[email]
	r.groups.mu.Unlock()
	if id != "" || err != nil {
		return id, err
	}
	if r.opts.Groups == nil {
		return "", fmt.Errorf("group %s: resolving a group's email needs Cloud Identity, which this run has no client for", email)
	}
	var got *cloudidentity.LookupGroupNameResponse
	err = r.do(ctx, r.opts.Reads, "groups.lookup", email, func(cctx context.Context) error {
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
			err = fmt.Errorf("group %s: Cloud Identity knows no Google Group of that email that you may see (%s)", email, e.Error())
		} else {
			err = fmt.Errorf("group %s: looking it up in Cloud Identity: %w", email, e)
		}
	case !strings.HasPrefix(got.Name, "groups/") || idProblem(strings.TrimPrefix(got.Name, "groups/")):
		err = fmt.Errorf("group %s: Cloud Identity answered %q, which is not groups/ID", email, got.Name)
	default:
		r.groups.remember(email, got.Name)
		return got.Name, nil
	}
	r.groups.mu.Lock()
	if r.groups.errs == nil {
		r.groups.errs = make(map[string]error)
	}
	r.groups.errs[email] = err
	r.groups.mu.Unlock()
	return "", err
}

func (c *groupCache) remember(email, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids = make(map[string]string)
	}
	c.ids[email] = id
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
	return m
}

// idProblem reports whether an ID has characters no Google ID has.
func idProblem(id string) bool {
	return id == "" || strings.ContainsFunc(id, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')
	})
}
