package chatemu

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// do sends a raw request to ts and returns the status and decoded body.
func do(t *testing.T, ts *httptest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, path, b, err)
	}
	return resp.StatusCode, out
}

// TestRejects checks that what the document does not define is refused as
// the real API refuses it, in Google's error shape.
func TestRejects(t *testing.T) {
	t.Parallel()
	_, _, ts := start(t)
	tests := []struct {
		name, method, path, body string
		code                     int
		status                   string
	}{
		{"unknown field", "POST", "/v1/spaces", `{"displayName":"a","spaceType":"SPACE","colour":"red"}`, 400, "INVALID_ARGUMENT"},
		{"field in wrong case", "POST", "/v1/spaces", `{"displayname":"a","spaceType":"SPACE"}`, 400, "INVALID_ARGUMENT"},
		{"proto and JSON names of one field", "POST", "/v1/spaces", `{"display_name":"a","displayName":"a","spaceType":"SPACE"}`, 400, "INVALID_ARGUMENT"},
		{"nested unknown field", "POST", "/v1/spaces", `{"displayName":"a","spaceType":"SPACE","spaceDetails":{"descripton":"x"}}`, 400, "INVALID_ARGUMENT"},
		{"enum outside the document", "POST", "/v1/spaces", `{"displayName":"a","spaceType":"ROOM"}`, 400, "INVALID_ARGUMENT"},
		{"output-only enum outside the document", "POST", "/v1/spaces", `{"displayName":"a","spaceType":"SPACE","type":"CHANNEL"}`, 400, "INVALID_ARGUMENT"},
		{"wrong type", "POST", "/v1/spaces", `{"displayName":7,"spaceType":"SPACE"}`, 400, "INVALID_ARGUMENT"},
		{"not an object", "POST", "/v1/spaces", `["a"]`, 400, "INVALID_ARGUMENT"},
		{"bad JSON", "POST", "/v1/spaces", `{"displayName":`, 400, "INVALID_ARGUMENT"},
		{"trailing data", "POST", "/v1/spaces", `{} {}`, 400, "INVALID_ARGUMENT"},
		{"unknown query parameter", "POST", "/v1/spaces?request_id=x", `{"displayName":"a","spaceType":"SPACE"}`, 400, "INVALID_ARGUMENT"},
		{"unknown setup field", "POST", "/v1/spaces:setup", `{"space":{"displayName":"a","spaceType":"SPACE"},"members":[]}`, 400, "INVALID_ARGUMENT"},
		{"unknown membership field", "POST", "/v1/spaces:setup", `{"space":{"displayName":"a","spaceType":"SPACE"},"memberships":[{"user":{"name":"users/a@b.c"}}]}`, 400, "INVALID_ARGUMENT"},
		{"memberships not a list", "POST", "/v1/spaces:setup", `{"space":{"displayName":"a","spaceType":"SPACE"},"memberships":{}}`, 400, "INVALID_ARGUMENT"},
		{"field not modeled", "POST", "/v1/spaces", `{"displayName":"a","spaceType":"SPACE","accessSettings":{"accessPermissionSettings":{}}}`, 501, "UNIMPLEMENTED"},
		{"permission settings on create", "POST", "/v1/spaces", `{"displayName":"a","spaceType":"SPACE","permissionSettings":{}}`, 400, "INVALID_ARGUMENT"},
		{"admin access by a non-administrator", "GET", "/v1/spaces/AAAAxxxxxxx?useAdminAccess=true", ``, 403, "PERMISSION_DENIED"},
		{"admin access not a boolean", "GET", "/v1/spaces/AAAAxxxxxxx?useAdminAccess=yes", ``, 400, "INVALID_ARGUMENT"},
		{"unknown path", "GET", "/v1/rooms", ``, 404, "NOT_FOUND"},
		{"unknown custom method", "POST", "/v1/spaces/AAAAxxxxxxx:completeImport", ``, 404, "NOT_FOUND"},
		{"unknown emulator path", "GET", "/_emulator/nothing", ``, 404, "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, body := do(t, ts, tt.method, tt.path, tt.body)
			e, _ := body["error"].(map[string]any)
			if code != tt.code || e == nil || e["status"] != tt.status || e["code"] != float64(tt.code) || e["message"] == "" {
				t.Errorf("%s %s %s = %d %v, want %d with error.status %s", tt.method, tt.path, tt.body, code, body, tt.code, tt.status)
			}
		})
	}
	// Output-only fields are accepted and ignored, as the real API does.
	code, body := do(t, ts, "POST", "/v1/spaces", `{"displayName":"a","spaceType":"SPACE","name":"spaces/mine","spaceUri":"x","membershipCount":{"joinedGroupCount":3},"accessSettings":{"accessState":"DISCOVERABLE"}}`)
	if code != 200 || body["name"] == "spaces/mine" || body["spaceUri"] == "x" {
		t.Errorf("create with output-only fields = %d %v, want 200 with server-assigned values", code, body)
	}
}

