package plan

import (
	"fmt"
	"io"
)

// Bounds on what one run destroys. A config cut short by a bad merge, or a
// half-written ConfigMap, reads as "delete everything the file no longer
// lists": under a scheduled --prune that would empty the organisation. A
// plan that destroys more than its bound destroys nothing of that kind, and
// says how to allow it.

// The bounds the command line sets by default (--max-deletions,
// --max-removals). Ten spaces is more than an edit of a config removes in
// one go, and fewer than a truncated file would. A hundred memberships is
// far more than people leaving a few teams account for, and far fewer than
// an emptied defaults.members across hundreds of spaces.
const (
	DefaultMaxDeletions = 10
	DefaultMaxRemovals  = 100
)

// Guard is what the bounds decided for a plan: how many spaces it would
// delete (Config.Prune) and members it would remove over all spaces
// (Config.PruneMembers), the bounds, and whether the plan holds those back.
//
// A plan whose deletions are withheld has no Delete item: each space it
// would have deleted is an Orphan item with Withheld set. A plan whose
// removals are withheld has no RemoveMembers on any item. The applier
// honours the flags too, should it be handed items that say otherwise.
type Guard struct {
	Prune, PruneMembers bool

	Deletions, MaxDeletions int
	DeletionsWithheld       bool

	Removals, MaxRemovals int
	RemovalsWithheld      bool
}

// guard applies cfg's bounds to p: over a bound, none of that kind of
// destruction is planned. A bound of 0 allows none.
func guard(cfg *Config, p *Plan) {
	g := Guard{Prune: cfg.Prune, PruneMembers: cfg.PruneMembers, MaxDeletions: cfg.MaxDeletions, MaxRemovals: cfg.MaxRemovals}
	for _, it := range p.Items {
		if it.Action == Delete {
			g.Deletions++
		}
		g.Removals += len(it.RemoveMembers)
	}
	g.DeletionsWithheld = g.Deletions > g.MaxDeletions
	g.RemovalsWithheld = g.Removals > g.MaxRemovals
	for i := range p.Items {
		it := &p.Items[i]
		if g.DeletionsWithheld && it.Action == Delete {
			it.Action, it.Withheld = Orphan, true
		}
		if g.RemovalsWithheld && len(it.RemoveMembers) > 0 {
			it.RemoveMembers = nil
			if it.Action == Update && !it.hasChanges() {
				it.Action = Exists
			}
		}
	}
	p.Guard = g
}

// hasChanges reports whether an Update item has anything left to do (as
// Diff decides Update over Exists).
func (it *Item) hasChanges() bool {
	return len(it.AddMembers) > 0 || len(it.Roles) > 0 || len(it.Patches) > 0 || it.Welcome || len(it.RemoveMembers) > 0
}

// DeletionsMessage says what the bound on deletions decided, with the
// flag that moves it: "the plan would delete 12 spaces, over
// --max-deletions 10: none deleted; run with --max-deletions 12 to allow
// it". Empty when the deletions are within the bound.
func (g Guard) DeletionsMessage() string {
	if !g.DeletionsWithheld {
		return ""
	}
	return fmt.Sprintf("the plan would delete %s, over --max-deletions %d: none deleted; run with --max-deletions %d to allow it",
		plural(g.Deletions, "space"), g.MaxDeletions, g.Deletions)
}

// RemovalsMessage is DeletionsMessage for member removals.
func (g Guard) RemovalsMessage() string {
	if !g.RemovalsWithheld {
		return ""
	}
	return fmt.Sprintf("the plan would remove %s, over --max-removals %d: none removed; run with --max-removals %d to allow it",
		plural(g.Removals, "member"), g.MaxRemovals, g.Removals)
}

// writeGuard prints the counts against the bounds, after a plan's summary
// line: deletions with --prune, member removals with --prune-members.
func writeGuard(w io.Writer, g Guard) {
	if g.Prune {
		if g.DeletionsWithheld {
			fmt.Fprintf(w, "Deletions: %d, over --max-deletions %d: none will be deleted; run with --max-deletions %d to allow it.\n",
				g.Deletions, g.MaxDeletions, g.Deletions)
		} else {
			fmt.Fprintf(w, "Deletions: %d of at most %d (--max-deletions).\n", g.Deletions, g.MaxDeletions)
		}
	}
	if g.PruneMembers {
		if g.RemovalsWithheld {
			fmt.Fprintf(w, "Member removals: %d, over --max-removals %d: none will be removed; run with --max-removals %d to allow it.\n",
				g.Removals, g.MaxRemovals, g.Removals)
		} else {
			fmt.Fprintf(w, "Member removals: %d of at most %d (--max-removals).\n", g.Removals, g.MaxRemovals)
		}
	}
}

// jsonBounds is the --json form of a Guard; its field names are part of
// the command's interface.
type jsonBounds struct {
	Deletions         int  `json:"deletions"`
	MaxDeletions      int  `json:"maxDeletions"`
	DeletionsWithheld bool `json:"deletionsWithheld"`
	Removals          int  `json:"removals"`
	MaxRemovals       int  `json:"maxRemovals"`
	RemovalsWithheld  bool `json:"removalsWithheld"`
}

// boundsJSON is nil without --prune or --prune-members: nothing is bounded.
func boundsJSON(g Guard) *jsonBounds {
	if !g.Prune && !g.PruneMembers {
		return nil
	}
	return &jsonBounds{Deletions: g.Deletions, MaxDeletions: g.MaxDeletions, DeletionsWithheld: g.DeletionsWithheld,
		Removals: g.Removals, MaxRemovals: g.MaxRemovals, RemovalsWithheld: g.RemovalsWithheld}
}
