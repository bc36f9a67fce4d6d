package apply

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// fullJitter is capped exponential backoff with full jitter: the n-th wait
// is drawn uniformly from [0, min(cap, base·2ⁿ)], which spreads the retries
// of many workers instead of having them collide again.
type fullJitter struct {
	base, cap time.Duration
	n         int
}

func (b *fullJitter) Reset() { b.n = 0 }

func (b *fullJitter) NextBackOff() time.Duration {
	ceil := b.cap
	if b.n < 30 {
		ceil = min(b.base<<b.n, b.cap)
	}
	b.n++
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// call is one API call, made once per attempt with its own deadline.
type call func(ctx context.Context) error

// do runs c until it succeeds, fails for good, runs out of attempts, or the
// run is stopped. Every attempt first waits on lim. An attempt that has
// started is never cut short by a stop: its context only carries the
// per-call timeout, so a space the server creates is always recorded.
func (r *runner) do(ctx context.Context, lim *Limiter, method, target string, c call) error {
	attempt := 0
	var last error
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		attempt++
		if d := lim.Pause(); d > 0 {
			r.log.Debug("wait", "method", method, "target", target, "for", d.Round(time.Millisecond), "why", "the server asked to retry later (429)")
		}
		if err := lim.Wait(ctx); err != nil {
			return struct{}{}, backoff.Permanent(err)
		}
		r.count(method)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.Timeout)
		err := c(cctx)
		cancel()
		if err == nil {
			lim.Succeeded()
			r.log.Debug("call", "method", method, "target", target, "attempt", attempt, "result", "ok")
			return struct{}{}, nil
		}
		e := classify(err)
		last = e
		r.log.Debug("call", "method", method, "target", target, "attempt", attempt, "result", e.Error())
		switch e.kind {
		case throttled:
			r.stats.throttled.Add(1)
			lim.Throttled(e.retryAfter)
			// The limiter now holds every worker until the server's delay
			// has passed; a little jitter keeps them from waking together.
			return struct{}{}, &backoff.RetryAfterError{Duration: time.Duration(rand.Int64N(int64(r.opts.Backoff.Base) + 1))}
		case transient:
			return struct{}{}, e
		}
		return struct{}{}, backoff.Permanent(e)
	},
		backoff.WithBackOff(&fullJitter{base: r.opts.Backoff.Base, cap: r.opts.Backoff.Cap}),
		backoff.WithMaxTries(uint(r.opts.MaxAttempts)),
		backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, wait time.Duration) {
			r.stats.retries.Add(1)
			r.log.Debug("retry", "method", method, "target", target, "after", err.Error(), "wait", wait.Round(time.Millisecond))
		}),
	)
	var ra *backoff.RetryAfterError
	if errors.As(err, &ra) {
		return last // out of attempts while throttled
	}
	return err
}
