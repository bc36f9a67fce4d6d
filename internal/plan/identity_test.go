package plan

import (
	"strings"
	"testing"
)

func TestKeyOf(t *testing.T) {
	t.Parallel()
	same := [][]string{
		{"Café Team", "Cafe\u0301 Team", "CAFÉ TEAM", "  café team\t"},
		{"Straße", "STRASSE", "strasse"},
		{"Platform", "platform", " PLATFORM "},
	}
	for _, names := range same {
		for _, n := range names[1:] {
			if KeyOf(n) != KeyOf(names[0]) {
				t.Errorf("KeyOf(%q) = %q, KeyOf(%q) = %q; want one identity", n, KeyOf(n), names[0], KeyOf(names[0]))
			}
		}
	}
	for _, pair := range [][2]string{{"Café", "Cafe"}, {"Team 1", "Team  1"}, {"a-b", "a b"}} {
		if KeyOf(pair[0]) == KeyOf(pair[1]) {
			t.Errorf("KeyOf(%q) == KeyOf(%q); want two identities", pair[0], pair[1])
		}
	}
	if got := Text("  Cafe\u0301 Team "); got != "Café Team" {
		t.Errorf("Text(NFD) = %q, want the NFC text, trimmed", got)
	}
}

// TestParseKeys: key: is per space, names its identity, and may be no
// other space's key or display name, in any case or Unicode form.
func TestParseKeys(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, yaml string
		want       []string
	}{
		{"a key of its own", "spaces:\n  - key: Old\n    displayName: New\n", nil},
		{"a key equal to its own name", "spaces:\n  - key: new\n    displayName: New\n", nil},
		{"in defaults", "defaults:\n  key: x\nspaces:\n  - displayName: a\n",
			[]string{`f.yaml:2:3: key cannot be set in defaults: each space has its own`}},
		{"empty", "spaces:\n  - key: \"\"\n    displayName: a\n", []string{`f.yaml:2:10: key is empty`}},
		{"null", "spaces:\n  - key:\n    displayName: a\n", []string{`f.yaml:2:9: key is empty`}},
		{"not text", "spaces:\n  - key: [a]\n    displayName: a\n", []string{`f.yaml:2:10: key must be a string, not a list`}},
		{"control character", "spaces:\n  - key: \"a\\tb\"\n    displayName: a\n",
			[]string{`f.yaml:2:10: key "a\tb" contains control character U+0009 (tab): a name is printable text`}},
		{"two spaces, one key", "spaces:\n  - key: K\n    displayName: a\n  - key: \"k \"\n    displayName: b\n",
			[]string{`f.yaml:4:10: key "k" is already the key of the space at line 2 ("K"): each space's key is its own`}},
		{"a key that is another space's name", "spaces:\n  - displayName: Café\n  - key: \"CAFE\u0301\"\n    displayName: b\n",
			[]string{`f.yaml:3:10: key "CAFÉ" is the displayName of the space at line 2 ("Café"): a key names the space whose display name it was, so it may not be another space's name`}},
		{"a name that is another space's key", "spaces:\n  - key: Old\n    displayName: New\n  - displayName: old\n",
			[]string{`f.yaml:4:18: displayName "old" is the key of the space at line 2 ("Old"): a key names the space whose display name it was, so it may not be another space's name`}},
		{"names in two Unicode forms", "spaces:\n  - displayName: \"Caf\u00e9\"\n  - displayName: \"Cafe\u0301\"\n",
			[]string{`f.yaml:3:18: displayName "Café" is already used by the space at line 2 ("Café"): names that differ only in case, Unicode form or surrounding white space are the same space`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := problems(t, tt.yaml, Options{}); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Parse(%q) problems:\n%s\nwant:\n%s", tt.yaml, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	cfg, err := Parse("f.yaml", []byte("spaces:\n  - key: \" Old \"\n    displayName: \"Cafe\u0301\"\n  - displayName: b\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Spaces[0]; s.Key != "Old" || s.DisplayName != "Café" {
		t.Errorf("Parse: key %q, displayName %q; want \"Old\" and the NFC name", s.Key, s.DisplayName)
	}
	if s := cfg.Spaces[1]; s.Key != "b" {
		t.Errorf("Parse: key %q of a space without key:, want its display name", s.Key)
	}
}

// TestDiffIdentity: which record a config space is, and what a changed
// name or a lost space becomes in the plan.
func TestDiffIdentity(t *testing.T) {
	t.Parallel()
	created := func(name string) Recorded {
		return Recorded{Status: "created", Name: name, Settings: Settings{}}
	}
	renamed := func(name, to string) Recorded {
		r := created(name)
		r.DisplayName = to
		return r
	}
	tests := []struct {
		name     string
		prune    bool
		spaces   []Space
		recorded map[string]Recorded
		// want is one line per item: action, key, and what it says.
		want []string
	}{
		{
			name:     "a rename by key: no create, no delete",
			prune:    true,
			spaces:   []Space{{Key: "Old", DisplayName: "New"}},
			recorded: map[string]Recorded{"Old": created("spaces/O")},
			want:     []string{"update New Old rename Old→New"},
		},
		{
			name:     "renamed before: nothing to do",
			spaces:   []Space{{Key: "Old", DisplayName: "New"}},
			recorded: map[string]Recorded{"Old": renamed("spaces/O", "New")},
			want:     []string{"exists New Old"},
		},
		{
			name:     "key: dropped after the rename: the record's name finds it",
			prune:    true,
			spaces:   []Space{{Key: "New", DisplayName: "New"}},
			recorded: map[string]Recorded{"Old": renamed("spaces/O", "New")},
			want:     []string{"exists New Old"},
		},
		{
			name:     "key: added to a space recorded under its name",
			prune:    true,
			spaces:   []Space{{Key: "team-7", DisplayName: "Team"}},
			recorded: map[string]Recorded{"Team": created("spaces/T")},
			want:     []string{"exists Team"},
		},
		{
			name:     "another Unicode form: the same space, not renamed",
			prune:    true,
			spaces:   []Space{{Key: "Café", DisplayName: "Café"}},
			recorded: map[string]Recorded{"Cafe\u0301": created("spaces/C")},
			want:     []string{"exists Café Cafe\u0301"},
		},
		{
			name:     "a new name without key: a create, and the old space an orphan",
			prune:    true,
			spaces:   []Space{{Key: "New", DisplayName: "New"}},
			recorded: map[string]Recorded{"Old": created("spaces/O")},
			want:     []string{"create New", "delete Old"},
		},
		{
			// Renamed by key, the key dropped, the old name given to a
			// new space: the renamed space is the one named so now.
			name:     "an old name reused by a new space after the key was dropped",
			prune:    true,
			spaces:   []Space{{DisplayName: "Beta"}, {DisplayName: "Alpha"}},
			recorded: map[string]Recorded{"Alpha": renamed("spaces/A", "Beta")},
			want:     []string{"exists Beta Alpha", "create Alpha"},
		},
		{
			// X renamed to T, then Y to X; now the space named T becomes
			// Y (its key: is its current name) and the one named X stays.
			name:   "a second rename, by the space's current name",
			spaces: []Space{{Key: "T", DisplayName: "Y"}, {DisplayName: "X"}},
			recorded: map[string]Recorded{
				"X": renamed("spaces/1", "T"),
				"Y": renamed("spaces/2", "X"),
			},
			want: []string{"update Y X rename T→Y", "exists X Y"},
		},
		{
			name:   "renamed in the Chat UI, read by --refresh: renamed back",
			spaces: []Space{{DisplayName: "Finance"}},
			recorded: map[string]Recorded{"Finance": {Status: "created", Name: "spaces/F", Settings: Settings{},
				Live: &Live{DisplayName: "Finance (old)"}}},
			want: []string{"update Finance rename Finance (old)→Finance"},
		},
		{
			name:   "two records of one identity: the other is never deleted",
			prune:  true,
			spaces: []Space{{Key: "Team", DisplayName: "Team"}},
			recorded: map[string]Recorded{
				"Team":  created("spaces/T1"),
				"TEAM ": created("spaces/T2"),
			},
			want: []string{"exists Team", "orphan TEAM TEAM "},
		},
		{
			name:     "lost, unconfirmed: a create that will tell",
			spaces:   []Space{{Key: "L", DisplayName: "L"}},
			recorded: map[string]Recorded{"L": {Status: "created", Name: "spaces/L", Lost: 403}},
			want:     []string{"create L recreate spaces/L lost 403"},
		},
		{
			name:     "confirmed out of sight: unreachable, to record",
			spaces:   []Space{{Key: "U", DisplayName: "U"}},
			recorded: map[string]Recorded{"U": {Status: "created", Name: "spaces/U", Unreachable: true}},
			want:     []string{"unreachable U mark"},
		},
		{
			name:     "recorded unreachable, lost again: left alone",
			prune:    true,
			spaces:   []Space{{Key: "U", DisplayName: "U"}},
			recorded: map[string]Recorded{"U": {Status: "unreachable", Was: "created", Name: "spaces/U", Lost: 404}},
			want:     []string{"unreachable U"},
		},
		{
			name:     "recorded unreachable, readable again: what it was",
			spaces:   []Space{{Key: "U", DisplayName: "U"}},
			recorded: map[string]Recorded{"U": {Status: "unreachable", Was: "created", Name: "spaces/U", Settings: Settings{}, Live: &Live{}}},
			want:     []string{"exists U reachable"},
		},
		{
			name:     "recorded unreachable, confirmed deleted: created again",
			spaces:   []Space{{Key: "U", DisplayName: "U"}},
			recorded: map[string]Recorded{"U": {Status: "unreachable", Was: "created", Name: "spaces/U", Gone: true}},
			want:     []string{"create U recreate spaces/U"},
		},
		{
			name:  "orphans out of sight are never deleted",
			prune: true,
			recorded: map[string]Recorded{
				"A": {Status: "created", Name: "spaces/A", Lost: 404},
				"B": {Status: "unreachable", Was: "created", Name: "spaces/B"},
				"C": {Status: "created", Name: "spaces/C", Unreachable: true},
				"D": {Status: "created", Name: "spaces/D", Gone: true},
			},
			want: []string{"unreachable A", "unreachable B", "unreachable C mark", "delete D"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := Diff(&Config{Spaces: tt.spaces, Prune: tt.prune, MaxDeletions: 10}, tt.recorded)
			var got []string
			for _, it := range p.Items {
				line := string(it.Action) + " " + it.Key
				if it.RecordedKey != "" {
					line += " " + it.RecordedKey
				}
				if it.Rename != nil {
					line += " rename " + it.Rename.From + "→" + it.Rename.To
				}
				if it.Recreate {
					line += " recreate " + it.PreviousName
				}
				if it.Lost != 0 {
					line += " lost " + map[int]string{403: "403", 404: "404"}[it.Lost]
				}
				if it.MarkUnreachable {
					line += " mark"
				}
				if it.Reachable {
					line += " reachable"
				}
				got = append(got, line)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Diff =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
