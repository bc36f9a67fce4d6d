package results

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// holdEnv switches the test binary into a helper process that holds the
// lock of the results file named by its value until it is killed.
const holdEnv = "RESULTS_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdEnv); path != "" {
		os.Exit(hold(path))
	}
	os.Exit(m.Run())
}

// hold opens the store at path, records one event, says "ready" and waits
// to be killed.
func hold(path string) int {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := s.Record(Event{Space: "killed", Entry: &Entry{Status: Created, Name: "spaces/K", ID: "K"}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	time.Sleep(time.Minute) // in case the test dies before killing us
	return 1
}

var epoch = time.Date(2026, 11, 26, 19, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return epoch }

// open opens a store on dir/r.json and closes it at the end of the test if
// the test has not.
func open(t testing.TB, path string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatalf("Open(%q) = %v, want no error", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func record(t testing.TB, s *Store, ev Event) {
	t.Helper()
	if err := s.Record(ev); err != nil {
		t.Fatalf("Record(%+v) = %v, want no error", ev, err)
	}
}

func created(id string) *Entry {
	return &Entry{Status: Created, Name: "spaces/" + id, ID: id, RequestID: "req-" + id}
}

// copyState copies the results file and journal of path, whichever exist,
// into a new directory, as a crash would leave them, and returns the path
// of the copy.
func copyState(t *testing.T, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(path))
	for _, suffix := range []string{"", ".journal"} {
		data, err := os.ReadFile(path + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	s := open(t, path, WithClock(fixedClock))
	at := epoch.Add(-time.Hour)
	events := []Event{
		{Space: "R&D <core>", Entry: &Entry{Status: Failed, Error: interrupted, RequestID: "r1"}},
		{Space: "R&D <core>", Entry: &Entry{Status: Created, Name: "spaces/AAA", ID: "AAA", URL: "https://chat.google.com/room/AAA", RequestID: "r1", CreatedAt: &at}},
		{Space: "R&D <core>", Member: "users/alice@example.com"},
		{Space: "R&D <core>", Member: "users/bob@example.com"},
		{Space: "R&D <core>", Member: "users/alice@example.com"},
		{Space: "R&D <core>", Member: "users/alice@example.com", Role: RoleOwner},
		{Space: "R&D <core>", Member: "users/carol@example.com", Role: RoleManager},
		{Space: "Sales", Entry: &Entry{Status: Failed, Error: "PERMISSION_DENIED: no", RequestID: "r2"}},
		{Space: "Pending", Entry: &Entry{Status: Pending, RequestID: "r3", Principal: "users/me@example.com"}},
		{Space: "No status", Entry: &Entry{RequestID: "r4"}},
	}
	for _, ev := range events {
		record(t, s, ev)
	}
	if e := s.Entry("Pending"); e == nil || e.Status != Pending || e.Error != "" || e.RequestID != "r3" || e.Principal != "users/me@example.com" {
		t.Errorf("Entry(%q) = %+v, want pending, with its requestId and principal", "Pending", e)
	}
	if e := s.Entry("No status"); e == nil || e.Status != Pending || e.RequestID != "r4" {
		t.Errorf("Entry(%q) = %+v, want pending, with its requestId", "No status", e)
	}
	if e := s.Entry("nothing"); e != nil {
		t.Errorf("Entry(%q) = %+v, want nil", "nothing", e)
	}
	snap := s.Snapshot()
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v, want no error", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close() = %v, want no error", err)
	}

	const want = `{
  "version": 2,
  "updatedAt": "2026-11-26T19:00:00Z",
  "spaces": {
    "No status": {
      "status": "pending",
      "requestId": "r4"
    },
    "Pending": {
      "status": "pending",
      "requestId": "r3",
      "principal": "users/me@example.com"
    },
    "R&D <core>": {
      "name": "spaces/AAA",
      "id": "AAA",
      "url": "https://chat.google.com/room/AAA",
      "status": "created",
      "requestId": "r1",
      "createdAt": "2026-11-26T18:00:00Z",
      "applied": {
        "members": [
          "users/alice@example.com",
          "users/bob@example.com",
          "users/carol@example.com"
        ],
        "owners": [
          "users/alice@example.com"
        ],
        "managers": [
          "users/carol@example.com"
        ]
      }
    },
    "Sales": {
      "status": "failed",
      "error": "PERMISSION_DENIED: no",
      "requestId": "r2"
    }
  }
}
`
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != want {
		t.Errorf("results file after Close =\n%s\nwant\n%s", data, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&^0o644 != 0 || perm&0o600 != 0o600 {
		t.Errorf("results file mode = %v, want 0644 (less the umask)", perm)
	}
	if _, err := os.Stat(path + ".journal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stat(journal) after Close = %v, want it removed", err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%q) = %v", path, err)
	}
	snap.UpdatedAt = epoch
	if !sameFile(got, snap) {
		t.Errorf("Load(%q) = %s, want the last Snapshot %s", path, mustEncode(t, got), mustEncode(t, snap))
	}
	if err := s.Record(Event{Space: "late", Member: "users/1"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Record after Close = %v, want ErrClosed", err)
	}
}

func TestRecordInvalid(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.json")
	s := open(t, path)
	tests := []struct {
		name string
		ev   Event
		want string
	}{
		{"no space", Event{Member: "users/1"}, "without a space"},
		{"nothing", Event{Space: "A"}, "exactly one of"},
		{"two", Event{Space: "A", Member: "users/1", Manager: "users/1"}, "exactly one of"},
		{"legacy manager", Event{Space: "A", Manager: "users/1"}, `the "manager" event is only read from version 1 journals (where it meant owner)`},
		{"unknown role", Event{Space: "A", Member: "users/1", Role: "admin"}, `unknown role "admin"`},
		{"API role name", Event{Space: "A", Member: "users/1", Role: "ROLE_ASSISTANT_MANAGER"}, `unknown role "ROLE_ASSISTANT_MANAGER"`},
		{"role without member", Event{Space: "A", Entry: &Entry{Status: Failed}, Role: RoleOwner}, "role without a member"},
		{"pending without requestId", Event{Space: "A", Entry: &Entry{Status: Pending}}, `status "pending" without a requestId`},
		{"owner and manager", Event{Space: "A", Entry: &Entry{Status: Failed, Applied: &Applied{Owners: []string{"users/1"}, Managers: []string{"users/1"}}}}, "both an applied owner and an applied manager"},
		{"entry and member", Event{Space: "A", Entry: &Entry{Status: Failed}, Member: "users/1"}, "exactly one of"},
		{"unknown status", Event{Space: "A", Entry: &Entry{Status: "done"}}, "unknown status"},
		{"created without name", Event{Space: "A", Entry: &Entry{Status: Created}}, "without a name"},
		{"bad name", Event{Space: "A", Entry: &Entry{Status: Existing, Name: "AAA"}}, "not spaces/ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Record(tt.ev)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Record(%+v) = %v, want an error containing %q", tt.ev, err, tt.want)
			}
		})
	}
	if n := fileSize(t, path+".journal"); n != 0 {
		t.Errorf("journal size after refused events = %d, want 0", n)
	}
}

// TestJournalHeader checks that every journal a run writes says its
// version on its first line, after a fold too, so that it is never taken
// for a version 1 journal.
func TestJournalHeader(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.json")
	s := open(t, path, WithoutSync(), WithFoldEvery(1<<10))
	first := func() string {
		t.Helper()
		data, err := os.ReadFile(path + ".journal")
		if err != nil {
			t.Fatal(err)
		}
		line, _, _ := strings.Cut(string(data), "\n")
		return line
	}
	record(t, s, Event{Space: "A", Entry: created("A")})
	if got := first(); got != `{"version":2}` {
		t.Fatalf("journal's first line = %q, want the header", got)
	}
	folded := false
	for i := 0; !folded; i++ {
		if i == 100 {
			t.Fatal("no fold after 100 records")
		}
		record(t, s, Event{Space: "A", Member: fmt.Sprintf("users/%d", i), Role: RoleManager})
		folded = fileSize(t, path+".journal") == 0
	}
	record(t, s, Event{Space: "A", Member: "users/last", Role: RoleManager})
	if got := first(); got != `{"version":2}` {
		t.Errorf("journal's first line after a fold = %q, want the header", got)
	}
	// A crash now: the managers read back are managers.
	got, err := Load(copyState(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if a := got.Spaces["A"].Applied; a == nil || len(a.Owners) != 0 || !slices.Contains(a.Managers, "users/last") || !slices.Contains(a.Managers, "users/0") {
		t.Errorf("Load(copy) applied = %+v, want managers only", a)
	}
}

// TestOpenAfterVersion1Crash opens the state a version 1 run left when it
// was killed: its file and its journal, both of version 1. Open folds them
// into a version 2 file where its managers are owners.
func TestOpenAfterVersion1Crash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := write(t, dir, "r.json", `{"version": 1, "spaces": {"A": {"status": "created", "name": "spaces/A",
  "applied": {"members": ["users/1"], "managers": ["users/1"]}}}}`)
	write(t, dir, "r.json.journal", `{"space":"B","entry":{"status":"failed","error":"interrupted","requestId":"rb"}}
{"space":"B","entry":{"status":"created","name":"spaces/B","requestId":"rb","applied":{"members":["users/2","users/3"],"managers":["users/2"]}}}
{"space":"B","manager":"users/3"}
`)
	s := open(t, path, WithClock(fixedClock), WithoutSync())
	if n := fileSize(t, path+".journal"); n != 0 {
		t.Errorf("journal size after Open = %d, want 0 (folded)", n)
	}
	record(t, s, Event{Space: "A", Member: "users/4", Role: RoleManager})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	const want = `{
  "version": 2,
  "updatedAt": "2026-11-26T19:00:00Z",
  "spaces": {
    "A": {
      "name": "spaces/A",
      "status": "created",
      "applied": {
        "members": [
          "users/1",
          "users/4"
        ],
        "owners": [
          "users/1"
        ],
        "managers": [
          "users/4"
        ]
      }
    },
    "B": {
      "name": "spaces/B",
      "status": "created",
      "requestId": "rb",
      "applied": {
        "members": [
          "users/2",
          "users/3"
        ],
        "owners": [
          "users/2",
          "users/3"
        ]
      }
    }
  }
}
`
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != want {
		t.Errorf("results file =\n%s\nwant\n%s", data, want)
	}
}

func TestRecordCopies(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "r.json"))
	e := created("A")
	e.Applied = &Applied{Members: []string{"users/1"}}
	record(t, s, Event{Space: "A", Entry: e})
	e.Name, e.Applied.Members[0] = "spaces/changed", "users/changed"
	got := s.Entry("A")
	if got.Name != "spaces/A" || got.Applied.Members[0] != "users/1" {
		t.Errorf("Entry(A) after the caller changed its entry = %+v, want the recorded copy", got)
	}
	got.Applied.Members[0] = "users/changed"
	if again := s.Entry("A"); again.Applied.Members[0] != "users/1" {
		t.Errorf("Entry(A) after changing a returned entry = %+v, want it unchanged", again)
	}
}

func TestConcurrentRecord(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.json")
	// A small fold threshold makes folds run among concurrent records.
	s := open(t, path, WithFoldEvery(4<<10))
	const workers, each = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers*each*2)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				errs <- s.Record(Event{Space: id, Entry: created(id)})
				errs <- s.Record(Event{Space: "shared", Member: fmt.Sprintf("users/%d", i)})
				_ = s.Entry(id)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Record = %v, want no error", err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%q) = %v", path, err)
	}
	if len(got.Spaces) != workers*each+1 {
		t.Errorf("Load(%q) has %d spaces, want %d", path, len(got.Spaces), workers*each+1)
	}
	for w := range workers {
		for i := range each {
			id := fmt.Sprintf("w%d-%d", w, i)
			if e := got.Spaces[id]; e == nil || e.Name != "spaces/"+id {
				t.Errorf("Load(%q).Spaces[%q] = %+v, want spaces/%s", path, id, e, id)
			}
		}
	}
	if m := got.Spaces["shared"].Applied.Members; len(m) != each {
		t.Errorf("shared members = %d names, want %d (de-duplicated)", len(m), each)
	}
}

