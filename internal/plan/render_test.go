package plan

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

const renderConfig = `defaults:
  members: [lead@example.com]
spaces:
  - displayName: "Onboarding 2026-Q1: Platform"
    members: [alice@example.com, bob@example.com, carol@example.com, groups/platform]
    owners: [alice@example.com]
    managers: [bob@example.com]
  - displayName: Old team
    members: [dan@example.com, erin@example.com]
  - displayName: "Onboarding 2026-Q1: Sales"
    members: [frank@example.com, grace@example.com, heidi@example.com]
    owners: [frank@example.com]
    managers: [grace@example.com]
  - displayName: "Onboarding 2026-Q1: Design"
    members: [ivan@example.com]
  - displayName: "Onboarding 2026-Q1: Support"
    members: [judy@example.com, mallory@example.com, niaj@example.com]
  - displayName: "Onboarding 2026-Q1: Security"
    owners: [olivia@example.com]
    managers: [pat@example.com, quinn@example.com, rob@example.com]
  - displayName: "onboarding 2026-q1: legal"
    members: [peggy@example.com]
`

func renderPlan(t *testing.T) *Plan {
	t.Helper()
	cfg, err := Parse("spaces.yaml", []byte(renderConfig), Options{})
	if err != nil {
		t.Fatalf("Parse(renderConfig) = %v", err)
	}
	return Diff(cfg, map[string]Recorded{
		"Old team": {Status: "created", Name: "spaces/AAAA1234567", RequestID: "r-old", Gone: true},
		// Frank and grace swap roles; heidi is new.
		"Onboarding 2026-Q1: Sales": {Status: "created", Name: "spaces/SALES", RequestID: "r-sales", Principal: "users/admin@example.com",
			Members: users("lead", "frank", "grace"), Owners: users("grace"), Managers: users("frank")},
		// Ivan was made owner by version 1 (as a manager then): demoted.
		"Onboarding 2026-Q1: Design":   {Status: "existing", Name: "spaces/DESIGN", Members: users("lead", "ivan"), Owners: users("ivan")},
		"Onboarding 2026-Q1: Support":  {Status: "pending", RequestID: "r-support", Principal: "users/admin@example.com"},
		"Onboarding 2026-Q1: Security": {Status: "created", Name: "spaces/SEC", Members: users("lead", "olivia", "pat", "quinn", "rob")},
		"Onboarding 2026-Q1: Legal":    {Status: "created", Name: "spaces/LEGAL", Members: users("lead", "peggy")},
		"Legacy space":                 {Status: "created", Name: "spaces/AAAALEGACY"},
		"Failed long ago":              {Status: "failed", RequestID: "r-failed"},
	})
}

// appConfig is created by a Chat app: spaces without owners are warned
// about.
const appConfig = `spaces:
  - displayName: Owned
    owners: [alice@example.com]
  - displayName: Managed only
    managers: [bob@example.com]
  - displayName: Nobody
  - displayName: Retried
`

