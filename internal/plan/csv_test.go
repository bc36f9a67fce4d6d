package plan

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data string
		want       []Space // DisplayName, Key, Members, Owners, Managers, History, Adopt only
		problems   []string
	}{
		{
			name: "lists, BOM, CRLF, blank row",
			data: "\uFEFFdisplayName,members,owners,managers\r\nA,\"a@example.com;\r\n b@example.com \",c@example.com,\r\n,,,\r\n",
			want: []Space{{DisplayName: "A", Key: "A", Members: []string{"users/a@example.com", "users/b@example.com", "users/c@example.com"}, Owners: []string{"users/c@example.com"}}},
		},
		{
			name: "booleans in any case, a number as a name",
			data: "displayName,adopt,history\n2026,TRUE,off\nB,False,true\n",
			want: []Space{{DisplayName: "2026", Key: "2026", Adopt: true, History: "off"}, {DisplayName: "B", Key: "B", History: "on"}},
		},
		{
			name: "key",
			data: "key,displayName\nold,New\n",
			want: []Space{{DisplayName: "New", Key: "old"}},
		},
		{
			name:     "unknown and duplicated headers",
			data:     "displayName,Members,owner,members\nA,,,\n",
			problems: []string{`t.csv:1:2: unknown key "Members" in the CSV header; did you mean "members"?`, `t.csv:1:3: unknown key "owner" in the CSV header; did you mean "owners"?`},
		},
		{
			name:     "duplicate column",
			data:     "displayName,members,members\nA,,\n",
			problems: []string{`t.csv:1:3: duplicate column "members" in the header (first in column 2)`},
		},
		{
			name:     "rows of the wrong length",
			data:     "displayName,members\nA\nB,b@example.com,x\n",
			problems: []string{"t.csv:2:2: the row has 1 cells and the header 2: every row has one cell for each column, empty or not", "t.csv:3:3: the row has 3 cells and the header 2: every row has one cell for each column, empty or not"},
		},
		{
			name:     "empty display name, a cell after a multi-line cell",
			data:     "displayName,description,history\n\"\",\"two\nlines\",never\n",
			problems: []string{"t.csv:2:1: displayName is empty", `t.csv:3:3: history must be "on" or "off", not "never"`},
		},
		{
			name:     "bare quote in the third cell",
			data:     "displayName,description,welcome\nA,ok,say \"hi\"\n",
			problems: []string{`t.csv:2:3: invalid CSV: bare " in non-quoted-field (a cell holding a quote must be quoted whole, with the quote doubled: "say ""hi""")`},
		},
		{
			name:     "UTF-16",
			data:     "\xff\xfed\x00i\x00",
			problems: []string{"t.csv:1:1: the file is UTF-16; save it as UTF-8"},
		},
		{
			name:     "invalid UTF-8",
			data:     "displayName,description\nA,\xff\n",
			problems: []string{"t.csv:2:2: description is not valid UTF-8: save the file as UTF-8"},
		},
		{
			name:     "empty",
			data:     "",
			problems: []string{"t.csv:1:1: empty file: expected a header row (displayName, members, …) and a row for each space"},
		},
		{
			name:     "separated by semicolons",
			data:     "displayName;members\nA;a@example.com\n",
			problems: []string{`t.csv:1:1: the header is one cell, "displayName;members": the file is separated by ";", not commas; save it as comma-separated CSV`},
		},
		{
			name:     "separated by tabs",
			data:     "displayName\tmembers\nA\ta@example.com\n",
			problems: []string{`t.csv:1:1: the header is one cell, "displayName\tmembers": the file is separated by "\t", not commas; save it as comma-separated CSV`},
		},
		{
			name:     "no rows",
			data:     "displayName\n",
			problems: []string{"t.csv:1:1: the file has a header and no rows: list at least one space"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Parse("t.csv", []byte(tt.data), Options{})
			if tt.problems != nil {
				var ps Problems
				if !errors.As(err, &ps) {
					t.Fatalf("Parse(%q) = %v, want problems %q", tt.data, err, tt.problems)
				}
				var got []string
				for _, p := range ps {
					got = append(got, p.String())
				}
				if !slices.Equal(got, tt.problems) {
					t.Fatalf("Parse(%q) problems:\n%s\nwant:\n%s", tt.data, strings.Join(got, "\n"), strings.Join(tt.problems, "\n"))
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.data, err)
			}
			if len(cfg.Spaces) != len(tt.want) {
				t.Fatalf("Parse(%q) = %d spaces, want %d", tt.data, len(cfg.Spaces), len(tt.want))
			}
			for i, w := range tt.want {
				g := cfg.Spaces[i]
				if g.DisplayName != w.DisplayName || g.Key != w.Key || !slices.Equal(g.Members, w.Members) || !slices.Equal(g.Owners, w.Owners) ||
					!slices.Equal(g.Managers, w.Managers) || g.History != w.History || g.Adopt != w.Adopt {
					t.Errorf("Parse(%q) space %d = %+v, want %+v", tt.data, i, g, w)
				}
			}
		})
	}
}