func TestLocked(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.json")
	s := open(t, path)
	_, err := Open(path)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open(%q) = %v, want ErrLocked", path, err)
	}
	for _, want := range []string{path + ".lock", "pid " + strconv.Itoa(os.Getpid())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("second Open(%q) = %v, want an error containing %q", path, err, want)
		}
	}
	record(t, s, Event{Space: "A", Entry: created("A")})
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	s2 := open(t, path)
	if e := s2.Entry("A"); e == nil {
		t.Errorf("Entry(A) after reopening = nil, want the recorded entry")
	}
}

func TestLockHolderUnknown(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.json")
	open(t, path)
	// A holder that has not written its details yet.
	if err := os.Truncate(path+".lock", 0); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path+".lock") {
		t.Errorf("Open(%q) = %v, want ErrLocked naming the lock file", path, err)
	}
}

func TestOpenRefusesBadState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, journal string
	}{
		{"bad file", "{not json", ""},
		{"bad journal", `{"version": 1, "spaces": {}}`, "garbage\n{\"space\":\"A\",\"member\":\"users/1\"}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := write(t, dir, "r.json", tt.file)
			write(t, dir, "r.json.journal", tt.journal)
			for range 2 { // the lock is released after a refusal
				s, err := Open(path)
				if err == nil {
					s.Close()
					t.Fatalf("Open(%q) = nil error, want the parse error", path)
				}
				if errors.Is(err, ErrLocked) {
					t.Fatalf("Open(%q) = %v, want the parse error", path, err)
				}
			}
			if data, _ := os.ReadFile(path); string(data) != tt.file {
				t.Errorf("results file after a refused Open = %q, want it untouched (%q)", data, tt.file)
			}
			if data, _ := os.ReadFile(path + ".journal"); string(data) != tt.journal {
				t.Errorf("journal after a refused Open = %q, want it untouched (%q)", data, tt.journal)
			}
		})
	}
}

