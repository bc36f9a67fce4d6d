package results

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// The state in a bucket (--results gs://BUCKET/NAME): three kinds of
// objects stand for the three files of a local state.
//
//   - NAME is the results file, the same JSON. It is only ever written
//     over the generation the run read or wrote last (ifGenerationMatch),
//     so a write another run made in between is never overwritten: the
//     run stops instead.
//   - NAME.journal/EPOCH-SEQ, one object per batch of records, written
//     once (ifGenerationMatch=0), in journal-line format. Record returns
//     once the object is written and the lock read back as still the
//     run's. A bucket allows about one write a second to one object name
//     (Cloud Storage, "Quotas & limits"), so records never rewrite an
//     object: each is new. They are folded into NAME when a run opens the
//     state, every FoldEvery records and when it closes, then deleted
//     oldest first.
//   - NAME.lock, the lease lock (lease.go).
//
// Nothing is written to local disk.

// RemoteOptions configure OpenRemote.
type RemoteOptions struct {
	// Lease is how long the lock holds unrenewed; 0 means DefaultLease.
	Lease time.Duration
	// Version is the program's, written in the lock for whoever finds it
	// held.
	Version string
	// Clock stamps updatedAt and the lock's times; nil means time.Now.
	Clock func() time.Time
	// Notify receives what a person should know: a lock taken over.
	Notify func(string)
	// FoldEvery folds the journal into the results object once that many
	// records are written; 0 means 500.
	FoldEvery int
	// Logger receives the warnings of the state (a journal record that
	// could not be deleted); nil means slog.Default().
	Logger *slog.Logger
}

// Remote is the state of one run kept in a bucket. It has Store's methods
// and promises: Record returns once the event is durable in the bucket.
type Remote struct {
	obj   Objects
	name  string
	where string
	opts  RemoteOptions
	lease *lease

	guarded
	gen int64 // generation of the results object read or written last

	qmu      sync.Mutex
	queue    *batch
	flushing bool
	idle     *sync.Cond
	closed   bool
	err      error // sticky: every later Record fails with it
	recorded bool

	// Owned by the one flushing.
	seq     int64
	records []string // journal objects not yet deleted, oldest first
	folded  int      // how many of records the results object holds
	tried   []byte   // the results object's last write that failed, which may have landed
}

var _ Handle = (*Remote)(nil)

