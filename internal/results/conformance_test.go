package results

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// A backend is one place the state can live, as the conformance suite
// sees it: open a run's Handle, read the state without the lock (as
// --plan does), and drop a Handle as a killed process would.
type backend struct {
	name string
	// open opens the state for a run.
	open func(t *testing.T) (Handle, error)
	// load reads it without the lock.
	load func(t *testing.T) *File
	// crash drops h without closing it: what it recorded must survive,
	// and the next open (once the lock is free) must fold it in.
	crash func(t *testing.T, h Handle)
}

// mustOpen opens the state for a run, or fails the test.
func (b backend) mustOpen(t *testing.T) Handle {
	t.Helper()
	h, err := b.open(t)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// backends are every implementation of Handle, each over a fresh state.
func backends(t *testing.T) []func(t *testing.T) backend {
	return []func(t *testing.T) backend{
		func(t *testing.T) backend {
			path := filepath.Join(t.TempDir(), "spaces.results.json")
			return backend{
				name: "local",
				open: func(t *testing.T) (Handle, error) { return Open(path) },
				load: func(t *testing.T) *File {
					f, err := Load(path)
					if err != nil {
						t.Fatal(err)
					}
					return f
				},
				crash: func(t *testing.T, h Handle) {
					// The kernel releases a dead process's flock; closing
					// the descriptors without writing does the same here.
					s := h.(*Store)
					s.qmu.Lock()
					s.closed = true
					s.qmu.Unlock()
					close(s.stop)
					<-s.done
					s.journal.Close()
					s.releaseLock()
					s.dir.Close()
				},
			}
		},
		func(t *testing.T) backend {
			_, obj := fakeGCS(t, "state")
			const lease = time.Second
			return backend{
				name: "gcs",
				open: func(t *testing.T) (Handle, error) {
					return OpenRemote(context.Background(), obj, "runs/spaces.results.json", RemoteOptions{Lease: lease, Version: "test"})
				},
				load: func(t *testing.T) *File {
					f, err := LoadRemote(context.Background(), obj, "runs/spaces.results.json")
					if err != nil {
						t.Fatal(err)
					}
					return f
				},
				crash: func(t *testing.T, h Handle) {
					h.(*Remote).abandon()
					// A dead holder's lease must run out before the next run.
					time.Sleep(lease + 100*time.Millisecond)
				},
			}
		},
	}
}

func pendingEvent(key string) Event {
	return Event{Space: key, Entry: &Entry{Status: Pending, RequestID: "req-" + key, Principal: "users/admin@example.com"}}
}

func createdEvent(key, id string) Event {
	return Event{Space: key, Entry: &Entry{Status: Created, Name: "spaces/" + id, ID: id, RequestID: "req-" + key, Principal: "users/admin@example.com"}}
}

// TestConformance runs every implementation of Handle through the same
// promises: what Record returned is read by later runs, after a clean
// close or a crash; one run at a time; nothing recorded, nothing changed.
func TestConformance(t *testing.T) {
	t.Parallel()
	for _, mk := range backends(t) {
		t.Run(mk(t).name, func(t *testing.T) {
			t.Parallel()
			t.Run("RecordThenReopen", func(t *testing.T) {
				t.Parallel()
				b := mk(t)
				h := b.mustOpen(t)
				for _, ev := range []Event{pendingEvent("A"), createdEvent("A", "AAA"), {Space: "A", Member: "users/x@example.com", Role: "owner"}} {
					if err := h.Record(ev); err != nil {
						t.Fatal(err)
					}
				}
				if e := h.Entry("A"); e == nil || e.Status != Created {
					t.Fatalf("Entry(A) = %+v, want created", e)
				}
				if err := h.Close(); err != nil {
					t.Fatal(err)
				}
				h = b.mustOpen(t)
				defer h.Close()
				e := h.Entry("A")
				if e == nil || e.Name != "spaces/AAA" || e.Applied == nil || len(e.Applied.Owners) != 1 {
					t.Fatalf("after reopening, Entry(A) = %+v, want spaces/AAA with one owner", e)
				}
			})
			t.Run("SecondRunRefused", func(t *testing.T) {
				t.Parallel()
				b := mk(t)
				h := b.mustOpen(t)
				defer h.Close()
				if _, err := b.open(t); !errors.Is(err, ErrLocked) {
					t.Fatalf("second open: %v, want ErrLocked", err)
				}
			})
			t.Run("CrashKeepsRecords", func(t *testing.T) {
				t.Parallel()
				b := mk(t)
				h := b.mustOpen(t)
				if err := h.Record(pendingEvent("B")); err != nil {
					t.Fatal(err)
				}
				if err := h.Record(createdEvent("C", "CCC")); err != nil {
					t.Fatal(err)
				}
				// Read without the lock while the run still holds it.
				if f := b.load(t); f.Spaces["B"] == nil || f.Spaces["B"].Status != Pending || f.Spaces["C"] == nil {
					t.Fatalf("load during the run: %+v, want B pending and C", f.Spaces)
				}
				b.crash(t, h)
				h = b.mustOpen(t)
				if e := h.Entry("B"); e == nil || e.RequestID != "req-B" {
					t.Fatalf("after a crash, Entry(B) = %+v, want its requestId", e)
				}
				if err := h.Record(createdEvent("B", "BBB")); err != nil {
					t.Fatal(err)
				}
				if err := h.Close(); err != nil {
					t.Fatal(err)
				}
				f := b.load(t)
				if f.Spaces["B"].Status != Created || f.Spaces["C"].Name != "spaces/CCC" {
					t.Fatalf("after the next run: %+v", f.Spaces)
				}
			})
			t.Run("ConcurrentRecords", func(t *testing.T) {
				t.Parallel()
				b := mk(t)
				h := b.mustOpen(t)
				var wg sync.WaitGroup
				for i := range 16 {
					wg.Go(func() {
						if err := h.Record(createdEvent(fmt.Sprintf("S%d", i), fmt.Sprintf("ID%d", i))); err != nil {
							t.Error(err)
						}
					})
				}
				wg.Wait()
				if err := h.Close(); err != nil {
					t.Fatal(err)
				}
				if f := b.load(t); len(f.Spaces) != 16 {
					t.Fatalf("%d spaces recorded, want 16", len(f.Spaces))
				}
			})
			t.Run("RecordAfterClose", func(t *testing.T) {
				t.Parallel()
				b := mk(t)
				h := b.mustOpen(t)
				if err := h.Close(); err != nil {
					t.Fatal(err)
				}
				if err := h.Record(pendingEvent("D")); !errors.Is(err, ErrClosed) {
					t.Fatalf("Record after Close: %v, want ErrClosed", err)
				}
				if f := b.load(t); len(f.Spaces) != 0 {
					t.Fatalf("nothing recorded, but the state has %v", f.Spaces)
				}
			})
			t.Run("InvalidEventRefused", func(t *testing.T) {
				t.Parallel()
				b := mk(t)
				h := b.mustOpen(t)
				defer h.Close()
				if err := h.Record(Event{Space: "E"}); !errors.Is(err, ErrInvalidEvent) {
					t.Fatalf("Record(empty event): %v, want ErrInvalidEvent", err)
				}
				if err := h.Record(pendingEvent("E")); err != nil {
					t.Fatalf("a valid event after an invalid one: %v", err)
				}
			})
		})
	}
}
