package chatemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// kind is the JSON type a request field must have.
type kind uint8

const (
	kString kind = iota
	kBool
	kObject // walked against ref
	kArray  // of objects, each walked against ref
	kAny    // an output-only object the real API ignores on input: accepted unread
)

// field describes one request field as the discovery document does.
type field struct {
	kind kind
	ref  string   // schema of an object, or of an array's items
	enum []string // the document's full enum, when the field has one
	// ignored marks output-only and identifier fields: the real API accepts
	// them in a request and ignores them, and so does the emulator.
	ignored bool
	// unsupported marks fields the document has but the emulator does not
	// model; a request that sets one is refused with UNIMPLEMENTED rather
	// than silently misbehaving.
	unsupported bool
}

// inputSchemas lists every field of every request body the emulator reads,
// copied from chat-api.json. Validation is exact (no case folding, unlike
// encoding/json), so a typo such as "displayname" is refused as the real API
// refuses it. fidelity_test.go checks this table against the document.
var inputSchemas = map[string]map[string]field{
	"Space": {
		"name":                         {kind: kString, ignored: true},
		"type":                         {kind: kString, enum: []string{"TYPE_UNSPECIFIED", "ROOM", "DM"}, ignored: true},
		"spaceType":                    {kind: kString, enum: []string{"SPACE_TYPE_UNSPECIFIED", "SPACE", "GROUP_CHAT", "DIRECT_MESSAGE"}},
		"singleUserBotDm":              {kind: kBool},
		"threaded":                     {kind: kBool, ignored: true},
		"displayName":                  {kind: kString},
		"externalUserAllowed":          {kind: kBool},
		"spaceThreadingState":          {kind: kString, enum: []string{"SPACE_THREADING_STATE_UNSPECIFIED", "THREADED_MESSAGES", "GROUPED_MESSAGES", "UNTHREADED_MESSAGES"}, ignored: true},
		"spaceDetails":                 {kind: kObject, ref: "SpaceDetails"},
		"spaceHistoryState":            {kind: kString, enum: []string{"HISTORY_STATE_UNSPECIFIED", "HISTORY_OFF", "HISTORY_ON"}},
		"importMode":                   {kind: kBool},
		"createTime":                   {kind: kString, ignored: true},
		"lastActiveTime":               {kind: kString, ignored: true},
		"adminInstalled":               {kind: kBool, ignored: true},
		"membershipCount":              {kind: kAny, ref: "MembershipCount", ignored: true},
		"accessSettings":               {kind: kObject, ref: "AccessSettings"},
		"spaceUri":                     {kind: kString, ignored: true},
		"predefinedPermissionSettings": {kind: kString, enum: []string{"PREDEFINED_PERMISSION_SETTINGS_UNSPECIFIED", "COLLABORATION_SPACE", "ANNOUNCEMENT_SPACE"}},
		"permissionSettings":           {kind: kAny, ref: "PermissionSettings", unsupported: true},
		"importModeExpireTime":         {kind: kString, ignored: true},
		"customer":                     {kind: kString},
	},
	"SpaceDetails": {
		"description": {kind: kString},
		"guidelines":  {kind: kString},
	},
	"AccessSettings": {
		"accessState":              {kind: kString, enum: []string{"ACCESS_STATE_UNSPECIFIED", "PRIVATE", "DISCOVERABLE"}, ignored: true},
		"audience":                 {kind: kString},
		"accessPermissionSettings": {kind: kAny, ref: "AccessPermissionSettings", unsupported: true},
	},
	"Membership": {
		"name":        {kind: kString, ignored: true},
		"state":       {kind: kString, enum: []string{"MEMBERSHIP_STATE_UNSPECIFIED", "JOINED", "INVITED", "NOT_A_MEMBER"}, ignored: true},
		"role":        {kind: kString, enum: []string{"MEMBERSHIP_ROLE_UNSPECIFIED", "ROLE_MEMBER", "ROLE_MANAGER", "ROLE_ASSISTANT_MANAGER"}},
		"member":      {kind: kObject, ref: "User"},
		"groupMember": {kind: kObject, ref: "Group"},
		"createTime":  {kind: kString, ignored: true},
		"deleteTime":  {kind: kString, ignored: true},
		"affiliation": {kind: kString, enum: []string{"AFFILIATION_UNSPECIFIED", "INTERNAL", "EXTERNAL", "MANAGED_EXTERNAL"}, ignored: true},
	},
	"User": {
		"name":        {kind: kString},
		"displayName": {kind: kString, ignored: true},
		"domainId":    {kind: kString, ignored: true},
		"type":        {kind: kString, enum: []string{"TYPE_UNSPECIFIED", "HUMAN", "BOT"}},
		"isAnonymous": {kind: kBool, ignored: true},
		"email":       {kind: kString, ignored: true},
		"avatarUrl":   {kind: kString, ignored: true},
	},
	"Group": {
		"name": {kind: kString},
	},
	"SetUpSpaceRequest": {
		"space":       {kind: kObject, ref: "Space"},
		"requestId":   {kind: kString},
		"memberships": {kind: kArray, ref: "Membership"},
	},
}

