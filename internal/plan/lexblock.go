package plan

import "bytes"

// Block collections (indented lists and mappings) and the tokens of a line
// in them, as the lexer reads them.

// blockLine places a line that starts at column c among the block
// collections, then reads its tokens.
func (l *lexer) blockLine(text []byte, c int) {
	dash := isIndicator(text, c, '-')
	if l.pending == pendPlain && c > l.pendCol {
		// The plain scalar goes on: its text is the scalar's, but a ':'
		// ends it, and a multi-line scalar cannot be a key.
		switch j := plainEnd(text, c, false); {
		case j == len(text):
		case text[j] == ':' && j == c:
			// At the start of a line, the scanner takes it for a
			// value with no key, which the parser refuses.
			l.flush()
			l.event(evJunk, l.start+j)
		case text[j] == ':':
			l.hasDeferred = false
			l.event(evColon, l.start+j)
		default:
			l.pending = pendNone // a comment ends it
			l.flush()
		}
		return
	}
	l.flush()
	if l.pending == pendValue && c > l.pendCol {
		l.tokens(text, c, c, false, false) // the value, on lines of its own
		return
	}
	for len(l.levels) > 1 && l.top().col > c {
		l.levels = l.levels[:len(l.levels)-1]
	}
	top := l.top()
	needKey, inSeq := false, false
	switch {
	case c > top.col:
		if isPlainStart(text, c, false) && plainEnd(text, c, false) == len(text) {
			l.deferPlain(evIndent, l.start+c)
			return
		}
		// The parser stops at the token here; the scanner reads it whole
		// first, and may break in it.
		l.event(evIndent, l.start+c)
		l.tokens(text, c, c, false, false)
		return
	case top.seq && !dash:
		// Where a "- " belongs: the scanner takes what is here for
		// a key, which needs its ':' on this line.
		needKey, inSeq = true, true
	case top.seq:
	case dash && (top.indentless || l.pending == pendValue && l.pendCol == c):
		top.indentless = true
	case dash:
		// The parser stops here; the scanner reads the line on.
		l.event(evDash, l.start+c)
		l.tokens(text, c, c, false, false)
		return
	default:
		top.indentless = false
		needKey = true
	}
	l.tokens(text, c, c, needKey, inSeq)
}

// tokens reads a line's tokens in block context from i, where a node
// begins. c is the line's indentation; needKey says the first node is
// where a key must be (the scanner requires its ':' on this line), and
// inSeq that it is in a list, where a key is a mistake.
func (l *lexer) tokens(text []byte, i, c int, needKey, inSeq bool) {
	keyPos := true // no key's ':' yet on this line
	// The line gives the value of a key on its own column: the parser
	// reads its first token as a value, not as the next key.
	valueDue := l.pending == pendValue && l.pendCol == c
	props := -1 // where the anchor or tag of the next node begins
	for !l.done {
		for i < len(text) && text[i] == ' ' {
			i++
		}
		if i == len(text) {
			return
		}
		start := i
		if props >= 0 {
			start = props // a key begins at its properties
		}
		switch ch := text[i]; {
		case ch == '#':
			// Where a token may start, the parser takes '#' for a
			// comment, with or without a blank before it.
			return
		case (ch == '-' || ch == '?') && blankAt(text, i+1):
			if (!keyPos || props >= 0) && ch == '-' {
				l.event(evDashInValue, l.start+i)
				return
			}
			if ch == '?' && inSeq {
				l.event(evKeyInSeq, l.start+c)
				return
			}
			if ch == '-' && i > l.top().col {
				l.push(i, true, l.start+i)
			}
			l.pending, l.pendCol = pendValue, i
			needKey = false
			i++
			if j := skipBlanks(text, i); j < len(text) && bytes.IndexByte(text[i:j], '\t') >= 0 {
				// A tab may not follow it: it indents what follows.
				l.event(evTab, l.start+i+bytes.IndexByte(text[i:j], '\t'))
				return
			}
			continue
		case (ch == '|' || ch == '>') && !needKey:
			l.blockHeader(text, i)
			return
		case ch == '"' || ch == '\'':
			j, closed := l.quoted(text, i+1, ch)
			if !closed {
				l.quote, l.quoteOff, l.quoteLine, l.pending = ch, l.start+i, l.line, pendNone
				if needKey {
					l.event(evKeyNoColon, l.start+start)
				}
				return
			}
			i = j
		case ch == '[' || ch == '{':
			l.flowIndent = c
			l.flow = append(l.flow, bracket{off: l.start + i, line: l.line, c: ch})
			l.flowAfter, l.flowPlain, l.flowValue = false, 0, false
			j := l.flowTokens(text, i+1)
			if len(l.flow) > 0 && needKey && !l.done {
				l.event(evKeyNoColon, l.start+start)
				return
			}
			if len(l.flow) > 0 || l.done {
				l.pending = pendNone
				return
			}
			i = j
		case ch == ']' || ch == '}' || ch == ',' || ch == ':' && blankAt(text, i+1) && keyPos:
			// A token of its own where a key or a value belongs. The
			// scanner reads on past it.
			if needKey && !valueDue || ch == ':' {
				l.event(evJunk, l.start+i)
			} else {
				l.event(evNodeContent, l.start+i)
			}
			keyPos, needKey = false, false
			i++
			continue
		case needKey && (ch == '|' || ch == '>'):
			l.event(evJunk, l.start+i)
			l.blockHeader(text, i)
			return
		case ch == '&' || ch == '!':
			j, ok := l.property(text, i)
			if !ok {
				return
			}
			props, i = start, j
			continue
		case ch == '*':
			j, ok := l.property(text, i)
			if !ok {
				return
			}
			i = j
		case ch == '@' || ch == '`' || ch == '%':
			l.event(evBadChar, l.start+i)
			return
		default:
			j := plainEnd(text, i, false)
			if j < len(text) && text[j] == ':' {
				if !keyPos || stale(i, j) && !needKey {
					l.event(evColon, l.start+j)
					return
				}
				if stale(i, j) {
					l.event(evKeyNoColon, l.start+start)
					return
				}
				if inSeq {
					l.event(evKeyInSeq, l.start+c)
					return
				}
				l.key(start)
				keyPos, needKey, props = false, false, -1
				i = j + 1
				continue
			}
			if needKey {
				l.event(evKeyNoColon, l.start+start)
				return
			}
			l.pending, l.pendCol = pendPlain, l.top().col
			if j < len(text) {
				l.pending = pendNone // a comment ends it
			}
			return
		}
		// A quoted scalar, a flow collection or an alias ended at i.
		switch l.afterNode(text, i, start, keyPos, needKey, inSeq) {
		case nodeKey:
			if inSeq {
				l.event(evKeyInSeq, l.start+c)
				return
			}
			keyPos, needKey, props = false, false, -1
			i = skipBlanks(text, i) + 1
			continue
		case nodeEnd:
			if needKey {
				l.event(evKeyNoColon, l.start+start)
			}
		}
		return
	}
}

