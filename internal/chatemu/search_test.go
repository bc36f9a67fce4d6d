package chatemu

import (
	"fmt"
	"testing"
	"time"

	chat "google.golang.org/api/chat/v1"
)

const orgQuery = `customer = "customers/my_customer" AND space_type = "SPACE"`

func TestSearchSpaces(t *testing.T) {
	t.Parallel()
	srv, _, ts := start(t, WithAdmins("root@example.com"), WithReadQuota(0),
		WithTokens(map[string]string{"tok-root": "users/root@example.com", "tok-joe": "users/joe@example.com"}))
	root, joe := client(t, ts, bearer("tok-root")), client(t, ts, bearer("tok-joe"))
	names := []string{"Fun event", "The evening was fun", "notFun event", "even", "Team: Platform", "team platform 2"}
	for _, n := range names {
		srv.AddForeignSpace(n, "users/olga@example.com", "")
	}
	srv.AddForeignSpaceFor("users/joe@example.com", "Joe's fun", "users/olga@example.com", "ROLE_MEMBER")
	search := func(svc *chat.Service, admin bool, q string) ([]string, *chat.SearchSpacesResponse, error) {
		resp, err := svc.Spaces.Search().UseAdminAccess(admin).Query(q).Do()
		if err != nil {
			return nil, nil, err
		}
		var got []string
		for _, r := range resp.Results {
			got = append(got, r.Space.DisplayName)
		}
		return got, resp, nil
	}
	tests := []struct {
		query string
		want  []string
	}{
		{orgQuery + ` AND display_name:"Fun Eve"`, []string{"Fun event", "The evening was fun"}},
		{orgQuery + ` AND display_name:"platform"`, []string{"Team: Platform", "team platform 2"}},
		{orgQuery + ` AND (display_name:"even" OR display_name:"joe")`, []string{"Fun event", "The evening was fun", "notFun event", "even", "Joe's fun"}},
		{`space_type = "SPACE" AND customer = "customers/my_customer"`, append(append([]string(nil), names...), "Joe's fun")},
	}
	for _, tt := range tests {
		got, resp, err := search(root, true, tt.query)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) || len(resp.Spaces) != len(tt.want) || int(resp.TotalSize) != len(tt.want) {
			t.Errorf("Search(%q) = %q, %v; want %q with spaces and totalSize", tt.query, got, err, tt.want)
		}
	}
	// Without admin access: only the caller's spaces, and nothing without a
	// display_name term.
	if got, resp, err := search(joe, false, `display_name:"fun" AND space_type = "SPACE"`); err != nil || fmt.Sprint(got) != "[Joe's fun]" || resp.Spaces != nil {
		t.Errorf("joe's Search = %q, %v; want only his space, in results only", got, err)
	}
	if got, _, err := search(joe, false, `space_type = "SPACE"`); err != nil || got != nil {
		t.Errorf("joe's Search without display_name = %q, %v; want nothing", got, err)
	}

	bad := []struct {
		name  string
		svc   *chat.Service
		admin bool
		query string
		code  int
	}{
		{"not an administrator", joe, true, orgQuery, 403},
		{"no customer", root, true, `space_type = "SPACE"`, 400},
		{"no space type", root, true, `customer = "customers/my_customer"`, 400},
		{"other customer", root, true, `customer = "customers/C123" AND space_type = "SPACE"`, 400},
		{"group chats", root, true, `customer = "customers/my_customer" AND space_type = "GROUP_CHAT"`, 400},
		{"OR across fields", root, true, `customer = "customers/my_customer" OR space_type = "SPACE"`, 400},
		{"garbage", root, true, `display_name = "x"`, 400},
		{"customer without admin access", root, false, orgQuery, 400},
		{"no query", root, true, ``, 400},
		{"creation time without admin access", joe, false, `display_name:"fun" AND space_type = "SPACE" AND create_time > "2020-01-01T00:00:00Z"`, 400},
		{"history state without admin access", joe, false, `display_name:"fun" AND spaceType = "SPACE" AND spaceHistoryState = "HISTORY_ON"`, 400},
		{"not a time", root, true, orgQuery + ` AND createTime > "yesterday"`, 400},
		{"not a boolean", root, true, orgQuery + ` AND externalUserAllowed = "yes"`, 400},
		{"not a history state", root, true, orgQuery + ` AND space_history_state = "ON"`, 400},
		{"display names ANDed in a group", root, true, orgQuery + ` AND (display_name:"fun" AND display_name:"event")`, 400},
		{"space type ORed", root, true, `customer = "customers/my_customer" AND (spaceType = "SPACE" OR spaceType = "SPACE")`, 400},
		{"group chats, in JSON names", root, true, `customer = "customers/my_customer" AND spaceType = "GROUP_CHAT"`, 400},
		{"OR across fields, in JSON names", root, true, orgQuery + ` AND (createTime > "2020-01-01T00:00:00Z" OR spaceHistoryState = "HISTORY_ON")`, 400},
		{"an unknown field", root, true, orgQuery + ` AND membershipCount = "3"`, 400},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := search(tt.svc, tt.admin, tt.query)
			status := map[int]string{400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 501: "UNIMPLEMENTED"}[tt.code]
			wantAPIError(t, tt.name, err, tt.code, status)
		})
	}
}

