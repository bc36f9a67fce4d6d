package plan

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

var corpusReport = flag.Bool("corpus.report", false, "TestSyntaxErrorCorpus: print accuracy per mistake instead of failing on the first miss")

// corpusBase returns a valid config of n spaces written in the styles people
// use (block and flow lists, quoted and plain names, a block scalar, a flow
// mapping per space) as lines, each with the role a mutation looks for.
func corpusBase(n int) (lines, roles []string) {
	add := func(role, line string) {
		lines = append(lines, line)
		roles = append(roles, role)
	}
	add("", "# Onboarding spaces")
	add("", "defaults:")
	add("", "  history: on")
	add("defaultsKey", `  description: "Onboarding 2026-Q1: questions and introductions."`)
	add("defaultsFlow", "  members: [lead@example.com, people-ops@example.com]")
	add("", "spaces:")
	for i := range n {
		switch i % 5 {
		case 0:
			add("flowMapping", fmt.Sprintf(`  - {displayName: "Onboarding: Team %d", members: [a%d@example.com]}`, i, i))
		case 1:
			add("plainName", fmt.Sprintf("  - displayName: Team %d", i))
			add("key", "    description: |")
			add("blockLine", "      First line.")
			add("blockLine", "      Second line.")
			add("key", "    history: off")
		default:
			add("quotedName", fmt.Sprintf(`  - displayName: "Onboarding 2026-Q1: Team %d"`, i))
			add("flowList", fmt.Sprintf("    members: [a%d@example.com, b%d@example.com]", i, i))
			add("key", "    managers:")
			add("item", fmt.Sprintf("      - a%d@example.com", i))
			add("lastItem", fmt.Sprintf("      - c%d@example.com", i))
		}
	}
	return lines, roles
}

// A mistake a person makes, applied to a line of the role it names. apply
// returns the line with the mistake and the columns (1-based, in runes) a
// person would point at; the first is the one expected, the others are
// equally right (the backslash or the letter of a bad escape).
type mistake struct {
	name  string
	role  string
	apply func(line string) (mutated string, cols []int)
}

func col(line, sub string) int {
	i := strings.Index(line, sub)
	if i < 0 {
		panic(fmt.Sprintf("%q not in %q", sub, line))
	}
	return utf8.RuneCountInString(line[:i]) + 1
}

func lastCol(line, sub string) int {
	i := strings.LastIndex(line, sub)
	return utf8.RuneCountInString(line[:i]) + 1
}

var mistakes = []mistake{
	{name: "tab for indentation", role: "quotedName", apply: func(l string) (string, []int) {
		return "\t" + strings.TrimPrefix(l, "  "), []int{1}
	}},
	{name: "tab before a key", role: "key", apply: func(l string) (string, []int) {
		return "\t" + strings.TrimPrefix(l, "    "), []int{1}
	}},
	{name: "unclosed double quote", role: "quotedName", apply: func(l string) (string, []int) {
		return strings.TrimSuffix(l, `"`), []int{col(l, `"`)}
	}},
	{name: "unclosed single quote", role: "quotedName", apply: func(l string) (string, []int) {
		l = strings.ReplaceAll(l, `"`, `'`)
		return strings.TrimSuffix(l, `'`), []int{col(l, `'`)}
	}},
	{name: "unclosed [", role: "flowList", apply: func(l string) (string, []int) {
		return strings.TrimSuffix(l, "]"), []int{col(l, "[")}
	}},
	{name: "unclosed [ in defaults", role: "defaultsFlow", apply: func(l string) (string, []int) {
		return strings.TrimSuffix(l, "]"), []int{col(l, "[")}
	}},
	{name: "unclosed {", role: "flowMapping", apply: func(l string) (string, []int) {
		return strings.TrimSuffix(l, "}"), []int{col(l, "{")}
	}},
	{name: "text after a quoted value", role: "quotedName", apply: func(l string) (string, []int) {
		return l + " team", []int{utf8.RuneCountInString(l) + 2}
	}},
	{name: "bad item in a flow list", role: "flowList", apply: func(l string) (string, []int) {
		i, j := strings.Index(l, "[")+1, strings.Index(l, ",")
		l = l[:i] + `"` + l[i:j] + `" x` + l[j:]
		return l, []int{col(l, " x,") + 1}
	}},
	{name: "] once too often", role: "flowList", apply: func(l string) (string, []int) {
		return l + "]", []int{utf8.RuneCountInString(l) + 1}
	}},
	{name: "key indented less", role: "key", apply: func(l string) (string, []int) {
		return l[1:], []int{4}
	}},
	{name: "key indented less in defaults", role: "defaultsKey", apply: func(l string) (string, []int) {
		return l[1:], []int{2}
	}},
	{name: "stray dash", role: "lastItem", apply: func(l string) (string, []int) {
		return l[2:], []int{5}
	}},
	{name: "missing colon", role: "key", apply: func(l string) (string, []int) {
		return strings.Replace(l, ":", "", 1), []int{5}
	}},
	{name: "missing colon in defaults", role: "defaultsKey", apply: func(l string) (string, []int) {
		return strings.Replace(l, ":", "", 1), []int{3}
	}},
	{name: "colon in a plain name", role: "plainName", apply: func(l string) (string, []int) {
		l = strings.Replace(l, "Team", "Team: Platform", 1)
		return l, []int{lastCol(l, ":"), col(l, "Team")}
	}},
	{name: "unknown escape", role: "quotedName", apply: func(l string) (string, []int) {
		l = strings.Replace(l, "Team", `\qTeam`, 1)
		return l, []int{col(l, `\q`), col(l, `\q`) + 1}
	}},
	{name: "alias without a name", role: "plainName", apply: func(l string) (string, []int) {
		i := strings.Index(l, "Team")
		return l[:i] + "*", []int{i + 1, i + 2}
	}},
	{name: "unknown alias", role: "plainName", apply: func(l string) (string, []int) {
		i := strings.Index(l, "Team")
		return l[:i] + "*team", []int{i + 1}
	}},
	{name: "block scalar dedented", role: "blockLine", apply: func(l string) (string, []int) {
		return l[2:], []int{5}
	}},
}

