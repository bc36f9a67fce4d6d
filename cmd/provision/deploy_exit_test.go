package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestDeployAlertExitStatuses: the systemd alert script says what each
// exit status of provision means, 2 and 3 as needing a person, and the
// Prometheus rules page on both.
func TestDeployAlertExitStatuses(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	script, err := filepath.Abs(filepath.Join(deployDir, "systemd/provision-alert"))
	if err != nil {
		t.Fatal(err)
	}
	for status, want := range map[string]string{
		"1":   "retries by itself",
		"2":   "nothing was applied. A person must look",
		"3":   "stopped mid-way",
		"130": "the next run resumes",
	} {
		cmd := exec.Command(sh, script, "provision.service")
		// No mail, no systemctl: the script says what it would send.
		cmd.Env = []string{"PATH=" + t.TempDir(), "MONITOR_EXIT_STATUS=" + status, "MONITOR_SERVICE_RESULT=exit-code"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("provision-alert with status %s: %v\n%s", status, err, out)
		}
		if !strings.Contains(string(out), "exited with status "+status+": ") || !strings.Contains(string(out), want) {
			t.Errorf("provision-alert with status %s says %q, want it to say %q", status, out, want)
		}
		if status == "3" && !strings.Contains(string(out), "A person must look") {
			t.Errorf("provision-alert with status 3 says %q, want a person called", out)
		}
	}

	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert  string            `yaml:"alert"`
				Expr   string            `yaml:"expr"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(deployDir, "prometheus/provision.rules.yml"))), &rules); err != nil {
		t.Fatal(err)
	}
	for _, status := range []string{"2", "3"} {
		paged := false
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				if strings.Contains(r.Expr, "provision_exit_status == "+status) && r.Labels["severity"] == "page" {
					paged = true
				}
			}
		}
		if !paged {
			t.Errorf("no Prometheus rule pages on provision_exit_status == %s", status)
		}
	}
}
