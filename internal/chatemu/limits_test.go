package chatemu

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	chat "google.golang.org/api/chat/v1"
)

// quotaBody is the part of a 429 body the tests read.
type quotaBody struct {
	Error struct {
		Code    int
		Message string
		Status  string
		Details []struct {
			Type     string `json:"@type"`
			Reason   string
			Domain   string
			Metadata map[string]string
			Links    []struct{ Description, URL string }
		}
	}
}

// TestThrottleShape checks a 429 as a client sees it: no Retry-After unless
// asked for, Google's message, and ErrorInfo and Help details.
func TestThrottleShape(t *testing.T) {
	t.Parallel()
	for _, retryAfter := range []bool{false, true} {
		t.Run(fmt.Sprint("retryAfter=", retryAfter), func(t *testing.T) {
			t.Parallel()
			opts := []Option{WithSpaceQuota(1)}
			if retryAfter {
				opts = append(opts, WithRetryAfter())
			}
			_, svc, _ := start(t, opts...)
			if _, err := svc.Spaces.Create(newSpace("one")).Do(); err != nil {
				t.Fatal(err)
			}
			_, err := svc.Spaces.Create(newSpace("two")).Do()
			ge := wantAPIError(t, "create over quota", err, 429, "RESOURCE_EXHAUSTED")
			if got := ge.Header.Get("Retry-After"); (got != "") != retryAfter {
				t.Errorf("Retry-After = %q with WithRetryAfter %v", got, retryAfter)
			}
			var b quotaBody
			if err := json.Unmarshal([]byte(ge.Body), &b); err != nil {
				t.Fatal(err)
			}
			const msg = "Quota exceeded for quota metric 'Space write requests' and limit 'Space write requests per minute per project' of service 'chat.googleapis.com' for consumer 'project_number:000000000000'."
			if b.Error.Message != msg {
				t.Errorf("message = %q, want %q", b.Error.Message, msg)
			}
			if len(b.Error.Details) != 2 {
				t.Fatalf("details = %+v, want ErrorInfo and Help", b.Error.Details)
			}
			info, help := b.Error.Details[0], b.Error.Details[1]
			want := map[string]string{
				"quota_metric":      "chat.googleapis.com/space_write_requests",
				"quota_limit":       "SpaceWriteRequestsPerMinutePerProject",
				"quota_limit_value": "1",
				"consumer":          "projects/000000000000",
				"service":           "chat.googleapis.com",
			}
			if info.Type != "type.googleapis.com/google.rpc.ErrorInfo" || info.Reason != "RATE_LIMIT_EXCEEDED" || info.Domain != "googleapis.com" || fmt.Sprint(info.Metadata) != fmt.Sprint(want) {
				t.Errorf("ErrorInfo = %+v, want reason RATE_LIMIT_EXCEEDED and metadata %v", info, want)
			}
			if help.Type != "type.googleapis.com/google.rpc.Help" || len(help.Links) != 1 || help.Links[0].URL == "" {
				t.Errorf("Help = %+v, want one link", help)
			}
		})
	}
}

