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
// of the class. Google documents no Retry-After on Chat 429s (API-FACTS.md:
// Limits page; GAM7 ignores it and waits min(2ⁿ, 60) s plus jitter), so the
// pause is the server's Retry-After when it sends one, otherwise a growing,
// jittered wait: about Throttle.Base after the first 429, doubling with each
// 429 in a row, up to Throttle.Cap. Answers to calls that were already in
// flight when a pause began belong to the same wave and do not lengthen it:
// only a probe (a call started after the last pause) does. The first answer
// that is not a 429 ends the episode. If the episode lasts MaxWait, the next 429 stops the run
// (ErrQuotaWait): the quota is not coming back soon enough.
//
// The rate that drew the first 429 of an episode becomes the ceiling
// estimate, and the rate is cut: to 60% if the 429 came soon after the last
// one (far too fast), to 90% after a long quiet run. Each success raises it
// by 2% while below 85% of the ceiling, then by 0.05%, so it settles just
// under the server's sustained quota, an hourly one included, and probes
// above it only slowly; never above the configured rate.
type Limiter struct {
	mu        sync.Mutex
	name      string
	max       rate.Limit // configured rate; rate.Inf when off
	floor     rate.Limit
	ceiling   rate.Limit // the rate that drew the last 429; 0 before any
	sinceDrop int        // successes since the last 429
	lim       *rate.Limiter

	pausedUntil time.Time
	gen         uint64    // bumped by each pause: calls started before it are not probes
	streak      int       // pauses in a row, without a success
	since       time.Time // first 429 of the current episode; zero when none
	policy      Throttle
}

// Throttle is how long a Limiter waits for a server that throttles without
// saying for how long, and how long it waits in all before it gives up.
type Throttle struct {
	Base, Cap time.Duration
	// MaxWait bounds an episode of throttling, from its first 429.
	MaxWait time.Duration
}

// DefaultThrottle is the policy of the command line: waits of about a
// second, then minutes (at most 5), for at most 30 minutes.
var DefaultThrottle = Throttle{Base: time.Second, Cap: 5 * time.Minute, MaxWait: 30 * time.Minute}

// NewLimiter returns a limiter for perMinute calls a minute with a burst of
// one. Zero means no client-side limit: only the server's throttling pauses
// calls.
func NewLimiter(perMinute float64) *Limiter {
	l := &Limiter{max: rate.Inf, policy: DefaultThrottle, name: "calls"}
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
	if t.Cap > 0 {
		l.policy.Cap = t.Cap
	}
	if t.MaxWait > 0 {
		l.policy.MaxWait = t.MaxWait
	}
}

// Wait blocks until a call may start: after any pause, then at the current
// rate. A caller whose turn comes during a pause that began while it waited
// for that turn waits for the pause too, then for a new turn: otherwise the
// turns handed out before a 429 would all be spent against the server while
// it is still refusing. The returned generation is handed back to Throttled.
func (l *Limiter) Wait(ctx context.Context) (uint64, error) {
	for {
		if err := l.waitPause(ctx); err != nil {
			return 0, err
		}
		if err := l.lim.Wait(ctx); err != nil {
			return 0, err
		}
		l.mu.Lock()
		paused, gen := time.Until(l.pausedUntil) > 0, l.gen
		l.mu.Unlock()
		if !paused {
			return gen, nil
		}
	}
}

// waitPause blocks until no pause holds callers.
func (l *Limiter) waitPause(ctx context.Context) error {
	for {
		d := l.Pause()
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Pause returns how long callers are still held by throttling.
func (l *Limiter) Pause() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(time.Until(l.pausedUntil), 0)
}

// Throttled records a 429 (or a quota 403) answered to a call started at
// generation gen, with the server's Retry-After (0 when it sent none), and
// pauses every caller. It returns a *QuotaWaitError when the episode has
// lasted MaxWait: the run should stop.
func (l *Limiter) Throttled(gen uint64, retryAfter time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.since.IsZero() {
		l.since = now
		l.cut()
	} else if gen != l.gen {
		return nil // an answer of the wave the current pause is for
	}
	if waited := now.Sub(l.since); waited >= l.policy.MaxWait {
		return &QuotaWaitError{Class: l.name, Waited: waited, MaxWait: l.policy.MaxWait}
	}
	l.gen++
	l.streak++
	wait := retryAfter
	if wait <= 0 {
		wait = growing(l.policy.Base, l.policy.Cap, l.streak)
	}
	// The last pause ends at the deadline, for one more probe.
	until := now.Add(wait)
	if deadline := l.since.Add(l.policy.MaxWait); until.After(deadline) {
		until = deadline
	}
	if until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
	return nil
}

// growing is the n-th wait (n ≥ 1) of an episode with no Retry-After:
// base·2ⁿ⁻¹ capped, with "equal jitter" (uniform in its upper half), so
// the waits grow and workers of several runs do not probe together.
func growing(base, cap time.Duration, n int) time.Duration {
	d := cap
	if n-1 < 30 {
		d = min(base<<(n-1), cap)
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}

// cut lowers the rate at the first 429 of an episode: probes during the
// episode say nothing about the rate, since they are one per pause.
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

// Succeeded records a call the server accepted: it ends any throttling
// episode and raises the rate back towards the ceiling, then past it
// slowly, up to the configured rate.
func (l *Limiter) Succeeded() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.streak = 0
	l.since = time.Time{}
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

// Answered records a call the server answered without throttling it,
// though not with a success (a 409, a 400, a 503): the throttling episode,
// if any, is over; the rate is left as it is.
func (l *Limiter) Answered() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.streak = 0
	l.since = time.Time{}
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
