package apply_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"provision/internal/apply"
	"provision/internal/chatemu"
	"provision/internal/plan"
	"provision/internal/results"
)

// callLog passes calls to h and keeps each one's method and path.
type callLog struct {
	h     http.Handler
	mu    sync.Mutex
	calls []string // "DELETE /v1/spaces/…"
	// deleted, when set, answers each membership delete 404 after h
	// handled it.
	deleted404 bool
}

func (l *callLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	l.calls = append(l.calls, r.Method+" "+r.URL.Path)
	l.mu.Unlock()
	if l.deleted404 && r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/members/") {
		l.h.ServeHTTP(&discard{header: http.Header{}}, r)
		googleError(w, 404, "NOT_FOUND", "Membership not found.")
		return
	}
	l.h.ServeHTTP(w, r)
}

// matching returns the calls that start with prefix ("DELETE ").
func (l *callLog) matching(prefix string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, c := range l.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

func (l *callLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// memberNames are the names the emulator gave the memberships of space,
// by email or group.
func memberNames(emu *chatemu.Server, space string) map[string]string {
	out := make(map[string]string)
	for _, m := range emu.Members(space) {
		who := m.Email
		if m.Group != "" {
			who = m.Group
		}
		out[who] = m.Name
	}
	return out
}

// TestRemovalByListedName: without a refresh, a removal lists the space's
// members once and deletes each membership by the name that list gave (or,
// for people known only by email, the name a get by email answered); a
// member the server does not have (removed in Chat since) is not in the
// space: it is recorded as removed with no delete.
func TestRemovalByListedName(t *testing.T) {
	t.Parallel()
	emu, _ := emulator(t)
	log := &callLog{h: emu}
	svc := client(t, log)
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, team(1, []string{"ana@example.com", "bo@example.com", "cy@example.com", "groups/team42"}, nil, nil), apply.Options{Caller: caller}); err != nil {
		t.Fatal(err)
	}
	space := s.file().Spaces["Team 000"].Name
	names := memberNames(emu, space)
	if n := names["groups/team42"]; n == "" || strings.HasSuffix(n, "/team42") {
		t.Fatalf("the group's membership is named %q; want a name the server gave", n)
	}
	emu.RemoveMember(space, "cy@example.com") // in the Chat UI, since
	log.reset()

	sum, _, err := s.runWith(context.Background(), svc, team(1, []string{"ana@example.com"}, nil, nil), apply.Options{Caller: caller},
		func(cfg *plan.Config) { cfg.PruneMembers = true })
	if err != nil || sum.MembersRemoved != 3 || sum.MembersFailed != 0 {
		t.Fatalf("Run: %v, summary %+v; want 3 members removed", err, sum)
	}
	// One list, for the group; the people, known by email only (lists name
	// people by ID), are each read by email: those removed, and ana, whom
	// the config keeps, so that no removal is of her membership.
	reads := log.matching("GET /v1/" + space + "/members")
	slices.Sort(reads)
	if want := []string{"GET /v1/" + space + "/members", "GET /v1/" + space + "/members/ana@example.com", "GET /v1/" + space + "/members/bo@example.com", "GET /v1/" + space + "/members/cy@example.com"}; !slices.Equal(reads, want) {
		t.Errorf("reads of the members %q; want %q", reads, want)
	}
	want := []string{"DELETE /v1/" + names["bo@example.com"], "DELETE /v1/" + names["groups/team42"]}
	got := log.matching("DELETE ")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("deletes %q; want %q (the listed names, none for the member already gone)", got, want)
	}
	checkMembers(t, emu, []string{"ana@example.com"}, nil, nil)
	if m := s.file().Spaces["Team 000"].Applied.Members; len(m) != 2 || !slices.Contains(m, "users/ana@example.com") {
		t.Errorf("applied members %v; want ana and the caller", m)
	}
}

