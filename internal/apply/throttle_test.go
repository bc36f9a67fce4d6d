package apply_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"provision/internal/apply"
	"provision/internal/chatemu"
	"provision/internal/results"
)

// quick is a throttling policy on the scale of the tests' quota windows.
var quick = apply.Throttle{Base: 20 * time.Millisecond, Cap: 400 * time.Millisecond, MaxWait: 30 * time.Second}

// TestCreationLimitNeverFailsASpace: the space-creation limit per "minute"
// and per "hour" (windows scaled down), 429s without Retry-After, and only
// 3 attempts per call: every space is created once and none fails, since
// throttled attempts do not count.
func TestCreationLimitNeverFailsASpace(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t,
		chatemu.WithCreationLimit(4, 12),
		chatemu.WithWindow(200*time.Millisecond),
		chatemu.WithLongWindow(time.Second))
	s := newState(t)
	o := apply.Options{Concurrency: 4, MaxAttempts: 3, Spaces: apply.NewLimiter(6000), Throttle: quick}
	sum, _, err := s.run(context.Background(), svc, config(100), o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	st := emu.Stats()
	if sum.Created != 100 || sum.Failed != 0 || st.SpacesCreated != 100 || st.Duplicates != 0 {
		t.Fatalf("summary %+v, server created %d; want 100 created once, none failed", sum, st.SpacesCreated)
	}
	if st.Throttled == 0 {
		t.Fatal("the server never throttled: the test does not test throttling")
	}
	if int64(st.Throttled) != sum.Throttled {
		t.Fatalf("summary counts %d 429s, the server sent %d", sum.Throttled, st.Throttled)
	}
	checkMatchesServer(t, emu, s.file())
}

// TestQuotaThatNeverComesBack: a server whose creation quota is spent for
// the "hour" stops the run after MaxWait, like an interrupt: the spaces in
// flight are pending, none failed, and Run says why.
func TestQuotaThatNeverComesBack(t *testing.T) {
	t.Parallel()
	emu, svc := emulator(t, chatemu.WithCreationLimit(0, 3), chatemu.WithLongWindow(time.Hour))
	s := newState(t)
	o := apply.Options{Concurrency: 2, MaxAttempts: 3, Throttle: apply.Throttle{Base: 20 * time.Millisecond, Cap: 200 * time.Millisecond, MaxWait: time.Second}}
	start := time.Now()
	sum, _, err := s.run(context.Background(), svc, config(10), o)
	elapsed := time.Since(start)
	var qerr *apply.QuotaWaitError
	if !errors.As(err, &qerr) || !errors.Is(err, apply.ErrQuotaWait) {
		t.Fatalf("Run: %v, want a QuotaWaitError", err)
	}
	if elapsed > 5*time.Second {
		t.Fatalf("stopped after %v with MaxWait 1s", elapsed)
	}
	if sum.Created != 3 || sum.Failed != 0 || sum.Interrupted != 7 {
		t.Fatalf("summary %+v; want 3 created, 7 interrupted, none failed; results %+v", sum, s.file().Spaces)
	}
	f := s.file()
	pending := 0
	for k, e := range f.Spaces {
		switch e.Status {
		case results.Failed:
			t.Errorf("%q recorded as failed (%s); a quota stop fails nothing", k, e.Error)
		case results.Pending:
			pending++
			if e.RequestID == "" {
				t.Errorf("%q pending without a requestId", k)
			}
		}
	}
	if pending == 0 {
		t.Fatal("no space recorded as pending: the spaces in flight were lost")
	}
	if st := emu.Stats(); st.SpacesCreated != 3 {
		t.Fatalf("server created %d, want 3", st.SpacesCreated)
	}
}

// TestQuota403IsThrottling: a 403 whose message says a quota was exceeded
// (GAM7 treats it so) pauses and retries; it neither fails the space nor
// stops the run as a refusal of the credentials would.
func TestQuota403IsThrottling(t *testing.T) {
	t.Parallel()
	emu, _ := emulator(t)
	var refused atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && refused.Add(1) <= 4 {
			googleError(w, 403, "PERMISSION_DENIED", "Quota exceeded for quota metric 'Space write requests' and limit 'Space write requests per minute per user' of service 'chat.googleapis.com'")
			return
		}
		emu.ServeHTTP(w, r)
	})
	s := newState(t)
	o := apply.Options{Concurrency: 1, MaxAttempts: 1, Throttle: quick}
	sum, _, err := s.run(context.Background(), client(t, h), config(2), o)
	if err != nil || sum.Created != 2 || sum.Failed != 0 || sum.Throttled != 4 {
		t.Fatalf("Run: %v, summary %+v; want 2 created after 4 throttled attempts", err, sum)
	}
}

