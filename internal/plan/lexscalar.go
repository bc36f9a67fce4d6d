package plan

import "strings"

// Scalars (quoted, plain, block), anchors, tags and aliases, and the
// characters that start and end them, as the lexer reads them.

// quoted reads a quoted string's text from i, where q opened it (on this
// line or an earlier one), and returns the index after its closing quote,
// or false if it goes on past the line. It reports an escape that a
// double-quoted string does not allow.
func (l *lexer) quoted(text []byte, i int, q byte) (int, bool) {
	for ; i < len(text); i++ {
		switch ch := text[i]; {
		case q == '\'' && ch == '\'':
			if i+1 < len(text) && text[i+1] == '\'' {
				i++
				continue
			}
			return i + 1, true
		case q == '"' && ch == '"':
			return i + 1, true
		case q == '"' && ch == '\\':
			if i+1 == len(text) {
				return i + 1, false // the string goes on, without the line break
			}
			n, ok := escape(text[i+1:])
			if !ok {
				l.event(evEscape, l.start+i)
				return len(text), false
			}
			i += n
		}
	}
	return i, false
}

// escape checks the escape that starts s (after the backslash) and returns
// its length. The escapes are YAML's (5.7).
func escape(s []byte) (int, bool) {
	hex := 0
	switch s[0] {
	case '0', 'a', 'b', 't', '\t', 'n', 'v', 'f', 'r', 'e', ' ', '"', '/', '\\', 'N', '_', 'L', 'P':
		return 1, true
	case 'x':
		hex = 2
	case 'u':
		hex = 4
	case 'U':
		hex = 8
	default:
		return 0, false
	}
	for k := 1; k <= hex; k++ {
		if k >= len(s) || !isHex(s[k]) {
			return 0, false
		}
	}
	return hex, true
}

// property reads an anchor, a tag or an alias that starts at i and returns
// the index after it. An anchor's or alias's name is letters, digits, '-'
// and '_' (the parser's rule), ending at a blank or an indicator.
func (l *lexer) property(text []byte, i int) (int, bool) {
	j := i + 1
	if text[i] == '!' {
		for j < len(text) && !isBlank(text[j]) && !isFlowIndicator(text[j]) {
			j++
		}
		return j, true
	}
	for j < len(text) && isAnchorChar(text[j]) {
		j++
	}
	if j == i+1 || j < len(text) && !isBlank(text[j]) && !isAnyOf(text[j], "?:,]}%@`") {
		l.event(evAnchorName, l.start+i)
		return j, false
	}
	name := string(text[i+1 : j])
	if text[i] == '&' {
		l.anchors[name] = true
	} else {
		l.eventWith(event{kind: evAlias, off: l.start + i, at: l.line, name: name, known: l.anchors[name]})
	}
	return j, !l.done
}

// blockHeader reads the header of a block scalar ("|", ">-", "|2") at i; the
// lines after it are its content.
func (l *lexer) blockHeader(text []byte, i int) {
	j := i + 1
	indent := 0
	for ; j < len(text) && (text[j] == '-' || text[j] == '+' || text[j] >= '0' && text[j] <= '9'); j++ {
		if text[j] == '0' {
			l.event(evBlockHeader, l.start+j)
			return
		}
		if text[j] != '-' && text[j] != '+' {
			indent = int(text[j] - '0')
		}
	}
	if k := skipBlanks(text, j); k < len(text) && text[k] != '#' {
		l.event(evBlockHeader, l.start+k)
		return
	}
	l.inScalar, l.pending = true, pendNone
	l.scalarParent, l.scalarIndent = l.top().col, 0
	if indent > 0 {
		l.scalarIndent = max(l.top().col, 0) + indent
	}
}

// scalarLine reads a line of a block scalar's content and reports whether
// it was one.
func (l *lexer) scalarLine(text []byte) bool {
	n := 0
	for n < len(text) && text[n] == ' ' {
		n++
	}
	if l.scalarIndent == 0 && n < len(text) && text[n] != '\t' && n > l.scalarParent {
		l.scalarIndent = n
	}
	switch {
	case n == len(text):
		return true
	case l.scalarIndent > 0 && n >= l.scalarIndent:
		return true
	case text[n] == '\t' && (l.scalarIndent == 0 || n < l.scalarIndent):
		l.event(evTab, l.start+n)
		return true
	}
	l.inScalar = false
	return false
}

// plainEnd returns the index where a plain scalar that starts at i ends:
// its ':' followed by a blank, the blank before a comment, in a flow
// collection one of ",?[]{}" (the parser's rule, YAML 1.1's: a '?' ends a
// plain scalar there), or the end of the line.
func plainEnd(text []byte, i int, flow bool) int {
	for j := i; j < len(text); j++ {
		switch ch := text[j]; {
		case ch == ':' && blankAt(text, j+1):
			return j
		case ch == '#' && j > i && isBlank(text[j-1]):
			return j - 1
		case flow && (ch == '?' || isFlowIndicator(ch)):
			return j
		}
	}
	return len(text)
}

// isPlainStart reports whether a plain scalar may start at text[i]; in a
// flow collection, '?' and ':' are always indicators.
func isPlainStart(text []byte, i int, flow bool) bool {
	switch ch := text[i]; ch {
	case '-':
		return !blankAt(text, i+1)
	case '?', ':':
		return !flow && !blankAt(text, i+1)
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', ' ', '\t':
		return false
	}
	return true
}

// blockish reports whether the text at i reads as block content: a "- "
// or a plain key and its ':'.
func blockish(text []byte, i int) bool {
	if isIndicator(text, i, '-') {
		return true
	}
	j := plainEnd(text, i, false)
	return isPlainStart(text, i, false) && j < len(text) && text[j] == ':'
}

// isIndicator reports whether text[i] is the indicator ch followed by a
// blank or the end of the line.
func isIndicator(text []byte, i int, ch byte) bool {
	return i < len(text) && text[i] == ch && blankAt(text, i+1)
}

// docMarker reports whether a line starts with "---" or "..." followed by
// a blank or nothing.
func docMarker(text []byte) bool {
	return len(text) >= 3 && (string(text[:3]) == "---" || string(text[:3]) == "...") && blankAt(text, 3)
}

func blankAt(text []byte, i int) bool { return i >= len(text) || isBlank(text[i]) }

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func skipBlanks(text []byte, i int) int {
	for i < len(text) && isBlank(text[i]) {
		i++
	}
	return i
}

func isAnyOf(c byte, set string) bool { return strings.IndexByte(set, c) >= 0 }

func isAnchorChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
