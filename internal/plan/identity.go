package plan

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Key is a space's identity: the form under which two names, keys or
// display names, are the same space. It is made only by KeyOf and
// compared only as a Key, never as the text a person wrote, the way a
// resource address is compared rather than its rendering.
//
// What is sourced and what is assumed: display names are unique within
// the Workspace organization (DD, spaces.create: "an existing space within
// the Google Workspace organization might already use this display
// name"). That the server ignores case (API-FACTS: uncertain), surrounding
// white space, and the difference between Unicode's composed and
// decomposed forms (NFC: "é" as one code point or as "e" and a combining
// accent, as macOS editors save it) is assumed, not documented. The
// assumption errs toward "the same space": taken for one, two names are
// at worst a config error to resolve by hand; taken for two, one space is
// planned for creation and its twin for deletion.
type Key struct{ s string }

// KeyOf is the identity of a name: trimmed of white space, in NFC, case
// folded (Unicode full case folding, so "STRASSE" and "straße" are one),
// and in NFC again (folding may decompose).
func KeyOf(name string) Key {
	name = strings.TrimSpace(name)
	if ascii(name) {
		// The common case, without the allocations of the general one.
		return Key{strings.ToLower(name)}
	}
	return Key{norm.NFC.String(cases.Fold().String(norm.NFC.String(name)))}
}

// String is the normalised form, for messages and map keys outside this
// package (welcome message IDs hash it).
func (k Key) String() string { return k.s }

// Text is a name as it is sent to the API and written in the results
// file: the config's text, trimmed of white space and in NFC, so that a
// file saved in either form creates and records the same name.
func Text(name string) string {
	name = strings.TrimSpace(name)
	if ascii(name) {
		return name
	}
	return norm.NFC.String(name)
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
