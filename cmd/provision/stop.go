// How a run ends: exit statuses, and what is said when it stops early.

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"provision/internal/apply"
	"provision/internal/auth"
	"provision/internal/plan"
	"provision/internal/results"
)

// exit reports err and maps it to an exit status.
func (e *env) exit(err error) int {
	var ue usageError
	var failed errFailed
	var midway stoppedMidway
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &failed):
		return exitFailed
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.As(err, &midway):
		e.say(err)
		fmt.Fprintln(e.stderr, "provision: stopped mid-way: what this run did is recorded; a person must look (the lines above say why) before the next run")
		return exitStopped
	case errors.As(err, &ue):
		var problems plan.Problems
		if errors.As(err, &problems) {
			for _, p := range problems {
				fmt.Fprintln(e.stderr, p)
			}
			fmt.Fprintf(e.stderr, "provision: %d %s in the config; nothing was applied\n", len(problems), plural(len(problems), "problem", "problems"))
			return exitUsage
		}
		e.say(err)
		if strings.HasPrefix(err.Error(), "flag") || strings.Contains(err.Error(), "flag provided") {
			fmt.Fprintln(e.stderr, "Run 'provision -h' for usage.")
		}
		return exitUsage
	}
	e.say(err)
	return exitFailed
}

// say prints err under "provision: ", each of its lines so: a message of
// several lines (a server's, quoted in it) never has a line that reads as
// another kind of line (a failure of some space, progress), in text or in
// json logs.
//
// Secrets are taken out (auth.Redact): an error may quote a server that
// echoed a credential, the Cloud Storage client's errors among them.
func (e *env) say(err error) {
	for _, line := range strings.Split(auth.Redact(err.Error()), "\n") {
		fmt.Fprintf(e.stderr, "provision: %s\n", line)
	}
}

// errFailed says the run finished with failures it has already reported.
type errFailed struct{}

func (errFailed) Error() string { return "some spaces or members failed" }

var errInterrupted = errors.New("interrupted")

// unwrapStopped is err without apply's "run stopped: " prefix, for a
// message that says so itself; errors.Is still sees what it wraps.
func unwrapStopped(err error) error {
	if msg, ok := strings.CutPrefix(err.Error(), apply.ErrStopped.Error()+": "); ok {
		return reworded{msg, err}
	}
	return err
}

// reworded is an error with another text.
type reworded struct {
	msg string
	err error
}

func (r reworded) Error() string { return r.msg }

func (r reworded) Unwrap() error { return r.err }

// stateLost tells an error of a state that is no longer the run's: its
// lock replaced or its directory moved or removed during the run.
func stateLost(err error) bool {
	return err != nil && (errors.Is(err, results.ErrLockLost) || errors.Is(err, results.ErrVanished))
}

// stoppedReading explains why a refresh ended early: as stopped does, but a
// refresh records nothing, so nothing is pending.
func (e *env) stoppedReading(err error, creds *auth.Credentials) error {
	var quota *apply.QuotaWaitError
	if errors.As(err, &quota) {
		fmt.Fprintf(e.stderr, "provision: stopped while reading the spaces: %v.\nNothing was changed and nothing recorded. Run again later, or raise --max-wait.\n", quota)
		return errFailed{}
	}
	return e.stopped(err, creds)
}

// stopped explains why a run ended early.
func (e *env) stopped(err error, creds *auth.Credentials) error {
	var denied *apply.DeniedError
	var quota *apply.QuotaWaitError
	switch {
	case stateLost(err):
		// The lock or the directory of the state went during the run:
		// nothing more may be recorded there. The message (printed once,
		// by exit) says where the state is.
		return e.fatal(unwrapStopped(err))
	case errors.As(err, &denied):
		advice := denied.Advice
		if advice == "" {
			advice = creds.Hint(denied.Code)
		}
		e.say(fmt.Errorf("stopped: %w", denied))
		fmt.Fprintln(e.stderr, advice)
		if denied.Advice != "" {
			return e.fatal(errors.New("the Chat app is not configured; nothing more was sent"))
		}
		return e.fatal(errors.New("the credentials were refused; nothing more was sent"))
	case errors.As(err, &quota):
		fmt.Fprintf(e.stderr, "provision: stopped: %v.\nNothing failed: what was in flight is recorded as pending, and the next run resumes where this one stopped. Run again later, or raise --max-wait.\n", quota)
		return errFailed{}
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(e.stderr, "provision: interrupted; everything that finished is recorded, run again to resume")
		return errInterrupted
	case errors.Is(err, apply.ErrStopped):
		// The state could not be written (a full disk, say): the run
		// stopped, as it must not go on doing what it cannot record.
		return e.fatal(err)
	}
	return err
}
