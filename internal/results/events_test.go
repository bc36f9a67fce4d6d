package results

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"provision/internal/plan"
)

func ptr[T any](v T) *T { return &v }

func TestSettingsFlat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    *Settings
		flat map[string]string
	}{
		{"nil: recorded before settings were", nil, nil},
		{"empty: records settings, none stated", &Settings{}, map[string]string{}},
		{
			name: "every setting",
			s: &Settings{Description: ptr(""), Guidelines: ptr("be kind"), History: "off", Audience: "audiences/default", ExternalUsers: ptr(true),
				Permissions: map[string]string{"preset": "announcement", "manageApps": "owners", "replyMessages": "members"}},
			flat: map[string]string{"description": "", "guidelines": "be kind", "history": "off", "audience": "audiences/default", "externalUsers": "true",
				"permissions.preset": "announcement", "permissions.manageApps": "owners", "permissions.replyMessages": "members"},
		},
		{"externalUsers false", &Settings{ExternalUsers: ptr(false)}, map[string]string{"externalUsers": "false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.s.Flat()
			if !reflect.DeepEqual(got, tt.flat) || (got == nil) != (tt.flat == nil) {
				t.Errorf("%+v.Flat() = %#v, want %#v", tt.s, got, tt.flat)
			}
			back := SettingsOf(tt.flat)
			if !reflect.DeepEqual(back, tt.s) {
				t.Errorf("SettingsOf(%v) = %+v, want %+v", tt.flat, back, tt.s)
			}
			if err := checkFlat(got); err != nil {
				t.Errorf("checkFlat(%v) = %v, want nil", got, err)
			}
		})
	}
}

