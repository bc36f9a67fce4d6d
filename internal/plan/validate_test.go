package plan

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"
)

// TestParseHostileValues checks values that pass for members or names but
// would make the API refuse a whole space, or reach it as they are: each is
// refused before any call, at its position, naming what is wrong.
func TestParseHostileValues(t *testing.T) {
	t.Parallel()
	const idRule = `may hold only letters, digits, "-", "_" and ".", not `
	tests := []struct {
		name string
		yaml string
		opts Options
		want []string
	}{
		// Member IDs: a URL's escapes, fragment and query, path steps,
		// the app's own alias.
		{"escaped dots", one("displayName: a", "members: [users/%2e%2e]"), Options{},
			[]string{`f.yaml:3:15: member "users/%2e%2e" is not a valid resource name: the ID after users/ ` + idRule + `"%"`}},
		{"fragment", one("displayName: a", "members: [users/123#frag]"), Options{},
			[]string{`f.yaml:3:15: member "users/123#frag" is not a valid resource name: the ID after users/ ` + idRule + `"#"`}},
		// Quoted: in a flow list a '?' would end a plain scalar (YAML 1.1).
		{"query", one("displayName: a", `members: ["groups/x?y=1"]`), Options{},
			[]string{`f.yaml:3:15: member "groups/x?y=1" is not a valid resource name: the ID after groups/ ` + idRule + `"?"`}},
		{"parent step", one("displayName: a", "members: [users/..]"), Options{},
			[]string{`f.yaml:3:15: member "users/.." is not a valid resource name: the ID after users/ cannot be ".."`}},
		{"current step", one("displayName: a", "members: [groups/.]"), Options{},
			[]string{`f.yaml:3:15: member "groups/." is not a valid resource name: the ID after groups/ cannot be "."`}},
		{"the app itself", one("displayName: a", "members: [users/app]"), Options{},
			[]string{`f.yaml:3:15: member "users/app" is the calling Chat app, not a person: list people by email or users/ID`}},
		{"the app itself as owner, other case", one("displayName: a", "owners: [users/App]"), Options{App: true},
			[]string{`f.yaml:3:14: owner "users/App" is the calling Chat app, not a person: list people by email or users/ID`}},
		{"a space in an ID", one("displayName: a", "managers: ['users/1 2']"), Options{},
			[]string{`f.yaml:3:16: manager "users/1 2" is not a valid resource name: the ID after users/ ` + idRule + `a space`}},
		{"a letter outside ASCII", one("displayName: a", "members: [groups/ünï]"), Options{},
			[]string{`f.yaml:3:15: member "groups/ünï" is not a valid resource name: the ID after groups/ ` + idRule + `"ü"`}},
		{"a zero-width space in an ID", one("displayName: a", `members: ["users/12\u200b3"]`), Options{},
			[]string{`f.yaml:3:15: member "users/12\u200b3" is not a valid resource name: the ID after users/ ` + idRule + `U+200B`}},
		{"a control character in an ID", one("displayName: a", `members: ["groups/a\x07"]`), Options{},
			[]string{`f.yaml:3:15: member "groups/a\a" is not a valid resource name: the ID after groups/ ` + idRule + `U+0007`}},
		{"audience with a query", one("displayName: a", "audience: audiences/x?y=1"), Options{},
			[]string{`f.yaml:3:15: audience must be "default" or "audiences/ID", not "audiences/x?y=1"`}},
		{"audience with a parent step", one("displayName: a", "audience: audiences/.."), Options{},
			[]string{`f.yaml:3:15: audience must be "default" or "audiences/ID", not "audiences/.."`}},

		// Display names: control characters by YAML escape, line
		// breaks by escape or block scalar, only invisible characters.
		{"NUL", one(`displayName: "a\0b"`), Options{},
			[]string{`f.yaml:2:18: displayName "a\x00b" contains control character U+0000 (NUL): a name is printable text`}},
		{"BEL", one(`displayName: "Team\a"`), Options{},
			[]string{`f.yaml:2:18: displayName "Team\a" contains control character U+0007 (BEL): a name is printable text`}},
		{"ESC", one(`displayName: "\e[31mRed"`), Options{},
			[]string{`f.yaml:2:18: displayName "\x1b[31mRed" contains control character U+001B (ESC): a name is printable text`}},
		{"tab", one(`displayName: "a\tb"`), Options{},
			[]string{`f.yaml:2:18: displayName "a\tb" contains control character U+0009 (tab): a name is printable text`}},
		{"DEL", one(`displayName: "a\x7f"`), Options{},
			[]string{`f.yaml:2:18: displayName "a\x7f" contains control character U+007F (DEL): a name is printable text`}},
		{"C1 control", one(`displayName: "a\x9b"`), Options{},
			[]string{`f.yaml:2:18: displayName "a\u009b" contains control character U+009B: a name is printable text`}},
		{"newline escaped", one(`displayName: "Team\nPlatform"`), Options{},
			[]string{`f.yaml:2:18: displayName "Team\nPlatform" contains a line break (U+000A): a name is one line`}},
		{"newline in a block scalar", one("displayName: |", "  Team", "  Platform"), Options{},
			[]string{`f.yaml:2:18: displayName "Team\nPlatform" contains a line break (U+000A): a name is one line`}},
		{"line separator", one(`displayName: "Team\LPlatform"`), Options{},
			[]string{`f.yaml:2:18: displayName "Team\u2028Platform" contains a line break (U+2028): a name is one line`}},
		{"only zero-width spaces", one(`displayName: "\u200b\u200b"`), Options{},
			[]string{`f.yaml:2:18: displayName "\u200b\u200b" has only invisible characters (U+200B): a name must show`}},
		{"only invisible characters, mixed with spaces", one(`displayName: " \u2060\u00ad\u3164\ufeff\u200d "`), Options{},
			[]string{`f.yaml:2:18: displayName "\u2060\u00ad` + "\u3164" + `\ufeff\u200d" has only invisible characters (U+2060 U+00AD U+3164 U+FEFF …): a name must show`}},
		{"a Braille blank", one(`displayName: "\u2800"`), Options{},
			[]string{"f.yaml:2:18: displayName \"\u2800\" has only invisible characters (U+2800): a name must show"}},
		{"visible text with a zero-width joiner is fine", one(`displayName: "👩\u200d💻 Engineers"`), Options{}, nil},
		{"names in other scripts are fine", one("displayName: Équipe 日本 🚀"), Options{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := problems(t, tt.yaml, tt.opts); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) problems:\n%s\nwant:\n%s", tt.yaml, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// encode writes s in UTF-16 or UTF-32 (width 2 or 4), in either byte order,
// with or without a byte order mark.
func encode(s string, width int, order binary.AppendByteOrder, bom bool) []byte {
	if bom {
		s = "\uFEFF" + s
	}
	var out []byte
	if width == 4 {
		for _, r := range s {
			out = order.AppendUint32(out, uint32(r))
		}
		return out
	}
	for _, u := range utf16.Encode([]rune(s)) {
		out = order.AppendUint16(out, u)
	}
	return out
}

// TestParseEncoding checks that a file saved as UTF-16 or UTF-32, as some
// editors do on Windows, is named as such instead of failing as YAML.
func TestParseEncoding(t *testing.T) {
	t.Parallel()
	const src = "spaces:\n  - displayName: Équipe\n"
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"UTF-16 little-endian with BOM", encode(src, 2, binary.LittleEndian, true), []string{`f.yaml:1:1: the file is UTF-16; save it as UTF-8`}},
		{"UTF-16 big-endian with BOM", encode(src, 2, binary.BigEndian, true), []string{`f.yaml:1:1: the file is UTF-16; save it as UTF-8`}},
		{"UTF-16 little-endian without BOM", encode(src, 2, binary.LittleEndian, false), []string{`f.yaml:1:1: the file is UTF-16; save it as UTF-8`}},
		{"UTF-16 big-endian without BOM", encode(src, 2, binary.BigEndian, false), []string{`f.yaml:1:1: the file is UTF-16; save it as UTF-8`}},
		{"UTF-32 little-endian with BOM", encode(src, 4, binary.LittleEndian, true), []string{`f.yaml:1:1: the file is UTF-32; save it as UTF-8`}},
		{"UTF-32 big-endian without BOM", encode(src, 4, binary.BigEndian, false), []string{`f.yaml:1:1: the file is UTF-32; save it as UTF-8`}},
		{"UTF-8 with BOM", []byte("\uFEFF" + src), nil},
		// A stray NUL in a UTF-8 file is not UTF-16.
		{"NUL in UTF-8", []byte("spaces:\n  - displayName: a\x00\n"), []string{`f.yaml:2:19: control character U+0000 is not allowed in YAML`}},
		{"NUL first in UTF-8", []byte("\x00spaces:\n"), []string{`f.yaml:1:1: control character U+0000 is not allowed in YAML`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := problems(t, string(tt.data), Options{}); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %q, want %q", tt.data, got, tt.want)
			}
		})
	}
}
