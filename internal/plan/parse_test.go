package plan

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// problems parses src and returns its problems as strings (nil when valid).
func problems(t *testing.T, src string, opts Options) []string {
	t.Helper()
	cfg, err := Parse("f.yaml", []byte(src), opts)
	if err == nil {
		if cfg == nil {
			t.Fatalf("Parse(%q) = nil, nil", src)
		}
		return nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Parse(%q) error %T %v, want Problems", src, err, err)
	}
	if cfg != nil {
		t.Errorf("Parse(%q) returned a config with problems", src)
	}
	if got := strings.Join(toStrings(ps), "\n"); got != err.Error() {
		t.Errorf("Problems.Error() = %q, want lines %q", err.Error(), got)
	}
	return toStrings(ps)
}

func toStrings(ps Problems) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// one wraps a space's YAML lines (indented by four) in a minimal file.
func one(lines ...string) string {
	return "spaces:\n  - " + strings.Join(lines, "\n    ") + "\n"
}

func TestParseProblems(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 129)
	tests := []struct {
		name string
		yaml string
		opts Options
		want []string
	}{
		{"valid", one("displayName: a"), Options{}, nil},
		{"empty file", "", Options{}, []string{`f.yaml:1:1: empty file: expected a "spaces" list`}},
		{"only comments", "# nothing yet\n", Options{}, []string{`f.yaml:1:1: empty file: expected a "spaces" list`}},
		{"only a document marker", "---\n", Options{}, []string{`f.yaml:1:1: empty file: expected a "spaces" list`}},
		{"syntax error", "spaces:\n  - displayName: a\n    members: [\n", Options{},
			[]string{`f.yaml:3:14: invalid YAML: did not find expected node content`}},
		{"syntax error on the first line", "spaces: a: b\n", Options{},
			[]string{`f.yaml:1:10: invalid YAML: mapping values are not allowed in this context`}},
		{"tab indentation", "spaces:\n\t- displayName: a\n", Options{},
			[]string{`f.yaml:2:1: invalid YAML: found character that cannot start any token`}},
		{"control character", "spaces:\n  - displayName: a\x01\n", Options{},
			[]string{`f.yaml:2:19: control character U+0001 is not allowed in YAML`}},
		{"invalid UTF-8", "spaces:\n  - displayName: \xff\n", Options{},
			[]string{`f.yaml:2:18: the file is not valid UTF-8 (byte 0xff)`}},
		{"unknown anchor", "spaces:\n  - displayName: a\n    members: *team\n", Options{},
			[]string{`f.yaml:3:14: invalid YAML: unknown anchor 'team' referenced`}},
		{"two documents", one("displayName: a") + "---\n" + one("displayName: b"), Options{},
			[]string{`f.yaml:3:1: a second YAML document ("---"): the file must hold one document`}},
		{"top level is a list", "- displayName: a\n", Options{},
			[]string{`f.yaml:1:1: the file must be a mapping with a "spaces" list, not a list`}},
		{"top level is a string", "spaces\n", Options{},
			[]string{`f.yaml:1:1: the file must be a mapping with a "spaces" list, not a string`}},
		{"missing spaces", "defaults:\n  history: on\n", Options{},
			[]string{`f.yaml:1:1: missing "spaces" list`}},
		{"null spaces", "spaces:\n", Options{},
			[]string{`f.yaml:1:1: "spaces" is empty: list at least one space`}},
		{"empty spaces", "spaces: []\n", Options{},
			[]string{`f.yaml:1:9: "spaces" is empty: list at least one space`}},
		{"spaces is a mapping", "spaces:\n  displayName: a\n", Options{},
			[]string{`f.yaml:2:3: spaces must be a list, not a mapping`}},
		{"space is a string", "spaces:\n  - Platform\n", Options{},
			[]string{`f.yaml:2:5: each space must be a mapping with a displayName, not a string`}},
		{"unknown key, other case", one("displayname: a"), Options{},
			[]string{`f.yaml:2:5: unknown key "displayname" in space; did you mean "displayName"?`, `f.yaml:2:5: space has no displayName`}},
		{"unknown key, snake case", one("displayName: a", "external_users: true"), Options{},
			[]string{`f.yaml:3:5: unknown key "external_users" in space; did you mean "externalUsers"?`}},
		{"unknown key, typo", one("displayName: a", "descripton: b"), Options{},
			[]string{`f.yaml:3:5: unknown key "descripton" in space; did you mean "description"?`}},
		{"unknown key, singular", one("displayName: a", "member: [a@example.com]"), Options{},
			[]string{`f.yaml:3:5: unknown key "member" in space; did you mean "members"?`}},
		{"unknown key, far", one("displayName: a", "colour: red"), Options{},
			[]string{`f.yaml:3:5: unknown key "colour" in space (known keys: displayName, key, description, guidelines, history, externalUsers, audience, permissions, members, owners, managers, adopt, welcome)`}},
		{"unknown key, owner", one("displayName: a", "owner: [a@example.com]"), Options{},
			[]string{`f.yaml:3:5: unknown key "owner" in space; did you mean "owners"?`}},
		{"unknown key, manager", one("displayName: a", "manager: [a@example.com]"), Options{},
			[]string{`f.yaml:3:5: unknown key "manager" in space; did you mean "managers"?`}},
		{"unknown key, Adopt", "defaults:\n  Adopt: true\n" + one("displayName: a"), Options{},
			[]string{`f.yaml:2:3: unknown key "Adopt" in defaults; did you mean "adopt"?`}},
		{"unknown key, adpot", one("displayName: a", "adpot: true"), Options{},
			[]string{`f.yaml:3:5: unknown key "adpot" in space (known keys: displayName, key, description, guidelines, history, externalUsers, audience, permissions, members, owners, managers, adopt, welcome)`}},
		{"unknown top-level key", "space:\n  - displayName: a\n", Options{},
			[]string{`f.yaml:1:1: unknown key "space" at top level; did you mean "spaces"?`, `f.yaml:1:1: missing "spaces" list`}},
		{"unknown key in defaults", "defaults:\n  histroy: on\n" + one("displayName: a"), Options{},
			[]string{`f.yaml:2:3: unknown key "histroy" in defaults; did you mean "history"?`}},
		{"displayName in defaults", "defaults:\n  displayName: x\n" + one("displayName: a"), Options{},
			[]string{`f.yaml:2:3: displayName cannot be set in defaults: each space has its own`}},
		{"defaults is a list", "defaults: [a]\n" + one("displayName: a"), Options{},
			[]string{`f.yaml:1:11: defaults must be a mapping, not a list`}},
		{"merge key", "spaces:\n  - <<: {description: x}\n    displayName: a\n", Options{},
			[]string{`f.yaml:2:5: merge keys ("<<") are not supported; put shared settings under defaults`}},
		{"key is not a string", "spaces:\n  - displayName: a\n    ? [x]\n    : y\n", Options{},
			[]string{`f.yaml:3:7: a key in space must be a string, not a list`}},
		{"duplicate key in space", one("displayName: a", "description: x", "description: y"), Options{},
			[]string{`f.yaml:4:5: duplicate key "description" in space (first at line 3)`}},
		{"duplicate top-level key", one("displayName: a") + "spaces: []\n", Options{},
			[]string{`f.yaml:3:1: duplicate key "spaces" at top level (first at line 1)`}},
		{"missing displayName", one("description: x"), Options{},
			[]string{`f.yaml:2:5: space has no displayName`}},
		{"empty displayName", one(`displayName: ""`), Options{},
			[]string{`f.yaml:2:18: displayName is empty`}},
		{"null displayName", one(`displayName:`), Options{},
			[]string{`f.yaml:2:17: displayName is empty`}},
		{"blank displayName", one(`displayName: "  "`), Options{},
			[]string{`f.yaml:2:18: displayName is empty`}},
		{"displayName is a list", one(`displayName: [a]`), Options{},
			[]string{`f.yaml:2:18: displayName must be a string, not a list`}},
		{"displayName of 128 characters", one("displayName: " + long[2:]), Options{}, nil},
		{"displayName over 128 characters", one("displayName: " + long), Options{},
			[]string{`f.yaml:2:18: displayName is 129 characters, over the limit of 128: "` + strings.Repeat("é", 60) + `…"`}},
		{"same name, other case", one("displayName: Platform") + "  - displayName: platform\n", Options{},
			[]string{`f.yaml:3:18: displayName "platform" is already used by the space at line 2 ("Platform"): names that differ only in case, Unicode form or surrounding white space are the same space`}},
		{"same name, white space", one("displayName: Platform") + "  - displayName: \" Platform \"\n", Options{},
			[]string{`f.yaml:3:18: displayName "Platform" is already used by the space at line 2 ("Platform"): names that differ only in case, Unicode form or surrounding white space are the same space`}},
		{"description of 4096 characters", one("displayName: a", "description: "+strings.Repeat("d", 4096)), Options{}, nil},
		{"description over 4096 characters", one("displayName: a", "description: "+strings.Repeat("d", 4097)), Options{},
			[]string{`f.yaml:3:18: description is 4097 characters, over the limit of 4096: "` + strings.Repeat("d", 60) + `…"`}},
		{"guidelines over 5000 characters", one("displayName: a", "guidelines: "+strings.Repeat("g", 5001)), Options{},
			[]string{`f.yaml:3:17: guidelines is 5001 characters, over the limit of 5000: "` + strings.Repeat("g", 60) + `…"`}},
		{"description over the limit in defaults, reported once", "defaults:\n  description: " + strings.Repeat("d", 4097) + "\n" + one("displayName: a") + "  - displayName: b\n", Options{},
			[]string{`f.yaml:2:16: description is 4097 characters, over the limit of 4096: "` + strings.Repeat("d", 60) + `…"`}},
		{"description is a mapping", one("displayName: a", "description: {a: b}"), Options{},
			[]string{`f.yaml:3:18: description must be a string, not a mapping`}},
		{"history on, off, true, false", one("displayName: a", "history: on") + "  - {displayName: b, history: off}\n  - {displayName: c, history: true}\n  - {displayName: d, history: False}\n", Options{}, nil},
		{"history out of its set", one("displayName: a", "history: maybe"), Options{},
			[]string{`f.yaml:3:14: history must be "on" or "off", not "maybe"`}},
		{"history is a number", one("displayName: a", "history: 1"), Options{},
			[]string{`f.yaml:3:14: history must be "on" or "off", not "1"`}},
		{"externalUsers out of its set", one("displayName: a", "externalUsers: yes"), Options{},
			[]string{`f.yaml:3:20: externalUsers must be true or false, not "yes"`}},
		{"externalUsers quoted", one("displayName: a", `externalUsers: "true"`), Options{},
			[]string{`f.yaml:3:20: externalUsers must be true or false, not "true"`}},
		{"audience default and ID", one("displayName: a", "audience: default") + "  - {displayName: b, audience: audiences/abc123}\n", Options{}, nil},
		{"audience out of its set", one("displayName: a", "audience: everyone"), Options{},
			[]string{`f.yaml:3:15: audience must be "default" or "audiences/ID", not "everyone"`}},
		{"audience without ID", one("displayName: a", "audience: audiences/"), Options{},
			[]string{`f.yaml:3:15: audience must be "default" or "audiences/ID", not "audiences/"`}},
		{"audience under app auth", one("displayName: a", "audience: default"), Options{App: true},
			[]string{`f.yaml:3:15: audience "default": app authentication cannot set a target audience (it needs user authentication)`}},
		{"permissions out of its set", one("displayName: a", "permissions: open"), Options{},
			[]string{`f.yaml:3:18: permissions must be "collaboration" or "announcement", not "open"`}},
		{"members is a string", one("displayName: a", "members: a@example.com"), Options{},
			[]string{`f.yaml:3:14: members must be a list, not the string "a@example.com"`}},
		{"managers is a mapping", one("displayName: a", "managers: {a: b}"), Options{},
			[]string{`f.yaml:3:15: managers must be a list, not a mapping`}},
		{"member is a mapping", one("displayName: a", "members: [{email: a@example.com}]"), Options{},
			[]string{`f.yaml:3:15: each of members must be a string, not a mapping`}},
		{"member is not an email", one("displayName: a", "members: [bob]"), Options{},
			[]string{`f.yaml:3:15: member "bob" is not an email address, users/ID, groups/ID or group:EMAIL`}},
		{"email without a dot", one("displayName: a", "members: [bob@example]"), Options{},
			[]string{`f.yaml:3:15: member "bob@example" is not a valid email address: the domain has no dot`}},
		{"email with two @", one("displayName: a", "members: [bob@@example.com]"), Options{},
			[]string{`f.yaml:3:15: member "bob@@example.com" is not a valid email address: more than one @`}},
		{"email without local part", one("displayName: a", "members: ['@example.com']"), Options{},
			[]string{`f.yaml:3:15: member "@example.com" is not a valid email address: nothing before the @`}},
		{"email without domain", one("displayName: a", "members: [bob@]"), Options{},
			[]string{`f.yaml:3:15: member "bob@" is not a valid email address: no domain after the @`}},
		{"email with a space", one("displayName: a", "members: [bob smith@example.com]"), Options{},
			[]string{`f.yaml:3:15: member "bob smith@example.com" is not a valid email address: it contains a space or a character not allowed`}},
		{"email with an empty domain part", one("displayName: a", "members: [bob@example..com]"), Options{},
			[]string{`f.yaml:3:15: member "bob@example..com" is not a valid email address: the domain has an empty part`}},
		{"users/ without ID", one("displayName: a", "members: [users/]"), Options{},
			[]string{`f.yaml:3:15: member "users/" is not a valid resource name: nothing after users/`}},
		{"groups/ with a slash", one("displayName: a", "members: [groups/a/b]"), Options{},
			[]string{`f.yaml:3:15: member "groups/a/b" is not a valid resource name: the ID after groups/ may hold only letters, digits, "-", "_" and ".", not "/"`}},
		{"users/ with a bad email", one("displayName: a", "managers: [users/bob@example]"), Options{},
			[]string{`f.yaml:3:16: manager "users/bob@example" is not a valid email address: the domain has no dot`}},
		{"manager is a group", one("displayName: a", "managers: [groups/eng]"), Options{},
			[]string{`f.yaml:3:16: manager "groups/eng" is a Google Group: the Chat API cannot make a group a manager`}},
		{"owner is a group", one("displayName: a", "owners: [a@example.com, groups/eng]"), Options{},
			[]string{`f.yaml:3:29: owner "groups/eng" is a Google Group: the Chat API cannot make a group an owner`}},
		{"owner and manager are group:EMAIL", "defaults:\n  owners: [group:eng@example.com]\n" + one("displayName: a", "managers: [' group:ops@example.com']"), Options{},
			[]string{
				`f.yaml:2:12: owner "group:eng@example.com" is a Google Group: the Chat API cannot make a group an owner`,
				`f.yaml:5:16: manager " group:ops@example.com" is a Google Group: the Chat API cannot make a group a manager`,
			}},
		{"owner is not an email", one("displayName: a", "owners: [bob]"), Options{},
			[]string{`f.yaml:3:14: owner "bob" is not an email address, users/ID, groups/ID or group:EMAIL`}},
		{"owners is a string", one("displayName: a", "owners: a@example.com"), Options{},
			[]string{`f.yaml:3:13: owners must be a list, not the string "a@example.com"`}},
		{"owners and managers under app auth", one("displayName: a", "owners: [a@example.com]", "managers: [users/123]"), Options{App: true}, nil},
		{"owner and manager: reported at the manager", one("displayName: a", "owners: [alice@example.com]", "managers: [bob@example.com, Alice@Example.com]"), Options{},
			[]string{`f.yaml:4:33: manager "Alice@Example.com" is also listed as an owner (line 3): a person has one role`}},
		{"manager and owner: reported at the owner", one("displayName: a", "managers: [users/alice@example.com]", "owners:", "  - bob@example.com", "  - alice@example.com"), Options{},
			[]string{`f.yaml:6:9: owner "alice@example.com" is also listed as a manager (line 3): a person has one role`}},
		{"owner in defaults, manager in a space: reported in that space",
			"defaults:\n  owners: [alice@example.com]\n" + one("displayName: a", "managers: [alice@example.com]") + "  - displayName: b\n  - displayName: c\n    managers: [alice@example.com]\n", Options{},
			[]string{
				`f.yaml:5:16: manager "alice@example.com" is also listed as an owner (line 2): a person has one role`,
				`f.yaml:8:16: manager "alice@example.com" is also listed as an owner (line 2): a person has one role`,
			}},
		{"owner and manager in defaults: reported once",
			"defaults:\n  managers: [alice@example.com]\n  owners: [alice@example.com, alice@example.com]\n" + one("displayName: a") + "  - displayName: b\n", Options{},
			[]string{`f.yaml:3:12: owner "alice@example.com" is also listed as a manager (line 2): a person has one role`}},
		{"every person in both lists", one("displayName: a", "owners: [a@example.com, b@example.com]", "managers: [b@example.com, a@example.com]"), Options{},
			[]string{
				`f.yaml:4:16: manager "b@example.com" is also listed as an owner (line 3): a person has one role`,
				`f.yaml:4:31: manager "a@example.com" is also listed as an owner (line 3): a person has one role`,
			}},
		{"owner also a member: fine", one("displayName: a", "members: [a@example.com]", "owners: [a@example.com]"), Options{}, nil},
		{"adopt true and false", "defaults:\n  adopt: true\n" + one("displayName: a", "adopt: False"), Options{}, nil},
		{"adopt out of its set", one("displayName: a", "adopt: yes"), Options{},
			[]string{`f.yaml:3:12: adopt must be true or false, not "yes"`}},
		{"adopt is a list", one("displayName: a", "adopt: [true]"), Options{},
			[]string{`f.yaml:3:12: adopt must be true or false, not a list`}},
		{"group member under user auth", one("displayName: a", "members: [groups/eng]"), Options{}, nil},
		{"group member under app auth", one("displayName: a", "members: [groups/eng, a@example.com]"), Options{App: true},
			[]string{`f.yaml:3:15: member "groups/eng" is a Google Group: app authentication cannot add Google Groups`}},
		{"group in defaults under app auth, reported once", "defaults:\n  members: [groups/eng]\n" + one("displayName: a") + "  - displayName: b\n", Options{App: true},
			[]string{`f.yaml:2:13: member "groups/eng" is a Google Group: app authentication cannot add Google Groups`}},
		{"problem under an anchor reported once", "defaults:\n  members: &m [bob]\n" + one("displayName: a", "managers: *m") + "  - {displayName: b, members: *m}\n", Options{},
			[]string{`f.yaml:2:16: member "bob" is not an email address, users/ID, groups/ID or group:EMAIL`, `f.yaml:2:16: manager "bob" is not an email address, users/ID, groups/ID or group:EMAIL`}},
		{"permissions mapping", one("displayName: a", "permissions: {preset: Announcement, manageApps: Owners, replyMessages: members}"), Options{}, nil},
		{"permissions mapping under app auth", one("displayName: a", "permissions: {manageWebhooks: managers}"), Options{App: true}, nil},
		{"permissions is a list", one("displayName: a", "permissions: [collaboration]"), Options{},
			[]string{`f.yaml:3:18: permissions must be a preset ("collaboration" or "announcement") or a mapping of permissions, not a list`}},
		{"permissions: unknown key, typo", one("displayName: a", "permissions:", "  manageApp: owners"), Options{},
			[]string{`f.yaml:4:7: unknown key "manageApp" in permissions; did you mean "manageApps"?`}},
		{"permissions: unknown key, other case", one("displayName: a", "permissions:", "  ManageWebhooks: owners"), Options{},
			[]string{`f.yaml:4:7: unknown key "ManageWebhooks" in permissions; did you mean "manageWebhooks"?`}},
		{"permissions: unknown key, snake case", "defaults:\n  permissions:\n    toggle_history: owners\n" + one("displayName: a"), Options{},
			[]string{`f.yaml:3:5: unknown key "toggle_history" in permissions; did you mean "toggleHistory"?`}},
		{"permissions: unknown key, far", one("displayName: a", "permissions: {deleteSpace: owners}"), Options{},
			[]string{`f.yaml:3:19: unknown key "deleteSpace" in permissions (known keys: preset, manageMembersAndGroups, modifySpaceDetails, toggleHistory, useAtMentionAll, manageApps, manageWebhooks, replyMessages)`}},
		{"permissions: postMessages is output only", one("displayName: a", "permissions:", "  postMessages: members"), Options{},
			[]string{`f.yaml:4:7: permissions.postMessages cannot be set: the Chat API only reports it (output only)`}},
		{"permissions: bad values, every one", one("displayName: a", "permissions:", "  manageApps: everyone", "  toggleHistory: owner", "  useAtMentionAll: true", "  replyMessages: [owners]"), Options{},
			[]string{
				`f.yaml:4:19: permissions.manageApps must be "owners", "managers" or "members" (who may: owners only; owners and managers; everyone), not "everyone"`,
				`f.yaml:5:22: permissions.toggleHistory must be "owners", "managers" or "members" (who may: owners only; owners and managers; everyone), not "owner"`,
				`f.yaml:6:24: permissions.useAtMentionAll must be "owners", "managers" or "members" (who may: owners only; owners and managers; everyone), not "true"`,
				`f.yaml:7:22: replyMessages must be a string, not a list`,
			}},
		{"permissions: bad preset in a mapping", one("displayName: a", "permissions:", "  preset: open"), Options{},
			[]string{`f.yaml:4:15: permissions.preset must be "collaboration" or "announcement", not "open"`}},
		{"permissions: preset is a mapping", one("displayName: a", "permissions:", "  preset: {a: b}"), Options{},
			[]string{`f.yaml:4:15: permissions.preset must be a string, not a mapping`}},
		{"permissions: duplicate key", one("displayName: a", "permissions:", "  manageApps: owners", "  manageApps: members"), Options{},
			[]string{`f.yaml:5:7: duplicate key "manageApps" in permissions (first at line 4)`}},
		{"permissions: bad value in defaults, reported once", "defaults:\n  permissions: {manageApps: all}\n" + one("displayName: a") + "  - displayName: b\n", Options{},
			[]string{`f.yaml:2:29: permissions.manageApps must be "owners", "managers" or "members" (who may: owners only; owners and managers; everyone), not "all"`}},
		{"long value is cut", one("displayName: a", "permissions: "+strings.Repeat("x", 100)), Options{},
			[]string{`f.yaml:3:18: permissions must be "collaboration" or "announcement", not "` + strings.Repeat("x", 60) + `…"`}},
		{"every problem at once, sorted",
			"defaults:\n  history: maybe\nspaces:\n  - displayname: a\n  - displayName: b\n    members: [bob]\n    externalUsers: 3\n  - displayName: B\n  - 7\n",
			Options{},
			[]string{
				`f.yaml:2:12: history must be "on" or "off", not "maybe"`,
				`f.yaml:4:5: unknown key "displayname" in space; did you mean "displayName"?`,
				`f.yaml:4:5: space has no displayName`,
				`f.yaml:6:15: member "bob" is not an email address, users/ID, groups/ID or group:EMAIL`,
				`f.yaml:7:20: externalUsers must be true or false, not "3"`,
				`f.yaml:8:18: displayName "B" is already used by the space at line 5 ("b"): names that differ only in case, Unicode form or surrounding white space are the same space`,
				`f.yaml:9:5: each space must be a mapping with a displayName, not a number`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := problems(t, tt.yaml, tt.opts); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) problems:\n%s\nwant:\n%s", tt.yaml, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	on, off := true, false
	tests := []struct {
		name string
		yaml string
		want []Space
	}{
		{
			name: "defaults apply, spaces override scalars",
			yaml: `defaults:
  description: shared
  guidelines: be kind
  history: on
  externalUsers: true
  audience: default
  permissions: collaboration
spaces:
  - displayName: "  Platform  "
  - displayName: Sales
    description: ""
    history: false
    permissions: Announcement
    audience: audiences/sales
`,
			want: []Space{
				{DisplayName: "Platform", Description: "shared", Guidelines: "be kind", History: "on", ExternalUsers: &on, Audience: "default", Permissions: "collaboration", Line: 9, Col: 5,
					Settings: SettingsOf(map[string]string{"description": "shared", "guidelines": "be kind", "history": "on", "externalUsers": "true", "audience": "audiences/default", "permissions.preset": "collaboration"})},
				{DisplayName: "Sales", Description: "", Guidelines: "be kind", History: "off", ExternalUsers: &on, Audience: "audiences/sales", Permissions: "announcement", Line: 10, Col: 5,
					Settings: SettingsOf(map[string]string{"description": "", "guidelines": "be kind", "history": "off", "externalUsers": "true", "audience": "audiences/sales", "permissions.preset": "announcement"})},
			},
		},
		{
			name: "unset stays unset, null counts as unset",
			yaml: "defaults:\n  description: shared\nspaces:\n  - displayName: 2026\n    description:\n    externalUsers: false\n",
			want: []Space{{DisplayName: "2026", Description: "shared", ExternalUsers: &off, Line: 4, Col: 5,
				Settings: SettingsOf(map[string]string{"description": "shared", "externalUsers": "false"})}},
		},
		{
			name: "fine-grained permissions merged per key, the space's preset wins",
			yaml: `defaults:
  permissions:
    preset: announcement
    manageMembersAndGroups: Managers
    manageApps: owners
spaces:
  - displayName: a
    permissions:
      manageApps: members
      replyMessages: " OWNERS "
  - displayName: b
    permissions: collaboration
  - displayName: c
  - displayName: d
    permissions: {}
  - displayName: e
    permissions:
`,
			want: []Space{
				{DisplayName: "a", Line: 7, Col: 5, Permissions: "announcement",
					PermissionSettings: map[string]string{"manageMembersAndGroups": "managers", "manageApps": "members", "replyMessages": "owners"},
					Settings: SettingsOf(map[string]string{"permissions.preset": "announcement", "permissions.manageMembersAndGroups": "managers",
						"permissions.manageApps": "members", "permissions.replyMessages": "owners"})},
				{DisplayName: "b", Line: 11, Col: 5, Permissions: "collaboration",
					PermissionSettings: map[string]string{"manageMembersAndGroups": "managers", "manageApps": "owners"},
					Settings:           SettingsOf(map[string]string{"permissions.preset": "collaboration", "permissions.manageMembersAndGroups": "managers", "permissions.manageApps": "owners"})},
				{DisplayName: "c", Line: 13, Col: 5, Permissions: "announcement",
					PermissionSettings: map[string]string{"manageMembersAndGroups": "managers", "manageApps": "owners"},
					Settings:           SettingsOf(map[string]string{"permissions.preset": "announcement", "permissions.manageMembersAndGroups": "managers", "permissions.manageApps": "owners"})},
				{DisplayName: "d", Line: 14, Col: 5, Permissions: "announcement",
					PermissionSettings: map[string]string{"manageMembersAndGroups": "managers", "manageApps": "owners"},
					Settings:           SettingsOf(map[string]string{"permissions.preset": "announcement", "permissions.manageMembersAndGroups": "managers", "permissions.manageApps": "owners"})},
				{DisplayName: "e", Line: 16, Col: 5, Permissions: "announcement",
					PermissionSettings: map[string]string{"manageMembersAndGroups": "managers", "manageApps": "owners"},
					Settings:           SettingsOf(map[string]string{"permissions.preset": "announcement", "permissions.manageMembersAndGroups": "managers", "permissions.manageApps": "owners"})},
			},
		},
		{
			name: "a mapping without a preset, every key",
			yaml: `spaces:
  - displayName: a
    permissions:
      manageMembersAndGroups: owners
      modifySpaceDetails: managers
      toggleHistory: members
      useAtMentionAll: owners
      manageApps: managers
      manageWebhooks: members
      replyMessages: owners
`,
			want: []Space{{DisplayName: "a", Line: 2, Col: 5,
				PermissionSettings: map[string]string{"manageMembersAndGroups": "owners", "modifySpaceDetails": "managers", "toggleHistory": "members",
					"useAtMentionAll": "owners", "manageApps": "managers", "manageWebhooks": "members", "replyMessages": "owners"},
				Settings: SettingsOf(map[string]string{"permissions.manageMembersAndGroups": "owners", "permissions.modifySpaceDetails": "managers", "permissions.toggleHistory": "members",
					"permissions.useAtMentionAll": "owners", "permissions.manageApps": "managers", "permissions.manageWebhooks": "members", "permissions.replyMessages": "owners"})}},
		},
		{
			name: "settings stated: empty strings count, absent keys are absent, audience default named in full",
			yaml: "spaces:\n  - displayName: a\n    description: \"\"\n    guidelines: \"\"\n    audience: Default\n    history: off\n  - displayName: b\n    guidelines: g\n",
			want: []Space{
				{DisplayName: "a", Line: 2, Col: 5, History: "off", Audience: "default",
					Settings: SettingsOf(map[string]string{"description": "", "guidelines": "", "history": "off", "audience": "audiences/default"})},
				{DisplayName: "b", Line: 7, Col: 5, Guidelines: "g", Settings: SettingsOf(map[string]string{"guidelines": "g"})},
			},
		},
		{
			name: "members normalised, merged with defaults and de-duplicated",
			yaml: `defaults:
  members: [Lead@Example.com, groups/all]
spaces:
  - displayName: a
    members:
      - alice@example.com
      - ALICE@example.com
      - users/alice@EXAMPLE.com
      - users/123456789
      - users/123456789
      - lead@example.com
      - groups/Eng
      - " bob@example.com "
`,
			want: []Space{{DisplayName: "a", Line: 4, Col: 5, Members: []string{
				"users/lead@example.com", "groups/all", "users/alice@example.com", "users/123456789", "groups/Eng", "users/bob@example.com",
			}}},
		},
		{
			name: "managers become members, defaults' managers too",
			yaml: `defaults:
  members: [lead@example.com]
  managers: [boss@example.com]
spaces:
  - displayName: a
    members: [alice@example.com]
    managers: [carol@example.com, Alice@example.com, boss@example.com]
  - displayName: b
`,
			want: []Space{
				{DisplayName: "a", Line: 5, Col: 5,
					Members:  []string{"users/lead@example.com", "users/alice@example.com", "users/boss@example.com", "users/carol@example.com"},
					Managers: []string{"users/boss@example.com", "users/carol@example.com", "users/alice@example.com"}},
				{DisplayName: "b", Line: 8, Col: 5,
					Members:  []string{"users/lead@example.com", "users/boss@example.com"},
					Managers: []string{"users/boss@example.com"}},
			},
		},
		{
			name: "owners and managers become members, merged with defaults",
			yaml: `defaults:
  members: [lead@example.com]
  owners: [boss@example.com]
  managers: [deputy@example.com]
spaces:
  - displayName: a
    members: [alice@example.com]
    owners: [carol@example.com, Alice@example.com, boss@example.com]
    managers: [dan@example.com, users/123]
  - displayName: b
    owners: [carol@example.com]
`,
			want: []Space{
				{DisplayName: "a", Line: 6, Col: 5,
					Members: []string{"users/lead@example.com", "users/alice@example.com", "users/boss@example.com", "users/carol@example.com",
						"users/deputy@example.com", "users/dan@example.com", "users/123"},
					Owners:   []string{"users/boss@example.com", "users/carol@example.com", "users/alice@example.com"},
					Managers: []string{"users/deputy@example.com", "users/dan@example.com", "users/123"}},
				{DisplayName: "b", Line: 10, Col: 5,
					Members:  []string{"users/lead@example.com", "users/boss@example.com", "users/carol@example.com", "users/deputy@example.com"},
					Owners:   []string{"users/boss@example.com", "users/carol@example.com"},
					Managers: []string{"users/deputy@example.com"}},
			},
		},
		{
			name: "adopt from defaults, overridden per space",
			yaml: "defaults:\n  adopt: true\nspaces:\n  - displayName: a\n  - displayName: b\n    adopt: false\n  - {displayName: c, adopt: null}\n",
			want: []Space{
				{DisplayName: "a", Adopt: true, Line: 4, Col: 5},
				{DisplayName: "b", Line: 5, Col: 5},
				{DisplayName: "c", Adopt: true, Line: 7, Col: 5},
			},
		},
		{
			name: "adopt per space",
			yaml: "spaces:\n  - displayName: a\n    adopt: true\n  - displayName: b\n",
			want: []Space{
				{DisplayName: "a", Adopt: true, Line: 2, Col: 5},
				{DisplayName: "b", Line: 4, Col: 5},
			},
		},
		{
			name: "many members de-duplicated",
			yaml: "spaces:\n  - displayName: a\n    members: [" + strings.Repeat("x@example.com, y@example.com, ", 20) + "z@example.com]\n",
			want: []Space{{DisplayName: "a", Line: 2, Col: 5, Members: []string{"users/x@example.com", "users/y@example.com", "users/z@example.com"}}},
		},
		{
			name: "byte order mark and CRLF line ends",
			yaml: "\uFEFFspaces:\r\n  - displayName: a\r\n    members: [a@example.com]\r\n",
			want: []Space{{DisplayName: "a", Line: 2, Col: 5, Members: []string{"users/a@example.com"}}},
		},
		{
			name: "aliases are followed",
			yaml: `defaults:
  members: &team [alice@example.com]
spaces:
  - &base
    displayName: a
    managers: *team
  - displayName: b
    members: *team
`,
			want: []Space{
				{DisplayName: "a", Line: 4, Col: 5, Members: []string{"users/alice@example.com"}, Managers: []string{"users/alice@example.com"}},
				{DisplayName: "b", Line: 7, Col: 5, Members: []string{"users/alice@example.com"}},
			},
		},
		{
			name: "many owners de-duplicated",
			yaml: "spaces:\n  - displayName: a\n    owners: [" + strings.Repeat("x@example.com, y@example.com, ", 20) + "z@example.com]\n",
			want: []Space{{DisplayName: "a", Line: 2, Col: 5,
				Members: []string{"users/x@example.com", "users/y@example.com", "users/z@example.com"},
				Owners:  []string{"users/x@example.com", "users/y@example.com", "users/z@example.com"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Parse("f.yaml", []byte(tt.yaml), Options{})
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.yaml, err)
			}
			if cfg.File != "f.yaml" || cfg.App {
				t.Errorf("Parse(%q) = File %q, App %v; want %q, false", tt.yaml, cfg.File, cfg.App, "f.yaml")
			}
			for i := range tt.want {
				// Without key:, the key is the display name.
				if tt.want[i].Key == "" {
					tt.want[i].Key = tt.want[i].DisplayName
				}
			}
			if !reflect.DeepEqual(cfg.Spaces, tt.want) {
				t.Errorf("Parse(%q).Spaces =\n%+v\nwant\n%+v", tt.yaml, cfg.Spaces, tt.want)
			}
		})
	}
}

func TestParseApp(t *testing.T) {
	t.Parallel()
	for _, app := range []bool{false, true} {
		cfg, err := Parse("f.yaml", []byte(one("displayName: a")), Options{App: app})
		if err != nil {
			t.Fatalf("Parse(App: %v) = %v", app, err)
		}
		if cfg.App != app {
			t.Errorf("Parse(App: %v).App = %v, want %v", app, cfg.App, app)
		}
	}
}

func TestMember(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"alice@example.com", "users/alice@example.com", true},
		{"Alice.Smith+tag@Sub.Example.COM", "users/alice.smith+tag@sub.example.com", true},
		{"users/Alice@Example.com", "users/alice@example.com", true},
		{"users/1234567890", "users/1234567890", true},
		{"groups/0123abcd", "groups/0123abcd", true},
		{"alice", "", false},
		{"alice@example", "", false},
		{"a@b@example.com", "", false},
		{"groups/", "", false},
		{"users/a b", "", false},
		{"users/app", "", false},
		{"users/%2e%2e", "", false},
		{"users/..", "", false},
		{"groups/x?y=1", "", false},
		{"groups/a.b-c_d", "groups/a.b-c_d", true},
		{"users/me", "", false},
		{"users/-", "", false},
		{"a/b@c.com", "", false},
		{"a@b/c.com", "", false},
		{"x@y.com#f", "", false},
		{"group:a@b.com?x", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, why := Member(tt.in)
		if got != tt.want || (why == "") != tt.ok {
			t.Errorf("Member(%q) = %q, %q; want %q, ok %v", tt.in, got, why, tt.want, tt.ok)
		}
	}
}

func TestParseExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../spaces.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse("spaces.example.yaml", data, Options{})
	if err != nil {
		t.Fatalf("Parse(spaces.example.yaml) = %v", err)
	}
	big := 0
	for _, s := range cfg.Spaces {
		if len(s.Members) > 49 {
			big++
		}
		for _, m := range slices.Concat(s.Owners, s.Managers) {
			if !slices.Contains(s.Members, m) {
				t.Errorf("space %q: owner or manager %q is not a member", s.DisplayName, m)
			}
		}
	}
	if len(cfg.Spaces) < 6 || big != 1 {
		t.Errorf("spaces.example.yaml has %d spaces, %d over 49 members; want 6 or more, exactly 1", len(cfg.Spaces), big)
	}
}

// TestParseAliasBomb checks that aliases cannot make a small file cost
// quadratic (or exponential) work: the walk stops at a budget.
func TestParseAliasBomb(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("x: &m [")
	for i := range 3000 {
		fmt.Fprintf(&b, "u%d@example.com, ", i)
	}
	b.WriteString("]\nspaces:\n  - &s {displayName: a, members: *m}\n")
	for range 3000 {
		b.WriteString("  - *s\n")
	}
	_, err := Parse("f.yaml", []byte(b.String()), Options{})
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Parse(alias bomb) = %v, want Problems", err)
	}
	found := false
	for _, p := range ps {
		found = found || strings.Contains(p.Msg, "aliases expand")
	}
	if !found {
		t.Errorf("Parse(alias bomb) = %v, want a problem about aliases", err)
	}
}

// TestParseAliasToSpacesList checks that a space whose list aliases the
// spaces list itself is refused as it reads (a list of mappings, not of
// people), however many spaces were decoded before it: the list a later
// alias reaches is whole.
func TestParseAliasToSpacesList(t *testing.T) {
	t.Parallel()
	for _, field := range []string{"members", "owners", "managers"} {
		src := "spaces: &all\n  - displayName: A\n  - displayName: B\n    " + field + ": *all\n"
		cfg, err := Parse("f.yaml", []byte(src), Options{})
		if err == nil {
			t.Errorf("%s: *all: Parse = %d spaces (B has members %q, owners %q), want an error", field, len(cfg.Spaces), cfg.Spaces[1].Members, cfg.Spaces[1].Owners)
			continue
		}
		if !strings.Contains(err.Error(), "f.yaml:2:5: each of "+field+" must be a string, not a mapping") {
			t.Errorf("%s: *all: Parse = %v, want the first space reported as not a string", field, err)
		}
	}
}
