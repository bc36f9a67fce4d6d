package plan

// Flow collections ("[a, b]", "{k: v}") as the lexer reads them.

// flowLine reads a line inside a flow collection that opened on an earlier
// line, from its indentation i.
func (l *lexer) flowLine(text []byte, i int) {
	l.flowEntry = !l.flowAfter && !l.flowValue
	j := skipBlanks(text, i)
	if j == len(text) || text[j] == '#' {
		return
	}
	if j <= l.flowIndent && blockish(text, j) || i == 0 && docMarker(text) {
		// A flow collection's content is indented more than the line it
		// opens on: a line that is not, and reads as a list's entry or a
		// key, was written after a collection whose bracket was never
		// closed. The parser does not look at indentation here: it
		// reads on.
		l.unclosed(evUnclosed)
		if l.done {
			return
		}
	}
	l.flowRest(text, j)
}

// flowRest reads the rest of a line inside flow collections that opened on
// an earlier line; once the outermost closes, what follows it on the line.
func (l *lexer) flowRest(text []byte, i int) {
	if j := l.flowTokens(text, i); len(l.flow) == 0 && !l.done {
		// A collection over several lines cannot be a key.
		l.afterNode(text, j, -1, false, false, false)
	}
}

// flowTokens reads tokens inside flow collections from i, until the
// outermost closes (it returns the index after its bracket) or the line
// ends.
func (l *lexer) flowTokens(text []byte, i int) int {
	// After a mistake the parser would stop at, the scanner may still be
	// reading ahead on the line and break first: read on, as it does.
	for i < len(text) && !l.done {
		ch := text[i]
		if ch == ' ' || ch == '\t' {
			i++
			continue
		}
		if ch == '#' {
			return len(text)
		}
		if l.flowAfter {
			l.flowValue = false
			switch {
			case ch == ',':
				l.flowAfter, l.flowPlain = false, 0
				l.flow[len(l.flow)-1].pair = false
				i++
				continue
			case ch == ']' || ch == '}':
				l.closeFlow(ch, i)
				i++
				if len(l.flow) == 0 {
					return i
				}
				continue
			case ch == ':':
				if p := &l.flow[len(l.flow)-1].pair; *p || l.flowNode.line < l.line || stale(l.flowNode.off, l.start+i) {
					// Not a key: a ':' here follows a value, or a
					// node that cannot be a key.
					l.event(evFlowJunk, l.start+i)
				} else {
					*p = true
				}
				l.flowAfter, l.flowPlain, l.flowValue = false, 0, true
				i++
				continue
			case l.flowPlain > 0 && l.flowPlain < l.line && isPlainStart(text, i, true):
				// A plain scalar goes on from the line before.
				i = plainEnd(text, i, true)
				l.flowPlain = l.line
				continue
			}
			l.event(evFlowJunk, l.start+i)
			l.flowAfter = false
			continue
		}
		switch {
		case ch == '[' || ch == '{':
			l.flow = append(l.flow, bracket{off: l.start + i, line: l.line, c: ch})
			l.flowValue = false
			if len(l.flow) > maxDepth {
				l.event(evDepth, l.start+i)
				return len(text)
			}
			i++
		case ch == ']' || ch == '}':
			// An empty collection, one whose last entry ends with ',',
			// or an empty value.
			if l.flow[len(l.flow)-1].c != opening(ch) {
				l.event(evNodeContent, l.start+i)
			}
			l.flowValue = false
			l.flowNode = l.flow[len(l.flow)-1]
			l.flow = l.flow[:len(l.flow)-1]
			l.flowAfter = true
			i++
			if len(l.flow) == 0 {
				return i
			}
		case ch == ',' && l.flowValue:
			// An empty value.
			l.flowValue = false
			i++
		case ch == ',' || ch == ':' || ch == '-' && blankAt(text, i+1):
			l.event(evNodeContent, l.start+i)
			i++
		case ch == '"' || ch == '\'':
			j, closed := l.quoted(text, i+1, ch)
			if !closed {
				l.quote, l.quoteOff, l.quoteLine = ch, l.start+i, l.line
				return len(text)
			}
			l.flowAfter, l.flowPlain = true, 0
			l.flowNode = bracket{off: l.start + i, line: l.line}
			i = j
		case ch == '&' || ch == '!':
			j, ok := l.property(text, i)
			if !ok {
				return len(text)
			}
			i = j
		case ch == '*':
			j, ok := l.property(text, i)
			if !ok {
				return len(text)
			}
			l.flowAfter, l.flowPlain = true, 0
			l.flowNode = bracket{off: l.start + i, line: l.line}
			i = j
		case ch == '|' || ch == '>':
			if b := l.flow[len(l.flow)-1]; b.line < l.line && !l.flowEntry {
				// A block scalar after a collection whose last
				// line ended with an entry, not after a ',': the
				// bracket was left open.
				l.unclosed(evBlockInFlow)
			} else {
				l.event(evBadChar, l.start+i)
			}
			return len(text)
		case ch == '@' || ch == '`' || ch == '%':
			l.event(evBadChar, l.start+i)
			return len(text)
		case ch == '?':
			i++
		default:
			l.flowNode = bracket{off: l.start + i, line: l.line}
			i = plainEnd(text, i, true)
			l.flowAfter, l.flowPlain = true, l.line
		}
	}
	return len(text)
}

// stale reports whether a key that starts at off is too far from its ':' at
// colon for the parser to take it as one: it looks no further than 1,024
// characters back (bytes here, the same for ASCII).
func stale(off, colon int) bool { return colon > off+1024 }

// closeFlow closes the innermost flow collection with ch, at i; a bracket
// of the other kind is a mistake, and closes it all the same.
func (l *lexer) closeFlow(ch byte, i int) {
	if l.flow[len(l.flow)-1].c != opening(ch) {
		l.event(evFlowJunk, l.start+i)
	}
	l.flowNode = l.flow[len(l.flow)-1]
	l.flow = l.flow[:len(l.flow)-1]
	l.flowPlain = 0
}

func isFlowIndicator(c byte) bool { return isAnyOf(c, ",[]{}") }

func opening(closing byte) byte {
	if closing == ']' {
		return '['
	}
	return '{'
}
