package results

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// write creates dir/name with content and returns its path.
func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// listDir returns the names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

const validFile = `{
  "version": 2,
  "updatedAt": "2026-11-26T19:00:00Z",
  "spaces": {
    "Onboarding 2026-Q1: Design": {
      "status": "pending",
      "requestId": "5e1d",
      "principal": "users/admin@example.com"
    },
    "Onboarding 2026-Q1: Platform": {
      "name": "spaces/AAAAbcdEfg",
      "id": "AAAAbcdEfg",
      "url": "https://chat.google.com/room/AAAAbcdEfg?cls=7",
      "status": "created",
      "requestId": "3f0c",
      "principal": "users/admin@example.com",
      "createdAt": "2026-11-26T19:00:00Z",
      "previous": "spaces/AAAAold",
      "members": {
        "added": 12,
        "failed": 0
      },
      "applied": {
        "members": [
          "users/alice@example.com",
          "users/bob@example.com"
        ],
        "owners": [
          "users/alice@example.com"
        ],
        "managers": [
          "users/bob@example.com"
        ]
      }
    },
    "Onboarding 2026-Q1: Sales": {
      "status": "failed",
      "error": "PERMISSION_DENIED: The caller does not have permission",
      "requestId": "77aa"
    }
  }
}
`

func TestLoadValid(t *testing.T) {
	t.Parallel()
	path := write(t, t.TempDir(), "r.json", validFile)
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%q) = %v, want no error", path, err)
	}
	created := time.Date(2026, 11, 26, 19, 0, 0, 0, time.UTC)
	want := &File{
		Version:   2,
		UpdatedAt: created,
		Spaces: map[string]*Entry{
			"Onboarding 2026-Q1: Design": {
				Status:    Pending,
				RequestID: "5e1d",
				Principal: "users/admin@example.com",
			},
			"Onboarding 2026-Q1: Platform": {
				Name:      "spaces/AAAAbcdEfg",
				ID:        "AAAAbcdEfg",
				URL:       "https://chat.google.com/room/AAAAbcdEfg?cls=7",
				Status:    Created,
				RequestID: "3f0c",
				Principal: "users/admin@example.com",
				CreatedAt: &created,
				Previous:  "spaces/AAAAold",
				Members:   &MemberStats{Added: 12},
				Applied: &Applied{
					Members:  []string{"users/alice@example.com", "users/bob@example.com"},
					Owners:   []string{"users/alice@example.com"},
					Managers: []string{"users/bob@example.com"},
				},
			},
			"Onboarding 2026-Q1: Sales": {
				Status:    Failed,
				Error:     "PERMISSION_DENIED: The caller does not have permission",
				RequestID: "77aa",
			},
		},
	}
	if !sameFile(got, want) {
		t.Errorf("Load(%q) = %s, want %s", path, mustEncode(t, got), mustEncode(t, want))
	}
	// What is read is written back byte for byte.
	if enc := mustEncode(t, got); enc != validFile {
		t.Errorf("encodeFile(Load(%q)) = %s, want %s", path, enc, validFile)
	}
}

