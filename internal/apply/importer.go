// Import: reading the caller's existing named spaces, their settings and
// their members, for a config that describes them as they are.

package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	chat "google.golang.org/api/chat/v1"
	cloudidentity "google.golang.org/api/cloudidentity/v1"

	"provision/internal/plan"
)

// Found is one existing space as Import read it.
type Found struct {
	Name        string // spaces/ID
	DisplayName string
	URL         string
	CreateTime  string
	// Settings are the space's settings in the config's words, as a
	// refresh reads them (spaces.get).
	Settings map[string]string
	// Members are the memberships members.list gave (users/ID, groups/ID;
	// invited users included, Chat apps left out), sorted, with roles.
	Members []FoundMember
	// CallerRole is the caller's role in the space, "" when the
	// caller is not a member (a space found by an administrator's search).
	CallerRole plan.Role
	// CallerID is the users/ID the caller is listed as, when known.
	CallerID string
}

// FoundMember is one membership of a Found space.
type FoundMember struct {
	Member string // users/ID or groups/ID
	Role   plan.Role
	// Email is a group's email, when Cloud Identity told it.
	Email string
}

// Imported is what Import read, and what it cost.
type Imported struct {
	Spaces []Found // sorted by display name, then name
	// Gone are the spaces listed that answered 404 or 403 when read
	// (deleted, or the caller removed, since the list), by name, with
	// their display names: left out, not a failure of the import.
	Gone      map[string]string
	Reads     int64
	Calls     map[string]map[int]int
	QuotaWait time.Duration
}

// Import reads the named spaces the caller can see: spaces.list with the
// filter `spaceType = "SPACE"` (DD, spaces.list: "Lists spaces the caller
// is a member of"; without the filter group chats and direct messages
// are listed too), or, with Options.Admin, spaces.search with
// useAdminAccess over the whole organization (DD: the query must hold
// customer and space_type; GAM7 builds the same). query, when set,
// narrows them to the names it matches: in the search as
// display_name:"query" (DD: each word matches a word's prefix, case
// apart), and the same rule applied here to the list. Each space is then
// read as a refresh reads it (spaces.get, members.list with groups and
// invited users: DD, showGroups and showInvited), Concurrency at a time
// through the Reads limiter, with the retries and throttling of a run; and
// the caller's own membership is read once by email (members.get takes
// the email as an alias: DD) to learn the users/ID the lists give it.
// progress, if set, is called after each space read.
func Import(ctx context.Context, svc *chat.Service, query string, o Options, progress func(done, total int)) (Imported, error) {
	r := newRunner(svc, nil, o)
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	r.stop = stop
	var out Imported
	spaces, err := r.importList(ctx, query)
	if err == nil {
		out.Spaces, out.Gone, err = r.importRead(ctx, spaces, progress)
	}
	out.Reads = r.stats.reads.Load()
	out.Calls, out.QuotaWait = r.tally()
	if cause := context.Cause(ctx); cause != nil {
		return out, cause
	}
	return out, err
}

// importList lists the spaces to import, every page, guarded against a
// server that never ends the list.
func (r *runner) importList(ctx context.Context, query string) ([]*chat.Space, error) {
	var out []*chat.Space
	seen := make(map[string]bool)
	token := ""
	q := fmt.Sprintf(`customer = %q AND space_type = "SPACE"`, r.opts.Customer)
	if query != "" {
		q += fmt.Sprintf(` AND display_name:%q`, query)
	}
	for pages := 1; ; pages++ {
		var got []*chat.Space
		var next string
		var err error
		if r.opts.Admin {
			err = r.do(ctx, r.opts.Reads, "spaces.search", "the organization", func(cctx context.Context) error {
				page, err := r.svc.Spaces.Search().UseAdminAccess(true).Query(q).PageSize(1000).PageToken(token).Context(cctx).Do()
				if err == nil {
					got, next = page.Spaces, page.NextPageToken
				}
				return err
			})
		} else {
			err = r.do(ctx, r.opts.Reads, "spaces.list", "your spaces", func(cctx context.Context) error {
				page, err := r.svc.Spaces.List().Filter(`spaceType = "SPACE"`).PageSize(1000).PageToken(token).Context(cctx).Do()
				if err == nil {
					got, next = page.Spaces, page.NextPageToken
				}
				return err
			})
		}
		if err != nil {
			if !isStop(ctx, err) {
				r.unauthenticated(classify(err))
			}
			if r.opts.Admin {
				return nil, fmt.Errorf("searching the organization's spaces (--admin): %w", err)
			}
			return nil, fmt.Errorf("listing your spaces: %w", err)
		}
		for _, s := range got {
			// The filter asks for named spaces only; a server that
			// answers others anyway is not followed.
			if s.SpaceType != "" && s.SpaceType != "SPACE" {
				continue
			}
			if query != "" && !r.opts.Admin && !WordsMatch(query, s.DisplayName) {
				continue
			}
			out = append(out, s)
		}
		token = next
		switch {
		case token == "":
			return out, nil
		case seen[token]:
			return nil, fmt.Errorf("the server repeated page token %q after %d pages of spaces", token, pages)
		case pages >= maxListPages:
			return nil, fmt.Errorf("still more pages after %d pages of spaces; giving up", pages)
		}
		seen[token] = true
	}
}

// WordsMatch reports whether every word of query is, case apart, the prefix
// of a word of name: the rule of spaces.search's display_name (DD: "Fun
// Eve" matches "Fun event" or "The evening was fun").
func WordsMatch(query, name string) bool {
	words := strings.Fields(strings.ToLower(name))
	for _, q := range strings.Fields(strings.ToLower(query)) {
		if !slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, q) }) {
			return false
		}
	}
	return true
}

