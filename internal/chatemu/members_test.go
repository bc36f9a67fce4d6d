package chatemu

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	chat "google.golang.org/api/chat/v1"
)

var numericMember = regexp.MustCompile(`^spaces/AAAA[A-Za-z0-9_-]{7}/members/[0-9]{21}$`)

func TestMembers(t *testing.T) {
	t.Parallel()
	srv, svc, _ := start(t, WithUnaddable("blocked@example.com"), WithInvited("guest@elsewhere.net"))
	sp, err := svc.Spaces.Create(newSpace("Members")).Do()
	if err != nil {
		t.Fatal(err)
	}

	m, err := svc.Spaces.Members.Create(sp.Name, user("Alice@Example.com")).Do()
	if err != nil {
		t.Fatalf("Members.Create(alice): %v", err)
	}
	// The response names the member by numeric ID, never by the email sent.
	if !numericMember.MatchString(m.Name) || strings.Contains(m.Name+m.Member.Name, "@") {
		t.Errorf("Members.Create(alice) = %q, %q; want numeric IDs", m.Name, m.Member.Name)
	}
	if m.State != "JOINED" || m.Role != "ROLE_MEMBER" || m.Member.Type != "HUMAN" {
		t.Errorf("Members.Create(alice) = %s %s %s, want JOINED ROLE_MEMBER HUMAN", m.State, m.Role, m.Member.Type)
	}
	id := strings.TrimPrefix(m.Member.Name, "users/")

	for _, ref := range []string{"alice@example.com", "ALICE@example.com", id} {
		got, err := svc.Spaces.Members.Get(sp.Name + "/members/" + ref).Do()
		if err != nil || got.Name != m.Name {
			t.Errorf("Members.Get(%q) = %v, %v; want %q", ref, got, err, m.Name)
		}
	}
	// The same user by numeric ID is the same member.
	_, err = svc.Spaces.Members.Create(sp.Name, user(id)).Do()
	wantAPIError(t, "Members.Create(alice again by ID)", err, 409, "ALREADY_EXISTS")

	up, err := svc.Spaces.Members.Patch(m.Name, &chat.Membership{Role: "ROLE_MANAGER"}).UpdateMask("role").Do()
	if err != nil || up.Role != "ROLE_MANAGER" {
		t.Errorf("Members.Patch(%q, ROLE_MANAGER) = %v, %v", m.Name, up, err)
	}

	inv, err := svc.Spaces.Members.Create(sp.Name, user("guest@elsewhere.net")).Do()
	if err != nil || inv.State != "INVITED" {
		t.Errorf("Members.Create(guest) = %v, %v; want INVITED", inv, err)
	}
	g, err := svc.Spaces.Members.Create(sp.Name, group("team42")).Do()
	if err != nil || g.GroupMember == nil || g.GroupMember.Name != "groups/team42" || g.State != "JOINED" {
		t.Errorf("Members.Create(group) = %+v, %v; want groups/team42 JOINED", g, err)
	}

	tests := []struct {
		name   string
		err    func() error
		code   int
		status string
	}{
		{"unaddable", func() error {
			_, err := svc.Spaces.Members.Create(sp.Name, user("blocked@example.com")).Do()
			return err
		}, 403, "PERMISSION_DENIED"},
		{"caller again", func() error {
			_, err := svc.Spaces.Members.Create(sp.Name, user("caller@example.com")).Do()
			return err
		}, 409, "ALREADY_EXISTS"},
		{"group again", func() error { _, err := svc.Spaces.Members.Create(sp.Name, group("team42")).Do(); return err }, 409, "ALREADY_EXISTS"},
		{"no such space", func() error {
			_, err := svc.Spaces.Members.Create("spaces/AAAAmissing", user("x@example.com")).Do()
			return err
		}, 404, "NOT_FOUND"},
		{"neither user nor group", func() error { _, err := svc.Spaces.Members.Create(sp.Name, &chat.Membership{}).Do(); return err }, 400, "INVALID_ARGUMENT"},
		{"role on create", func() error {
			_, err := svc.Spaces.Members.Create(sp.Name, &chat.Membership{Role: "ROLE_MANAGER", Member: &chat.User{Name: "users/z@example.com"}}).Do()
			return err
		}, 400, "INVALID_ARGUMENT"},
		{"get unknown", func() error {
			_, err := svc.Spaces.Members.Get(sp.Name + "/members/nobody@example.com").Do()
			return err
		}, 404, "NOT_FOUND"},
		{"patch by email", func() error {
			_, err := svc.Spaces.Members.Patch(sp.Name+"/members/alice@example.com", &chat.Membership{Role: "ROLE_MANAGER"}).UpdateMask("role").Do()
			return err
		}, 400, "INVALID_ARGUMENT"},
		{"patch without mask", func() error {
			_, err := svc.Spaces.Members.Patch(m.Name, &chat.Membership{Role: "ROLE_MANAGER"}).Do()
			return err
		}, 400, "INVALID_ARGUMENT"},
		{"patch other field", func() error {
			_, err := svc.Spaces.Members.Patch(m.Name, &chat.Membership{Role: "ROLE_MANAGER"}).UpdateMask("state").Do()
			return err
		}, 400, "INVALID_ARGUMENT"},
		{"patch without role", func() error {
			_, err := svc.Spaces.Members.Patch(m.Name, &chat.Membership{}).UpdateMask("role").Do()
			return err
		}, 400, "INVALID_ARGUMENT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantAPIError(t, tt.name, tt.err(), tt.code, tt.status)
		})
	}

	st := srv.Stats()
	if n := st.MemberAdds[m.Name]; n != 2 {
		t.Errorf("Stats().MemberAdds[alice] = %d, want 2 (added, then re-added and refused)", n)
	}
	// alice, alice again, patch, guest, group, unaddable, caller, group
	// again, patch by email refused after the space was found, and the
	// three bad patches.
	if n := st.MemberWritesBySpace[sp.Name]; n < 8 {
		t.Errorf("Stats().MemberWritesBySpace[%q] = %d, want at least 8", sp.Name, n)
	}
}

