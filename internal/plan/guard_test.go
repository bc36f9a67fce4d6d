package plan

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// orphans records n spaces this tool created, "Old 1" … "Old n".
func orphans(n int) map[string]Recorded {
	rec := make(map[string]Recorded, n)
	for i := 1; i <= n; i++ {
		rec[fmt.Sprintf("Old %d", i)] = Recorded{Status: "created", Name: fmt.Sprintf("spaces/OLD%d", i)}
	}
	return rec
}

func TestGuardDeletions(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		orphans, max int
		withheld     bool
	}{
		{orphans: 3, max: 10},
		{orphans: 10, max: 10},
		{orphans: 11, max: 10, withheld: true},
		{orphans: 12, max: 10, withheld: true},
		{orphans: 1, max: 0, withheld: true}, // 0 allows none
		{orphans: 0, max: 0},
		{orphans: 12, max: 12},
		{orphans: 12, max: 1_000_000}, // the bound lifted
	} {
		t.Run(fmt.Sprintf("%d of %d", tt.orphans, tt.max), func(t *testing.T) {
			t.Parallel()
			cfg := &Config{Spaces: []Space{{DisplayName: "Kept"}}, Prune: true, MaxDeletions: tt.max}
			p := Diff(cfg, orphans(tt.orphans))
			g := p.Guard
			if g.Deletions != tt.orphans || g.MaxDeletions != tt.max || g.DeletionsWithheld != tt.withheld {
				t.Fatalf("Diff(%d orphans, MaxDeletions %d).Guard = %+v, want %d deletions, withheld %v", tt.orphans, tt.max, g, tt.orphans, tt.withheld)
			}
			c := p.Counts()
			if tt.withheld {
				// None reaches the applier as a delete.
				if c.Delete != 0 || c.Orphan != tt.orphans {
					t.Errorf("Counts() = %+v, want 0 to delete, %d orphans", c, tt.orphans)
				}
				for _, it := range p.Items[1:] {
					if it.Action != Orphan || !it.Withheld {
						t.Errorf("item %q: %s, withheld %v; want an orphan, withheld", it.Key, it.Action, it.Withheld)
					}
				}
				want := fmt.Sprintf("the plan would delete %d space", tt.orphans)
				if msg := g.DeletionsMessage(); !strings.HasPrefix(msg, want) || !strings.Contains(msg, fmt.Sprintf("run with --max-deletions %d to allow it", tt.orphans)) {
					t.Errorf("DeletionsMessage() = %q", msg)
				}
				return
			}
			if c.Delete != tt.orphans {
				t.Errorf("Counts() = %+v, want %d to delete", c, tt.orphans)
			}
			if msg := g.DeletionsMessage(); msg != "" {
				t.Errorf("DeletionsMessage() = %q, want none", msg)
			}
		})
	}
}

func TestGuardRemovals(t *testing.T) {
	t.Parallel()
	// Three spaces lose two members each; B also gains one.
	spaces := []Space{
		{DisplayName: "A", Members: users("keep")},
		{DisplayName: "B", Members: users("keep", "new")},
		{DisplayName: "C", Members: users("keep")},
	}
	rec := map[string]Recorded{}
	for _, s := range spaces {
		rec[s.DisplayName] = Recorded{Status: "created", Name: "spaces/" + s.DisplayName, Members: users("keep", "x", "y")}
	}
	for _, tt := range []struct {
		max      int
		withheld bool
	}{{6, false}, {100, false}, {5, true}, {0, true}} {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			t.Parallel()
			p := Diff(&Config{Spaces: spaces, PruneMembers: true, MaxRemovals: tt.max}, rec)
			g := p.Guard
			if g.Removals != 6 || g.RemovalsWithheld != tt.withheld {
				t.Fatalf("Diff(MaxRemovals %d).Guard = %+v, want 6 removals, withheld %v", tt.max, g, tt.withheld)
			}
			removed := 0
			for _, it := range p.Items {
				removed += len(it.RemoveMembers)
			}
			actions := fmt.Sprint(p.Items[0].Action, p.Items[1].Action, p.Items[2].Action)
			switch {
			case tt.withheld && (removed != 0 || actions != "existsupdateexists"):
				// B still gains its new member: everything else is applied.
				t.Errorf("withheld: %d removals planned, actions %s; want none, and B still updated", removed, actions)
			case !tt.withheld && (removed != 6 || actions != "updateupdateupdate"):
				t.Errorf("within the bound: %d removals planned, actions %s; want 6, every space updated", removed, actions)
			}
			if msg := g.RemovalsMessage(); tt.withheld != (msg != "") || (tt.withheld && !strings.Contains(msg, "over --max-removals")) {
				t.Errorf("RemovalsMessage() = %q", msg)
			}
		})
	}
}

// TestGuardParseDefaults: a parsed config has the command line's default
// bounds; a Config built otherwise allows no destruction.
func TestGuardParseDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("spaces.yaml", []byte("spaces:\n  - displayName: A\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxDeletions != DefaultMaxDeletions || cfg.MaxRemovals != DefaultMaxRemovals {
		t.Errorf("Parse: bounds %d, %d; want %d, %d", cfg.MaxDeletions, cfg.MaxRemovals, DefaultMaxDeletions, DefaultMaxRemovals)
	}
	cfg.Prune = true
	if p := Diff(cfg, orphans(DefaultMaxDeletions)); p.Counts().Delete != DefaultMaxDeletions {
		t.Errorf("Diff(%d orphans) = %+v, want every one deleted at the default bound", DefaultMaxDeletions, p.Counts())
	}
	if p := Diff(&Config{Spaces: cfg.Spaces, Prune: true}, orphans(1)); p.Counts().Delete != 0 {
		t.Errorf("Diff(zero bounds) = %+v, want nothing deleted", p.Counts())
	}
}

// guardPlan is over both bounds: 12 spaces to delete and 3 members to
// remove, with --max-deletions 10 and --max-removals 2.
func guardPlan(t *testing.T) *Plan {
	t.Helper()
	cfg, err := Parse("spaces.yaml", []byte("spaces:\n  - displayName: Kept\n    members: [ana@example.com]\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Prune, cfg.PruneMembers, cfg.MaxRemovals = true, true, 2
	rec := orphans(12)
	rec["Kept"] = Recorded{Status: "created", Name: "spaces/KEPT", Members: users("ana", "bo", "cy", "di")}
	return Diff(cfg, rec)
}

func TestWriteGuard(t *testing.T) {
	t.Parallel()
	var text, js bytes.Buffer
	if err := WriteText(&text, guardPlan(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "guard.txt.golden", text.Bytes())
	if err := WriteJSON(&js, guardPlan(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "guard.json.golden", js.Bytes())
}
