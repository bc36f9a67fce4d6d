// Which space: renames in place, and spaces the caller lost access to.

package apply

import (
	"context"
	"fmt"
	"time"

	chat "google.golang.org/api/chat/v1"

	"provision/internal/plan"
	"provision/internal/results"
)

// maskDisplayName renames a space in place (DD, spaces.patch updateMask:
// "display_name: Only supports updating the display name for spaces where
// spaceType field is SPACE. If you receive the error message
// ALREADY_EXISTS, try a different value").
const maskDisplayName = "display_name"

// rename gives the space its new display name with one spaces.patch and
// records it. A refusal fails the space: ALREADY_EXISTS says the name is
// another space's, and nothing else of the space is changed in this run.
// A space with patches to follow waits the per-space write interval.
func (r *runner) rename(ctx context.Context, k string, it plan.Item) error {
	entry := r.rec.Entry(k)
	if entry == nil || entry.Name == "" {
		return fmt.Errorf("renaming %q: its record names no space", it.Rename.From)
	}
	body := &chat.Space{DisplayName: it.Rename.To}
	err := r.do(ctx, r.opts.Spaces, "spaces.patch", entry.Name+" "+maskDisplayName, func(cctx context.Context) error {
		call := r.svc.Spaces.Patch(entry.Name, body).UpdateMask(maskDisplayName).Context(cctx)
		if r.admin(entry) {
			call = call.UseAdminAccess(true)
		}
		_, err := call.Do()
		return err
	})
	if err != nil {
		if isStop(ctx, err) {
			return err
		}
		e := classify(err)
		r.unauthenticated(e)
		switch {
		case e.kind == exists:
			return fmt.Errorf("renaming %q to %q: ALREADY_EXISTS: another space in the organization is named %q; nothing was changed in this space; choose another name: %w", it.Rename.From, it.Rename.To, it.Rename.To, e)
		case spaceNotFound(e):
			return fmt.Errorf("renaming %q (%s): the space answers NOT_FOUND (deleted, or you were removed from it? run with --refresh to plan it again): %w", it.Rename.From, entry.Name, e)
		}
		return fmt.Errorf("renaming %q to %q: %w", it.Rename.From, it.Rename.To, e)
	}
	r.stats.renamed.Add(1)
	if err := r.record(results.Event{Space: k, DisplayName: it.Rename.To}); err != nil {
		return err
	}
	if len(it.Patches) > 0 {
		return sincePatch(ctx, time.Now())
	}
	return nil
}

// reachable records an unreachable space as what it was before, since a
// refresh could read it again.
func (r *runner) reachable(it plan.Item) error {
	k := key(it)
	e := r.rec.Entry(k)
	if e == nil || e.Status != results.Unreachable {
		return nil
	}
	e.Status, e.Was = e.Was, ""
	return r.record(results.Event{Space: k, Entry: e})
}

// recordFound records what the plan found of an item that needs no call:
// settings in place (RecordSettings of an Exists item), a space now out of
// the caller's sight (MarkUnreachable), or in it again (Reachable of an
// Exists item). It returns false when the run cannot record.
func (r *runner) recordFound(it plan.Item) bool {
	k := key(it)
	switch it.Action {
	case plan.Exists, plan.Orphan, plan.Delete:
		if it.Reachable && r.reachable(it) != nil {
			return false
		}
		if it.RecordSettings != nil {
			return r.record(results.Event{Space: k, Settings: it.RecordSettings.Map()}) == nil
		}
	case plan.Unreachable:
		e := r.rec.Entry(k)
		if !it.MarkUnreachable || e == nil || e.Name == "" || e.Status == results.Unreachable {
			return true
		}
		e.Status, e.Was = results.Unreachable, e.Status
		if err := r.record(results.Event{Space: k, Entry: e}); err != nil {
			return false
		}
		r.log.Warn("space unreachable", "space", k, "name", e.Name)
	}
	return true
}

// claimed is the key other than k that records the space name in this run
// (from the plan, or an entry recorded since), or "". A space claimed by
// none is claimed for k.
func (r *runner) claimed(name, k string) string {
	r.claimsMu.Lock()
	defer r.claimsMu.Unlock()
	if r.claims == nil {
		r.claims = make(map[string]string)
	}
	switch other, ok := r.claims[name]; {
	case !ok:
		r.claims[name] = k
	case other != k:
		return other
	}
	return ""
}