func TestListMembers(t *testing.T) {
	t.Parallel()
	_, svc, _ := start(t, WithMemberQuota(0), WithReadQuota(0), WithInvited("ext.example"))
	sp, err := svc.Spaces.Create(newSpace("Crowd")).Do()
	if err != nil {
		t.Fatal(err)
	}
	const users = 120
	for i := range users {
		if _, err := svc.Spaces.Members.Create(sp.Name, user(fmt.Sprintf("u%03d@example.com", i))).Do(); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []*chat.Membership{group("g1"), user("x@ext.example")} {
		if _, err := svc.Spaces.Members.Create(sp.Name, m).Do(); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name                    string
		showGroups, showInvited bool
		filter                  string
		pageSize                int64
		want                    int
	}{
		{"default", false, false, "", 0, users + 1},
		{"small pages", false, false, "", 7, users + 1},
		{"with groups", true, false, "", 50, users + 2},
		{"with invited", false, true, "", 0, users + 2},
		{"all", true, true, "", 1000, users + 3},
		{"managers", true, true, `role = "ROLE_MANAGER"`, 0, 1},
		{"humans", true, true, `member.type = "HUMAN"`, 0, users + 2},
		{"not bots, managers or members", true, true, `member.type != "BOT" AND role = "ROLE_MANAGER" OR role = "ROLE_MEMBER"`, 0, users + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]bool{}
			tok := ""
			for {
				call := svc.Spaces.Members.List(sp.Name).ShowGroups(tt.showGroups).ShowInvited(tt.showInvited).PageToken(tok)
				if tt.filter != "" {
					call = call.Filter(tt.filter)
				}
				if tt.pageSize > 0 {
					call = call.PageSize(tt.pageSize)
				}
				resp, err := call.Do()
				if err != nil {
					t.Fatalf("Members.List: %v", err)
				}
				for _, m := range resp.Memberships {
					if seen[m.Name] || strings.Contains(m.Name, "@") {
						t.Fatalf("Members.List: %q listed twice or by email", m.Name)
					}
					seen[m.Name] = true
				}
				if tok = resp.NextPageToken; tok == "" {
					break
				}
			}
			if len(seen) != tt.want {
				t.Errorf("Members.List(%s) = %d memberships, want %d", tt.name, len(seen), tt.want)
			}
		})
	}
	_, err = svc.Spaces.Members.List(sp.Name).Filter(`role != "ROLE_MEMBER"`).Do()
	wantAPIError(t, "Members.List(bad filter)", err, 400, "INVALID_ARGUMENT")
	other, _ := svc.Spaces.Create(newSpace("Other")).Do()
	first, _ := svc.Spaces.Members.List(sp.Name).PageSize(1).Do()
	_, err = svc.Spaces.Members.List(other.Name).PageToken(first.NextPageToken).Do()
	wantAPIError(t, "Members.List(another space's token)", err, 400, "INVALID_ARGUMENT")
}

// groupMember is a group's membership name: an ID the server gave, not the
// group's.
var groupMember = regexp.MustCompile(`^spaces/AAAA[A-Za-z0-9_-]{7}/members/[0-9a-f]{16}$`)

