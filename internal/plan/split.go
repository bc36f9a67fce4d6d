// The spaces: list read a batch of items at a time.
//
// yaml.v3 builds the node tree of a whole document before its first node can
// be read: for a config of 100,000 spaces, about 120 MB, far more than the
// spaces decoded from it. In a block-style config (the shape nearly every
// config has) the items of the top-level spaces: list are runs of lines that
// can be told apart by their first character alone, so the file is parsed in
// pieces instead: the document without the list's lines (kept as empty lines,
// so that every position is the file's), then the list's items a batch of
// lines at a time, each batch a document of its own whose node positions are
// moved to the file's lines. The parser is the same YAML v3, on the same
// text; the pieces only bound how much of the tree exists at once.
//
// A piece is parsed alone only when that cannot change what it says: the
// whole file is parsed as one document (the way every config was read
// before) when the file has no such list, when it has a directive (%TAG
// may change what a tag means), when a piece does not parse, when
// the document without the list does not have spaces: where the text showed
// it, with nothing as its value, when an item has an anchor or an alias
// (which may reach across pieces), or when an item nests deeper than any
// config does (the parser's limit counts the levels above it). So every
// syntax error, and every problem position, is the one the whole document
// gives; FuzzParseSplit checks that both ways read every input alike.

package plan

import (
	"bytes"
	"fmt"
	"math"

	"go.yaml.in/yaml/v3"
)

// batchBytes is about how much text of the list is parsed at a time: enough
// items that the parser's own set-up is spread thin, few enough that their
// nodes are a small fraction of the spaces decoded.
const batchBytes = 64 << 10

// spacesList is where the top-level "spaces:" list of a block-style config
// lies in its text.
type spacesList struct {
	keyLine int // the line of "spaces:" (1-based)
	// items are the byte offsets at which the list's items begin (a line
	// with "-" at the list's indentation), then the offset where the list
	// ends; lines are their lines.
	items, lines []int
	// header is the file with the list's lines left empty.
	header []byte
}

// findSpacesList finds the top-level spaces: list of a block-style file, or
// returns false: no such list, text whose lines YAML would count in ways
// this scan does not (a lone CR, NEL, LS or PS), or a directive before the
// list (a piece parsed alone would not have it), where the file is read whole.
func findSpacesList(data []byte) (*spacesList, bool) {
	if bytes.Contains(data, []byte("\u0085")) || bytes.Contains(data, []byte("\u2028")) || bytes.Contains(data, []byte("\u2029")) {
		return nil, false
	}
	for i, c := range data {
		if c == '\r' && (i+1 == len(data) || data[i+1] != '\n') {
			return nil, false
		}
	}
	l := &spacesList{}
	indent := -1 // the items' indentation, once the first item is met
	end := len(data)
	for off, line := 0, 1; off < len(data); line++ {
		next := len(data)
		if n := bytes.IndexByte(data[off:], '\n'); n >= 0 {
			next = off + n + 1
		}
		text := bytes.TrimRight(data[off:next], "\r\n")
		switch {
		case l.keyLine == 0:
			if off == 0 {
				text = bytes.TrimPrefix(text, []byte("\uFEFF"))
			}
			if bytes.HasPrefix(text, []byte("%")) {
				// A directive: %TAG may give "!!" another meaning in the
				// document than in a piece parsed alone.
				return nil, false
			}
			if isSpacesKey(text) {
				l.keyLine = line
			}
		case blankOrComment(text):
		default:
			col := len(text) - len(bytes.TrimLeft(text, " "))
			item := col < len(text) && text[col] == '-' && (col+1 == len(text) || text[col+1] == ' ' || text[col+1] == '\t')
			switch {
			case indent < 0 && !item:
				// "spaces:" with a value that is not a block list.
				return nil, false
			case indent < 0:
				indent = col
				l.items, l.lines = append(l.items, off), append(l.lines, line)
			case col > indent:
			case col == indent && item:
				l.items, l.lines = append(l.items, off), append(l.lines, line)
			case col == 0:
				end = off
			default:
				// Indented, but less than the items: the document
				// without the list could read the line as the value
				// of spaces: (a tag alone, "!", is a null).
				return nil, false
			}
		}
		if end < len(data) {
			break
		}
		off = next
	}
	if len(l.items) == 0 {
		return nil, false
	}
	l.items = append(l.items, end)
	start := l.items[0]
	l.header = make([]byte, 0, start+bytes.Count(data[start:end], []byte("\n"))+len(data)-end)
	l.header = append(l.header, data[:start]...)
	for range bytes.Count(data[start:end], []byte("\n")) {
		l.header = append(l.header, '\n')
	}
	l.header = append(l.header, data[end:]...)
	return l, true
}

