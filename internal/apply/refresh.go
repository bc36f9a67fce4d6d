package apply

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	chat "google.golang.org/api/chat/v1"

	"provision/internal/plan"
)

// Target is one recorded space for Refresh to read.
type Target struct {
	Name string // spaces/ID
	// Members are the config's members of the space (resource names, as
	// the plan has them); when set, the memberships are read too, and each
	// is looked for.
	Members []string
	// IDs are the users/ID recorded for members named by email.
	IDs map[string]string
	// Admin reads the space with the caller's administrator privilege
	// (with Options.Admin, a space adopted that the caller may not be in).
	Admin bool
	// Principal is who created or adopted the space (users/EMAIL): never
	// taken for a stranger to the config, whatever --caller says.
	Principal string
}

// Refreshed is what a Refresh found out about the recorded spaces.
//
// A 404 or a 403 to this caller does not tell a space deleted from one
// the caller was removed from (DD, spaces.get: a caller must be a member,
// or use administrator access; which of the two answers a non-member
// gets is UNCERTAIN: the emulator answers either, by option). Only an
// administrator's read settles it: Gone or Unreachable. Without one, the
// space is Lost, and the run's create tells (see plan.Item.Recreate).
type Refreshed struct {
	// Gone are the keys of spaces an administrator's read (--admin)
	// answered NOT_FOUND for: deleted since they were recorded.
	Gone map[string]bool
	// Unreachable are the keys of spaces this caller cannot read but an
	// administrator's read found: they live on, out of the caller's sight.
	Unreachable map[string]bool
	// Lost are the keys of spaces that answered 404 or 403 (the value)
	// to this caller, with no administrator's read to tell why.
	Lost map[string]int
	// Live is each space read, by key.
	Live map[string]*plan.Live
	// IDs are the users/ID learnt for members named by email, by key: the
	// next refresh need not look them up again.
	IDs map[string]map[string]string
	// Reads counts the calls the refresh made, Calls them by method and
	// HTTP status, QuotaWait the time the server's quota held it.
	Reads     int64
	Calls     map[string]map[int]int
	QuotaWait time.Duration

	// listings are the memberships listed of each space read with its
	// members, by key: a run given this Refreshed (Options.Refreshed)
	// removes members by the names these lists gave.
	listings map[string]listing
	// groups are the config's group emails looked up again, by email:
	// the run after the refresh takes these answers over the record's.
	groups map[string]groupAnswer
}

// Refresh reads the recorded spaces (key → Target), Concurrency at a time
// through the Reads limiter: spaces.get for the settings, and where members
// are managed, members.list for who is in the space, plus a members.get by
// email for each member whose users/ID is not yet known (the list names
// users by ID only: DD, Membership.member), and one Cloud Identity lookup
// of each group named by email, whatever the record says. A NOT_FOUND for
// that very space, or a 403, is Lost; with Options.Admin an
// administrator's read then tells Gone from Unreachable (see Refreshed).
// An answer saying the Chat app is not configured stops the refresh like a
// 401. Any other failure is an error: a space that cannot be read must not
// be taken for deleted and created again. progress, if set, is called
// after each space.
func Refresh(ctx context.Context, svc *chat.Service, spaces map[string]Target, o Options, progress func(done, total int)) (Refreshed, error) {
	r := newRunner(svc, nil, o)
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	r.stop = stop
	out := Refreshed{Gone: map[string]bool{}, Unreachable: map[string]bool{}, Lost: map[string]int{}, Live: map[string]*plan.Live{}, IDs: map[string]map[string]string{},
		listings: map[string]listing{}}
	var mu sync.Mutex
	var firstErr error
	var done atomic.Int64
	todo := make(chan string)
	var wg sync.WaitGroup
	for range r.opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range todo {
				t := spaces[k]
				live, ids, in, err := r.readSpace(ctx, t)
				var e *apiError
				lost, confirmed := 0, error(nil)
				if err != nil {
					e = classify(err)
					r.unauthenticated(e)
					if lost = lostAccess(e); lost != 0 && r.opts.Admin && !t.Admin {
						// The administrator's read tells which.
						_, confirmed = r.getSpace(ctx, t.Name, true)
					}
				}
				mu.Lock()
				switch {
				case err == nil:
					out.Live[k] = live
					if len(ids) > 0 {
						out.IDs[k] = ids
					}
					if in != nil {
						out.listings[k] = in
					}
				case lost != 0 && t.Admin && spaceNotFound(e):
					out.Gone[k] = true // read as an administrator already
				case lost == 403 && t.Admin:
					// Not about the space: the administrator access itself.
					if firstErr == nil {
						firstErr = fmt.Errorf("reading %q (%s) with --admin: the API refused administrator access (403): is the account a Workspace administrator with the Chat privilege? Run without --admin, or with an administrator: %w", k, t.Name, err)
					}
				case lost != 0 && r.opts.Admin && !t.Admin && confirmed == nil:
					out.Unreachable[k] = true
				case lost != 0 && r.opts.Admin && !t.Admin && spaceNotFound(classify(confirmed)):
					out.Gone[k] = true
				case lost != 0 && r.opts.Admin && !t.Admin:
					if firstErr == nil && !isStop(ctx, confirmed) {
						why := ""
						if lostAccess(classify(confirmed)) == 403 {
							why = " (the API refused administrator access: is the account a Workspace administrator with the Chat privilege?)"
						}
						firstErr = fmt.Errorf("reading %q (%s) as an administrator, after it answered %d%s: %w", k, t.Name, lost, why, confirmed)
					}
				case lost != 0:
					out.Lost[k] = lost
				case firstErr == nil && !isStop(ctx, err):
					firstErr = fmt.Errorf("reading %q (%s): %w", k, t.Name, err)
				}
				mu.Unlock()
				if progress != nil {
					progress(int(done.Add(1)), len(spaces))
				}
			}
		}()
	}
