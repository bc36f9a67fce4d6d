// A config written as CSV: a header row naming a space's keys, one space a
// row. Each row becomes the same tree of nodes a YAML space is, its
// positions those of the CSV cells, and is validated by the same code.

package plan

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// csvListKeys are the keys whose cells hold lists, entries separated by
// ";" or line breaks.
var csvListKeys = map[string]bool{"members": true, "owners": true, "managers": true}

// maxCSVSyntax bounds the syntax errors reported for one CSV file: past a
// few, the rest of the file says little more.
const maxCSVSyntax = 50

// IsCSV reports whether a config file is read as CSV: its name ends in
// .csv, in any case.
func IsCSV(file string) bool {
	return strings.EqualFold(filepath.Ext(file), ".csv")
}

// ParseCSV reads and validates a config written as CSV (RFC 4180, UTF-8
// with or without a byte order mark, comma-separated): a header row of
// space keys (displayName, key, description, guidelines, members, owners,
// managers, welcome, history, externalUsers, audience, adopt, permissions
// as a preset), then one space a row. An empty cell states nothing. List
// cells (members, owners, managers) separate their entries by ";" or a line
// break, white space around each ignored. Problems are placed at
// FILE:LINE:COL, LINE the line where the cell starts and COL the cell's
// column number (1 for the first cell), never a byte offset.
func ParseCSV(file string, data []byte, opts Options) (*Config, error) {
	p := &parser{file: file, opts: opts, budget: 4*len(data) + 1024}
	rows := p.csvRows(data)
	seen := make(map[Key]identity, len(rows))
	var none settings
	p.spaces = make([]Space, 0, len(rows))
	for _, row := range rows {
		p.space(row, &none, seen)
	}
	if len(p.problems) > 0 {
		p.problems.sort()
		return nil, p.problems.unique()
	}
	return &Config{File: file, Spaces: p.spaces, App: opts.App,
		MaxDeletions: DefaultMaxDeletions, MaxRemovals: DefaultMaxRemovals}, nil
}

// csvRows reads a CSV file into one mapping node a row, as a YAML space
// would be written, reporting what is wrong with the file itself: its
// encoding, its syntax, its header, rows of the wrong length. Problems are
// reported under p.file; a file with no valid header gives no rows.
func (p *parser) csvRows(data []byte) []*yaml.Node {
	if enc := encoding(data); enc != "" {
		p.addAt(1, 1, "the file is %s; save it as UTF-8", enc)
		return nil
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // counted here, so that every row is reported
	var header []string
	var rows []*yaml.Node
	syntax, first := 0, true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line, col := csvErrorCell(data, pe)
			msg := pe.Err.Error()
			if errors.Is(pe.Err, csv.ErrBareQuote) {
				msg += ` (a cell holding a quote must be quoted whole, with the quote doubled: "say ""hi""")`
			}
			p.addAt(line, col, "invalid CSV: %s", msg)
			if syntax++; syntax == maxCSVSyntax {
				return nil
			}
			if first {
				first = false // the header is broken: no row can be read
			}
			continue
		}
		if err != nil {
			p.addAt(1, 1, "reading the CSV: %v", err)
			return nil
		}
		if first {
			first = false
			header = p.csvHeader(r, rec)
			continue
		}
		if header == nil {
			continue // the header is broken: its problems are reported
		}
		if blank(rec) {
			// A spreadsheet's empty rows, exported as commas.
			continue
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			col := len(rec) + 1
			if len(rec) > len(header) {
				line, _ = r.FieldPos(len(header))
				col = len(header) + 1
			}
			p.addAt(line, col, "the row has %d cells and the header %d: every row has one cell for each column, empty or not", len(rec), len(header))
			continue
		}
		row := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line, Column: 1}
		for i, cell := range rec {
			key := header[i]
			if key == "" {
				continue
			}
			cl, _ := r.FieldPos(i)
			at := func(n *yaml.Node) *yaml.Node { n.Line, n.Column = cl, i+1; return n }
			if !utf8.ValidString(cell) {
				p.addAt(cl, i+1, "%s is not valid UTF-8: save the file as UTF-8", key)
				continue
			}
			if strings.TrimSpace(cell) == "" && key != "displayName" {
				continue // not stated
			}
			k := at(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key})
			var v *yaml.Node
			if csvListKeys[key] {
				v = at(&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"})
				for _, entry := range strings.FieldsFunc(cell, func(r rune) bool { return r == ';' || r == '\n' || r == '\r' }) {
					if entry = strings.TrimSpace(entry); entry != "" {
						v.Content = append(v.Content, at(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: entry}))
					}
				}
			} else {
				v = at(&yaml.Node{Kind: yaml.ScalarNode, Tag: cellTag(cell), Value: cell})
			}
			row.Content = append(row.Content, k, v)
		}
		rows = append(rows, row)
	}
	switch {
	case first:
		p.addAt(1, 1, "empty file: expected a header row (displayName, members, …) and a row for each space")
	case header != nil && len(rows) == 0 && len(p.problems) == 0:
		p.addAt(1, 1, "the file has a header and no rows: list at least one space")
	}
	return rows
}

