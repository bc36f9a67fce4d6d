package results

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"
)

// The tests in this file are attacks on the state files by someone who can
// write to the results directory (a shared cron directory, say): each
// plants or swaps a file and checks that the run refuses or stops, names
// what it found, and damages nothing outside its own files.

// One line without a final newline: a journal that reads as a torn write.
const precious = "someone else's file, without a final newline"

// victim writes a file outside the results directory that a link may aim
// at, and returns its path.
func victim(t *testing.T) string {
	t.Helper()
	return write(t, t.TempDir(), "victim", precious)
}

// untouched fails the test if the victim at p has changed or, when gone is
// true, if it has come into existence.
func untouched(t *testing.T, p string, gone bool) {
	t.Helper()
	data, err := os.ReadFile(p)
	switch {
	case gone && err == nil:
		t.Errorf("%s was created through a link (%q), want it absent", p, data)
	case gone:
	case err != nil:
		t.Errorf("reading %s: %v", p, err)
	case string(data) != precious:
		t.Errorf("%s = %q after the run, want it untouched (%q)", p, data, precious)
	}
}

// isLink fails the test unless p is still a symbolic link.
func isLink(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("Lstat(%s) = %v, %v: want the link left in place", p, fi, err)
	}
}

// TestSymlinkRefused plants a symbolic link at each of the three files, to
// another file or to a name that does not exist yet: Open (and Load, which
// reads the file and the journal) must refuse it, name the link, and leave
// its target as it was, or absent.
func TestSymlinkRefused(t *testing.T) {
	t.Parallel()
	for _, suffix := range []string{"", ".journal", ".lock"} {
		for _, dangling := range []bool{false, true} {
			name := "file" + suffix
			if dangling {
				name += " dangling"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				path := filepath.Join(dir, "r.json")
				target := victim(t)
				if suffix == "" {
					// A valid results file, so that reading through the
					// link would succeed.
					if err := os.WriteFile(target, []byte(validFile), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if dangling {
					target = filepath.Join(t.TempDir(), "created")
				}
				before, _ := os.ReadFile(target)
				link := path + suffix
				if err := os.Symlink(target, link); err != nil {
					t.Fatal(err)
				}
				s, err := Open(path)
				if err == nil {
					s.Record(Event{Space: "A", Entry: created("A")})
					s.Close()
				}
				if !errors.Is(err, ErrSymlink) || !strings.Contains(err.Error(), link) {
					t.Errorf("Open with a link at %s = %v, want ErrSymlink naming the link", link, err)
				}
				if suffix != ".lock" {
					_, err := Load(path)
					if !errors.Is(err, ErrSymlink) || !strings.Contains(err.Error(), link) {
						t.Errorf("Load with a link at %s = %v, want ErrSymlink naming the link", link, err)
					}
				}
				isLink(t, link)
				after, aerr := os.ReadFile(target)
				switch {
				case dangling && aerr == nil:
					t.Errorf("%s was created through the link %s (%q), want it absent", target, link, after)
				case !dangling && string(after) != string(before):
					t.Errorf("%s = %q after the run, want it untouched (%q)", target, after, before)
				}
			})
		}
	}
}

// TestSymlinkPlantedMidRun swaps each file for a link while a store holds
// the state: the run stops (or, for the results file, refuses to write
// through it) and never writes through the link.
func TestSymlinkPlantedMidRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		suffix string
		want   error
	}{
		{"", ErrSymlink},
		{".journal", ErrVanished},
		{".lock", ErrLockLost},
	}
	for _, tt := range tests {
		t.Run("file"+tt.suffix, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "r.json")
			s := open(t, path, WithFoldEvery(1))
			record(t, s, Event{Space: "A", Entry: created("A")})
			target := victim(t)
			link := path + tt.suffix
			if err := os.Remove(link); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			rerr := s.Record(Event{Space: "B", Entry: created("B")})
			cerr := s.Close()
			if err := errors.Join(rerr, cerr); !errors.Is(err, tt.want) || !strings.Contains(err.Error(), link) {
				t.Errorf("Record, Close after a link planted at %s = %v, %v; want %v naming the link", link, rerr, cerr, tt.want)
			}
			isLink(t, link)
			untouched(t, target, false)
		})
	}
}