// TestCrash copies the files of an open store, as SIGKILL would leave
// them, after every Record: the copy always holds everything recorded.
func TestCrash(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.json")
	s := open(t, path, WithFoldEvery(1<<10))
	var want []string
	for i := range 60 {
		id := fmt.Sprintf("s%d", i)
		record(t, s, Event{Space: id, Entry: created(id)})
		record(t, s, Event{Space: "shared", Member: "users/" + id})
		want = append(want, id)

		crashed := copyState(t, path)
		got, err := Load(crashed)
		if err != nil {
			t.Fatalf("Load(copy after %d records) = %v", i+1, err)
		}
		for _, id := range want {
			if got.Spaces[id] == nil {
				t.Fatalf("Load(copy after %d records) lacks %q", i+1, id)
			}
		}
		if m := got.Spaces["shared"].Applied.Members; len(m) != len(want) {
			t.Fatalf("Load(copy after %d records) has %d shared members, want %d", i+1, len(m), len(want))
		}
	}

	// A run that opens the crashed state folds its journal and goes on.
	crashed := copyState(t, path)
	s2 := open(t, crashed)
	if n := fileSize(t, crashed+".journal"); n != 0 {
		t.Errorf("journal size after Open = %d, want 0 (folded)", n)
	}
	got, err := Load(crashed + "") // the journal is empty: the file alone
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Spaces) != len(want)+1 {
		t.Errorf("results file after Open has %d spaces, want %d", len(got.Spaces), len(want)+1)
	}
	if s2.Entry("s59") == nil {
		t.Errorf("Entry(s59) after Open = nil, want it")
	}
}

