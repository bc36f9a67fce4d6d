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
// line and column a person would point at. The parser gives a line only,
// often that of the enclosing collection, 0-based at that (the comments say
// which), and no column; the lexer finds the rest, or the report gives the
// line alone.
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
		// The string runs on to the next quote, where YAML breaks.
		{"unclosed double quote before another space", "spaces:\n  - displayName: \"Platform\n    description: x\n  - displayName: \"Sales\"\n",
			[]string{`f.yaml:2:18: invalid YAML: the string quoted here runs on to line 4 (is its closing quote missing?): did not find expected key`}},
		{"unclosed single quote", "spaces:\n  - displayName: 'Platform\n",
			[]string{`f.yaml:2:18: invalid YAML: found unexpected end of stream`}},
		// yaml.v3 says line 3.
		{"unclosed quote on the first line", "spaces: \"abc\n  - displayName: a\n",
			[]string{`f.yaml:1:9: invalid YAML: found unexpected end of stream`}},
		// yaml.v3 says line 2 for the next four.
		{"unclosed [ at the end", "spaces:\n  - displayName: a\n    members: [a@example.com, b@example.com\n",
			[]string{`f.yaml:3:14: invalid YAML: did not find expected ',' or ']'`}},
		{"unclosed [ before the next space", "spaces:\n  - displayName: a\n    members: [a@example.com, b@example.com\n  - displayName: b\n",
			[]string{`f.yaml:3:14: invalid YAML: did not find expected ',' or ']'`}},
		{"unclosed [ with nothing in it", "spaces:\n  - displayName: a\n    members: [\n",
			[]string{`f.yaml:3:14: invalid YAML: did not find expected node content`}},
		{"unclosed [ then CRLF", "spaces:\r\n  - displayName: a\r\n    members: [a@example.com\r\n",
			[]string{`f.yaml:3:14: invalid YAML: did not find expected ',' or ']'`}},
		{"unclosed [ with CR line ends", "spaces:\r  - displayName: a\r    members: [a@example.com\r",
			[]string{`f.yaml:3:14: invalid YAML: did not find expected ',' or ']'`}},
		// The parser counts a line separator (U+2028) as a line break, in
		// node positions too.
		{"unclosed quote after a line separator", "spaces:\n  - displayName: \"a\u2028b\"\n  - displayName: \"c\n",
			[]string{`f.yaml:4:18: invalid YAML: found unexpected end of stream`}},
		// yaml.v3 says line 1 for the next two.
		{"unclosed [ on line 2", "defaults:\n  members: [a@example.com, b@example.com\nspaces:\n  - displayName: a\n",
			[]string{`f.yaml:2:12: invalid YAML: did not find expected ',' or ']'`}},
		{"unclosed { over a block scalar", "spaces:\n  - {displayName: a\n  - displayName: c\n    description: |\n      x\n",
			[]string{`f.yaml:2:5: invalid YAML: did not find expected ',' or '}'`}},
		{"unclosed {", "spaces:\n  - {displayName: a, description: b\n  - displayName: c\n",
			[]string{`f.yaml:2:5: invalid YAML: did not find expected ',' or '}'`}},
		{"a multi-line list with a bad item", "spaces:\n  - displayName: a\n    members: [\n      a@example.com,\n      \"b@example.com\" c,\n    ]\n",
			[]string{`f.yaml:5:23: invalid YAML: did not find expected ',' or ']'`}},
		// yaml.v3 says line 1.
		{"key indented less", "spaces:\n  - displayName: a\n   description: x\n",
			[]string{`f.yaml:3:4: invalid YAML: did not find expected '-' indicator`}},
		// "a" runs on into the next line as a plain scalar; the key
		// indented too far is what to fix.
		{"key indented more", "spaces:\n  - displayName: a\n      description: x\n",
			[]string{`f.yaml:3:7: invalid YAML: mapping values are not allowed in this context`}},
		{"key indented less at top level", "defaults:\n  history: on\n members: [a@example.com]\nspaces:\n  - displayName: a\n",
			[]string{`f.yaml:3:2: invalid YAML: did not find expected key`}},
		{"key: value: more", "spaces:\n  - displayName: Onboarding: Platform\n",
			[]string{`f.yaml:2:28: invalid YAML: mapping values are not allowed in this context`}},
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
		// yaml.v3 says line 2.
		{"} alone", "spaces:\n  - displayName: a\n    members: }\n",
			[]string{`f.yaml:3:14: invalid YAML: did not find expected node content`}},
		{"unknown escape", "spaces:\n  - displayName: \"a\\qb\"\n",
			[]string{`f.yaml:2:20: invalid YAML: found unknown escape character`}},
		{"alias without a name", "spaces:\n  - displayName: *\n",
			[]string{`f.yaml:2:18: invalid YAML: did not find expected alphabetic or numeric character`}},
		{"block scalar dedented", "spaces:\n  - displayName: a\n    description: |\n      line\n    more\n",
			[]string{`f.yaml:5:5: invalid YAML: could not find expected ':'`}},
		{"error in a second document", "spaces:\n  - displayName: a\n---\nspaces: [\n",
			[]string{`f.yaml:4:9: invalid YAML: did not find expected node content`}},
		// An anchor named "-" is valid: the error is further on.
		{"an anchor named -, then an error", "spaces:\n  - displayName: a\n    members:\n      &- a@example.com\n    description: x\n  - displayName: b: c\n",
			[]string{`f.yaml:6:19: invalid YAML: mapping values are not allowed in this context`}},
		// A tab in a quoted string is valid: the error is the dash
		// column past the end of the line: not believed either.
		{"a tab in a quoted string, then an error", "spaces:\n  - displayName: \"a\tb\"\n    description: x\n    members:\n      - a@example.com\n     - b@example.com\n",
			[]string{`f.yaml:6:6: invalid YAML: did not find expected key`}},
		// The parser reads YAML 1.1, where a '?' ends a plain scalar
		// in a flow collection.
		{"? in a flow list", "spaces:\n  - displayName: a\n    members: [groups/x?y=1]\n",
			[]string{`f.yaml:3:23: invalid YAML: did not find expected ',' or ']'`}},
		// A tab may not indent a comment either; here the scanner is
		// still reading the plain scalar "a".
		{"tab before a comment", "spaces:\n  - displayName: a\n\t# note\n",
			[]string{`f.yaml:3:1: invalid YAML: found a tab character that violates indentation`}},
		{"tab in a block scalar's indentation", "spaces:\n- displayName: a\n  description: |\n    x\n\ty\n",
			[]string{`f.yaml:5:1: invalid YAML: found a tab character where an indentation space is expected`}},
		// Valid YAML to the parser: where a token may start, '#' starts a
		// comment.
		{"comment right after a quoted value", "spaces:\n  - displayName: \"a\"# note\n", nil},
		{"alias to no anchor", "spaces:\n  - displayName: a\n    description: *intro\n",
			[]string{`f.yaml:3:18: invalid YAML: unknown anchor 'intro' referenced`}},
		{"bad block scalar header", "spaces:\n  - displayName: a\n    description: |x\n",
			[]string{`f.yaml:3:19: invalid YAML: did not find expected comment or line break`}},
		// A string left open at a key, where a list's entry belongs.
		{"unclosed quote at a key in a list", "spaces:\n  - displayName: a\n  \"description: x\n  - displayName: \"b\"\n",
			[]string{`f.yaml:3:3: invalid YAML: could not find expected ':'`}},
		// Where the lexer finds nothing that agrees with the parser, the
		// report has the parser's line alone.
		{"bad tag", "spaces:\n  - displayName: !<x y\n",
			[]string{`f.yaml:2: invalid YAML: did not find the expected '>'`}},
		{"unknown directive", "%FOO\n---\nspaces: []\n",
			[]string{`f.yaml:1: invalid YAML: found unknown directive name`}},
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