// isSpacesKey tells a line that is the key "spaces:" at the top level with
// nothing after it but a comment.
func isSpacesKey(text []byte) bool {
	rest, ok := bytes.CutPrefix(text, []byte("spaces:"))
	if !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " \t")
	return len(rest) == 0 || (rest[0] == '#' && len(rest) < len(text)-len("spaces:"))
}

// blankOrComment tells a line with nothing but white space, or a comment.
func blankOrComment(text []byte) bool {
	t := bytes.TrimLeft(text, " \t")
	return len(t) == 0 || t[0] == '#'
}

// holds tells whether the document without the list's lines has the key
// "spaces" where the text showed it, at the top level, with an empty value:
// then the text before the list was read as the scan read it, and the list
// is the key's value.
func (l *spacesList) holds(k, v *yaml.Node) bool {
	return k.Line == l.keyLine && k.Column == 1 && k.Style == 0 && k.Tag == "!!str" && k.Anchor == "" &&
		v.Kind == yaml.ScalarNode && v.Tag == "!!null" && v.Value == "" && v.Style == 0 && v.Anchor == ""
}

// errSplit says that a piece of the file cannot be read alone.
var errSplit = fmt.Errorf("the spaces list cannot be read in pieces")

// splitSpaces validates the list's items a batch at a time, as config does
// with a list read whole. It returns errSplit when a batch cannot be read
// alone; the caller then reads the file whole.
func (p *parser) splitSpaces(data []byte, l *spacesList, defaults *settings, seen map[Key]identity) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errSplit
		}
	}()
	n := len(l.items) - 1
	p.spaces = make([]Space, 0, n)
	for first := 0; first < n; {
		last := first + 1
		for last < n && l.items[last]-l.items[first] < batchBytes {
			last++
		}
		var doc yaml.Node
		if yaml.Unmarshal(data[l.items[first]:l.items[last]], &doc) != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
			return errSplit
		}
		// No node of a batch lies on the line where the next batch
		// begins, but the empty value of a key without ":" ("? key"),
		// which the parser places at the token after it: the batch alone
		// does not have that token.
		before := math.MaxInt
		if last < n {
			before = l.lines[last]
		}
		list := doc.Content[0]
		if list.Kind != yaml.SequenceNode || len(list.Content) != last-first || !shiftLines(list, l.lines[first]-1, before, 0) {
			return errSplit
		}
		for i, item := range list.Content {
			if p.tooDeep {
				return nil
			}
			p.space(item, defaults, seen)
			list.Content[i] = nil
		}
		first = last
	}
	return nil
}

// batchDepth is how deeply a batch's nodes may nest. The parser refuses a
// document nested deeper than maxDepth, and the whole document has a level
// more than a batch (its top-level mapping); no config nests near either.
const batchDepth = 100

// shiftLines moves the positions of a batch's nodes by by lines, to the
// file's. It returns false when a node has an anchor or is an alias (an
// alias may name an anchor of another piece), lies deeper than batchDepth,
// or lies at or after the line before; then the file is read whole.
func shiftLines(n *yaml.Node, by, before, depth int) bool {
	if n.Anchor != "" || n.Kind == yaml.AliasNode || depth > batchDepth || n.Line+by >= before {
		return false
	}
	n.Line += by
	for _, c := range n.Content {
		if !shiftLines(c, by, before, depth+1) {
			return false
		}
	}
	return true
}