// csvHeader checks the header row and returns the key of each column ("" for
// a column reported as unknown, empty or repeated), or nil when the header
// cannot be used at all.
func (p *parser) csvHeader(r *csv.Reader, rec []string) []string {
	if len(rec) == 1 {
		// Spreadsheets set to some locales save with ";" or tabs.
		for _, sep := range []string{";", "\t"} {
			if strings.Contains(rec[0], sep) {
				p.addAt(1, 1, "the header is one cell, %s: the file is separated by %q, not commas; save it as comma-separated CSV", quote(rec[0]), sep)
				return nil
			}
		}
	}
	keys := make([]string, len(rec))
	firstAt := make(map[string]int, len(rec))
	hasName, unknown := false, false
	for i, cell := range rec {
		line, _ := r.FieldPos(i)
		name := strings.TrimSpace(cell)
		k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name, Line: line, Column: i + 1}
		switch {
		case name == "":
			p.addAt(line, i+1, "column %d has no name in the header: name it with a space's key (%s)", i+1, strings.Join(spaceKeys, ", "))
			continue
		case !utf8.ValidString(name):
			p.addAt(line, i+1, "the header is not valid UTF-8: save the file as UTF-8")
			continue
		}
		known := ""
		for _, s := range spaceKeys {
			if s == name {
				known = s
			}
		}
		if known == "" {
			unknown = true
			p.unknownKey(k, "in the CSV header", spaceKeys)
			continue
		}
		if col, dup := firstAt[known]; dup {
			p.addAt(line, i+1, "duplicate column %q in the header (first in column %d)", known, col)
			continue
		}
		firstAt[known] = i + 1
		keys[i] = known
		hasName = hasName || known == "displayName"
	}
	if !hasName {
		if unknown {
			return nil // a misspelt column, reported: its rows are not read
		}
		p.addAt(1, 1, "the header has no displayName column: each space needs its display name")
		return nil
	}
	return keys
}

// cellTag is the tag YAML would give the cell's text where it matters: true
// and false (in any case, as spreadsheets write them) are booleans; all
// else is text, numbers included (a display name "2026" is a name).
func cellTag(cell string) string {
	switch strings.ToLower(strings.TrimSpace(cell)) {
	case "true", "false":
		return "!!bool"
	}
	return "!!str"
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// csvErrorCell turns the position of a CSV syntax error (a line, and a byte
// column on it) into the line and the number of the cell it is in: commas
// outside quotes are counted from the start of the record.
func csvErrorCell(data []byte, pe *csv.ParseError) (line, col int) {
	line, col = pe.Line, 1
	l, start, inQuotes := 1, 0, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if l < pe.StartLine {
			if c == '\n' {
				l, start = l+1, i+1
			}
			continue
		}
		// Column counts bytes from 1 on the error's line.
		if l == pe.Line && i-start+1 >= pe.Column {
			break
		}
		switch c {
		case '"':
			inQuotes = !inQuotes
		case ',':
			if !inQuotes {
				col++
			}
		case '\n':
			l, start = l+1, i+1
			if l > pe.Line {
				return line, col
			}
		}
	}
	return line, col
}