feed:
	for k := range spaces {
		select {
		case todo <- k:
		case <-ctx.Done():
			break feed
		}
	}
	close(todo)
	wg.Wait()
	out.groups = r.groups.answers()
	out.Reads = r.stats.reads.Load()
	out.Calls, out.QuotaWait = r.tally()
	if cause := context.Cause(ctx); cause != nil {
		return out, cause
	}
	return out, firstErr
}

// lostAccess is the HTTP status of an answer that may mean the space is
// gone or that the caller may no longer see it: a NOT_FOUND for the space
// itself (spaceNotFound), or a 403 PERMISSION_DENIED; 0 for any other.
func lostAccess(e *apiError) int {
	switch {
	case spaceNotFound(e):
		return 404
	case e.kind == denied && e.code == 403:
		return 403
	}
	return 0
}

// spaceNotFound tells a NOT_FOUND for the space asked about from a 404 of
// something else: a path the server does not serve (an HTML page, "Method
// not found"), or a Chat app that is not configured (classified apart).
func spaceNotFound(e *apiError) bool {
	return e.kind == notFound && e.status == "NOT_FOUND" && !strings.Contains(strings.ToLower(e.message), "method not found")
}

// readSpace reads one space: its settings and, when t.Members is set, its
// members, whose listing it returns too. A NOT_FOUND of the space itself
// is returned as such; members not found are simply absent.
func (r *runner) readSpace(ctx context.Context, t Target) (*plan.Live, map[string]string, listing, error) {
	sp, err := r.getSpace(ctx, t.Name, t.Admin)
	if err != nil {
		return nil, nil, nil, err
	}
	live := &plan.Live{DisplayName: sp.DisplayName, Settings: liveSettings(sp)}
	if len(t.Members) == 0 {
		return live, nil, nil, nil
	}
	listed, err := r.listMembers(ctx, t.Name, t.Admin)
	if err != nil {
		return nil, nil, nil, err
	}
	// Match the config's members with the listed memberships: groups and
	// users/ID by name, users by email through their recorded ID or a get.
	learnt := make(map[string]string)
	matched := make(map[string]bool)
	live.MembersRead = true
	live.Roles = make(map[string]plan.Role)
	groupsUnknown := false
	for _, m := range t.Members {
		id := m
		if strings.HasPrefix(m, plan.GroupPrefix) {
			// Looked up again, not taken from the record: a group deleted
			// and made again under its email has a new ID (Live.Groups).
			gid, err := r.groupID(ctx, m, nil)
			switch {
			case err != nil && isStop(ctx, err):
				return nil, nil, nil, err
			case err != nil && t.IDs[m] != "":
				// Cloud Identity does not say: the space is matched with
				// the recorded ID, as a run without --refresh would.
				gid = t.IDs[m]
			case err != nil:
				groupsUnknown = true
				continue
			default:
				if live.Groups == nil {
					live.Groups = make(map[string]string)
				}
				live.Groups[m] = gid
			}
			if t.IDs[m] == "" {
				learnt[m] = gid
			}
			id = gid
		}
		if strings.HasPrefix(m, "users/") && strings.Contains(m, "@") {
			id = t.IDs[m]
			if id == "" {
				got, err := r.getMember(ctx, t.Name, m, t.Admin)
				switch {
				case err != nil && classify(err).kind == notFound:
					continue // not in the space
				case err != nil:
					return nil, nil, nil, fmt.Errorf("looking up %s: %w", m, err)
				case got.Member == nil || got.State == "NOT_A_MEMBER":
					continue
				}
				id = got.Member.Name
				learnt[m] = id
			}
		}
		if l, ok := listed[id]; ok && !l.app {
			matched[id] = true
			live.Members = append(live.Members, m)
			live.Roles[m] = l.role
		}
	}
	// Members in the space that the config does not list, but for the
	// caller (whose ID a get tells) and Chat apps (not listed as humans).
	callerID := r.callerID(ctx, t.Name, learnt)
	// The principal that made the space is kept out too: --caller may be
	// mistyped, or the run may act as someone else.
	principalID := ""
	if t.Principal != "" && !strings.EqualFold(t.Principal, r.opts.Caller) && strings.Contains(t.Principal, "@") {
		if got, err := r.getMember(ctx, t.Name, t.Principal, t.Admin); err == nil && got.Member != nil {
			principalID = got.Member.Name
		}
	}
	// Every email of the config was looked up (by recorded ID or a get):
	// a listed ID that matched none is truly someone the config lacks.
	live.Resolved, live.Caller = true, callerID
	for id, l := range listed {
		if id == principalID || l.app {
			continue
		}
		if groupsUnknown && strings.HasPrefix(id, "groups/") {
			// A group the config names by an email that could not be
			// resolved may be this one: not taken for a stranger.
			continue
		}
		if !matched[id] && id != callerID {
			live.Members = append(live.Members, id)
			live.Roles[id] = l.role
		}
	}
	return live, learnt, listed, nil
}

