package results

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// DefaultLease is how long a lease lock holds without being renewed.
const DefaultLease = time.Minute

// The lease lock of a remote state: the object NAME.lock holds who holds
// it. It is taken by a write that requires the object not to exist
// (ifGenerationMatch=0), or to be the generation just read when that one
// was released or its lease ran out (a takeover); renewed every third of
// the lease by a write that requires the generation of the last one;
// released by a write, again generation-matched, that marks it released.
// Every write of the lock is an upload with a generation precondition:
// one of two runs racing for it gets 412 and reads it again.
//
// A holder that cannot renew stops writing before its lease runs out:
// a renewal sent at T keeps the run going only until T plus five sixths
// of the lease, so another machine whose clock runs up to a sixth of a
// lease ahead (10 s at the default minute) never takes the lock over from
// a run that still writes. Correctness does not rest on clocks: every
// journal record is followed by a read of the lock, and the results
// object is only written over the generation the run wrote last.

// maxEpoch is one more than the largest epoch a journal record's name
// holds (ten digits).
const maxEpoch = 9999999999

// lockHolder is the lock object's contents.
type lockHolder struct {
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Since   time.Time `json:"since"`
	Version string    `json:"version,omitempty"`
	// Run tells this run from another of the same host and pid (a
	// container restarted).
	Run string `json:"run"`
	// Epoch numbers the runs that held the lock, so that the journal
	// records of a run sort after those of the runs before it.
	Epoch    int64     `json:"epoch"`
	Renewed  time.Time `json:"renewed"`
	Expires  time.Time `json:"expires"`
	Released bool      `json:"released,omitempty"`
}

func (h *lockHolder) String() string {
	v := ""
	if h.Version != "" {
		v = ", version " + h.Version
	}
	return fmt.Sprintf("pid %d on host %q since %s%s", h.PID, h.Host, h.Since.Format(time.RFC3339), v)
}

// lease is the lock of one run.
type lease struct {
	obj   Objects
	name  string
	dur   time.Duration
	clock func() time.Time
	me    lockHolder

	mu    sync.Mutex
	gen   int64     // generation of the lock object this run wrote last
	fence time.Time // the run may write until then (monotonic)
	// fenceWall is the same time on the wall clock (l.clock): a machine
	// suspended stops the monotonic clock, not the other runs' clocks.
	fenceWall time.Time
	lost      error // set once: the run must write nothing more
	stop      chan struct{}
	stopped   chan struct{}
}

func newRunID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// acquire takes the lock, or fails with ErrLocked naming its holder. It
// returns the holder it took the lock over from, if its lease had run out.
func (l *lease) acquire(ctx context.Context) (*lockHolder, error) {
	for range 3 {
		data, gen, err := l.obj.Read(ctx, l.name)
		var prev *lockHolder
		switch {
		case errors.Is(err, ErrNotExist):
			gen = 0
		case err != nil:
			return nil, fmt.Errorf("reading the lock: %w", err)
		default:
			prev = new(lockHolder)
			if json.Unmarshal(data, prev) != nil || prev.Run == "" || prev.Epoch < 0 || prev.Epoch >= maxEpoch {
				// (An epoch the journal's names cannot hold in ten digits
				// would name records every later run passes over.)
				return nil, fmt.Errorf("%w: %s/%s is not a lock this program wrote; remove it if no run is using the state", ErrUnsafeFile, l.obj, l.name)
			}
		}
		now := l.clock()
		if prev != nil && !prev.Released && now.Before(prev.Expires) {
			return nil, fmt.Errorf("%w: %s/%s is held by %s, its lease renewed at %s and running out at %s",
				ErrLocked, l.obj, l.name, prev, prev.Renewed.UTC().Format(time.RFC3339), prev.Expires.UTC().Format(time.RFC3339))
		}
		if prev != nil {
			l.me.Epoch = prev.Epoch + 1
		} else {
			l.me.Epoch = 1
		}
		sent := time.Now()
		l.me.Renewed, l.me.Expires = now.UTC(), now.Add(l.dur).UTC()
		ngen, err := writeOwn(ctx, l.obj, l.name, l.marshal(), gen)
		if errors.Is(err, ErrPrecondition) {
			// Another run wrote it since the read: read it again.
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("taking the lock: %w", err)
		}
		l.gen = ngen
		l.fence = sent.Add(l.dur * 5 / 6)
		l.fenceWall = now.Round(0).Add(l.dur * 5 / 6)
		if prev != nil && prev.Released {
			prev = nil
		}
		return prev, nil
	}
	return nil, fmt.Errorf("%w: %s/%s changed three times while it was being taken; run again", ErrLocked, l.obj, l.name)
}

func (l *lease) marshal() []byte {
	b, _ := json.Marshal(&l.me)
	return append(b, '\n')
}

// writeOwn writes data over generation gen and, if the write fails on its
// precondition, reads the object back: a write retried after its first
// attempt landed and the answer was lost finds its own data there, and
// that is a success.
func writeOwn(ctx context.Context, obj Objects, name string, data []byte, gen int64) (int64, error) {
	ngen, err := obj.Write(ctx, name, data, gen)
	if !errors.Is(err, ErrPrecondition) {
		return ngen, err
	}
	got, g, rerr := obj.Read(ctx, name)
	if rerr == nil && bytes.Equal(got, data) && g != gen {
		return g, nil
	}
	return 0, err
}