func TestFold(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.json")
	const every = 2 << 10
	s := open(t, path, WithFoldEvery(every))
	folds := 0
	for i := range 200 {
		id := fmt.Sprintf("space-%03d", i)
		record(t, s, Event{Space: id, Entry: created(id)})
		n := fileSize(t, path+".journal")
		if n >= every {
			t.Fatalf("journal size after %d records = %d, want below %d", i+1, n, every)
		}
		if n > 0 {
			continue
		}
		// Just folded: the results file alone holds everything.
		folds++
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parse(path, data)
		if err != nil {
			t.Fatalf("results file after a fold: %v", err)
		}
		if len(f.Spaces) != i+1 {
			t.Fatalf("results file after a fold at record %d has %d spaces, want %d", i+1, len(f.Spaces), i+1)
		}
	}
	if folds < 2 {
		t.Errorf("folds = %d, want several", folds)
	}
}

// TestDefaultFoldThreshold checks the default threshold follows the size of
// the results file, so total fold cost stays linear.
func TestDefaultFoldThreshold(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	f := newFile()
	long := strings.Repeat("x", 4000) // few entries, many bytes: quick to parse
	for i := range 300 {
		id := fmt.Sprintf("space-%05d", i)
		f.Spaces[id] = &Entry{Status: Failed, Error: long}
	}
	data, err := encodeFile(f)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "r.json", string(data))
	s := open(t, path, WithoutSync())
	if got := s.foldThreshold(); got != int64(len(data)) || got <= minFold {
		t.Errorf("foldThreshold() = %d, want the results file's size %d (> 1 MiB)", got, len(data))
	}
	small := open(t, filepath.Join(dir, "small.json"), WithoutSync())
	if got := small.foldThreshold(); got != minFold {
		t.Errorf("foldThreshold() for a new file = %d, want %d", got, minFold)
	}
}

