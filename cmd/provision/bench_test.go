package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"provision/internal/chatemu"
)

var benchEndpoint = flag.String("bench.endpoint", "",
	"emulator `URL` for BenchmarkProvision, quotas off (default: one in-process, whose own costs are then counted too)")

// BenchmarkProvision runs the whole command in-process, as a user would:
// config parse, plan, apply through the Chat client over loopback HTTP, and
// the results store with fsync. Each iteration creates N new spaces without
// members, each with a description, with --rate 0 --concurrency 8, and
// reports the cost per space.
//
// With -bench.endpoint the emulator runs in another process (cmd/chatemu
// with its quotas off), so the allocation figures are the command's alone.
func BenchmarkProvision(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 20_000, 100_000} {
		b.Run(fmt.Sprintf("spaces=%d", n), func(b *testing.B) {
			endpoint := benchEmulator(b)
			dir := b.TempDir()
			var mallocs, alloced uint64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				config := filepath.Join(dir, fmt.Sprintf("run%d.yaml", i))
				// New names every run: the emulator keeps the spaces of
				// earlier runs and would answer ALREADY_EXISTS.
				writeBenchConfig(b, config, fmt.Sprintf("Bench %d", time.Now().UnixNano()), n)
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.StartTimer()

				var stdout bytes.Buffer
				code := run(context.Background(), []string{"--endpoint", endpoint, "--auth", "none",
					"--rate", "0", "--concurrency", "8", "--json", config}, &stdout, io.Discard)

				b.StopTimer()
				runtime.ReadMemStats(&after)
				mallocs += after.Mallocs - before.Mallocs
				alloced += after.TotalAlloc - before.TotalAlloc
				var sum struct{ Created int }
				if err := json.Unmarshal(stdout.Bytes(), &sum); code != exitOK || err != nil || sum.Created != n {
					b.Fatalf("provision %s = exit %d, %d created (%v), want exit 0, %d created", config, code, sum.Created, err, n)
				}
				b.StartTimer()
			}
			spaces := float64(n) * float64(b.N)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/spaces, "ns/space")
			b.ReportMetric(float64(alloced)/spaces, "B/space")
			b.ReportMetric(float64(mallocs)/spaces, "allocs/space")
		})
	}
}

// benchEmulator returns -bench.endpoint, or the URL of an emulator started
// in-process, quotas off, for b.
func benchEmulator(b *testing.B) string {
	if *benchEndpoint != "" {
		return *benchEndpoint
	}
	srv := httptest.NewServer(chatemu.New(chatemu.WithSpaceQuota(0), chatemu.WithMemberQuota(0), chatemu.WithReadQuota(0)))
	b.Cleanup(srv.Close)
	return srv.URL
}

// writeBenchConfig writes a config of n spaces without members, named
// "PREFIX 000000" onwards, each with a description of its own (the
// config of cmd/provbench's overhead rows).
func writeBenchConfig(tb testing.TB, path, prefix string, n int) {
	tb.Helper()
	var buf strings.Builder
	buf.WriteString("defaults:\n  history: on\nspaces:\n")
	for i := range n {
		fmt.Fprintf(&buf, "  - displayName: %q\n", fmt.Sprintf("%s %06d", prefix, i))
		fmt.Fprintf(&buf, "    description: \"Onboarding space %06d for the platform team\"\n", i)
	}
	if err := os.WriteFile(path, []byte(buf.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
}
