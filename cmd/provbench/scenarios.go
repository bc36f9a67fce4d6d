package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"
	chat "google.golang.org/api/chat/v1"
	"google.golang.org/api/option"

	"provision/internal/chatemu"
)

var quotasOff = []string{"--space-quota", "0", "--member-quota", "0", "--read-quota", "0"}

// sizes are the space counts of the overhead rows.
func (b *bench) sizes() []int {
	if b.quick {
		return []int{1_000, 10_000}
	}
	return []int{1_000, 10_000, 20_000, 100_000}
}

// unitBenchmarks runs the go test benchmarks of the planner (parse and diff
// of 10k and 100k spaces) and the journal (records a second, durable).
func (b *bench) unitBenchmarks(context.Context) error {
	plan, err := goBench("./internal/plan", "^(BenchmarkParse|BenchmarkDiff)$", "")
	if err != nil {
		return err
	}
	journal, err := goBench("./internal/results", "^(BenchmarkRecord|BenchmarkRecordParallel)$", "")
	if err != nil {
		return err
	}
	gcs, err := goBench("./cmd/provision", "^BenchmarkGCSState$", "1x")
	if err != nil {
		return err
	}
	b.rep.unit = append(append(plan, journal...), gcs...)
	return nil
}

// overhead creates N spaces without members, each with a description,
// through the provision binary, nothing limiting it: the cost of the tool
// itself (and of the emulator on the same machine) per space. Then, over
// the same config and results file, a re-run (everything recorded: nothing
// to do, no write) and a --plan (--json), each with its peak RSS.
func (b *bench) overhead(context.Context) error {
	emu, err := b.startEmulator(quotasOff...)
	if err != nil {
		return err
	}
	defer emu.stop()
	for _, n := range b.sizes() {
		config := filepath.Join(b.work, fmt.Sprintf("overhead-%d.yaml", n))
		if err := writeConfigDescribed(config, fmt.Sprintf("Overhead %d", n), n, 0, true); err != nil {
			return err
		}
		args := []string{"--endpoint", emu.url, "--rate", "0", "--concurrency", "8", config}
		res, err := b.provision(false, args...)
		if err != nil {
			return err
		}
		if res.code != 0 || res.summary.Created != n {
			return fmt.Errorf("%d spaces: exit %d, %d created\n%s", n, res.code, res.summary.Created, tail(res.stderr))
		}
		b.stepf("%d spaces: %v, peak RSS %.1f MiB", n, res.elapsed.Round(time.Millisecond), mib(res.maxRSS))
		row := overheadRow{n: n, elapsed: res.elapsed, maxRSS: res.maxRSS}

		again, err := b.provision(false, args...)
		if err != nil {
			return err
		}
		if again.code != 0 || again.summary.Created != 0 || again.summary.SpaceWrites+again.summary.MemberWrites != 0 {
			return fmt.Errorf("re-run of %d spaces: exit %d, %d created, %d space writes, want exit 0 and nothing to do\n%s",
				n, again.code, again.summary.Created, again.summary.SpaceWrites, tail(again.stderr))
		}
		b.stepf("%d spaces, re-run: %v, peak RSS %.1f MiB", n, again.elapsed.Round(time.Millisecond), mib(again.maxRSS))
		row.rerun, row.rerunRSS = again.elapsed, again.maxRSS

		planned, err := b.provision(false, append([]string{"--plan"}, args...)...)
		if err != nil {
			return err
		}
		var pl struct {
			Summary struct{ Unchanged int }
		}
		if err := json.Unmarshal(planned.stdout, &pl); planned.code != 0 || err != nil || pl.Summary.Unchanged != n {
			return fmt.Errorf("--plan of %d spaces: exit %d, %d unchanged (%v), want exit 0, %d unchanged\n%s",
				n, planned.code, pl.Summary.Unchanged, err, n, tail(planned.stderr))
		}
		b.stepf("%d spaces, --plan: %v, peak RSS %.1f MiB", n, planned.elapsed.Round(time.Millisecond), mib(planned.maxRSS))
		row.plan, row.planRSS = planned.elapsed, planned.maxRSS
		b.rep.overhead = append(b.rep.overhead, row)
	}
	return nil
}

// allocations runs BenchmarkProvision of cmd/provision (the whole command
// in-process) against an emulator in another process, so that the
// allocations counted are the command's alone.
func (b *bench) allocations(context.Context) error {
	emu, err := b.startEmulator(quotasOff...)
	if err != nil {
		return err
	}
	defer emu.stop()
	sizes := b.sizes()
	pattern := "^BenchmarkProvision$/^spaces=("
	for i, n := range sizes {
		if i > 0 {
			pattern += "|"
		}
		pattern += fmt.Sprint(n)
	}
	pattern += ")$"
	lines, err := goBench("./cmd/provision", pattern, "1x", "-bench.endpoint="+emu.url)
	if err != nil {
		return err
	}
	for i := range b.rep.overhead {
		row := &b.rep.overhead[i]
		l := find(lines, fmt.Sprintf("BenchmarkProvision/spaces=%d", row.n))
		row.inproc, row.bytes, row.allocs = l.metrics["ns/space"], l.metrics["B/space"], l.metrics["allocs/space"]
		b.rep.provisionLines = append(b.rep.provisionLines, l.text)
	}
	// The floor under those figures: one spaces.create through the Chat
	// Go client alone.
	client, err := goBench("./cmd/provision", "^BenchmarkChatCreate$", "5000x", "-bench.endpoint="+emu.url)
	if err != nil {
		return err
	}
	l := find(client, "BenchmarkChatCreate")
	b.rep.clientBytes = l.metrics["B/op"]
	b.rep.provisionLines = append(b.rep.provisionLines, l.text)
	return nil
}

