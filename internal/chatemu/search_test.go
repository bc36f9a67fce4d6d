package chatemu

import (
	"fmt"
	"testing"

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
		{"time not modeled", root, true, orgQuery + ` AND create_time > "2020-01-01T00:00:00Z"`, 501},
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
