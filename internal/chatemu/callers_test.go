package chatemu

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	chat "google.golang.org/api/chat/v1"
)

// twoCallers serves an emulator that knows alice and bob by token, and
// returns a client for each.
func twoCallers(t *testing.T, opts ...Option) (*Server, *chat.Service, *chat.Service) {
	t.Helper()
	opts = append([]Option{WithTokens(map[string]string{"tok-alice": "users/alice@example.com", "tok-bob": "users/bob@example.com"})}, opts...)
	srv, _, ts := start(t, opts...)
	return srv, client(t, ts, bearer("tok-alice")), client(t, ts, bearer("tok-bob"))
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	_, _, ts := start(t, WithTokens(map[string]string{"tok-alice": "users/alice@example.com"}))
	tests := []struct {
		name, header, reason, message string
	}{
		{"none", "", "CREDENTIALS_MISSING", "Request is missing required authentication credential."},
		{"unknown token", "Bearer tok-eve", "ACCESS_TOKEN_TYPE_UNSUPPORTED", "Request had invalid authentication credentials."},
		{"not a bearer", "Basic YTpi", "ACCESS_TOKEN_TYPE_UNSUPPORTED", "Request had invalid authentication credentials."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest("GET", ts.URL+"/v1/spaces", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error struct {
					Code    int
					Message string
					Status  string
					Details []struct {
						Type   string `json:"@type"`
						Reason string
					}
				}
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			e := body.Error
			if resp.StatusCode != 401 || e.Status != "UNAUTHENTICATED" || !strings.HasPrefix(e.Message, tt.message) ||
				len(e.Details) != 1 || e.Details[0].Reason != tt.reason || resp.Header.Get("Www-Authenticate") == "" {
				t.Errorf("GET /v1/spaces with %q = %d %+v, want 401 UNAUTHENTICATED %q, reason %s", tt.header, resp.StatusCode, e, tt.message, tt.reason)
			}
		})
	}
}

func TestCallers(t *testing.T) {
	t.Parallel()
	srv, alice, bob := twoCallers(t)
	sp, err := alice.Spaces.Create(newSpace("Alice's")).RequestId("r-1").Do()
	if err != nil {
		t.Fatal(err)
	}
	if m := srv.Members(sp.Name); len(m) != 1 || m[0].Email != "alice@example.com" || m[0].Role != "ROLE_MANAGER" {
		t.Errorf("Members(%s) = %+v, want alice as owner", sp.Name, m)
	}
	list, err := bob.Spaces.List().Do()
	if err != nil || len(list.Spaces) != 0 {
		t.Errorf("bob's List = %v, %v; want no spaces", list, err)
	}
	_, err = bob.Spaces.Get(sp.Name).Do()
	wantAPIError(t, "bob's Get of alice's space", err, 403, "PERMISSION_DENIED")
	_, err = bob.Spaces.Members.List(sp.Name).Do()
	wantAPIError(t, "bob's Members.List", err, 403, "PERMISSION_DENIED")

	// alice's requestId is hers: bob reusing it is an error, and creates
	// nothing.
	_, err = bob.Spaces.Create(newSpace("Bob's")).RequestId("r-1").Do()
	ge := wantAPIError(t, "bob reusing alice's requestId", err, 400, "INVALID_ARGUMENT")
	if !strings.Contains(ge.Body, "already used by another caller") {
		t.Errorf("error body %s, want it to say the id was used by another caller", ge.Body)
	}
	_, err = bob.Spaces.Setup(&chat.SetUpSpaceRequest{Space: newSpace("Bob's"), RequestId: "r-1"}).Do()
	wantAPIError(t, "bob's setup with alice's requestId", err, 400, "INVALID_ARGUMENT")
	// alice's replay still works.
	if again, err := alice.Spaces.Create(newSpace("Alice's")).RequestId("r-1").Do(); err != nil || again.Name != sp.Name {
		t.Errorf("alice's replay = %v, %v; want %s", again, err, sp.Name)
	}

	// Once alice adds bob, he sees the space.
	if _, err := alice.Spaces.Members.Create(sp.Name, user("bob@example.com")).Do(); err != nil {
		t.Fatal(err)
	}
	if list, err := bob.Spaces.List().Do(); err != nil || len(list.Spaces) != 1 {
		t.Errorf("bob's List after being added = %v, %v; want alice's space", list, err)
	}
	// bob, a member, may neither change roles nor delete the space.
	_, err = bob.Spaces.Members.Patch(sp.Name+"/members/"+userID("bob@example.com"), &chat.Membership{Role: "ROLE_MANAGER"}).UpdateMask("role").Do()
	wantAPIError(t, "a member making himself owner", err, 403, "PERMISSION_DENIED")
	_, err = bob.Spaces.Delete(sp.Name).Do()
	wantAPIError(t, "a member deleting the space", err, 403, "PERMISSION_DENIED")
	// The setup of a space may not name its caller, whoever that is.
	_, err = bob.Spaces.Setup(&chat.SetUpSpaceRequest{Space: newSpace("B"), Memberships: []*chat.Membership{user("bob@example.com")}}).Do()
	wantAPIError(t, "bob's setup naming bob", err, 400, "INVALID_ARGUMENT")
	if _, err := bob.Spaces.Setup(&chat.SetUpSpaceRequest{Space: newSpace("B"), Memberships: []*chat.Membership{user("alice@example.com")}}).Do(); err != nil {
		t.Errorf("bob's setup naming alice: %v", err)
	}
}

