package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestOneYAMLParser checks that one YAML module is linked into the
// program, and its tests: YAML v3, the design's choice (README,
// "Dependencies").
func TestOneYAMLParser(t *testing.T) {
	t.Parallel()
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("no build information in this binary")
	}
	var yaml []string
	for _, m := range info.Deps {
		if strings.Contains(strings.ToLower(m.Path), "yaml") {
			yaml = append(yaml, m.Path)
		}
	}
	if len(yaml) != 1 || yaml[0] != "go.yaml.in/yaml/v3" {
		t.Errorf("YAML modules linked = %q, want only go.yaml.in/yaml/v3", yaml)
	}
}