// TestSyntaxErrorDeepNesting checks that nesting too deep for any file a
// person writes is reported promptly, at its position.
func TestSyntaxErrorDeepNesting(t *testing.T) {
	t.Parallel()
	longKeys := strings.Repeat("{"+strings.Repeat("k", 5000)+": ", 14) + "[" + strings.Repeat("a, ", 20000)
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"deep flow nesting", strings.Repeat("[", 9000), `f.yaml:1:9000: invalid YAML: did not find expected node content`},
		{"deeper than the parser allows", strings.Repeat("{a: ", 20000), `f.yaml:1:40001: invalid YAML: exceeded max depth of 10000`},
		{"deep block nesting", strings.Repeat("- ", 9000) + "]", `f.yaml:1:18001: invalid YAML: did not find expected node content`},
		// The parser looks no further than 1,024 characters back for a
		// key: the first ':' follows no key.
		{"long keys", longKeys, `f.yaml:1:5002: invalid YAML: did not find expected ',' or '}'`},
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

// TestSyntaxErrorInLargeFile checks that an error near the end of a file of
// about 5 MB (37,500 spaces, 157,000 lines) is reported at its line and
// column, not at the line of the enclosing list (gopkg.in/yaml.v3 said
// line 1, or the line before) nor without a column.
func TestSyntaxErrorInLargeFile(t *testing.T) {
	t.Parallel()
	lines, _ := corpusBase(37_500)
	base := strings.Join(lines, "\n") + "\n"
	if len(base) < 5_000_000 {
		t.Fatalf("corpusBase(37500) is %d bytes, want about 5 MB", len(base))
	}
	n := len(lines)
	tests := []struct {
		name string
		tail string
		want string
	}{
		{"unclosed quote", "  - displayName: \"last\n",
			fmt.Sprintf(`f.yaml:%d:18: invalid YAML: found unexpected end of stream`, n+1)},
		{"unclosed [", "  - displayName: last\n    members: [a@example.com, b@example.com\n  - displayName: after\n",
			fmt.Sprintf(`f.yaml:%d:14: invalid YAML: did not find expected ',' or ']'`, n+2)},
		{"key indented less", "  - displayName: last\n   description: x\n  - displayName: after\n",
			fmt.Sprintf(`f.yaml:%d:4: invalid YAML: did not find expected '-' indicator`, n+2)},
		{"missing colon", "  - displayName: last\n    history off\n    description: x\n",
			fmt.Sprintf(`f.yaml:%d:5: invalid YAML: could not find expected ':'`, n+2)},
		{"stray dash", "  - displayName: last\n    members:\n      - a@example.com\n    - b@example.com\n",
			fmt.Sprintf(`f.yaml:%d:5: invalid YAML: did not find expected key`, n+4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := problems(t, base+tt.tail, Options{}); len(got) != 1 || got[0] != tt.want {
				t.Errorf("Parse(%d bytes, then %q) = %q, want %q", len(base), tt.tail, got, tt.want)
			}
		})
	}
}

// TestYAMLError checks how a parser error's message and line are read.
func TestYAMLError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  string
		msg  string
		line int
	}{
		{"yaml: line 12: did not find expected key", "did not find expected key", 12},
		{"yaml: found character that cannot start any token", "found character that cannot start any token", 0},
		{"yaml: unknown anchor 'a' referenced", "unknown anchor 'a' referenced", 0},
		{"yaml: line x: odd", "line x: odd", 0},
	}
	for _, tt := range tests {
		msg, line := yamlError(errors.New(tt.err))
		if msg != tt.msg || line != tt.line {
			t.Errorf("yamlError(%q) = %q, %d, want %q, %d", tt.err, msg, line, tt.msg, tt.line)
		}
	}
}
