package chatemu

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGroupsLookup(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(New(WithGroups(map[string]string{"Eng@Example.com": "groups/03x9abc"})))
	t.Cleanup(ts.Close)
	for _, tc := range []struct {
		query    string
		code     int
		contains string
	}{
		{"groupKey.id=eng@example.com", 200, `"name":"groups/03x9abc"`},
		{"groupKey.id=ENG@EXAMPLE.COM", 200, `"name":"groups/03x9abc"`},
		{"groupKey.id=nobody@example.com", 403, "Error(2028): Permission denied"},
		{"", 400, "groupKey.id is required"},
	} {
		code, body := do(t, ts, "GET", "/v1/groups:lookup?"+tc.query, "")
		text, _ := json.Marshal(body)
		if code != tc.code || !strings.Contains(string(text), tc.contains) {
			t.Errorf("lookup %q = %d %s; want %d with %q", tc.query, code, body, tc.code, tc.contains)
		}
	}
}

// TestSetGroup: a group deleted and made again under the same email is
// looked up with its new ID; one forgotten is not found.
func TestSetGroup(t *testing.T) {
	t.Parallel()
	srv := New(WithGroups(map[string]string{"eng@example.com": "groups/old"}))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	srv.SetGroup("Eng@example.com", "groups/new")
	if code, body := do(t, ts, "GET", "/v1/groups:lookup?groupKey.id=eng@example.com", ""); code != 200 || body["name"] != "groups/new" {
		t.Errorf("lookup after SetGroup = %d %v; want groups/new", code, body)
	}
	srv.SetGroup("eng@example.com", "")
	if code, body := do(t, ts, "GET", "/v1/groups:lookup?groupKey.id=eng@example.com", ""); code != 403 {
		t.Errorf("lookup of a forgotten group = %d %v; want 403", code, body)
	}
}

// TestGroupsGet: Cloud Identity's groups.get tells a known group's email as
// its groupKey.id; an unknown one is refused as lookup refuses it.
func TestGroupsGet(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(New(WithGroups(map[string]string{"Eng@Example.com": "groups/03x9abc"})))
	t.Cleanup(ts.Close)
	code, body := do(t, ts, "GET", "/v1/groups/03x9abc", "")
	key, _ := body["groupKey"].(map[string]any)
	if code != 200 || body["name"] != "groups/03x9abc" || key["id"] != "eng@example.com" {
		t.Errorf("get groups/03x9abc = %d %v; want groups/03x9abc with groupKey.id eng@example.com", code, body)
	}
	if code, _ := do(t, ts, "GET", "/v1/groups/nope", ""); code != 403 {
		t.Errorf("get groups/nope = %d, want 403", code)
	}
}
