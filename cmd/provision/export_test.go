package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"provision/internal/plan"
	"provision/internal/results"
)

// formulaStarts are the first characters a spreadsheet reads as the start
// of a formula in a CSV cell.
var formulaStarts = []string{"=", "+", "-", "@", "\t", "\r"}

// TestExportNeutralisesEveryCell: whichever column a formula comes in by
// (a display name, a URL or a status from the results file, an owner's
// address), the CSV cell starts with an apostrophe, which spreadsheets show
// as text.
func TestExportNeutralisesEveryCell(t *testing.T) {
	t.Parallel()
	columns := []string{"Space", "URL", "Status", "Members", "Owners"}
	for col, column := range columns {
		for _, start := range formulaStarts {
			value := start + "cmd|' /C calc'!A0"
			name := "Team"
			en := &results.Entry{Name: "spaces/T", URL: "https://chat.google.com/room/T", Status: results.Created,
				Applied: &results.Applied{Members: []string{"users/a@example.com"}, Owners: []string{"users/a@example.com"}}}
			switch column {
			case "Space":
				name = value
			case "URL":
				en.URL = value
			case "Status":
				en.Status = results.Status(value)
			case "Members":
				// A count: a number, never a formula; checked below with
				// the other columns all the same.
			case "Owners":
				en.Applied.Owners = []string{"users/" + value + "@example.com", "users/b@example.com"}
			}
			cfg := &plan.Config{Spaces: []plan.Space{{DisplayName: name}}}
			f := &results.File{Spaces: map[string]*results.Entry{name: en}}
			path := filepath.Join(t.TempDir(), "list.csv")
			if err := writeExport(path, cfg, f); err != nil {
				t.Fatal(err)
			}
			rows := readCSV(t, path)
			if len(rows) != 2 || len(rows[1]) != len(columns) {
				t.Fatalf("%s %q: rows %q", column, start, rows)
			}
			for i, cell := range rows[1] {
				if cell != "" && strings.ContainsAny(cell[:1], strings.Join(formulaStarts, "")) {
					t.Errorf("%s starting with %q: column %s is %q, which a spreadsheet reads as a formula", column, start, columns[i], cell)
				}
			}
			if column != "Members" && !strings.HasPrefix(rows[1][col], "'"+start) {
				t.Errorf("%s starting with %q: cell %q, want it quoted with an apostrophe", column, start, rows[1][col])
			}
		}
	}
}

// TestExportOwnerFormula: an owner whose address is a formula, created
// through a run, is exported as text.
func TestExportOwnerFormula(t *testing.T) {
	t.Parallel()
	_, url := newEmu(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "spaces.yaml")
	yaml := "spaces:\n  - displayName: \"Team\"\n    owners: [\"=cmd|calc!a0@example.com\"]\n"
	if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(dir, "list.csv")
	if out := provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", "--export", csvPath, config); out.code != exitOK {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	rows := readCSV(t, csvPath)
	if len(rows) != 2 || rows[1][4] != "'=cmd|calc!a0@example.com" {
		t.Fatalf("export: %q; want the owner quoted as text", rows)
	}
}

// TestExportNeverOverwritesAnIncludedFile: --export names where the list
// goes; a path that is a CSV file the config includes (the team list kept
// in a spreadsheet), or the CSV config itself under another spelling, is
// refused before any call and left as it was.
func TestExportNeverOverwritesAnIncludedFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, config, export string
	}{
		{"an included CSV file", "spaces.yaml", "teams.csv"},
		{"an included CSV file, spelt another way", "spaces.yaml", "./sub/../teams.csv"},
		{"the CSV config, spelt another way", "teams.csv", "./teams.csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu, url := newEmu(t)
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			teams := filepath.Join(dir, "teams.csv")
			files := map[string]string{
				"spaces.yaml": "include: [teams.csv]\nspaces:\n  - displayName: Leads\n",
				"teams.csv":   "displayName\nPlatform\n",
			}
			for name, text := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := provision(t, "--auth", "none", "--endpoint", url, "--rate", "0",
				"--export", filepath.Join(dir, tc.export), filepath.Join(dir, tc.config))
			if out.code != exitUsage {
				t.Errorf("exit %d, want 2\n%s", out.code, out.stderr)
			}
			if st := emu.Stats(); len(st.Calls) != 0 {
				t.Errorf("calls were made: %v", st.Calls)
			}
			if got, _ := os.ReadFile(teams); string(got) != files["teams.csv"] {
				t.Errorf("--export %s overwrote teams.csv:\n%s", tc.export, got)
			}
		})
	}
}