// TestRemovalRefreshedListsOnce: after a refresh that listed the space's
// members, the run removes by the names that list gave, with no list of
// its own.
func TestRemovalRefreshedListsOnce(t *testing.T) {
	t.Parallel()
	emu, _ := emulator(t)
	log := &callLog{h: emu}
	svc := client(t, log)
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, team(1, []string{"ana@example.com", "groups/team42"}, nil, nil), apply.Options{Caller: caller}); err != nil {
		t.Fatal(err)
	}
	f := s.file()
	e := f.Spaces["Team 000"]
	ref, err := apply.Refresh(context.Background(), svc, map[string]apply.Target{"Team 000": {Name: e.Name, Members: []string{"users/ana@example.com"}, Principal: e.Principal}},
		apply.Options{Caller: caller}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := plan.Parse("spaces.yaml", []byte(team(1, []string{"ana@example.com"}, nil, nil)), plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.PruneMembers, cfg.Caller = true, caller
	p := plan.Diff(cfg, apply.Recorded(f, &ref))
	if got := p.Items[0].RemoveMembers; !slices.Equal(got, []string{"groups/team42"}) {
		t.Fatalf("RemoveMembers = %q, want the group", got)
	}
	log.reset()
	st, err := results.Open(s.path, results.WithoutSync())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := apply.Run(context.Background(), svc, st, p, apply.Options{Caller: caller, Refreshed: &ref, Backoff: fast})
	if cerr := st.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil || sum.MembersRemoved != 1 {
		t.Fatalf("Run: %v, summary %+v; want 1 member removed", err, sum)
	}
	if lists := log.matching("GET "); len(lists) != 0 {
		t.Errorf("the run read %q; want no read: the refresh listed the members", lists)
	}
	checkMembers(t, emu, []string{"ana@example.com"}, nil, nil)
}

// TestRemovalAnswered404: a delete answered 404 is taken for removed only
// once a read by the same name confirms the membership is gone.
func TestRemovalAnswered404(t *testing.T) {
	t.Parallel()
	emu, _ := emulator(t)
	log := &callLog{h: emu}
	svc := client(t, log)
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, team(1, []string{"ana@example.com", "groups/team42"}, nil, nil), apply.Options{Caller: caller}); err != nil {
		t.Fatal(err)
	}
	space := s.file().Spaces["Team 000"].Name
	name := memberNames(emu, space)["groups/team42"]
	log.deleted404 = true
	log.reset()
	sum, _, err := s.runWith(context.Background(), svc, team(1, []string{"ana@example.com"}, nil, nil), apply.Options{Caller: caller},
		func(cfg *plan.Config) { cfg.PruneMembers = true })
	if err != nil || sum.MembersRemoved != 1 || sum.MembersFailed != 0 {
		t.Fatalf("Run: %v, summary %+v; want the group removed", err, sum)
	}
	if got := log.matching("GET /v1/" + name); len(got) != 1 {
		t.Errorf("reads of %s after its delete: %q; want one", name, got)
	}
	checkMembers(t, emu, []string{"ana@example.com"}, nil, nil)
}

// TestRemovalNeverAChatApp: a member the server lists as a Chat app (type
// BOT) is never deleted, even when the record says this tool added it.
func TestRemovalNeverAChatApp(t *testing.T) {
	t.Parallel()
	emu, _ := emulator(t)
	const app = "users/123456789"
	// The server lists app as a Chat app.
	log := &callLog{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/members") {
			emu.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, r)
		var page map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Error(err)
		}
		for _, m := range page["memberships"].([]any) {
			if u, _ := m.(map[string]any)["member"].(map[string]any); u != nil && u["name"] == app {
				u["type"] = "BOT"
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(page)
	})}
	svc := client(t, log)
	s := newState(t)
	if _, _, err := s.run(context.Background(), svc, team(1, []string{"ana@example.com", app}, nil, nil), apply.Options{Caller: caller}); err != nil {
		t.Fatal(err)
	}
	log.reset()
	sum, _, err := s.runWith(context.Background(), svc, team(1, []string{"ana@example.com"}, nil, nil), apply.Options{Caller: caller},
		func(cfg *plan.Config) { cfg.PruneMembers = true })
	if err != nil || sum.MembersRemoved != 0 || sum.MembersFailed != 1 || sum.Failed != 1 {
		t.Fatalf("Run: %v, summary %+v; want the app's removal refused", err, sum)
	}
	if got := log.matching("DELETE "); len(got) != 0 {
		t.Errorf("deletes %q; want none", got)
	}
	if m := s.file().Spaces["Team 000"].Applied.Members; !slices.Contains(m, app) {
		t.Errorf("applied members %v; want the app kept", m)
	}
}
