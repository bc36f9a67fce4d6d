package plan

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestMarshalConfigRoundTrip: a written config reads back as the spaces it
// was written from, whatever text their names and settings hold.
func TestMarshalConfigRoundTrip(t *testing.T) {
	t.Parallel()
	in := []Written{
		{
			DisplayName: "Onboarding: Platform",
			Settings: map[string]string{SetDescription: "Line one\nline two: \"quoted\" # not a comment", SetGuidelines: "  leading spaces", SetHistory: "on",
				SetAudience: "audiences/default", SetPermissionPrefix + "manageApps": "owners", SetPermissionPrefix + "replyMessages": "members"},
			Members:  []string{"groups/03x9eng", "users/123456789", "users/alice@example.com", "users/987"},
			Owners:   []string{"users/alice@example.com"},
			Managers: []string{"users/987"},
			Adopt:    true,
		},
		{DisplayName: "2026", Settings: map[string]string{SetHistory: "off"}, Adopt: true},
		{DisplayName: "null", Settings: map[string]string{SetDescription: "true"}, Adopt: true},
		{DisplayName: "- dash, [flow] & *star", Adopt: true},
	}
	data, err := MarshalConfig("Imported by a test.\nSecond line.", in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "# Imported by a test.\n# Second line.\n") {
		t.Errorf("MarshalConfig header:\n%s", data)
	}
	cfg, err := Parse("imported.yaml", data, Options{})
	if err != nil {
		t.Fatalf("Parse(MarshalConfig) = %v\n%s", err, data)
	}
	if len(cfg.Spaces) != len(in) {
		t.Fatalf("Parse(MarshalConfig) = %d spaces, want %d", len(cfg.Spaces), len(in))
	}
	for i, w := range in {
		got := cfg.Spaces[i]
		if got.DisplayName != w.DisplayName || !got.Adopt {
			t.Errorf("space %d = %q (adopt %v), want %q", i, got.DisplayName, got.Adopt, w.DisplayName)
		}
		if !maps.Equal(got.Settings.Map(), w.Settings) {
			t.Errorf("space %q settings = %v, want %v\n%s", w.DisplayName, got.Settings, w.Settings, data)
		}
		if !slices.Equal(sorted(got.Members), sorted(w.Members)) || !slices.Equal(got.Owners, w.Owners) || !slices.Equal(got.Managers, w.Managers) {
			t.Errorf("space %q members %v owners %v managers %v, want %v %v %v", w.DisplayName, got.Members, got.Owners, got.Managers, w.Members, w.Owners, w.Managers)
		}
	}
	again, _ := MarshalConfig("Imported by a test.\nSecond line.", in)
	if string(again) != string(data) {
		t.Errorf("MarshalConfig is not stable:\n%s\n---\n%s", data, again)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
