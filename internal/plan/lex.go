package plan

// The lexer reads a YAML file in outline, as the YAML parser's scanner does,
// to find where a syntax error is: yaml.v3 names a syntax error with a line
// only (often that of the enclosing collection, 0-based at that) and no
// column. It follows quoted strings, flow collections, block scalars,
// comments and the indentation of block collections, and reports the places
// where the text breaks one of YAML's rules. It is not a parser: it builds
// nothing, and it may misread YAML that no config uses, so locate believes
// one of its events only when the event agrees with the parser's message
// and line.

// eventKind is a rule of YAML's syntax that the text breaks.
type eventKind int

const (
	evQuoteEnd    eventKind = iota // a quoted string still open at the end of the file
	evQuoteDoc                     // a document marker ("---") inside a quoted string
	evTab                          // a tab where indentation belongs
	evBadChar                      // a character that cannot start a token ('@', '`', '%')
	evBlockInFlow                  // a block scalar ("|", ">") inside a flow collection
	evKeyNoColon                   // a mapping's key without its ':'
	evColon                        // a ':' where a mapping value is not allowed
	evDashInValue                  // a "- " after a key's ':' on the same line
	evEscape                       // an escape a double-quoted string does not allow
	evAnchorName                   // '*' or '&' without a name
	evAlias                        // an alias, for an anchor that may not exist
	evFlowJunk                     // text in a flow collection where ',' or its bracket belongs
	evUnclosed                     // a flow collection never closed
	evNodeContent                  // an indicator where a value belongs (",", "]", "}")
	evJunk                         // text after a complete value, where a key belongs
	evDash                         // a "- " in a mapping, where a key belongs
	evIndent                       // a line indented to no level of the collections around it
	evKeyInSeq                     // a key in a list, where "- " belongs
	evDepth                        // nesting deeper than the parser allows
	evBlockHeader                  // a character a block scalar's header does not allow
)

// event is one place where the text breaks a rule.
type event struct {
	kind eventKind
	// off is the byte offset to point at: the mistake, or for evQuoteEnd,
	// evQuoteDoc, evUnclosed and evBlockInFlow the quote or bracket that
	// was never closed.
	off int
	// at is the line of off; line is the line where the lexer found the
	// mistake (for those four, the line that shows the quote or bracket
	// was left open).
	at, line int
	// bracket is the innermost open flow collection's bracket, '[' or
	// '{', or 0.
	bracket byte
	// quote is the offset of a quote opened on an earlier line and closed
	// on this event's line, before the event: a string that ran on, or -1.
	quote int
	// name is an alias's name; known says whether an anchor of that name
	// was met before it.
	name  string
	known bool
}

// maxDepth is the parser's limit on nesting, of flow collections and of
// block indentation alike.
const maxDepth = 10000

type level struct {
	col int // column (0-based) of the collection's keys or dashes
	seq bool
	// indentless is set on a mapping while it holds a list written at
	// its own indentation ("members:" over "- a").
	indentless bool
}

type bracket struct {
	off, line int
	c         byte
	// pair says the entry being read has had its ':' already.
	pair bool
}

// What the lines read so far leave open for the next.
const (
	pendNone  = iota
	pendValue // a key's ':' or a "- " with its value still to come
	pendPlain // a plain scalar, which may go on on more indented lines
)

type lexer struct {
	emit func(event) bool
	done bool

	line  int // the current line, 1-based
	start int // its offset

	// A quoted string going on past the end of its line.
	quote     byte
	quoteOff  int
	quoteLine int

	flow       []bracket // open flow collections, innermost last
	flowIndent int       // indentation of the line the outermost one opened on
	flowAfter  bool      // a node was read and ',' or a bracket comes next
	flowPlain  int       // line on which a plain scalar in a flow collection ended, or 0
	flowNode   bracket   // where the last node in a flow collection began
	// flowEntry says the line began where an entry of the innermost
	// flow collection belongs, after its bracket or a ','.
	flowEntry bool
	flowValue bool // a ':' was read: the value may be empty

	levels  []level // block collections; levels[0] is the document (column -1)
	pending int
	pendCol int // the column of the level pending belongs to

	// A block scalar's content: lines more indented than scalarParent
	// (from scalarIndent on, once known) or blank.
	inScalar     bool
	scalarParent int
	scalarIndent int

	runaway int // offset of a quote from an earlier line closed on this line, or -1
	anchors map[string]bool

	// A mistake the parser meets only after the scanner has read the
	// plain scalar it starts, which may go on over the next lines and
	// break the scanner's rules there first.
	deferred    event
	hasDeferred bool
}

