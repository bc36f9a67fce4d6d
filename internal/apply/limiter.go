package apply

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ErrQuotaWait is the cause of a run stopped because the server's quota did
// not come back within Options.MaxWait. Like an interrupt, it fails nothing:
// what was in flight is recorded as pending, for the next run.
var ErrQuotaWait = errors.New("the server's quota did not come back in time")

// QuotaWaitError says which quota held the run, and for how long.
type QuotaWaitError struct {
	Class   string        // "space writes", "membership writes", "reads"
	Waited  time.Duration // since the first 429 of the episode
	MaxWait time.Duration
}

func (e *QuotaWaitError) Error() string {
	return fmt.Sprintf("the server refused %s for %s (--max-wait %s): its quota did not come back",
		e.Class, e.Waited.Round(time.Second), e.MaxWait)
}

func (e *QuotaWaitError) Unwrap() error { return ErrQuotaWait }

// Limiter paces one class of calls (space writes, membership writes, reads).
// Every attempt waits on it, retries included, so the configured rate is
// never exceeded. It starts at the configured rate and adapts to the server.
//
// Throttling (429, or a 403 saying a quota was exceeded) pauses every caller
// of the class: an episode, from the first 429 to the first call let
// through after it. Google documents no Retry-After on Chat 429s (API-FACTS.md:
// Limits page; GAM7 ignores it and waits min(2ⁿ, 60) s plus jitter), so the
// pause is the server's Retry-After when it sends one, and otherwise ends
// with one call, a probe, sent when the quota may be back:
//
//   - when a learned window (window.go) explains the 429, at the moment it
//     reopens;
//   - otherwise after Throttle.Base, then after a pause of at most
//     Throttle.Fraction of the time the episode has lasted (and at most
//     Throttle.Cap). A quota that comes back at any moment is found at most
//     that fraction of the wait late, whether the wait is seconds or an
//     hour, for a number of probes that grows with the logarithm of the
//     wait: about 70 for an hour, with the defaults.
//
// Answers to calls that were already in flight when a pause began belong to
// the same wave and do not lengthen it: only a probe does. If the episode
// lasts MaxWait, the next 429 stops the run (ErrQuotaWait): the quota is not
// coming back soon enough.
//
// An episode no learned window explains teaches one: the calls accepted
// before it fit in a window that reopened when the probe was let through.
// From then on a call that would find that window full is held until it
// reopens, so that, a minute or an hour, the window is used to its edge
// without a 429 each time.
//
// The rate that drew the first 429 of an unexplained episode becomes the
// ceiling estimate, and the rate is cut: to 60% if the 429 came soon after
// the last one (far too fast), to 90% after a long quiet run. Each success
// raises it by 2% while below 85% of the ceiling, then by 0.05%, so it
// settles just under a quota that is a rate rather than a window, and
// probes above it only slowly; never above the configured rate.
type Limiter struct {
	mu        sync.Mutex
	name      string
	max       rate.Limit // configured rate; rate.Inf when off
	floor     rate.Limit
	ceiling   rate.Limit // the rate that drew the last cut; 0 before any
	sinceDrop int        // successes since the last cut
	lim       *rate.Limiter
	policy    Throttle

	epoch       time.Time     // times below are durations since it
	pausedUntil time.Duration // callers are held until then
	gen         uint64        // bumped by each pause: calls started before it are not probes
	ep          episode
	waiters     int // callers in Wait
	hist        history
	wins        []window
}

// episode is a throttling episode: from a 429 to the first call let through
// after it.
type episode struct {
	active bool
	start  time.Duration // the first 429's answer, for MaxWait and the probes
	gen    uint64        // calls of this generation or later started during it
	first  uint64        // the first call refused
	last   time.Duration // the start of the last call refused
	// unexplained: a 429 came that no learned window explains; the
	// episode then probes by Throttle and teaches a window when it ends.
	unexplained bool
}

// Turn is a call's place in its limiter, from Wait to its answer.
type Turn struct {
	gen  uint64        // pauses begun before the call started
	seq  uint64        // its place in the limiter's history
	at   time.Duration // when it started, since the limiter's epoch
	held time.Duration
}

// Held is how long the call waited for the server's quota before it
// started: pauses after 429s and full windows, not the rate.
func (t Turn) Held() time.Duration { return t.held }

