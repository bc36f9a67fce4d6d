package main

import (
	"path/filepath"
	"strings"
	"testing"

	"provision/internal/chatemu"
	"provision/internal/results"
)

// TestWelcomeOnce: under 15% of calls answered 503 and 20% of creates and
// messages whose answer is lost, every space is greeted exactly once, the
// message recorded; a second run posts nothing.
func TestWelcomeOnce(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t, chatemu.WithFailureRate(0.15), chatemu.WithLostResponseRate(0.2), chatemu.WithSeed(13))
	dir := t.TempDir()
	config := writeConfig(t, dir, 30, nil)
	withWelcome(t, config, "Welcome, team!")
	args := []string{"--auth", "none", "--endpoint", url, "--rate", "0", "--max-attempts", "30", config}
	if out := provision(t, args...); out.code != exitOK {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	st := emu.Stats()
	if st.MessagesCreated != 30 || st.LostResponses == 0 {
		t.Fatalf("%d messages posted (%d answers lost); want 30, one a space", st.MessagesCreated, st.LostResponses)
	}
	for _, sp := range emu.Spaces() {
		if n := len(emu.Messages(sp.Name)); n != 1 {
			t.Fatalf("%s has %d messages, want 1", sp.DisplayName, n)
		}
	}
	f := resultsOf(t, filepath.Join(dir, "spaces.results.json"))
	for k, en := range f.Spaces {
		if en.Applied == nil || !strings.HasPrefix(en.Applied.Welcome, en.Name+"/messages/client-") {
			t.Fatalf("%q: welcome recorded as %+v", k, en.Applied)
		}
	}
	out := provision(t, args...)
	if out.code != exitOK || emu.Stats().MessagesCreated != 30 || countStatus(resultsOf(t, filepath.Join(dir, "spaces.results.json")), results.Created) != 30 {
		t.Fatalf("second run: exit %d, %d messages\n%s", out.code, emu.Stats().MessagesCreated, out.stderr)
	}
}

// TestGroupByEmail: a group named by email is resolved once through Cloud
// Identity, added, and its groups/ID recorded so the next run needs no
// lookup; an unknown one fails that member, naming the email, not the space.
func TestGroupByEmail(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t, chatemu.WithGroups(map[string]string{"eng@example.com": "groups/03x9eng"}))
	dir := t.TempDir()
	config := writeConfig(t, dir, 3, func(int) ([]string, []string) {
		return []string{"group:eng@example.com", "group:nobody@example.com", "ana@example.com"}, nil
	})
	args := []string{"--auth", "none", "--endpoint", url, "--groups-endpoint", url, "--rate", "0", config}
	out := provision(t, args...)
	if out.code != exitFailed || !strings.Contains(out.stderr, "group nobody@example.com: Cloud Identity knows no Google Group of that email") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 naming the unknown group", out.code, out.stderr)
	}
	st := emu.Stats()
	if n := st.Calls["groups.lookup"][200] + st.Calls["groups.lookup"][403]; n != 2 {
		t.Fatalf("%d lookups, want 2: each email once per run (calls %v)", n, st.Calls["groups.lookup"])
	}
	for _, sp := range emu.Spaces() {
		found := false
		for _, m := range emu.Members(sp.Name) {
			found = found || m.Group == "groups/03x9eng"
		}
		if !found {
			t.Fatalf("%s lacks the group", sp.DisplayName)
		}
	}
	f := resultsOf(t, filepath.Join(dir, "spaces.results.json"))
	if id := f.Spaces["Team 1"].Applied.IDs["group:eng@example.com"]; id != "groups/03x9eng" {
		t.Fatalf("recorded group ID %q", id)
	}
	// --plan shows the email, not the ID.
	plan := provision(t, "--plan", "-v", config)
	if !strings.Contains(plan.stdout, `~ update "Team 1" (+1 member)`) {
		t.Fatalf("plan:\n%s", plan.stdout)
	}
}
