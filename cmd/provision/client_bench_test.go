package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	chat "google.golang.org/api/chat/v1"
	"google.golang.org/api/option"
)

// BenchmarkChatCreate is the floor under BenchmarkProvision's allocations:
// one spaces.create of a space like those of its config (a name, a
// description, history on) through the Chat Go client alone, over
// loopback HTTP, nothing of this program around it. With
// -bench.endpoint the emulator runs in another process, so the
// allocations counted are the client's and net/http's alone.
func BenchmarkChatCreate(b *testing.B) {
	ctx := context.Background()
	svc, err := chat.NewService(ctx, option.WithEndpoint(benchEmulator(b)), option.WithHTTPClient(&http.Client{}))
	if err != nil {
		b.Fatal(err)
	}
	prefix := fmt.Sprintf("Client %d", time.Now().UnixNano())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		sp := &chat.Space{
			DisplayName:       fmt.Sprintf("%s %06d", prefix, i),
			SpaceType:         "SPACE",
			SpaceDetails:      &chat.SpaceDetails{Description: fmt.Sprintf("Onboarding space %06d for the platform team", i)},
			SpaceHistoryState: "HISTORY_ON",
		}
		if _, err := svc.Spaces.Create(sp).RequestId(uuid.NewString()).Context(ctx).Do(); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
