// Command provbench measures provision against its emulator and prints the table of BENCHMARKS.md.
//
// It runs bin/provision against bin/chatemu (both built by make build) as
// separate processes on loopback, as a user would, plus the go test
// benchmarks of the planner, the journal and the whole command in-process:
//
//   - overhead: N spaces with no quota and no latency (--rate 0): wall time
//     and peak RSS of the provision process, allocations per space (in-process);
//   - quota use: the emulator allowing Q space writes a second, the tool set
//     higher: achieved rate / Q and 429s per space;
//   - creation limit: a server that allows a few creates per short window
//     and a cap per long window (a "minute" and an "hour" scaled down), with
//     429s and no Retry-After, as Google documents it, the tool above the
//     short limit: the time the fastest possible client takes over the
//     run's, and 429s per space, three runs of each of three scenarios;
//   - roles: spaces of 60 members with owners and managers (spaces.setup,
//     members.create past 49, members.patch per role) against a space-write
//     and a membership-write quota: elapsed time against the larger of
//     space writes ÷ space quota and membership writes ÷ membership quota.
//     These two run side by side (each waits on its own emulator's quotas);
//   - latency hiding: 400 ms per call, 10 writes/s allowed: elapsed against
//     the ideal and against a client that creates one space at a time;
//   - members: space writes and membership writes for spaces of 40 members,
//     spaces.setup against create-then-add;
//   - soak: many spaces with 5% of calls failing and 1% of answers lost,
//     the provision process's RSS sampled every second.
//
// Usage (from the repository root; make bench does this):
//
//	go run ./cmd/provbench [-bin bin] [-soak 100000] [-quick] [-repeat 3] [-only WORDS]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// bench holds what every scenario needs.
type bench struct {
	bin    string // directory of provision and chatemu
	work   string // scratch directory for configs and results files
	log    io.Writer
	quick  bool
	soak   int
	repeat int // runs of each creation-limit scenario
	rep    report
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("provbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	b := &bench{log: stderr}
	fs.StringVar(&b.bin, "bin", "bin", "`directory` holding the provision and chatemu binaries")
	fs.IntVar(&b.soak, "soak", 100_000, "spaces in the soak run (0: no soak)")
	fs.BoolVar(&b.quick, "quick", false, "smaller sizes, for a trial of the benchmark itself")
	fs.IntVar(&b.repeat, "repeat", 3, "runs of each creation-limit scenario (side by side), for the spread")
	only := fs.String("only", "", "run only the steps whose names contain one of these comma-separated `words` (e.g. quota,latency)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, name := range []string{"provision", "chatemu"} {
		if _, err := os.Stat(filepath.Join(b.bin, name)); err != nil {
			fmt.Fprintf(stderr, "provbench: %v (run make build first)\n", err)
			return 2
		}
	}
	work, err := os.MkdirTemp("", "provbench-")
	if err != nil {
		fmt.Fprintf(stderr, "provbench: %v\n", err)
		return 1
	}
	defer os.RemoveAll(work)
	b.work = work

	start := time.Now()
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"go test benchmarks of the planner and the journal", b.unitBenchmarks},
		{"overhead: the provision binary, quotas off", b.overhead},
		{"overhead: allocations, the command in-process", b.allocations},
		{"quota use", b.quota},
		{"creation limit, and members with roles under quotas (side by side)", b.throttled},
		{"latency hiding", b.latency},
		{"members", b.members},
		{"soak", b.soakRun},
		{"refresh under the read quota", b.refresh},
	}
	failed := false
	for _, s := range steps {
		if !selected(s.name, *only) {
			continue
		}
		fmt.Fprintf(stderr, "provbench: %s…\n", s.name)
		if err := s.fn(ctx); err != nil {
			fmt.Fprintf(stderr, "provbench: %s: %v\n", s.name, err)
			b.rep.errors = append(b.rep.errors, fmt.Sprintf("%s: %v", s.name, err))
			failed = true
		}
	}
	b.rep.total = time.Since(start)
	b.rep.write(stdout)
	if failed {
		return 1
	}
	return 0
}

// stepf logs the progress of a step on stderr.
func (b *bench) stepf(format string, args ...any) {
	fmt.Fprintf(b.log, "  "+format+"\n", args...)
}

// selected reports whether a step named name is among the words of only
// ("" selects every step).
func selected(name, only string) bool {
	if only == "" {
		return true
	}
	for _, w := range strings.Split(only, ",") {
		if w != "" && strings.Contains(name, w) {
			return true
		}
	}
	return false
}