// listMembers lists a space's memberships, invited ones and groups
// included, by member (users/ID or groups/ID), each with the name the
// server gave it and its role; Chat apps are marked as such. A membership
// whose answer carries no name of this space is an error: nothing of the
// space could be removed by a name the server did not give.
func (r *runner) listMembers(ctx context.Context, space string, admin bool) (listing, error) {
	out := make(listing)
	seen := make(map[string]bool)
	token := ""
	for pages := 1; ; pages++ {
		var page *chat.ListMembershipsResponse
		err := r.do(ctx, r.opts.Reads, "members.list", space, func(cctx context.Context) error {
			call := r.svc.Spaces.Members.List(space).ShowGroups(true).ShowInvited(true).PageSize(1000).PageToken(token).Context(cctx)
			if admin {
				call = call.UseAdminAccess(true)
			}
			var err error
			page, err = call.Do()
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, m := range page.Memberships {
			var who string
			switch {
			case m.GroupMember != nil:
				who = m.GroupMember.Name
			case m.Member != nil:
				who = m.Member.Name
			default:
				continue
			}
			name, ok := nameOf(space, m)
			if !ok {
				return nil, fmt.Errorf("the server listed %s in %s under the name %q, which is no membership of that space", who, space, m.Name)
			}
			out[who] = listed{name: name, role: plan.RoleOf(m.Role), app: m.GroupMember == nil && m.Member.Type == "BOT"}
		}
		token = page.NextPageToken
		switch {
		case token == "":
			return out, nil
		case seen[token]:
			return nil, fmt.Errorf("the server repeated page token %q after %d pages of members of %s", token, pages, space)
		case pages >= maxListPages:
			return nil, fmt.Errorf("still more pages of members of %s after %d pages; giving up", space, pages)
		}
		seen[token] = true
	}
}

// callerID is the users/ID of the caller, learnt once (a get of the
// caller's own membership in the first space read) and kept for the run.
func (r *runner) callerID(ctx context.Context, space string, learnt map[string]string) string {
	return r.learnCaller(func() string {
		if id := learnt[r.opts.Caller]; id != "" {
			return id
		}
		if got, err := r.getMember(ctx, space, r.opts.Caller, false); err == nil && got.Member != nil {
			return got.Member.Name
		}
		return ""
	})
}

// learnCaller is the caller's users/ID: --caller itself when it is one;
// for an email, what learn finds, kept for the run once found (learn is
// asked again until it finds it); "" when the caller is not known.
func (r *runner) learnCaller(learn func() string) string {
	if r.opts.Caller == "" {
		return ""
	}
	if !strings.Contains(r.opts.Caller, "@") {
		return r.opts.Caller
	}
	r.callerMu.Lock()
	defer r.callerMu.Unlock()
	if r.callerIDv == "" {
		r.callerIDv = learn()
	}
	return r.callerIDv
}
