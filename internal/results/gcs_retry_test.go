package results

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// unavailable503 answers 503 as Cloud Storage does when it sheds load.
func unavailable503(r *http.Request) *http.Response {
	body := `{"error":{"code":503,"message":"We encountered an internal error. Please try again."}}`
	return &http.Response{StatusCode: 503, Status: "503 Service Unavailable", Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}
}

// A 503 to an upload is retried, as Cloud Storage asks of its clients,
// whether it came before the write was carried out or after (the answer
// lost): a write with a generation precondition may be sent again, and
// the one that finds its own data there already succeeds.
func TestGCSWriteRetriedAfter503(t *testing.T) {
	t.Parallel()
	for _, after := range []bool{false, true} {
		srv, _ := fakeGCS(t, "b")
		var uploads atomic.Int64
		obj := GCS(gcsClient(t, srv, func(next http.RoundTripper) http.RoundTripper {
			return roundTripper(func(r *http.Request) (*http.Response, error) {
				if strings.Contains(r.URL.Path, "/upload/") && uploads.Add(1) == 1 {
					if after {
						resp, err := next.RoundTrip(r)
						if err != nil {
							return nil, err
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					} else if r.Body != nil {
						io.Copy(io.Discard, r.Body)
						r.Body.Close()
					}
					return unavailable503(r), nil
				}
				return next.RoundTrip(r)
			})
		}), "b")
		ctx := context.Background()
		gen, err := writeOwn(ctx, obj, "x", []byte("1\n"), 0)
		if err != nil {
			t.Fatalf("answer lost %v: write after one 503: %v", after, err)
		}
		data, g, err := obj.Read(ctx, "x")
		if err != nil || string(data) != "1\n" || g != gen {
			t.Fatalf("answer lost %v: read back %q gen %d (%v), want the write's, gen %d", after, data, g, err, gen)
		}
		if _, err := obj.Write(ctx, "x", []byte("2\n"), gen+1); !errors.Is(err, ErrPrecondition) {
			t.Fatalf("a write over another generation: %v, want ErrPrecondition", err)
		}
	}
}

// Journal records left in the bucket after a fold (a delete refused: an
// object hold, a 503) are always a tail of what the results object
// holds, never a record without those after it: replayed alone, an older
// record would undo a newer one (a member removed added back).
func TestGCSRecordsLeftAreATail(t *testing.T) {
	t.Parallel()
	_, inner := fakeGCS(t, "b")
	obj := &faulty{Objects: inner}
	ctx := context.Background()
	a := openRemote(t, obj, RemoteOptions{})
	for _, ev := range []Event{
		createdEvent("A", "AAA"),
		{Space: "A", Member: "users/m"},
		{Space: "A", Member: "users/m", Removed: true},
	} {
		if err := a.Record(ev); err != nil {
			t.Fatal(err)
		}
	}
	// No record can be deleted: all three stay beside the results object.
	obj.set(func(op, name string) error {
		if op == "delete" {
			return errors.New("503: unavailable")
		}
		return nil
	})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	records := objectNames(t, inner, stateName+".journal/")
	if len(records) != 3 {
		t.Fatalf("records after a close whose deletes failed: %v, want 3", records)
	}
	// The next run can delete all but the second one.
	obj.set(func(op, name string) error {
		if op == "delete" && name == records[1] {
			return errors.New("503: unavailable")
		}
		return nil
	})
	b := openRemote(t, obj, RemoteOptions{})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := LoadRemote(ctx, inner, stateName)
	if err != nil {
		t.Fatal(err)
	}
	if ap := f.Spaces["A"].Applied; ap != nil && len(ap.Members) != 0 {
		t.Fatalf("members of A read back: %v, want none (users/m was removed); records left: %v",
			ap.Members, objectNames(t, inner, stateName+".journal/"))
	}
}

// A lock object whose epoch is out of the range the journal's names can
// hold (edited by hand, or written by something else) is refused, never
// taken over: records named after an epoch of eleven digits would be
// passed over by every later run, and what they record lost.
func TestGCSLockEpochOutOfRange(t *testing.T) {
	t.Parallel()
	for _, epoch := range []string{"9999999999", "-3", "12345678901"} {
		_, obj := fakeGCS(t, "b")
		ctx := context.Background()
		lock := `{"host":"h","pid":1,"since":"2026-01-01T00:00:00Z","run":"r","epoch":` + epoch + `,"renewed":"2026-01-01T00:00:00Z","expires":"2026-01-01T00:01:00Z","released":true}` + "\n"
		if _, err := obj.Write(ctx, stateName+".lock", []byte(lock), 0); err != nil {
			t.Fatal(err)
		}
		r, err := OpenRemote(ctx, obj, stateName, RemoteOptions{Lease: 3 * time.Second})
		if err != nil {
			if !errors.Is(err, ErrUnsafeFile) {
				t.Errorf("epoch %s: %v, want ErrUnsafeFile", epoch, err)
			}
			continue
		}
		rerr := r.Record(createdEvent("A", "AAA"))
		// What Record returned is read by the next run, even after a crash.
		f, err := LoadRemote(ctx, obj, stateName)
		r.Close()
		if rerr == nil && (err != nil || f.Spaces["A"] == nil) {
			t.Errorf("epoch %s: a record that Record returned is not read back (%v); records: %v", epoch, err, objectNames(t, obj, stateName+".journal/"))
		}
	}
}

// A machine suspended past the lease (a laptop's lid shut, a VM
// suspended) wakes with its monotonic clock where it stopped, while the
// wall clock, and the next run, went on: the lease is judged lost by the
// wall clock too, at once, not at the next renewal.
func TestGCSSuspendedPastLease(t *testing.T) {
	t.Parallel()
	_, obj := fakeGCS(t, "b")
	var skip atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(skip.Load())) }
	const lease = 30 * time.Second
	a := openRemote(t, obj, RemoteOptions{Lease: lease, Clock: clock})
	if err := a.Record(pendingEvent("A")); err != nil {
		t.Fatal(err)
	}
	if err := a.Check(); err != nil {
		t.Fatalf("Check while the lease holds: %v", err)
	}
	// Suspended for two leases: the monotonic clock did not move.
	skip.Store(int64(2 * lease))
	b, err := OpenRemote(context.Background(), obj, stateName, RemoteOptions{Lease: lease, Clock: clock})
	if err != nil {
		t.Fatalf("the next run after the lease ran out: %v", err)
	}
	defer b.Close()
	if err := a.Check(); !errors.Is(err, ErrLockLost) {
		t.Fatalf("Check on waking, the lock taken over: %v, want ErrLockLost", err)
	}
	if err := a.Record(createdEvent("A", "AAA")); !errors.Is(err, ErrLockLost) {
		t.Fatalf("Record on waking: %v, want ErrLockLost", err)
	}
	if err := a.Close(); !errors.Is(err, ErrLockLost) {
		t.Fatalf("Close: %v, want ErrLockLost", err)
	}
}

