package apply_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	chat "google.golang.org/api/chat/v1"
	"google.golang.org/api/option"

	"provision/internal/apply"
	"provision/internal/chatemu"
	"provision/internal/results"
)

// bearer is a transport that sends a fixed access token.
type bearer struct{ tok string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	return http.DefaultTransport.RoundTrip(r)
}

// as is a client of ts that acts as the caller of token tok.
func as(t *testing.T, ts *httptest.Server, tok string) *chat.Service {
	t.Helper()
	svc, err := chat.NewService(context.Background(), option.WithEndpoint(ts.URL+"/"),
		option.WithHTTPClient(&http.Client{Transport: bearer{tok}}))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestRetryUnderAnotherPrincipal: a create whose answer was lost under one
// principal is retried by another. A requestId is only valid for the
// principal that sent it, so the retry mints a new one; the ALREADY_EXISTS
// that follows is the first create's space, adopted because the new
// principal manages it. With the principal unrecorded (a version 1 file),
// the server's refusal of the old requestId leads to the same place.
func TestRetryUnderAnotherPrincipal(t *testing.T) {
	t.Parallel()
	for _, recorded := range []bool{true, false} {
		name := map[bool]string{true: "principal recorded", false: "principal unknown"}[recorded]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			emu := chatemu.New(chatemu.WithSpaceQuota(0), chatemu.WithMemberQuota(0), chatemu.WithReadQuota(0),
				chatemu.WithTokens(map[string]string{"tok-a": "users/a@example.com", "tok-b": "users/b@example.com"}))
			ts := httptest.NewServer(emu)
			t.Cleanup(ts.Close)
			s := newState(t)
			yaml := "spaces:\n  - displayName: \"Team 000\"\n"

			// A's create reaches the server; its answer is lost, and the
			// one attempt allowed is spent.
			emu.DropNext(1)
			_, _, err := s.run(context.Background(), as(t, ts, "tok-a"), yaml,
				apply.Options{MaxAttempts: 1, Caller: "users/a@example.com", Principal: "users/a@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			first := s.file().Spaces["Team 000"]
			if first.Status != results.Failed || first.Principal != "users/a@example.com" || first.RequestID == "" {
				t.Fatalf("after A's run: %+v; want failed, with A's requestId", first)
			}
			space := emu.Spaces()[0].Name
			// A makes B a manager of the space.
			a := as(t, ts, "tok-a")
			m, err := a.Spaces.Members.Create(space, &chat.Membership{Member: &chat.User{Name: "users/b@example.com", Type: "HUMAN"}}).Do()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Spaces.Members.Patch(m.Name, &chat.Membership{Role: "ROLE_ASSISTANT_MANAGER"}).UpdateMask("role").Do(); err != nil {
				t.Fatal(err)
			}
			if !recorded {
				// As a version 1 file would have it.
				st, err := results.Open(s.path, results.WithoutSync())
				if err != nil {
					t.Fatal(err)
				}
				e := *first
				e.Principal = ""
				if err := st.Record(results.Event{Space: "Team 000", Entry: &e}); err != nil {
					t.Fatal(err)
				}
				st.Close()
			}

			_, _, err = s.run(context.Background(), as(t, ts, "tok-b"), yaml,
				apply.Options{Caller: "users/b@example.com", Principal: "users/b@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			e := s.file().Spaces["Team 000"]
			if e.Status != results.Existing || e.Name != space || e.Principal != "users/b@example.com" || e.RequestID == first.RequestID {
				t.Fatalf("after B's run: %+v; want %s adopted under B with a new requestId", e, space)
			}
			if st := emu.Stats(); st.SpacesCreated != 1 || st.Duplicates != 0 {
				t.Fatalf("server created %d spaces, want 1", st.SpacesCreated)
			}
		})
	}
}

// TestReplayTrustedForNameOnly: a create retried after a lost answer is
// answered by a replay, an echo of the request plus the name. The entry
// takes the name, then one spaces.get gives the URL and creation time; if
// that get fails, the documented URL serves and no creation time is
// invented.
func TestReplayTrustedForNameOnly(t *testing.T) {
	t.Parallel()
	for _, getFails := range []bool{false, true} {
		t.Run(map[bool]string{false: "get", true: "get fails"}[getFails], func(t *testing.T) {
			t.Parallel()
			emu, _ := emulator(t)
			emu.DropNext(1)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if getFails && r.Method == http.MethodGet && strings.Count(r.URL.Path, "/") == 3 {
					googleError(w, 403, "PERMISSION_DENIED", "The caller does not have permission")
					return
				}
				emu.ServeHTTP(w, r)
			})
			s := newState(t)
			if _, _, err := s.run(context.Background(), client(t, h), config(1), apply.Options{}); err != nil {
				t.Fatal(err)
			}
			e := s.file().Spaces["Team 000"]
			st := emu.Stats()
			if st.Replays != 1 || st.SpacesCreated != 1 {
				t.Fatalf("server: %d replays, %d created; want 1 and 1", st.Replays, st.SpacesCreated)
			}
			sp, _ := emu.Space(e.Name)
			switch {
			case getFails:
				want := "https://mail.google.com/chat/u/0/#chat/space/" + strings.TrimPrefix(e.Name, "spaces/")
				if e.Status != results.Created || e.URL != want || e.CreatedAt != nil {
					t.Fatalf("entry %+v; want created, url %s, no createdAt", e, want)
				}
			case e.Status != results.Created || e.URL != sp.SpaceUri || e.CreatedAt == nil || e.CreatedAt.Format(time.RFC3339Nano) != sp.CreateTime:
				t.Fatalf("entry %+v; want created, url %s and createdAt %s from a get", e, sp.SpaceUri, sp.CreateTime)
			}
		})
	}
}
