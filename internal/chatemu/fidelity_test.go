package chatemu

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The discovery document, as the google.golang.org/api module in go.mod
// ships it: the authority on paths, fields and enums.
type discovery struct {
	Parameters map[string]docParam  `json:"parameters"`
	Schemas    map[string]docSchema `json:"schemas"`
	Resources  map[string]docResource
}

type docResource struct {
	Methods   map[string]docMethod   `json:"methods"`
	Resources map[string]docResource `json:"resources"`
}

type docMethod struct {
	ID         string              `json:"id"`
	HTTPMethod string              `json:"httpMethod"`
	FlatPath   string              `json:"flatPath"`
	Parameters map[string]docParam `json:"parameters"`
	Response   *struct {
		Ref string `json:"$ref"`
	} `json:"response"`
}

type docParam struct {
	Location string `json:"location"`
}

type docSchema struct {
	Type       string               `json:"type"`
	Ref        string               `json:"$ref"`
	Format     string               `json:"format"`
	Enum       []string             `json:"enum"`
	Properties map[string]docSchema `json:"properties"`
	Items      *docSchema           `json:"items"`
	// AdditionalProperties marks a free-form map (error details).
	AdditionalProperties any `json:"additionalProperties"`
}

// loadDiscovery reads the discovery document api/v1/api-api.json of the
// google.golang.org/api module.
func loadDiscovery(api string) (*discovery, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "google.golang.org/api").Output()
	if err != nil {
		return nil, fmt.Errorf("locating google.golang.org/api: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), api, "v1", api+"-api.json"))
	if err != nil {
		return nil, err
	}
	var d discovery
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("parsing %s-api.json: %w", api, err)
	}
	return &d, nil
}

var (
	loadDoc         = sync.OnceValues(func() (*discovery, error) { return loadDiscovery("chat") })
	loadIdentityDoc = sync.OnceValues(func() (*discovery, error) { return loadDiscovery("cloudidentity") })
)

func doc(t *testing.T) *discovery {
	t.Helper()
	d, err := loadDoc()
	if err != nil {
		t.Fatalf("loading the discovery document: %v", err)
	}
	return d
}

func (d *discovery) methods() map[string]docMethod {
	out := map[string]docMethod{}
	var walk func(map[string]docResource)
	walk = func(rs map[string]docResource) {
		for _, r := range rs {
			for _, m := range r.Methods {
				out[m.ID] = m
			}
			walk(r.Resources)
		}
	}
	walk(d.Resources)
	return out
}

// TestInputSchemasMatchDocument checks every field the emulator accepts
// against the document: same name, type and enum, and no field of the
// document left out of the table.
func TestInputSchemasMatchDocument(t *testing.T) {
	t.Parallel()
	d := doc(t)
	for name, fields := range inputSchemas {
		ds, ok := d.Schemas[name]
		if !ok {
			t.Errorf("schema %s: not in the document", name)
			continue
		}
		for f, spec := range fields {
			df, ok := ds.Properties[f]
			if !ok {
				t.Errorf("%s.%s: not in the document", name, f)
				continue
			}
			var want string
			switch spec.kind {
			case kString:
				want = "string"
			case kBool:
				want = "boolean"
			case kObject, kAny:
				want = "$" + spec.ref
			case kArray:
				want = "[]" + spec.ref
			}
			got := df.Type
			switch {
			case df.Ref != "":
				got = "$" + df.Ref
			case df.Type == "array" && df.Items != nil:
				got = "[]" + df.Items.Ref
			}
			if got != want {
				t.Errorf("%s.%s: type %s in the document, %s in the emulator", name, f, got, want)
			}
			if !slices.Equal(spec.enum, df.Enum) {
				t.Errorf("%s.%s: enum %v in the document, %v in the emulator", name, f, df.Enum, spec.enum)
			}
		}
		for f := range ds.Properties {
			if _, ok := fields[f]; !ok {
				t.Errorf("%s.%s: in the document but neither accepted nor refused by the emulator", name, f)
			}
		}
	}
}