// key notes a mapping key at column col: the first key of a mapping opens it.
func (l *lexer) key(col int) {
	if col > l.top().col {
		l.push(col, false, l.start+col)
	} else {
		l.top().indentless = false
	}
	l.pending, l.pendCol = pendValue, col
}

// What afterNode found after a node.
const (
	nodeEnd = iota // the end of the line, or a comment
	nodeKey        // a key's ':', its value next
	nodeBad        // a mistake, reported
)

// afterNode reads what follows a complete node that ended at i in block
// context: the ':' that makes it a key (start is where it began, or -1 for
// a string from an earlier line; keyPos says a key may be here, required
// that one must be, and inSeq that it would be one in a list), a comment,
// or the end of the line.
func (l *lexer) afterNode(text []byte, i, start int, keyPos, required, inSeq bool) int {
	j := skipBlanks(text, i)
	switch {
	case j == len(text) || text[j] == '#':
		l.pending = pendNone
		return nodeEnd
	case text[j] == ':' && blankAt(text, j+1):
		if !keyPos || start < 0 || stale(start, j) {
			// A second ':' on the line, or a key over several lines.
			l.event(evColon, l.start+j)
			return nodeBad
		}
		l.key(start)
		return nodeKey
	}
	// Text where a key or the end of the line belongs. The scanner reads a
	// plain scalar first and stops at its ':', if it has one; a quoted
	// one it reads to its end.
	switch q := text[j]; q {
	case '"', '\'':
		if _, closed := l.quoted(text, j+1, q); !closed && !l.done {
			l.quote, l.quoteOff, l.quoteLine = q, l.start+j, l.line
			l.deferEvent(evJunk, l.start+j)
			return nodeBad
		}
	case '|', '>':
		l.event(evJunk, l.start+j)
		l.blockHeader(text, j)
		return nodeBad
	case '@', '`', '%':
		l.event(evBadChar, l.start+j)
		return nodeBad
	case '-':
		if blankAt(text, j+1) {
			l.event(evDashInValue, l.start+j)
			return nodeBad
		}
	case '&', '*', '!':
		if _, ok := l.property(text, j); !ok {
			return nodeBad
		}
	}
	if isPlainStart(text, j, false) {
		switch k := plainEnd(text, j, false); {
		case k < len(text) && text[k] == ':' && keyPos && start >= 0:
			// The ':' makes the node a key, followed by the text.
			if inSeq {
				l.event(evKeyInSeq, l.start+start)
				return nodeBad
			}
		case k < len(text) && text[k] == ':':
			l.event(evColon, l.start+k)
			return nodeBad
		case required:
			// The key's ':' never comes.
			l.event(evKeyNoColon, l.start+start)
			return nodeBad
		case k == len(text):
			l.deferPlain(evJunk, l.start+j)
			return nodeBad
		}
	}
	l.event(evJunk, l.start+j)
	return nodeBad
}
