package apply

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter paces one class of calls (space writes, membership writes, reads).
// It starts at the configured rate and adapts to the server: a 429 cuts the
// rate by 30% (never below a floor) and pauses every caller until the
// server's Retry-After has passed; each success then raises it by 1%, never
// above the configured rate. Against a quota below the configured rate this
// settles into a shallow sawtooth just under the quota: about one 429 per
// forty calls, and some 85% of the quota used. Every attempt waits on it, retries included, so the
// configured rate is never exceeded.
type Limiter struct {
	mu          sync.Mutex
	max         rate.Limit // configured rate; rate.Inf when off
	floor       rate.Limit
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

// Throttled records a 429. The rate is cut at most once per pause, so
// the answers to calls that were already in flight count as one signal.
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
	l.lim.SetLimit(max(l.lim.Limit()*0.7, l.floor))
}

// Succeeded records a call the server accepted and raises the rate a little,
// back towards the configured one.
func (l *Limiter) Succeeded() {
	if l.max == rate.Inf {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur := l.lim.Limit(); cur < l.max {
		l.lim.SetLimit(min(cur*1.01, l.max))
	}
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