// TestReplayEcho checks that a replayed create answers with the request
// echoed and the name, and nothing the request did not carry.
func TestReplayEcho(t *testing.T) {
	t.Parallel()
	_, svc, ts := start(t)
	in := &chat.Space{DisplayName: "Echo", SpaceType: "SPACE", SpaceDetails: &chat.SpaceDetails{Description: "d"}}
	first, err := svc.Spaces.Create(in).RequestId("echo-1").Do()
	if err != nil || first.SpaceUri == "" || first.CreateTime == "" {
		t.Fatalf("first create = %+v, %v; want a full space", first, err)
	}
	// The replay echoes this request (not the first one), in JSON names
	// even when sent with proto names.
	code, body := do(t, ts, "POST", "/v1/spaces?requestId=echo-1", `{"display_name":"Echo again","space_type":"SPACE","spaceUri":"sent"}`)
	want := map[string]any{"name": first.Name, "displayName": "Echo again", "spaceType": "SPACE"}
	if code != 200 || len(body) != len(want) {
		t.Fatalf("replay = %d %v, want 200 %v", code, body, want)
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("replay[%s] = %v, want %v", k, body[k], v)
		}
	}
	setup, err := svc.Spaces.Setup(&chat.SetUpSpaceRequest{Space: newSpace("Echo set up"), RequestId: "echo-2", Memberships: []*chat.Membership{user("a@example.com")}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.Spaces.Setup(&chat.SetUpSpaceRequest{Space: newSpace("Echo set up"), RequestId: "echo-2"}).Do()
	if err != nil || again.Name != setup.Name || again.SpaceUri != "" || again.CreateTime != "" || again.MembershipCount != nil {
		t.Errorf("setup replay = %+v, %v; want %s with no spaceUri, createTime nor membershipCount", again, err, setup.Name)
	}
}

func TestForeignSpaces(t *testing.T) {
	t.Parallel()
	srv, svc, _ := start(t, WithMemberQuota(0), WithSpaceWriteRate(0))
	const owner = "users/olga@example.com"
	spaces := map[string]string{}
	for _, role := range []string{"", "ROLE_MEMBER", "ROLE_ASSISTANT_MANAGER", "ROLE_MANAGER"} {
		spaces[role] = srv.AddForeignSpace("Foreign "+role, owner, role)
	}
	list, err := svc.Spaces.List().Do()
	if err != nil || len(list.Spaces) != 3 {
		t.Fatalf("List = %v, %v; want the 3 spaces the caller is in", list, err)
	}
	for role, name := range spaces {
		me, err := svc.Spaces.Members.Get(name + "/members/caller@example.com").Do()
		if role == "" {
			wantAPIError(t, "Members.Get in a space the caller is not in", err, 403, "PERMISSION_DENIED")
			continue
		}
		if err != nil || me.Role != role {
			t.Errorf("caller's membership in %q = %v, %v; want %s", role, me, err, role)
		}
		m := srv.Members(name)
		if len(m) != 2 || m[0].Email != "olga@example.com" || m[0].Role != "ROLE_MANAGER" {
			t.Errorf("Members(%s) = %+v, want olga as owner, then the caller", name, m)
		}
	}
	// Who may change roles: only an owner.
	bob := func(name string) string { return name + "/members/" + userID("bob@example.com") }
	for role, name := range spaces {
		if role == "" {
			continue
		}
		if _, err := srv.addMember(name, "bob@example.com"); err != nil {
			t.Fatal(err)
		}
		_, err := svc.Spaces.Members.Patch(bob(name), &chat.Membership{Role: "ROLE_ASSISTANT_MANAGER"}).UpdateMask("role").Do()
		if role == "ROLE_MANAGER" {
			if err != nil {
				t.Errorf("an owner making bob a manager: %v", err)
			}
		} else {
			wantAPIError(t, "a "+role+" changing bob's role", err, 403, "PERMISSION_DENIED")
		}
		// Removing bob (now a member or manager): owners and managers may.
		_, err = svc.Spaces.Members.Delete(bob(name)).Do()
		if role == "ROLE_MEMBER" {
			wantAPIError(t, "a member removing bob", err, 403, "PERMISSION_DENIED")
		} else if err != nil {
			t.Errorf("a %s removing bob: %v", role, err)
		}
	}
	// A manager may not remove an owner, nor delete the space.
	_, err = svc.Spaces.Members.Delete(spaces["ROLE_ASSISTANT_MANAGER"] + "/members/olga@example.com").Do()
	wantAPIError(t, "a manager removing the owner", err, 403, "PERMISSION_DENIED")
	_, err = svc.Spaces.Delete(spaces["ROLE_ASSISTANT_MANAGER"]).Do()
	wantAPIError(t, "a manager deleting the space", err, 403, "PERMISSION_DENIED")
	// A second owner may remove the first; the last owner stays.
	if _, err := svc.Spaces.Members.Delete(spaces["ROLE_MANAGER"] + "/members/olga@example.com").Do(); err != nil {
		t.Errorf("an owner removing the other owner: %v", err)
	}
	_, err = svc.Spaces.Members.Patch(spaces["ROLE_MANAGER"]+"/members/"+userID("caller@example.com"), &chat.Membership{Role: "ROLE_MEMBER"}).UpdateMask("role").Do()
	wantAPIError(t, "demoting the last owner", err, 400, "FAILED_PRECONDITION")
	_, err = svc.Spaces.Members.Delete(spaces["ROLE_MANAGER"] + "/members/caller@example.com").Do()
	wantAPIError(t, "the last owner leaving", err, 400, "FAILED_PRECONDITION")
	if _, err := svc.Spaces.Delete(spaces["ROLE_MANAGER"]).Do(); err != nil {
		t.Errorf("an owner deleting the space: %v", err)
	}
	// A member may leave.
	if _, err := svc.Spaces.Members.Delete(spaces["ROLE_MEMBER"] + "/members/caller@example.com").Do(); err != nil {
		t.Errorf("a member leaving: %v", err)
	}
	if n := srv.Stats().MembersDeleted; n != 4 {
		t.Errorf("Stats().MembersDeleted = %d, want 4", n)
	}

	// For another caller, and the panics of a wrong setup.
	other := srv.AddForeignSpaceFor("users/bob@example.com", "Bob's guest space", owner, "ROLE_MEMBER")
	if m := srv.Members(other); len(m) != 2 || m[1].Email != "bob@example.com" {
		t.Errorf("AddForeignSpaceFor(bob) members = %+v", m)
	}
	for _, f := range []func(){
		func() { srv.AddForeignSpace("Foreign ROLE_MEMBER", owner, "ROLE_MEMBER") },
		func() { srv.AddForeignSpace("Fresh", owner, "OWNER") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddForeignSpace with a taken name or an unknown role did not panic")
				}
			}()
			f()
		}()
	}
}