// TestHardLinkRefused gives the journal and the lock a second name outside
// the directory: writing or truncating either would change that file.
func TestHardLinkRefused(t *testing.T) {
	t.Parallel()
	for _, suffix := range []string{".journal", ".lock"} {
		t.Run("file"+suffix, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "r.json")
			target := victim(t)
			if err := os.Link(target, path+suffix); err != nil {
				t.Skipf("no hard links here: %v", err)
			}
			s, err := Open(path)
			if err == nil {
				s.Record(Event{Space: "A", Entry: created("A")})
				s.Close()
			}
			if !errors.Is(err, ErrUnsafeFile) || !strings.Contains(err.Error(), path+suffix) {
				t.Errorf("Open with %s hard-linked = %v, want ErrUnsafeFile naming it", path+suffix, err)
			}
			untouched(t, target, false)
		})
	}
}

// TestFIFORefused plants named pipes: opening one to read waits for a
// writer that never comes, so a run (or --plan) would hang for ever.
func TestFIFORefused(t *testing.T) {
	t.Parallel()
	for _, suffix := range []string{"", ".journal", ".lock"} {
		t.Run("file"+suffix, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "r.json")
			if err := syscall.Mkfifo(path+suffix, 0o644); err != nil {
				t.Skipf("no named pipes here: %v", err)
			}
			done := make(chan error, 2)
			go func() {
				s, err := Open(path)
				if err == nil {
					s.Close()
				}
				done <- err
			}()
			calls := 1
			if suffix != ".lock" {
				calls++
				go func() { _, err := Load(path); done <- err }()
			}
			for range calls {
				select {
				case err := <-done:
					if !errors.Is(err, ErrUnsafeFile) || !strings.Contains(err.Error(), path+suffix) {
						t.Errorf("Open or Load with a named pipe at %s = %v, want ErrUnsafeFile naming it", path+suffix, err)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("Open or Load with a named pipe at %s still waiting after 10s", path+suffix)
				}
			}
		})
	}
}

// TestDirectoryRefused puts a directory where each file goes.
func TestDirectoryRefused(t *testing.T) {
	t.Parallel()
	for _, suffix := range []string{"", ".journal", ".lock"} {
		t.Run("file"+suffix, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "r.json")
			if err := os.Mkdir(path+suffix, 0o755); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, ErrUnsafeFile) || !strings.Contains(err.Error(), path+suffix) {
				t.Errorf("Open with a directory at %s = %v, want ErrUnsafeFile naming it", path+suffix, err)
			}
		})
	}
}

// TestLockLost deletes or replaces the lock while a store holds it, and
// lets a second run start, as nothing then stops it: the first run must
// stop at its next Record, never write the results file the second run now
// owns, and leave the second run's lock as it is.
func TestLockLost(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"deleted", "replaced"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "r.json")
			lp := path + ".lock"
			first := open(t, path)
			record(t, first, Event{Space: "A", Entry: created("A")})
			if err := os.Remove(lp); err != nil {
				t.Fatal(err)
			}
			if how == "replaced" {
				write(t, filepath.Dir(path), "r.json.lock", "")
			}
			second := open(t, path)
			record(t, second, Event{Space: "B", Entry: created("B")})

			err := first.Record(Event{Space: "C", Entry: created("C")})
			if !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), lp) {
				t.Errorf("Record after the lock was %s = %v, want ErrLockLost naming %s", how, err, lp)
			}
			if err := first.Record(Event{Space: "D", Entry: created("D")}); !errors.Is(err, ErrLockLost) {
				t.Errorf("second Record after the lock was %s = %v, want ErrLockLost", how, err)
			}
			if err := first.Close(); !errors.Is(err, ErrLockLost) {
				t.Errorf("Close after the lock was %s = %v, want ErrLockLost", how, err)
			}
			if data, _ := os.ReadFile(lp); !strings.Contains(string(data), `"pid"`) {
				t.Errorf("lock file after the first run closed = %q, want the second run's holder kept", data)
			}
			if err := second.Close(); err != nil {
				t.Fatalf("second Close() = %v", err)
			}
			f, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"A", "B"} {
				if f.Spaces[k] == nil {
					t.Errorf("results after both runs have no %q: %v", k, keys(f))
				}
			}
		})
	}
}