// OpenRemote takes the lease lock of the state NAME in obj, reads the
// results object and the journal records it has, and folds them in. It
// fails with an error wrapping ErrLocked if another run holds a lease that
// has not run out, ErrNoBucket, ErrForbidden, or a parse error when NAME is
// not a results file; it then leaves the state as it was (but for a lock
// it took, released again).
func OpenRemote(ctx context.Context, obj Objects, name string, o RemoteOptions) (*Remote, error) {
	if o.Lease == 0 {
		o.Lease = DefaultLease
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.FoldEvery == 0 {
		o.FoldEvery = 500
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	// The client retries transient failures until the context ends.
	ctx, cancel := context.WithTimeout(ctx, 2*o.Lease)
	defer cancel()
	r := &Remote{obj: obj, name: name, where: obj.String() + "/" + name, opts: o}
	r.idle = sync.NewCond(&r.qmu)
	r.lease = &lease{obj: obj, name: lockPath(name), dur: o.Lease, clock: o.Clock, me: lockHolder{
		Host: hostname(), PID: os.Getpid(), Since: o.Clock().UTC().Truncate(time.Second), Version: o.Version, Run: newRunID(),
	}}
	prev, err := r.lease.acquire(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.open(ctx, prev); err != nil {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), o.Lease)
		defer rcancel()
		r.lease.release(rctx)
		return nil, err
	}
	r.lease.start()
	return r, nil
}

func (r *Remote) open(ctx context.Context, prev *lockHolder) error {
	st, gen, names, err := loadRemote(ctx, r.obj, r.name)
	if err != nil {
		return err
	}
	r.st, r.gen = st, gen
	// This run's records sort after every one there is, whatever the lock
	// said (a lock object deleted by hand restarts its epochs).
	for _, n := range names {
		if e, ok := epochOf(r.name, n); ok && e >= r.lease.me.Epoch {
			r.lease.me.Epoch = e + 1
		}
	}
	if r.lease.me.Epoch >= maxEpoch {
		return fmt.Errorf("%w: %s.journal/ holds records of epoch %d, the last this program can name; fold them by hand", ErrUnsafeFile, r.where, maxEpoch-1)
	}
	if prev != nil && r.opts.Notify != nil {
		r.opts.Notify(fmt.Sprintf("took over the lock %s.lock from %s, whose lease ran out at %s; folding the %d journal records it left",
			r.where, prev, prev.Expires.UTC().Format(time.RFC3339), len(names)))
	}
	if len(names) > 0 {
		r.records, r.folded = names, len(names)
		if err := r.fold(ctx); err != nil {
			return err
		}
	}
	return nil
}

// loadRemote reads the results object and its journal records, in order,
// and replays them. It returns the generation of the results object read
// (0: none) and the names of the records.
func loadRemote(ctx context.Context, obj Objects, name string) (*state, int64, []string, error) {
	where := obj.String() + "/" + name
	// As load does, the journal first: a fold between the two reads then
	// leaves a results object newer than the records, and replaying them
	// over it is harmless.
	names, err := obj.List(ctx, name+".journal/")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("listing the results journal: %w", err)
	}
	names = slices.DeleteFunc(names, func(n string) bool { _, ok := epochOf(name, n); return !ok })
	sort.Strings(names)
	journal := bytes.NewBuffer(bytes.Clone(journalHeader))
	var kept []string
	for _, n := range names {
		data, _, err := obj.Read(ctx, n)
		if errors.Is(err, ErrNotExist) {
			continue // folded and deleted since the listing
		}
		if err != nil {
			return nil, 0, nil, fmt.Errorf("reading the results journal: %w", err)
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			return nil, 0, nil, fmt.Errorf("results journal record %s/%s: not a complete record", obj, n)
		}
		journal.Write(data)
		kept = append(kept, n)
	}
	data, gen, err := obj.Read(ctx, name)
	var f *File
	switch {
	case errors.Is(err, ErrNotExist):
		// No results object: a first run, unless NAME is a folder (objects
		// under NAME/), a state's location mistyped, refused as a local
		// directory is.
		inside, lerr := obj.List(ctx, name+"/")
		if lerr != nil {
			return nil, 0, nil, fmt.Errorf("reading the results file: %w", lerr)
		}
		if len(inside) > 0 {
			return nil, 0, nil, fmt.Errorf("%w: %s is a folder, not a results object: it holds %s/%s; give the results object's name",
				ErrUnsafeFile, where, obj, inside[0])
		}
		f, gen = newFile(), 0
	case err != nil:
		return nil, 0, nil, fmt.Errorf("reading the results file: %w", err)
	default:
		if f, err = parse(where, data); err != nil {
			return nil, 0, nil, err
		}
	}
	st := newState(f)
	if err := replay(where+".journal/", journal.Bytes(), st); err != nil {
		return nil, 0, nil, err
	}
	return st, gen, kept, nil
}

// LoadRemote reads the state NAME in obj, read-only and without the lock,
// as Load does for a local file.
func LoadRemote(ctx context.Context, obj Objects, name string) (*File, error) {
	// The client retries transient failures until the context ends.
	ctx, cancel := context.WithTimeout(ctx, 2*DefaultLease)
	defer cancel()
	// The run holding the lock may fold while this reads: the results
	// object rewritten and its records deleted after this read the records
	// and before it read the object. Replayed over that newer object, the
	// older records would undo what came after them. The generation is
	// read before too, and the whole read made again if it changed.
	var st *state
	for range 3 {
		_, before, err := obj.Read(ctx, name)
		if err != nil && !errors.Is(err, ErrNotExist) {
			return nil, fmt.Errorf("reading the results file: %w", err)
		}
		var gen int64
		if st, gen, _, err = loadRemote(ctx, obj, name); err != nil {
			return nil, err
		}
		if gen == before {
			break
		}
	}
	normalize(st.file)
	return st.file, nil
}

