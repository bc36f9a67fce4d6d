package results

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

const stateName = "prod/spaces.results.json"

func openRemote(t *testing.T, obj Objects, o RemoteOptions) *Remote {
	t.Helper()
	if o.Lease == 0 {
		o.Lease = 2 * time.Second
	}
	r, err := OpenRemote(context.Background(), obj, stateName, o)
	if err != nil {
		t.Fatalf("OpenRemote: %v", err)
	}
	return r
}

func objectNames(t *testing.T, obj Objects, prefix string) []string {
	t.Helper()
	names, err := obj.List(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// The emulator honours ifGenerationMatch on uploads as Cloud Storage
// does: a write over a generation that is no longer the object's is
// refused with 412, which the adapter reports as ErrPrecondition.
func TestGCSWritePrecondition(t *testing.T) {
	t.Parallel()
	_, obj := fakeGCS(t, "b")
	ctx := context.Background()
	g1, err := obj.Write(ctx, "x", []byte("1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.Write(ctx, "x", []byte("again"), 0); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("write if absent over an object: %v, want ErrPrecondition", err)
	}
	g2, err := obj.Write(ctx, "x", []byte("2"), g1)
	if err != nil || g2 == g1 {
		t.Fatalf("write over its generation: gen %d, %v", g2, err)
	}
	if _, err := obj.Write(ctx, "x", []byte("3"), g1); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("write over a stale generation: %v, want ErrPrecondition", err)
	}
	data, gen, err := obj.Read(ctx, "x")
	if err != nil || string(data) != "2" || gen != g2 {
		t.Fatalf("Read = %q, %d, %v; want \"2\", %d", data, gen, err, g2)
	}
	if _, _, err := obj.Read(ctx, "none"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Read(missing) = %v, want ErrNotExist", err)
	}
}

// Nothing is written but the three kinds of objects, under the state's
// name; after a clean close, the results object and the released lock
// alone remain.
func TestGCSObjectsAfterRun(t *testing.T) {
	t.Parallel()
	_, obj := fakeGCS(t, "b")
	r := openRemote(t, obj, RemoteOptions{})
	if err := r.Record(pendingEvent("A")); err != nil {
		t.Fatal(err)
	}
	if got := objectNames(t, obj, stateName+".journal/"); len(got) != 1 {
		t.Fatalf("journal records during the run: %v, want one", got)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	got := objectNames(t, obj, "")
	want := []string{stateName, stateName + ".lock"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("objects after the run: %v, want %v", got, want)
	}
	data, _, _ := obj.Read(context.Background(), stateName+".lock")
	var h lockHolder
	if err := json.Unmarshal(data, &h); err != nil || !h.Released || h.Version != "" && h.PID == 0 {
		t.Fatalf("lock after the run: %s, want released", data)
	}
	// Released: the next run takes it at once, and says nothing of a
	// takeover.
	var said []string
	r2 := openRemote(t, obj, RemoteOptions{Notify: func(s string) { said = append(said, s) }})
	defer r2.Close()
	if len(said) != 0 {
		t.Fatalf("taking a released lock said %q", said)
	}
}

// A second run is refused while the first holds the lease, with a message
// naming the lock and its holder; once the holder is dead and its lease
// has run out, the next run takes the lock over, says so, and folds what
// the dead run recorded.
func TestGCSStaleLeaseTakenOver(t *testing.T) {
	t.Parallel()
	_, obj := fakeGCS(t, "b")
	const lease = 2 * time.Second
	a := openRemote(t, obj, RemoteOptions{Lease: lease, Version: "v1.2.3"})
	for _, ev := range []Event{pendingEvent("A"), createdEvent("B", "BBB")} {
		if err := a.Record(ev); err != nil {
			t.Fatal(err)
		}
	}
	// A live holder renews: well past one lease, a second run is still
	// refused.
	time.Sleep(lease + lease/2)
	_, err := OpenRemote(context.Background(), obj, stateName, RemoteOptions{Lease: lease})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second run while the first renews: %v, want ErrLocked", err)
	}
	for _, want := range []string{"gs://b/" + stateName + ".lock", "pid ", "host ", "version v1.2.3", "running out at"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	a.abandon() // SIGKILL: no more renewals, nothing released
	time.Sleep(lease + 200*time.Millisecond)
	var said []string
	b := openRemote(t, obj, RemoteOptions{Lease: lease, Notify: func(s string) { said = append(said, s) }})
	if len(said) != 1 || !strings.Contains(said[0], "took over the lock") || !strings.Contains(said[0], "2 journal records") {
		t.Fatalf("takeover said %q", said)
	}
	if e := b.Entry("A"); e == nil || e.RequestID != "req-A" {
		t.Fatalf("the dead run's pending entry: %+v", e)
	}
	// Folded at once: the records are gone, the results object has them.
	if got := objectNames(t, obj, stateName+".journal/"); len(got) != 0 {
		t.Fatalf("journal records after the takeover: %v", got)
	}
	f, err := LoadRemote(context.Background(), obj, stateName)
	if err != nil || f.Spaces["B"] == nil || f.Spaces["B"].Name != "spaces/BBB" {
		t.Fatalf("results object after the takeover: %+v, %v", f, err)
	}
	// The dead run, were it to wake, writes nothing more.
	if err := a.Record(createdEvent("A", "AAA")); !errors.Is(err, ErrLockLost) {
		t.Fatalf("Record by the run taken over: %v, want ErrLockLost", err)
	}
	if err := a.Close(); !errors.Is(err, ErrLockLost) {
		t.Fatalf("Close by the run taken over: %v, want ErrLockLost", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	f, _ = LoadRemote(context.Background(), obj, stateName)
	if e := f.Spaces["A"]; e.Status != Pending {
		t.Fatalf("entry A after both: %+v, want the pending one (the record of the run taken over is not written)", e)
	}
}

// A run paused past its lease (stopped, swapped out) finds on waking that
// it can no longer write: it stops at its next record, before the record
// counts, and its close writes nothing.
func TestGCSPausedRunStops(t *testing.T) {
	t.Parallel()
	_, obj := fakeGCS(t, "b")
	const lease = time.Second
	a := openRemote(t, obj, RemoteOptions{Lease: lease})
	if err := a.Record(pendingEvent("A")); err != nil {
		t.Fatal(err)
	}
	a.abandon()
	time.Sleep(lease + 200*time.Millisecond)
	// Its own clock tells it first, with no call.
	before := len(objectNames(t, obj, ""))
	if err := a.Record(createdEvent("A", "AAA")); !errors.Is(err, ErrLockLost) {
		t.Fatalf("Record after the lease ran out: %v, want ErrLockLost", err)
	}
	if err := a.Record(pendingEvent("Z")); !errors.Is(err, ErrLockLost) {
		t.Fatalf("a later Record: %v, want ErrLockLost again", err)
	}
	if err := a.Close(); !errors.Is(err, ErrLockLost) {
		t.Fatalf("Close: %v, want ErrLockLost", err)
	}
	if after := len(objectNames(t, obj, "")); after != before {
		t.Fatalf("objects went from %d to %d after the lease was lost", before, after)
	}
}

// A lock taken over between a record's write and the check that follows
// it fails that Record: the run never goes on to the call it protects,
// and the run that took over has the record (it listed the journal after
// the takeover).
func TestGCSTakeoverBetweenWriteAndCheck(t *testing.T) {
	t.Parallel()
	_, inner := fakeGCS(t, "b")
	obj := &faulty{Objects: inner}
	a := openRemote(t, obj, RemoteOptions{Lease: time.Minute})
	obj.set(func(op, name string) error {
		if op == "write" && isJournal(name) {
			// Another run overwrites the lock as if it took it over.
			data, gen, _ := inner.Read(context.Background(), stateName+".lock")
			var h lockHolder
			json.Unmarshal(data, &h)
			h.Run, h.PID, h.Epoch = "other", 1, h.Epoch+1
			b, _ := json.Marshal(h)
			inner.Write(context.Background(), stateName+".lock", b, gen)
		}
		return nil
	})
	err := a.Record(pendingEvent("A"))
	if !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), "taken over") {
		t.Fatalf("Record: %v, want ErrLockLost saying the lock was taken over", err)
	}
	obj.set(nil)
	// The record written after the takeover is removed: Record failed, so
	// nobody acted on it, and replayed later it could undo newer state.
	if got := objectNames(t, inner, stateName+".journal/"); len(got) != 0 {
		t.Fatalf("journal records after a Record that lost the lock: %v", got)
	}
	if err := a.Close(); !errors.Is(err, ErrLockLost) {
		t.Fatalf("Close: %v", err)
	}
	// The lock is the other run's: Close did not mark it released.
	data, _, _ := inner.Read(context.Background(), stateName+".lock")
	if !bytes.Contains(data, []byte(`"run":"other"`)) || bytes.Contains(data, []byte("released")) {
		t.Fatalf("lock after Close: %s", data)
	}
}

// A 412 on the write of the results object (another run wrote it since
// this one read it) stops the run; the write is not retried over the new
// generation, and the records stay for the next run.
func TestGCSFoldPreconditionFailed(t *testing.T) {
	t.Parallel()
	_, inner := fakeGCS(t, "b")
	obj := &faulty{Objects: inner}
	a := openRemote(t, obj, RemoteOptions{})
	if err := a.Record(createdEvent("A", "AAA")); err != nil {
		t.Fatal(err)
	}
	// Someone else writes the results object.
	if _, err := inner.Write(context.Background(), stateName, []byte(`{"version":2,"spaces":{}}`), 0); err != nil {
		t.Fatal(err)
	}
	n := obj.writes.Load()
	err := a.Close()
	if !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), "written by another run") {
		t.Fatalf("Close: %v, want ErrLockLost: results written by another run", err)
	}
	// One write of the results object, refused; then the release of the lock.
	if got := obj.writes.Load() - n; got != 2 {
		t.Fatalf("%d writes at Close, want 2 (the refused fold, the release)", got)
	}
	if got := objectNames(t, inner, stateName+".journal/"); len(got) != 1 {
		t.Fatalf("journal records after a refused fold: %v, want the one kept", got)
	}
	data, _, _ := inner.Read(context.Background(), stateName)
	if string(data) != `{"version":2,"spaces":{}}` {
		t.Fatalf("results object overwritten: %s", data)
	}
}

// A write whose first attempt landed and whose answer was lost is retried
// by the client and answered 412 (the object is no longer the generation
// it was sent for): the store reads the object back, finds its own data,
// and goes on.
func TestGCSLostAnswerOfOwnWrite(t *testing.T) {
	t.Parallel()
	_, inner := fakeGCS(t, "b")
	lose := &atomic.Bool{}
	obj := lostAnswers{Objects: inner, lose: lose}
	a := openRemote(t, obj, RemoteOptions{})
	lose.Store(true)
	if err := a.Record(pendingEvent("A")); err != nil {
		t.Fatalf("Record whose answer was lost: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close with answers lost: %v", err)
	}
	lose.Store(false)
	f, err := LoadRemote(context.Background(), inner, stateName)
	if err != nil || f.Spaces["A"] == nil {
		t.Fatalf("state: %+v, %v", f, err)
	}
}

// lostAnswers writes, then answers every write as a retry after a lost
// answer would be answered: 412.
type lostAnswers struct {
	Objects
	lose *atomic.Bool
}

func (l lostAnswers) Write(ctx context.Context, name string, data []byte, gen int64) (int64, error) {
	g, err := l.Objects.Write(ctx, name, data, gen)
	if err == nil && l.lose.Load() {
		return 0, ErrPrecondition
	}
	return g, err
}

// A 412 on the release (another run took the lock over after this run's
// last write) is reported, not retried.
func TestGCSReleasePreconditionFailed(t *testing.T) {
	t.Parallel()
	_, inner := fakeGCS(t, "b")
	obj := &faulty{Objects: inner}
	a := openRemote(t, obj, RemoteOptions{Lease: time.Minute})
	obj.set(func(op, name string) error {
		if op == "write" && isLock(name) {
			return ErrPrecondition
		}
		return nil
	})
	if err := a.Close(); !errors.Is(err, ErrLockLost) {
		t.Fatalf("Close with the release refused: %v, want ErrLockLost", err)
	}
}

// A renewal answered 412 means the lock was taken over: the run stops.
func TestGCSRenewalPreconditionFailed(t *testing.T) {
	t.Parallel()
	_, inner := fakeGCS(t, "b")
	obj := &faulty{Objects: inner}
	a := openRemote(t, obj, RemoteOptions{Lease: 600 * time.Millisecond})
	obj.set(func(op, name string) error {
		if op == "write" && isLock(name) {
			return ErrPrecondition
		}
		return nil
	})
	time.Sleep(450 * time.Millisecond) // past the first renewal, at 200 ms
	if err := a.lease.check(); !errors.Is(err, ErrLockLost) {
		t.Fatalf("after a renewal answered 412: %v, want ErrLockLost", err)
	}
	if err := a.Record(pendingEvent("A")); !errors.Is(err, ErrLockLost) {
		t.Fatalf("Record: %v", err)
	}
	a.Close()
}

// Renewals that fail for other reasons are tried again; none succeeding
// within five sixths of the lease stops the run before the lease runs
// out for others.
func TestGCSRenewalsFail(t *testing.T) {
	t.Parallel()
	_, inner := fakeGCS(t, "b")
	obj := &faulty{Objects: inner}
	const lease = 600 * time.Millisecond
	a := openRemote(t, obj, RemoteOptions{Lease: lease})
	obj.set(func(op, name string) error {
		if op == "write" && isLock(name) {
			return errors.New("connection reset")
		}
		return nil
	})
	time.Sleep(lease*5/6 + 50*time.Millisecond)
	if err := a.Record(pendingEvent("A")); !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), "could not be renewed") {
		t.Fatalf("Record after renewals failed: %v", err)
	}
	obj.set(nil)
	a.Close()
}

