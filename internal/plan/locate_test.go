package plan

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestSyntaxErrorPositions checks where common mistakes are reported: at the
// line and column a person would point at when the locator finds them, at
// yaml.v3's line alone when it cannot vouch for a position.
func TestSyntaxErrorPositions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"tab used for indentation", "spaces:\n\t- displayName: a\n",
			[]string{`f.yaml:2:1: invalid YAML: found character that cannot start any token`}},
		// yaml.v3 says line 2.
		{"tab before a key", "spaces:\n  - displayName: a\n\tmembers: [a@example.com]\n",
			[]string{`f.yaml:3:1: invalid YAML: found a tab character that violates indentation`}},
		{"unclosed double quote", "spaces:\n  - displayName: \"Platform\n    description: x\n",
			[]string{`f.yaml:2:18: invalid YAML: found unexpected end of stream`}},
		{"unclosed single quote", "spaces:\n  - displayName: 'Platform\n",
			[]string{`f.yaml:2:18: invalid YAML: found unexpected end of stream`}},
		// The quote is on line 1, yaml.v3 says line 3: too far apart to
		// trust either, so yaml.v3's line stands.
		{"unclosed quote on the first line", "spaces: \"abc\n  - displayName: a\n",
			[]string{`f.yaml:3: invalid YAML: found unexpected end of stream`}},
		// yaml.v3 says line 2 for the next four.
		{"unclosed [ at the end", "spaces:\n  - displayName: a\n    members: [a@example.com, b@example.com\n",
			[]string{`f.yaml:3:14: invalid YAML: did not find expected ',' or ']'`}},
		{"unclosed [ before the next space", "spaces:\n  - displayName: a\n    members: [a@example.com, b@example.com\n  - displayName: b\n",
			[]string{`f.yaml:3:14: invalid YAML: did not find expected ',' or ']'`}},
		{"unclosed [ with nothing in it", "spaces:\n  - displayName: a\n    members: [\n",
			[]string{`f.yaml:3:14: invalid YAML: did not find expected node content`}},
		{"unclosed [ then CRLF", "spaces:\r\n  - displayName: a\r\n    members: [a@example.com\r\n",
			[]string{`f.yaml:3:14: invalid YAML: did not find expected ',' or ']'`}},
		// yaml.v3 says line 1 for the next two.
		{"unclosed [ on line 2", "defaults:\n  members: [a@example.com, b@example.com\nspaces:\n  - displayName: a\n",
			[]string{`f.yaml:2:12: invalid YAML: did not find expected ',' or ']'`}},
		{"unclosed {", "spaces:\n  - {displayName: a, description: b\n  - displayName: c\n",
			[]string{`f.yaml:2:5: invalid YAML: did not find expected ',' or '}'`}},
		{"a multi-line list with a bad item", "spaces:\n  - displayName: a\n    members: [\n      a@example.com,\n      \"b@example.com\" c,\n    ]\n",
			[]string{`f.yaml:5:23: invalid YAML: did not find expected ',' or ']'`}},
		// yaml.v3 says line 1.
		{"key indented less", "spaces:\n  - displayName: a\n   description: x\n",
			[]string{`f.yaml:3:4: invalid YAML: did not find expected '-' indicator`}},
		// goccy points at "a", which runs on into the next line as a
		// plain scalar; the line to fix is yaml.v3's.
		{"key indented more", "spaces:\n  - displayName: a\n      description: x\n",
			[]string{`f.yaml:3: invalid YAML: mapping values are not allowed in this context`}},
		{"key indented less at top level", "defaults:\n  history: on\n members: [a@example.com]\nspaces:\n  - displayName: a\n",
			[]string{`f.yaml:3:2: invalid YAML: did not find expected key`}},
		{"key: value: more", "spaces:\n  - displayName: Onboarding: Platform\n",
			[]string{`f.yaml:2:18: invalid YAML: mapping values are not allowed in this context`}},
		// yaml.v3 says line 1 for the next two.
		{"stray dash", "spaces:\n  - displayName: a\n    members:\n      - a@example.com\n    - b@example.com\n",
			[]string{`f.yaml:5:5: invalid YAML: did not find expected key`}},
		{"dash in a mapping", "defaults:\n  history: on\n  - a@example.com\nspaces:\n  - displayName: a\n",
			[]string{`f.yaml:3:3: invalid YAML: did not find expected key`}},
		// yaml.v3 says line 3, where it meets the next colon.
		{"missing colon", "defaults:\n  history on\n  members: [a@example.com]\nspaces:\n  - displayName: a\n",
			[]string{`f.yaml:2:3: invalid YAML: mapping values are not allowed in this context`}},
		{"text after a quoted value", "spaces:\n  - displayName: \"Platform\" team\n",
			[]string{`f.yaml:2:29: invalid YAML: did not find expected key`}},
		// Valid YAML: without a space, the colon is part of a plain
		// scalar, so the space is the string `displayName:"x"`.
		{"no space after colon", "spaces:\n  - displayName:\"x\"\n",
			[]string{`f.yaml:2:5: each space must be a mapping with a displayName, not a string`}},
		// Valid YAML: an anchor may be defined again; aliases refer to
		// the latest definition.
		{"duplicate anchor", "defaults: &d\n  history: on\nspaces: &d\n  - displayName: a\n", nil},
		// Valid YAML: a plain scalar may hold ']'.
		{"] without [", "spaces:\n  - displayName: a\n    members: a@example.com]\n",
			[]string{`f.yaml:3:14: members must be a list, not the string "a@example.com]"`}},
		{"] alone", "spaces:\n  - displayName: a\n    members: ]\n",
			[]string{`f.yaml:3:14: invalid YAML: did not find expected node content`}},
		{"] once too often", "spaces:\n  - displayName: a\n    members: [a@example.com]]\n",
			[]string{`f.yaml:3:29: invalid YAML: did not find expected key`}},
		// goccy accepts this; yaml.v3's line stands.
		{"} alone", "spaces:\n  - displayName: a\n    members: }\n",
			[]string{`f.yaml:2: invalid YAML: did not find expected node content`}},
		{"unknown escape", "spaces:\n  - displayName: \"a\\qb\"\n",
			[]string{`f.yaml:2:21: invalid YAML: found unknown escape character`}},
		{"alias without a name", "spaces:\n  - displayName: *\n",
			[]string{`f.yaml:2:18: invalid YAML: did not find expected alphabetic or numeric character`}},
		{"block scalar dedented", "spaces:\n  - displayName: a\n    description: |\n      line\n    more\n",
			[]string{`f.yaml:5:5: invalid YAML: could not find expected ':'`}},
		{"error in a second document", "spaces:\n  - displayName: a\n---\nspaces: [\n",
			[]string{`f.yaml:4:9: invalid YAML: did not find expected node content`}},
		// An anchor named "-" is valid, but goccy rejects it: a position
		// before yaml.v3's line (here exact) is not believed.
		{"goccy's false error before the real one", "spaces:\n  - displayName: a\n    members:\n      &- a@example.com\n    description: x\n  - displayName: b: c\n",
			[]string{`f.yaml:6: invalid YAML: mapping values are not allowed in this context`}},
		// A tab in a quoted string is valid, but goccy rejects it, at a
		// column past the end of the line: not believed either.
		{"goccy's false error past the end of a line", "spaces:\n  - displayName: \"a\tb\"\n    description: x\n    members:\n      - a@example.com\n     - b@example.com\n",
			[]string{`f.yaml:1: invalid YAML: did not find expected key`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := problems(t, tt.yaml, Options{}); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %q, want %q", tt.yaml, got, tt.want)
			}
		})
	}
}

