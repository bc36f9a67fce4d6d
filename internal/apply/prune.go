package apply

import (
	"context"
	"fmt"
	"strings"

	"provision/internal/plan"
	"provision/internal/results"
)

// removeMembers deletes the memberships of members the config no longer
// lists (--prune-members), one members.delete each, by the name the server
// gave the membership: in the list a refresh of this run read
// (Options.Refreshed), or else in one members.list of the space made now;
// for a person named by email whose ID is not known, in the answer to a
// members.get by that email (lists name people by ID only). A member the
// server does not list is not in the space: nothing to delete, and it
// counts as removed. A delete answered 404 is not taken for gone: the
// membership is read again by the same name, and only if the read says it
// is gone does it count as removed; if it is still there, that member
// fails with the server's message. The caller is never removed, nor a Chat
// app. Each removal is recorded as it succeeds.
func (r *runner) removeMembers(ctx context.Context, k string, entry *results.Entry, members, config []string) error {
	admin := r.admin(entry)
	// The space is listed once, when a removal first needs it.
	var in listing
	var inErr error
	asked := false
	list := func() (listing, error) {
		if !asked {
			asked = true
			in, inErr = r.listed(ctx, k, entry.Name, admin)
		}
		return in, inErr
	}
	var firstErr error
	fail := func(m string, err error) {
		r.stats.membersFailed.Add(1)
		if firstErr == nil {
			firstErr = fmt.Errorf("removing %s: %w", strings.TrimPrefix(m, "users/"), err)
		}
	}
	// The memberships the config's members have: a removal that resolves
	// to one of them (the same person or group written another way, by
	// email or by ID) is not a removal. Without knowing them all, nothing
	// is removed.
	var wanted map[membershipName]string
	if len(members) > 0 {
		var err error
		if wanted, err = r.configMemberships(ctx, k, entry, list, config); err != nil {
			if isStop(ctx, err) {
				return err
			}
			for _, m := range members {
				fail(m, fmt.Errorf("not removed: %w; it may be one of the config's own", err))
			}
			return firstErr
		}
	}
	for _, m := range members {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if r.isCaller(m) {
			continue
		}
		l, found, err := r.membershipOf(ctx, entry, list, m)
		if cm, ok := wanted[l.name]; err == nil && found && ok {
			// The record's name for a member the config now writes
			// another way: the membership stays, and the record forgets
			// the old spelling.
			r.log.Info("member kept", "space", k, "member", m, "as", cm)
			if err := r.record(results.Event{Space: k, Member: m, Removed: true}); err != nil {
				return err
			}
			continue
		}
		switch {
		case err != nil && isStop(ctx, err):
			return err
		case err != nil:
			r.unauthenticated(classify(err))
			fail(m, err)
			continue
		case found && l.app:
			fail(m, fmt.Errorf("%s is a Chat app, which provision never removes", l.name))
			continue
		case found:
			if err := r.deleteMember(ctx, l.name, admin); err != nil {
				if isStop(ctx, err) {
					return err
				}
				fail(m, err)
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

// deleteMember deletes the membership n and makes sure it is gone: a 404
// for a membership just listed may be a server that still has it (or a
// name it does not take), so the membership is read again by the same
// name, and the delete fails with the server's message unless the read
// confirms it is gone.
func (r *runner) deleteMember(ctx context.Context, n membershipName, admin bool) error {
	err := r.deleteMembership(ctx, n, admin)
	if err == nil {
		return nil
	}
	e := classify(err)
	if isStop(ctx, err) || !spaceNotFound(e) {
		r.unauthenticated(e)
		return e
	}
	there, rerr := r.memberStillThere(ctx, n, admin)
	switch {
	case rerr != nil && isStop(ctx, rerr):
		return rerr
	case rerr != nil:
		r.unauthenticated(classify(rerr))
		return fmt.Errorf("%w; reading %s again: %w", e, n, classify(rerr))
	case there:
		return fmt.Errorf("%w; read again, %s is still in the space", e, n)
	}
	return nil
}

// listed is the space's memberships: as the refresh of this run listed
// them, or one members.list now.
func (r *runner) listed(ctx context.Context, k, space string, admin bool) (listing, error) {
	if ref := r.opts.Refreshed; ref != nil {
		if in, ok := ref.listings[k]; ok {
			return in, nil
		}
	}
	return r.listMembers(ctx, space, admin)
}

// membershipOf finds member m (users/ID, groups/ID, users/EMAIL or
// group:EMAIL) among the space's memberships. Members named by email are
// found through the users/ID or groups/ID recorded for them (what this
// tool added), in the space's listing (list); a group whose ID is not
// recorded is looked up by email in Cloud Identity; a person whose ID is
// not, by a members.get of the email (the documented alias, DD), whose
// answer names the membership. found is false when the space does not
// have the member.
func (r *runner) membershipOf(ctx context.Context, entry *results.Entry, list func() (listing, error), m string) (l listed, found bool, err error) {
	id := m
	if entry.Applied != nil && entry.Applied.IDs[m] != "" {
		id = entry.Applied.IDs[m]
	}
	switch {
	case strings.HasPrefix(id, plan.GroupPrefix):
		if id, err = r.groupID(ctx, m, nil); err != nil {
			return listed{}, false, err
		}
	case strings.HasPrefix(id, "users/") && strings.Contains(id, "@"):
		got, err := r.getMember(ctx, entry.Name, m, r.admin(entry))
		switch {
		case err != nil && spaceNotFound(classify(err)):
			return listed{}, false, nil // not in the space
		case err != nil && isStop(ctx, err):
			return listed{}, false, err
		case err != nil:
			return listed{}, false, fmt.Errorf("finding the membership: %w", classify(err))
		case got.State == "NOT_A_MEMBER":
			return listed{}, false, nil
		}
		name, ok := nameOf(entry.Name, got)
		if !ok {
			return listed{}, false, fmt.Errorf("finding the membership: the server answered %q, which is no membership of %s", got.Name, entry.Name)
		}
		return listed{name: name, role: plan.RoleOf(got.Role), app: got.Member != nil && got.Member.Type == "BOT"}, true, nil
	}
	in, err := list()
	if err != nil {
		if isStop(ctx, err) {
			return listed{}, false, err
		}
		return listed{}, false, fmt.Errorf("listing the members of %s: %w", entry.Name, classify(err))
	}
	l, found = in[id]
	return l, found, nil
}

// configMemberships resolves the config's members of the space to the
// memberships the server gave them, by name: people by the ID recorded or
// a members.get of their email, groups named by email by a Cloud Identity
// lookup made in this run (never the ID recorded, which may be of a group
// deleted since). Members not in the space are left out.
func (r *runner) configMemberships(ctx context.Context, k string, entry *results.Entry, list func() (listing, error), config []string) (map[membershipName]string, error) {
	out := make(map[membershipName]string, len(config))
	for _, cm := range config {
		if r.isCaller(cm) {
			continue
		}
		var l listed
		var found bool
		var err error
		learnt := ""
		if ref := r.opts.Refreshed; ref != nil {
			learnt = ref.IDs[k][cm] // the refresh found the person so
		}
		switch {
		case learnt != "" && !strings.HasPrefix(cm, plan.GroupPrefix):
			var in listing
			if in, err = list(); err == nil {
				l, found = in[learnt]
			}
		case strings.HasPrefix(cm, plan.GroupPrefix):
			var id string
			if id, err = r.groupID(ctx, cm, nil); err == nil {
				var in listing
				if in, err = list(); err == nil {
					l, found = in[id]
				}
			}
		default:
			l, found, err = r.membershipOf(ctx, entry, list, cm)
		}
		if err != nil {
			if isStop(ctx, err) {
				return nil, err
			}
			return nil, fmt.Errorf("%s of the config could not be matched to the space's memberships (%v)", strings.TrimPrefix(cm, "users/"), err)
		}
		if found {
			out[l.name] = cm
		}
	}
	return out, nil
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
	created := en != nil && (en.Status == results.Created || (en.Status == results.Unreachable && en.Was == results.Created))
	if !created || en.Name == "" {
		// The planner only deletes what this tool created; the record
		// says otherwise, so the record wins.
		out.Err = fmt.Errorf("not deleting %q: its record is not a space this tool created", it.Key)
		return out
	}
	if other := r.claimed(en.Name, k); other != "" {
		// Adopted or recorded under another key in this run, or before:
		// the space is someone's in the config.
		out.Err = fmt.Errorf("not deleting %q (%s): the results file records that space under %q too", it.Key, en.Name, other)
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
		case lostAccess(e) == 403 && r.canRead(ctx, en.Name):
			// The caller sees the space but may not delete it: it is no
			// longer its owner. A person must look.
			r.unauthenticated(e)
			out.Err = fmt.Errorf("deleting %s: you may read the space but not delete it (no longer its owner?); it is not deleted. Make the account an owner again, or take the space out of the results file to stop managing it: %w", en.Name, e)
			return out
		case lostAccess(e) == 0:
			// A 401 or a missing app stops the run; anything else is
			// about this space.
			r.unauthenticated(e)
			out.Err = fmt.Errorf("deleting %s: %w", en.Name, e)
			return out
		case !r.goneForSure(ctx, en.Name):
			// A NOT_FOUND or a 403 to a caller removed from the space is
			// no proof that it is gone: kept, as unreachable, not
			// forgotten.
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
	out.Deleted = true
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

// canRead tells whether the caller can read the space.
func (r *runner) canRead(ctx context.Context, name string) bool {
	_, err := r.getSpace(ctx, name, false)
	return err == nil
}