// Refusals before any Chat call: a missing bucket, no permission, a lock
// object or a results object this program did not write.
// Every FoldEvery records the journal is folded into the results object
// and its records deleted, so that a long run leaves few for a reader.
func TestGCSFoldEvery(t *testing.T) {
	t.Parallel()
	_, obj := fakeGCS(t, "b")
	r := openRemote(t, obj, RemoteOptions{FoldEvery: 3})
	for i := range 7 {
		if err := r.Record(createdEvent(string(rune('A'+i)), "ID"+string(rune('A'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	if got := objectNames(t, obj, stateName+".journal/"); len(got) != 1 {
		t.Fatalf("journal records after 7 records, folding every 3: %v, want 1", got)
	}
	data, _, err := obj.Read(context.Background(), stateName)
	if err != nil || !bytes.Contains(data, []byte("IDF")) {
		t.Fatalf("results object after two folds: %s, %v", data, err)
	}
	if f, err := LoadRemote(context.Background(), obj, stateName); err != nil || len(f.Spaces) != 7 {
		t.Fatalf("LoadRemote during the run: %d spaces, %v; want 7", len(f.Spaces), err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// A record of an earlier run that appears after the next run took the
// lock (a run that had lost it, whose Record then failed) is deleted at
// the next fold, never replayed over newer state.
func TestGCSStrayRecordDropped(t *testing.T) {
	t.Parallel()
	_, obj := fakeGCS(t, "b")
	a := openRemote(t, obj, RemoteOptions{})
	if err := a.Record(createdEvent("A", "AAA")); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b := openRemote(t, obj, RemoteOptions{})
	stray := stateName + ".journal/0000000001-0000000099"
	line, _ := json.Marshal(pendingEvent("A"))
	if _, err := obj.Write(context.Background(), stray, append(line, '\n'), 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Record(createdEvent("B", "BBB")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := LoadRemote(context.Background(), obj, stateName)
	if err != nil || f.Spaces["A"].Status != Created {
		t.Fatalf("entry A: %+v, %v; want created, the stray not replayed", f.Spaces["A"], err)
	}
	if got := objectNames(t, obj, stateName+".journal/"); len(got) != 0 {
		t.Fatalf("journal records left: %v", got)
	}
}

func TestGCSRefusals(t *testing.T) {
	t.Parallel()
	srv, obj := fakeGCS(t, "b")
	ctx := context.Background()
	if _, err := OpenRemote(ctx, GCS(gcsClient(t, srv, nil), "missing"), stateName, RemoteOptions{}); !errors.Is(err, ErrNoBucket) || !strings.Contains(err.Error(), "gs://missing") {
		t.Errorf("missing bucket: %v, want ErrNoBucket naming it", err)
	}
	if _, err := LoadRemote(ctx, GCS(gcsClient(t, srv, nil), "missing"), stateName); !errors.Is(err, ErrNoBucket) {
		t.Errorf("missing bucket, read only: %v, want ErrNoBucket", err)
	}
	forbidden := gcsClient(t, srv, func(http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) {
			body := `{"error":{"code":403,"message":"provision@p.iam.gserviceaccount.com does not have storage.objects.get access to the Google Cloud Storage object.","errors":[{"reason":"forbidden"}]}}`
			return &http.Response{StatusCode: 403, Status: "403 Forbidden", Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
		})
	})
	_, err := OpenRemote(ctx, GCS(forbidden, "b"), stateName, RemoteOptions{})
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "storage.objects.get") {
		t.Errorf("403: %v, want ErrForbidden with the server's message", err)
	}

	srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "b", Name: "notes.json"}, Content: []byte(`{"hello": "world"}`)})
	_, err = OpenRemote(ctx, obj, "notes.json", RemoteOptions{})
	if err == nil || !strings.Contains(err.Error(), `unknown field "hello"`) || !strings.Contains(err.Error(), "gs://b/notes.json") {
		t.Errorf("an object that is not a results file: %v", err)
	}
	// The lock it took is released again: the next run is not refused.
	data, _, _ := obj.Read(ctx, "notes.json.lock")
	if !bytes.Contains(data, []byte(`"released":true`)) {
		t.Errorf("lock after a refused open: %s", data)
	}
	srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "b", Name: "other.json.lock"}, Content: []byte("locked by hand")})
	if _, err := OpenRemote(ctx, obj, "other.json", RemoteOptions{}); !errors.Is(err, ErrUnsafeFile) {
		t.Errorf("a lock object of another program: %v, want ErrUnsafeFile", err)
	}
}

// Two runs racing for a free lock: one gets it, the other is refused
// (its write of the lock answered 412, and the lock read again is held).
func TestGCSRaceForLock(t *testing.T) {
	t.Parallel()
	_, obj := fakeGCS(t, "b")
	type res struct {
		r   *Remote
		err error
	}
	ch := make(chan res, 4)
	for range 4 {
		go func() {
			r, err := OpenRemote(context.Background(), obj, stateName, RemoteOptions{Lease: 5 * time.Second})
			ch <- res{r, err}
		}()
	}
	won := 0
	for range 4 {
		x := <-ch
		switch {
		case x.err == nil:
			won++
			defer x.r.Close()
		case !errors.Is(x.err, ErrLocked):
			t.Errorf("a run that lost the race: %v, want ErrLocked", x.err)
		}
	}
	if won != 1 {
		t.Fatalf("%d runs took the lock, want 1", won)
	}
}

func TestParseRemote(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want RemotePath
		ok   bool
	}{
		{"gs://my-bucket/prod/spaces.results.json", RemotePath{"my-bucket", "prod/spaces.results.json"}, true},
		{"gs://a.b.c/x.json", RemotePath{"a.b.c", "x.json"}, true},
		{"gs://my-bucket", RemotePath{}, false},
		{"gs://my-bucket/", RemotePath{}, false},
		{"gs://my-bucket/dir/", RemotePath{}, false},
		{"gs://My_Bucket/x.json", RemotePath{}, false},
		{"gs://ab/x.json", RemotePath{}, false},
		{"gs://-ab/x.json", RemotePath{}, false},
		{"gs://bucket/../x.json", RemotePath{}, false},
		{"gs://bucket/x#y", RemotePath{}, false},
		{"gs://bucket/x.json.lock", RemotePath{}, false},
		{"gs://bucket/x.json.journal/0000000001-0000000001", RemotePath{}, false},
		{"gs://bucket/x.journal.json", RemotePath{"bucket", "x.journal.json"}, true},
		{"/tmp/x.json", RemotePath{}, false},
	} {
		got, err := ParseRemote(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseRemote(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// A results file written on local disk, copied into the bucket as it is
// (gcloud storage cp), is the state of the next run there.
func TestGCSReadsALocalResultsFile(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/spaces.results.json"
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Record(createdEvent("A", "AAA")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, obj := fakeGCS(t, "b")
	if _, err := obj.Write(context.Background(), stateName, data, 0); err != nil {
		t.Fatal(err)
	}
	r := openRemote(t, obj, RemoteOptions{})
	if e := r.Entry("A"); e == nil || e.Name != "spaces/AAA" {
		t.Fatalf("Entry(A) = %+v", e)
	}
	if err := r.Record(createdEvent("B", "BBB")); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
