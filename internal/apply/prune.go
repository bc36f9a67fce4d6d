package apply

import (
	"context"
	"fmt"
	"strings"

	"provision/internal/plan"
	"provision/internal/results"
)

// removeMembers deletes the memberships of members the config no longer
// lists (--prune-members), one members.delete each, by the member's email
// (the alias GAM7 also sends to members.delete; UNCERTAIN: DD documents
// the alias for members.get). A membership already gone counts as removed.
// The caller is never removed. Each removal is recorded as it succeeds.
func (r *runner) removeMembers(ctx context.Context, k string, entry *results.Entry, members []string) error {
	var firstErr error
	for _, m := range members {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if r.isCaller(m) {
			continue
		}
		target := r.memberName(entry, m)
		err := r.do(ctx, r.opts.Members, "members.delete", target, func(cctx context.Context) error {
			call := r.svc.Spaces.Members.Delete(target).Context(cctx)
			if r.admin(entry) {
				call = call.UseAdminAccess(true)
			}
			_, err := call.Do()
			return err
		})
		if err != nil {
			e := classify(err)
			switch {
			case isStop(ctx, err):
				return err
			case !spaceNotFound(e):
				r.unauthenticated(e)
				r.stats.membersFailed.Add(1)
				if firstErr == nil {
					firstErr = fmt.Errorf("removing %s: %w", strings.TrimPrefix(m, "users/"), e)
				}
				continue
			}
		}
		r.stats.membersRemoved.Add(1)
		if err := r.record(results.Event{Space: k, Member: m, Removed: true}); err != nil {
			return err
		}
	}
	return firstErr
}

// memberName is the membership name of member m of the entry's space: by
// the users/ID recorded for it when known, else by email or ID as given.
func (r *runner) memberName(entry *results.Entry, m string) string {
	if entry.Applied != nil {
		if id := entry.Applied.IDs[m]; id != "" {
			return entry.Name + "/members/" + id[strings.LastIndex(id, "/")+1:]
		}
	}
	if id, ok := strings.CutPrefix(r.apiName(m), "groups/"); ok {
		return entry.Name + "/members/" + id
	}
	return alias(entry.Name, m)
}

// deleteSpace deletes an orphan this tool created (--prune: plan.Delete
// items only, never an adopted space) and moves its entry to the results
// file's deleted section. A space already gone counts as deleted when an
// administrator's read (--admin) confirms it; without one, a NOT_FOUND may
// only mean the caller was removed from the space, which is then recorded
// as unreachable and kept.
func (r *runner) deleteSpace(ctx context.Context, it plan.Item) Outcome {
	out := Outcome{Key: it.Key, Action: it.Action}
	k := key(it)
	en := r.rec.Entry(k)
	if en == nil || en.Status != results.Created || en.Name == "" {
		// The planner only deletes what this tool created; the record
		// says otherwise, so the record wins.
		out.Err = fmt.Errorf("not deleting %q: its record is not a space this tool created", it.Key)
		return out
	}
	out.Entry = *en
	err := r.do(ctx, r.opts.Spaces, "spaces.delete", en.Name, func(cctx context.Context) error {
		_, err := r.svc.Spaces.Delete(en.Name).Context(cctx).Do()
		return err
	})
	if err != nil {
		e := classify(err)
		switch {
		case isStop(ctx, err):
			out.Interrupted = true
			return out
		case !spaceNotFound(e):
			// A 403 here is about this space (the caller may no longer
			// delete it), not the run; a 401 or a missing app stops it.
			r.unauthenticated(e)
			out.Err = fmt.Errorf("deleting %s: %w", en.Name, e)
			return out
		case !r.goneForSure(ctx, en.Name):
			// A NOT_FOUND to a caller removed from the space is no proof
			// that it is gone: kept, as unreachable, not forgotten.
			en.Status, en.Was = results.Unreachable, results.Created
			if err := r.record(results.Event{Space: k, Entry: en}); err != nil {
				out.Err, out.Interrupted = err, isStop(ctx, err)
				return out
			}
			r.log.Warn("space unreachable", "space", k, "name", en.Name)
			out.Entry = *en
			return out
		}
	}
	now := r.opts.Now().UTC()
	if err := r.record(results.Event{Space: k, Deleted: &now}); err != nil {
		out.Err = err
		out.Interrupted = isStop(ctx, err)
		return out
	}
	r.stats.spacesDeleted.Add(1)
	return out
}

// goneForSure tells a space deleted: an administrator's read (--admin)
// answers NOT_FOUND for it. Without --admin nothing can tell a deleted
// space from one the caller was removed from.
func (r *runner) goneForSure(ctx context.Context, name string) bool {
	if !r.opts.Admin {
		return false
	}
	_, err := r.getSpace(ctx, name, true)
	return err != nil && spaceNotFound(classify(err))
}
