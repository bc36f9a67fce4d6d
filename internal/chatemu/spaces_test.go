package chatemu

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	chat "google.golang.org/api/chat/v1"
)

var spaceName = regexp.MustCompile(`^spaces/AAAA[A-Za-z0-9_-]{7}$`)

func TestCreateSpace(t *testing.T) {
	t.Parallel()
	srv, svc, _ := start(t)
	in := &chat.Space{
		DisplayName:                  "Onboarding: Platform",
		SpaceType:                    "SPACE",
		SpaceDetails:                 &chat.SpaceDetails{Description: "d", Guidelines: "g"},
		SpaceHistoryState:            "HISTORY_OFF",
		ExternalUserAllowed:          true,
		AccessSettings:               &chat.AccessSettings{Audience: "audiences/default"},
		PredefinedPermissionSettings: "ANNOUNCEMENT_SPACE",
		Customer:                     "customers/my_customer",
	}
	got, err := svc.Spaces.Create(in).RequestId("req-1").Do()
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	id := strings.TrimPrefix(got.Name, "spaces/")
	checks := []struct{ what, got, want string }{
		{"displayName", got.DisplayName, in.DisplayName},
		{"spaceType", got.SpaceType, "SPACE"},
		{"spaceUri", got.SpaceUri, "https://chat.google.com/room/" + id + "?cls=7"},
		{"description", got.SpaceDetails.Description, "d"},
		{"guidelines", got.SpaceDetails.Guidelines, "g"},
		{"history", got.SpaceHistoryState, "HISTORY_OFF"},
		{"audience", got.AccessSettings.Audience, "audiences/default"},
		{"accessState", got.AccessSettings.AccessState, "DISCOVERABLE"},
		{"customer", got.Customer, "customers/my_customer"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("Create: %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if !spaceName.MatchString(got.Name) {
		t.Errorf("Create: name = %q, want spaces/AAAA + 7 URL-safe characters", got.Name)
	}
	if !got.ExternalUserAllowed {
		t.Errorf("Create: externalUserAllowed = false, want true")
	}
	if _, err := time.Parse(time.RFC3339Nano, got.CreateTime); err != nil {
		t.Errorf("Create: createTime %q: %v", got.CreateTime, err)
	}

	again, err := svc.Spaces.Get(got.Name).Do()
	if err != nil {
		t.Fatalf("Get(%q): %v", got.Name, err)
	}
	if again.DisplayName != in.DisplayName || again.MembershipCount.JoinedDirectHumanUserCount != 1 {
		t.Errorf("Get(%q) = %q with %d members, want %q with 1 (the caller)", got.Name, again.DisplayName, again.MembershipCount.JoinedDirectHumanUserCount, in.DisplayName)
	}
	members := srv.Members(got.Name)
	if len(members) != 1 || members[0].Role != "ROLE_MANAGER" || members[0].Email != "caller@example.com" {
		t.Errorf("Members(%q) = %+v, want the caller as manager", got.Name, members)
	}
	if snap, ok := srv.Space(got.Name); !ok || snap.PredefinedPermissionSettings != "ANNOUNCEMENT_SPACE" {
		t.Errorf("Space(%q) = %+v, %v; want the space with its permissions", got.Name, snap, ok)
	}
	if rid := srv.RequestID(got.Name); rid != "req-1" {
		t.Errorf("RequestID(%q) = %q, want %q", got.Name, rid, "req-1")
	}
}

func TestCreateSpaceErrors(t *testing.T) {
	t.Parallel()
	_, svc, _ := start(t)
	if _, err := svc.Spaces.Create(newSpace("Taken")).Do(); err != nil {
		t.Fatalf("Create(Taken): %v", err)
	}
	tests := []struct {
		name   string
		space  *chat.Space
		code   int
		status string
	}{
		{"no display name", &chat.Space{SpaceType: "SPACE"}, 400, "INVALID_ARGUMENT"},
		{"blank display name", newSpace("   "), 400, "INVALID_ARGUMENT"},
		{"display name too long", newSpace(strings.Repeat("é", 129)), 400, "INVALID_ARGUMENT"},
		{"no space type", &chat.Space{DisplayName: "x"}, 400, "INVALID_ARGUMENT"},
		{"group chat", &chat.Space{DisplayName: "x", SpaceType: "GROUP_CHAT"}, 400, "INVALID_ARGUMENT"},
		{"description too long", &chat.Space{DisplayName: "x", SpaceType: "SPACE", SpaceDetails: &chat.SpaceDetails{Description: strings.Repeat("a", 4097)}}, 400, "INVALID_ARGUMENT"},
		{"guidelines too long", &chat.Space{DisplayName: "x", SpaceType: "SPACE", SpaceDetails: &chat.SpaceDetails{Guidelines: strings.Repeat("a", 5001)}}, 400, "INVALID_ARGUMENT"},
		{"bad customer", &chat.Space{DisplayName: "x", SpaceType: "SPACE", Customer: "my_customer"}, 400, "INVALID_ARGUMENT"},
		{"bad audience", &chat.Space{DisplayName: "x", SpaceType: "SPACE", AccessSettings: &chat.AccessSettings{Audience: "default"}}, 400, "INVALID_ARGUMENT"},
		{"bad enum", &chat.Space{DisplayName: "x", SpaceType: "SPACE", SpaceHistoryState: "ON"}, 400, "INVALID_ARGUMENT"},
		{"import mode", &chat.Space{DisplayName: "x", SpaceType: "SPACE", ImportMode: true}, 501, "UNIMPLEMENTED"},
		{"same name", newSpace("Taken"), 409, "ALREADY_EXISTS"},
		{"same name other case and spaces", newSpace("  tAKEN "), 409, "ALREADY_EXISTS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Spaces.Create(tt.space).Do()
			wantAPIError(t, fmt.Sprintf("Create(%q)", tt.space.DisplayName), err, tt.code, tt.status)
		})
	}
	// The limits themselves are allowed.
	long := &chat.Space{DisplayName: strings.Repeat("é", 128), SpaceType: "SPACE",
		SpaceDetails: &chat.SpaceDetails{Description: strings.Repeat("a", 4096), Guidelines: strings.Repeat("a", 5000)}}
	if _, err := svc.Spaces.Create(long).Do(); err != nil {
		t.Errorf("Create(at the limits): %v", err)
	}
}

func TestSetupSpace(t *testing.T) {
	t.Parallel()
	srv, svc, _ := start(t, WithUnaddable("blocked@example.com"), WithInvited("partner.org"))
	req := &chat.SetUpSpaceRequest{
		Space:     newSpace("Team"),
		RequestId: "setup-1",
		Memberships: []*chat.Membership{
			user("Alice@Example.com"),
			user("blocked@example.com"),
			user("guest@partner.org"),
			group("0123abcd"),
		},
	}
	sp, err := svc.Spaces.Setup(req).Do()
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	if !spaceName.MatchString(sp.Name) || sp.DisplayName != "Team" {
		t.Errorf("Setup = %q %q, want a space named Team", sp.Name, sp.DisplayName)
	}
	got := map[string]Member{}
	for _, m := range srv.Members(sp.Name) {
		got[m.Email+m.Group] = m
	}
	want := map[string]struct{ role, state string }{
		"caller@example.com": {"ROLE_MANAGER", "JOINED"},
		"alice@example.com":  {"ROLE_MEMBER", "JOINED"},
		"guest@partner.org":  {"ROLE_MEMBER", "INVITED"},
		"groups/0123abcd":    {"ROLE_MEMBER", "JOINED"},
	}
	if len(got) != len(want) {
		t.Errorf("Members(%q) = %+v, want %d members (the unaddable one skipped)", sp.Name, got, len(want))
	}
	for k, w := range want {
		if m := got[k]; m.Role != w.role || m.State != w.state {
			t.Errorf("member %s = %s %s, want %s %s", k, m.Role, m.State, w.role, w.state)
		}
	}

	tooMany := &chat.SetUpSpaceRequest{Space: newSpace("Big")}
	for i := range 50 {
		tooMany.Memberships = append(tooMany.Memberships, user(fmt.Sprintf("u%d@example.com", i)))
	}
	fortyNine := &chat.SetUpSpaceRequest{Space: newSpace("Full"), Memberships: tooMany.Memberships[:49]}
	if _, err := svc.Spaces.Setup(fortyNine).Do(); err != nil {
		t.Errorf("Setup(49 members): %v", err)
	}
	tests := []struct {
		name   string
		req    *chat.SetUpSpaceRequest
		code   int
		status string
	}{
		{"50 members", tooMany, 400, "INVALID_ARGUMENT"},
		{"caller by email", &chat.SetUpSpaceRequest{Space: newSpace("C"), Memberships: []*chat.Membership{user("CALLER@example.com")}}, 400, "INVALID_ARGUMENT"},
		{"caller by id", &chat.SetUpSpaceRequest{Space: newSpace("C"), Memberships: []*chat.Membership{user(userID("caller@example.com"))}}, 400, "INVALID_ARGUMENT"},
		{"member twice", &chat.SetUpSpaceRequest{Space: newSpace("C"), Memberships: []*chat.Membership{user("a@example.com"), user("A@example.com")}}, 400, "INVALID_ARGUMENT"},
		{"role on setup", &chat.SetUpSpaceRequest{Space: newSpace("C"), Memberships: []*chat.Membership{{Role: "ROLE_MANAGER", Member: &chat.User{Name: "users/a@example.com"}}}}, 400, "INVALID_ARGUMENT"},
		{"not a user name", &chat.SetUpSpaceRequest{Space: newSpace("C"), Memberships: []*chat.Membership{{Member: &chat.User{Name: "alice@example.com"}}}}, 400, "INVALID_ARGUMENT"},
		{"no space", &chat.SetUpSpaceRequest{}, 400, "INVALID_ARGUMENT"},
		{"taken name", &chat.SetUpSpaceRequest{Space: newSpace("team")}, 409, "ALREADY_EXISTS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Spaces.Setup(tt.req).Do()
			wantAPIError(t, "Setup", err, tt.code, tt.status)
		})
	}
	if n := srv.Stats().SpacesCreated; n != 2 {
		t.Errorf("Stats().SpacesCreated = %d, want 2 (failed setups make nothing)", n)
	}
}

