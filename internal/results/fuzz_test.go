package results

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// journalBase is the results file FuzzJournal replays journals over: a
// space of every kind a journal may change, and one already deleted.
const journalBase = `{"version":2,"spaces":{` +
	`"A":{"status":"created","name":"spaces/A","requestId":"r","principal":"users/me","applied":{"members":["users/1","users/2"],"owners":["users/1"],"ids":{"users/a@x.com":"users/9"},"settings":{"history":"on"}}},` +
	`"P":{"status":"pending","requestId":"p"},` +
	`"F":{"status":"failed","error":"boom"}},` +
	`"deleted":[{"displayName":"A","deletedAt":"2026-11-26T19:00:00Z","entry":{"status":"created","name":"spaces/A0"}}]}`

// FuzzJournal feeds the journal reader crafted lines (the seeds under
// testdata/fuzz/FuzzJournal: headers of every kind, torn and nul-filled
// lines, CRLF, invalid UTF-8, deep nesting, each event kind and each of
// its refusals) over a fixed results file. It must never panic, and
// whatever it accepts must keep the promises of FORMAT.md:
//   - the state written from it reads back the same;
//   - replaying the journal again over that written state changes nothing
//     (a crash between a fold's two steps is harmless);
//   - text after the last newline is ignored (a write torn by a crash).
func FuzzJournal(f *testing.F) {
	f.Add([]byte(`{"version":2}` + "\n" + `{"space":"A","member":"users/3","role":"manager"}` + "\n"))
	f.Fuzz(func(t *testing.T, journal []byte) {
		base, err := parse("r.json", []byte(journalBase))
		if err != nil {
			t.Fatal(err)
		}
		st := newState(base)
		if err := replay("r.json.journal", journal, st); err != nil {
			if !strings.Contains(err.Error(), `"r.json.journal": line `) {
				t.Fatalf("replay error %q does not name the journal and the line", err)
			}
			return
		}
		written := encodeState(t, st)
		again, err := parse("r.json", written)
		if err != nil {
			t.Fatalf("parse(written state) = %v, want it readable\n%s", err, written)
		}
		if enc := encodeState(t, newState(again)); !bytes.Equal(enc, written) {
			t.Fatalf("written state changed on reading it back:\n%s\nthen\n%s", written, enc)
		}

		// The fold wrote the file, then the run died before emptying the
		// journal: the next run replays it over the new file.
		replayed, err := parse("r.json", written)
		if err != nil {
			t.Fatal(err)
		}
		st2 := newState(replayed)
		if err := replay("r.json.journal", journal, st2); err != nil {
			t.Fatalf("replaying an accepted journal over its own fold = %v", err)
		}
		if enc := encodeState(t, st2); !bytes.Equal(enc, written) {
			t.Fatalf("replaying the journal over its own fold changed the state:\n%s\nthen\n%s", written, enc)
		}

		// A torn write after the last line counts for nothing.
		torn := append(slices.Clip(journal), `{"space":"Z","entry":{"status":"created","name":"spaces/Z"`...)
		st3 := newState(mustParse(t, journalBase))
		if err := replay("r.json.journal", torn, st3); err != nil {
			t.Fatalf("replay with a torn last line = %v, want it ignored", err)
		}
		if enc := encodeState(t, st3); !bytes.Equal(enc, written) {
			t.Fatalf("a torn last line changed the state:\n%s\nthen\n%s", written, enc)
		}
	})
}

func encodeState(t *testing.T, st *state) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := st.encode(&buf, epoch); err != nil {
		t.Fatalf("encoding the state = %v", err)
	}
	return buf.Bytes()
}

func mustParse(t *testing.T, data string) *File {
	t.Helper()
	f, err := parse("r.json", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