// TestLockLostKeepsJournal deletes the lock with no second run: the first
// run stops, writes nothing, and its journal holds everything for the next.
func TestLockLostKeepsJournal(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.json")
	s := open(t, path, WithFoldEvery(1))
	record(t, s, Event{Space: "A", Entry: created("A")})
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path + ".lock"); err != nil {
		t.Fatal(err)
	}
	err = s.Record(Event{Space: "B", Entry: created("B")})
	if !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), path+".journal") {
		t.Errorf("Record after the lock was deleted = %v, want ErrLockLost naming the journal kept", err)
	}
	if err := s.Close(); !errors.Is(err, ErrLockLost) {
		t.Errorf("Close after the lock was deleted = %v, want ErrLockLost", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Errorf("results file written after the lock was lost:\n%s\nwant\n%s", after, before)
	}
	if _, err := os.Stat(path + ".journal"); err != nil {
		t.Errorf("journal after the lock was lost: %v, want it kept", err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Spaces["B"] == nil {
		t.Errorf("Load after the lock was lost has no B: %v, want the journal replayed", keys(f))
	}
}

func keys(f *File) []string {
	var ks []string
	for k := range f.Spaces {
		ks = append(ks, k)
	}
	return ks
}

// TestDirectoryVanished removes or renames the results directory in the
// middle of a run: the next Record fails with ErrVanished, the message
// says what happened, names no path that does not hold the state, and
// nothing is written anywhere else.
func TestDirectoryVanished(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"removed", "renamed", "replaced"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			parent := t.TempDir()
			dir := filepath.Join(parent, "state")
			moved := filepath.Join(parent, "moved")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "r.json")
			s := open(t, path, WithFoldEvery(1)) // r.json written at once
			record(t, s, Event{Space: "A", Entry: created("A")})
			switch how {
			case "removed":
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
			case "renamed", "replaced":
				if err := os.Rename(dir, moved); err != nil {
					t.Fatal(err)
				}
			}
			if how == "replaced" {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			err := s.Record(Event{Space: "B", Entry: created("B")})
			if !errors.Is(err, ErrVanished) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("Record after the directory was %s = %v, want ErrVanished naming %s", how, err, dir)
			}
			var v *VanishedError
			if !errors.As(err, &v) {
				t.Fatalf("Record after the directory was %s = %T, want a *VanishedError", how, err)
			}
			if v.Dir != dir {
				t.Errorf("VanishedError.Dir = %q, want %q", v.Dir, dir)
			}
			if how == "removed" && (!v.Unlinked || v.Journal != "" || v.MovedTo != "") {
				t.Errorf("VanishedError after removal = %+v, want the journal unlinked and no path", v)
			}
			if how != "removed" && v.Unlinked {
				t.Errorf("VanishedError after a rename = %+v, want the journal kept", v)
			}
			if how != "removed" && runtime.GOOS == "linux" {
				// Linux tells where an open directory is now.
				jp, rp := filepath.Join(moved, "r.json.journal"), filepath.Join(moved, "r.json")
				if v.MovedTo != moved || v.Journal != jp || v.Results != rp {
					t.Errorf("VanishedError after a rename = %+v, want MovedTo %s, Journal %s, Results %s", v, moved, jp, rp)
				}
			}
			// Where the state went is told only if it is really there.
			for _, p := range []string{v.MovedTo, v.Journal, v.Results} {
				if p == "" {
					continue
				}
				if _, serr := os.Stat(p); serr != nil {
					t.Errorf("VanishedError names %s, which does not exist: %v", p, serr)
				}
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not name %s", err, p)
				}
			}
			if cerr := s.Close(); !errors.Is(cerr, ErrVanished) {
				t.Errorf("Close after the directory was %s = %v, want ErrVanished", how, cerr)
			}
			switch how {
			case "removed":
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("%s recreated after it was removed", dir)
				}
			case "replaced":
				if names := listDir(t, dir); len(names) != 0 {
					t.Errorf("new %s holds %v after the run, want nothing written there", dir, names)
				}
			}
			if how != "removed" {
				// The moved directory holds everything the run recorded.
				f, err := Load(filepath.Join(moved, "r.json"))
				if err != nil {
					t.Fatal(err)
				}
				if f.Spaces["A"] == nil || f.Spaces["B"] == nil {
					t.Errorf("Load of the moved state = %v, want A and B", keys(f))
				}
			}
		})
	}
}

