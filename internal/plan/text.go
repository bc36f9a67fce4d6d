package plan

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The text of a config: the file's encoding and bytes, before YAML is read,
// and the characters a display name may hold.

// encoding names the encoding of a file that is UTF-16 or UTF-32 rather
// than UTF-8, or returns "". A byte order mark says so; without one, YAML's
// own rule applies (YAML 1.2, 5.2): a file starts with an ASCII character,
// so its first bytes hold zeros where a wider encoding pads it. A UTF-8
// byte order mark is UTF-8.
func encoding(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0x00, 0x00, 0xFE, 0xFF}), bytes.HasPrefix(data, []byte{0xFF, 0xFE, 0x00, 0x00}):
		return "UTF-32"
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}), bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return "UTF-16"
	case len(data) >= 4 && data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] != 0,
		len(data) >= 4 && data[0] != 0 && data[1] == 0 && data[2] == 0 && data[3] == 0:
		return "UTF-32"
	case asciiUTF16(data, 0) || asciiUTF16(data, 1):
		return "UTF-16"
	}
	return ""
}

// asciiUTF16 reports whether the first characters of data are ASCII written in
// UTF-16: a zero byte at each position of parity zero, and none at the
// other.
func asciiUTF16(data []byte, zero int) bool {
	n := min(len(data), 16) &^ 1
	if n == 0 {
		return false
	}
	for i := range n {
		if (data[i] == 0) != (i%2 == zero) {
			return false
		}
	}
	return true
}

// scanText reports a file that is not UTF-8, and the bytes the YAML parser
// refuses without a line: invalid UTF-8 and control characters. It returns
// whether it found any.
func (p *parser) scanText(data []byte) bool {
	if enc := encoding(data); enc != "" {
		p.addAt(1, 1, "the file is %s; save it as UTF-8", enc)
		return true
	}
	line, col := 1, 1
	for i := 0; i < len(data); {
		if c := data[i]; c >= 0x20 && c < 0x7f {
			// Printable ASCII, most of any config: no decoding.
			col++
			i++
			continue
		}
		if n := lineBreak(data, i); n > 0 {
			line, col = line+1, 1
			i += n
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			p.addAt(line, col, "the file is not valid UTF-8 (byte %#02x)", data[i])
			return true
		case !yamlPrintable(r) && !(r == '\uFEFF' && i == 0):
			p.addAt(line, col, "control character %U is not allowed in YAML", r)
			return true
		}
		col++
		i += size
	}
	return false
}

// yamlPrintable is YAML 1.2's c-printable.
func yamlPrintable(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r':
		return true
	case r < 0x20, r == 0x7f:
		return false
	case r >= 0x80 && r <= 0x9f:
		return r == 0x85
	case r >= 0xd800 && r <= 0xdfff, r == 0xfffe, r == 0xffff:
		return false
	}
	return true
}

// position converts a byte offset to a 1-based line and column (in runes),
// counting lines as YAML does (see lineBreak).
func position(data []byte, off int) (line, col int) {
	line, start := 1, 0
	for i := 0; i < off; {
		if n := lineBreak(data, i); n > 0 {
			line, start = line+1, i+n
			i += n
			continue
		}
		i++
	}
	return line, utf8.RuneCount(data[min(start, off):off]) + 1
}

// lineBreak returns the length in bytes of the line break at data[i], or 0.
// YAML's breaks are CRLF, CR and LF, and, in the YAML 1.1 the parser reads,
// NEL, LS and PS: its lines, and the positions of the nodes it reads, count
// each of them.
func lineBreak(data []byte, i int) int {
	switch c := data[i]; {
	case c == '\n':
		return 1
	case c == '\r':
		if i+1 < len(data) && data[i+1] == '\n' {
			return 2
		}
		return 1
	case c == 0xC2 && i+1 < len(data) && data[i+1] == 0x85:
		return 2
	case c == 0xE2 && i+2 < len(data) && data[i+1] == 0x80 && (data[i+2] == 0xA8 || data[i+2] == 0xA9):
		return 3
	}
	return 0
}

// nameProblem says what makes a display name (already trimmed of white
// space) unfit to send, or returns "". The Chat UI shows a name on one line:
// a control character (NUL, BEL, ESC, a tab) or a line break would reach
// the API as they are, where YAML escapes ("\a", "\e", "\n") or a block
// scalar put them; a name of only invisible characters (zero-width spaces,
// format characters, fillers) would show as a blank space.
func nameProblem(name string) string {
	visible := false
	for _, r := range name {
		switch {
		case r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			return fmt.Sprintf("contains a line break (%U): a name is one line", r)
		case unicode.IsControl(r):
			return fmt.Sprintf("contains control character %U%s: a name is printable text", r, controlName(r))
		case !invisible(r):
			visible = true
		}
	}
	if !visible {
		return fmt.Sprintf("has only invisible characters (%s): a name must show", runeList(name))
	}
	return ""
}

// controlName is the usual name of the control characters met in files,
// in parentheses, or "".
func controlName(r rune) string {
	switch r {
	case 0:
		return " (NUL)"
	case 7:
		return " (BEL)"
	case 8:
		return " (backspace)"
	case '\t':
		return " (tab)"
	case 0x1b:
		return " (ESC)"
	case 0x7f:
		return " (DEL)"
	}
	return ""
}

// invisible reports whether r shows nothing on its own: white space,
// format characters (zero-width spaces and joiners, bidirectional marks,
// the byte order mark), default-ignorable code points (Hangul fillers,
// variation selectors) and the blank Braille pattern.
func invisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) ||
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
		unicode.Is(unicode.Variation_Selector, r) || r == '\u2800'
}

// runeList names the distinct characters of s as code points, at most four.
func runeList(s string) string {
	var names []string
	for _, r := range s {
		n := fmt.Sprintf("%U", r)
		if !contains(names, n) {
			if len(names) == 4 {
				return strings.Join(names, " ") + " …"
			}
			names = append(names, n)
		}
	}
	return strings.Join(names, " ")
}
