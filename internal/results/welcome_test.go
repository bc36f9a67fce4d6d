package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWelcomeAndGroupEvents: a welcome event records the message posted;
// a group named by email records its groups/ID; both survive a fold and a
// reload, and malformed ones are refused.
func TestWelcomeAndGroupEvents(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.json")
	s, err := Open(path, WithoutSync())
	if err != nil {
		t.Fatal(err)
	}
	entry := &Entry{Name: "spaces/AAAA1", ID: "AAAA1", Status: Created, RequestID: "r"}
	for _, ev := range []Event{
		{Space: "T", Entry: entry},
		{Space: "T", Member: "group:eng@example.com", ID: "groups/03x9"},
		{Space: "T", Welcome: "spaces/AAAA1/messages/client-abc"},
	} {
		if err := s.Record(ev); err != nil {
			t.Fatalf("Record(%+v) = %v", ev, err)
		}
	}
	for _, bad := range []Event{
		{Space: "T", Welcome: "spaces/AAAA1"},
		{Space: "T", Member: "group:eng@example.com", ID: "users/1"},
		{Space: "T", Welcome: "spaces/AAAA1/messages/x", Member: "users/a@example.com"},
	} {
		if err := s.Record(bad); err == nil {
			t.Errorf("Record(%+v) accepted", bad)
		}
	}
	if err := s.Close(); err != nil && !strings.Contains(err.Error(), "invalid event") {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a := f.Spaces["T"].Applied
	if a == nil || a.Welcome != "spaces/AAAA1/messages/client-abc" || a.IDs["group:eng@example.com"] != "groups/03x9" {
		t.Fatalf("applied %+v; want the welcome and the group's ID", a)
	}
}

// TestJournalDuplicateKeyRefused: a journal line holding a key twice (in
// any case) is damaged: refused, naming the journal and the line.
func TestJournalDuplicateKeyRefused(t *testing.T) {
	t.Parallel()
	for _, line := range []string{
		`{"space":"A","space":"B","member":"users/a@example.com"}`,
		`{"space":"A","SPACE":"B","member":"users/a@example.com"}`,
		`{"space":"A","entry":{"status":"pending","requestId":"r","requestId":"s"}}`,
	} {
		path := filepath.Join(t.TempDir(), "r.json")
		if err := os.WriteFile(path+".journal", []byte("{\"version\":2}\n"+line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "line 2: duplicate key") {
			t.Errorf("Load with journal line %s = %v, want a duplicate key on line 2", line, err)
		}
	}
	// Nested objects may repeat their parents' keys.
	path := filepath.Join(t.TempDir(), "r.json")
	os.WriteFile(path+".journal", []byte("{\"version\":2}\n{\"space\":\"A\",\"settings\":{\"description\":\"x\"}}\n"), 0o644)
	if _, err := Load(path); err != nil {
		t.Errorf("Load of a valid journal = %v", err)
	}
}