// rewrite writes the lock over the generation this run wrote last; l.mu
// held. If that fails on its precondition and the lock holds this run's
// ID, an earlier write of this run's landed though its answer never came
// (no other run writes this run's ID): the lock is written again over
// that generation.
func (l *lease) rewrite(ctx context.Context) (int64, error) {
	gen, err := writeOwn(ctx, l.obj, l.name, l.marshal(), l.gen)
	if !errors.Is(err, ErrPrecondition) {
		return gen, err
	}
	data, now, rerr := l.obj.Read(ctx, l.name)
	var h lockHolder
	if rerr != nil || json.Unmarshal(data, &h) != nil || h.Run != l.me.Run || now == l.gen {
		return 0, err
	}
	l.gen = now
	return writeOwn(ctx, l.obj, l.name, l.marshal(), l.gen)
}

// start renews the lease every third of its duration until release.
func (l *lease) start() {
	l.stop, l.stopped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(l.stopped)
		t := time.NewTicker(l.dur / 3)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.renew()
			}
		}
	}()
}

func (l *lease) renew() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return
	}
	if err := l.valid(); err != nil {
		return
	}
	now := l.clock()
	sent := time.Now()
	l.me.Renewed, l.me.Expires = now.UTC(), now.Add(l.dur).UTC()
	ctx, cancel := context.WithTimeout(context.Background(), l.dur/3)
	defer cancel()
	gen, err := l.rewrite(ctx)
	switch {
	case errors.Is(err, ErrPrecondition):
		l.lost = fmt.Errorf("%w: %s/%s was taken over by another run (%s)", ErrLockLost, l.obj, l.name, l.describeNow())
	case err != nil:
		// Tried again at the next tick; valid() stops the run first if
		// none succeeds in time.
	default:
		l.gen = gen
		l.fence = sent.Add(l.dur * 5 / 6)
		l.fenceWall = now.Round(0).Add(l.dur * 5 / 6)
	}
}

// describeNow says who holds the lock now, as far as a read tells.
func (l *lease) describeNow() string {
	ctx, cancel := context.WithTimeout(context.Background(), l.dur/3)
	defer cancel()
	data, _, err := l.obj.Read(ctx, l.name)
	var h lockHolder
	if err != nil || json.Unmarshal(data, &h) != nil {
		return "its holder could not be read"
	}
	return "now held by " + h.String()
}

// valid says whether the run may still write; l.mu held.
func (l *lease) valid() error {
	if l.lost != nil {
		return l.lost
	}
	// By the monotonic clock (a pause, renewals failing), and by the wall
	// clock, which goes on while the machine is suspended and the
	// monotonic clock does not (Linux's CLOCK_MONOTONIC).
	if time.Now().After(l.fence) || l.clock().Round(0).After(l.fenceWall) {
		l.lost = fmt.Errorf("%w: %s/%s could not be renewed within its lease of %s: another run may take it over", ErrLockLost, l.obj, l.name, l.dur)
	}
	return l.lost
}

// check says whether the run may still write (without a call).
func (l *lease) check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.valid()
}

// verify reads the lock and checks it is still this run's, the
// generation this run wrote last: a record written before this returns
// nil was written while the run held the lock, so any run that takes it
// over later lists it.
func (l *lease) verify(ctx context.Context) error {
	if err := l.check(); err != nil {
		return err
	}
	// A renewal in flight would change the generation under the read.
	l.mu.Lock()
	defer l.mu.Unlock()
	data, gen, err := l.obj.Read(ctx, l.name)
	if errors.Is(err, ErrNotExist) {
		// Deleted: another run may have created it since.
		l.lost = fmt.Errorf("%w: %s/%s was removed during the run: another run may hold the state now", ErrLockLost, l.obj, l.name)
		return l.lost
	}
	if err != nil {
		return fmt.Errorf("checking the lock: %w", err)
	}
	var h lockHolder
	if json.Unmarshal(data, &h) == nil && h.Run == l.me.Run && gen != l.gen {
		// A write of this run's that landed though its answer never
		// came (a renewal past its deadline): no other run writes this
		// run's ID, so the lock is still its own.
		l.gen = gen
	}
	if gen != l.gen || json.Unmarshal(data, &h) != nil || h.Run != l.me.Run {
		l.lost = fmt.Errorf("%w: %s/%s was taken over by another run (%s)", ErrLockLost, l.obj, l.name, l.describeNow())
		return l.lost
	}
	return l.valid()
}

// release stops the renewals and, unless the lease was lost, marks the
// lock released by a write over the generation this run wrote last.
func (l *lease) release(ctx context.Context) error {
	if l.stop != nil {
		close(l.stop)
		<-l.stopped
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return l.lost
	}
	l.me.Released = true
	l.me.Renewed = l.clock().UTC()
	l.me.Expires = l.me.Renewed
	if _, err := l.rewrite(ctx); err != nil {
		if errors.Is(err, ErrPrecondition) {
			return fmt.Errorf("%w: %s/%s was taken over by another run before this one released it", ErrLockLost, l.obj, l.name)
		}
		return fmt.Errorf("releasing the lock: %w", err)
	}
	return nil
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
