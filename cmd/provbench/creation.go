package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The scenarios of this file run against a server that throttles as Google
// documents it: 429s with no Retry-After, a space-creation limit per
// minute plus an hourly cap (SPEC §1). Windows are scaled down (a "minute"
// of a few seconds, an "hour" of tens of seconds) so that a run spans
// several long windows in a minute or two; the client's waits are in real
// seconds, so the windows are chosen long enough for a wait of a second or
// two to be small beside them.

// creationRow is one run against the space-creation limit.
type creationRow struct {
	label       string
	n           int // spaces in the config
	short       int // creates allowed per window
	window      time.Duration
	long        int // creates allowed per long window
	longWindow  time.Duration
	rate        float64 // the tool's --rate, a minute
	concurrency int

	elapsed              time.Duration // the provision process, start to exit
	created              int           // spaces the server made
	throttled            int           // 429s the server sent
	limited, limitedLong int           // of which, refused by the window's and the long window's limit
	code                 int
}

// sustained is the binding limit's rate a second: the smaller of the two
// windows' allowances spread over their windows.
func (c creationRow) sustained() float64 {
	return min(float64(c.short)/c.window.Seconds(), float64(c.long)/c.longWindow.Seconds())
}

// greedy returns how many creates the fastest possible client could make
// in d under both limits: one that creates each space the instant both
// sliding windows allow it (at most short in any window, long in any long
// window). No schedule does better: by induction each of its creates is no
// later than the same create of any other schedule.
func (c creationRow) greedy(d time.Duration) int {
	var t []time.Duration
	for {
		var next time.Duration
		k := len(t)
		if k > 0 {
			next = t[k-1]
		}
		if k >= c.short {
			next = max(next, t[k-c.short]+c.window)
		}
		if k >= c.long {
			next = max(next, t[k-c.long]+c.longWindow)
		}
		if next > d {
			return k
		}
		t = append(t, next)
	}
}

// throttled runs the scenarios of this file side by side: each has its own
// emulator and waits on quotas of a few calls a second, so they barely
// touch the machine, and together they take as long as the longest.
func (b *bench) throttled(ctx context.Context) error {
	server := creationRow{short: 10, window: 5 * time.Second, long: 30, longWindow: 30 * time.Second, n: 100, concurrency: 4}
	if b.quick {
		server.n = 50
	}
	// --rate 100 stands where the default --rate 30 stands against the
	// documented 35 a minute: just under the short limit, so only the
	// "hourly" cap refuses. --rate 240 is a user who set it too high.
	rows := []creationRow{server, server}
	rows[0].label, rows[0].rate = "under the short limit", 100
	rows[1].label, rows[1].rate = "twice the short limit", 240
	roles := rolesRow{
		n: 30, members: 60, owners: 2, managers: 2,
		spaceQuota: 3, memberQuota: 40, window: 5 * time.Second,
		rate: 72, memberRate: 960, concurrency: 4,
	}
	if b.quick {
		roles.n = 15
	}
	errs := make([]error, len(rows)+1)
	var wg sync.WaitGroup
	for i := range rows {
		wg.Go(func() { errs[i] = b.creationLimit(&rows[i], i) })
	}
	wg.Go(func() { errs[len(rows)] = b.roles(&roles) })
	wg.Wait()
	for i, r := range rows {
		if r.elapsed > 0 {
			b.rep.creation = append(b.rep.creation, rows[i])
		}
	}
	if roles.elapsed > 0 {
		b.rep.roles = &roles
	}
	return errors.Join(errs...)
}