func TestStatsEndpointAndReset(t *testing.T) {
	t.Parallel()
	srv, svc, ts := start(t)
	sp, err := svc.Spaces.Create(newSpace("Counted")).RequestId("r").Do()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Spaces.Members.Create(sp.Name, user("a@example.com")).Do(); err != nil {
		t.Fatal(err)
	}
	_, _ = svc.Spaces.Get("spaces/AAAAmissing").Do()

	resp, err := ts.Client().Get(ts.URL + "/_emulator/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("decoding /_emulator/stats: %v", err)
	}
	resp.Body.Close()
	want := map[string]map[int]int{
		"spaces.create":  {200: 1},
		"members.create": {200: 1},
		"spaces.get":     {404: 1},
	}
	for m, codes := range want {
		for c, n := range codes {
			if st.Calls[m][c] != n {
				t.Errorf("stats calls[%s][%d] = %d, want %d (all: %v)", m, c, st.Calls[m][c], n, st.Calls)
			}
		}
	}
	if st.SpacesCreated != 1 || st.RequestIDs != 1 || st.MembersAdded != 1 || len(st.SpaceWrites) != 1 || len(st.MemberWrites) != 1 || st.Duplicates != 0 {
		t.Errorf("stats = %+v, want 1 space, 1 requestId, 1 member, 1 write of each", st)
	}

	code, _ := do(t, ts, "POST", "/_emulator/reset", "")
	if code != 200 {
		t.Fatalf("POST /_emulator/reset = %d, want 200", code)
	}
	if st := srv.Stats(); st.Spaces != 0 || len(st.Calls) != 0 || len(srv.Spaces()) != 0 {
		t.Errorf("after reset: stats %+v, spaces %d; want nothing", st, len(srv.Spaces()))
	}
	// A requestId from before the reset is forgotten with its space.
	again, err := svc.Spaces.Create(newSpace("Counted")).RequestId("r").Do()
	if err != nil || again.Name == sp.Name {
		t.Errorf("create after reset = %v, %v; want a new space", again, err)
	}
}

