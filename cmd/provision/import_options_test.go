package main

import (
	"io"
	"strings"
	"testing"
)

// TestParseImportArgs: provision import FILE takes the flags of a run that
// reads, and --query; the results file defaults as for a config.
func TestParseImportArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args                   []string
		config, results, query string
		admin                  bool
	}{
		{[]string{"import", "teams.yaml"}, "teams.yaml", "teams.results.json", "", false},
		{[]string{"import", "--admin", "--query", "Onboarding 2026", "dir/all.yml"}, "dir/all.yml", "dir/all.results.json", "Onboarding 2026", true},
		{[]string{"import", "teams.yaml", "--results", "state.json", "-v"}, "teams.yaml", "state.json", "", false},
	} {
		o, err := parseArgs(tc.args, io.Discard)
		if err != nil {
			t.Errorf("parseArgs(%q) = %v", tc.args, err)
			continue
		}
		if !o.importing || o.config != tc.config || o.results != tc.results || o.query != tc.query || o.admin != tc.admin {
			t.Errorf("parseArgs(%q) = import %v, config %q, results %q, query %q, admin %v; want %q %q %q %v",
				tc.args, o.importing, o.config, o.results, o.query, o.admin, tc.config, tc.results, tc.query, tc.admin)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"import"}, "one file to write expected, got 0"},
		{[]string{"import", "a.yaml", "b.yaml"}, "one file to write expected, got 2"},
		{[]string{"import", "teams.csv"}, "name it .yaml or .yml"},
		{[]string{"import", "--plan", "a.yaml"}, "--plan is not for provision import"},
		{[]string{"import", "--prune", "a.yaml"}, "--prune is not for provision import"},
		{[]string{"import", "--auth", "app", "a.yaml"}, "a Chat app (--auth app) has neither"},
		{[]string{"import", "--query", `a"b`, "a.yaml"}, "without quotes"},
		{[]string{"--query", "x", "a.yaml"}, "--query is for provision import"},
	} {
		_, err := parseArgs(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseArgs(%q) = %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
}
