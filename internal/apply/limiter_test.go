package apply_test

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"provision/internal/apply"
)

// Every test of this file runs in a synctest bubble: time is fake, and
// advances only when every goroutine of the test waits.

// take waits for a turn of l, failing the test if it cannot.
func take(t *testing.T, l *apply.Limiter) apply.Turn {
	t.Helper()
	turn, err := l.Wait(context.Background())
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return turn
}

func TestLimiterAdapts(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := apply.NewLimiter(600)
		if got := l.Rate(); got != 600 {
			t.Fatalf("Rate() = %v, want 600", got)
		}
		turn := take(t, l)
		// Answers to calls in flight together count as one signal; a 429
		// with no quiet run before it cuts the rate to 60%.
		if err := l.Throttled(turn, 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := l.Throttled(turn, 20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if got := l.Rate(); math.Abs(got-360) > 1e-6 {
			t.Fatalf("Rate() after one pause = %v, want 360 (60%%)", got)
		}
		if p := l.Pause(); p != 20*time.Millisecond {
			t.Fatalf("Pause() = %v, want the Retry-After of 20ms", p)
		}
		start := time.Now()
		turn = take(t, l)
		if waited := time.Since(start); waited < 20*time.Millisecond || turn.Held() != 20*time.Millisecond {
			t.Fatalf("Wait returned after %v, held %v by the server's quota, during a 20ms pause", waited, turn.Held())
		}
		// A probe that is throttled again lengthens the pause but does not
		// cut the rate: one pause per probe says nothing about the rate.
		if err := l.Throttled(turn, 5*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if got := l.Rate(); math.Abs(got-360) > 1e-6 {
			t.Fatalf("Rate() after a throttled probe = %v, want still 360", got)
		}
		// Quickly back to 85% of the rate that drew the 429, then slowly on.
		for range 18 {
			l.Succeeded(take(t, l))
		}
		if got := l.Rate(); got < 510 || got > 530 {
			t.Fatalf("Rate() 18 successes after the pause = %v, want about 85%% of 600", got)
		}
		before := l.Rate()
		l.Succeeded(take(t, l))
		if got := l.Rate(); got > before*1.001 {
			t.Fatalf("Rate() past 85%% of the ceiling went from %v to %v, want slow growth", before, got)
		}
		// A 429 after a quiet run cuts gently; the answer to the probe that
		// ends the episode is a success.
		time.Sleep(time.Minute)
		rateAt := l.Rate()
		l.Throttled(take(t, l), time.Nanosecond)
		if got := l.Rate(); math.Abs(got-rateAt*0.9) > 1e-6 {
			t.Fatalf("Rate() after a 429 that followed a quiet run = %v, want 90%% of %v", got, rateAt)
		}
		for range 2000 {
			l.Succeeded(take(t, l))
		}
		if got := l.Rate(); got != 600 {
			t.Fatalf("Rate() after many successes = %v, want back at 600 and no more", got)
		}
		// Many episodes in a row never take it below the floor.
		for range 50 {
			l.Throttled(take(t, l), time.Nanosecond)
			l.Succeeded(take(t, l))
		}
		if got := l.Rate(); got < 600.0/32-1e-9 {
			t.Fatalf("Rate() after 50 pauses = %v, want at least the floor %v", got, 600.0/32)
		}
	})
}

func TestUnlimitedLimiterStillPauses(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := apply.NewLimiter(0)
		l.Throttled(take(t, l), 30*time.Millisecond)
		if l.Rate() != 0 {
			t.Fatalf("Rate() = %v, want 0 (no limit)", l.Rate())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		if _, err := l.Wait(ctx); err == nil {
			t.Fatal("Wait during a server's pause returned before the pause ended")
		}
	})
}

