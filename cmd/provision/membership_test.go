package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"provision/internal/chatemu"
)

// writeSpace writes a config of one space "T" with these members.
func writeSpace(t *testing.T, path string, members ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("spaces:\n  - displayName: \"T\"\n    members: ["+strings.Join(members, ", ")+"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// groupsOf are the groups (groups/ID) emu has in the space named name.
func groupsOf(emu *chatemu.Server, name string) []string {
	var out []string
	for _, m := range emu.Members(name) {
		if m.Group != "" {
			out = append(out, m.Group)
		}
	}
	slices.Sort(out)
	return out
}

// TestPrunedGroupIsGone: --prune-members removes a group, named by email
// or by ID, with or without --refresh, by the membership name the server
// gave it: the group is gone from the space afterwards, and the summary
// and the record say so.
func TestPrunedGroupIsGone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, member string
		refresh      bool
	}{
		{"by email", "group:eng@example.com", false},
		{"by email, refreshed", "group:eng@example.com", true},
		{"by ID", "groups/03x9eng", false},
		{"by ID, refreshed", "groups/03x9eng", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu, url := newEmu(t, chatemu.WithGroups(map[string]string{"eng@example.com": "groups/03x9eng"}))
			config := filepath.Join(t.TempDir(), "spaces.yaml")
			writeSpace(t, config, "ana@example.com", tc.member)
			args := []string{"--auth", "none", "--endpoint", url, "--groups-endpoint", url, "--rate", "0", "--caller", "caller@example.com"}
			if out := provision(t, append(args, config)...); out.code != exitOK {
				t.Fatalf("first run: exit %d\n%s", out.code, out.stderr)
			}
			space := resultsOf(t, strings.TrimSuffix(config, ".yaml")+".results.json").Spaces["T"].Name
			if got := groupsOf(emu, space); !slices.Equal(got, []string{"groups/03x9eng"}) {
				t.Fatalf("after the first run the space has groups %v", got)
			}

			writeSpace(t, config, "ana@example.com")
			prune := append(slices.Clone(args), "--prune-members")
			if tc.refresh {
				prune = append(prune, "--refresh")
			}
			out := provision(t, append(prune, config)...)
			if out.code != exitOK || !strings.Contains(out.stdout, "1 member removed") {
				t.Fatalf("prune: exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 0 and 1 member removed", out.code, out.stdout, out.stderr)
			}
			if got := groupsOf(emu, space); len(got) != 0 {
				t.Fatalf("after --prune-members the space still has groups %v", got)
			}
			en := resultsOf(t, strings.TrimSuffix(config, ".yaml")+".results.json").Spaces["T"]
			if slices.Contains(en.Applied.Members, tc.member) || en.Applied.IDs[tc.member] != "" {
				t.Fatalf("the record still has %s: members %v, ids %v", tc.member, en.Applied.Members, en.Applied.IDs)
			}
		})
	}
}

// TestRemovalTheServerKeeps: a membership just listed that the delete
// answers 404 for, and that a read finds still there, is not taken for
// removed: that member fails with the server's message, the run exits 1,
// and the record keeps the member.
func TestRemovalTheServerKeeps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, member string
		refresh      bool
	}{
		{"group", "group:eng@example.com", false},
		{"group, refreshed", "group:eng@example.com", true},
		{"user", "bo@example.com", false},
		{"user, refreshed", "bo@example.com", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu := chatemu.New(chatemu.WithSpaceQuota(0), chatemu.WithMemberQuota(0), chatemu.WithReadQuota(0),
				chatemu.WithGroups(map[string]string{"eng@example.com": "groups/03x9eng"}))
			// A server that answers every membership delete 404 and keeps
			// the membership.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/members/") {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(404)
					w.Write([]byte(`{"error":{"code":404,"status":"NOT_FOUND","message":"Membership not found (server keeps it)."}}`))
					return
				}
				emu.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			config := filepath.Join(t.TempDir(), "spaces.yaml")
			resultsFile := strings.TrimSuffix(config, ".yaml") + ".results.json"
			writeSpace(t, config, "ana@example.com", tc.member)
			args := []string{"--auth", "none", "--endpoint", srv.URL + "/", "--groups-endpoint", srv.URL + "/", "--rate", "0", "--caller", "caller@example.com"}
			if out := provision(t, append(args, config)...); out.code != exitOK {
				t.Fatalf("first run: exit %d\n%s", out.code, out.stderr)
			}
			before := resultsOf(t, resultsFile).Spaces["T"]

			writeSpace(t, config, "ana@example.com")
			prune := append(slices.Clone(args), "--prune-members")
			if tc.refresh {
				prune = append(prune, "--refresh")
			}
			out := provision(t, append(prune, config)...)
			// Named by email, or by ID where a refresh knows the person by
			// ID only.
			shown := regexp.QuoteMeta(tc.member)
			if !strings.HasPrefix(tc.member, "group:") {
				shown = "(" + shown + `|\d+)`
			}
			failed := regexp.MustCompile(`(?m)^failed: "T": removing ` + shown + `: .*Membership not found \(server keeps it\)`)
			if out.code != exitFailed || !failed.MatchString(out.stderr) || !strings.Contains(out.stdout, ": 0 created, 0 existing, 0 updated, 1 failed,") ||
				regexp.MustCompile(`[1-9]\d* members? removed`).MatchString(out.stdout) {
				t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 1, the space failed, the member with the server's message, nothing removed", out.code, out.stdout, out.stderr)
			}
			after := resultsOf(t, resultsFile).Spaces["T"]
			want := "users/" + tc.member
			if strings.HasPrefix(tc.member, "group:") {
				want = tc.member
			}
			if !slices.Contains(after.Applied.Members, want) || !slices.Equal(before.Applied.Members, after.Applied.Members) ||
				after.Applied.IDs[want] != before.Applied.IDs[want] {
				t.Fatalf("record: members %v ids %v, was %v %v; want the member kept", after.Applied.Members, after.Applied.IDs, before.Applied.Members, before.Applied.IDs)
			}
		})
	}
}