// epochOf reads the epoch of a journal record's name, NAME.journal/EPOCH-SEQ.
func epochOf(name, rec string) (int64, bool) {
	rest, ok := strings.CutPrefix(rec, name+".journal/")
	if !ok || len(rest) != 21 || rest[10] != '-' {
		return 0, false
	}
	var e, s int64
	if _, err := fmt.Sscanf(rest, "%010d-%010d", &e, &s); err != nil {
		return 0, false
	}
	return e, true
}

// Record writes ev to the bucket as a journal record and applies it. It
// returns once the record is written and the lock read back as this
// run's; concurrent calls share one record. A lease lost (taken over, or
// not renewed in time) fails it with an error wrapping ErrLockLost, and
// every later Record too: the run must stop.
func (r *Remote) Record(ev Event) error {
	if err := accept(&ev); err != nil {
		return err
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	r.qmu.Lock()
	if r.closed {
		r.qmu.Unlock()
		return ErrClosed
	}
	if r.err != nil {
		err := r.err
		r.qmu.Unlock()
		return err
	}
	b := r.queue
	if b == nil {
		b = &batch{done: make(chan struct{})}
		r.queue = b
	}
	b.buf = append(append(b.buf, line...), '\n')
	b.events = append(b.events, ev)
	if r.flushing {
		// The one writing takes this batch next: group commit.
		r.qmu.Unlock()
		<-b.done
		return b.err
	}
	r.flushing = true
	for r.queue != nil {
		next := r.queue
		r.queue = nil
		failed := r.err
		r.qmu.Unlock()
		if failed != nil {
			next.err = failed
		} else {
			next.err = r.commit(next)
		}
		r.qmu.Lock()
		if next.err != nil && r.err == nil {
			r.err = next.err
		}
		close(next.done)
	}
	r.flushing = false
	r.idle.Broadcast()
	r.qmu.Unlock()
	return b.err
}

// Check says, with no call, whether the run may still act on the state:
// it fails with an error wrapping ErrLockLost once the lease is lost
// (taken over, not renewed within five sixths of it, or the results
// object written by another run). A record read back as the run's says
// so only at the time of its read: a call sent on the strength of it
// (the create its requestId was recorded for) is checked here again, just
// before it is sent, since the run may have waited, or been paused, in
// between.
func (r *Remote) Check() error {
	r.qmu.Lock()
	err := r.err
	r.qmu.Unlock()
	if err != nil && errors.Is(err, ErrLockLost) {
		return err
	}
	return r.lease.check()
}

// commit writes one batch as a journal record, checks the lock, and
// applies the batch.
func (r *Remote) commit(b *batch) error {
	// The client retries transient failures for as long as its context
	// lasts: a record not written within a lease is not written at all,
	// and the run stops rather than hang.
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.Lease)
	defer cancel()
	if err := r.lease.check(); err != nil {
		return err
	}
	r.seq++
	name := fmt.Sprintf("%s.journal/%010d-%010d", r.name, r.lease.me.Epoch, r.seq)
	if _, err := writeOwn(ctx, r.obj, name, b.buf, 0); err != nil {
		if errors.Is(err, ErrPrecondition) {
			return fmt.Errorf("%w: journal record %s/%s was written by another run", ErrLockLost, r.obj, name)
		}
		return fmt.Errorf("writing results journal: %w", err)
	}
	// The record is in the bucket; it counts only if the lock was still
	// this run's once it was there. If not, the run that took the lock
	// over may or may not have listed it: it is removed, and a copy that
	// run did not fold is removed by its next fold (strays).
	if err := r.lease.verify(ctx); err != nil {
		if derr := r.obj.Delete(ctx, name); derr != nil {
			r.opts.Logger.Warn("removing a journal record written after the lock was lost", "record", name, "err", derr)
		}
		return err
	}
	r.records = append(r.records, name)
	r.mu.Lock()
	for i := range b.events {
		r.st.apply(&b.events[i])
	}
	r.mu.Unlock()
	r.recorded = true
	if len(r.records)-r.folded >= r.opts.FoldEvery {
		r.folded = len(r.records)
		if err := r.fold(ctx); err != nil {
			if errors.Is(err, ErrLockLost) {
				return err
			}
			// The records are safe; the next fold takes them.
			r.opts.Logger.Warn("folding results journal", "results", r.where, "err", err)
		}
	}
	return nil
}

