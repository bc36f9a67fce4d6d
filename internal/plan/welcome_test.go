package plan

import (
	"slices"
	"strings"
	"testing"
)

// TestGroupsByEmail: group:EMAIL is a member, normalised; never an owner or
// manager, and refused under app authentication.
func TestGroupsByEmail(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("f.yaml", []byte(one(`displayName: a`, `members: [group:Eng@Example.com, ana@example.com]`)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Spaces[0].Members; !slices.Equal(got, []string{"group:eng@example.com", "users/ana@example.com"}) {
		t.Fatalf("members %q", got)
	}
	for _, tc := range []struct {
		src  string
		opts Options
		want string
	}{
		{one(`displayName: a`, `members: [group:not-an-email]`), Options{}, `f.yaml:3:15: member "group:not-an-email"`},
		{one(`displayName: a`, `owners: [group:eng@example.com]`), Options{}, `f.yaml:3:14: owner "group:eng@example.com" is a Google Group: the Chat API cannot make a group an owner`},
		{one(`displayName: a`, `members: [group:eng@example.com]`), Options{App: true}, `f.yaml:3:15: member "group:eng@example.com" is a Google Group: app authentication cannot add Google Groups`},
	} {
		got := strings.Join(problems(t, tc.src, tc.opts), "\n")
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("Parse(%q) problems %q, want %q", tc.src, got, tc.want)
		}
	}
}

// TestWelcome: a welcome is posted once: on a new space, on a recorded
// one that has none; a text changed since is warned about, not posted.
func TestWelcome(t *testing.T) {
	t.Parallel()
	src := "defaults:\n  welcome: \"Hello, team!\\nSay hi.\"\nspaces:\n  - displayName: New\n  - displayName: Old\n  - displayName: Greeted\n  - displayName: Quiet\n    welcome: \"\"\n"
	cfg, err := Parse("f.yaml", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Spaces[0].Welcome != "Hello, team!\nSay hi." || cfg.Spaces[3].Welcome != "" {
		t.Fatalf("welcomes %q, %q", cfg.Spaces[0].Welcome, cfg.Spaces[3].Welcome)
	}
	id := WelcomeID("Greeted")
	if !strings.HasPrefix(id, "client-") || len(id) > 63 || strings.ToLower(id) != id || id == WelcomeID("Old") || id != WelcomeID(" greeted ") {
		t.Fatalf("WelcomeID = %q: want client-…, at most 63 lower-case characters, one per space, whatever the text", id)
	}
	rec := map[string]Recorded{
		"Old":     {Status: "created", Name: "spaces/O", Settings: Settings{}},
		"Greeted": {Status: "created", Name: "spaces/G", Settings: Settings{}, Welcome: "spaces/G/messages/" + id, WelcomeHash: WelcomeHash("Hello, team!\nSay hi.")},
		"Quiet":   {Status: "created", Name: "spaces/Q", Settings: Settings{}},
	}
	p := Diff(cfg, rec)
	want := map[string]struct {
		action  Action
		welcome bool
	}{"New": {Create, true}, "Old": {Update, true}, "Greeted": {Exists, false}, "Quiet": {Exists, false}}
	for _, it := range p.Items {
		if w := want[it.Key]; it.Action != w.action || it.Welcome != w.welcome {
			t.Errorf("%s: %s, welcome %v; want %s, %v", it.Key, it.Action, it.Welcome, w.action, w.welcome)
		}
	}
	// The text changed after it was posted: a warning, no second post.
	cfg.Spaces[2].Welcome = "Hello again"
	for _, it := range Diff(cfg, rec).Items {
		if it.Key == "Greeted" && (it.Welcome || !slices.Contains(it.Warnings, WarnWelcome)) {
			t.Fatalf("Greeted with a changed text: welcome %v, warnings %q", it.Welcome, it.Warnings)
		}
	}
	if got := problems(t, one(`displayName: a`, "welcome: \"bell \\a\""), Options{}); len(got) != 1 || !strings.Contains(got[0], "welcome contains a control character") {
		t.Fatalf("a welcome with a BEL: %q", got)
	}
	if got := problems(t, one(`displayName: a`, "welcome: \"\\u200b\""), Options{}); len(got) != 1 || !strings.Contains(got[0], "welcome has only invisible characters (U+200B)") {
		t.Fatalf("a welcome of a zero-width space: %q", got)
	}
	if got := problems(t, one(`displayName: a`, "description: \"a\\x1bb\""), Options{}); len(got) != 1 || !strings.Contains(got[0], "description contains control character U+001B") {
		t.Fatalf("a description with an ESC: %q", got)
	}
}
