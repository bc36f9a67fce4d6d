package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/renameio/v2"

	"provision/internal/apply"
	"provision/internal/plan"
	"provision/internal/results"
)

// exportRow is one space of the shareable list.
type exportRow struct {
	name, url, status string
	members           int
	owners            []string
}

// exportRows lists every space of the config, in its order, as the results
// file has it: a space not recorded yet is "not created".
func exportRows(cfg *plan.Config, f *results.File) []exportRow {
	// Each space's entry as the planner finds it (by key, in any case or
	// Unicode form, or under the name it had before a rename).
	keys := plan.MatchRecords(cfg.Spaces, apply.Records(f, nil))
	rows := make([]exportRow, 0, len(cfg.Spaces))
	for i, s := range cfg.Spaces {
		row := exportRow{name: s.DisplayName, status: "not created"}
		if en := f.Spaces[keys[i]]; keys[i] != "" && en != nil {
			row.url, row.status = en.URL, string(en.Status)
			if en.Applied != nil {
				row.members = len(en.Applied.Members)
				for _, o := range en.Applied.Owners {
					row.owners = append(row.owners, strings.TrimPrefix(o, "users/"))
				}
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// writeExport writes the list of the config's spaces to path, as CSV or,
// for a .md file, a Markdown table; atomically, like every file this tool
// writes.
func writeExport(path string, cfg *plan.Config, f *results.File) error {
	rows := exportRows(cfg, f)
	var buf bytes.Buffer
	header := []string{"Space", "URL", "Status", "Members", "Owners"}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".md", ".markdown":
		cell := func(s string) string {
			// A pipe ends a cell and a line break a row, and the other
			// marks would format, link or tag: none may come from a
			// display name.
			s = mdEscaper.Replace(s)
			return strings.Join(strings.Fields(s), " ")
		}
		fmt.Fprintf(&buf, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
		for _, r := range rows {
			link := ""
			if r.url != "" {
				link = fmt.Sprintf("[open](%s)", strings.ReplaceAll(r.url, ")", "%29"))
			}
			fmt.Fprintf(&buf, "| %s | %s | %s | %d | %s |\n", cell(r.name), link, r.status, r.members, cell(strings.Join(r.owners, ", ")))
		}
	default:
		w := csv.NewWriter(&buf)
		_ = w.Write(header)
		for _, r := range rows {
			// Every cell, not only the name: an owner's address
			// (=cmd|calc!a0@example.com is a valid one), a URL or a status
			// read from a results file can start a formula as well.
			record := []string{r.name, r.url, r.status, strconv.Itoa(r.members), strings.Join(r.owners, " ")}
			for i := range record {
				record[i] = csvSafe(record[i])
			}
			_ = w.Write(record)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err := renameio.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing the export: %w", err)
	}
	return nil
}

// mdEscaper takes Markdown's meaning out of text put in a table cell.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`",
	"[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "#", `\#`)

// csvSafe keeps a spreadsheet from reading a cell as a formula (=, +, -,
// @, a tab or a carriage return at the start: CSV injection, as OWASP
// describes it) by quoting it with a leading apostrophe, which
// spreadsheets show as text.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