// TestLoadVersion1 reads a file written by version 1, whose managers were
// made ROLE_MANAGER: they are owners now, and the file is written back as
// version 2.
func TestLoadVersion1(t *testing.T) {
	t.Parallel()
	const v1 = `{
  "version": 1,
  "updatedAt": "2026-11-26T19:00:00Z",
  "spaces": {
    "A": {
      "name": "spaces/A",
      "status": "created",
      "requestId": "r1",
      "applied": {
        "members": [
          "users/alice@example.com",
          "users/bob@example.com"
        ],
        "managers": [
          "users/alice@example.com",
          "users/carol@example.com"
        ]
      }
    },
    "B": {
      "status": "failed",
      "error": "interrupted before the outcome was recorded; the next run retries with the same requestId",
      "requestId": "r2"
    }
  }
}
`
	const v2 = `{
  "version": 2,
  "updatedAt": "2026-11-26T19:00:00Z",
  "spaces": {
    "A": {
      "name": "spaces/A",
      "status": "created",
      "requestId": "r1",
      "applied": {
        "members": [
          "users/alice@example.com",
          "users/bob@example.com",
          "users/carol@example.com"
        ],
        "owners": [
          "users/alice@example.com",
          "users/carol@example.com"
        ]
      }
    },
    "B": {
      "status": "failed",
      "error": "interrupted before the outcome was recorded; the next run retries with the same requestId",
      "requestId": "r2"
    }
  }
}
`
	path := write(t, t.TempDir(), "r.json", v1)
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load(version 1) = %v, want no error", err)
	}
	if enc := mustEncode(t, got); enc != v2 {
		t.Errorf("Load(version 1) =\n%s\nwant\n%s", enc, v2)
	}
	if data, _ := os.ReadFile(path); string(data) != v1 {
		t.Errorf("Load(version 1) changed the file:\n%s", data)
	}

	// The next run writes it back as version 2, applied managers as owners.
	s := open(t, path, WithClock(fixedClock), WithoutSync())
	record(t, s, Event{Space: "A", Member: "users/bob@example.com", Role: RoleManager})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(v2, `        "owners": [
          "users/alice@example.com",
          "users/carol@example.com"
        ]`, `        "owners": [
          "users/alice@example.com",
          "users/carol@example.com"
        ],
        "managers": [
          "users/bob@example.com"
        ]`, 1)
	if string(data) != want {
		t.Errorf("results file after a run over version 1 =\n%s\nwant\n%s", data, want)
	}
}

// sameFile compares two files, times by instant.
func sameFile(a, b *File) bool {
	if a.Version != b.Version || !a.UpdatedAt.Equal(b.UpdatedAt) || len(a.Spaces) != len(b.Spaces) || len(a.Deleted) != len(b.Deleted) {
		return false
	}
	for k, ea := range a.Spaces {
		eb, ok := b.Spaces[k]
		if !ok || !sameEntry(ea, eb) {
			return false
		}
	}
	for i, da := range a.Deleted {
		db := b.Deleted[i]
		if da.DisplayName != db.DisplayName || !da.DeletedAt.Equal(db.DeletedAt) || !sameEntry(da.Entry, db.Entry) {
			return false
		}
	}
	return true
}

// sameEntry compares two entries, times by instant.
func sameEntry(ea, eb *Entry) bool {
	ca, cb := ea.clone(), eb.clone()
	if (ca.CreatedAt == nil) != (cb.CreatedAt == nil) || ca.CreatedAt != nil && !ca.CreatedAt.Equal(*cb.CreatedAt) {
		return false
	}
	ca.CreatedAt, cb.CreatedAt = nil, nil
	return reflect.DeepEqual(ca, cb)
}

func mustEncode(t *testing.T, f *File) string {
	t.Helper()
	data, err := encodeFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestLoadMissing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "none.json")
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%q) = %v, want no error", path, err)
	}
	if got.Version != Version || got.Spaces == nil || len(got.Spaces) != 0 {
		t.Errorf("Load(%q) = %+v, want an empty file of the current version", path, got)
	}
	if names := listDir(t, dir); len(names) != 0 {
		t.Errorf("Load(%q) created %v, want nothing written", path, names)
	}
}