// TestRetryAfterCappedByMaxWait: a Retry-After of years is honoured only up
// to MaxWait, then the run stops waiting.
func TestRetryAfterCappedByMaxWait(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "99999999")
		googleError(w, 429, "RESOURCE_EXHAUSTED", "Quota exceeded")
	})
	s := newState(t)
	o := apply.Options{Concurrency: 1, Throttle: apply.Throttle{MaxWait: 500 * time.Millisecond}}
	start := time.Now()
	_, _, err := s.run(context.Background(), client(t, h), config(1), o)
	if !errors.Is(err, apply.ErrQuotaWait) {
		t.Fatalf("Run: %v, want ErrQuotaWait", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("stopped after %v with MaxWait 500ms and Retry-After: 99999999", d)
	}
	if e := s.file().Spaces["Team 000"]; e.Status != results.Pending {
		t.Fatalf("entry %+v, want pending", e)
	}
}

// TestThrottleProbesWithinFraction: without Retry-After, the pauses between
// probes are Base, then at most Fraction of the time the episode has
// lasted, and answers to calls already in flight do not lengthen them. On
// the bubble's fake clock, so the gaps are exact.
func TestThrottleProbesWithinFraction(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var times []time.Time
		emu := chatemu.New(chatemu.WithSpaceQuota(0), chatemu.WithMemberQuota(0), chatemu.WithReadQuota(0))
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			throttle := len(times) < 40
			if throttle {
				times = append(times, time.Now())
			}
			mu.Unlock()
			if throttle {
				googleError(w, 429, "RESOURCE_EXHAUSTED", "Quota exceeded")
				return
			}
			emu.ServeHTTP(w, r)
		})
		s := newState(t)
		p := apply.Throttle{Base: time.Second, Fraction: 0.1, Cap: time.Minute, MaxWait: time.Hour}
		if _, _, err := s.run(context.Background(), inProcess(t, h), config(1), apply.Options{Concurrency: 1, Throttle: p}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		for i := 1; i < len(times); i++ {
			waited := times[i-1].Sub(times[0])
			bound := min(max(p.Base, time.Duration(p.Fraction*float64(waited))), p.Cap)
			if d := times[i].Sub(times[i-1]); d > bound || d < bound*9/10 {
				t.Errorf("probe %d came %v after the one before, %v into the episode; want between %v and %v", i, d, waited, bound*9/10, bound)
			}
		}
		if last := times[len(times)-1].Sub(times[0]); last < 20*time.Second {
			t.Fatalf("40 probes over %v: the pauses did not grow past Base", last)
		}
	})
}

// TestHourlyCapDoesNotStopARun: the onboarding of the issue. Google allows
// fewer than 35 creates a minute and an hourly figure (60 on an older
// page; API-FACTS.md); 200 spaces at the default --rate of 30 a minute
// make 60, then wait most of an hour for the window to reopen, three
// times. With the default MaxWait (65 minutes, longer than the hour) the
// run goes through every window, fails nothing and creates each space
// once; with the 30 minutes of before, it stopped at the first. On the
// bubble's fake clock: the hours pass in milliseconds.
func TestHourlyCapDoesNotStopARun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		maxWait time.Duration
		created int
	}{
		{apply.DefaultThrottle.MaxWait, 200},
		{30 * time.Minute, 60},
	} {
		t.Run("MaxWait="+tc.maxWait.String(), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				emu := chatemu.New(chatemu.WithSpaceQuota(0), chatemu.WithMemberQuota(0), chatemu.WithReadQuota(0),
					chatemu.WithCreationLimit(35, 60), chatemu.WithWindow(time.Minute), chatemu.WithLongWindow(time.Hour))
				s := newState(t)
				throttle := apply.DefaultThrottle
				throttle.MaxWait = tc.maxWait
				o := apply.Options{Concurrency: 4, MaxAttempts: 3, Spaces: apply.NewLimiter(30), Throttle: throttle}
				start := time.Now()
				sum, _, err := s.run(context.Background(), inProcess(t, emu), config(200), o)
				elapsed := time.Since(start)
				st := emu.Stats()
				if sum.Created != tc.created || sum.Failed != 0 || st.SpacesCreated != tc.created || st.Duplicates != 0 {
					t.Fatalf("summary %+v, server created %d (%d duplicates); want %d created once, none failed", sum, st.SpacesCreated, st.Duplicates, tc.created)
				}
				if tc.created == 200 {
					if err != nil {
						t.Fatalf("Run after %v: %v", elapsed, err)
					}
					if elapsed < 3*time.Hour {
						t.Fatalf("200 spaces under 60 an hour in %v: the server's windows did not bind", elapsed)
					}
					return
				}
				var qerr *apply.QuotaWaitError
				if !errors.As(err, &qerr) || sum.Interrupted != 200-tc.created {
					t.Fatalf("Run: %v, summary %+v; want a stop after MaxWait, the rest pending", err, sum)
				}
			})
		})
	}
}

