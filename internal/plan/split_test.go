package plan

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// splitCases are configs on the edges of what a spaces list read a batch at
// a time may be: each must read as the whole file does. split says whether
// the list is read in batches (false: the file is read whole).
var splitCases = []struct {
	name, data string
	split      bool
}{
	{"block", "defaults:\n  history: on\nspaces:\n  - displayName: a\n    description: x\n  - displayName: b\n", true},
	{"list at the key's indentation", "spaces:\n- displayName: a\n-   displayName: b\ndefaults:\n  history: off\n", true},
	{"comments and blank lines", "spaces: # the list\n\n# first\n  - displayName: a\n# between, at column 1\n\n  - displayName: b # two\n    # inside\n", true},
	{"CRLF and BOM", "\uFEFFspaces:\r\n  - displayName: a\r\n  -\r\n    displayName: b\r\n", true},
	{"keys after the list", "spaces:\n  - displayName: a\ndefaults:\n  description: d\ninclude:\n", true},
	{"include", "include: [a.csv]\nspaces:\n  - displayName: a\n", true},
	{"block scalars", "spaces:\n  - displayName: a\n    description: |\n      - not an item\n\n      # nor this\n    guidelines: >-\n      x\n  - displayName: b\n", true},
	{"problems in items", "spaces:\n  - displayName: a\n    members: [bad]\n  - displayName: A\n  - nope\n  - displayName: b\n    history: maybe\n", true},
	{"problems in defaults after the list", "spaces:\n  - displayName: a\ndefaults:\n  colour: red\n", true},
	{"duplicate spaces key", "spaces:\n  - displayName: a\nspaces:\n  - displayName: b\n", true},
	{"item not a mapping", "spaces:\n  - a\n  - [b]\n", true},

	{"quoted string across an item's dash", "spaces:\n  - displayName: \"a\n  - b\"\n", false},
	{"flow list", "spaces: [{displayName: a}]\n", false},
	{"flow mapping across lines", "spaces:\n  - {displayName: a,\n  - b: c}\n", false},
	{"anchor in an item", "spaces:\n  - &s\n    displayName: a\n  - displayName: b\n    members: *s\n", false},
	{"alias to the defaults", "defaults: &d\n  history: on\nspaces:\n  - displayName: a\n    history: *d\n", false},
	{"anchored list", "spaces: &all\n  - displayName: a\n", false},
	{"key in a quoted string", "defaults:\n  description: \"x\nspaces:\n  - displayName: a\n  \"\n", false},
	{"key in a quoted string, with include", "include: [a.csv]\ndefaults:\n  description: \"x\nspaces:\n  - displayName: a\n  \"\n", false},
	{"include and a syntax error in an item", "include: [a.csv]\nspaces:\n  - displayName: a\n    description: [x\n", false},
	{"lone CR", "spaces:\r  - displayName: a\r", false},
	{"line separator", "spaces:\n  - displayName: \"a\u2028b\"\n", false},
	{"misindented line after the list", "spaces:\n  - displayName: a\n description: b\n", false},
	{"tag alone after the list", "spaces:\n  - displayName: a\n  !\n", false},
	{"tag alone after an empty item", "spaces:\n  - #> \n  ! #-+", false},
	{"second document", "spaces:\n- displayName: a\n---\nspaces:\n- displayName: b\n", false},
	{"syntax error in an item", "spaces:\n  - displayName: a\n    description: [x\n  - displayName: b\n", false},
	{"tag directive", "%TAG !e! tag:example.com,2000:\n---\nspaces:\n  - displayName: !e!x a\n", false},
	{"secondary tag handle redefined", "%TAG !! tag:example.com,2000:\n---\nspaces:\n  - displayName: a\n    history: !!str on\n", false},
	{"version directive", "%YAML 1.1\n---\nspaces:\n  - displayName: a\n", false},
	{"tab-indented item", "spaces:\n\t- displayName: a\n", false},
	{"nested at the parser's depth limit", "spaces:\n  - displayName: a\n  - " + strings.Repeat("- ", 9999) + "a\n", false},
	{"key without a value at the end of a batch", "spaces:\n  - displayName: a\n    #" + strings.Repeat("x", batchBytes-31) + "\n  - ? displayName\n  - displayName: b\n", false},
	{"no list", "defaults:\n  history: on\n", false},
}

// parseBothWays parses data as Parse does and with the list read whole,
// and fails the test unless both read the same: the same spaces, or the
// same problems at the same positions, from the same files included as
// often.
func parseBothWays(t *testing.T, data []byte) (split bool) {
	t.Helper()
	reads := 0
	include := func(string) ([]byte, error) {
		reads++
		return []byte("displayName\nincluded\n"), nil
	}
	for _, opts := range []Options{{}, {App: true, Include: include}} {
		reads = 0
		a := readYAML("f.yaml", data, opts, true)
		inBatches := reads
		reads = 0
		b := readYAML("f.yaml", data, opts, false)
		if inBatches != reads {
			t.Fatalf("%q: %d files included in batches, %d read whole", data, inBatches, reads)
		}
		a.problems.sort("f.yaml")
		b.problems.sort("f.yaml")
		if fmt.Sprint(a.problems.unique()) != fmt.Sprint(b.problems.unique()) {
			t.Fatalf("%q:\nproblems read in batches:\n%v\nread whole:\n%v", data, a.problems.unique(), b.problems.unique())
		}
		if len(a.problems) == 0 && !reflect.DeepEqual(a.spaces, b.spaces) {
			t.Fatalf("%q:\nspaces read in batches:\n%+v\nread whole:\n%+v", data, a.spaces, b.spaces)
		}
		split = a.listRead
	}
	return split
}

func TestParseSplitReadsAsWhole(t *testing.T) {
	t.Parallel()
	for _, c := range splitCases {
		if got := parseBothWays(t, []byte(c.data)); got != c.split {
			t.Errorf("%s: read in batches = %v, want %v", c.name, got, c.split)
		}
	}
}

// TestParseSplitBatches reads a list longer than a batch, with problems in
// several batches: positions are the file's, and names are claimed across
// batches.
func TestParseSplitBatches(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("# many\nspaces:\n")
	n := 3 * batchBytes / 40
	for i := range n {
		fmt.Fprintf(&b, "  - displayName: \"Space %06d\"\n", i%(n-7))
		if i%997 == 0 {
			b.WriteString("    history: sometimes\n")
		}
	}
	data := []byte(b.String())
	if !parseBothWays(t, data) {
		t.Fatal("a long block list was read whole, want in batches")
	}
	_, err := Parse("f.yaml", data, Options{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("f.yaml:%d:18: displayName \"Space 000000\" is already used by the space at line 3", 3+n-7+(n-7)/997+1)) {
		t.Fatalf("Parse = %v, want the duplicate name at its line in the last batch", err)
	}
}

// TestParseSplitCorpus: every mistake of the syntax-error corpus reads the
// same in batches as whole.
func TestParseSplitCorpus(t *testing.T) {
	t.Parallel()
	for _, c := range corpusCases([]int{20}, 2) {
		parseBothWays(t, []byte(c.data))
	}
}

// FuzzParseSplit checks that reading the spaces list a batch at a time
// never reads a file otherwise than reading it whole.
func FuzzParseSplit(f *testing.F) {
	for _, c := range splitCases {
		f.Add([]byte(c.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		parseBothWays(t, data)
	})
}
