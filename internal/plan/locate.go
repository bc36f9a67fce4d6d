package plan

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"
)

// locate returns the line and column (1-based, in runes) a person would
// point at for a YAML syntax error: where the parser stopped (e.Mark), or
// where the construct it was reading began (e.ContextMark) when stopping
// there says nothing useful, such as the end of the file. Both marks are
// exact, whatever the size of the file. It returns 0, 0 when the error has
// no position. The messages matched are libyaml's, unchanged for many
// years; were one to change, its error would be reported at e.Mark, still
// where the parser stopped, and TestSyntaxErrorCorpus would say so.
func locate(data []byte, e *yaml.LoadError) (line, col int) {
	at, ctx := e.Mark, e.ContextMark
	if at.Line < 1 {
		return 0, 0
	}
	line, col = at.Line, max(at.Column, 1)
	hasCtx := ctx.Line >= 1 && ctx.Column >= 1
	switch {
	case hasCtx && strings.HasPrefix(e.ContextMsg, "while scanning a quoted scalar") &&
		(strings.Contains(e.Message, "end of stream") || strings.Contains(e.Message, "document indicator")):
		// An unclosed quote: the quote that opened the string.
		return ctx.Line, ctx.Column
	case hasCtx && e.ContextMsg == "while scanning a simple key":
		// "could not find expected ':'": the key that needs it.
		return ctx.Line, ctx.Column
	case hasCtx && (e.ContextMsg == "while parsing a flow sequence" || e.ContextMsg == "while parsing a flow mapping"):
		// The parser stops where the collection could no longer go on. The
		// content of a flow collection must be indented more than the line
		// it opens on: stopped on a later line that starts at or left of
		// that indentation, or at the end of the file, the bracket was
		// never closed ("members: [a, b" over "- displayName: c").
		if line > ctx.Line && (indentOf(data, line) <= indentOf(data, ctx.Line) || atEnd(data, line, col)) {
			return ctx.Line, ctx.Column
		}
	case e.Message == "mapping values are not allowed in this context" && !hasCtx:
		return colonAt(data, line, col)
	case e.Message == "found character that cannot start any token" && line > 1:
		// A "|" or ">" cannot start a token inside a flow collection:
		// one was left open above ("- {displayName: a" over
		// "description: |").
		if l, c, ok := unclosedAbove(data, line); ok {
			return l, c
		}
	}
	if atEnd(data, line, col) {
		// Nothing to point at past the end: the last thing written.
		if l, c, ok := lastWritten(data); ok {
			return l, c
		}
	}
	return line, col
}

// runawayQuote finds the quote that opened a double-quoted string which
// ends on line, before col, where the parser stopped, when that string began
// on an earlier line. A double-quoted string may span lines, so one left
// open runs on to the next quote in the file and YAML breaks only there, on
// a line with nothing wrong; the quote left open is the mistake. The
// string ends on line when an odd number of quotes stand before col; it
// began on the nearest line above with an odd number, at that line's last
// quote. Lines are read from the text alone: comments and single-quoted
// strings holding a '"' can mislead it, so the message names both lines.
func runawayQuote(data []byte, line, col int) (l, c int, ok bool) {
	text, found := lineText(data, line)
	if !found || line < 2 {
		return 0, 0, false
	}
	runes := []rune(string(text))
	if n, _ := quotes(string(runes[:min(max(col-1, 0), len(runes))])); n%2 == 0 {
		return 0, 0, false
	}
	// One pass over the lines above: the last with an odd count is the
	// nearest.
	end, _ := lineStart(data, line)
	n, from := 1, 0
	for i := 0; i < end; {
		b := lineBreak(data, i)
		if b == 0 {
			i++
			continue
		}
		if q, last := quotes(string(data[from:i])); q%2 == 1 {
			l, c, ok = n, last, true
		}
		n, from = n+1, i+b
		i += b
	}
	return l, c, ok
}