func TestListSpaces(t *testing.T) {
	t.Parallel()
	srv, svc, _ := start(t, WithSpaceQuota(0), WithReadQuota(0))
	const n = 250
	for i := range n {
		if _, err := srv.AddSpace(fmt.Sprintf("space %03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	hidden, _ := srv.AddHiddenSpace("someone else's")
	gone, _ := srv.AddSpace("deleted later")
	srv.DeleteSpace(gone)

	tests := []struct {
		pageSize  int64
		wantPages int
	}{
		{0, 3}, {100, 3}, {7, 36}, {250, 1}, {5000, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.pageSize), func(t *testing.T) {
			seen := map[string]bool{}
			pages := 0
			tok := ""
			for {
				call := svc.Spaces.List().Filter(`spaceType = "SPACE"`).PageToken(tok)
				if tt.pageSize > 0 {
					call = call.PageSize(tt.pageSize)
				}
				resp, err := call.Do()
				if err != nil {
					t.Fatalf("List(page %d): %v", pages, err)
				}
				pages++
				for _, sp := range resp.Spaces {
					if seen[sp.Name] || sp.Name == hidden || sp.Name == gone {
						t.Fatalf("List: %s listed twice, or hidden, or deleted", sp.Name)
					}
					seen[sp.Name] = true
				}
				if tok = resp.NextPageToken; tok == "" {
					break
				}
			}
			if len(seen) != n || pages != tt.wantPages {
				t.Errorf("List(pageSize %d) = %d spaces in %d pages, want %d in %d", tt.pageSize, len(seen), pages, n, tt.wantPages)
			}
		})
	}

	resp, err := svc.Spaces.List().Filter(`space_type = "GROUP_CHAT" OR spaceType = "DIRECT_MESSAGE"`).Do()
	if err != nil || len(resp.Spaces) != 0 {
		t.Errorf("List(GROUP_CHAT filter) = %v, %v; want no spaces", resp, err)
	}
	bad := []struct {
		name string
		call *chat.SpacesListCall
	}{
		{"bad filter", svc.Spaces.List().Filter(`displayName = "x"`)},
		{"unspecified type", svc.Spaces.List().Filter(`spaceType = "SPACE_TYPE_UNSPECIFIED"`)},
		{"negative page size", svc.Spaces.List().PageSize(-1)},
		{"bad token", svc.Spaces.List().PageToken("nope")},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.call.Do()
			wantAPIError(t, tt.name, err, 400, "INVALID_ARGUMENT")
		})
	}
}