func TestSearchPages(t *testing.T) {
	t.Parallel()
	srv, svc, _ := start(t, WithAdmins(DefaultCaller), WithReadQuota(0), WithSpaceQuota(0))
	const n = 2500
	for i := range n {
		srv.AddForeignSpace(fmt.Sprintf("Space %04d", i), "users/olga@example.com", "")
	}
	for _, size := range []int64{0, 7, 1000, 5000} {
		seen, pages, tok := map[string]bool{}, 0, ""
		for {
			call := svc.Spaces.Search().UseAdminAccess(true).Query(orgQuery).PageToken(tok)
			if size > 0 {
				call = call.PageSize(size)
			}
			resp, err := call.Do()
			if err != nil {
				t.Fatalf("Search(pageSize %d, page %d): %v", size, pages, err)
			}
			pages++
			if resp.TotalSize != n {
				t.Fatalf("totalSize = %d, want %d", resp.TotalSize, n)
			}
			for _, sp := range resp.Spaces {
				if seen[sp.Name] {
					t.Fatalf("%s twice", sp.Name)
				}
				seen[sp.Name] = true
			}
			if tok = resp.NextPageToken; tok == "" || pages > n {
				break
			}
		}
		wantSize := map[int64]int{0: 100, 7: 7, 1000: 1000, 5000: 1000}[size]
		if len(seen) != n || pages != (n+wantSize-1)/wantSize {
			t.Errorf("Search(pageSize %d) = %d spaces in %d pages, want %d in %d", size, len(seen), pages, n, (n+wantSize-1)/wantSize)
		}
	}
	first, err := svc.Spaces.Search().UseAdminAccess(true).Query(orgQuery).Do()
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Spaces.Search().UseAdminAccess(true).Query(orgQuery + ` AND display_name:"space"`).PageToken(first.NextPageToken).Do()
	wantAPIError(t, "a token for another query", err, 400, "INVALID_ARGUMENT")
}

// TestSearchFieldNames checks that a query may name each field the DD lists
// in its proto spelling (space_type) or its JSON spelling (spaceType), as
// the reference's examples and GAM7 write them, alone or mixed.
func TestSearchFieldNames(t *testing.T) {
	t.Parallel()
	srv, _, ts := start(t, WithAdmins("root@example.com"), WithReadQuota(0),
		WithTokens(map[string]string{"tok-root": "users/root@example.com", "tok-joe": "users/joe@example.com"}))
	root, joe := client(t, ts, bearer("tok-root")), client(t, ts, bearer("tok-joe"))
	for _, n := range []string{"Fun event", "The evening was fun", "notFun event"} {
		srv.AddForeignSpace(n, "users/olga@example.com", "")
	}
	srv.AddForeignSpaceFor("users/joe@example.com", "Joe's fun", "users/olga@example.com", "ROLE_MEMBER")
	all := "[Fun event The evening was fun notFun event Joe's fun]"
	tests := []struct {
		svc   *chat.Service
		admin bool
		query string
		want  string
	}{
		// GAM7's query (printShowChatSpaces) and the reference's example.
		{root, true, `customer = "customers/my_customer" AND spaceType = "SPACE"`, all},
		{root, true, `customer = "customers/my_customer" AND spaceType = "SPACE" AND displayName:"Fun Eve"`, "[Fun event The evening was fun]"},
		{root, true, `customer = "customers/my_customer" AND space_type = "SPACE" AND displayName:"Fun Eve"`, "[Fun event The evening was fun]"},
		{root, true, `customer = "customers/my_customer" AND spaceType = "SPACE" AND display_name:"Fun Eve"`, "[Fun event The evening was fun]"},
		{root, true, `customer="customers/my_customer" AND spaceType="SPACE" AND (displayName:"notfun" OR display_name:"joe")`, "[notFun event Joe's fun]"},
		{joe, false, `spaceType = "SPACE" AND displayName:"fun"`, "[Joe's fun]"},
		{joe, false, `(displayName:"fun" OR displayName:"joe") AND spaceType = "SPACE"`, "[Joe's fun]"},
		{joe, false, `displayName:"fun" AND spaceType = "SPACE" AND externalUserAllowed = "false"`, "[Joe's fun]"},
	}
	for _, tt := range tests {
		resp, err := tt.svc.Spaces.Search().UseAdminAccess(tt.admin).Query(tt.query).Do()
		if err != nil {
			t.Errorf("Search(%q) = %v", tt.query, err)
			continue
		}
		var got []string
		for _, r := range resp.Results {
			got = append(got, r.Space.DisplayName)
		}
		if fmt.Sprint(got) != tt.want {
			t.Errorf("Search(%q) = %q, want %s", tt.query, got, tt.want)
		}
	}
	// GAM7 orders by createTime (CHAT_SPACES_ADMIN_ORDERBY_CHOICE_MAP).
	for _, ob := range []string{"createTime", "create_time", "createTime asc", "create_time ASC"} {
		if _, err := root.Spaces.Search().UseAdminAccess(true).Query(orgQuery).OrderBy(ob).Do(); err != nil {
			t.Errorf("Search(orderBy %q) = %v", ob, err)
		}
	}
	_, err := root.Spaces.Search().UseAdminAccess(true).Query(orgQuery).OrderBy("lastActiveTime DESC").Do()
	wantAPIError(t, "orderBy lastActiveTime", err, 501, "UNIMPLEMENTED")
}