// fold writes the state as the results object, over the generation read
// or written last, then deletes the records it holds, oldest first,
// stopping at the first that fails: those left are a tail of what the
// results object holds, and replaying them over it changes nothing.
func (r *Remote) fold(ctx context.Context) error {
	if err := r.lease.check(); err != nil {
		return err
	}
	now := r.opts.Clock().UTC().Truncate(time.Second)
	var buf bytes.Buffer
	r.mu.RLock()
	err := r.st.encode(&buf, now)
	r.mu.RUnlock()
	if err != nil {
		return err
	}
	gen, err := writeOwn(ctx, r.obj, r.name, buf.Bytes(), r.gen)
	if errors.Is(err, ErrPrecondition) && r.tried != nil {
		// The last write that failed may have landed though its answer
		// never came: if the object is what it wrote, it is this run's.
		if data, g, rerr := r.obj.Read(ctx, r.name); rerr == nil && bytes.Equal(data, r.tried) {
			r.gen = g
			gen, err = writeOwn(ctx, r.obj, r.name, buf.Bytes(), r.gen)
		}
	}
	if errors.Is(err, ErrPrecondition) {
		return fmt.Errorf("%w: the results object %s was written by another run since this one read it; this run writes nothing more", ErrLockLost, r.where)
	}
	if err != nil {
		r.tried = bytes.Clone(buf.Bytes())
		return fmt.Errorf("writing results file: %w", err)
	}
	r.tried = nil
	r.gen = gen
	r.mu.Lock()
	r.st.file.UpdatedAt = now
	r.mu.Unlock()
	n := 0
	for _, rec := range r.records[:r.folded] {
		if err := r.lease.check(); err != nil {
			break
		}
		if err := r.obj.Delete(ctx, rec); err != nil {
			r.opts.Logger.Warn("deleting a folded journal record", "record", rec, "err", err)
			break
		}
		n++
	}
	r.records = r.records[n:]
	r.folded -= n
	r.dropStrays(ctx)
	return nil
}

// dropStrays deletes the journal records of earlier runs that are still
// in the bucket after a fold. The run folded every record there was when
// it took the lock; one of an earlier run that is there now was written
// after that, by a run that had lost the lock, whose Record failed when
// it read the lock back: nobody acted on it, and replayed later over
// newer state it would undo what came after. (Or it is one the fold could
// not delete.) They are deleted oldest first, stopping at the first that
// fails, as the fold does: what is left must be a tail of the records,
// since a record replayed without those after it undoes them.
func (r *Remote) dropStrays(ctx context.Context) {
	names, err := r.obj.List(ctx, r.name+".journal/")
	if err != nil {
		return
	}
	sort.Strings(names)
	for _, n := range names {
		if e, ok := epochOf(r.name, n); ok && e < r.lease.me.Epoch {
			if r.lease.check() != nil {
				return
			}
			if err := r.obj.Delete(ctx, n); err != nil {
				r.opts.Logger.Warn("deleting a journal record of a run that had lost the lock", "record", n, "err", err)
				return
			}
		}
	}
}

// Close waits for Records in progress, folds the journal into the results
// object if anything was recorded, and releases the lock. After a lease
// was lost it writes nothing and returns that error; the records stay for
// whoever holds the lock now.
func (r *Remote) Close() error {
	r.qmu.Lock()
	if r.closed {
		r.qmu.Unlock()
		return nil
	}
	r.closed = true
	for r.flushing {
		r.idle.Wait()
	}
	failed := r.err
	r.qmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*r.opts.Lease)
	defer cancel()
	if failed != nil && errors.Is(failed, ErrLockLost) {
		r.lease.release(ctx)
		return failed
	}
	var err error
	if r.recorded || len(r.records) > 0 {
		r.folded = len(r.records)
		err = r.fold(ctx)
	}
	if rerr := r.lease.release(ctx); err == nil {
		err = rerr
	}
	return err
}

// abandon stops the renewals and drops the run without releasing or
// writing anything, as a killed process would: for tests.
func (r *Remote) abandon() {
	if r.lease.stop != nil {
		close(r.lease.stop)
		<-r.lease.stopped
		r.lease.stop = nil
	}
}