// quota runs the tool, set to 20 writes a second, against a server that
// allows Q a second: it must settle just under Q with few 429s.
func (b *bench) quota(context.Context) error {
	cases := []quotaRow{
		{label: "5/s (1 s window)", q: 5, window: time.Second, rate: 1200, n: 200},
		{label: "5/s (10 s window: 50 per 10 s)", q: 5, window: 10 * time.Second, rate: 1200, n: 200},
	}
	if b.quick {
		cases = cases[:1]
		cases[0].n = 50
	}
	for _, c := range cases {
		emu, err := b.startEmulator("--space-quota", fmt.Sprint(int(c.q*c.window.Seconds())), "--window", c.window.String(),
			"--member-quota", "0", "--read-quota", "0")
		if err != nil {
			return err
		}
		config := filepath.Join(b.work, fmt.Sprintf("quota-%d.yaml", len(b.rep.quota)))
		if err := writeConfig(config, "Quota", c.n, 0); err != nil {
			emu.stop()
			return err
		}
		res, st, err := b.runOnce(emu, "--rate", fmt.Sprint(c.rate), "--concurrency", "8", config)
		if err != nil {
			return err
		}
		if res.code != 0 || res.summary.Created != c.n {
			return fmt.Errorf("%s: exit %d, %d created\n%s", c.label, res.code, res.summary.Created, tail(res.stderr))
		}
		c.elapsed, c.throttled, c.toolThrottled = res.elapsed, st.Throttled, res.summary.Throttled
		b.stepf("%s: %d spaces in %v, %d 429s", c.label, c.n, res.elapsed.Round(time.Millisecond), st.Throttled)
		b.rep.quota = append(b.rep.quota, c)
	}
	return nil
}

// latency compares the tool with a client that creates one space at a
// time, each against an emulator that answers in 400 ms and allows 10
// space writes a second.
func (b *bench) latency(ctx context.Context) error {
	const n = 40
	args := []string{"--latency", "400ms", "--space-quota", "10", "--window", "1s", "--member-quota", "0", "--read-quota", "0"}
	emu, err := b.startEmulator(args...)
	if err != nil {
		return err
	}
	config := filepath.Join(b.work, "latency.yaml")
	if err := writeConfig(config, "Latency", n, 0); err != nil {
		emu.stop()
		return err
	}
	res, st, err := b.runOnce(emu, "--rate", "600", "--concurrency", "8", config)
	if err != nil {
		return err
	}
	if res.code != 0 || res.summary.Created != n {
		return fmt.Errorf("tool: exit %d, %d created\n%s", res.code, res.summary.Created, tail(res.stderr))
	}
	b.rep.latency = latencyRow{n: n, tool: res.elapsed, toolThrottled: st.Throttled}
	b.stepf("tool: %d spaces in %v", n, res.elapsed.Round(time.Millisecond))

	// Set exactly at the quota, the tool is one timer's jitter away from a
	// 429 (and its 1 s Retry-After); just under it shows what that costs.
	emu, err = b.startEmulator(args...)
	if err != nil {
		return err
	}
	under := filepath.Join(b.work, "latency-under.yaml") // a results file of its own
	if err := writeConfig(under, "Latency", n, 0); err != nil {
		emu.stop()
		return err
	}
	res, st, err = b.runOnce(emu, "--rate", "590", "--concurrency", "8", under)
	if err != nil {
		return err
	}
	if res.code != 0 || res.summary.Created != n {
		return fmt.Errorf("tool at 590/min: exit %d, %d created\n%s", res.code, res.summary.Created, tail(res.stderr))
	}
	b.rep.latency.under, b.rep.latency.underThrottled = res.elapsed, st.Throttled
	b.stepf("tool at 590/min: %d spaces in %v", n, res.elapsed.Round(time.Millisecond))

	emu, err = b.startEmulator(args...)
	if err != nil {
		return err
	}
	defer emu.stop()
	svc, err := newClient(ctx, emu.url)
	if err != nil {
		return err
	}
	// The seed sample's approach: one spaces.create after the other.
	start := time.Now()
	for i := range n {
		sp := &chat.Space{SpaceType: "SPACE", DisplayName: fmt.Sprintf("Sequential %06d", i), SpaceHistoryState: "HISTORY_ON"}
		if _, err := svc.Spaces.Create(sp).RequestId(uuid.NewString()).Context(ctx).Do(); err != nil {
			return fmt.Errorf("sequential client: space %d: %w", i, err)
		}
	}
	b.rep.latency.sequential = time.Since(start)
	b.stepf("sequential client: %d spaces in %v", n, b.rep.latency.sequential.Round(time.Millisecond))
	return nil
}