// TestIncludeCSV: the rows of an included CSV file are spaces with the
// YAML's defaults, and the reader is handed the path joined to the
// config's directory.
func TestIncludeCSV(t *testing.T) {
	t.Parallel()
	files := map[string]string{"conf/teams.csv": "displayName,owners\nA,\nB,b@example.com\n"}
	read := func(path string) ([]byte, error) {
		if s, ok := files[path]; ok {
			return []byte(s), nil
		}
		return nil, os.ErrNotExist
	}
	cfg, err := Parse("conf/spaces.yaml", []byte("defaults:\n  owners: [lead@example.com]\ninclude: [teams.csv]\n"), Options{Include: read})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range cfg.Spaces {
		got = append(got, s.DisplayName+":"+strings.Join(s.Owners, "+"))
	}
	want := []string{"A:users/lead@example.com", "B:users/lead@example.com+users/b@example.com"}
	if !slices.Equal(got, want) {
		t.Fatalf("Parse with include = %q, want %q", got, want)
	}
	if _, err := Parse("conf/spaces.yaml", []byte("include: [/etc/teams.csv, ../teams.csv, sub/../../teams.csv]\n"), Options{Include: read}); err == nil || strings.Count(err.Error(), "the path must be relative to the config's directory, and stay in it") != 3 {
		t.Fatalf("Parse with includes outside the config's directory = %v", err)
	}
	for _, empty := range []string{"include: []\n", "include:\n", "include: []\nspaces: []\n"} {
		if _, err := Parse("spaces.yaml", []byte(empty), Options{Include: read}); err == nil || !strings.Contains(err.Error(), "include is empty") {
			t.Errorf("Parse(%q) = %v, want include is empty", empty, err)
		}
	}
	if _, err := Parse("spaces.yaml", []byte("include: [teams.csv]\n"), Options{}); err == nil || !strings.Contains(err.Error(), "spaces.yaml:1:11: include \"teams.csv\": this config cannot include files here") {
		t.Fatalf("Parse with include and no reader = %v", err)
	}
}

// FuzzParseCSV: a CSV config never panics nor hangs; its problems have a
// position within the file, in order; a config it accepts has a space for
// each row that is not blank.
func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("displayName,members\nA,a@example.com\n"))
	f.Add([]byte("\uFEFFkey,displayName,members,owners,history,adopt\r\nk,\"A, B\",\"a@example.com;\nb@example.com\",a@example.com,on,TRUE\r\n,,,,,\r\n"))
	f.Add([]byte("displayName,descriptoin,members,members\n,x,\"y\nA,\"b\"c,\n"))
	if data, err := os.ReadFile("../../spaces.example.csv"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		type result struct {
			cfg *Config
			err error
		}
		done := make(chan result, 1)
		go func() {
			cfg, err := Parse("f.csv", data, Options{})
			done <- result{cfg, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Parse(%q) did not return within 10s", data)
		}
		if r.err != nil {
			var ps Problems
			if !errors.As(r.err, &ps) || len(ps) == 0 || r.cfg != nil {
				t.Fatalf("Parse(%q) = %v, %#v; want problems alone", data, r.cfg, r.err)
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			for _, p := range ps {
				if p.Line < 1 || p.Col < 1 || p.Line > lines {
					t.Fatalf("Parse(%q) problem without a position in the file's %d lines: %v", data, lines, p)
				}
			}
			if !slices.IsSortedFunc(ps, func(a, b Problem) int {
				if a.Line != b.Line {
					return a.Line - b.Line
				}
				return a.Col - b.Col
			}) {
				t.Fatalf("Parse(%q) problems not sorted: %v", data, ps)
			}
			return
		}
		rd := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))))
		rd.FieldsPerRecord = -1
		rows := -1 // the header
		for {
			rec, err := rd.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("Parse(%q) accepted a file encoding/csv refuses: %v", data, err)
			}
			if rows < 0 || !blank(rec) {
				rows++
			}
		}
		if len(r.cfg.Spaces) != rows || rows == 0 {
			t.Fatalf("Parse(%q) = %d spaces, the file has %d rows", data, len(r.cfg.Spaces), rows)
		}
		for _, s := range r.cfg.Spaces {
			if s.DisplayName == "" || s.Key == "" {
				t.Fatalf("Parse(%q) accepted a space without a name: %+v", data, s)
			}
		}
	})
}

// TestExampleCSV: the example beside spaces.example.yaml is valid.
func TestExampleCSV(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../spaces.example.csv")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("spaces.example.csv", data, Options{})
	if err != nil {
		t.Fatalf("Parse(spaces.example.csv) = %v", err)
	}
	if len(cfg.Spaces) != 5 {
		t.Errorf("spaces.example.csv has %d spaces, want 5", len(cfg.Spaces))
	}
}
