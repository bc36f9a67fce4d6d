package results

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

// parseBothWays reads file as a stream and whole, and fails unless the
// stream either declines or reads what parse reads.
func parseBothWays(t *testing.T, file []byte) (streamed bool) {
	t.Helper()
	want, err := parse("r.json", file)
	got, n, ok := parseStream(bytes.NewReader(file))
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("%q: read as a stream, refused whole: %v", file, err)
	}
	if n != int64(len(file)) {
		t.Errorf("%q: %d bytes read as a stream, want %d", file, n, len(file))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\nread as a stream: %+v\nread whole: %+v", file, got, want)
	}
	return true
}

// TestParseStreamReadsWritten: a file as this program writes it is read as
// a stream, as parse reads it; files written otherwise, or wrong, are left
// to parse.
func TestParseStreamReadsWritten(t *testing.T) {
	t.Parallel()
	d := "Platform"
	yes := true
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	f := &File{Version: Version, UpdatedAt: at, Spaces: map[string]*Entry{
		"A": {Status: Created, Name: "spaces/A", ID: "A", URL: "https://chat.google.com/room/A", RequestID: "r", CreatedAt: &at,
			Applied: &Applied{Members: []string{"users/a@x.com"}, IDs: map[string]string{"users/a@x.com": "users/1"},
				Settings: &Settings{Description: &d, History: "on", ExternalUsers: &yes, Permissions: map[string]string{"preset": "announcement"}}}},
		"B": {Status: Failed, Error: "boom"},
		"C": {Status: Existing, Name: "spaces/C", Applied: &Applied{Settings: &Settings{}}},
	}, Deleted: []*Deleted{{DisplayName: "Z", DeletedAt: at, Entry: &Entry{Status: Created, Name: "spaces/Z"}}}}
	var buf bytes.Buffer
	if err := writeFile(&buf, f, func(e *Entry) *Entry { return e }); err != nil {
		t.Fatal(err)
	}
	if !parseBothWays(t, buf.Bytes()) {
		t.Fatalf("a written file was not read as a stream:\n%s", buf.Bytes())
	}
	for _, c := range streamCases {
		if got := parseBothWays(t, []byte(c.file)); got != c.streamed {
			t.Errorf("%s: read as a stream = %v, want %v", c.name, got, c.streamed)
		}
	}
}

var streamCases = []struct {
	name, file string
	streamed   bool
}{
	{"version 1", `{"version":1,"spaces":{"A":{"status":"created","name":"spaces/A","applied":{"managers":["users/1"]}}}}`, true},
	{"null spaces", `{"version":2,"spaces":null}` + "\n", true},
	{"no spaces", `{"version":2}`, true},
	{"version last", `{"spaces":{},"version":2}`, false},
	{"deleted before version", `{"deleted":[],"version":2}`, false},
	{"unknown field", `{"version":2,"colour":1}`, false},
	{"unknown entry field", `{"version":2,"spaces":{"A":{"status":"created","colour":1}}}`, false},
	{"duplicate key", `{"version":2,"spaces":{"A":{"status":"failed"},"A":{"status":"failed"}}}`, false},
	{"duplicate field", `{"version":2,"version":2}`, false},
	{"trailing data", `{"version":2} {}`, false},
	{"unsupported version", `{"version":3}`, false},
	{"bad status", `{"version":2,"spaces":{"A":{"status":"made"}}}`, false},
	{"not an object", `[]`, false},
	{"empty", ``, false},
	{"cut short", `{"version":2,"spaces":{"A":{"status":"created"`, false},
	{"escaped key", `{"vers\u0069on":2,"sp\u0061ces":{"A":{"status":"failed"}}}`, true},
	{"duplicate key escaped", `{"version":2,"vers\u0069on":2}`, false},
	{"duplicate field in an entry", `{"version":2,"spaces":{"A":{"status":"created","status":"failed"}}}`, true},
	{"field in another case", `{"version":2,"spaces":{"A":{"STATUS":"failed"}}}`, true},
	{"key in another case", `{"Version":2}`, false},
	{"version 2.0", `{"version":2.0}`, false},
	{"version 2e0", `{"version":2e0}`, false},
	{"null version", `{"version":null}`, false},
	{"null updatedAt", `{"version":2,"updatedAt":null,"deleted":null}`, true},
	{"null entry", `{"version":2,"spaces":{"A":null}}`, false},
	{"deleted before spaces", `{"version":1,"deleted":[{"displayName":"Z","deletedAt":"2026-12-01T10:00:00Z","entry":{"status":"created","name":"spaces/Z","applied":{"managers":["users/1"]}}}],"spaces":{}}`, true},
	{"invalid UTF-8 in a key", "{\"version\":2,\"spaces\":{\"\xff\":{\"status\":\"failed\"}}}", true},
	{"keys alike once decoded", "{\"version\":2,\"spaces\":{\"\xff\":{\"status\":\"failed\"},\"\xfe\":{\"status\":\"failed\"}}}", false},
	{"trailing white space", "{\"version\":2}\n\t \r\n", true},
	{"byte order mark", "\uFEFF{\"version\":2}", false},
	{"spaces a list", `{"version":2,"spaces":[]}`, false},
}

// FuzzParseStream checks that reading a results file as a stream never
// reads it otherwise than reading it whole.
func FuzzParseStream(f *testing.F) {
	f.Add([]byte(validFile))
	for _, c := range streamCases {
		f.Add([]byte(c.file))
	}
	f.Add([]byte(strings.Replace(validFile, "{", "{\n", 3)))
	f.Fuzz(func(t *testing.T, file []byte) {
		parseBothWays(t, file)
	})
}