// A lock object deleted during the run (by hand, by a lifecycle rule) is
// a lock lost: another run may have created it since. The Record that
// finds it gone fails with ErrLockLost, and Close writes nothing.
func TestGCSLockDeletedMidRun(t *testing.T) {
	t.Parallel()
	_, obj := fakeGCS(t, "b")
	ctx := context.Background()
	a := openRemote(t, obj, RemoteOptions{Lease: 30 * time.Second})
	if err := a.Record(createdEvent("A", "AAA")); err != nil {
		t.Fatal(err)
	}
	if err := obj.Delete(ctx, stateName+".lock"); err != nil {
		t.Fatal(err)
	}
	err := a.Record(createdEvent("B", "BBB"))
	if !errors.Is(err, ErrLockLost) {
		t.Errorf("Record with the lock deleted: %v, want ErrLockLost", err)
	}
	if err := a.Check(); !errors.Is(err, ErrLockLost) {
		t.Errorf("Check with the lock deleted: %v, want ErrLockLost", err)
	}
	before := objectNames(t, obj, "")
	if err := a.Close(); !errors.Is(err, ErrLockLost) {
		t.Errorf("Close: %v, want ErrLockLost", err)
	}
	if after := objectNames(t, obj, ""); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("objects before Close: %v; after: %v", before, after)
	}
	if _, _, err := obj.Read(ctx, stateName); !errors.Is(err, ErrNotExist) {
		t.Errorf("the results object was written after the lock was lost: %v", err)
	}
}

