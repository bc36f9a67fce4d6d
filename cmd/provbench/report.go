package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

type overheadRow struct {
	n       int
	elapsed time.Duration // the provision process, start to exit
	maxRSS  int64
	// From BenchmarkProvision, the command in-process.
	inproc, bytes, allocs float64
	// The re-run (nothing to do) and --plan over the same config and
	// results file.
	rerun, plan       time.Duration
	rerunRSS, planRSS int64
}

type quotaRow struct {
	label         string
	q             float64 // writes a second the server allows
	window        time.Duration
	rate          float64 // --rate, a minute
	n             int
	elapsed       time.Duration
	throttled     int   // 429s the emulator sent
	toolThrottled int64 // 429s the tool saw
}

type latencyRow struct {
	n                int
	tool, sequential time.Duration
	toolThrottled    int
	// The tool set just under the quota (590/min).
	under          time.Duration
	underThrottled int
}

type membersRow struct {
	label string
	st    writeCounts
}

type soakRow struct {
	n                                   int
	res                                 *runResult
	unavailable, lost, replays, created int
}

type report struct {
	unit           []benchLine
	overhead       []overheadRow
	provisionLines []string
	clientBytes    float64 // BenchmarkChatCreate's bytes a create: the Chat Go client alone
	quota          []quotaRow
	creation       []creationRow
	roles          *rolesRow
	latency        latencyRow
	membersN       int
	membersM       int
	members        []membersRow
	soak           *soakRow
	refresh        *refreshRow
	total          time.Duration
	errors         []string
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// thousands writes n with commas: 100,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// write prints the report as Markdown, for BENCHMARKS.md.
func (r *report) write(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("## Machine")
	p("")
	p("- CPU: %s, %d cores (nproc)", cpuModel(), runtime.NumCPU())
	p("- Memory: %s", memTotal())
	p("- %s %s/%s; results files on the local disk (fsync on, the default)", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	p("- Command: `make bench` (`go run ./cmd/provbench -bin bin`), %s in all", r.total.Round(time.Second))
	p("")

	goals := []goal{}
	if len(r.overhead) > 0 {
		p("## Overhead: spaces without members, a description each, `--rate 0 --concurrency 8`, emulator quotas off")
		p("")
		p("Wall time and peak RSS: the `provision` process against the `chatemu` process, start to exit")
		p("(config parse, plan, HTTP on loopback, results journal with fsync). Allocations: the same")
		p("command in-process (`BenchmarkProvision`, the same config), the emulator in its own process.")
		p("")
		p("| spaces | wall | wall/space | growth (time ratio ÷ size ratio) | peak RSS | in-process time/space | allocated/space | allocs/space |")
		p("|---:|---:|---:|---:|---:|---:|---:|---:|")
		for i, o := range r.overhead {
			growth := "—"
			if i > 0 {
				prev := r.overhead[i-1]
				growth = fmt.Sprintf("%.2f", (o.elapsed.Seconds()/prev.elapsed.Seconds())/(float64(o.n)/float64(prev.n)))
			}
			p("| %d | %s | %.3f ms | %s | %.1f MiB | %.3f ms | %.1f KiB | %.0f |", o.n, ms(o.elapsed),
				o.elapsed.Seconds()*1000/float64(o.n), growth, mib(o.maxRSS), o.inproc/1e6, o.bytes/1024, o.allocs)
		}
		p("")
		p("### Re-run and `--plan` over the same config and results file")
		p("")
		p("The re-run finds every space recorded and makes no call; `--plan --json` prints the plan of")
		p("every space (`exists`). Peak RSS of the `provision` process, start to exit.")
		p("")
		p("| spaces | first run peak RSS | re-run | re-run peak RSS | `--plan` | `--plan` peak RSS |")
		p("|---:|---:|---:|---:|---:|---:|")
		for _, o := range r.overhead {
			p("| %d | %.1f MiB | %s | %.1f MiB | %s | %.1f MiB |", o.n, mib(o.maxRSS), ms(o.rerun), mib(o.rerunRSS), ms(o.plan), mib(o.planRSS))
		}
		p("")
		if at := r.row(20_000); at != nil {
			perSpace := at.elapsed.Seconds() * 1000 / float64(at.n)
			goals = append(goals,
				goal{"≤ 1.5 ms per space end to end at 20,000 spaces", fmt.Sprintf("%.3f ms", perSpace), perSpace <= 1.5},
				goal{"≤ 200 MiB peak RSS at 20,000 spaces", fmt.Sprintf("%.1f MiB", mib(at.maxRSS)), mib(at.maxRSS) <= 200})
		}
		first, last := r.overhead[0], r.overhead[len(r.overhead)-1]
		if last.n >= 100_000 {
			for _, g := range []struct {
				run string
				rss int64
			}{{"first run", last.maxRSS}, {"re-run", last.rerunRSS}, {"--plan", last.planRSS}} {
				goals = append(goals, goal{fmt.Sprintf("≤ 200 MiB peak RSS, %s spaces, %s", thousands(last.n), g.run),
					fmt.Sprintf("%.1f MiB", mib(g.rss)), mib(g.rss) <= 200})
			}
		}
		// Allocation per space, the worst over the sizes measured.
		var worst *overheadRow
		for i := range r.overhead {
			if o := &r.overhead[i]; o.bytes > 0 && (worst == nil || o.bytes > worst.bytes) {
				worst = o
			}
		}
		if worst != nil {
			figure := fmt.Sprintf("%.1f KiB at %d spaces", worst.bytes/1024, worst.n)
			if r.clientBytes > 0 {
				figure += fmt.Sprintf(" (one spaces.create through the Chat Go client alone: %.1f KiB)", r.clientBytes/1024)
			}
			goals = append(goals, goal{fmt.Sprintf("≤ 10 KiB allocated per space (the most of %d to %d spaces)", first.n, last.n),
				figure, worst.bytes <= 10*1024})
		}
		tr := (last.elapsed.Seconds() / float64(last.n)) / (first.elapsed.Seconds() / float64(first.n))
		ar := last.bytes / first.bytes
		goals = append(goals, goal{fmt.Sprintf("about linear from %d to %d spaces (per-space time and allocation ratios)", first.n, last.n),
			fmt.Sprintf("time %.2f×, allocation %.2f×", tr, ar), tr <= 1.5 && ar <= 1.5})
	}

	if len(r.quota) > 0 {
		p("## Quota use: the server allows Q space writes a second, the tool is set higher")
		p("")
		p("| server allows | tool `--rate` | spaces | elapsed | ideal (spaces ÷ Q) | achieved | achieved ÷ Q | 429s | 429s/space |")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
		for i, q := range r.quota {
			achieved := float64(q.n) / q.elapsed.Seconds()
			ideal := time.Duration(float64(q.n) / q.q * float64(time.Second))
			perSpace := float64(q.throttled) / float64(q.n)
			p("| %s | %.0f/min (%.0f/s) | %d | %s | %s | %.2f/s | %.0f%% | %d | %.3f |", q.label, q.rate, q.rate/60, q.n,
				ms(q.elapsed), ms(ideal), achieved, 100*achieved/q.q, q.throttled, perSpace)
			if i == 0 {
				goals = append(goals,
					goal{"≥ 85% of the server's quota (" + q.label + ")", fmt.Sprintf("%.0f%%", 100*achieved/q.q), achieved/q.q >= 0.85},
					goal{"≤ 1 429 per space (" + q.label + ")", fmt.Sprintf("%.3f", perSpace), perSpace <= 1})
			}
		}
		p("")
	}

	goals = append(goals, r.creationReport(p)...)
	goals = append(goals, r.refreshReport(p)...)

	if l := r.latency; l.tool > 0 && l.sequential > 0 {
		ideal := time.Duration(float64(l.n) / 10 * float64(time.Second))
		p("## Latency hiding: 400 ms per call, the server allows 10 space writes a second, %d spaces", l.n)
		p("")
		p("| client | elapsed | ideal (%d ÷ 10/s) | elapsed ÷ ideal |", l.n)
		p("|---|---:|---:|---:|")
		p("| provision `--rate 600 --concurrency 8` (at the quota) | %s | %s | %.2f |", ms(l.tool), ms(ideal), l.tool.Seconds()/ideal.Seconds())
		if l.under > 0 {
			p("| provision `--rate 590 --concurrency 8` (just under it) | %s | %s | %.2f |", ms(l.under), ms(ideal), l.under.Seconds()/ideal.Seconds())
		}
		p("| sequential: one `spaces.create` at a time (the seed sample) | %s | %s | %.2f |", ms(l.sequential), ms(ideal), l.sequential.Seconds()/ideal.Seconds())
		p("")
		speedup := l.sequential.Seconds() / l.tool.Seconds()
		p("Speed-up over the sequential client: **%.2f×** at `--rate 600` (429s: %d), **%.2f×** at `--rate 590` (429s: %d).",
			speedup, l.toolThrottled, l.sequential.Seconds()/l.under.Seconds(), l.underThrottled)
		p("")
		goals = append(goals, goal{"≥ 3.5× the sequential client (`--rate 600`, at the quota)", fmt.Sprintf("%.2f×", speedup), speedup >= 3.5})
		if l.under > 0 {
			su := l.sequential.Seconds() / l.under.Seconds()
			goals = append(goals, goal{"≥ 3.5× the sequential client (`--rate 590`, just under it)", fmt.Sprintf("%.2f×", su), su >= 3.5})
		}
	}

	if len(r.members) == 2 {
		p("## Members: %d spaces of %d members, quotas off", r.membersN, r.membersM)
		p("")
		p("| approach | space writes | membership writes | all writes | reads |")
		p("|---|---:|---:|---:|---:|")
		for _, m := range r.members {
			p("| %s | %d | %d | %d | %d |", m.label, m.st.space, m.st.member, m.st.space+m.st.member, m.st.read)
		}
		p("")
		tool, naive := r.members[0].st, r.members[1].st
		goals = append(goals, goal{fmt.Sprintf("members: one write per space of %d members", r.membersM),
			fmt.Sprintf("%d writes against %d for create-then-add (%.0f× fewer)", tool.space+tool.member, naive.space+naive.member,
				float64(naive.space+naive.member)/float64(max(1, tool.space+tool.member))),
			tool.space+tool.member == r.membersN})
	}

	if s := r.soak; s != nil {
		p("## Soak: %d spaces, 5%% of calls answered 503, 1%% of create answers lost", s.n)
		p("")
		p("`provision --rate 0 --concurrency 64`, emulator quotas off. RSS of the provision process read every second.")
		p("")
		lo, hi := int64(0), int64(0)
		for i, x := range s.res.samples {
			if i == 0 || x.rss < lo {
				lo = x.rss
			}
			hi = max(hi, x.rss)
		}
		p("| elapsed | exit | created (tool / emulator) | 503s | lost answers | replays | retries | RSS min / max | peak RSS |")
		p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		p("| %s | %d | %d / %d | %d | %d | %d | %d | %.1f / %.1f MiB | %.1f MiB |", ms(s.res.elapsed), s.res.code,
			s.res.summary.Created, s.created, s.unavailable, s.lost, s.replays, s.res.summary.Retries, mib(lo), mib(hi), mib(s.res.maxRSS))
		p("")
		p("RSS over time (s: MiB): %s", samples(s.res.samples, 12))
		p("")
		ok := s.res.code == 0 && s.res.summary.Created == s.n && s.created == s.n
		goals = append(goals, goal{fmt.Sprintf("soak: %d spaces with faults, every space once, exit 0", s.n),
			fmt.Sprintf("exit %d, %d created, %d on the server", s.res.code, s.res.summary.Created, s.created), ok})
		if last := r.overhead; len(last) > 0 && last[len(last)-1].n == s.n {
			clean := last[len(last)-1].maxRSS
			goals = append(goals, goal{"soak: no memory growth beyond the results held (peak vs the clean run of as many spaces)",
				fmt.Sprintf("%.1f MiB vs %.1f MiB", mib(s.res.maxRSS), mib(clean)), float64(s.res.maxRSS) <= 1.25*float64(clean)})
		}
	}

	if len(r.unit) > 0 || len(r.provisionLines) > 0 {
		p("## go test -bench")
		p("")
		p("```")
		for _, l := range r.unit {
			p("%s", l.text)
		}
		for _, l := range r.provisionLines {
			p("%s", l)
		}
		p("```")
		p("")
		if l := find(r.unit, "BenchmarkRecord/durable"); l.metrics["records/s"] > 0 {
			p("Journal, durable (fsync per write): %.0f records/s one at a time; %.0f records/s from 8 goroutines (group commit).",
				l.metrics["records/s"], find(r.unit, "BenchmarkRecordParallel/durable").metrics["records/s"])
			p("")
		}
		if l := find(r.unit, "BenchmarkGCSState"); l.metrics["writes/space"] > 0 {
			p("State in a bucket (--results gs://, the Cloud Storage emulator on this machine; 100 spaces of 3 members, --concurrency 4): %.1f object writes, %.1f reads and %.1f deletes a space, %.0f lists in the run; writes %.1f ms on average (p50 %.1f ms, p99 %.1f ms); %.1f spaces/s.",
				l.metrics["writes/space"], l.metrics["reads/space"], l.metrics["deletes/space"], l.metrics["lists"],
				l.metrics["write-ms-mean"], l.metrics["write-ms-p50"], l.metrics["write-ms-p99"], l.metrics["spaces/s"])
			p("")
		}
	}

	p("## Goals")
	p("")
	p("| goal | figure | met |")
	p("|---|---|---|")
	for _, g := range goals {
		met := "**no**"
		if g.met {
			met = "yes"
		}
		p("| %s | %s | %s |", g.what, g.figure, met)
	}
	for _, e := range r.errors {
		p("")
		p("ERROR: %s", strings.ReplaceAll(e, "\n", " "))
	}
}

type goal struct {
	what, figure string
	met          bool
}

func (r *report) row(n int) *overheadRow {
	for i := range r.overhead {
		if r.overhead[i].n == n {
			return &r.overhead[i]
		}
	}
	return nil
}

// samples picks about k samples spread over the run.
func samples(s []rssSample, k int) string {
	if len(s) == 0 {
		return "none"
	}
	var out []string
	step := max(1, len(s)/k)
	for i := 0; i < len(s); i += step {
		out = append(out, fmt.Sprintf("%.0f: %.1f", s[i].at.Seconds(), mib(s[i].rss)))
	}
	if (len(s)-1)%step != 0 {
		last := s[len(s)-1]
		out = append(out, fmt.Sprintf("%.0f: %.1f", last.at.Seconds(), mib(last.rss)))
	}
	return strings.Join(out, ", ")
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
			return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	return "unknown"
}
