package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	out := provision(t, "--version")
	if out.code != exitOK || !regexp.MustCompile(`^provision \S+, (revision \S+( \(modified\))?( of \S+)?|revision unknown), go1\.\d+`).MatchString(out.stdout) || strings.Count(out.stdout, "\n") != 1 {
		t.Fatalf("--version: exit %d, stdout %q; want one line naming version, revision and Go", out.code, out.stdout)
	}
}

// TestMetrics: --metrics writes the Prometheus text format, which parses
// back with Prometheus's own parser into the run's counts; a failed run
// keeps the time of the last success.
func TestMetrics(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t)
	dir := t.TempDir()
	config := writeConfig(t, dir, 3, func(i int) ([]string, []string) { return teamMembers(i, 2) })
	metrics := filepath.Join(dir, "provision.prom")
	out := provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", "--metrics", metrics, config)
	if out.code != exitOK {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	mfs := parseMetrics(t, metrics)
	want := map[string]float64{
		`provision_spaces{outcome="created"}`:                   3,
		`provision_spaces{outcome="failed"}`:                    0,
		`provision_members{outcome="added"}`:                    6,
		`provision_api_calls{code="200",method="spaces.setup"}`: 3,
		`provision_exit_status`:                                 0,
		`provision_space_writes`:                                3,
		`provision_throttled`:                                   0,
	}
	for k, v := range want {
		if got, ok := mfs[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	success := mfs["provision_last_success_timestamp_seconds"]
	if success == 0 {
		t.Fatal("no last success time")
	}
	if _, ok := mfs[`provision_build_info`]; ok {
		t.Fatal("build info without labels")
	}

	// A run that fails: exit 1 in the file, the last success kept.
	emu.AddHiddenSpace("Team 4")
	config = writeConfig(t, dir, 4, nil)
	out = provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", "--metrics", metrics, config)
	if out.code != exitFailed {
		t.Fatalf("exit %d, want 1", out.code)
	}
	mfs = parseMetrics(t, metrics)
	if mfs["provision_exit_status"] != 1 || mfs[`provision_spaces{outcome="failed"}`] != 1 || mfs["provision_last_success_timestamp_seconds"] != success {
		t.Fatalf("after a failed run: exit %v, failed %v, last success %v (was %v)", mfs["provision_exit_status"], mfs[`provision_spaces{outcome="failed"}`], mfs["provision_last_success_timestamp_seconds"], success)
	}
}

// parseMetrics reads a metrics file with Prometheus's text parser into
// series → value, a series written as name{label="v",…} with labels sorted.
func parseMetrics(t *testing.T, path string) map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("the metrics file does not parse: %v", err)
	}
	out := make(map[string]float64)
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := name
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

// TestExport: --export lists every space of the config with its URL,
// status, member count and owners, as CSV or Markdown, after a run and
// from the results alone with --plan.
func TestExport(t *testing.T) {
	t.Parallel()
	_, url := newEmu(t)
	dir := t.TempDir()
	yaml := "spaces:\n  - displayName: \"=Team, One\"\n    members: [a@example.com, b@example.com]\n    owners: [a@example.com]\n  - displayName: \"Team | Two\"\n"
	config := filepath.Join(dir, "spaces.yaml")
	if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(dir, "list.csv")
	if out := provision(t, "--plan", "--export", csvPath, config); out.code != exitOK {
		t.Fatalf("--plan --export: exit %d\n%s", out.code, out.stderr)
	}
	rows := readCSV(t, csvPath)
	if len(rows) != 3 || rows[1][2] != "not created" || rows[1][0] != "'=Team, One" {
		t.Fatalf("export before any run: %q", rows)
	}
	if out := provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", "--export", csvPath, config); out.code != exitOK {
		t.Fatalf("run --export: exit %d\n%s", out.code, out.stderr)
	}
	rows = readCSV(t, csvPath)
	if rows[1][2] != "created" || !strings.HasPrefix(rows[1][1], "https://") || rows[1][3] != "2" || rows[1][4] != "a@example.com" {
		t.Fatalf("export after the run: %q", rows)
	}
	md := filepath.Join(dir, "list.md")
	if out := provision(t, "--plan", "--export", md, config); out.code != exitOK {
		t.Fatalf("--plan --export .md: exit %d\n%s", out.code, out.stderr)
	}
	data, _ := os.ReadFile(md)
	if !strings.Contains(string(data), `| Team \| Two |`) || !strings.Contains(string(data), "[open](https://") || strings.Count(string(data), "\n") != 4 {
		t.Fatalf("markdown export:\n%s", data)
	}
	if out := provision(t, "--plan", "--export", filepath.Join(dir, "list.xlsx"), config); out.code != exitUsage {
		t.Fatalf("--export .xlsx: exit %d, want 2", out.code)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestReportDirectoryChecked: an --export or --metrics file in a directory
// that does not exist is refused before any call.
func TestReportDirectoryChecked(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t)
	dir := t.TempDir()
	config := writeConfig(t, dir, 1, nil)
	for _, flag := range []string{"--export", "--metrics"} {
		out := provision(t, "--auth", "none", "--endpoint", url, flag, filepath.Join(dir, "missing", "x.csv"), config)
		if out.code != exitUsage || !strings.Contains(out.stderr, "its directory does not exist") {
			t.Fatalf("%s into a missing directory: exit %d, %s", flag, out.code, out.stderr)
		}
	}
	if st := emu.Stats(); len(st.Calls) != 0 {
		t.Fatalf("calls were made: %v", st.Calls)
	}
}

// TestMetricsIntoAPipe: a named pipe planted at the metrics path neither
// hangs the run nor is read; it is replaced by the file.
func TestMetricsIntoAPipe(t *testing.T) {
	t.Parallel()
	_, url := newEmu(t)
	dir := t.TempDir()
	config := writeConfig(t, dir, 1, nil)
	fifo := filepath.Join(dir, "m.prom")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no named pipes here:", err)
	}
	done := make(chan outcome, 1)
	go func() { done <- provision(t, "--auth", "none", "--endpoint", url, "--metrics", fifo, config) }()
	select {
	case out := <-done:
		if out.code != exitOK {
			t.Fatalf("exit %d\n%s", out.code, out.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the run hangs on a named pipe at the metrics path")
	}
	if fi, err := os.Lstat(fifo); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("metrics path after the run: %v, %v; want a regular file", fi, err)
	}
}

// TestMetricsNeverOverwritesTheRunsFiles: a --metrics path that names a
// file of the run (the config, the results file, its journal or its lock,
// however the path is spelt), or any file that is not a metrics file, is
// refused before any call and never written: the metrics would replace
// the config or the state.
func TestMetricsNeverOverwritesTheRunsFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		metrics func(dir string) string
	}{
		{"the config, spelt another way", func(dir string) string { return filepath.Join(dir, ".") + "/./spaces.yaml" }},
		{"the results file, spelt another way", func(dir string) string { return dir + "//spaces.results.json" }},
		{"the journal", func(dir string) string { return filepath.Join(dir, "spaces.results.json.journal") }},
		{"the lock", func(dir string) string { return filepath.Join(dir, "spaces.results.json.lock") }},
		{"an included CSV file", func(dir string) string { return filepath.Join(dir, "teams.csv") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu, url := newEmu(t)
			dir := t.TempDir()
			config := filepath.Join(dir, "spaces.yaml")
			teams := filepath.Join(dir, "teams.csv")
			if err := os.WriteFile(config, []byte("include: [teams.csv]\nspaces:\n  - displayName: Leads\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(teams, []byte("displayName\nPlatform\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			// A first run: the results file exists, as does its lock.
			if out := provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", config); out.code != exitOK {
				t.Fatalf("first run: exit %d\n%s", out.code, out.stderr)
			}
			cfgBefore, _ := os.ReadFile(config)
			teamsBefore, _ := os.ReadFile(teams)
			writes := len(emu.Stats().Calls)
			if err := os.WriteFile(config, append(cfgBefore, "  - displayName: Sales\n"...), 0o644); err != nil {
				t.Fatal(err)
			}
			cfgBefore, _ = os.ReadFile(config)
			out := provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", "--metrics", tc.metrics(dir), config)
			if out.code != exitUsage {
				t.Errorf("--metrics %s: exit %d, want 2\n%s", tc.metrics(dir), out.code, out.stderr)
			}
			if got := len(emu.Stats().Calls); got != writes {
				t.Errorf("--metrics %s: calls were made: %v", tc.metrics(dir), emu.Stats().Calls)
			}
			if after, _ := os.ReadFile(config); string(after) != string(cfgBefore) {
				t.Errorf("--metrics %s overwrote the config:\n%s", tc.metrics(dir), after)
			}
			if after, _ := os.ReadFile(teams); string(after) != string(teamsBefore) {
				t.Errorf("--metrics %s overwrote the included CSV file:\n%s", tc.metrics(dir), after)
			}
			// The state is whole: the next run reads it.
			if out := provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", config); out.code != exitOK {
				t.Errorf("the run after: exit %d\n%s", out.code, out.stderr)
			}
		})
	}
	// A refused command line whose --metrics names the results file of a
	// first run leaves no file there for the next run to trip on.
	dir := t.TempDir()
	config := writeConfig(t, dir, 1, nil)
	state := filepath.Join(dir, "spaces.results.json")
	if out := provision(t, "--metrics", state, "--rate", "-1", config); out.code != exitUsage {
		t.Fatalf("exit %d, want 2", out.code)
	}
	if _, err := os.Lstat(state); err == nil {
		t.Errorf("a refused command line wrote its metrics where the results file goes")
	}
}