// TestRoutesMatchDocument checks each endpoint's path, verb and query
// parameters against the document's method.
func TestRoutesMatchDocument(t *testing.T) {
	t.Parallel()
	d := doc(t)
	methods := d.methods()
	// groups.lookup is Cloud Identity's, served beside the Chat API.
	identity, err := loadIdentityDoc()
	if err != nil {
		t.Fatalf("loading Cloud Identity's discovery document: %v", err)
	}
	for id, m := range identity.methods() {
		methods["chat."+strings.TrimPrefix(id, "cloudidentity.")] = m
	}
	wild := regexp.MustCompile(`\{[^}]+\}`)
	for _, rt := range routes {
		m, ok := methods["chat."+rt.id]
		if !ok {
			t.Errorf("route %s: no method chat.%s in the document", rt.id, rt.id)
			continue
		}
		if rpcNames[rt.id] == "" {
			t.Errorf("route %s: no gRPC method name", rt.id)
		}
		if m.HTTPMethod != rt.verb || wild.ReplaceAllString(m.FlatPath, "*") != "v1/"+rt.path {
			t.Errorf("route %s: %s v1/%s, document says %s %s", rt.id, rt.verb, rt.path, m.HTTPMethod, m.FlatPath)
		}
		var query []string
		for p, spec := range m.Parameters {
			if spec.Location == "query" {
				query = append(query, p)
			}
		}
		sort.Strings(query)
		params := slices.Sorted(slices.Values(rt.params))
		if !slices.Equal(query, params) {
			t.Errorf("route %s: query parameters %v, document says %v", rt.id, params, query)
		}
	}
	var std []string
	for p := range d.Parameters {
		std = append(std, p)
	}
	sort.Strings(std)
	if !slices.Equal(std, slices.Sorted(slices.Values(standardParams))) {
		t.Errorf("standard parameters %v, document says %v", standardParams, std)
	}
}

// checkOutput walks a JSON value the emulator sent against the document's
// schema, reporting each field the document does not have, each value of
// the wrong type and each enum value outside the document.
func checkOutput(t *testing.T, d *discovery, where string, v any, s docSchema) {
	t.Helper()
	if s.Ref != "" {
		ref, ok := d.Schemas[s.Ref]
		if !ok {
			t.Errorf("%s: schema %s not in the document", where, s.Ref)
			return
		}
		s = ref
	}
	switch s.Type {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: %v is not an object", where, v)
			return
		}
		if s.AdditionalProperties != nil {
			return
		}
		for k, child := range obj {
			cs, ok := s.Properties[k]
			if !ok {
				t.Errorf("%s.%s: sent, but not in the document", where, k)
				continue
			}
			checkOutput(t, d, where+"."+k, child, cs)
		}
	case "array":
		items, ok := v.([]any)
		if !ok {
			t.Errorf("%s: %v is not an array", where, v)
			return
		}
		for i, it := range items {
			if s.Items != nil {
				checkOutput(t, d, fmt.Sprintf("%s[%d]", where, i), it, *s.Items)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			t.Errorf("%s: %v is not a string", where, v)
		} else if s.Enum != nil && !slices.Contains(s.Enum, str) {
			t.Errorf("%s: %q is not one of %v", where, str, s.Enum)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			t.Errorf("%s: %v is not a boolean", where, v)
		}
	case "integer":
		// int64 fields travel as strings in proto JSON (and the Go client
		// decodes them so), int32 ones as numbers.
		_, isNum := v.(float64)
		_, isStr := v.(string)
		if (s.Format == "int64" && !isStr) || (s.Format != "int64" && !isNum) {
			t.Errorf("%s: %v is not an integer of format %s", where, v, s.Format)
		}
	}
}