// TestGroupMembershipNames: a group's membership is named by an ID the
// server assigns (DD, Membership.name), returned by create, setup, list
// and get and taken by get, patch and delete; the group's own ID in its
// place names no membership (404), whatever the call.
func TestGroupMembershipNames(t *testing.T) {
	t.Parallel()
	srv, svc, _ := start(t)
	sp, err := svc.Spaces.Create(newSpace("Groups")).Do()
	if err != nil {
		t.Fatal(err)
	}
	g, err := svc.Spaces.Members.Create(sp.Name, group("team42")).Do()
	if err != nil {
		t.Fatalf("Members.Create(group) = %v", err)
	}
	if !groupMember.MatchString(g.Name) || strings.HasSuffix(g.Name, "/team42") || g.GroupMember.Name != "groups/team42" {
		t.Fatalf("Members.Create(group) = %q for %q; want a name the server gave, not the group's ID", g.Name, g.GroupMember.Name)
	}
	set, err := svc.Spaces.Setup(&chat.SetUpSpaceRequest{Space: newSpace("Set up"), Memberships: []*chat.Membership{group("team42")}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	for _, space := range []string{sp.Name, set.Name} {
		list, err := svc.Spaces.Members.List(space).ShowGroups(true).Do()
		if err != nil {
			t.Fatal(err)
		}
		var listed string
		for _, m := range list.Memberships {
			if m.GroupMember != nil {
				listed = m.Name
			}
		}
		if !groupMember.MatchString(listed) || !strings.HasPrefix(listed, space+"/") {
			t.Errorf("Members.List(%s) names the group %q; want a name the server gave in that space", space, listed)
		}
		if space == sp.Name && listed != g.Name {
			t.Errorf("Members.List = %q, Members.Create = %q; want one name", listed, g.Name)
		}
	}

	bare := sp.Name + "/members/team42"
	_, err = svc.Spaces.Members.Get(bare).Do()
	wantAPIError(t, "Members.Get(the group's ID)", err, 404, "NOT_FOUND")
	_, err = svc.Spaces.Members.Patch(bare, &chat.Membership{Role: "ROLE_MEMBER"}).UpdateMask("role").Do()
	wantAPIError(t, "Members.Patch(the group's ID)", err, 404, "NOT_FOUND")
	_, err = svc.Spaces.Members.Delete(bare).Do()
	wantAPIError(t, "Members.Delete(the group's ID)", err, 404, "NOT_FOUND")
	if got, err := svc.Spaces.Members.Get(g.Name).Do(); err != nil || got.GroupMember == nil || got.GroupMember.Name != "groups/team42" {
		t.Fatalf("Members.Get(%q) after a delete of the group's ID = %v, %v; want the group, still there", g.Name, got, err)
	}
	if _, err := svc.Spaces.Members.Patch(g.Name, &chat.Membership{Role: "ROLE_MEMBER"}).UpdateMask("role").Do(); err != nil {
		t.Errorf("Members.Patch(%q) = %v", g.Name, err)
	}
	if got := srv.Stats().MemberAdds[g.Name]; got != 1 {
		t.Errorf("Stats().MemberAdds[%q] = %d, want 1", g.Name, got)
	}
	if _, err := svc.Spaces.Members.Delete(g.Name).Do(); err != nil {
		t.Fatalf("Members.Delete(%q) = %v", g.Name, err)
	}
	for _, m := range srv.Members(sp.Name) {
		if m.Group != "" {
			t.Fatalf("the group is still a member after Members.Delete(%q)", g.Name)
		}
	}
	// The name is stable: the same group added again is named alike.
	again, err := svc.Spaces.Members.Create(sp.Name, group("team42")).Do()
	if err != nil || again.Name != g.Name {
		t.Errorf("Members.Create(group again) = %v, %v; want %q", again, err, g.Name)
	}
}

// TestManyGroupMembershipNames: past the members a space scans, the index
// finds users by ID and groups only by their membership's name.
func TestManyGroupMembershipNames(t *testing.T) {
	t.Parallel()
	_, svc, _ := start(t, WithMemberQuota(0), WithReadQuota(0))
	sp, err := svc.Spaces.Create(newSpace("Many")).Do()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for i := range 12 {
		id := fmt.Sprintf("g%02d", i)
		m, err := svc.Spaces.Members.Create(sp.Name, group(id)).Do()
		if err != nil {
			t.Fatal(err)
		}
		names[id] = m.Name
	}
	for id, name := range names {
		if got, err := svc.Spaces.Members.Get(name).Do(); err != nil || got.GroupMember.Name != "groups/"+id {
			t.Errorf("Members.Get(%q) = %v, %v; want groups/%s", name, got, err, id)
		}
		_, err := svc.Spaces.Members.Get(sp.Name + "/members/" + id).Do()
		wantAPIError(t, "Members.Get(groups/"+id+"'s ID)", err, 404, "NOT_FOUND")
	}
	if _, err := svc.Spaces.Members.Get(sp.Name + "/members/caller@example.com").Do(); err != nil {
		t.Errorf("Members.Get(the caller by email) = %v", err)
	}
}