// Throttle is how long a Limiter waits for a server that throttles without
// saying for how long, and how long it waits in all before it gives up.
type Throttle struct {
	// Base is the first pause of an episode that no learned window
	// explains, and the shortest.
	Base time.Duration
	// Fraction bounds every later pause by that fraction of the time the
	// episode has lasted: the quota, back at any moment, is found at most
	// this much of the wait late.
	Fraction float64
	// Cap bounds every pause.
	Cap time.Duration
	// MaxWait bounds an episode of throttling, from its first 429.
	MaxWait time.Duration
}

// DefaultThrottle is the policy of the command line. MaxWait is longer than
// the longest window Google documents for the Chat API (an hour, for
// creating spaces: API-FACTS.md, Limits), so that one run of any size
// finishes under an hourly cap.
var DefaultThrottle = Throttle{Base: 2 * time.Second, Fraction: 0.1, Cap: 5 * time.Minute, MaxWait: 65 * time.Minute}

// NewLimiter returns a limiter for perMinute calls a minute with a burst of
// one. Zero means no client-side limit: only the server's throttling pauses
// calls.
func NewLimiter(perMinute float64) *Limiter {
	l := &Limiter{max: rate.Inf, policy: DefaultThrottle, name: "calls", epoch: time.Now()}
	if perMinute > 0 {
		l.max = rate.Limit(perMinute / 60)
		l.floor = max(l.max/32, rate.Limit(1.0/60))
	}
	l.lim = rate.NewLimiter(l.max, 1)
	return l
}

// setup names the limiter's class for messages and sets its policy; zero
// fields of t keep the current ones.
func (l *Limiter) setup(name string, t Throttle) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.name = name
	if t.Base > 0 {
		l.policy.Base = t.Base
	}
	if t.Fraction > 0 {
		l.policy.Fraction = t.Fraction
	}
	if t.Cap > 0 {
		l.policy.Cap = t.Cap
	}
	if t.MaxWait > 0 {
		l.policy.MaxWait = t.MaxWait
	}
}

func (l *Limiter) now() time.Duration { return time.Since(l.epoch) }

// Wait blocks until a call may start: after any pause and while a learned
// window is full, then at the current rate. A caller whose turn comes
// during a pause that began while it waited for that turn waits for the
// pause too, then for a new turn: otherwise the turns handed out before a
// 429 would all be spent against the server while it is still refusing.
// The Turn is handed back with the call's answer.
func (l *Limiter) Wait(ctx context.Context) (Turn, error) {
	l.mu.Lock()
	l.waiters++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.waiters--
		l.mu.Unlock()
	}()
	var held time.Duration
	for {
		d, err := l.waitHeld(ctx)
		held += d
		if err != nil {
			return Turn{}, err
		}
		if err := l.lim.Wait(ctx); err != nil {
			return Turn{}, err
		}
		l.mu.Lock()
		now := l.now()
		if l.holdLocked(now) > 0 {
			l.mu.Unlock()
			continue
		}
		t := Turn{gen: l.gen, seq: l.hist.add(now), at: now, held: held}
		l.mu.Unlock()
		return t, nil
	}
}

// waitHeld blocks while the server's quota holds callers and returns how
// long it did.
func (l *Limiter) waitHeld(ctx context.Context) (time.Duration, error) {
	var held time.Duration
	for {
		l.mu.Lock()
		d := l.holdLocked(l.now())
		l.mu.Unlock()
		if d <= 0 {
			return held, nil
		}
		t := time.NewTimer(d)
		start := time.Now()
		select {
		case <-ctx.Done():
			t.Stop()
			return held + time.Since(start), ctx.Err()
		case <-t.C:
			held += time.Since(start)
		}
	}
}

// holdLocked is how long a call that would start at now is held: by a
// pause, or by a learned window that is full (never past MaxWait: beyond
// it, the call goes and a 429 decides).
func (l *Limiter) holdLocked(now time.Duration) time.Duration {
	until := l.pausedUntil
	if len(l.wins) > 0 {
		until = max(until, min(opens(l.wins, &l.hist), now+l.policy.MaxWait))
	}
	return max(until-now, 0)
}