// TestResponsesMatchDocument drives every endpoint, successes and errors,
// and checks every field of every answer against the document.
func TestResponsesMatchDocument(t *testing.T) {
	t.Parallel()
	d := doc(t)
	methods := d.methods()
	srv := New(WithInvited("ext.example"), WithUnaddable("no@example.com"), WithAdmins(DefaultCaller), WithCreationLimit(0, 3), WithSpaceWriteRate(0))
	hidden, _ := srv.AddHiddenSpace("hidden")
	vars := map[string]string{"HIDDEN": hidden}
	steps := []struct{ method, path, body, save string }{
		{"POST", "/v1/spaces?requestId=r1", `{"displayName":"Full","spaceType":"SPACE","spaceDetails":{"description":"d","guidelines":"g"},"spaceHistoryState":"HISTORY_OFF","externalUserAllowed":true,"accessSettings":{"audience":"audiences/default"},"predefinedPermissionSettings":"ANNOUNCEMENT_SPACE","customer":"customers/my_customer"}`, "S"},
		{"POST", "/v1/spaces?requestId=r1", `{"displayName":"Full","spaceType":"SPACE"}`, ""},
		{"POST", "/v1/spaces", `{"displayName":"full","spaceType":"SPACE"}`, ""},
		{"POST", "/v1/spaces", `{"displayName":"x","spaceType":"SPACE","bogus":1}`, ""},
		{"POST", "/v1/spaces:setup", `{"requestId":"r2","space":{"displayName":"Set up","spaceType":"SPACE"},"memberships":[{"member":{"name":"users/a@example.com","type":"HUMAN"}},{"member":{"name":"users/b@ext.example"}},{"groupMember":{"name":"groups/g1"}},{"member":{"name":"users/no@example.com"}}]}`, "T"},
		{"GET", "/v1/spaces?pageSize=1", ``, ""},
		{"GET", `/v1/spaces?filter=spaceType+%3D+%22SPACE%22`, ``, ""},
		{"GET", "/v1/{S}", ``, ""},
		{"GET", "/v1/spaces/AAAAmissing", ``, ""},
		{"GET", "/v1/{HIDDEN}", ``, ""},
		{"POST", "/v1/{S}/members", `{"member":{"name":"users/c@example.com","type":"HUMAN"}}`, "M"},
		{"POST", "/v1/{S}/members", `{"member":{"name":"users/c@example.com","type":"HUMAN"}}`, ""},
		{"POST", "/v1/{S}/members", `{"groupMember":{"name":"groups/g2"}}`, ""},
		{"POST", "/v1/{S}/members", `{"member":{"name":"users/no@example.com"}}`, ""},
		{"GET", "/v1/{S}/members/c@example.com", ``, ""},
		{"GET", "/v1/{M}", ``, ""},
		{"PATCH", "/v1/{M}?updateMask=role", `{"role":"ROLE_MANAGER"}`, ""},
		{"GET", "/v1/{T}/members?showGroups=true&showInvited=true&pageSize=2", ``, ""},
		{"GET", "/v1/{T}/members", ``, ""},
		{"PATCH", "/v1/{S}?updateMask=space_details,display_name", `{"displayName":"Renamed","spaceDetails":{"description":"d2","guidelines":"g2"}}`, ""},
		{"PATCH", "/v1/{S}?updateMask=permission_settings.manageMembersAndGroups", `{"permissionSettings":{"manageMembersAndGroups":{"managersAllowed":true}}}`, ""},
		{"PATCH", "/v1/{S}?updateMask=space_history_state,display_name", `{"displayName":"x"}`, ""},
		{"GET", "/v1/{S}", ``, ""},
		{"GET", `/v1/spaces:search?useAdminAccess=true&query=customer+%3D+%22customers%2Fmy_customer%22+AND+space_type+%3D+%22SPACE%22&pageSize=1`, ``, ""},
		{"GET", `/v1/spaces:search?query=space_type+%3D+%22SPACE%22+AND+display_name%3A%22set%22`, ``, ""},
		{"POST", "/v1/{S}/messages?messageId=client-hello&requestId=m1", `{"text":"Hello"}`, ""},
		{"POST", "/v1/{S}/messages?messageId=client-hello&requestId=m1", `{"text":"Hello"}`, ""},
		{"POST", "/v1/{S}/messages?messageId=client-hello", `{"text":"Hello"}`, ""},
		{"DELETE", "/v1/{S}/members/c@example.com", ``, ""},
		{"GET", "/v1/{HIDDEN}?useAdminAccess=true", ``, ""},
		{"POST", "/v1/spaces", `{"displayName":"Over the limit","spaceType":"SPACE"}`, ""},
		{"DELETE", "/v1/{T}", ``, ""},
		{"GET", "/v1/{T}/members", ``, ""},
	}
	sawCode := map[int]bool{}
	for _, st := range steps {
		path := st.path
		for k, v := range vars {
			path = strings.ReplaceAll(path, "/{"+k+"}", "/"+v)
		}
		code, body := serveLocal(srv, st.method, path, st.body)
		sawCode[code] = true
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s %s: body %q: %v", st.method, path, body, err)
		}
		where := st.method + " " + path
		if code != 200 {
			e, ok := v["error"].(map[string]any)
			if len(v) != 1 || !ok {
				t.Errorf("%s: error body %v, want {\"error\":{…}}", where, v)
				continue
			}
			if e["status"] == "" || e["code"] != float64(code) {
				t.Errorf("%s: error %v, want code %d and a status", where, e, code)
			}
			delete(e, "status") // google.rpc.Status in JSON carries the word; the document's Status schema does not list it
			checkOutput(t, d, where+" error", e, docSchema{Ref: "Status"})
			continue
		}
		rt, _, _ := match(st.method, strings.SplitN(path, "?", 2)[0])
		m := methods["chat."+rt.id]
		checkOutput(t, d, where, v, docSchema{Ref: m.Response.Ref})
		if st.save != "" {
			vars[st.save], _ = v["name"].(string)
		}
	}
	for _, c := range []int{200, 400, 403, 404, 409, 429} {
		if !sawCode[c] {
			t.Errorf("the scenario never produced status %d", c)
		}
	}
}