// TestProbesFindTheQuotaWithinTheFraction: a server that refuses every call
// until its quota comes back, after a second or after an hour, and sends
// no Retry-After. Each pause is at most Throttle.Fraction of the time the
// episode has lasted (or Throttle.Base, early on), so the probe that finds
// the quota back is at most that late; the probes number about the
// logarithm of the wait.
func TestProbesFindTheQuotaWithinTheFraction(t *testing.T) {
	t.Parallel()
	p := apply.DefaultThrottle
	for _, tc := range []struct {
		back      time.Duration
		maxProbes int
	}{
		// maxProbes: every pause drawn at its shortest (nine tenths).
		{time.Second, 1},
		{7 * time.Second, 4},
		{45 * time.Second, 21},
		{10 * time.Minute, 51},
		{59 * time.Minute, 72},
		{64 * time.Minute, 73},
	} {
		t.Run(tc.back.String(), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				l := apply.NewLimiter(0)
				l.SetThrottle(p)
				start := time.Now()
				probes := 0
				for {
					turn := take(t, l)
					if now := time.Since(start); now >= tc.back {
						late := now - tc.back
						if bound := max(p.Base, time.Duration(p.Fraction*float64(tc.back))); late > bound {
							t.Errorf("the quota came back after %v and was found %v late, want at most %v", tc.back, late, bound)
						}
						l.Succeeded(turn)
						break
					}
					probes++
					if err := l.Throttled(turn, 0); err != nil {
						t.Fatalf("Throttled after %v: %v", time.Since(start), err)
					}
					waited := time.Since(start)
					bound := min(max(p.Base, time.Duration(p.Fraction*float64(waited))), p.Cap)
					if pause := l.Pause(); pause <= 0 || pause > bound {
						t.Fatalf("after %v of throttling, a pause of %v; want more than 0, at most %v", waited, pause, bound)
					}
				}
				if probes > tc.maxProbes {
					t.Errorf("%d 429s before the quota came back after %v, want at most %d", probes, tc.back, tc.maxProbes)
				}
			})
		})
	}
}

// slidingWindow is a server's quota as the emulator keeps it: at most n
// calls accepted in any span of w.
type slidingWindow struct {
	n        int
	w        time.Duration
	accepted []time.Time
}

// opens is when the window lets the next call through.
func (s *slidingWindow) opens() time.Time {
	if len(s.accepted) < s.n {
		return time.Time{}
	}
	return s.accepted[len(s.accepted)-s.n].Add(s.w)
}

func (s *slidingWindow) take(now time.Time) bool {
	if now.Before(s.opens()) {
		return false
	}
	s.accepted = append(s.accepted, now)
	return true
}

// TestLearnedWindowHoldsCallsUntilItReopens: a server that allows 10 calls
// in any minute, with no Retry-After, and a client with no rate of its
// own. The first episode (the second minute) teaches the limiter the
// window; from then on a caller that would find it full waits for the
// reopening, Pause says for how long, each minute costs at most one 429,
// the first call of a minute goes no later after the reopening than the
// first episode allowed, and the estimate tightens until calls go as the
// window reopens.
func TestLearnedWindowHoldsCallsUntilItReopens(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := apply.DefaultThrottle
		l := apply.NewLimiter(0)
		l.SetThrottle(p)
		srv := &slidingWindow{n: 10, w: time.Minute}
		firstLate := max(p.Base, time.Duration(p.Fraction*float64(srv.w)))
		refused := make(map[int]int) // by minute: the n calls of one window
		var late time.Duration       // of the first call of the last minute
		for len(srv.accepted) < 200 {
			minute := len(srv.accepted) / srv.n
			reopens := srv.opens()
			turns := make(chan apply.Turn, 1)
			go func() { turns <- take(t, l) }()
			synctest.Wait() // the caller is waiting, or has its turn
			full := time.Now().Before(reopens)
			if full && minute >= 2 {
				if d := l.Pause() - time.Until(reopens); d > firstLate || d < -firstLate {
					t.Errorf("minute %d: Pause() = %v while the window reopens in %v", minute, l.Pause(), time.Until(reopens))
				}
			}
			turn := <-turns
			if !srv.take(time.Now()) {
				refused[minute]++
				if err := l.Throttled(turn, 0); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if full && minute >= 2 {
				if late = time.Since(reopens); late > firstLate {
					t.Errorf("minute %d: the first call went %v after the window reopened, want at most %v", minute, late, firstLate)
				}
			}
			l.Succeeded(turn)
		}
		for minute := 2; minute < 20; minute++ {
			if refused[minute] > 1 {
				t.Errorf("minute %d: %d 429s, want at most 1 once the window is learned", minute, refused[minute])
			}
		}
		if tight := srv.w / 64; late > tight || late < 0 {
			t.Errorf("the last minute's first call went %v after the window reopened, want at most %v", late, tight)
		}
	})
}
