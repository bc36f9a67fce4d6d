// Command provision creates Google Chat named spaces in bulk from a YAML
// file, and records each one's ID and URL in a results file that later runs
// read, so runs are idempotent and resumable, and converge: what the config
// says and the space lacks is applied on the next run.
//
//	provision --plan spaces.yaml            # preview: no API call, nothing written
//	provision spaces.yaml                   # create what is missing, fix what drifted
//	provision --plan --refresh spaces.yaml  # preview against the live spaces (reads only)
//
// The config lists spaces (displayName, description, guidelines, history,
// externalUsers, audience, permissions, members, owners, managers, adopt, welcome)
// with optional defaults; it is validated whole before anything is called,
// and every problem is reported as FILE:LINE:COL. owners become ROLE_MANAGER
// ("Owner" in Chat), managers ROLE_ASSISTANT_MANAGER ("Manager"). The
// results file (default CONFIG.results.json) maps each display name to its
// space; its journal (FILE.journal) makes progress durable as it happens,
// and its lock (FILE.lock) keeps two runs apart. With --results
// gs://BUCKET/PATH.json all three live in Cloud Storage (nothing on local
// disk), and the lock is a lease (--lock-lease, a minute) renewed while
// the run lasts and taken over by the next run once a dead holder's lease
// has run out.
//
// Every create carries a requestId recorded before the call, with the
// principal that sends it, so retries, lost answers and crashes never make
// a second space. A space of the same name that already exists is adopted
// only with adopt (--adopt) and only if the caller owns or manages it.
// Calls are paced per quota class (--rate, --member-rate); throttling
// pauses them (never failing a space) until --max-wait; transient failures
// are retried with capped exponential backoff and full jitter. Members are
// removed only with --prune-members, spaces deleted only with --prune:
// last in a run, never after a failure in it, and never more than
// --max-deletions spaces (10) or --max-removals members (100) a run; a
// plan over a bound destroys none of that kind.
//
// Exit status: 0 every space is present, 1 a space or member failed, the
// run stopped waiting for quota, or it withheld deletions or member
// removals, 2 a usage, config or credentials error
// (nothing applied), 130 interrupted. See README.md for the config
// reference and authentication set-up.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "provision: interrupted: finishing the calls in flight and recording them (interrupt again to quit at once)")
		cancel()
		<-sigs
		// The journal already holds everything that finished.
		os.Exit(130)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