// TestUnknownFieldsRejected sends, at every level of every request body the
// emulator reads, a field the document does not have and an enum value
// outside the document; each must be refused with 400 INVALID_ARGUMENT.
func TestUnknownFieldsRejected(t *testing.T) {
	t.Parallel()
	srv := New(WithSpaceQuota(0), WithMemberQuota(0), WithSpaceWriteRate(0))
	space, err := srv.AddSpace("target")
	if err != nil {
		t.Fatal(err)
	}
	// Where each schema sits in a request: the path to send it to, and how
	// to wrap an object of that schema into a body.
	type place struct {
		method, path string
		wrap         func(obj string) string
	}
	places := map[string]place{
		"SetUpSpaceRequest": {"POST", "/v1/spaces:setup", func(o string) string { return o }},
		"Space":             {"POST", "/v1/spaces", func(o string) string { return o }},
		"SpaceDetails":      {"POST", "/v1/spaces", func(o string) string { return `{"spaceDetails":` + o + `}` }},
		"AccessSettings":    {"POST", "/v1/spaces", func(o string) string { return `{"accessSettings":` + o + `}` }},
		"Membership":        {"POST", "/v1/" + space + "/members", func(o string) string { return o }},
		"User":              {"POST", "/v1/" + space + "/members", func(o string) string { return `{"member":` + o + `}` }},
		"Group":             {"POST", "/v1/" + space + "/members", func(o string) string { return `{"groupMember":` + o + `}` }},
		"PermissionSettings": {"PATCH", "/v1/" + space + "?updateMask=permission_settings.manageApps", func(o string) string {
			return `{"permissionSettings":` + o + `}`
		}},
		"PermissionSetting": {"PATCH", "/v1/" + space + "?updateMask=permission_settings.manageApps", func(o string) string {
			return `{"permissionSettings":{"manageApps":` + o + `}}`
		}},
		"Message": {"POST", "/v1/" + space + "/messages", func(o string) string { return o }},
	}
	for name, fields := range inputSchemas {
		p, ok := places[name]
		if !ok {
			t.Errorf("schema %s: no place to test it", name)
			continue
		}
		bodies := []string{p.wrap(`{"notInTheDocument":"x"}`)}
		for f, spec := range fields {
			if spec.enum != nil {
				bodies = append(bodies, p.wrap(fmt.Sprintf(`{%q:"NOT_AN_ENUM_VALUE"}`, f)))
			}
		}
		for _, body := range bodies {
			code, out := serveLocal(srv, p.method, p.path, body)
			if code != 400 || !strings.Contains(string(out), `"INVALID_ARGUMENT"`) {
				t.Errorf("%s %s %s = %d %s, want 400 INVALID_ARGUMENT", p.method, p.path, body, code, out)
			}
		}
	}
	if st := srv.Stats(); st.SpacesCreated != 0 || st.MembersAdded != 0 || st.SpacesPatched != 0 || st.MessagesCreated != 0 {
		t.Errorf("refused requests changed the state: %+v", st)
	}
}