// TestSyntaxErrorCostlyToLocate checks that documents whose nesting or keys
// would make the locator's parser allocate gigabytes are reported at
// yaml.v3's line, and promptly.
func TestSyntaxErrorCostlyToLocate(t *testing.T) {
	t.Parallel()
	longKeys := strings.Repeat("{"+strings.Repeat("k", 5000)+": ", 14) + "[" + strings.Repeat("a, ", 20000)
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"deep flow nesting", strings.Repeat("[", 9000), `f.yaml:1: invalid YAML: did not find expected node content`},
		{"deeper than yaml.v3 allows", strings.Repeat("{a: ", 20000), `f.yaml:1: invalid YAML: exceeded max depth of 10000`},
		{"deep block nesting", strings.Repeat("- ", 9000) + "]", `f.yaml:1: invalid YAML: did not find expected node content`},
		{"long keys", longKeys, `f.yaml:1: invalid YAML: did not find expected ',' or '}'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseWithin(t, []byte(tt.yaml), Options{}, 10*time.Second)
			var ps Problems
			if !errors.As(err, &ps) || len(ps) != 1 || ps[0].String() != tt.want {
				t.Errorf("Parse(%.40q…) = %v, want %s", tt.yaml, err, tt.want)
			}
		})
	}
}

// TestSyntaxErrorInLargeFile checks that the locator's cost bound leaves
// files of thousands of spaces located.
func TestSyntaxErrorInLargeFile(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("spaces:\n")
	const n = 5000
	for i := range n {
		fmt.Fprintf(&b, "  - displayName: \"Onboarding 2026-Q1: team %d\"\n    description: \"Questions and introductions.\"\n    members: [a%d@example.com, b%d@example.com]\n    managers:\n      - a%d@example.com\n", i, i, i, i)
	}
	b.WriteString("  - displayName: \"last\n")
	want := fmt.Sprintf(`f.yaml:%d:18: invalid YAML: found unexpected end of stream`, 5*n+2)
	if got := problems(t, b.String(), Options{}); len(got) != 1 || got[0] != want {
		t.Errorf("Parse(%d spaces, the last unclosed) = %q, want %q", n, got, want)
	}
}
