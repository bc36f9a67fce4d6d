package chatemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
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
		"permissionSettings":           {kind: kObject, ref: "PermissionSettings"},
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
	"PermissionSettings": {
		"manageMembersAndGroups": {kind: kObject, ref: "PermissionSetting"},
		"modifySpaceDetails":     {kind: kObject, ref: "PermissionSetting"},
		"toggleHistory":          {kind: kObject, ref: "PermissionSetting"},
		"useAtMentionAll":        {kind: kObject, ref: "PermissionSetting"},
		"manageApps":             {kind: kObject, ref: "PermissionSetting"},
		"manageWebhooks":         {kind: kObject, ref: "PermissionSetting"},
		"replyMessages":          {kind: kObject, ref: "PermissionSetting"},
		"viewSpaceMembership":    {kind: kObject, ref: "PermissionSetting"},
		"postMessages":           {kind: kAny, ref: "PermissionSetting", ignored: true}, // output only (DD)
	},
	"PermissionSetting": {
		"managersAllowed":          {kind: kBool},
		"assistantManagersAllowed": {kind: kBool},
		"membersAllowed":           {kind: kBool},
	},
	"Message": {
		"text":                    {kind: kString},
		"fallbackText":            {kind: kString},
		"markupSyntax":            {kind: kString, enum: []string{"MARKUP_SYNTAX_UNSPECIFIED", "MARKUP_SYNTAX_CHAT", "MARKUP_SYNTAX_MARKDOWN"}}, // accepted; the text is stored as sent
		"name":                    {kind: kString, ignored: true},
		"clientAssignedMessageId": {kind: kString, ignored: true}, // set with the messageId parameter
		"createTime":              {kind: kString, ignored: true}, // input only in import mode
		"deleteTime":              {kind: kString, ignored: true},
		"lastUpdateTime":          {kind: kString, ignored: true},
		"argumentText":            {kind: kString, ignored: true},
		"formattedText":           {kind: kString, ignored: true},
		"silent":                  {kind: kBool, ignored: true},
		"threadReply":             {kind: kBool, ignored: true},
		"sender":                  {kind: kAny, ref: "User", ignored: true},
		"space":                   {kind: kAny, ref: "Space", ignored: true},
		"annotations":             {kind: kArray, ref: "Annotation", ignored: true},
		"attachedGifs":            {kind: kArray, ref: "AttachedGif", ignored: true},
		"emojiReactionSummaries":  {kind: kArray, ref: "EmojiReactionSummary", ignored: true},
		"deletionMetadata":        {kind: kAny, ref: "DeletionMetadata", ignored: true},
		"matchedUrl":              {kind: kAny, ref: "MatchedUrl", ignored: true},
		"slashCommand":            {kind: kAny, ref: "SlashCommand", ignored: true},
		"thread":                  {kind: kAny, ref: "Thread", unsupported: true},
		"cards":                   {kind: kArray, ref: "Card", unsupported: true},
		"cardsV2":                 {kind: kArray, ref: "CardWithId", unsupported: true},
		"accessoryWidgets":        {kind: kArray, ref: "AccessoryWidget", unsupported: true},
		"attachment":              {kind: kArray, ref: "Attachment", unsupported: true},
		"actionResponse":          {kind: kAny, ref: "ActionResponse", unsupported: true},
		"elements":                {kind: kAny, ref: "Elements", unsupported: true},
		"privateMessageViewer":    {kind: kAny, ref: "User", unsupported: true},
		"quotedMessageMetadata":   {kind: kAny, ref: "QuotedMessageMetadata", unsupported: true},
	},
	"SetUpSpaceRequest": {
		"space":       {kind: kObject, ref: "Space"},
		"requestId":   {kind: kString},
		"memberships": {kind: kArray, ref: "Membership"},
	},
}

// decodeBody checks body against the schema named root, field by field, and
// then decodes it into v. An empty body is an empty object. at is the field
// of the request message the body binds to ("space" for spaces.create, ""
// when the body is the whole request, as for spaces.setup): Google names
// places in its messages from there, in proto field names
// ("space.space_details").
//
// As proto3 JSON allows, a field may be sent under its proto name
// (display_name) as well as its JSON name (displayName); sending both is an
// error. Every unknown field and wrong value is reported at once, one line
// each, with a google.rpc.BadRequest listing them (Wire).
//
// It returns the body as a tree with JSON names, for echoes.
func decodeBody(body []byte, root, at string, v any) (map[string]any, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, newError(statusInvalidArgument, "Invalid JSON payload received. %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, newError(statusInvalidArgument, "Invalid JSON payload received. Unexpected token after the JSON value.")
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return nil, newError(statusInvalidArgument, "Invalid JSON payload received. Expected an object, got %s.", jsonType(tree))
	}
	var ck checker
	ck.value(obj, field{kind: kObject, ref: root}, at)
	if ck.unsupported != nil {
		return nil, ck.unsupported
	}
	if e := ck.err(); e != nil {
		return nil, e
	}
	// The tree matched the schema, so only semantic checks remain; the
	// case-insensitive matching of encoding/json cannot bite here.
	if ck.renamed {
		body, _ = json.Marshal(obj)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, newError(statusInvalidArgument, "Invalid JSON payload received. %s", jsonProblem(err))
	}
	return obj, nil
}