// Pause returns how long callers are still held by the server's quota: a
// pause after a 429, or, while a caller waits, a learned window that is
// full.
func (l *Limiter) Pause() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.waiters == 0 {
		return max(l.pausedUntil-now, 0)
	}
	return l.holdLocked(now)
}

// Throttled records a 429 (or a quota 403) answered to the call of t, with
// the server's Retry-After (0 when it sent none), and pauses every caller.
// It returns a *QuotaWaitError when the episode has lasted MaxWait: the
// run should stop.
func (l *Limiter) Throttled(t Turn, retryAfter time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	i := l.hist.remove(t.seq) // the server did not count it
	opensBy, explained := refused(l.wins, &l.hist, i, t.at)
	if !l.ep.active {
		l.ep = episode{active: true, start: now, gen: l.gen + 1, first: t.seq}
	} else if t.gen < l.gen {
		return nil // an answer of the wave the current pause is for
	}
	if !explained && !l.ep.unexplained {
		l.ep.unexplained = true
		l.cut()
	}
	l.ep.last = max(l.ep.last, t.at)
	waited := now - l.ep.start
	if waited >= l.policy.MaxWait {
		return &QuotaWaitError{Class: l.name, Waited: waited, MaxWait: l.policy.MaxWait}
	}
	l.gen++
	var until time.Duration
	switch {
	case retryAfter > 0:
		until = now + retryAfter
	case explained:
		until = max(opensBy, now)
	default:
		until = now + l.policy.probe(waited)
	}
	// The last pause ends at the deadline, for one more probe.
	until = min(until, l.ep.start+l.policy.MaxWait)
	l.pausedUntil = max(l.pausedUntil, until)
	return nil
}

// probe is the pause before the next probe of an episode that has lasted
// waited: Base, or Fraction of waited when that is longer, at most Cap;
// the last tenth of it at random, so that runs sharing a quota do not
// probe in step.
func (p Throttle) probe(waited time.Duration) time.Duration {
	d := max(p.Base, time.Duration(p.Fraction*float64(waited)))
	d = min(d, p.Cap)
	return d - rand.N(d/10+1)
}

// cut lowers the rate at the first unexplained 429 of an episode: probes
// during the episode say nothing about the rate, since they are one per
// pause, and a 429 at a learned window's edge says the window is full,
// not that the rate is too high.
func (l *Limiter) cut() {
	if l.max == rate.Inf {
		return
	}
	l.ceiling = l.lim.Limit()
	f := 0.9
	if l.sinceDrop < quietRun {
		f = 0.6
	}
	l.sinceDrop = 0
	l.lim.SetLimit(max(l.ceiling*rate.Limit(f), l.floor))
}

// quietRun is how many successes in a row tell a 429 that grazed the quota
// from one that came from a rate well above it.
const quietRun = 10

// Succeeded records a call of t the server accepted: it narrows the learned
// windows, ends the throttling episode if the call started during it, and
// raises the rate back towards the ceiling, then past it slowly, up to the
// configured rate.
func (l *Limiter) Succeeded(t Turn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.answered(t)
	if l.max == rate.Inf {
		return
	}
	l.sinceDrop++
	cur := l.lim.Limit()
	if cur >= l.max {
		return
	}
	step := 1.0005
	if cur < l.ceiling*0.85 {
		step = 1.02
	}
	l.lim.SetLimit(min(cur*rate.Limit(step), l.max))
}

// Answered records a call of t the server answered without throttling it,
// though not with a success (a 409, a 400, a 503): the quota let it
// through, so it counts as Succeeded does, but the rate is left as it is.
func (l *Limiter) Answered(t Turn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.answered(t)
}

func (l *Limiter) answered(t Turn) {
	i, found := l.hist.index(t.seq)
	if found {
		accepted(l.wins, &l.hist, i, t.at)
	}
	if !l.ep.active || t.gen < l.ep.gen {
		return // started before the episode: it says nothing of the quota now
	}
	if l.ep.unexplained && found {
		l.wins = learn(l.wins, &l.hist, l.ep.first, l.ep.last, t.at)
	}
	l.ep = episode{}
}

// Rate is the current rate in calls per minute (0 when unlimited).
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max == rate.Inf {
		return 0
	}
	return float64(l.lim.Limit()) * 60
}