// members counts the writes used for spaces of 40 members: the tool
// (spaces.setup, one write each) against spaces.create then one
// members.create per member.
func (b *bench) members(ctx context.Context) error {
	const n, m = 100, 40
	emu, err := b.startEmulator(quotasOff...)
	if err != nil {
		return err
	}
	config := filepath.Join(b.work, "members.yaml")
	if err := writeConfig(config, "Members", n, m); err != nil {
		emu.stop()
		return err
	}
	res, st, err := b.runOnce(emu, "--rate", "0", "--member-rate", "0", "--concurrency", "8", config)
	if err != nil {
		return err
	}
	if res.code != 0 || res.summary.Created != n || st.MembersAdded != n*m {
		return fmt.Errorf("tool: exit %d, %d created, %d members added\n%s", res.code, res.summary.Created, st.MembersAdded, tail(res.stderr))
	}
	b.rep.members = append(b.rep.members, membersRow{label: "provision (spaces.setup)", st: writes(st)})

	emu, err = b.startEmulator(quotasOff...)
	if err != nil {
		return err
	}
	defer emu.stop()
	svc, err := newClient(ctx, emu.url)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				errs[i] = createThenAdd(ctx, svc, i, m)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("create-then-add: %w", err)
	}
	st, err = emu.stats()
	if err != nil {
		return err
	}
	b.rep.members = append(b.rep.members, membersRow{label: "create, then members.create each", st: writes(st)})
	b.rep.membersN, b.rep.membersM = n, m
	return nil
}

// createThenAdd creates space i and adds its m members one by one.
func createThenAdd(ctx context.Context, svc *chat.Service, i, m int) error {
	sp, err := svc.Spaces.Create(&chat.Space{SpaceType: "SPACE", DisplayName: fmt.Sprintf("Naive %06d", i)}).
		RequestId(uuid.NewString()).Context(ctx).Do()
	if err != nil {
		return err
	}
	for j := range m {
		mem := &chat.Membership{Member: &chat.User{Name: fmt.Sprintf("users/m%d.%d@example.com", i, j), Type: "HUMAN"}}
		if _, err := svc.Spaces.Members.Create(sp.Name, mem).Context(ctx).Do(); err != nil {
			return err
		}
	}
	return nil
}

// soakRun creates many spaces with faults on and samples the provision
// process's memory every second.
func (b *bench) soakRun(context.Context) error {
	n := b.soak
	if b.quick {
		n = min(n, 5_000)
	}
	if n == 0 {
		return nil
	}
	emu, err := b.startEmulator(append([]string{"--fail-rate", "0.05", "--drop-rate", "0.01"}, quotasOff...)...)
	if err != nil {
		return err
	}
	defer emu.stop()
	config := filepath.Join(b.work, "soak.yaml")
	if err := writeConfig(config, "Soak", n, 0); err != nil {
		return err
	}
	// Retries wait a second on average (backoff base 1 s, full jitter): more
	// workers keep the faults from stretching the run.
	res, err := b.provision(true, "--endpoint", emu.url, "--rate", "0", "--concurrency", "64", config)
	if err != nil {
		return err
	}
	st, err := emu.stats()
	if err != nil {
		return err
	}
	b.rep.soak = &soakRow{n: n, res: res, unavailable: st.Unavailable, lost: st.LostResponses,
		replays: st.Replays, created: st.SpacesCreated}
	b.stepf("%d spaces in %v: exit %d, peak RSS %.1f MiB", n, res.elapsed.Round(time.Millisecond), res.code, mib(res.maxRSS))
	if res.code != 0 || res.summary.Created != n || st.SpacesCreated != n {
		return fmt.Errorf("exit %d, %d created by the tool, %d by the emulator, want %d\n%s",
			res.code, res.summary.Created, st.SpacesCreated, n, tail(res.stderr))
	}
	return nil
}

func newClient(ctx context.Context, url string) (*chat.Service, error) {
	return chat.NewService(ctx, option.WithEndpoint(url), option.WithHTTPClient(&http.Client{Timeout: time.Minute}))
}

// writeCounts are the calls an emulator saw, by quota class.
type writeCounts struct{ space, member, read int }

func writes(st chatemu.Stats) writeCounts {
	return writeCounts{
		space:  calls(st, "spaces.create") + calls(st, "spaces.setup"),
		member: calls(st, "members.create") + calls(st, "members.patch"),
		read:   calls(st, "spaces.get") + calls(st, "spaces.list") + calls(st, "members.get") + calls(st, "members.list"),
	}
}