// lex reads data up to line until (0: all of it) and calls emit for each
// event, in file order, until emit returns true. It takes time linear in
// the size of data.
func lex(data []byte, until int, emit func(event) bool) {
	l := &lexer{emit: emit, line: 1, runaway: -1, anchors: map[string]bool{}}
	l.document()
	for off := 0; ; {
		end := off
		for end < len(data) && lineBreak(data, end) == 0 {
			end++
		}
		l.start = off
		l.runaway = -1
		text := data[off:end]
		if off == 0 && len(text) >= 3 && text[0] == 0xEF && text[1] == 0xBB && text[2] == 0xBF {
			// A byte order mark; positions count it as a character,
			// indentation does not.
			l.start, text = 3, text[3:]
		}
		l.lexLine(text)
		if l.done || end >= len(data) {
			break
		}
		off = end + lineBreak(data, end)
		l.line++
		if until > 0 && l.line > until {
			return
		}
	}
	l.flush()
	if l.done {
		return
	}
	switch {
	case l.quote != 0:
		l.eventAt(evQuoteEnd, l.quoteOff, l.quoteLine)
	case len(l.flow) > 0:
		l.unclosed(evUnclosed)
	}
}

// document starts a new document: no collection is open, and a root value
// may come at any column.
func (l *lexer) document() {
	l.levels = append(l.levels[:0], level{col: -1})
	l.flow = l.flow[:0]
	l.pending, l.pendCol = pendValue, -1
	l.inScalar = false
}

// event reports a mistake at off, on the current line.
func (l *lexer) event(kind eventKind, off int) {
	l.eventWith(event{kind: kind, off: off, at: l.line})
}

// eventAt reports a mistake that points at off, on line at.
func (l *lexer) eventAt(kind eventKind, off, at int) {
	l.eventWith(event{kind: kind, off: off, at: at})
}

// unclosed reports the innermost flow collection as never closed.
func (l *lexer) unclosed(kind eventKind) {
	b := l.flow[len(l.flow)-1]
	l.eventWith(event{kind: kind, off: b.off, at: b.line, bracket: b.c})
}

func (l *lexer) eventWith(e event) {
	l.flush()
	if !l.done {
		l.done = l.emit(l.complete(e))
	}
}

// complete fills in what the lexer knows of an event found on this line.
func (l *lexer) complete(e event) event {
	e.line = l.line
	if len(l.flow) > 0 && e.bracket == 0 {
		e.bracket = l.flow[len(l.flow)-1].c
	}
	e.quote = -1
	if l.runaway >= 0 && e.off >= l.start && e.kind != evQuoteEnd && e.kind != evQuoteDoc {
		e.quote = l.runaway
	}
	return e
}

// deferPlain notes a mistake at off, at the start of a plain scalar that
// runs to the end of the line: the scalar may go on.
func (l *lexer) deferPlain(kind eventKind, off int) {
	l.deferEvent(kind, off)
	l.pending, l.pendCol = pendPlain, l.top().col
}

// deferEvent notes a mistake at off, at the start of a token the scanner
// reads on past this line.
func (l *lexer) deferEvent(kind eventKind, off int) {
	l.deferred, l.hasDeferred = l.complete(event{kind: kind, off: off, at: l.line}), true
}

// flush reports the deferred mistake: its plain scalar has ended.
func (l *lexer) flush() {
	if l.hasDeferred && !l.done {
		l.hasDeferred = false
		l.done = l.emit(l.deferred)
	}
}

func (l *lexer) top() *level { return &l.levels[len(l.levels)-1] }

func (l *lexer) push(col int, seq bool, off int) {
	l.levels = append(l.levels, level{col: col, seq: seq})
	if len(l.levels)-1 > maxDepth {
		l.event(evDepth, off)
	}
}

// lexLine reads a line, without its line break; a block scalar, a string or
// a flow collection left open by the lines before decides how.
func (l *lexer) lexLine(text []byte) {
	if l.inScalar && l.scalarLine(text) {
		return
	}
	i := 0
	if l.quote != 0 {
		if docMarker(text) {
			l.eventAt(evQuoteDoc, l.quoteOff, l.quoteLine)
			return
		}
		j, closed := l.quoted(text, 0, l.quote)
		if !closed {
			return
		}
		l.quote, l.runaway = 0, l.quoteOff
		if len(l.flow) > 0 {
			l.flowAfter, l.flowPlain = true, 0
			l.flowNode = bracket{off: l.quoteOff, line: l.quoteLine}
			l.flowRest(text, j)
			return
		}
		l.afterNode(text, j, -1, false, false, false)
		return
	}
	for i < len(text) && text[i] == ' ' {
		i++
	}
	if len(l.flow) > 0 {
		l.flowLine(text, i)
		return
	}
	if i < len(text) && text[i] == '\t' && !(l.pending == pendPlain && i > l.pendCol) {
		// Outside a flow collection, a tab may not indent, even on a
		// line with nothing else; only inside a plain scalar that may go
		// on, where it is taken for the scalar's white space, past the
		// scalar's indentation. The scanner meets it while still reading
		// that scalar.
		l.hasDeferred = false
		l.event(evTab, l.start+i)
		return
	}
	j := skipBlanks(text, i)
	switch {
	case j == len(text):
		return // blank: a plain scalar may go on after it
	case text[j] == '#':
		if l.pending == pendPlain {
			l.pending = pendNone // a comment ends a plain scalar
			l.flush()
		}
		return
	case i == 0 && docMarker(text):
		l.flush()
		l.document()
		if text[0] == '-' {
			l.tokens(text, 3, 3, false, false)
		}
		return
	case i == 0 && text[0] == '%':
		return // a directive
	}
	l.blockLine(text, i)
}