func appPlan(t *testing.T) *Plan {
	t.Helper()
	cfg, err := Parse("spaces.yaml", []byte(appConfig), Options{App: true})
	if err != nil {
		t.Fatalf("Parse(appConfig) = %v", err)
	}
	return Diff(cfg, map[string]Recorded{"Retried": {Status: "failed", RequestID: "r-retried"}})
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteText(&b, renderPlan(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.txt.golden", b.Bytes())
}

func TestWriteApp(t *testing.T) {
	t.Parallel()
	var text, js bytes.Buffer
	if err := WriteText(&text, appPlan(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "app.txt.golden", text.Bytes())
	if err := WriteJSON(&js, appPlan(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "app.json.golden", js.Bytes())
}

func TestWriteTextNoChanges(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("spaces.yaml", []byte("spaces:\n  - displayName: A\n    members: [a@example.com]\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := Diff(cfg, map[string]Recorded{"A": {Status: "created", Name: "spaces/A", Members: users("a")}})
	var b bytes.Buffer
	if err := WriteText(&b, p); err != nil {
		t.Fatal(err)
	}
	golden(t, "nochanges.txt.golden", b.Bytes())
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteJSON(&b, renderPlan(t)); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b.Bytes()) {
		t.Fatalf("WriteJSON wrote invalid JSON:\n%s", b.Bytes())
	}
	golden(t, "plan.json.golden", b.Bytes())
}

// TestWriteJSONWhole checks that WriteJSON, which writes item by item,
// writes the bytes of one encoder over the whole jsonPlan, for plans with
// and without bounds, and with no item.
func TestWriteJSONWhole(t *testing.T) {
	t.Parallel()
	for name, p := range map[string]*Plan{"render": renderPlan(t), "guard": guardPlan(t), "converge": convergePlan(t), "empty": {File: "x.yaml"}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var got bytes.Buffer
			if err := WriteJSON(&got, p); err != nil {
				t.Fatal(err)
			}
			c := p.Counts()
			whole := jsonPlan{File: p.File, Bounds: boundsJSON(p.Guard), Spaces: make([]jsonItem, 0, len(p.Items)),
				Summary: jsonSummary{Create: c.Create, Update: c.Update, Retry: c.Retry, Delete: c.Delete, Unchanged: c.Unchanged, Orphan: c.Orphan, Unreachable: c.Unreachable}}
			for _, it := range p.Items {
				whole.Spaces = append(whole.Spaces, itemJSON(it))
			}
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(whole); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("WriteJSON =\n%s\nwant\n%s", got.Bytes(), want.Bytes())
			}
		})
	}
}

// convergeConfig has spaces whose settings drifted, members to remove and
// orphans to delete, planned with --prune-members and --prune.
const convergeConfig = `defaults:
  description: "Onboarding cohort"
  history: on
  externalUsers: false
  permissions:
    preset: collaboration
    manageApps: owners
spaces:
  - displayName: Edited
    description: "Onboarding cohort, spring"
    guidelines: "Be kind"
    history: off
    audience: audiences/eng
    permissions:
      manageWebhooks: managers
    members: [alice@example.com]
  - displayName: Outside
    externalUsers: true
    members: [alice@example.com, bob@example.com]
  - displayName: Refreshed
    members: [alice@example.com]
  - displayName: Upgraded
  - displayName: New
    members: [alice@example.com]
`

func convergePlan(t *testing.T) *Plan {
	t.Helper()
	cfg, err := Parse("spaces.yaml", []byte(convergeConfig), Options{})
	if err != nil {
		t.Fatalf("Parse(convergeConfig) = %v", err)
	}
	cfg.PruneMembers, cfg.Prune = true, true
	recorded := map[string]Recorded{
		"Edited": {Status: "created", Name: "spaces/EDITED", Members: users("alice"),
			Settings: SettingsOf(map[string]string{"description": "Onboarding cohort", "history": "on", "externalUsers": "false",
				"permissions.preset": "collaboration", "permissions.manageApps": "owners", "permissions.manageWebhooks": "members"})},
		// Removed: dan and erin; the creator stays.
		"Outside": {Status: "existing", Name: "spaces/OUTSIDE", Principal: "users/me@example.com",
			Members: users("alice", "bob", "erin", "dan", "me"),
			Settings: SettingsOf(map[string]string{"description": "Onboarding cohort", "history": "on", "externalUsers": "false",
				"permissions.preset": "collaboration", "permissions.manageApps": "owners"})},
		// The refresh found the description edited, alice removed, and
		// two people added in the Chat UI.
		"Refreshed": {Status: "created", Name: "spaces/REFRESHED", Members: users("alice"),
			Settings: SettingsOf(map[string]string{"description": "Onboarding cohort", "history": "on", "externalUsers": "false",
				"permissions.preset": "collaboration", "permissions.manageApps": "owners"}),
			Live: &Live{Settings: map[string]string{"description": "Edited in Chat", "history": "on", "externalUsers": "false", "permissions.manageApps": "owners"},
				MembersRead: true, Members: []string{"users/frank@example.com", "users/123456"}, Caller: "users/me@example.com"}},
		// Recorded before settings were.
		"Upgraded":    {Status: "created", Name: "spaces/UPGRADED"},
		"Retired":     {Status: "created", Name: "spaces/RETIRED", RequestID: "r-retired"},
		"Adopted old": {Status: "existing", Name: "spaces/ADOPTED"},
	}
	return Diff(cfg, recorded)
}

func TestWriteConverge(t *testing.T) {
	t.Parallel()
	var text, verbose, js bytes.Buffer
	if err := WriteText(&text, convergePlan(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "converge.txt.golden", text.Bytes())
	if err := WriteTextOptions(&verbose, convergePlan(t), TextOptions{Verbose: true}); err != nil {
		t.Fatal(err)
	}
	golden(t, "converge-verbose.txt.golden", verbose.Bytes())
	if err := WriteJSON(&js, convergePlan(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, "converge.json.golden", js.Bytes())
}