func TestLoadBad(t *testing.T) {
	t.Parallel()
	entry := func(body string) string {
		return "{\n  \"version\": 2,\n  \"spaces\": {\n    \"A\": " + body + "\n  }\n}\n"
	}
	tests := []struct {
		name    string
		content string
		want    []string // substrings of the error, besides the path
	}{
		{"empty", "", []string{"empty"}},
		{"blank", " \n\t\n", []string{"empty"}},
		{"not json", "hello\n", []string{"line 1, column 1", "invalid character 'h'"}},
		{"truncated", "{\"version\": 1, \"spaces\": {", []string{"unexpected end of JSON input"}},
		{"trailing garbage", "{\"version\": 1, \"spaces\": {}}\nxyz\n", []string{"line 2", "after top-level value"}},
		{"two objects", "{\"version\": 1}{\"version\": 1}", []string{"after top-level value"}},
		{"array", "[]", []string{"not a JSON object"}},
		{"string", "\"results\"", []string{"not a JSON object"}},
		{"missing version", "{\"spaces\": {}}", []string{"missing version"}},
		{"unknown version", "{\n  \"version\": 3,\n  \"spaces\": {}\n}", []string{"line 2, column 14", "unsupported version 3 (this program reads versions 1 to 2)"}},
		{"version zero", "{\"version\": 0}", []string{"unsupported version 0"}},
		{"version string", "{\"version\": \"1\"}", []string{"version: json: cannot unmarshal string"}},
		{"version float", "{\"version\": 1.5}", []string{"version: json: cannot unmarshal number 1.5"}},
		{"unknown field", "{\"version\": 1, \"extra\": true}", []string{"unknown field \"extra\""}},
		{"duplicate key", "{\"version\": 1, \"version\": 1}", []string{"duplicate key \"version\""}},
		{"bad updatedAt", "{\"version\": 1, \"updatedAt\": \"yesterday\"}", []string{"updatedAt:", "yesterday"}},
		{"spaces array", "{\"version\": 1, \"spaces\": []}", []string{"spaces: not an object"}},
		{"duplicate space", "{\"version\": 1, \"spaces\": {\"A\": {\"status\": \"failed\"},\n\"A\": {\"status\": \"failed\"}}}", []string{"line 2", "spaces: duplicate key \"A\""}},
		{"null entry", entry("null"), []string{"line 4, column 10", "spaces[\"A\"]: null entry"}},
		{"number entry", entry("5"), []string{"spaces[\"A\"]", "cannot unmarshal number"}},
		{"unknown status", entry("{\"status\": \"done\"}"), []string{"line 4", `spaces["A"]: unknown status "done" (want "created", "existing", "failed", "pending" or "unreachable")`}},
		{"missing status", entry("{\"requestId\": \"r\"}"), []string{"spaces[\"A\"]: missing status"}},
		{"created without name", entry("{\"status\": \"created\"}"), []string{"status \"created\" without a name"}},
		{"bad name", entry("{\"status\": \"existing\", \"name\": \"rooms/X\"}"), []string{"name \"rooms/X\" is not spaces/ID"}},
		{"id mismatch", entry("{\"status\": \"created\", \"name\": \"spaces/X\", \"id\": \"Y\"}"), []string{"id \"Y\" does not match name \"spaces/X\""}},
		{"unknown entry field", entry("{\"status\": \"failed\", \"colour\": \"red\"}"), []string{"spaces[\"A\"]", "unknown field \"colour\""}},
		{"wrong type in entry", entry("{\"status\": \"failed\",\n      \"members\": {\"added\": \"x\"}}"), []string{"line 5", "spaces[\"A\"]", "cannot unmarshal string"}},
		{"empty applied member", entry("{\"status\": \"failed\", \"applied\": {\"members\": [\"\"]}}"), []string{"empty name in applied members"}},
		{"empty applied owner", entry("{\"status\": \"failed\", \"applied\": {\"owners\": [\"\"]}}"), []string{"empty name in applied owners"}},
		{"owner and manager",
			entry("{\"status\": \"created\", \"name\": \"spaces/A\",\n      \"applied\": {\"members\": [\"users/a\"], \"owners\": [\"users/a\"], \"managers\": [\"users/a\"]}}"),
			[]string{"line 4, column 10", `spaces["A"]: "users/a" is both an applied owner and an applied manager: a person has one role`}},
		{"pending without requestId", entry("{\"status\": \"pending\", \"name\": \"spaces/A\"}"), []string{"line 4", `status "pending" without a requestId`}},
		{"bad previous", entry("{\"status\": \"failed\", \"previous\": \"A\"}"), []string{`previous "A" is not spaces/ID`}},
		{"owners in version 1",
			"{\"version\": 1, \"spaces\": {\"A\": {\"status\": \"failed\", \"applied\": {\"owners\": [\"users/a\"]}}}}",
			[]string{"line 1, column 32", `spaces["A"]: applied owners in a version 1 file, where "managers" meant owners`}},
		{"version after spaces",
			"{\"spaces\": {\"A\": {\"status\": \"failed\", \"applied\": {\"owners\": [\"users/a\"]}}}, \"version\": 1}",
			[]string{"line 1, column 18", `applied owners in a version 1 file`}},
		{"entry trailing data", entry("{\"status\": \"failed\"} 3"), []string{"invalid character '3'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := write(t, t.TempDir(), "r.json", tt.content)
			got, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%q) = %+v, want an error", tt.content, got)
			}
			t.Log(err)
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load(%q) = %v, want an error containing %q", tt.content, err, w)
				}
			}
		})
	}
}