// decodeBody checks body against the schema named root, field by field, and
// then decodes it into v. An empty body is an empty object.
func decodeBody(body []byte, root string, v any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return newError(statusInvalidArgument, "Invalid JSON payload received. %s", jsonProblem(err))
	}
	if dec.More() {
		return newError(statusInvalidArgument, "Invalid JSON payload received. Unexpected token after the JSON value.")
	}
	if _, ok := tree.(map[string]any); !ok {
		return newError(statusInvalidArgument, "Invalid JSON payload received. Expected an object, got %s.", jsonType(tree))
	}
	if e := checkValue(tree, field{kind: kObject, ref: root}, ""); e != nil {
		return e
	}
	// The tree matched the schema, so only semantic checks remain; the
	// case-insensitive matching of encoding/json cannot bite here.
	if err := json.Unmarshal(body, v); err != nil {
		return newError(statusInvalidArgument, "Invalid JSON payload received. %s", jsonProblem(err))
	}
	return nil
}

// checkValue checks one JSON value against f. path names it as the real
// API's messages do ("space.spaceDetails").
func checkValue(v any, f field, path string) *apiError {
	if v == nil {
		return nil // null means unset in proto JSON
	}
	if f.unsupported {
		return newError(statusUnimplemented, "Field %q is in the Chat API but not modeled by the emulator.", path)
	}
	switch f.kind {
	case kAny:
		return nil
	case kString:
		s, ok := v.(string)
		if !ok {
			return newError(statusInvalidArgument, "Invalid value at %q (TYPE_STRING), %s", path, jsonType(v))
		}
		if f.enum != nil && !slices.Contains(f.enum, s) {
			return newError(statusInvalidArgument, "Invalid value at %q (TYPE_ENUM), %q", path, s)
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			return newError(statusInvalidArgument, "Invalid value at %q (TYPE_BOOL), %s", path, jsonType(v))
		}
	case kArray:
		items, ok := v.([]any)
		if !ok {
			return newError(statusInvalidArgument, "Invalid value at %q (type.googleapis.com/google.chat.v1.%s), %s", path, f.ref, jsonType(v))
		}
		for i, item := range items {
			if e := checkValue(item, field{kind: kObject, ref: f.ref}, fmt.Sprintf("%s[%d]", path, i)); e != nil {
				return e
			}
		}
	case kObject:
		obj, ok := v.(map[string]any)
		if !ok {
			return newError(statusInvalidArgument, "Invalid value at %q (type.googleapis.com/google.chat.v1.%s), %s", path, f.ref, jsonType(v))
		}
		schema := inputSchemas[f.ref]
		for name, child := range obj {
			cf, known := schema[name]
			if !known {
				at := ""
				if path != "" {
					at = fmt.Sprintf(" at '%s'", path)
				}
				return newError(statusInvalidArgument, "Invalid JSON payload received. Unknown name %q%s: Cannot find field.", name, at)
			}
			childPath := name
			if path != "" {
				childPath = path + "." + name
			}
			if e := checkValue(child, cf, childPath); e != nil {
				return e
			}
		}
	}
	return nil
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", v)
	case bool:
		return fmt.Sprint(v)
	case json.Number:
		return v.String()
	case []any:
		return "[...]"
	default:
		return "{...}"
	}
}

func jsonProblem(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

// standardParams are the query parameters every method of the discovery
// document accepts (its top-level "parameters").
var standardParams = []string{"$.xgafv", "access_token", "alt", "callback", "fields", "key", "oauth_token", "prettyPrint", "quotaUser", "uploadType", "upload_protocol"}