// violation is one entry of a google.rpc.BadRequest.
type violation struct {
	Field       string `json:"field,omitempty"`
	Description string `json:"description"`
}

// checker walks a request body, collecting what is wrong with it.
type checker struct {
	violations  []violation
	unsupported *apiError // the first field the emulator does not model
	renamed     bool      // a proto name was rewritten to its JSON name
}

func (ck *checker) add(path, format string, args ...any) {
	ck.violations = append(ck.violations, violation{Field: path, Description: fmt.Sprintf(format, args...)})
}

// err is the 400 for every violation found, nil if none.
func (ck *checker) err() *apiError {
	if len(ck.violations) == 0 {
		return nil
	}
	lines := make([]string, len(ck.violations))
	for i, v := range ck.violations {
		lines[i] = v.Description
	}
	e := newError(statusInvalidArgument, "%s", strings.Join(lines, "\n"))
	e.Details = []any{badRequest(ck.violations)}
	return e
}

func badRequest(vs []violation) map[string]any {
	return map[string]any{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": vs}
}

// at renders a place in Google's words: " at 'space.space_details'".
func at(path string) string {
	if path == "" {
		return ""
	}
	return " at '" + path + "'"
}

// value checks one JSON value against f. path names it as the real API's
// messages do ("space.space_details", "memberships[0]").
func (ck *checker) value(v any, f field, path string) {
	if v == nil {
		return // null means unset in proto JSON
	}
	if f.unsupported {
		if ck.unsupported == nil {
			ck.unsupported = newError(statusUnimplemented, "Field %q is in the Chat API but not modeled by the emulator.", path)
		}
		return
	}
	if f.ignored && (f.kind == kArray || f.kind == kObject) {
		return
	}
	switch f.kind {
	case kAny:
	case kString:
		s, ok := v.(string)
		switch {
		case !ok:
			ck.add(path, "Invalid value at '%s' (TYPE_STRING), %s", path, jsonType(v))
		case f.enum != nil && !slices.Contains(f.enum, s):
			ck.add(path, "Invalid value at '%s' (TYPE_ENUM), %q", path, s)
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			ck.add(path, "Invalid value at '%s' (TYPE_BOOL), %s", path, jsonType(v))
		}
	case kArray:
		items, ok := v.([]any)
		if !ok {
			ck.add(path, "Invalid value at '%s' (type.googleapis.com/google.chat.v1.%s), %s", path, f.ref, jsonType(v))
			return
		}
		for i, item := range items {
			ck.value(item, field{kind: kObject, ref: f.ref}, fmt.Sprintf("%s[%d]", path, i))
		}
	case kObject:
		obj, ok := v.(map[string]any)
		if !ok {
			ck.add(path, "Invalid value at '%s' (type.googleapis.com/google.chat.v1.%s), %s", path, f.ref, jsonType(v))
			return
		}
		schema := inputSchemas[f.ref]
		// Sorted, so that messages list fields in a stable order.
		for _, name := range slices.Sorted(maps.Keys(obj)) {
			jsonName, known := name, false
			if _, known = schema[name]; !known {
				jsonName, known = protoNames[f.ref][name]
				if known {
					if _, both := obj[jsonName]; both {
						ck.add(path, "Invalid JSON payload received. Field %q is set twice, as %q and as %q%s.", jsonName, jsonName, name, at(path))
						continue
					}
					obj[jsonName] = obj[name]
					delete(obj, name)
					ck.renamed = true
				}
			}
			if !known {
				ck.add(path, "Invalid JSON payload received. Unknown name %q%s: Cannot find field.", name, at(path))
				continue
			}
			childPath := snake(jsonName)
			if path != "" {
				childPath = path + "." + childPath
			}
			ck.value(obj[jsonName], schema[jsonName], childPath)
		}
	}
}

// protoNames maps, per schema, each field's proto name (display_name) to its
// JSON name (displayName), for the fields whose two names differ.
var protoNames = func() map[string]map[string]string {
	out := make(map[string]map[string]string, len(inputSchemas))
	for schema, fields := range inputSchemas {
		m := make(map[string]string)
		for name := range fields {
			if p := snake(name); p != name {
				m[p] = name
			}
		}
		out[schema] = m
	}
	return out
}()

// snake turns a JSON name into its proto name: spaceDetails → space_details.
func snake(name string) string {
	var b strings.Builder
	for i, r := range name {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
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
