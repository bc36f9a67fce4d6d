package apply_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
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

// TestThrottleWaitsGrow: without Retry-After, the pauses grow between
// probes, and answers to calls already in flight do not lengthen them.
func TestThrottleWaitsGrow(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var times []time.Time
	emu, _ := emulator(t)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		throttle := len(times) < 5
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
	o := apply.Options{Concurrency: 1, Throttle: apply.Throttle{Base: 40 * time.Millisecond, Cap: time.Second, MaxWait: time.Minute}}
	if _, _, err := s.run(context.Background(), client(t, h), config(1), o); err != nil {
		t.Fatal(err)
	}
	// Waits are in [d/2, d] for d = 40, 80, 160, 320 ms.
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(times); i++ {
		d := times[i].Sub(times[i-1])
		lo := (40 * time.Millisecond << (i - 1)) / 2
		if d < lo {
			t.Errorf("wait %d was %v, want at least %v", i, d, lo)
		}
	}
}
