package results

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds Load arbitrary results files and journals. It must never
// panic, and whatever it accepts must be writable and read back the same:
// a fold never writes a file that the next run cannot read.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(validFile), []byte(""))
	f.Add([]byte(`{"version":1,"spaces":{}}`), []byte(`{"space":"A","member":"users/1"}`+"\n"+`{"space":"B","ent`))
	// Version 1: its managers are owners, in the file and in the journal.
	f.Add([]byte(`{"version":1,"spaces":{"A":{"status":"created","name":"spaces/A","applied":{"members":["users/1"],"managers":["users/1","users/2"]}}}}`),
		[]byte(`{"space":"B","entry":{"status":"failed","applied":{"managers":["users/3"]}}}`+"\n"+`{"space":"A","manager":"users/4"}`+"\n"))
	// Version 2: roles move both ways; pending entries.
	f.Add([]byte(`{"version":2,"spaces":{"A":{"status":"created","name":"spaces/A","principal":"users/me","previous":"spaces/Z","applied":{"members":["users/1","users/2"],"owners":["users/1"],"managers":["users/2"]}}}}`),
		[]byte(`{"version":2}`+"\n"+`{"space":"A","member":"users/1","role":"manager"}`+"\n"+`{"space":"A","member":"users/2","role":"member"}`+"\n"+
			`{"space":"P","entry":{"status":"pending","requestId":"r","principal":"users/me"}}`+"\n"+`{"space":"Q","entry":{"status":"","requestId":"q"}}`+"\n"))
	// Settings, IDs, removals and deletions, a name deleted twice.
	f.Add([]byte(`{"version":2,"spaces":{"A":{"status":"created","name":"spaces/A","applied":{"members":["users/a@x.com"],"ids":{"users/a@x.com":"users/1"},"settings":{"description":"d","permissions":{"preset":"announcement","manageApps":"owners"}}}}},`+
		`"deleted":[{"displayName":"A","deletedAt":"2026-11-26T19:00:00Z","entry":{"status":"created","name":"spaces/A0"}}]}`),
		[]byte(`{"version":2}`+"\n"+`{"space":"A","settings":{}}`+"\n"+`{"space":"A","settings":{"history":"off","externalUsers":"true"}}`+"\n"+
			`{"space":"A","member":"users/b@x.com","id":"users/2","role":"owner"}`+"\n"+`{"space":"A","member":"users/a@x.com","removed":true}`+"\n"+
			`{"space":"A","deleted":"2026-11-27T10:00:00Z"}`+"\n"+`{"space":"A","deleted":"2026-11-27T10:00:00Z"}`+"\n"+`{"space":"B","settings":{"audience":"audiences/x"}}`+"\n"))
	f.Fuzz(func(t *testing.T, file, journal []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "r.json")
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+".journal", journal, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := Load(path)
		if err != nil {
			return
		}
		for k, e := range got.Spaces {
			if err := checkEntry(e); err != nil {
				t.Fatalf("Load accepted entry %q that cannot be written: %v", k, err)
			}
		}
		for i, d := range got.Deleted {
			if err := checkDeleted(d); err != nil {
				t.Fatalf("Load accepted deleted[%d] that cannot be written: %v", i, err)
			}
		}
		enc, err := encodeFile(got)
		if err != nil {
			t.Fatalf("encodeFile(Load) = %v", err)
		}
		again, err := parse(path, enc)
		if err != nil {
			t.Fatalf("parse(encodeFile(Load)) = %v, want the written file readable\n%s", err, enc)
		}
		enc2, err := encodeFile(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("written file changed on reading it back:\n%s\nthen\n%s", enc, enc2)
		}
	})
}