// creationLimit runs the tool against the creation limit of c with no
// Retry-After: it must use most of the creation quota (spaces created over
// what the binding limit allowed in the time) with few 429s.
func (b *bench) creationLimit(c *creationRow, i int) error {
	emu, err := b.startEmulator("--create-quota", fmt.Sprint(c.short), "--window", c.window.String(),
		"--create-hourly-quota", fmt.Sprint(c.long), "--long-window", c.longWindow.String(),
		"--space-quota", "0", "--member-quota", "0", "--read-quota", "0")
	if err != nil {
		return err
	}
	config := filepath.Join(b.work, fmt.Sprintf("creation-%d.yaml", i))
	if err := writeConfig(config, "Creation", c.n, 0); err != nil {
		emu.stop()
		return err
	}
	res, st, err := b.runOnce(emu, "--rate", fmt.Sprint(c.rate),
		"--concurrency", fmt.Sprint(c.concurrency), "--max-attempts", "3", config)
	if err != nil {
		return err
	}
	c.elapsed, c.code, c.created = res.elapsed, res.code, st.SpacesCreated
	c.throttled, c.limited, c.limitedLong = st.Throttled, st.CreateLimited, st.CreateLimitedLong
	b.stepf("creation limit, --rate %.0f: %d spaces in %v, %d 429s (%d window, %d long window)", c.rate, c.created,
		res.elapsed.Round(time.Millisecond), c.throttled, c.limited, c.limitedLong)
	if res.code != 0 || res.summary.Created != c.n || st.SpacesCreated != c.n {
		return fmt.Errorf("creation limit, --rate %.0f: exit %d, %d created by the tool, %d by the server, want %d\n%s",
			c.rate, res.code, res.summary.Created, st.SpacesCreated, c.n, tail(res.stderr))
	}
	return nil
}

// rolesRow is one run of spaces with members, owners and managers against
// a space-write quota and a membership-write quota.
type rolesRow struct {
	n, members, owners, managers int
	spaceQuota, memberQuota      int // per window
	window                       time.Duration
	rate, memberRate             float64 // the tool's, a minute
	concurrency                  int

	elapsed                   time.Duration
	spaceWrites, memberWrites int // charged by the server
	creates, patches          int // members.create and members.patch let through
	throttled                 int
	code                      int
}

// ideal is the shortest run the two quotas allow for the writes made: the
// larger of space writes ÷ space quota and membership writes ÷ membership
// quota, each quota as its sustained rate.
func (r rolesRow) ideal() (spaces, members time.Duration) {
	per := func(writes, quota int) time.Duration {
		return time.Duration(float64(writes) / float64(quota) * float64(r.window))
	}
	return per(r.spaceWrites, r.spaceQuota), per(r.memberWrites, r.memberQuota)
}

