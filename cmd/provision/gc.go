package main

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The collector's default (GOGC=100) lets the heap grow to twice what is
// live before it collects. For a small config that is a few megabytes and
// costs nothing; for one of 100,000 spaces, whose config, results and plan
// are about 145 MB live, it doubles the process's memory. So the command
// keeps the growth between collections to heapHeadroom, or a tenth of the
// live heap when that is more: the same as the default while less than
// heapHeadroom is live, and never tighter than GOGC=10, so that the
// collector never runs for every few megabytes allocated (a fixed memory
// limit near the live heap would). It follows the live heap as a run goes,
// since the results grow with the spaces recorded. What it costs in time
// and saves in memory at 100,000 spaces is measured in BENCHMARKS.md
// ("Fourth pass"). A user who sets GOGC or GOMEMLIMIT keeps their choice.
const (
	heapHeadroom   = 16 << 20
	minGCPercent   = 10
	gcPollInterval = 50 * time.Millisecond
)

// tuneGC starts following the live heap (see heapHeadroom), unless the
// environment sets the collector's own knobs. main calls it; tests, which
// run many commands in one process, do not.
func tuneGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	go func() {
		samples := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
		var cycles uint64
		percent := 100
		for range time.Tick(gcPollInterval) {
			metrics.Read(samples)
			if c := samples[0].Value.Uint64(); c != cycles {
				cycles = c
				if p := gcPercent(samples[1].Value.Uint64()); p != percent {
					percent = p
					debug.SetGCPercent(p)
				}
			}
		}
	}()
}

// gcPercent is the GOGC that lets a heap of live bytes grow by
// heapHeadroom, or by a tenth when that is more, before the next
// collection; at most 100, the default.
func gcPercent(live uint64) int {
	if live <= heapHeadroom {
		return 100
	}
	return max(minGCPercent, int(100*heapHeadroom/live))
}
