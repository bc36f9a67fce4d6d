package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	chat "google.golang.org/api/chat/v1"
	"google.golang.org/api/option"

	"provision/internal/chatemu"
)

// TestRecreatedGroup: a group deleted and made again in Cloud Identity
// under the same email (a new ID) is looked up again by --refresh: the
// plan says so on a line of its own (and in the JSON plan), the new group
// is the config's member (added where missing, never pruned), the old ID
// is not added again, and the record takes the new ID. The old group's
// membership, still in the space, goes with --prune-members and stays
// without.
func TestRecreatedGroup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// before the second run: the old group left the space (with the
		// group), the new one was added in Chat.
		oldGone, newAdded bool
		prune             bool
		want              []string // the space's groups after the run
	}{
		{"prune", false, false, true, []string{"groups/new"}},
		{"prune, new one added in Chat", false, true, true, []string{"groups/new"}},
		{"old one gone with the group", true, false, true, []string{"groups/new"}},
		{"without prune", false, false, false, []string{"groups/new", "groups/old"}},
		{"without prune, new one added in Chat", false, true, false, []string{"groups/new", "groups/old"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu, url := newEmu(t, chatemu.WithGroups(map[string]string{"eng@example.com": "groups/old"}))
			config := filepath.Join(t.TempDir(), "spaces.yaml")
			resultsFile := strings.TrimSuffix(config, ".yaml") + ".results.json"
			writeSpace(t, config, "ana@example.com", "group:eng@example.com")
			args := []string{"--auth", "none", "--endpoint", url, "--groups-endpoint", url, "--rate", "0", "--caller", "caller@example.com"}
			if out := provision(t, append(args, config)...); out.code != exitOK {
				t.Fatalf("first run: exit %d\n%s", out.code, out.stderr)
			}
			space := resultsOf(t, resultsFile).Spaces["T"].Name

			emu.SetGroup("eng@example.com", "groups/new")
			if tc.oldGone {
				emu.RemoveMember(space, "groups/old")
			}
			if tc.newAdded {
				svc, err := chat.NewService(context.Background(), option.WithEndpoint(url+"/"), option.WithoutAuthentication())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := svc.Spaces.Members.Create(space, &chat.Membership{GroupMember: &chat.Group{Name: "groups/new"}}).Do(); err != nil {
					t.Fatal(err)
				}
			}
			run := append(slices.Clone(args), "--refresh")
			if tc.prune {
				run = append(run, "--prune-members")
			}

			plan := provision(t, append(append(slices.Clone(run), "--plan", "--json"), config)...)
			var jp struct {
				Spaces []struct {
					Groups []struct{ Member, Now, Was string }
				}
			}
			if err := json.Unmarshal([]byte(plan.stdout), &jp); plan.code != exitOK || err != nil || len(jp.Spaces) != 1 || len(jp.Spaces[0].Groups) != 1 ||
				jp.Spaces[0].Groups[0] != (struct{ Member, Now, Was string }{"group:eng@example.com", "groups/new", "groups/old"}) {
				t.Errorf("--plan --json: exit %d, %v\n%s\nwant the group's new and old IDs", plan.code, err, plan.stdout)
			}

			out := provision(t, append(run, config)...)
			if out.code != exitOK || !strings.Contains(out.stdout, "\n      ~ group:eng@example.com now groups/new, was groups/old\n") {
				t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 0 and the group's new ID in the plan", out.code, out.stdout, out.stderr)
			}
			if got := groupsOf(emu, space); !slices.Equal(got, tc.want) {
				t.Errorf("the space has groups %v, want %v", got, tc.want)
			}
			for _, m := range emu.Members(space) {
				if m.Group == "groups/old" && m.Adds > 1 {
					t.Errorf("the old group was added %d times", m.Adds)
				}
			}
			en := resultsOf(t, resultsFile).Spaces["T"]
			if en.Applied.IDs["group:eng@example.com"] != "groups/new" || !slices.Contains(en.Applied.Members, "group:eng@example.com") {
				t.Errorf("record: members %v, ids %v; want group:eng@example.com as groups/new", en.Applied.Members, en.Applied.IDs)
			}

			// Converged: the next refresh finds nothing to change.
			again := provision(t, append(append(slices.Clone(run), "--plan"), config)...)
			if again.code != exitOK || strings.Contains(again.stdout, "now groups/") || !strings.Contains(again.stdout, "= exists \"T\"") {
				t.Errorf("plan after the run: exit %d\n%s", again.code, again.stdout)
			}
		})
	}
}

// TestGroupLookedUpOncePerRun: "a group's lookup is recorded, so later runs
// skip it": one lookup per group per run, whatever the number of spaces
// naming it, and none in a later run for a new space naming a group
// already recorded.
func TestGroupLookedUpOncePerRun(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t, chatemu.WithGroups(map[string]string{"eng@example.com": "groups/03x9eng"}))
	dir := t.TempDir()
	config := filepath.Join(dir, "spaces.yaml")
	write := func(names ...string) {
		t.Helper()
		var b strings.Builder
		b.WriteString("spaces:\n")
		for _, n := range names {
			b.WriteString("  - displayName: \"" + n + "\"\n    members: [ana@example.com, group:eng@example.com]\n")
		}
		if err := os.WriteFile(config, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lookups := func() int {
		n := 0
		for _, c := range emu.Stats().Calls["groups.lookup"] {
			n += c
		}
		return n
	}
	args := []string{"--auth", "none", "--endpoint", url, "--groups-endpoint", url, "--rate", "0", "--caller", "caller@example.com", config}

	write("A", "B", "C")
	if out := provision(t, args...); out.code != exitOK {
		t.Fatalf("first run: exit %d\n%s", out.code, out.stderr)
	}
	if n := lookups(); n != 1 {
		t.Fatalf("three new spaces naming one group: %d lookups, want 1", n)
	}
	write("A", "B", "C", "D")
	if out := provision(t, args...); out.code != exitOK {
		t.Fatalf("second run: exit %d\n%s", out.code, out.stderr)
	}
	if n := lookups(); n != 1 {
		t.Errorf("a new space naming a recorded group: %d lookups in all, want still 1", n)
	}
	if got := groupsOf(emu, resultsOf(t, filepath.Join(dir, "spaces.results.json")).Spaces["D"].Name); !slices.Equal(got, []string{"groups/03x9eng"}) {
		t.Errorf("the new space has groups %v, want [groups/03x9eng]", got)
	}
}
