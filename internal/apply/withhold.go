package apply

import (
	"context"
	"errors"
	"fmt"

	"provision/internal/plan"
)

// What a run holds back of what --prune and --prune-members destroy.
// Deletions run last, once every create, rename, patch and member change of
// the run has finished, and not at all when any of them failed or the run
// was stopped: a space that failed to be created may be the one a deleted
// space was to be replaced by, and a run that went wrong once is no run to
// destroy in. The bounds of the plan (plan.Guard) are honoured whatever
// items the run is handed.

// withhold says why the deletions of a run must not go ahead, given how
// many items of the rest of the run failed, or returns "".
func (r *runner) withhold(ctx context.Context, failed int) string {
	cause := context.Cause(ctx)
	switch {
	case cause != nil && !errors.Is(cause, context.Canceled):
		return "the run stopped before the rest was done"
	case ctx.Err() != nil:
		return "the run was interrupted"
	case failed > 0:
		return plural(failed, "space", "spaces") + " failed in this run"
	}
	if n := int(r.stats.membersMissing.Load() + r.stats.membersFailed.Load()); n > 0 {
		return fmt.Sprintf("%s could not be added in this run", plural(n, "member", "members"))
	}
	return ""
}

// withoutRemovals is it without its member removals when the plan's
// removals are over their bound.
func withoutRemovals(p *plan.Plan, it plan.Item) plan.Item {
	if p.Guard.RemovalsWithheld {
		it.RemoveMembers = nil
	}
	return it
}

// plural is "1 space" or "2 spaces".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
