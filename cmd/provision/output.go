package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"provision/internal/apply"
	"provision/internal/plan"
	"provision/internal/results"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// progress reports a run as it goes, on stderr: a live bar on a terminal,
// otherwise a plain line every few seconds (no escape sequences, for cron
// and CI logs). Failures are printed as they happen, in both cases.
type progress struct {
	e        *env
	mu       sync.Mutex
	total    int
	finished int
	start    time.Time
	bar      *progressbar.ProgressBar
	stop     chan struct{}
	wg       sync.WaitGroup

	failedMembers int
	failures      int // outcomes with an error
	// callerUnknown: the run does not know the caller's own address, so
	// it cannot leave it out of setup's member list.
	callerUnknown bool
	hinted        bool
	// limiters, by quota class, tell when the server's quota holds the run.
	limiters map[string]*apply.Limiter
}

func newProgress(e *env, p *plan.Plan, limiters map[string]*apply.Limiter) *progress {
	c := p.Counts()
	pr := &progress{e: e, total: c.Create + c.Update + c.Retry, start: time.Now(), stop: make(chan struct{}), limiters: limiters}
	if pr.total == 0 {
		return pr
	}
	if e.terminal && !e.jsonLog {
		// (In json mode, a line every tick: a bar is no JSON.)
		pr.wg.Add(1)
		go pr.watchQuota()
		pr.bar = progressbar.NewOptions(pr.total,
			progressbar.OptionSetWriter(e.stderr),
			progressbar.OptionSetDescription("spaces"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		return pr
	}
	pr.wg.Add(1)
	go pr.tick()
	return pr
}

func (pr *progress) tick() {
	defer pr.wg.Done()
	t := time.NewTicker(pr.e.tick)
	defer t.Stop()
	for {
		select {
		case <-pr.stop:
			return
		case <-t.C:
			pr.mu.Lock()
			done := pr.finished
			pr.mu.Unlock()
			el := time.Since(pr.start)
			perMin := float64(done) / el.Minutes()
			eta := "unknown"
			if done > 0 {
				eta = (time.Duration(float64(el) / float64(done) * float64(pr.total-done))).Round(time.Second).String()
			}
			line := fmt.Sprintf("progress: %d/%d spaces (%d%%), %.1f/min, elapsed %s, ETA %s",
				done, pr.total, done*100/pr.total, perMin, el.Round(time.Second), eta)
			if w := pr.waiting(); w != "" {
				line += "; " + w
			}
			fmt.Fprintln(pr.e.stderr, line)
		}
	}
}

// waiting says which quota holds the run and for how long, or "".
func (pr *progress) waiting() string {
	var class string
	var longest time.Duration
	for name, l := range pr.limiters {
		if d := l.Pause(); d > longest {
			class, longest = name, d
		}
	}
	if longest <= 0 {
		return ""
	}
	return fmt.Sprintf("waiting for the server's quota (%s), %s", class, resuming(longest, time.Now()))
}

// resuming says when a wait of d from now ends: "resuming in 4m10s, at
// about 17:42 UTC" (to the second under a minute), for a log read later.
func resuming(d time.Duration, now time.Time) string {
	layout := "15:04"
	if d < time.Minute {
		layout = "15:04:05"
	}
	return fmt.Sprintf("resuming in %s, at about %s UTC", roundWait(d), now.Add(d).UTC().Format(layout))
}

// roundWait shows a wait to the second, or to the tenth under ten seconds.
func roundWait(d time.Duration) string {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// watchQuota shows the wait in the bar's description on a terminal.
func (pr *progress) watchQuota() {
	defer pr.wg.Done()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	shown := false
	for {
		select {
		case <-pr.stop:
			return
		case <-t.C:
			w := pr.waiting()
			pr.mu.Lock()
			switch {
			case w != "" && pr.bar != nil:
				pr.bar.Describe("spaces; " + w)
				shown = true
			case shown && pr.bar != nil:
				pr.bar.Describe("spaces")
				shown = false
			}
			pr.mu.Unlock()
		}
	}
}

// done is apply's OnDone: it runs on the workers' goroutines.
func (pr *progress) done(o apply.Outcome) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if o.Interrupted {
		return
	}
	pr.finished++
	if o.Entry.Members != nil {
		pr.failedMembers += o.Entry.Members.Failed + len(o.Entry.Members.Missing)
	}
	if o.Err != nil {
		// Whatever failed (the space, a member, a setting, a removal),
		// the run exits 1.
		pr.failures++
		if pr.bar != nil {
			pr.bar.Clear()
		}
		for _, line := range strings.Split(o.Err.Error(), "\n") {
			// Every failure of the space on a line of its own, named.
			fmt.Fprintf(pr.e.stderr, "failed: %q: %s\n", o.Key, line)
		}
		if msg := o.Err.Error(); pr.callerUnknown && !pr.hinted && strings.Contains(msg, "INVALID_ARGUMENT") &&
			(strings.Contains(msg, "calling user") || strings.Contains(msg, "caller")) {
			pr.hinted = true
			fmt.Fprintln(pr.e.stderr, "hint: if the members include your own address, pass --caller YOUR_EMAIL: the API adds the caller to every space itself and refuses it in the member list")
		}
	} else if o.Entry.Members != nil && len(o.Entry.Members.Missing) > 0 {
		fmt.Fprintf(pr.e.stderr, "warning: %q: the API did not add %d %s: %v (the next run tries them one by one)\n",
			o.Key, len(o.Entry.Members.Missing), plural(len(o.Entry.Members.Missing), "member", "members"), o.Entry.Members.Missing)
	}
	if pr.bar != nil {
		pr.bar.Add(1)
	}
}

// warning is apply's OnWarning: what a space kept as it was though the
// plan asked otherwise; not a failure.
func (pr *progress) warning(key, msg string) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.bar != nil {
		pr.bar.Clear()
	}
	fmt.Fprintf(pr.e.stderr, "warning: %s\n", msg)
}

// failed tells whether anything of the run failed: a space, or a member,
// setting or removal of one.
func (pr *progress) failed() bool {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.failedMembers > 0 || pr.failures > 0
}

func (pr *progress) finish() {
	close(pr.stop)
	pr.wg.Wait()
	if pr.bar != nil {
		pr.bar.Finish()
	}
}

// summary is the final report; its JSON form is what --json prints.
type summary struct {
	*apply.Summary
	Orphaned       int     `json:"orphaned"`
	ElapsedSeconds float64 `json:"elapsedSeconds"`
	// RatePerMinute is space writes per minute over the run.
	RatePerMinute float64 `json:"ratePerMinute"`
	Results       string  `json:"results"`
}

func (e *env) printSummary(o *options, p *plan.Plan, s *apply.Summary, runErr error) error {
	sum := summary{Summary: s, Orphaned: p.Counts().Orphan, ElapsedSeconds: s.Elapsed.Seconds(), Results: resultsPath(o, runErr)}
	if m := s.Elapsed.Minutes(); m > 0 {
		sum.RatePerMinute = float64(s.SpaceWrites) / m
	}
	if o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	w := e.stdout
	fmt.Fprintf(w, "\nDone in %s: %d created, %d existing, %d updated, %d failed, %d unchanged, %d interrupted.\n",
		s.Elapsed.Round(10*time.Millisecond), s.Created, s.Existing, s.Updated, s.Failed, s.Skipped, s.Interrupted)
	if s.Deleted+s.SettingsPatched+s.MembersRemoved+s.WelcomesPosted+s.Renamed > 0 {
		fmt.Fprintf(w, "Converged: %s renamed, %s patched, %s removed, %s deleted, %s posted.\n",
			count(s.Renamed, "space", "spaces"), count(s.SettingsPatched, "setting", "settings"), count(s.MembersRemoved, "member", "members"),
			count(s.Deleted, "space", "spaces"), count(s.WelcomesPosted, "welcome message", "welcome messages"))
	}
	if s.Unreachable > 0 {
		// Once per run; the plan named each space. Not a failure: the
		// space lives on, and the next runs leave it alone.
		fmt.Fprintf(w, "Unreachable: %s this account lost access to, kept as recorded (never created again or deleted). Add the account back to %s, or run with --admin --refresh to read %s as an administrator.\n",
			count(s.Unreachable, "space", "spaces"), plural(s.Unreachable, "it", "them"), plural(s.Unreachable, "it", "them"))
	}
	for _, why := range []string{s.DeletionsWithheldReason, s.RemovalsWithheldReason} {
		if why != "" {
			fmt.Fprintf(w, "Withheld: %s.\n", why)
		}
	}
	if s.MembersAdded+s.MembersInvited+s.MembersFailed+s.MembersMissing+s.RolesSet > 0 {
		fmt.Fprintf(w, "Members: %d added, %d invited, %d failed, %d missing; %s changed.\n",
			s.MembersAdded, s.MembersInvited, s.MembersFailed, s.MembersMissing, count(s.RolesSet, "role", "roles"))
	}
	fmt.Fprintf(w, "API: %s (%.1f/min), %s, %s; %s, %d throttled (429).\n",
		count(int(s.SpaceWrites), "space write", "space writes"), sum.RatePerMinute,
		count(int(s.MemberWrites), "membership write", "membership writes"),
		count(int(s.Reads), "read", "reads"), count(int(s.Retries), "retry", "retries"), s.Throttled)
	fmt.Fprintf(w, "Results: %s\n", sum.Results)
	return nil
}

// resultsPath is where the state of the run is: the results file, unless
// its directory was moved or removed during the run, when it is where the
// directory went, or says that it is gone. Never a path that does not
// exist.
func resultsPath(o *options, runErr error) string {
	if errors.Is(runErr, results.ErrLockLost) {
		return "not written: the lock was lost during the run; " + o.results + ".journal keeps what this run recorded"
	}
	var v *results.VanishedError
	if !errors.As(runErr, &v) || v.DirKept {
		return o.results
	}
	switch {
	case v.Results != "":
		return v.Results + " (its directory was moved during the run)"
	case v.Journal != "":
		return v.Journal + " (the journal; its directory was moved during the run)"
	}
	return "none: the results directory was removed during the run"
}

func count(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, plural(n, one, many))
}

// tickReads prints say's line every tick while reads are under way (a
// refresh, an import), with the wait when the server's read quota holds
// them, until the returned stop is called.
func (e *env) tickReads(reads *apply.Limiter, say func() string) (stop func()) {
	quit := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		t := time.NewTicker(e.tick)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				line := say()
				if d := reads.Pause(); d > 0 {
					line += "; waiting for the server's quota (reads), " + resuming(d, time.Now())
				}
				fmt.Fprintln(e.stderr, line)
			}
		}
	}()
	return func() {
		close(quit)
		<-ticked
	}
}
