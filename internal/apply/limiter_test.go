package apply_test

import (
	"context"
	"math"
	"testing"
	"time"

	"provision/internal/apply"
)

func TestLimiterAdapts(t *testing.T) {
	t.Parallel()
	l := apply.NewLimiter(600)
	if got := l.Rate(); got != 600 {
		t.Fatalf("Rate() = %v, want 600", got)
	}
	gen, err := l.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Answers to calls in flight together count as one signal; a 429 with
	// no quiet run before it cuts the rate to 60%.
	if err := l.Throttled(gen, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := l.Throttled(gen, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := l.Rate(); math.Abs(got-360) > 1e-6 {
		t.Fatalf("Rate() after one pause = %v, want 360 (60%%)", got)
	}
	if p := l.Pause(); p <= 0 || p > 20*time.Millisecond {
		t.Fatalf("Pause() = %v, want up to 20ms", p)
	}
	start := time.Now()
	gen, err = l.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 15*time.Millisecond {
		t.Fatalf("Wait returned after %v during a 20ms pause", waited)
	}
	// A probe that is throttled again lengthens the pause but does not cut
	// the rate: one pause per probe says nothing about the rate.
	if err := l.Throttled(gen, 5*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := l.Rate(); math.Abs(got-360) > 1e-6 {
		t.Fatalf("Rate() after a throttled probe = %v, want still 360", got)
	}
	// Quickly back to 85% of the rate that drew the 429, then slowly on.
	for range 18 {
		l.Succeeded()
	}
	if got := l.Rate(); got < 510 || got > 530 {
		t.Fatalf("Rate() 18 successes after the pause = %v, want about 85%% of 600", got)
	}
	before := l.Rate()
	l.Succeeded()
	if got := l.Rate(); got > before*1.001 {
		t.Fatalf("Rate() past 85%% of the ceiling went from %v to %v, want slow growth", before, got)
	}
	// A 429 after a quiet run cuts gently.
	time.Sleep(10 * time.Millisecond)
	rateAt := l.Rate()
	gen, _ = l.Wait(context.Background())
	l.Throttled(gen, time.Nanosecond)
	if got := l.Rate(); math.Abs(got-rateAt*0.9) > 1e-6 {
		t.Fatalf("Rate() after a 429 that followed a quiet run = %v, want 90%% of %v", got, rateAt)
	}
	for range 10000 {
		l.Succeeded()
	}
	if got := l.Rate(); got != 600 {
		t.Fatalf("Rate() after many successes = %v, want back at 600 and no more", got)
	}
	// Many episodes in a row never take it below the floor.
	for range 50 {
		l.Throttled(0, time.Nanosecond) // the first 429 of an episode
		l.Succeeded()
	}
	if got := l.Rate(); got < 600.0/32-1e-9 {
		t.Fatalf("Rate() after 50 pauses = %v, want at least the floor %v", got, 600.0/32)
	}
}

func TestUnlimitedLimiterStillPauses(t *testing.T) {
	t.Parallel()
	l := apply.NewLimiter(0)
	l.Throttled(0, 30*time.Millisecond)
	if l.Rate() != 0 {
		t.Fatalf("Rate() = %v, want 0 (no limit)", l.Rate())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := l.Wait(ctx); err == nil {
		t.Fatal("Wait during a server's pause returned before the pause ended")
	}
}
