package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// TestResultsFileWithSecondNameRefused: "state files that could be turned
// against their owner: the results file, its journal or its lock as … a
// file with a second name (a hard link)" are refused before any call, by
// a run and by --plan, naming the file. (Replacing the results file would
// leave its other name behind with the old state.)
func TestResultsFileWithSecondNameRefused(t *testing.T) {
	t.Parallel()
	emu, url := newEmu(t)
	dir := t.TempDir()
	config := writeConfig(t, dir, 1, nil)
	res := filepath.Join(dir, "spaces.results.json")
	if out := provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", config); out.code != exitOK {
		t.Fatalf("first run: exit %d\n%s", out.code, out.stderr)
	}
	other := filepath.Join(t.TempDir(), "backup.json")
	if err := os.Link(res, other); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	before, _ := os.ReadFile(other)
	writeConfig(t, dir, 2, nil)
	calls := emu.Stats().Calls
	for _, args := range [][]string{
		{"--auth", "none", "--endpoint", url, "--rate", "0", config},
		{"--plan", config},
	} {
		out := provision(t, args...)
		if out.code != exitUsage || !strings.Contains(out.stderr, "has 2 names (hard links)") || !strings.Contains(out.stderr, res) {
			t.Errorf("provision %q with the results file hard-linked = exit %d, stderr:\n%s\nwant exit 2 naming it", args, out.code, out.stderr)
		}
	}
	if after, _ := os.ReadFile(other); string(after) != string(before) {
		t.Errorf("the other name of the results file changed")
	}
	if st := emu.Stats(); len(st.Calls) != len(calls) || calls["spaces.create"][200] != st.Calls["spaces.create"][200] {
		t.Errorf("calls were made: %v, before %v", st.Calls, calls)
	}
}

// TestResultsKeysAsWritten: "Keys are … a space's key:, or its display
// name, as written in the config but for surrounding white space, which is
// taken off, and the Unicode form, which is NFC; case is kept."
func TestResultsKeysAsWritten(t *testing.T) {
	t.Parallel()
	_, url := newEmu(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "spaces.yaml")
	nfd := norm.NFD.String("Café")
	yaml := "spaces:\n  - displayName: \"  " + nfd + " Team \"\n  - displayName: \"Ops\"\n    key: \"  OPS-Key \"\n"
	if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := provision(t, "--auth", "none", "--endpoint", url, "--rate", "0", config); out.code != exitOK {
		t.Fatalf("exit %d\n%s", out.code, out.stderr)
	}
	f := resultsOf(t, filepath.Join(dir, "spaces.results.json"))
	var keys []string
	for k := range f.Spaces {
		keys = append(keys, k)
	}
	for _, want := range []string{"Café Team", "OPS-Key"} {
		if f.Spaces[want] == nil {
			t.Errorf("results keys %q, want %q (trimmed, NFC, case kept)", keys, want)
		}
	}
	if !norm.NFC.IsNormalString("Café Team") || errors.Is(nil, os.ErrNotExist) {
		t.Fatal("the test's own key is not NFC")
	}
}
