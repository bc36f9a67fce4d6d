package apply

import (
	"cmp"
	"slices"
	"time"
)

// The windows a limiter learns from the server's throttling.
//
// A quota of n calls in any span of w (a sliding window) refuses a call
// while the n-th most recent call it accepted is less than w old, and lets
// one through as soon as that call ages out. So after one throttling
// episode of such a window, the calls it accepted and the moment it let
// one through again tell both n and w, and from then on the limiter knows
// when the window is full and when it will reopen: it holds calls until
// then instead of spending them on 429s, and the first call after the
// reopening goes out at the reopening, not at the end of a pause that grew
// past it. Each call answered afterwards narrows the estimate of w.
//
// Google does not document how its windows slide (API-FACTS.md: Limits),
// and the emulator's are sliding windows; a server that differs (a fixed
// window that resets on the hour, a token bucket, calls of other clients
// counted in the same quota) refuses calls the learned window lets
// through, and those episodes fall back to the probing of Throttle: the
// learned windows can cost 429s, never a pause past the reopening.

// history is the start times of the calls a limiter sent that the server
// has not refused (answered or still in flight), oldest first.
type history struct {
	calls []histCall
	seq   uint64
}

type histCall struct {
	at  time.Duration // since the limiter's epoch
	seq uint64
}

// historyCap bounds the calls remembered: a window of more calls than this
// is not learned (the read quotas are 3,000 a minute; creation 35 a minute).
const historyCap = 4096

// add records a call started at at (never before the last one) and returns
// its sequence number.
func (h *history) add(at time.Duration) uint64 {
	if len(h.calls) >= historyCap {
		h.calls = slices.Delete(h.calls, 0, historyCap/4)
	}
	h.seq++
	h.calls = append(h.calls, histCall{at: at, seq: h.seq})
	return h.seq
}

// index returns the position of call seq, or where it would be if it is
// no longer remembered: the calls before it in either case. Calls are in
// the order they started, which is the order of their sequence numbers.
func (h *history) index(seq uint64) (i int, found bool) {
	return slices.BinarySearchFunc(h.calls, seq, func(c histCall, seq uint64) int { return cmp.Compare(c.seq, seq) })
}

// remove forgets a call the server refused: it did not count it.
func (h *history) remove(seq uint64) int {
	i, found := h.index(seq)
	if found {
		h.calls = slices.Delete(h.calls, i, i+1)
	}
	return i
}

// window is a sliding window learned from the server: at most n calls in
// any span of its length, which lies in (lo, hi].
type window struct {
	n      int
	lo, hi time.Duration
}

// maxWindows bounds the windows a limiter keeps: a minute and an hour, with
// room for a per-second or a daily quota; the oldest learned goes first.
const maxWindows = 4

// length is the length the limiter holds calls for: hi, the shortest
// length no answer has contradicted, once the estimate is tight; until
// then the middle of (lo, hi], so that each call at the edge halves the
// uncertainty, at the cost of a 429 when the window is longer.
func (w window) length() time.Duration {
	if w.hi-w.lo <= w.hi/64 {
		return w.hi
	}
	return w.lo + (w.hi-w.lo)/2
}

// anchor returns the call whose ageing out opens w to a call with i calls
// before it: the n-th most recent of them.
func (w window) anchor(h *history, i int) (time.Duration, bool) {
	if i < w.n {
		return 0, false
	}
	return h.calls[i-w.n].at, true
}

// opens returns when the learned windows let the next call go: zero when
// none is full.
func opens(wins []window, h *history) time.Duration {
	var t time.Duration
	for _, w := range wins {
		if a, ok := w.anchor(h, len(h.calls)); ok {
			t = max(t, a+w.length())
		}
	}
	return t
}

// accepted narrows the windows with a call that started at at, with i
// calls before it, and that the server let through: each window's n-th
// most recent call before it had aged out, so the window is no longer
// than the time since. An answer earlier than the lower estimate means
// the estimate was wrong (the server changed, or timing noise at the
// edge): the lower estimate moves below it.
func accepted(wins []window, h *history, i int, at time.Duration) {
	for k := range wins {
		w := &wins[k]
		a, ok := w.anchor(h, i)
		if !ok || at-a >= w.hi {
			continue
		}
		w.hi = at - a
		if w.lo >= w.hi {
			w.lo = w.hi - w.hi/16
		}
	}
}

// refused finds the learned windows a call refused at at, with i calls
// before it, stood at the edge of: full if the window is as long as hi.
// It returns when they all open, by their upper estimates, and whether
// there was any; the one window, when only one, is longer than the call's
// wait showed, and its lower estimate rises. None means the learned
// windows do not explain the refusal.
func refused(wins []window, h *history, i int, at time.Duration) (opensBy time.Duration, explained bool) {
	edge := -1
	for k, w := range wins {
		a, ok := w.anchor(h, i)
		if !ok || at-a >= w.hi {
			continue
		}
		opensBy = max(opensBy, a+w.hi)
		if explained {
			edge = -1 // two candidates: neither is known to be the one
		} else {
			edge, explained = k, true
		}
	}
	if edge >= 0 {
		a, _ := wins[edge].anchor(h, i)
		wins[edge].lo = max(wins[edge].lo, at-a)
	}
	return opensBy, explained
}

// learn adds the window that an episode no learned window explains
// reveals: the calls accepted before its first refusal (call first) all
// fit in it, counted from the oldest call remembered; the last refused
// call (started at last) came before it reopened and the first accepted
// one (at reopened) after.
func learn(wins []window, h *history, first uint64, last, reopened time.Duration) []window {
	n, _ := h.index(first)
	if n < 1 {
		return wins
	}
	a := h.calls[0].at
	w := window{n: n, lo: max(last-a, 0), hi: reopened - a}
	if w.hi <= 0 {
		return wins
	}
	if w.lo >= w.hi {
		w.lo = w.hi - w.hi/16
	}
	if len(wins) >= maxWindows {
		wins = slices.Delete(wins, 0, 1)
	}
	return append(wins, w)
}
