package apply_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	cloudidentity "google.golang.org/api/cloudidentity/v1"
	"google.golang.org/api/option"

	"provision/internal/apply"
	"provision/internal/chatemu"
)

// lookupGate holds each groups.lookup until want of them are in flight
// (or a while has passed, so that a client that asks one at a time still
// ends), and counts them.
type lookupGate struct {
	h    http.Handler
	want int

	mu       sync.Mutex
	inFlight int
	most     int
	asked    map[string]int // email → lookups
	all      chan struct{}
}

func (g *lookupGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/groups:lookup" {
		g.h.ServeHTTP(w, r)
		return
	}
	g.mu.Lock()
	g.inFlight++
	g.most = max(g.most, g.inFlight)
	g.asked[r.URL.Query().Get("groupKey.id")]++
	if g.inFlight == g.want {
		close(g.all)
	}
	g.mu.Unlock()
	select {
	case <-g.all:
	case <-time.After(2 * time.Second):
	case <-r.Context().Done():
	}
	g.h.ServeHTTP(w, r)
	g.mu.Lock()
	g.inFlight--
	g.mu.Unlock()
}

// TestGroupLookupsOverlap: the lookups of distinct groups are made at
// once, each group's once, however many spaces name it.
func TestGroupLookupsOverlap(t *testing.T) {
	t.Parallel()
	const groups = 4
	ids := make(map[string]string, groups)
	yaml := "spaces:\n"
	for i := range 2 * groups {
		// Two spaces name each group.
		email := fmt.Sprintf("g%d@example.com", i%groups)
		ids[email] = fmt.Sprintf("groups/id%d", i%groups)
		yaml += fmt.Sprintf("  - displayName: \"Team %d\"\n    members: [ana@example.com, group:%s]\n", i, email)
	}
	emu := chatemu.New(chatemu.WithSpaceQuota(0), chatemu.WithMemberQuota(0), chatemu.WithReadQuota(0), chatemu.WithGroups(ids))
	gate := &lookupGate{h: emu, want: groups, asked: map[string]int{}, all: make(chan struct{})}
	svc := client(t, gate)
	ts := httptest.NewServer(gate)
	t.Cleanup(ts.Close)
	ci, err := cloudidentity.NewService(context.Background(), option.WithEndpoint(ts.URL+"/"), option.WithHTTPClient(ts.Client()))
	if err != nil {
		t.Fatal(err)
	}
	s := newState(t)
	sum, _, err := s.run(context.Background(), svc, yaml, apply.Options{Caller: caller, Groups: ci, Concurrency: 2 * groups})
	if err != nil || sum.Created != 2*groups || sum.MembersFailed != 0 {
		t.Fatalf("Run: %v, summary %+v", err, sum)
	}
	gate.mu.Lock()
	defer gate.mu.Unlock()
	if gate.most != groups {
		t.Errorf("at most %d lookups were in flight at once, want %d (one per group)", gate.most, groups)
	}
	for email := range ids {
		if gate.asked[email] != 1 {
			t.Errorf("%s looked up %d times, want once", email, gate.asked[email])
		}
	}
	for _, sp := range emu.Spaces() {
		if n := len(emu.Members(sp.Name)); n != 3 {
			t.Errorf("%s has %d members, want the caller, ana and its group", sp.DisplayName, n)
		}
	}
}

// TestGroupLookupsPacedAsReads: lookups wait on the reads limiter, as Chat
// reads do (Cloud Identity publishes no read quota of its own that could
// be found): a Cloud Identity that throttles holds the reads, and once
// --max-wait is spent the run stops saying so.
func TestGroupLookupsPacedAsReads(t *testing.T) {
	t.Parallel()
	emu := chatemu.New(chatemu.WithSpaceQuota(0), chatemu.WithMemberQuota(0), chatemu.WithReadQuota(0))
	throttling := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/groups:lookup" {
			googleError(w, 429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Read requests' of service 'cloudidentity.googleapis.com'.")
			return
		}
		emu.ServeHTTP(w, r)
	})
	svc := client(t, throttling)
	ts := httptest.NewServer(throttling)
	t.Cleanup(ts.Close)
	ci, err := cloudidentity.NewService(context.Background(), option.WithEndpoint(ts.URL+"/"), option.WithHTTPClient(ts.Client()))
	if err != nil {
		t.Fatal(err)
	}
	s := newState(t)
	o := apply.Options{Caller: caller, Groups: ci, Throttle: apply.Throttle{Base: 5 * time.Millisecond, Cap: 20 * time.Millisecond, MaxWait: 100 * time.Millisecond}}
	_, _, err = s.run(context.Background(), svc, "spaces:\n  - displayName: \"T\"\n    members: [group:eng@example.com]\n", o)
	var qerr *apply.QuotaWaitError
	if !errors.As(err, &qerr) || qerr.Class != "reads" {
		t.Fatalf("Run: %v; want the reads' quota to have held the run", err)
	}
}