// A fold cut short after the results object was written and before its
// records were deleted (every delete refused): every tail of the records
// replayed over that object reads back as the object alone, whatever the
// events (an entry replaced, members added, given roles and removed,
// settings, a rename, a deletion, a space created again after it).
func TestGCSFoldCutShortReplaysToTheSame(t *testing.T) {
	t.Parallel()
	_, inner := fakeGCS(t, "b")
	obj := &faulty{Objects: inner}
	ctx := context.Background()
	del := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	a := openRemote(t, obj, RemoteOptions{})
	for _, ev := range []Event{
		createdEvent("A", "AAA"),
		{Space: "A", Member: "users/m", Role: RoleOwner},
		{Space: "A", Member: "users/n"},
		{Space: "A", Settings: map[string]string{"description": "d"}},
		{Space: "A", Member: "users/m", Role: RoleMember},
		{Space: "A", Member: "users/m", Removed: true},
		{Space: "A", DisplayName: "A renamed"},
		createdEvent("B", "BBB"),
		{Space: "B", Member: "users/n"},
		{Space: "B", Deleted: &del},
		createdEvent("B", "BB2"),
		{Space: "A", Member: "users/m", ID: "users/123"},
	} {
		if err := a.Record(ev); err != nil {
			t.Fatal(err)
		}
	}
	obj.set(func(op, name string) error {
		if op == "delete" {
			return errors.New("503: unavailable")
		}
		return nil
	})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	obj.set(nil)
	records := objectNames(t, inner, stateName+".journal/")
	if len(records) != 12 {
		t.Fatalf("records left: %v, want 12", records)
	}
	saved := map[string][]byte{}
	for _, n := range records {
		data, _, err := inner.Read(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		saved[n] = data
	}
	load := func(tail []string) string {
		t.Helper()
		for _, n := range objectNames(t, inner, stateName+".journal/") {
			if err := inner.Delete(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range tail {
			if _, err := inner.Write(ctx, n, saved[n], 0); err != nil {
				t.Fatal(err)
			}
		}
		f, err := LoadRemote(ctx, inner, stateName)
		if err != nil {
			t.Fatal(err)
		}
		f.UpdatedAt = time.Time{}
		b, _ := json.Marshal(f)
		return string(b)
	}
	want := load(nil)
	for i := range records {
		if got := load(records[i:]); got != want {
			t.Errorf("records from %d on replayed over the results object:\n%s\nwant\n%s", i+1, got, want)
		}
	}
}

// landsThenFails carries a write of the lock out, then answers it with an
// error, as a renewal whose answer never came back within its deadline.
type landsThenFails struct {
	Objects
	armed *atomic.Bool
}

func (l landsThenFails) Write(ctx context.Context, name string, data []byte, gen int64) (int64, error) {
	g, err := l.Objects.Write(ctx, name, data, gen)
	if err == nil && strings.HasSuffix(name, ".lock") && l.armed.CompareAndSwap(true, false) {
		return 0, context.DeadlineExceeded
	}
	return g, err
}

// A renewal that was carried out though its answer never came (the
// deadline passed first) leaves the lock this run's: the next read-back
// and the next renewal find the run's own lock there, and the run goes
// on, rather than stop as if another run had taken it over.
func TestGCSRenewalLandedUnanswered(t *testing.T) {
	t.Parallel()
	_, inner := fakeGCS(t, "b")
	armed := &atomic.Bool{}
	const lease = 3 * time.Second
	a := openRemote(t, landsThenFails{Objects: inner, armed: armed}, RemoteOptions{Lease: lease})
	armed.Store(true)
	// The first renewal, at a third of the lease, lands unanswered.
	time.Sleep(lease/3 + 300*time.Millisecond)
	if armed.Load() {
		t.Fatal("no renewal was made")
	}
	if err := a.Record(pendingEvent("A")); err != nil {
		t.Fatalf("Record after a renewal that landed unanswered: %v", err)
	}
	// And the next renewal, over the generation that landed.
	time.Sleep(lease / 3)
	if err := a.Record(createdEvent("A", "AAA")); err != nil {
		t.Fatalf("Record after the next renewal: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// resultsLandsThenFails carries the first write of the results object
// out, then answers it with an error, as one whose deadline passed first.
type resultsLandsThenFails struct {
	Objects
	armed *atomic.Bool
}

func (l resultsLandsThenFails) Write(ctx context.Context, name string, data []byte, gen int64) (int64, error) {
	g, err := l.Objects.Write(ctx, name, data, gen)
	if err == nil && name == stateName && l.armed.CompareAndSwap(true, false) {
		return 0, context.DeadlineExceeded
	}
	return g, err
}

// A write of the results object carried out though its answer never came
// is not taken, at the next fold, for one another run made: the run goes
// on and its results are whole.
func TestGCSFoldLandedUnanswered(t *testing.T) {
	t.Parallel()
	_, inner := fakeGCS(t, "b")
	armed := &atomic.Bool{}
	a := openRemote(t, resultsLandsThenFails{Objects: inner, armed: armed}, RemoteOptions{FoldEvery: 1})
	armed.Store(true)
	for _, ev := range []Event{createdEvent("A", "AAA"), createdEvent("B", "BBB"), createdEvent("C", "CCC")} {
		if err := a.Record(ev); err != nil {
			t.Fatalf("Record %s: %v", ev.Space, err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	f, err := LoadRemote(context.Background(), inner, stateName)
	if err != nil || len(f.Spaces) != 3 {
		t.Fatalf("results: %v, %v; want 3 spaces", f, err)
	}
}

// beforeResultsRead runs hook once, before the first read of the results
// object.
type beforeResultsRead struct {
	Objects
	hook func()
	once *sync.Once
}

func (b beforeResultsRead) Read(ctx context.Context, name string) ([]byte, int64, error) {
	if name == stateName {
		b.once.Do(b.hook)
	}
	return b.Objects.Read(ctx, name)
}

// A read of the state without the lock (a plan) while the run holding it
// folds its journal (the results object rewritten, its records deleted,
// between the read of the records and that of the results object) does
// not replay the old records over the new results object.
func TestGCSLoadDuringFold(t *testing.T) {
	t.Parallel()
	_, obj := fakeGCS(t, "b")
	a := openRemote(t, obj, RemoteOptions{FoldEvery: 2})
	defer a.Close()
	if err := a.Record(pendingEvent("X")); err != nil {
		t.Fatal(err)
	}
	view := beforeResultsRead{Objects: obj, once: &sync.Once{}, hook: func() {
		if err := a.Record(createdEvent("X", "XXX")); err != nil {
			t.Error(err)
		}
	}}
	f, err := LoadRemote(context.Background(), view, stateName)
	if err != nil {
		t.Fatal(err)
	}
	if e := f.Spaces["X"]; e == nil || e.Status != Created {
		t.Fatalf("X read during the fold: %+v, want created", e)
	}
}