// TestSearchOtherFields checks the query fields besides customer, space_type
// and display_name, in both spellings: external_user_allowed,
// space_history_state, create_time (intervals and ORs) and last_active_time
// (the last message's time).
func TestSearchOtherFields(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	_, svc, _ := start(t, WithAdmins(DefaultCaller), WithClock(clock.now), WithSpaceQuota(0), WithSpaceWriteRate(0), WithReadQuota(0))
	alpha := newSpace("Alpha")
	alpha.ExternalUserAllowed = true
	if _, err := svc.Spaces.Create(alpha).Do(); err != nil {
		t.Fatal(err)
	}
	clock.advance(24 * time.Hour)
	beta, err := svc.Spaces.Create(newSpace("Beta")).Do()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Spaces.Patch(beta.Name, &chat.Space{SpaceHistoryState: "HISTORY_OFF"}).UpdateMask("space_history_state").Do(); err != nil {
		t.Fatal(err)
	}
	clock.advance(24 * time.Hour)
	gamma, err := svc.Spaces.Create(newSpace("Gamma")).Do()
	if err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Hour)
	if _, err := svc.Spaces.Messages.Create(gamma.Name, &chat.Message{Text: "hello"}).Do(); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ query, want string }{
		{`externalUserAllowed = "true"`, "[Alpha]"},
		{`external_user_allowed = "false"`, "[Beta Gamma]"},
		{`(externalUserAllowed = "true" OR externalUserAllowed = "false")`, "[Alpha Beta Gamma]"},
		{`spaceHistoryState = "HISTORY_OFF"`, "[Beta]"},
		{`(space_history_state = "HISTORY_ON" OR spaceHistoryState = "HISTORY_OFF")`, "[Alpha Beta Gamma]"},
		{`createTime > "2026-01-01T12:00:00+00:00"`, "[Beta Gamma]"},
		{`create_time >= "2026-01-02T00:00:00Z"`, "[Beta Gamma]"},
		{`createTime = "2026-01-02T00:00:00Z"`, "[Beta]"},
		{`(create_time > "2026-01-01T12:00:00Z" AND create_time < "2026-01-02T12:00:00Z")`, "[Beta]"},
		{`createTime > "2026-01-01T12:00:00Z" AND createTime <= "2026-01-02T00:00:00Z"`, "[Beta]"},
		{`(createTime < "2026-01-01T12:00:00Z" OR createTime > "2026-01-02T12:00:00Z")`, "[Alpha Gamma]"},
		{`lastActiveTime > "2026-01-03T00:00:00Z"`, "[Gamma]"},
		{`last_active_time < "2030-01-01T00:00:00Z"`, "[Gamma]"},
		{`externalUserAllowed = "false" AND createTime < "2026-01-02T12:00:00Z"`, "[Beta]"},
	}
	for _, tt := range tests {
		q := orgQuery + " AND " + tt.query
		resp, err := svc.Spaces.Search().UseAdminAccess(true).Query(q).Do()
		if err != nil {
			t.Errorf("Search(%q) = %v", q, err)
			continue
		}
		var got []string
		for _, sp := range resp.Spaces {
			got = append(got, sp.DisplayName)
		}
		if fmt.Sprint(got) != tt.want || int(resp.TotalSize) != len(got) {
			t.Errorf("Search(%q) = %q (totalSize %d), want %s", q, got, resp.TotalSize, tt.want)
		}
	}
}
