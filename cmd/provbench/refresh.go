package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// refreshRow is a --plan --refresh of recorded spaces under the read quota.
type refreshRow struct {
	n          int
	elapsed    time.Duration
	reads      int // spaces.get answered 200
	throttled  int // 429s the emulator sent
	progress   int // progress lines on stderr
	quota      int // reads per minute the emulator allows
	windowSecs float64
}

// refresh records n spaces (quotas off), then plans with --refresh against
// the documented read quota (3,000 a minute, a sliding minute): the refresh
// must never exceed it (no 429) and must show progress.
func (b *bench) refresh(context.Context) error {
	n := 10_000
	if b.quick {
		n = 1_000
	}
	const quota = 3000
	emu, err := b.startEmulator("--space-quota", "0", "--member-quota", "0", "--read-quota", fmt.Sprint(quota))
	if err != nil {
		return err
	}
	defer emu.stop()
	config := filepath.Join(b.work, "refresh.yaml")
	if err := writeConfig(config, "Refresh", n, 0); err != nil {
		return err
	}
	if res, err := b.provision(false, "--endpoint", emu.url, "--rate", "0", "--concurrency", "8", config); err != nil {
		return err
	} else if res.code != 0 {
		return fmt.Errorf("recording %d spaces: exit %d: %s", n, res.code, res.stderr)
	}
	b.stepf("recorded %d spaces; now --plan --refresh under %d reads a minute", n, quota)
	cmd := exec.Command(filepath.Join(b.bin, "provision"), "--auth", "none", "--endpoint", emu.url, "--plan", "--refresh", "--concurrency", "8", config)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("--plan --refresh: %v: %s", err, stderr.String())
	}
	row := refreshRow{n: n, elapsed: time.Since(start), quota: quota, windowSecs: 60}
	st, err := emu.stats()
	if err != nil {
		return err
	}
	row.reads = st.Calls["spaces.get"][200]
	row.throttled = st.Throttled
	row.progress = strings.Count(stderr.String(), "recorded spaces read")
	if !strings.Contains(stdout.String(), fmt.Sprintf("%d unchanged", n)) {
		return fmt.Errorf("--plan --refresh did not find the %d spaces unchanged:\n%s", n, lastLines(stdout.String()))
	}
	b.rep.refresh = &row
	return nil
}

// lastLines is the last lines of s, for an error.
func lastLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}

// refreshReport prints the refresh table and its goal.
func (r *report) refreshReport(p func(string, ...any)) []goal {
	f := r.refresh
	if f == nil {
		return nil
	}
	perMin := float64(f.reads) / f.elapsed.Minutes()
	ideal := time.Duration(float64(f.reads) / float64(f.quota) * float64(time.Minute))
	p("## Refresh: `--plan --refresh` of %d recorded spaces under the read quota", f.n)
	p("")
	p("The emulator allows %d reads in any sliding minute (the documented read quota); the client paces reads at 2,850 a minute, 5%% under it.", f.quota)
	p("")
	p("| spaces | reads (`spaces.get`) | elapsed | reads per minute | ideal at the quota | 429s | progress lines |")
	p("|---:|---:|---:|---:|---:|---:|---:|")
	p("| %d | %d | %s | %.0f | %s | %d | %d |", f.n, f.reads, ms(f.elapsed), perMin, ms(ideal), f.throttled, f.progress)
	p("")
	return []goal{{fmt.Sprintf("refresh of %d spaces stays under the read quota (no 429)", f.n), fmt.Sprintf("%d 429s, %.0f reads/min", f.throttled, perMin), f.throttled == 0}}
}