// writeRolesConfig writes n spaces of m members each, the first owners of
// them owners and the next managers managers.
func writeRolesConfig(path, prefix string, n, m, owners, managers int) error {
	var buf bytes.Buffer
	buf.WriteString("defaults:\n  history: on\nspaces:\n")
	list := func(key string, from, to, i int) {
		fmt.Fprintf(&buf, "    %s:\n", key)
		for j := from; j < to; j++ {
			fmt.Fprintf(&buf, "      - m%d.%d@example.com\n", i, j)
		}
	}
	for i := range n {
		fmt.Fprintf(&buf, "  - displayName: \"%s %06d\"\n", prefix, i)
		list("members", 0, m, i)
		list("owners", 0, owners, i)
		list("managers", owners, owners+managers, i)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// roles creates spaces with more members than spaces.setup takes, some of
// them owners and managers, against a space-write quota and a membership-
// write quota, no Retry-After, the tool set above both: the run must take
// little more than the quotas make necessary.
func (b *bench) roles(r *rolesRow) error {
	emu, err := b.startEmulator("--space-quota", fmt.Sprint(r.spaceQuota), "--member-quota", fmt.Sprint(r.memberQuota),
		"--window", r.window.String(), "--read-quota", "0")
	if err != nil {
		return err
	}
	config := filepath.Join(b.work, "roles.yaml")
	if err := writeRolesConfig(config, "Roles", r.n, r.members, r.owners, r.managers); err != nil {
		emu.stop()
		return err
	}
	res, st, err := b.runOnce(emu, "--rate", fmt.Sprint(r.rate), "--member-rate", fmt.Sprint(r.memberRate),
		"--concurrency", fmt.Sprint(r.concurrency), "--max-attempts", "3", config)
	if err != nil {
		return err
	}
	r.elapsed, r.code, r.throttled = res.elapsed, res.code, st.Throttled
	r.spaceWrites, r.memberWrites = len(st.SpaceWrites), len(st.MemberWrites)
	r.creates, r.patches = st.Calls["members.create"][200], st.Calls["members.patch"][200]
	b.stepf("roles: %d spaces of %d members in %v, %d space writes, %d membership writes, %d 429s", r.n, r.members,
		res.elapsed.Round(time.Millisecond), r.spaceWrites, r.memberWrites, r.throttled)
	if want := r.n * r.members; res.code != 0 || res.summary.Created != r.n || st.MembersAdded != want {
		return fmt.Errorf("roles: exit %d, %d created, %d members added (want %d)\n%s", res.code, res.summary.Created,
			st.MembersAdded, want, tail(res.stderr))
	}
	return nil
}

// creationReport prints the sections of this file and returns their goals.
func (r *report) creationReport(p func(string, ...any)) []goal {
	var goals []goal
	for i, c := range r.creation {
		if i == 0 {
			p("## Creation limit: 429s without Retry-After, a \"minute\" and an \"hour\" scaled down")
			p("")
			p("The server allows at most %d creates (spaces.create, spaces.setup) in any %v and %d in any %v (sliding windows),",
				c.short, c.window, c.long, c.longWindow)
			p("and sends no `Retry-After`; other quotas are off. %d spaces without members, `--concurrency %d --max-attempts 3`.", c.n, c.concurrency)
			p("Binding limit: the one with the lower rate over its window, here %.2f creates a second. **Quota used** = spaces created", c.sustained())
			p("÷ (elapsed × that rate). **Burst allowance**: the most any client could have created in the elapsed time, each")
			p("create the instant both windows allow it (a window's worth at once, again each long window): stricter, since a")
			p("client that spreads its creates evenly forgoes the bursts.")
			p("")
			p("| tool `--rate` | spaces | exit | elapsed | allowed (elapsed × %.2f/s) | quota used | burst allowance | created ÷ burst allowance | 429s (window / long window) | 429s/space |", c.sustained())
			p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		}
		sus := c.sustained() * c.elapsed.Seconds()
		burst := c.greedy(c.elapsed)
		used := float64(c.created) / sus
		per := float64(c.throttled) / float64(max(1, c.created))
		p("| %.0f/min (%s) | %d | %d | %s | %.1f | %.0f%% | %d | %.0f%% | %d (%d / %d) | %.3f |", c.rate, c.label, c.created, c.code,
			ms(c.elapsed), sus, 100*used, burst, 100*float64(c.created)/float64(burst), c.throttled, c.limited, c.limitedLong, per)
		if i == len(r.creation)-1 {
			p("")
		}
		goals = append(goals,
			goal{fmt.Sprintf("≥ 85%% of the creation quota (`--rate %.0f`, %s)", c.rate, c.label), fmt.Sprintf("%.0f%%", 100*used), used >= 0.85},
			goal{fmt.Sprintf("≤ 0.25 429s per space under the creation limit (`--rate %.0f`)", c.rate), fmt.Sprintf("%.3f", per), per <= 0.25})
	}
	if x := r.roles; x != nil {
		is, im := x.ideal()
		ideal := max(is, im)
		p("## Members, owners and managers under quotas, 429s without Retry-After")
		p("")
		p("%d spaces of %d members, %d owners and %d managers each (among the members): `spaces.setup` with 49 members,", x.n, x.members, x.owners, x.managers)
		p("`members.create` for the other %d, one `members.patch` per owner and manager. The server allows %d space writes and",
			x.members-49, x.spaceQuota)
		p("%d membership writes in any %v (sliding windows), reads unlimited, no `Retry-After`; the tool runs with",
			x.memberQuota, x.window)
		p("`--rate %.0f --member-rate %.0f` (twice the server's) `--concurrency %d --max-attempts 3`. **Ideal**: the larger of space", x.rate, x.memberRate, x.concurrency)
		p("writes ÷ space quota and membership writes ÷ membership quota, writes as the server counted them, each quota as")
		p("its rate over the window.")
		p("")
		p("| spaces | exit | space writes | membership writes (create / patch) | ideal, spaces | ideal, members | elapsed | ideal ÷ elapsed | 429s | 429s/space |")
		p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		per := float64(x.throttled) / float64(x.n)
		p("| %d | %d | %d | %d (%d / %d) | %s | %s | %s | %.0f%% | %d | %.3f |", x.n, x.code, x.spaceWrites, x.memberWrites,
			x.creates, x.patches, ms(is), ms(im), ms(x.elapsed), 100*ideal.Seconds()/x.elapsed.Seconds(), x.throttled, per)
		p("")
		goals = append(goals, goal{"members, owners and managers: ≥ 85% of the ideal (ideal ÷ elapsed)",
			fmt.Sprintf("%.0f%%", 100*ideal.Seconds()/x.elapsed.Seconds()), ideal.Seconds()/x.elapsed.Seconds() >= 0.85})
	}
	return goals
}