// TestCreationQuotaUsedToTheEdge: the space-creation limit of a "minute"
// and an "hour" scaled down (those of make bench and of the issue), 429s
// without Retry-After, the tool's --rate above the short limit: the run
// takes at most a ninth longer than the fastest any client could be (every
// create the instant both sliding windows allow it), with at most half a
// 429 per space. And Google's own figures (35 a minute, 60 an hour) for
// 500 spaces, at the default --rate. On the bubble's fake clock, with the
// policy of the command line: the figures depend on the policy alone, not
// on the machine.
func TestCreationQuotaUsedToTheEdge(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		short       int
		window      time.Duration
		long        int
		longWindow  time.Duration
		spaces      int
		perMinute   float64
		concurrency int
	}{
		{6, 2 * time.Second, 20, 30 * time.Second, 40, 600, 4},
		{10, 5 * time.Second, 30, 30 * time.Second, 100, 240, 4},
		{10, 5 * time.Second, 30, time.Minute, 70, 240, 4},
		{35, time.Minute, 60, time.Hour, 500, 30, 4},
	} {
		name := fmt.Sprintf("%d per %v + %d per %v", tc.short, tc.window, tc.long, tc.longWindow)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				emu := chatemu.New(chatemu.WithSpaceQuota(0), chatemu.WithMemberQuota(0), chatemu.WithReadQuota(0),
					chatemu.WithCreationLimit(tc.short, tc.long), chatemu.WithWindow(tc.window), chatemu.WithLongWindow(tc.longWindow),
					chatemu.WithLatency(time.Millisecond))
				s := newState(t)
				o := apply.Options{Concurrency: tc.concurrency, MaxAttempts: 3, Spaces: apply.NewLimiter(tc.perMinute), Throttle: apply.DefaultThrottle}
				start := time.Now()
				sum, _, err := s.run(context.Background(), inProcess(t, emu), config(tc.spaces), o)
				elapsed := time.Since(start)
				if err != nil || sum.Created != tc.spaces {
					t.Fatalf("Run: %v, summary %+v", err, sum)
				}
				ideal := fastest(tc.spaces, tc.short, tc.window, tc.long, tc.longWindow)
				used := ideal.Seconds() / elapsed.Seconds()
				per := float64(emu.Stats().Throttled) / float64(tc.spaces)
				t.Logf("%d spaces in %v, fastest possible %v: %.1f%%; %.3f 429s a space", tc.spaces, elapsed.Round(time.Millisecond), ideal, 100*used, per)
				if used < 0.9 || per > 0.5 {
					t.Errorf("%.1f%% of the creation quota with %.3f 429s a space; want at least 90%% and at most 0.5", 100*used, per)
				}
			})
		})
	}
}

// fastest is when the last of n creates can be made, at the earliest,
// under short per window and long per longWindow (sliding windows), the
// first at 0: each create the instant both windows allow it. No schedule
// does better: by induction each of its creates is no later than the same
// create of any other.
func fastest(n, short int, window time.Duration, long int, longWindow time.Duration) time.Duration {
	t := make([]time.Duration, 0, n)
	for k := range n {
		var next time.Duration
		if k > 0 {
			next = t[k-1]
		}
		if k >= short {
			next = max(next, t[k-short]+window)
		}
		if k >= long {
			next = max(next, t[k-long]+longWindow)
		}
		t = append(t, next)
	}
	return t[n-1]
}
