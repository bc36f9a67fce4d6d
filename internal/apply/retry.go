package apply

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// newBackoff is capped exponential backoff with full jitter for transient
// failures: the n-th wait is drawn from [0, 2·min(cap, base·2ⁿ)) (backoff's
// randomization of 1), which spreads the retries of many workers instead of
// having them collide again. No elapsed-time limit: attempts bound it.
func newBackoff(base, cap time.Duration) *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = base, cap
	b.Multiplier, b.RandomizationFactor = 2, 1
	b.Reset()
	return b
}

// call is one API call, made once per attempt with its own deadline.
type call func(ctx context.Context) error

// do runs c until it succeeds, fails for good, runs out of attempts, or the
// run is stopped. Every attempt first waits on lim.
//
// Transient failures (5xx, 408, resets, timeouts) are retried with capped
// exponential backoff and full jitter, MaxAttempts in all. Throttling is
// not a failure: a throttled attempt pauses the whole class on lim and is
// never counted against MaxAttempts; only lim's MaxWait ends it, by
// stopping the run.
//
// An attempt that has started is never cut short by a stop: its context
// only carries the per-call timeout, so a space the server creates is
// always recorded.
func (r *runner) do(ctx context.Context, lim *Limiter, method, target string, c call) error {
	failures := 0
	bo := newBackoff(r.opts.Backoff.Base, r.opts.Backoff.Cap)
	for attempt := 1; ; attempt++ {
		turn, err := lim.Wait(ctx)
		if d := turn.Held(); d > 0 {
			r.log.Debug("wait", "method", method, "target", target, "for", d.Round(time.Millisecond), "why", "the server's quota")
			r.waited(lim, d)
		}
		if err != nil {
			return err
		}
		r.count(method)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.Timeout)
		err = c(cctx)
		cancel()
		r.called(method, err)
		if err == nil {
			lim.Succeeded(turn)
			r.log.Debug("call", "method", method, "target", target, "attempt", attempt, "result", "ok")
			return nil
		}
		e := classify(err)
		e.message = r.opts.Redact(e.message)
		r.log.Debug("call", "method", method, "target", target, "attempt", attempt, "result", e.Error())
		if e.kind != throttled && e.code != 0 {
			// The server answered: whatever it said, its quota is back.
			lim.Answered(turn)
		}
		switch e.kind {
		case throttled:
			r.stats.throttled.Add(1)
			if qerr := lim.Throttled(turn, e.retryAfter); qerr != nil {
				r.stop(qerr)
				return qerr
			}
			continue
		case transient:
			failures++
			if failures >= r.opts.MaxAttempts {
				return e
			}
			wait := bo.NextBackOff()
			r.stats.retries.Add(1)
			r.log.Debug("retry", "method", method, "target", target, "after", e.Error(), "wait", wait.Round(time.Millisecond))
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return context.Cause(ctx)
			case <-t.C:
			}
			continue
		}
		return e
	}
}

// called counts one attempt of method by its HTTP status (0: no answer).
func (r *runner) called(method string, err error) {
	code := 200
	if err != nil {
		code = classify(err).code
	}
	r.callsMu.Lock()
	defer r.callsMu.Unlock()
	if r.calls == nil {
		r.calls = make(map[string]map[int]int)
	}
	if r.calls[method] == nil {
		r.calls[method] = make(map[int]int)
	}
	r.calls[method][code]++
}

// tally returns the attempts counted by method and status, and the time
// held by the server's quota, once the workers are done.
func (r *runner) tally() (map[string]map[int]int, time.Duration) {
	r.callsMu.Lock()
	defer r.callsMu.Unlock()
	return r.calls, r.quotaWait
}

// waited adds to the time the run spent held by the server's quota: the
// wait of d that a call of lim just ended, counted once however many
// workers waited it out together.
func (r *runner) waited(lim *Limiter, d time.Duration) {
	r.callsMu.Lock()
	defer r.callsMu.Unlock()
	if r.pausedTo == nil {
		r.pausedTo = make(map[*Limiter]time.Time)
	}
	until := time.Now()
	from := until.Add(-d)
	if to := r.pausedTo[lim]; to.After(from) {
		from = to
	}
	if until.After(from) {
		r.quotaWait += until.Sub(from)
		r.pausedTo[lim] = until
	}
}
