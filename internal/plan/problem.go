package plan

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Problem is one thing wrong with a config file, at its position.
// Line and Col are 1-based; 0 means unknown (the YAML parser does not always
// say where a syntax error is).
type Problem struct {
	File      string
	Line, Col int
	Msg       string
}

// String formats the problem as FILE:LINE:COL: message, leaving out the parts
// of the position that are unknown.
func (p Problem) String() string {
	switch {
	case p.Line <= 0:
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	case p.Col <= 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
}

// Problems is every problem found in a config file, sorted by position. It is
// the error Parse returns when the file is not valid.
type Problems []Problem

// Error returns one problem per line.
func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// sort orders problems by file, in the order each file's first problem was
// found, first those named (a config before the files it includes), then
// by position; problems at the same position keep the order in which they
// were found.
func (ps Problems) sort(first ...string) {
	rank := make(map[string]int)
	for _, f := range first {
		rank[f] = len(rank)
	}
	for _, p := range ps {
		if _, ok := rank[p.File]; !ok {
			rank[p.File] = len(rank)
		}
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if a.File != b.File {
			return rank[a.File] - rank[b.File]
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
}

// unique drops repeated problems: a value under an anchor is checked once
// for each alias that refers to it.
func (ps Problems) unique() Problems {
	seen := make(map[Problem]bool, len(ps))
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// maxQuoted is how many characters of a value a message quotes.
const maxQuoted = 60

// quote quotes a user's value for a message, cut to maxQuoted characters so
// that a 5,000-character description does not flood the terminal.
func quote(s string) string {
	if utf8.RuneCountInString(s) <= maxQuoted {
		return fmt.Sprintf("%q", s)
	}
	n := 0
	for i := range s {
		if n == maxQuoted {
			return fmt.Sprintf("%q", s[:i]+"…")
		}
		n++
	}
	return fmt.Sprintf("%q", s)
}
