package plan

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"

	goccy "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/lexer"
	goccyparser "github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Bounds on the work locate may do. goccy/go-yaml's lexer is linear, but its
// parser gives every node its path from the root ("$.spaces[3].members[0]",
// map keys included), so deep nesting or long keys cost the square of the
// input: 70 KB of nested flow mappings with long keys allocate 500 MB.
const (
	maxLocateSize = 4 << 20   // bytes of input
	maxPathBytes  = 128 << 20 // bytes of node paths, as bounded by pathBytes
)

// locate finds the line and column (1-based, in runes) of the YAML syntax
// error that yaml.v3 reported at line v3line (0 when it gave none), by
// parsing data again with goccy/go-yaml, which reports the token where it
// failed. It serves only as a locator: the message stays yaml.v3's, and ok is
// false, leaving the report to yaml.v3's line, when goccy accepts the
// document, would cost too much to parse, or gives a position that is not
// credible.
func locate(data []byte, v3line int) (line, col int, ok bool) {
	if len(data) > maxLocateSize {
		return 0, 0, false
	}
	// The input is the user's file: a bug in the locator must not turn a
	// syntax error into a crash.
	defer func() {
		if recover() != nil {
			line, col, ok = 0, 0, false
		}
	}()
	tokens := lexer.Tokenize(string(data))
	if pathBytes(tokens) > maxPathBytes {
		return 0, 0, false
	}
	// Duplicate keys are reported by the checks on the decoded tree, with
	// both positions; here they would only hide the syntax error.
	_, err := goccyparser.Parse(tokens, 0, goccyparser.AllowDuplicateMapKey())
	var se *goccy.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil {
		return 0, 0, false
	}
	at := unclosedFlow(data, tokens, se.Token)
	if at == nil {
		at = se.Token
	}
	line, col = at.Position.Line, at.Position.Column
	if !credible(data, line, col, v3line) {
		return 0, 0, false
	}
	return line, col, true
}

// credible tells whether goccy's position may stand for the error yaml.v3
// reported at v3line.
//
// yaml.v3's line is where it noticed the error or, for most parser errors,
// the 0-based line of the enclosing block or flow collection, so the mistake
// is rarely before it. It can be one line before: a key missing its colon
// ("history on") runs on as a plain scalar into the next line, where yaml.v3
// stops at that line's ':' and goccy at the key, which starts its line. When
// the scalar is a value instead ("displayName: a" over a key indented too
// far), the next line, yaml.v3's, is the one to fix. A mistake further up (an
// unclosed quote ending a scalar many lines later) is a true case this rule
// gives up, to keep out goccy's own false errors earlier in the file (it
// rejects an anchor named "-", valid YAML), which would point at a line with
// nothing wrong. When yaml.v3 gives no line, both its marks were on the first
// line.
func credible(data []byte, line, col, v3line int) bool {
	if line < 1 || col < 1 || v3line == 0 && line != 1 || line < v3line-1 {
		return false
	}
	text, found := lineText(data, line)
	if !found || col > utf8.RuneCount(text)+1 {
		return false
	}
	if line == v3line-1 {
		// Only indentation and block indicators before the token.
		lead := []rune(string(text))[:col-1]
		return strings.Trim(string(lead), " -?") == ""
	}
	return true
}

// unclosedFlow returns the opening bracket of the flow collection that the
// error token at shows was never closed, or nil. goccy stops where the
// collection could no longer go on, which is the next line of the block
// ("- displayName: b" after "members: [a, b"); the bracket is what a person
// would point at. The content of a flow collection must be indented more than
// the line it opens on, so a token on a later line at or left of that
// indentation cannot belong to it.
func unclosedFlow(data []byte, tokens token.Tokens, at *token.Token) *token.Token {
	var open []*token.Token
	for _, tk := range tokens {
		if tk.Position == nil {
			continue
		}
		if !before(tk.Position, at.Position) {
			break
		}
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			open = append(open, tk)
		case token.SequenceEndType, token.MappingEndType:
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
	}
	if len(open) == 0 {
		return nil
	}
	start := open[len(open)-1]
	if at.Position.Line <= start.Position.Line {
		return nil
	}
	text, _ := lineText(data, start.Position.Line)
	indent := len(text) - len(bytes.TrimLeft(text, " "))
	if at.Position.Column > indent+1 {
		return nil
	}
	return start
}

func before(a, b *token.Position) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
}

// lineText returns the 1-based line n of data, without its line break.
func lineText(data []byte, n int) (text []byte, found bool) {
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(data, '\n')
		if j < 0 {
			return nil, false
		}
		data = data[j+1:]
	}
	if j := bytes.IndexByte(data, '\n'); j >= 0 {
		data = data[:j]
	}
	return bytes.TrimSuffix(data, []byte("\r")), true
}

// pathBytes bounds from above the bytes of the node paths goccy's parser
// would build for tokens: the number of nodes (at most one per token), times
// a bound on the depth of each, times the longest path segment.
//
// A block collection nested in another starts further right, except a
// sequence under a mapping key, which may start at the key's column, so the
// block depth on a line is at most twice its indentation plus the
// indicators ("- ", "? ", ": ", "[", "{") before the token on that line; flow
// collections add their own depth. A segment is a key (a token followed by
// ':' or following '?', quoted in the path if need be) or an index.
func pathBytes(tokens token.Tokens) int {
	var depths, maxKey, flow, indent, onLine, line int
	var prev *token.Token // the last token that is not a comment
	inKey := false
	for _, tk := range tokens {
		if tk.Position == nil {
			continue
		}
		if tk.Position.Line != line {
			line, onLine = tk.Position.Line, 0
			indent = tk.Position.Column - 1
		}
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
			onLine++
		case token.SequenceEndType, token.MappingEndType:
			flow = max(flow-1, 0)
		case token.MappingValueType:
			if prev != nil {
				maxKey = max(maxKey, len(prev.Value))
			}
			onLine++
			inKey = false
		case token.SequenceEntryType:
			onLine++
			inKey = false
		case token.MappingKeyType:
			onLine++
			inKey = true
		}
		if inKey {
			maxKey = max(maxKey, len(tk.Value))
		}
		if tk.Type != token.CommentType {
			prev = tk
		}
		depths += 2*(indent+1) + onLine + flow + 2
	}
	segment := 2*maxKey + 24
	if depths > maxPathBytes/segment {
		return maxPathBytes + 1
	}
	return depths * segment
}