// TestSettingNames checks that this package and the planner name settings
// alike: the journal holds the planner's names.
func TestSettingNames(t *testing.T) {
	t.Parallel()
	if !slices.Equal(permissionKeys, plan.PermissionKeys) {
		t.Errorf("permissionKeys = %v, want plan.PermissionKeys %v", permissionKeys, plan.PermissionKeys)
	}
	names := map[string]string{
		settingDescription: plan.SetDescription, settingGuidelines: plan.SetGuidelines, settingHistory: plan.SetHistory,
		settingAudience: plan.SetAudience, settingExternalUsers: plan.SetExternalUsers, settingPermissions: plan.SetPermissionPrefix,
		settingPermissions + permissionPreset: plan.SetPreset,
	}
	for ours, theirs := range names {
		if ours != theirs {
			t.Errorf("setting %q is %q in the planner", ours, theirs)
		}
	}
	// Every setting a config can state can be recorded.
	cfg, err := plan.Parse("f.yaml", []byte(`spaces:
  - displayName: a
    description: d
    guidelines: g
    history: on
    audience: default
    externalUsers: true
    permissions: {preset: announcement, manageMembersAndGroups: owners, modifySpaceDetails: managers, toggleHistory: members,
      useAtMentionAll: owners, manageApps: managers, manageWebhooks: members, replyMessages: owners}
`), plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stated := cfg.Spaces[0].Settings.Map()
	if err := checkFlat(stated); err != nil {
		t.Errorf("checkFlat(%v) = %v, want nil", stated, err)
	}
	if got := SettingsOf(stated).Flat(); !maps.Equal(got, stated) {
		t.Errorf("SettingsOf(%v).Flat() = %v", stated, got)
	}
}

func TestCheckSetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value, want string // want "" for valid
	}{
		{"description", "", ""},
		{"guidelines", "anything", ""},
		{"history", "on", ""},
		{"history", "HISTORY_ON", `setting "history": "HISTORY_ON" is not one of "on", "off"`},
		{"audience", "audiences/default", ""},
		{"audience", "default", `setting "audience": "default" is not audiences/ID`},
		{"audience", "audiences/a/b", `setting "audience": "audiences/a/b" is not audiences/ID`},
		{"externalUsers", "false", ""},
		{"externalUsers", "no", `setting "externalUsers": "no" is not one of "true", "false"`},
		{"permissions.preset", "announcement", ""},
		{"permissions.preset", "open", `setting "permissions.preset": "open" is not one of "collaboration", "announcement"`},
		{"permissions.manageApps", "managers", ""},
		{"permissions.manageApps", "everyone", `setting "permissions.manageApps": "everyone" is not one of "owners", "managers", "members"`},
		{"permissions.postMessages", "owners", `unknown setting "permissions.postMessages"`},
		{"colour", "red", `unknown setting "colour"`},
	}
	for _, tt := range tests {
		err := checkSetting(tt.name, tt.value)
		if got := errString(err); got != tt.want {
			t.Errorf("checkSetting(%q, %q) = %q, want %q", tt.name, tt.value, got, tt.want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestRecordNewEvents(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	s := open(t, path, WithClock(fixedClock))
	const sp = "Team"
	deletedAt := epoch.Add(-time.Minute)
	events := []Event{
		{Space: sp, Entry: created("T")},
		{Space: sp, Settings: map[string]string{}},
		{Space: sp, Settings: map[string]string{"description": "d", "permissions.preset": "announcement", "history": "on"}},
		{Space: sp, Settings: map[string]string{"description": "d2", "guidelines": "", "permissions.manageApps": "owners", "externalUsers": "false"}},
		{Space: sp, Member: "users/alice@example.com", ID: "users/111"},
		{Space: sp, Member: "users/bob@example.com", ID: "users/222", Role: RoleOwner},
		{Space: sp, Member: "users/carol@example.com", Role: RoleManager},
		{Space: sp, Member: "users/dan@example.com"},
		{Space: sp, Member: "users/bob@example.com", Removed: true},
		{Space: sp, Member: "users/carol@example.com", Removed: true},
		{Space: sp, Member: "users/nobody@example.com", Removed: true},
		{Space: "Gone", Entry: created("G")},
		{Space: "Gone", Member: "users/alice@example.com"},
		{Space: "Gone", Deleted: &deletedAt},
		{Space: "Empty", Entry: created("E")},
		{Space: "Empty", Settings: map[string]string{}},
	}
	for _, ev := range events {
		record(t, s, ev)
	}
	want := created("T")
	want.Applied = &Applied{
		Members: []string{"users/alice@example.com", "users/dan@example.com"},
		IDs:     map[string]string{"users/alice@example.com": "users/111"},
		Settings: &Settings{Description: ptr("d2"), Guidelines: ptr(""), History: "on", ExternalUsers: ptr(false),
			Permissions: map[string]string{"preset": "announcement", "manageApps": "owners"}},
	}
	if got := s.Entry(sp); !reflect.DeepEqual(got, want) {
		t.Errorf("Entry(%q) = %+v (applied %+v), want %+v (applied %+v)", sp, got, got.Applied, want, want.Applied)
	}
	if got := s.Entry("Gone"); got != nil {
		t.Errorf("Entry(%q) = %+v after its deletion, want nil", "Gone", got)
	}
	gone := created("G")
	gone.Applied = &Applied{Members: []string{"users/alice@example.com"}}
	wantDeleted := []*Deleted{{DisplayName: "Gone", DeletedAt: deletedAt, Entry: gone}}
	snap := s.Snapshot()
	if !reflect.DeepEqual(snap.Deleted, wantDeleted) {
		t.Errorf("Snapshot().Deleted = %+v, want %+v", snap.Deleted, wantDeleted)
	}
	if e := s.Entry("Empty"); e.Applied == nil || e.Applied.Settings == nil || len(e.Applied.Settings.Flat()) != 0 {
		t.Errorf("Entry(%q).Applied = %+v, want empty settings recorded", "Empty", e.Applied)
	}

	// The journal replays to the same state, and so does the file.
	mid := copyState(t, path)
	if got, err := Load(mid); err != nil || !sameFile(got, withTime(snap, time.Time{})) {
		t.Errorf("Load(journal) = %v, %v; want the Snapshot", mustEncodeOrErr(t, got), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{
		`"settings": {}`,
		`"ids": {` + "\n" + `          "users/alice@example.com": "users/111"` + "\n" + `        },`,
		"\n  },\n  \"deleted\": [\n    {\n      \"displayName\": \"Gone\",\n      \"deletedAt\": \"2026-11-26T18:59:00Z\",\n      \"entry\": {\n        \"name\": \"spaces/G\",",
	} {
		if !strings.Contains(string(data), part) {
			t.Errorf("results file lacks %q:\n%s", part, data)
		}
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !sameFile(got, withTime(snap, epoch)) {
		t.Errorf("Load(%q) = %s, want %s", path, mustEncode(t, got), mustEncode(t, withTime(snap, epoch)))
	}
}

func withTime(f *File, t time.Time) *File {
	c := *f
	c.UpdatedAt = t
	return &c
}

func mustEncodeOrErr(t *testing.T, f *File) string {
	t.Helper()
	if f == nil {
		return "nil"
	}
	return mustEncode(t, f)
}

// TestReplayDeletions checks that replaying a journal of deletions over a
// file that holds some or all of its effect changes nothing, with a name
// deleted, created anew and deleted again.
func TestReplayDeletions(t *testing.T) {
	t.Parallel()
	t1, t2 := epoch.Add(-2*time.Hour), epoch.Add(-time.Hour)
	events := []Event{
		{Space: "X", Entry: created("X1")},
		{Space: "X", Settings: map[string]string{"history": "on"}},
		{Space: "X", Deleted: &t1},
		{Space: "X", Entry: created("X2")},
		{Space: "X", Member: "users/1"},
		{Space: "X", Deleted: &t2},
		{Space: "Y", Entry: created("Y")},
	}
	// Fold after every prefix of the journal, then replay it whole.
	var final *File
	for cut := 0; cut <= len(events); cut++ {
		st := newState(newFile())
		for i := range events[:cut] {
			st.apply(&events[i])
		}
		folded, err := encodeFile(st.snapshot())
		if err != nil {
			t.Fatal(err)
		}
		f, err := parse("r.json", folded)
		if err != nil {
			t.Fatalf("parse(fold after %d events) = %v\n%s", cut, err, folded)
		}
		st = newState(f)
		for i := range events {
			ev := events[i]
			if err := checkEvent(&ev); err != nil {
				t.Fatalf("checkEvent(%+v) = %v", ev, err)
			}
			st.apply(&ev)
		}
		got := st.snapshot()
		if final == nil {
			final = got
			continue
		}
		if !sameFile(got, final) {
			t.Errorf("replay over the fold after %d events = %s, want %s", cut, mustEncode(t, got), mustEncode(t, final))
		}
	}
	if len(final.Deleted) != 2 || final.Deleted[0].Entry.Name != "spaces/X1" || final.Deleted[1].Entry.Name != "spaces/X2" || final.Spaces["X"] != nil {
		t.Errorf("after replay: deleted %s, want X1 then X2, and no X", mustEncode(t, final))
	}
	if a := final.Deleted[0].Entry.Applied; a == nil || a.Settings == nil || a.Settings.History != "on" {
		t.Errorf("deleted X1 applied = %+v, want its settings kept", a)
	}
}

func TestRecordInvalidNewEvents(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.json")
	s := open(t, path)
	var zero time.Time
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{"settings and member", Event{Space: "A", Member: "users/1", Settings: map[string]string{"history": "on"}}, "exactly one of entry, member, manager, settings, deleted, welcome and displayName"},
		{"deleted and entry", Event{Space: "A", Entry: &Entry{Status: Failed}, Deleted: &epoch}, "exactly one of"},
		{"deleted without a time", Event{Space: "A", Deleted: &zero}, "deleted without a time"},
		{"bad setting", Event{Space: "A", Settings: map[string]string{"history": "yes"}}, `setting "history": "yes" is not one of "on", "off"`},
		{"unknown setting", Event{Space: "A", Settings: map[string]string{"name": "x"}}, `unknown setting "name"`},
		{"id without member", Event{Space: "A", Entry: &Entry{Status: Failed}, ID: "users/1"}, "id without a member"},
		{"bad id", Event{Space: "A", Member: "users/a@example.com", ID: "123"}, `ID "123" of "users/a@example.com" is not users/ID`},
		{"removed without member", Event{Space: "A", Settings: map[string]string{}, Removed: true}, "removed without a member"},
		{"removed with a role", Event{Space: "A", Member: "users/1", Removed: true, Role: RoleOwner}, "removed with a role or an id"},
		{"entry with bad settings", Event{Space: "A", Entry: &Entry{Status: Failed, Applied: &Applied{Settings: &Settings{History: "maybe"}}}}, `entry: applied settings: setting "history"`},
		{"entry with bad ids", Event{Space: "A", Entry: &Entry{Status: Failed, Applied: &Applied{IDs: map[string]string{"users/a@example.com": "groups/1"}}}}, `entry: applied ids: ID "groups/1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Record(tt.ev)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Record(%+v) = %v, want an error containing %q", tt.ev, err, tt.want)
			}
		})
	}
}

// TestRecordCopiesSettings checks that a caller may reuse its map and time.
func TestRecordCopiesSettings(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "r.json"), WithoutSync())
	record(t, s, Event{Space: "A", Entry: created("A")})
	m := map[string]string{"history": "on"}
	record(t, s, Event{Space: "A", Settings: m})
	m["history"] = "off"
	if got := s.Entry("A").Applied.Settings.History; got != "on" {
		t.Errorf("settings after the caller changed its map: history %q, want %q", got, "on")
	}
	at := epoch
	record(t, s, Event{Space: "A", Deleted: &at})
	at = at.Add(time.Hour)
	if got := s.Snapshot().Deleted[0].DeletedAt; !got.Equal(epoch) {
		t.Errorf("deletedAt after the caller changed its time = %v, want %v", got, epoch)
	}
}

func TestLoadDeletedSection(t *testing.T) {
	t.Parallel()
	const file = `{
  "version": 2,
  "spaces": {},
  "deleted": [
    {"displayName": "Old", "deletedAt": "2026-11-26T19:00:00Z", "entry": {"status": "created", "name": "spaces/OLD",
      "applied": {"settings": {"description": "d", "permissions": {"manageApps": "owners"}}, "ids": {"users/a@example.com": "users/1"}}}}
  ]
}
`
	dir := t.TempDir()
	got, err := Load(write(t, dir, "r.json", file))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if len(got.Deleted) != 1 || got.Deleted[0].Entry.Applied.Settings.Permissions["manageApps"] != "owners" {
		t.Errorf("Load = %s, want the deleted entry", mustEncode(t, got))
	}
	bad := []struct {
		name, deleted, want string
	}{
		{"not a list", `{}`, `line 4, column 14: deleted: not a list`},
		{"no time", `[{"displayName": "A", "entry": {"status": "created", "name": "spaces/A"}}]`, `line 4, column 15: deleted[0]: no deletedAt`},
		{"no entry", `[{"displayName": "A", "deletedAt": "2026-11-26T19:00:00Z"}]`, `deleted[0]: no entry`},
		{"no name", `[{"displayName": "A", "deletedAt": "2026-11-26T19:00:00Z", "entry": {"status": "failed"}}]`, `deleted[0]: an entry without a name`},
		{"no display name", `[{"deletedAt": "2026-11-26T19:00:00Z", "entry": {"status": "created", "name": "spaces/A"}}]`, `deleted[0]: no displayName`},
		{"null", `[null]`, `deleted[0]: null entry`},
		{"unknown field", `[{"displayName": "A", "why": "x"}]`, `deleted[0]: json: unknown field "why"`},
		{"bad settings", `[{"displayName": "A", "deletedAt": "2026-11-26T19:00:00Z", "entry": {"status": "created", "name": "spaces/A", "applied": {"settings": {"history": "yes"}}}}]`,
			`deleted[0]: entry: applied settings: setting "history": "yes" is not one of "on", "off"`},
	}
	for _, tt := range bad {
		data := "{\n  \"version\": 2,\n  \"spaces\": {},\n  \"deleted\": " + tt.deleted + "\n}\n"
		_, err := Load(write(t, dir, "bad.json", data))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Load(%s) = %v, want an error containing %q", tt.name, data, err, tt.want)
		}
	}
}