// addMember adds a member as a test's setup would, without a call.
func (s *Server) addMember(space, email string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.st.spaces[spaceID(space)]
	if sp == nil {
		return "", errNotFound()
	}
	id, em := s.userRef(email)
	return s.join(sp, target{id: id, email: em}, s.cfg.now()).id, nil
}

func TestAdminAccess(t *testing.T) {
	t.Parallel()
	srv, _, ts := start(t, WithAdmins("root@example.com"), WithTokens(map[string]string{"tok-root": "users/root@example.com", "tok-joe": "users/joe@example.com"}), WithSpaceWriteRate(0))
	root, joe := client(t, ts, bearer("tok-root")), client(t, ts, bearer("tok-joe"))
	name := srv.AddForeignSpace("Elsewhere", "users/olga@example.com", "")
	_, err := root.Spaces.Get(name).Do()
	wantAPIError(t, "an administrator's Get without admin access", err, 403, "PERMISSION_DENIED")
	if _, err := root.Spaces.Get(name).UseAdminAccess(true).Do(); err != nil {
		t.Errorf("an administrator's Get with admin access: %v", err)
	}
	if _, err := root.Spaces.Members.List(name).UseAdminAccess(true).Do(); err != nil {
		t.Errorf("an administrator's Members.List with admin access: %v", err)
	}
	_, err = joe.Spaces.Get(name).UseAdminAccess(true).Do()
	wantAPIError(t, "a non-administrator's Get with admin access", err, 403, "PERMISSION_DENIED")
	if _, err := root.Spaces.Members.Create(name, user("new@example.com")).UseAdminAccess(true).Do(); err != nil {
		t.Errorf("an administrator adding a member: %v", err)
	}
	if _, err := root.Spaces.Members.Patch(name+"/members/"+userID("new@example.com"), &chat.Membership{Role: "ROLE_MANAGER"}).UpdateMask("role").UseAdminAccess(true).Do(); err != nil {
		t.Errorf("an administrator making an owner: %v", err)
	}
	if _, err := root.Spaces.Delete(name).UseAdminAccess(true).Do(); err != nil {
		t.Errorf("an administrator deleting the space: %v", err)
	}
}