// TestKilledHolder kills a process holding the lock: its lock file is left
// behind but does not block, and its recorded event survives.
func TestKilledHolder(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.json")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), holdEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("helper said %q (%v), want ready; stderr: %s", line, err, stderr.String())
	}

	_, err = Open(path)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(cmd.Process.Pid)) {
		t.Fatalf("Open(%q) while the helper runs = %v, want ErrLocked naming pid %d", path, err, cmd.Process.Pid)
	}

	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup runs
		t.Fatal(err)
	}
	cmd.Wait()
	go io.Copy(io.Discard, out)
	if _, err := os.Stat(path + ".lock"); err != nil {
		t.Fatalf("lock file after the kill: %v, want it left behind", err)
	}

	s := open(t, path)
	if e := s.Entry("killed"); e == nil || e.Name != "spaces/K" {
		t.Errorf("Entry(killed) after the holder was killed = %+v, want spaces/K from its journal", e)
	}
}

// TestNothingRecordedChangesNothing: a run with nothing to do leaves the
// results file byte for byte as it was, and creates none where there was
// none.
func TestNothingRecordedChangesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	s, err := Open(path, WithoutSync())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Stat(%q) = %v after a run that recorded nothing, want no file", path, err)
	}

	s, err = Open(path, WithoutSync(), WithClock(func() time.Time { return time.Unix(1, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	record(t, s, Event{Space: "A", Entry: created("AAAA1234567")})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, WithoutSync(), WithClock(func() time.Time { return time.Unix(2, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Fatalf("results file after a run that recorded nothing:\n%s\nwant it unchanged:\n%s", after, before)
	}
	if _, err := os.Stat(path + ".journal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("journal left behind: %v", err)
	}
}
