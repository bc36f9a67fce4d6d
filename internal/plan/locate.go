package plan

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The YAML parser (go.yaml.in/yaml/v3, a port of libyaml) reports a syntax
// error as "yaml: line N: message", with no column, and N is not always the
// line of the mistake: when the error has a context (the collection, string
// or key being read when it failed), N is the context's line, and the
// parser's own errors, unlike its scanner's, count lines from 0. An error
// whose marks are all on the first line has no line at all. locate turns
// that into the line and column a person would point at, with the lexer
// (lex*.go) for what the message leaves out.

// yamlError returns a parser error's message and the line it names, 0 when
// it names none.
func yamlError(err error) (msg string, line int) {
	msg = strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if v, err := strconv.Atoi(n); err == nil {
				return after, v
			}
		}
	}
	return msg, 0
}

// parserMessages are the messages of libyaml's parser (parserc.go), whose
// line is 0-based; the others are its scanner's, whose line is 1-based.
var parserMessages = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
}

// clues are the lexer's events that may stand for a message's mistake. When
// exact is set, the parser's line is the mistake's own; otherwise the
// mistake is on that line or after it, the line being that of its context.
type clues struct {
	kinds []eventKind
	exact bool
}

// wanted maps libyaml's messages (scannerc.go, parserc.go) to the events
// that stand for them. A message not listed is reported at its line alone.
var wanted = map[string]clues{
	"found unexpected end of stream":                               {kinds: []eventKind{evQuoteEnd}},
	"found unexpected document indicator":                          {kinds: []eventKind{evQuoteDoc}},
	"found character that cannot start any token":                  {kinds: []eventKind{evTab, evBadChar, evBlockInFlow}, exact: true},
	"found a tab character that violates indentation":              {kinds: []eventKind{evTab}},
	"found a tab character where an indentation space is expected": {kinds: []eventKind{evTab}},
	"could not find expected ':'":                                  {kinds: []eventKind{evKeyNoColon}, exact: true},
	"mapping values are not allowed in this context":               {kinds: []eventKind{evColon}, exact: true},
	"block sequence entries are not allowed in this context":       {kinds: []eventKind{evDashInValue}, exact: true},
	"found unknown escape character":                               {kinds: []eventKind{evEscape}},
	"did not find expected hexdecimal number":                      {kinds: []eventKind{evEscape}},
	"found invalid Unicode character escape code":                  {kinds: []eventKind{evEscape}},
	"did not find expected alphabetic or numeric character":        {kinds: []eventKind{evAnchorName}, exact: true},
	"found an indentation indicator equal to 0":                    {kinds: []eventKind{evBlockHeader}, exact: true},
	"did not find expected comment or line break":                  {kinds: []eventKind{evBlockHeader}, exact: true},
	"did not find expected ',' or ']'":                             {kinds: []eventKind{evFlowJunk, evUnclosed}},
	"did not find expected ',' or '}'":                             {kinds: []eventKind{evFlowJunk, evUnclosed}},
	"did not find expected node content":                           {kinds: []eventKind{evNodeContent}, exact: true},
	"did not find expected key":                                    {kinds: []eventKind{evJunk, evDash, evIndent}},
	"did not find expected '-' indicator":                          {kinds: []eventKind{evKeyInSeq, evIndent, evJunk}},
	"did not find expected <document start>":                       {kinds: []eventKind{evIndent, evJunk, evKeyNoColon}},
	"exceeded max depth of " + strconv.Itoa(maxDepth):              {kinds: []eventKind{evDepth}},
}

var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// spot is where a syntax error is reported.
type spot struct {
	line, col int // 1-based, the column in runes; col 0 when unknown
	// runsTo, when not 0, says that the string quoted at (line, col)
	// was never closed where it should have been and ran on to this
	// line, where YAML broke.
	runsTo int
}

// locate returns where to report the syntax error msg, which the parser
// said is at line n (0: none): a line within the file (for an alias to no
// anchor, where its name is found), and a column when the lexer finds a
// mistake that agrees with the message.
func locate(data []byte, msg string, n int) spot {
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		return anchorSpot(data, m[1])
	}
	last, lastCol, written := lastWritten(data)
	if !written {
		return spot{line: 1}
	}
	first := max(n, 1)
	if parserMessages[msg] && n > 0 {
		first = n + 1
	}
	want, known := wanted[msg]
	var found *event
	if known {
		until := 0
		if want.exact {
			until = first
		}
		lex(data, until, func(e event) bool {
			if !matches(e, want, msg, first) {
				return false
			}
			found = &e
			return true
		})
	}
	switch {
	case found != nil:
		return eventSpot(data, *found, msg)
	case first > last, msg == "did not find expected node content" && first == last:
		// The parser ran out of text: nothing to point at past the end
		// but the last thing written.
		return spot{line: last, col: lastCol}
	}
	return spot{line: first}
}

// matches reports whether the event e may be the mistake that msg, at line
// first, describes.
func matches(e event, want clues, msg string, first int) bool {
	found := false
	for _, k := range want.kinds {
		found = found || e.kind == k
	}
	switch {
	case !found:
		return false
	case e.kind == evFlowJunk || e.kind == evUnclosed:
		// The bracket must be the message's.
		if strings.HasSuffix(msg, "']'") != (e.bracket == '[') {
			return false
		}
	}
	// When the context is on the first line, the parser names the
	// mistake's line instead.
	switch e.kind {
	case evQuoteEnd, evQuoteDoc, evUnclosed:
		// Pointed at the context: the quote or the bracket.
		return e.at == first || e.at == 1
	case evBlockInFlow:
		return e.line == first
	case evKeyNoColon:
		return e.at == first || e.at == 1
	}
	if want.exact {
		return e.line == first
	}
	return e.at >= first
}

// eventSpot places the report of the event e.
func eventSpot(data []byte, e event, msg string) spot {
	if e.quote >= 0 {
		line, col := position(data, e.quote)
		return spot{line: line, col: col, runsTo: e.line}
	}
	line, col := position(data, e.off)
	if e.kind == evColon && msg == "mapping values are not allowed in this context" {
		line, col = colonAt(data, line, col)
	}
	return spot{line: line, col: col}
}

// anchorSpot places an alias to an anchor that does not exist: the first
// alias of that name before any anchor of it.
func anchorSpot(data []byte, name string) spot {
	off := -1
	lex(data, 0, func(e event) bool {
		if e.kind == evAlias && e.name == name && !e.known {
			off = e.off
			return true
		}
		return false
	})
	if off < 0 {
		off = bytes.Index(data, []byte("*"+name))
	}
	if off < 0 {
		return spot{}
	}
	line, col := position(data, off)
	return spot{line: line, col: col}
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