// TestJournalRemoved deletes only the journal mid-run: the next Record
// fails, and Close writes the results file from memory, since the lock and
// the directory are still the run's, so nothing recorded is lost.
func TestJournalRemoved(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.json")
	s := open(t, path)
	record(t, s, Event{Space: "A", Entry: created("A")})
	if err := os.Remove(path + ".journal"); err != nil {
		t.Fatal(err)
	}
	err := s.Record(Event{Space: "B", Entry: created("B")})
	if !errors.Is(err, ErrVanished) || !strings.Contains(err.Error(), path+".journal") {
		t.Errorf("Record after the journal was removed = %v, want ErrVanished naming it", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after the journal was removed = %v, want the results file written", err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Spaces["A"] == nil || f.Spaces["B"] == nil {
		t.Errorf("Load after the journal was removed = %v, want A and B", keys(f))
	}
}

// TestRecordErrorNamesNoSpace: the caller says which space it was
// recording; Record says only what is wrong, so that the two do not
// repeat each other.
func TestRecordErrorNamesNoSpace(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "r.json"))
	err := s.Record(Event{Space: "Team X", Entry: &Entry{Status: Created, Name: "spaces/a/b"}})
	if !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("Record(invalid entry) = %v, want ErrInvalidEvent", err)
	}
	if err != nil && strings.Contains(err.Error(), "Team X") {
		t.Errorf("Record(invalid entry) = %q, want the space left to the caller", err)
	}
}

// TestReadSized reads readers that hold what their size says, more (a file
// that grew since its size was taken) and less, each whole.
func TestReadSized(t *testing.T) {
	text := strings.Repeat("0123456789", 1000)
	for _, tt := range []struct {
		name string
		size int64
	}{
		{"exact", int64(len(text))},
		{"grew", 10},
		{"grew from empty", 0},
		{"shrank", int64(len(text)) * 2},
		{"unknown", -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// iotest.OneByteReader: short reads, as a file may give.
			got, err := readSized(iotest.OneByteReader(strings.NewReader(text)), tt.size)
			if err != nil || string(got) != text {
				t.Fatalf("readSized(%d bytes, size %d) = %d bytes, %v, want %d bytes", len(text), tt.size, len(got), err, len(text))
			}
		})
	}
}

// TestReadFileGrown reads a results file that grew between the Stat that
// sized the buffer and the read.
func TestReadFileGrown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, fi, err := openFile(path, "results file", os.O_RDONLY, true)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := strings.Repeat("x", 100000)
	if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readSized(f, fi.Size())
	if err != nil || string(got) != want {
		t.Fatalf("readSized after growth = %d bytes, %v, want %d bytes", len(got), err, len(want))
	}
}