// importRead reads each listed space and its members.
func (r *runner) importRead(ctx context.Context, spaces []*chat.Space, progress func(done, total int)) ([]Found, map[string]string, error) {
	out := make([]Found, 0, len(spaces))
	gone := make(map[string]string)
	var mu sync.Mutex
	var firstErr error
	var done atomic.Int64
	todo := make(chan *chat.Space)
	var wg sync.WaitGroup
	for range r.opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range todo {
				f, err := r.importSpace(ctx, s.Name)
				mu.Lock()
				switch {
				case err == nil:
					out = append(out, f)
				case isStop(ctx, err):
				case lostAccess(classify(err)) != 0:
					// Deleted, or out of reach, since the list: a
					// space no config could manage now (a 403 to an
					// administrator's read is not about the space,
					// and fails the import).
					if r.opts.Admin && lostAccess(classify(err)) == 403 {
						if firstErr == nil {
							firstErr = fmt.Errorf("reading %q (%s) with --admin: the API refused administrator access (403): is the account a Workspace administrator with the Chat privilege? %w", s.DisplayName, s.Name, err)
						}
						break
					}
					gone[s.Name] = s.DisplayName
				case firstErr == nil:
					r.unauthenticated(classify(err))
					firstErr = fmt.Errorf("reading %q (%s): %w", s.DisplayName, s.Name, err)
				}
				mu.Unlock()
				if progress != nil {
					progress(int(done.Add(1)), len(spaces))
				}
			}
		}()
	}
feed:
	for _, s := range spaces {
		select {
		case todo <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(todo)
	wg.Wait()
	slices.SortFunc(out, func(a, b Found) int {
		if c := strings.Compare(a.DisplayName, b.DisplayName); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, gone, firstErr
}

// importSpace reads one space: spaces.get (as a refresh does, so that the
// settings are those the refresh compares), then members.list.
func (r *runner) importSpace(ctx context.Context, name string) (Found, error) {
	admin := r.opts.Admin
	sp, err := r.getSpace(ctx, name, admin)
	if err != nil {
		return Found{}, err
	}
	listed, err := r.listMembers(ctx, name, admin)
	if err != nil {
		return Found{}, err
	}
	f := Found{Name: sp.Name, DisplayName: sp.DisplayName, URL: spaceURL(sp, false), CreateTime: sp.CreateTime, Settings: liveSettings(sp)}
	if f.Name == "" {
		f.Name = name
	}
	f.CallerID = r.importCaller(ctx, name, listed)
	for who, l := range listed {
		if l.app {
			continue
		}
		f.Members = append(f.Members, FoundMember{Member: who, Role: l.role})
		if who == f.CallerID && f.CallerID != "" {
			f.CallerRole = l.role
		}
	}
	for i, m := range f.Members {
		if !strings.HasPrefix(m.Member, "groups/") || r.opts.Groups == nil {
			continue
		}
		email, err := r.groupEmail(ctx, m.Member)
		if err != nil && isStop(ctx, err) {
			return Found{}, err
		}
		f.Members[i].Email = email
	}
	slices.SortFunc(f.Members, func(a, b FoundMember) int { return strings.Compare(a.Member, b.Member) })
	return f, nil
}

// groupEmail asks Cloud Identity for the email of the group groups/ID
// (groups.get: the Group's groupKey.id, Cloud Identity API reference; the
// Chat API names groups by the same ID: DD, Group.name), once per group
// in a run, through the Reads limiter as lookups are. A group it does not
// tell (refused, unknown, not an email) has "" and no error: it is named
// by its ID. Only a stop (interrupt, 401, quota wait over) is an error.
func (r *runner) groupEmail(ctx context.Context, id string) (string, error) {
	v, err, _ := r.groups.flight.Do("get "+id, func() (any, error) {
		r.groups.mu.Lock()
		email, known := r.groups.emails[id]
		r.groups.mu.Unlock()
		if known {
			return email, nil
		}
		var got *cloudidentity.Group
		err := r.do(ctx, r.opts.Reads, "groups.get", id, func(cctx context.Context) error {
			var err error
			got, err = r.opts.Groups.Groups.Get(id).Context(cctx).Do()
			return err
		})
		switch {
		case err != nil && isStop(ctx, err):
			return "", err
		case err != nil:
			r.unauthenticated(classify(err))
			r.log.Debug("group not resolved", "group", id, "error", err)
		case got.GroupKey != nil && got.GroupKey.Namespace == "" && strings.Contains(got.GroupKey.Id, "@"):
			if name, why := plan.Member(plan.GroupPrefix + got.GroupKey.Id); why == "" {
				email = strings.TrimPrefix(name, plan.GroupPrefix)
			}
		}
		r.groups.mu.Lock()
		if r.groups.emails == nil {
			r.groups.emails = make(map[string]string)
		}
		r.groups.emails[id] = email
		r.groups.mu.Unlock()
		return email, nil
	})
	return v.(string), err
}

// importCaller is the users/ID of the caller: learnt once, by a get of the
// caller's membership by email in a space the listing shows it may be in
// (an administrator's search finds spaces the caller is not in, where the
// get answers NOT_FOUND: it is asked again in the next space).
func (r *runner) importCaller(ctx context.Context, space string, listed listing) string {
	return r.learnCaller(func() string {
		if got, err := r.getMember(ctx, space, r.opts.Caller, r.opts.Admin); err == nil && got.Member != nil && got.State != "NOT_A_MEMBER" {
			if _, in := listed[got.Member.Name]; in {
				return got.Member.Name
			}
		}
		return ""
	})
}