// corpusCase is one mistake applied to one line of a base file.
type corpusCase struct {
	name      string
	data      string
	line      int
	cols      []int
	spaces    int
	mistakeAt int
}

// corpusCases applies each mistake to lines picked at random (seeded) in
// files of each size: the start, the middle and the end of the file.
func corpusCases(sizes []int, perSize int) []corpusCase {
	rng := rand.New(rand.NewPCG(12, 7))
	var out []corpusCase
	for _, n := range sizes {
		lines, roles := corpusBase(n)
		for _, m := range mistakes {
			var candidates []int
			for i, r := range roles {
				if r == m.role {
					candidates = append(candidates, i)
				}
			}
			picks := []int{candidates[0], candidates[len(candidates)-1]}
			for range perSize - 2 {
				picks = append(picks, candidates[rng.IntN(len(candidates))])
			}
			for _, i := range picks {
				mutated, cols := m.apply(lines[i])
				file := append(append(append([]string{}, lines[:i]...), mutated), lines[i+1:]...)
				out = append(out, corpusCase{
					name:      fmt.Sprintf("%s/spaces=%d/line=%d", m.name, n, i+1),
					data:      strings.Join(file, "\n") + "\n",
					line:      i + 1,
					cols:      cols,
					spaces:    n,
					mistakeAt: i + 1,
				})
			}
		}
	}
	return out
}

// TestSyntaxErrorCorpus checks that each common mistake, made anywhere in a
// file of any size, is reported at the line and column of the mistake.
// With -corpus.report it prints how many were (the accuracy of the
// position) instead of failing.
func TestSyntaxErrorCorpus(t *testing.T) {
	t.Parallel()
	sizes := []int{20, 500}
	if *corpusReport {
		sizes = []int{20, 2000, 37_500}
	}
	type tally struct {
		label                                      string
		cases, line, lineCol, approx, noPos, early int
	}
	tallies := map[string]*tally{}
	var order []string
	sizeTallies := map[string]*tally{}
	var sizeOrder []string
	for _, c := range corpusCases(sizes, 6) {
		_, err := Parse("f.yaml", []byte(c.data), Options{})
		var ps Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			t.Errorf("%s: Parse = %v, want a problem", c.name, err)
			continue
		}
		p := ps[0]
		key := fmt.Sprintf("%s (spaces=%d)", strings.SplitN(c.name, "/", 2)[0], c.spaces)
		tl := tallies[key]
		if tl == nil {
			tl = &tally{}
			tallies[key] = tl
			order = append(order, key)
		}
		size := fmt.Sprintf("all (spaces=%d, about %d KB, %d lines)", c.spaces, len(c.data)>>10, strings.Count(c.data, "\n"))
		if st := sizeTallies[fmt.Sprint(c.spaces)]; st != nil {
			size = st.label
		}
		st := sizeTallies[fmt.Sprint(c.spaces)]
		if st == nil {
			st = &tally{label: size}
			sizeTallies[fmt.Sprint(c.spaces)] = st
			sizeOrder = append(sizeOrder, fmt.Sprint(c.spaces))
		}
		colOK := false
		for _, c := range c.cols {
			colOK = colOK || p.Col == c
		}
		for _, tl := range []*tally{tl, st} {
			tl.cases++
			switch {
			case p.Line == 0:
				tl.noPos++
			case p.Line == c.line && colOK:
				tl.line++
				tl.lineCol++
			case p.Line == c.line:
				tl.line++
			case p.Line < c.line-1:
				tl.early++
			}
			if strings.Contains(p.Msg, "about line") {
				tl.approx++
			}
		}
		if *corpusReport && c.spaces == 20 && (p.Line != c.line || !colOK) {
			t.Logf("miss: %s: %s, want :%d:%v", c.name, p, c.line, c.cols)
		}
		if !*corpusReport && (p.Line != c.line || !colOK) {
			t.Errorf("%s: Parse = %s, want f.yaml:%d:%d", c.name, p, c.line, c.cols[0])
		}
	}
	if *corpusReport {
		var total tally
		for _, k := range append(order, sizeOrder...) {
			tl := tallies[k]
			if tl == nil {
				tl = sizeTallies[k]
				k = tl.label
			}
			t.Logf("%-50s cases %3d  line %3d  line+col %3d  far before %3d  no line %3d", k, tl.cases, tl.line, tl.lineCol, tl.early, tl.noPos)
			if strings.HasPrefix(k, "all ") {
				continue
			}
			total.cases += tl.cases
			total.line += tl.line
			total.lineCol += tl.lineCol
			total.early += tl.early
			total.noPos += tl.noPos
		}
		t.Logf("TOTAL cases %d  line %d (%.1f%%)  line+col %d (%.1f%%)  far before %d  no line %d",
			total.cases, total.line, 100*float64(total.line)/float64(total.cases),
			total.lineCol, 100*float64(total.lineCol)/float64(total.cases), total.early, total.noPos)
	}
}