func TestGetAndDeleteSpace(t *testing.T) {
	t.Parallel()
	srv, svc, _ := start(t, WithSpaceWriteRate(0))
	sp, err := svc.Spaces.Create(newSpace("Short-lived")).Do()
	if err != nil {
		t.Fatal(err)
	}
	hidden, _ := srv.AddHiddenSpace("Not mine")
	if _, err := svc.Spaces.Delete(sp.Name).Do(); err != nil {
		t.Fatalf("Delete(%q): %v", sp.Name, err)
	}
	tests := []struct {
		name   string
		err    func() error
		code   int
		status string
	}{
		{"get deleted", func() error { _, err := svc.Spaces.Get(sp.Name).Do(); return err }, 404, "NOT_FOUND"},
		{"delete deleted", func() error { _, err := svc.Spaces.Delete(sp.Name).Do(); return err }, 404, "NOT_FOUND"},
		{"get unknown", func() error { _, err := svc.Spaces.Get("spaces/AAAAnothere1").Do(); return err }, 404, "NOT_FOUND"},
		{"get hidden", func() error { _, err := svc.Spaces.Get(hidden).Do(); return err }, 403, "PERMISSION_DENIED"},
		{"create over hidden", func() error { _, err := svc.Spaces.Create(newSpace("not mine")).Do(); return err }, 409, "ALREADY_EXISTS"},
		{"patch hidden", func() error {
			_, err := svc.Spaces.Patch(hidden, newSpace("x")).UpdateMask("displayName").Do()
			return err
		}, 403, "PERMISSION_DENIED"},
		{"delete hidden", func() error { _, err := svc.Spaces.Delete(hidden).Do(); return err }, 403, "PERMISSION_DENIED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantAPIError(t, tt.name, tt.err(), tt.code, tt.status)
		})
	}
	// The name is free again once its space is deleted.
	if _, err := svc.Spaces.Create(newSpace("short-lived")).Do(); err != nil {
		t.Errorf("Create after delete: %v", err)
	}
	if st := srv.Stats(); st.SpacesDeleted != 1 || st.Spaces != 2 {
		t.Errorf("Stats() = %d deleted, %d existing; want 1 and 2", st.SpacesDeleted, st.Spaces)
	}
}