func TestCreationLimit(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv, svc, _ := start(t, WithCreationLimit(3, 5), WithWindow(time.Minute), WithLongWindow(time.Hour), WithClock(clock.now), WithSpaceQuota(0), WithSpaceWriteRate(0))
	sp, err := svc.Spaces.Create(newSpace("s0")).Do()
	if err != nil {
		t.Fatal(err)
	}
	create := func(i int) error {
		_, err := svc.Spaces.Setup(&chat.SetUpSpaceRequest{Space: newSpace(fmt.Sprint("s", i))}).Do()
		return err
	}
	for i := 1; i < 3; i++ {
		if err := create(i); err != nil {
			t.Fatalf("create %d within the limit: %v", i, err)
		}
	}
	ge := wantAPIError(t, "fourth create in a minute", create(3), 429, "RESOURCE_EXHAUSTED")
	var b quotaBody
	_ = json.Unmarshal([]byte(ge.Body), &b)
	if md := b.Error.Details[0].Metadata; md["quota_metric"] != "chat.googleapis.com/space_creation_requests" || md["quota_limit_value"] != "3" {
		t.Errorf("metadata = %v, want the creation metric with limit 3", md)
	}
	// Other space writes are not limited by it.
	if _, err := svc.Spaces.Patch(sp.Name, newSpace("renamed")).UpdateMask("display_name").Do(); err != nil {
		t.Errorf("patch while creates are refused: %v", err)
	}
	clock.advance(time.Minute)
	for i := 3; i < 5; i++ {
		if err := create(i); err != nil {
			t.Fatalf("create %d in the next minute: %v", i, err)
		}
	}
	// Five in the hour: the hourly cap refuses, though the minute is free.
	clock.advance(time.Minute)
	ge = wantAPIError(t, "sixth create in an hour", create(5), 429, "RESOURCE_EXHAUSTED")
	_ = json.Unmarshal([]byte(ge.Body), &b)
	if md := b.Error.Details[0].Metadata; md["quota_limit"] != "SpaceCreationRequestsPerHour" || md["quota_limit_value"] != "5" {
		t.Errorf("metadata = %v, want the hourly limit of 5", md)
	}
	clock.advance(time.Hour)
	if err := create(5); err != nil {
		t.Errorf("create once the hour passed: %v", err)
	}
	st := srv.Stats()
	if len(st.Creates) != 6 || st.CreateLimited != 1 || st.CreateLimitedLong != 1 || st.Throttled != 2 || len(st.SpaceWrites) != 7 {
		t.Errorf("stats: %d creates, %d+%d limited, %d throttled, %d space writes; want 6, 1+1, 2, 7",
			len(st.Creates), st.CreateLimited, st.CreateLimitedLong, st.Throttled, len(st.SpaceWrites))
	}
}

// TestRefusedChargeNothing checks that a create refused by the space-write
// quota is not counted by the creation limit, and the reverse.
func TestRefusedChargeNothing(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv, svc, _ := start(t, WithCreationLimit(2, 0), WithSpaceQuota(3), WithClock(clock.now))
	for i := range 2 {
		if _, err := svc.Spaces.Create(newSpace(fmt.Sprint("c", i))).Do(); err != nil {
			t.Fatal(err)
		}
	}
	_, err := svc.Spaces.Create(newSpace("c2")).Do()
	wantAPIError(t, "third create", err, 429, "RESOURCE_EXHAUSTED")
	// The refused create took no space write: one is left for a delete.
	if _, err := svc.Spaces.Delete(srv.Spaces()[0].Name).Do(); err != nil {
		t.Errorf("delete after a refused create: %v", err)
	}
	if st := srv.Stats(); len(st.SpaceWrites) != 3 || len(st.Creates) != 2 {
		t.Errorf("stats: %d space writes, %d creates; want 3 and 2", len(st.SpaceWrites), len(st.Creates))
	}
}

func TestSpaceWriteRate(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv, svc, _ := start(t, WithClock(clock.now))
	a, _ := srv.AddSpace("a")
	b, _ := srv.AddSpace("b")
	patch := func(name, to string) error {
		_, err := svc.Spaces.Patch(name, newSpace(to)).UpdateMask("displayName").Do()
		return err
	}
	if err := patch(a, "a1"); err != nil {
		t.Fatal(err)
	}
	ge := wantAPIError(t, "second write to a space in a second", patch(a, "a2"), 429, "RESOURCE_EXHAUSTED")
	var body quotaBody
	_ = json.Unmarshal([]byte(ge.Body), &body)
	if md := body.Error.Details[0].Metadata; md["quota_limit"] != "WriteRequestsPerSecondPerSpace" {
		t.Errorf("metadata = %v, want the per-space limit", md)
	}
	if err := patch(b, "b1"); err != nil {
		t.Errorf("write to another space: %v", err)
	}
	clock.advance(time.Second)
	if err := patch(a, "a2"); err != nil {
		t.Errorf("write a second later: %v", err)
	}
}
