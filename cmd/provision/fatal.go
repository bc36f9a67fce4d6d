// A fatal stop, before or after the run began writing: exit 2 or 3.

package main

import (
	"errors"
	"sync/atomic"

	"provision/internal/apply"
	"provision/internal/results"
)

// stoppedMidway is a fatal condition (the lock lost, the state moved, the
// credentials refused) met after the run began writing: what it did is
// recorded, but the run is not finished, and a person must look before
// the next one. main maps it to exit status 3; the same condition met
// before anything was written is a usageError (exit 2).
type stoppedMidway struct{ err error }

func (e stoppedMidway) Error() string { return e.err.Error() }
func (e stoppedMidway) Unwrap() error { return e.err }

// fatal is err as a fatal stop: exit 3 once the run has begun writing,
// exit 2 before.
func (e *env) fatal(err error) error {
	var ue usageError
	if errors.As(err, &ue) {
		err = ue.err
	}
	if e.began() {
		return stoppedMidway{err}
	}
	return usageError{err}
}

// began says the run has begun writing: it recorded what it did (an
// outcome, an adoption, a member, an ID learnt), or sent a write the server
// may have carried out (answered with success, a server error, or no
// answer at all). A requestId recorded before a create that the server then
// refused, or a space recorded as failed, changed nothing anyone must look
// at: the next run asks again.
func (e *env) began() bool {
	if e.recorded.Load() > 0 {
		return true
	}
	if e.summary == nil {
		return false
	}
	unanswered := 0
	for method, byCode := range e.summary.Calls {
		if !writeMethods[method] {
			continue
		}
		for code, n := range byCode {
			switch {
			case n > 0 && (code/100 == 2 || code >= 500):
				return true
			case code == 0:
				unanswered += n
			}
		}
	}
	// The writes the gate held back (gate.go) were never sent, though
	// counted as calls without an answer.
	return unanswered > e.gate.heldBack()
}

// writeMethods are the API methods that change something in Chat.
var writeMethods = map[string]bool{
	"spaces.create": true, "spaces.setup": true, "spaces.patch": true, "spaces.delete": true,
	"members.create": true, "members.patch": true, "members.delete": true,
	"messages.create": true,
}

// countingRecorder is the store as the run records into it, counting the
// events that record something done (see began).
type countingRecorder struct {
	results.Handle
	done *atomic.Int64
}

var _ apply.Recorder = countingRecorder{}

func (r countingRecorder) Record(ev results.Event) error {
	if err := r.Handle.Record(ev); err != nil {
		return err
	}
	if ev.Entry == nil || (ev.Entry.Status != results.Pending && ev.Entry.Status != results.Failed) {
		r.done.Add(1)
	}
	return nil
}