func TestLoadUnreadable(t *testing.T) {
	t.Parallel()
	for _, suffix := range []string{"", ".journal"} {
		t.Run("dir"+suffix, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "r.json")
			if err := os.Mkdir(path+suffix, 0o755); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), path+suffix) {
				t.Errorf("Load(%q) with a directory at %q = %v, want an error naming it", path, path+suffix, err)
			}
		})
	}
}

func TestLoadJournal(t *testing.T) {
	t.Parallel()
	const results = `{"version": 2, "spaces": {"A": {"status": "created", "name": "spaces/A", "applied": {"members": ["users/1"]}}}}`
	tests := []struct {
		name    string
		journal string
		want    map[string]*Entry
		wantErr []string // substrings of the error, besides the journal's path
	}{
		{
			name:    "empty",
			journal: "",
			want:    map[string]*Entry{"A": {Status: Created, Name: "spaces/A", Applied: &Applied{Members: []string{"users/1"}}}},
		},
		{
			name: "replayed",
			journal: `{"space":"B","entry":{"status":"created","name":"spaces/B","id":"B"}}
{"space":"A","member":"users/2"}
{"space":"A","member":"users/1"}
{"space":"A","member":"users/3","role":"manager"}
{"space":"A","member":"users/4","role":"owner"}
`,
			want: map[string]*Entry{
				"A": {Status: Created, Name: "spaces/A", Applied: &Applied{Members: []string{"users/1", "users/2", "users/3", "users/4"},
					Owners: []string{"users/4"}, Managers: []string{"users/3"}}},
				"B": {Status: Created, Name: "spaces/B", ID: "B"},
			},
		},
		{
			name: "version 2: managers are managers",
			journal: `{"version":2}
{"space":"B","entry":{"status":"created","name":"spaces/B","applied":{"members":["users/2","users/3"],"owners":["users/2"],"managers":["users/3"]}}}
{"space":"A","member":"users/2","role":"manager"}
`,
			want: map[string]*Entry{
				"A": {Status: Created, Name: "spaces/A", Applied: &Applied{Members: []string{"users/1", "users/2"}, Managers: []string{"users/2"}}},
				"B": {Status: Created, Name: "spaces/B", Applied: &Applied{Members: []string{"users/2", "users/3"}, Owners: []string{"users/2"}, Managers: []string{"users/3"}}},
			},
		},
		{
			name: "version 1 (no header): managers of entries are owners",
			journal: `{"space":"B","entry":{"status":"created","name":"spaces/B","applied":{"members":["users/2"],"managers":["users/2","users/3"]}}}
{"space":"B","member":"users/4"}
{"space":"B","manager":"users/4"}
`,
			want: map[string]*Entry{
				"A": {Status: Created, Name: "spaces/A", Applied: &Applied{Members: []string{"users/1"}}},
				"B": {Status: Created, Name: "spaces/B", Applied: &Applied{Members: []string{"users/2", "users/3", "users/4"}, Owners: []string{"users/2", "users/3", "users/4"}}},
			},
		},
		{
			name:    "only a header",
			journal: `{"version":2}` + "\n",
			want:    map[string]*Entry{"A": {Status: Created, Name: "spaces/A", Applied: &Applied{Members: []string{"users/1"}}}},
		},
		{
			name:    "torn header",
			journal: `{"version":`,
			want:    map[string]*Entry{"A": {Status: Created, Name: "spaces/A", Applied: &Applied{Members: []string{"users/1"}}}},
		},
		{
			name: "legacy manager event means owner",
			journal: `{"space":"A","member":"users/2"}
{"space":"A","manager":"users/2"}
{"space":"A","manager":"users/3"}
{"space":"A","manager":"users/3"}
`,
			want: map[string]*Entry{
				"A": {Status: Created, Name: "spaces/A", Applied: &Applied{Members: []string{"users/1", "users/2", "users/3"},
					Owners: []string{"users/2", "users/3"}}},
			},
		},
		{
			name: "roles move, both ways",
			journal: `{"space":"A","member":"users/2","role":"owner"}
{"space":"A","member":"users/3","role":"owner"}
{"space":"A","member":"users/4","role":"manager"}
{"space":"A","member":"users/2","role":"manager"}
{"space":"A","member":"users/4","role":"owner"}
{"space":"A","member":"users/3","role":"member"}
{"space":"A","member":"users/1","role":"member"}
{"space":"A","member":"users/4","role":"owner"}
`,
			want: map[string]*Entry{
				"A": {Status: Created, Name: "spaces/A", Applied: &Applied{Members: []string{"users/1", "users/2", "users/3", "users/4"},
					Owners: []string{"users/4"}, Managers: []string{"users/2"}}},
			},
		},
		{
			name: "every role taken away: no lists left",
			journal: `{"space":"A","member":"users/2","role":"owner"}
{"space":"A","member":"users/3","role":"manager"}
{"space":"A","member":"users/2","role":"member"}
{"space":"A","member":"users/3","role":"member"}
`,
			want: map[string]*Entry{
				"A": {Status: Created, Name: "spaces/A", Applied: &Applied{Members: []string{"users/1", "users/2", "users/3"}}},
			},
		},
		{
			name: "torn last line",
			journal: `{"space":"B","entry":{"status":"failed","requestId":"r"}}
{"space":"C","ent`,
			want: map[string]*Entry{
				"A": {Status: Created, Name: "spaces/A", Applied: &Applied{Members: []string{"users/1"}}},
				"B": {Status: Failed, RequestID: "r"},
			},
		},
		{
			name:    "torn zeros",
			journal: "{\"space\":\"A\",\"member\":\"users/3\"}\n\x00\x00\x00",
			want:    map[string]*Entry{"A": {Status: Created, Name: "spaces/A", Applied: &Applied{Members: []string{"users/1", "users/3"}}}},
		},
		{
			name:    "entry replaced",
			journal: `{"space":"A","entry":{"status":"existing","name":"spaces/A2"}}` + "\n",
			want:    map[string]*Entry{"A": {Status: Existing, Name: "spaces/A2"}},
		},
		{
			name: "pending, and an entry left without a status",
			journal: `{"space":"P","entry":{"status":"pending","requestId":"r0","principal":"users/me@example.com"}}
{"space":"P2","entry":{"status":"","requestId":"r1"}}
{"space":"P3","entry":{"status":"pending","requestId":"r2","name":"spaces/P3"}}
{"space":"P3","member":"users/5"}
{"space":"Q","member":"users/9"}
`,
			want: map[string]*Entry{
				"A":  {Status: Created, Name: "spaces/A", Applied: &Applied{Members: []string{"users/1"}}},
				"P":  {Status: Pending, RequestID: "r0", Principal: "users/me@example.com"},
				"P2": {Status: Pending, RequestID: "r1"},
				"P3": {Status: Pending, RequestID: "r2", Name: "spaces/P3", Applied: &Applied{Members: []string{"users/5"}}},
				"Q":  {Status: Failed, Error: interrupted, Applied: &Applied{Members: []string{"users/9"}}},
			},
		},
		{
			name: "corrupt middle line",
			journal: `{"space":"B","entry":{"status":"failed"}}
{"space":"C",
{"space":"A","member":"users/2"}
`,
			wantErr: []string{"line 2"},
		},
		{
			name:    "corrupt complete last line",
			journal: "{\"space\":\"A\",\"member\":\"users/2\"}\nnot json\n",
			wantErr: []string{"line 2", "invalid character"},
		},
		{
			name:    "unknown field",
			journal: `{"space":"A","member":"users/2","colour":"red"}` + "\n",
			wantErr: []string{"line 1", "unknown field \"colour\""},
		},
		{
			name:    "two kinds",
			journal: `{"space":"A","member":"users/2","manager":"users/2"}` + "\n",
			wantErr: []string{"line 1", "exactly one of"},
		},
		{
			name:    "unknown role",
			journal: `{"space":"A","member":"users/2"}` + "\n" + `{"space":"A","member":"users/2","role":"ROLE_MANAGER"}` + "\n",
			wantErr: []string{"line 2", `unknown role "ROLE_MANAGER" (want "owner", "manager" or "member")`},
		},
		{
			name:    "role with a legacy manager",
			journal: `{"space":"A","manager":"users/2","role":"manager"}` + "\n",
			wantErr: []string{"line 1", "role without a member"},
		},
		{
			name:    "role alone",
			journal: `{"space":"A","role":"owner"}` + "\n",
			wantErr: []string{"line 1", "exactly one of"},
		},
		{
			name:    "pending entry without requestId",
			journal: `{"space":"A","entry":{"status":"pending"}}` + "\n",
			wantErr: []string{"line 1", `entry: status "pending" without a requestId`},
		},
		{
			name:    "header not first",
			journal: `{"space":"A","member":"users/2"}` + "\n" + `{"version":2}` + "\n",
			wantErr: []string{"line 2", `unknown field "version"`},
		},
		{
			name:    "header of an unknown version",
			journal: `{"version":3}` + "\n" + `{"space":"A","member":"users/2"}` + "\n",
			wantErr: []string{"line 1", "unsupported version 3 (this program reads journals of versions 1 and 2)"},
		},
		{
			name:    "version 1 entry with owners",
			journal: `{"space":"A","entry":{"status":"failed","applied":{"owners":["users/2"]}}}` + "\n",
			wantErr: []string{"line 1", `entry: applied owners in a version 1 file`},
		},
		{
			name:    "no space",
			journal: `{"member":"users/2"}` + "\n",
			wantErr: []string{"line 1", "without a space"},
		},
		{
			name:    "null line",
			journal: "null\n",
			wantErr: []string{"line 1", "without a space"},
		},
		{
			name:    "invalid entry",
			journal: "\n" + `{"space":"A","entry":{"status":"created"}}` + "\n",
			wantErr: []string{"line 2", "without a name"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := write(t, dir, "r.json", results)
			jpath := write(t, dir, "r.json.journal", tt.journal)
			got, err := Load(path)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Load with journal %q = %+v, want an error", tt.journal, got)
				}
				for _, w := range append(tt.wantErr, jpath) {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("Load with journal %q = %v, want an error containing %q", tt.journal, err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Load with journal %q = %v, want no error", tt.journal, err)
			}
			want := &File{Version: Version, Spaces: tt.want}
			if !sameFile(got, want) {
				t.Errorf("Load with journal %q = %s, want %s", tt.journal, mustEncode(t, got), mustEncode(t, want))
			}
			// Load never writes: the torn tail is still there.
			if data, _ := os.ReadFile(jpath); string(data) != tt.journal {
				t.Errorf("after Load, journal = %q, want it untouched (%q)", data, tt.journal)
			}
		})
	}
}

func TestLoadJournalWithoutFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	write(t, dir, "r.json.journal", `{"space":"B","entry":{"status":"created","name":"spaces/B"}}`+"\n")
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%q) = %v, want no error", path, err)
	}
	if e := got.Spaces["B"]; e == nil || e.Name != "spaces/B" {
		t.Errorf("Load(%q).Spaces[B] = %+v, want spaces/B from the journal", path, e)
	}
	if names := listDir(t, dir); len(names) != 1 {
		t.Errorf("after Load, dir holds %v, want only the journal", names)
	}
}

func TestPosition(t *testing.T) {
	t.Parallel()
	data := []byte("ab\ncd\n\nef")
	tests := []struct {
		off       int64
		line, col int
	}{
		{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {4, 2, 2}, {6, 3, 1}, {7, 4, 1}, {9, 4, 3}, {100, 4, 3}, {-1, 1, 1},
	}
	for _, tt := range tests {
		line, col := position(data, tt.off)
		if line != tt.line || col != tt.col {
			t.Errorf("position(%q, %d) = %d, %d, want %d, %d", data, tt.off, line, col, tt.line, tt.col)
		}
	}
}
