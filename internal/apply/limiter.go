package apply

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter paces one class of calls (space writes, membership writes, reads).
// Every attempt waits on it, retries included, so the configured rate is
// never exceeded. It starts at the configured rate and adapts to the server:
//
//   - A 429 pauses every caller until the server's Retry-After has passed
//     (answers to calls already in flight during one pause count as one
//     signal), and the rate that drew it becomes the ceiling estimate. If
//     the 429 came soon after the last one, the rate is far too high and is
//     cut to 60%; after a long quiet run, to 90% of the ceiling.
//   - Each success raises the rate: by 2% while below 85% of the ceiling,
//     then by 0.05%, so it lingers just under the server's quota and probes
//     above it only slowly; never above the configured rate.
//
// Every 429 costs a whole Retry-After for every worker, so few of them
// matter more than a rate exactly at the quota.
type Limiter struct {
	mu          sync.Mutex
	max         rate.Limit // configured rate; rate.Inf when off
	floor       rate.Limit
	ceiling     rate.Limit // the rate that drew the last 429; 0 before any
	sinceDrop   int        // successes since the last 429
	lim         *rate.Limiter
	pausedUntil time.Time
	lastDrop    time.Time
}

// NewLimiter returns a limiter for perMinute calls a minute with a burst of
// one. Zero means no client-side limit: only the server's Retry-After pauses
// calls.
func NewLimiter(perMinute float64) *Limiter {
	l := &Limiter{max: rate.Inf}
	if perMinute > 0 {
		l.max = rate.Limit(perMinute / 60)
		l.floor = max(l.max/32, rate.Limit(1.0/60))
	}
	l.lim = rate.NewLimiter(l.max, 1)
	return l
}

// Wait blocks until a call may start: after any pause the server asked for,
// then at the current rate. A caller whose turn comes during a pause that
// began while it waited for that turn waits for the pause too, then for a
// new turn: otherwise the turns handed out before a 429 would all be spent
// against the server while it is still refusing.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		if err := l.waitPause(ctx); err != nil {
			return err
		}
		if err := l.lim.Wait(ctx); err != nil {
			return err
		}
		if l.Pause() <= 0 {
			return nil
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

// Pause returns how long callers are still held by a server's Retry-After.
func (l *Limiter) Pause() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(time.Until(l.pausedUntil), 0)
}

// Throttled records a 429 and the server's requested delay.
func (l *Limiter) Throttled(retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if retryAfter <= 0 {
		retryAfter = time.Second
	}
	if until := now.Add(retryAfter); until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
	if l.max == rate.Inf || now.Before(l.lastDrop) {
		return
	}
	l.lastDrop = l.pausedUntil
	l.ceiling = l.lim.Limit()
	cut := 0.9
	if l.sinceDrop < quietRun {
		cut = 0.6
	}
	l.sinceDrop = 0
	l.lim.SetLimit(max(l.ceiling*rate.Limit(cut), l.floor))
}

// quietRun is how many successes in a row tell a 429 that grazed the quota
// from one that came from a rate well above it.
const quietRun = 10

// Succeeded records a call the server accepted and raises the rate back
// towards the ceiling, then past it slowly, up to the configured rate.
func (l *Limiter) Succeeded() {
	if l.max == rate.Inf {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
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

// Rate is the current rate in calls per minute (0 when unlimited).
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max == rate.Inf {
		return 0
	}
	return float64(l.lim.Limit()) * 60
}