// quotes counts the double quotes in s not escaped by a backslash, and
// returns the column (1-based, in runes) of the last.
func quotes(s string) (n, last int) {
	escaped := false
	col := 0
	for _, r := range s {
		col++
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			n++
			last = col
		}
	}
	return n, last
}

// unclosedAbove parses the lines of data before line again and returns the
// bracket of the flow collection left open at their end, if there is one.
// The parser stops at the first error, so this costs one more parse of part
// of the file, on this error only.
func unclosedAbove(data []byte, line int) (l, c int, ok bool) {
	start, found := lineStart(data, line)
	if !found {
		return 0, 0, false
	}
	defer func() {
		if recover() != nil {
			l, c, ok = 0, 0, false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data[:start]))
	var doc yaml.Node
	err := dec.Decode(&doc)
	for err == nil {
		err = dec.Decode(&doc)
	}
	var e *yaml.LoadError
	if !errors.As(err, &e) || e.ContextMark.Line < 1 ||
		e.ContextMsg != "while parsing a flow sequence" && e.ContextMsg != "while parsing a flow mapping" {
		return 0, 0, false
	}
	return e.ContextMark.Line, e.ContextMark.Column, true
}

// colonAt places a "mapping values are not allowed" error at (line, col),
// the colon. When only indentation and a plain scalar stand before the colon
// on its line, that scalar began on an earlier line: a key missing its
// colon the line before ("history on" over "members: [a]"), which is the
// mistake to point at, or a value running on into a key indented too far
// ("displayName: a" over "    description: x"), where the key is.
func colonAt(data []byte, line, col int) (int, int) {
	text, _ := lineText(data, line)
	runes := []rune(string(text))
	if col-1 > len(runes) {
		return line, col
	}
	before := string(runes[:col-1])
	word := strings.TrimLeft(before, " ")
	if word == "" || strings.ContainsAny(word, ":#-[]{},\"'&*!|>") {
		return line, col
	}
	keyCol := utf8.RuneCountInString(before) - utf8.RuneCountInString(word) + 1
	if line > 1 {
		prev, _ := lineText(data, line-1)
		rest := strings.TrimLeft(string(prev), " -")
		if rest != "" && !strings.HasPrefix(rest, "#") && !strings.Contains(rest, ": ") && !strings.HasSuffix(rest, ":") {
			return line - 1, utf8.RuneCountInString(string(prev)) - utf8.RuneCountInString(rest) + 1
		}
	}
	return line, keyCol
}

// indentOf returns the number of spaces that start line n.
func indentOf(data []byte, n int) int {
	text, _ := lineText(data, n)
	return len(text) - len(bytes.TrimLeft(text, " "))
}

// atEnd reports whether (line, col) is at or past the last character of
// data that is not white space.
func atEnd(data []byte, line, col int) bool {
	l, c, ok := lastWritten(data)
	return !ok || line > l || line == l && col > c
}

// lastWritten returns the position of the last character of data that is
// not white space.
func lastWritten(data []byte) (line, col int, ok bool) {
	trimmed := bytes.TrimRight(data, " \t\r\n")
	if len(trimmed) == 0 {
		return 0, 0, false
	}
	_, size := utf8.DecodeLastRune(trimmed)
	line, col = position(data, len(trimmed)-size)
	return line, col, true
}

// lineText returns the 1-based line n of data, without its line break
// (lines as YAML counts them, see lineBreak).
func lineText(data []byte, n int) (text []byte, found bool) {
	start, found := lineStart(data, n)
	if !found {
		return nil, false
	}
	for i := start; i < len(data); i++ {
		if lineBreak(data, i) > 0 {
			return data[start:i], true
		}
	}
	return data[start:], true
}

// lineStart returns the offset in data at which the 1-based line n starts.
func lineStart(data []byte, n int) (start int, found bool) {
	line := 1
	for i := 0; line < n; {
		if i >= len(data) {
			return 0, false
		}
		if b := lineBreak(data, i); b > 0 {
			line++
			i += b
			start = i
			continue
		}
		i++
	}
	return start, n >= 1
}
