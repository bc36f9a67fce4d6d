package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// benchLine is one result line of go test -bench.
type benchLine struct {
	name    string // without the -GOMAXPROCS suffix
	text    string // the line as printed
	metrics map[string]float64
}

// goBench runs go test -bench pattern on pkg with extra test-binary args,
// and returns its result lines.
func goBench(pkg, pattern string, benchtime string, args ...string) ([]benchLine, error) {
	cmdArgs := []string{"test", "-run", "^$", "-bench", pattern, "-benchmem", "-count", "1"}
	if benchtime != "" {
		cmdArgs = append(cmdArgs, "-benchtime", benchtime)
	}
	cmdArgs = append(cmdArgs, pkg)
	if len(args) > 0 {
		cmdArgs = append(append(cmdArgs, "-args"), args...)
	}
	cmd := exec.Command("go", cmdArgs...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(cmdArgs, " "), err, out.String())
	}
	var lines []benchLine
	for l := range strings.Lines(out.String()) {
		f := strings.Fields(l)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		bl := benchLine{name: f[0], text: strings.TrimSpace(l), metrics: map[string]float64{}}
		if i := strings.LastIndexByte(bl.name, '-'); i > 0 {
			bl.name = bl.name[:i]
		}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				bl.metrics[f[i+1]] = v
			}
		}
		lines = append(lines, bl)
	}
	return lines, nil
}

// find returns the line named name, or an empty one.
func find(lines []benchLine, name string) benchLine {
	for _, l := range lines {
		if l.name == name {
			return l
		}
	}
	return benchLine{metrics: map[string]float64{}}
}