// TestBadRequestDetails checks that a 400 lists every problem of a body,
// one line each in the message, with a google.rpc.BadRequest naming each
// field in proto names.
func TestBadRequestDetails(t *testing.T) {
	t.Parallel()
	_, _, ts := start(t)
	tests := []struct {
		name, path, body string
		message          string
		fields           []string
	}{
		{"create, top level", "/v1/spaces", `{"displayName":"a","spaceType":"SPACE","colour":"red","size":1}`,
			"Invalid JSON payload received. Unknown name \"colour\" at 'space': Cannot find field.\n" +
				"Invalid JSON payload received. Unknown name \"size\" at 'space': Cannot find field.",
			[]string{"space", "space"}},
		{"create, nested and mixed", "/v1/spaces", `{"display_name":7,"spaceType":"SPACE","space_details":{"descripton":"x"}}`,
			"Invalid value at 'space.display_name' (TYPE_STRING), 7\n" +
				"Invalid JSON payload received. Unknown name \"descripton\" at 'space.space_details': Cannot find field.",
			[]string{"space.display_name", "space.space_details"}},
		{"setup, whole request", "/v1/spaces:setup", `{"space":{"displayName":"a","spaceType":"SPACE","x":1},"members":[]}`,
			"Invalid JSON payload received. Unknown name \"members\": Cannot find field.\n" +
				"Invalid JSON payload received. Unknown name \"x\" at 'space': Cannot find field.",
			[]string{"", "space"}},
		{"members, array items", "/v1/spaces:setup", `{"space":{"displayName":"a","spaceType":"SPACE"},"memberships":[{"user":{}},{"member":{"name":"users/a@b.c","kind":"HUMAN"}}]}`,
			"Invalid JSON payload received. Unknown name \"user\" at 'memberships[0]': Cannot find field.\n" +
				"Invalid JSON payload received. Unknown name \"kind\" at 'memberships[1].member': Cannot find field.",
			[]string{"memberships[0]", "memberships[1].member"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, body := do(t, ts, "POST", tt.path, tt.body)
			e, _ := body["error"].(map[string]any)
			if code != 400 || e["message"] != tt.message {
				t.Fatalf("POST %s %s = %d %v, want 400 with message\n%s", tt.path, tt.body, code, body, tt.message)
			}
			details, _ := e["details"].([]any)
			if len(details) != 1 {
				t.Fatalf("details = %v, want one BadRequest", details)
			}
			br, _ := details[0].(map[string]any)
			vs, _ := br["fieldViolations"].([]any)
			if br["@type"] != "type.googleapis.com/google.rpc.BadRequest" || len(vs) != len(tt.fields) {
				t.Fatalf("detail = %v, want a BadRequest with %d violations", br, len(tt.fields))
			}
			for i, v := range vs {
				v, _ := v.(map[string]any)
				field, _ := v["field"].(string)
				if field != tt.fields[i] || v["description"] != strings.Split(tt.message, "\n")[i] {
					t.Errorf("violation %d = %v, want field %q and line %d of the message", i, v, tt.fields[i], i)
				}
			}
		})
	}
}

// TestProtoNames checks that request fields are accepted under their proto
// names too, at every level, as proto3 JSON allows.
func TestProtoNames(t *testing.T) {
	t.Parallel()
	srv, _, ts := start(t)
	code, body := do(t, ts, "POST", "/v1/spaces:setup", `{"request_id":"p-1","space":{"display_name":"Snake","space_type":"SPACE","space_details":{"description":"d"},"space_history_state":"HISTORY_OFF","access_settings":{"audience":"audiences/default"},"predefined_permission_settings":"ANNOUNCEMENT_SPACE","external_user_allowed":true},"memberships":[{"member":{"name":"users/a@example.com"}},{"group_member":{"name":"groups/g"}}]}`)
	if code != 200 || body["displayName"] != "Snake" || body["spaceHistoryState"] != "HISTORY_OFF" || body["externalUserAllowed"] != true {
		t.Fatalf("setup with proto names = %d %v", code, body)
	}
	name, _ := body["name"].(string)
	if snap, _ := srv.Space(name); snap.SpaceDetails.Description != "d" || snap.PredefinedPermissionSettings != "ANNOUNCEMENT_SPACE" || len(srv.Members(name)) != 3 {
		t.Errorf("the space made = %+v with %d members", snap, len(srv.Members(name)))
	}
	if srv.RequestID(name) != "p-1" {
		t.Errorf("RequestID = %q, want p-1", srv.RequestID(name))
	}
	code, _ = do(t, ts, "POST", "/v1/spaces", `{"displayName":"x","space_type":"SPACE","spaceType":"SPACE"}`)
	if code != 400 {
		t.Errorf("a field under both names = %d, want 400", code)
	}
}
