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
// results file (default CONFIG.results.json) maps each space's key (its
// key:, or its display name; trimmed, in NFC) to its space; its journal
// (FILE.journal) makes progress durable as it happens, and its lock
// (FILE.lock) keeps two runs apart. A config may also be a CSV file (a
// header row of those keys, one space a row, lists split by ";", problems
// at FILE:LINE:COL with COL the cell's column number), and a YAML config
// may include: CSV files, its defaults applied to their rows.
//
//	provision import --caller you@example.com teams.yaml
//
// writes teams.yaml and its results file from the named spaces the caller
// owns or manages (with --admin, the organization's, narrowed by --query),
// each adopt: true and recorded as existing, so that a plan right after has
// nothing to do and --prune never deletes one; it never overwrites a file.
// With --results gs://BUCKET/PATH.json all three live in Cloud Storage
// (nothing on local disk), and the lock is a lease (--lock-lease, a
// minute) renewed while the run lasts and taken over by the next run once
// a dead holder's lease has run out.
//
// Every create carries a requestId recorded before the call, with the
// principal that sends it, so retries, lost answers and crashes never make
// a second space. A space of the same name that already exists is adopted
// only with adopt (--adopt) and only if the caller owns or manages it
// (with --admin, whatever the caller's role in it; each such adoption is
// said).
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
// removals, 2 a usage, config or credentials error, refused before any
// write (nothing applied), 3 stopped mid-way by a fatal condition (the lock
// lost, the state moved, the credentials refused) after the run began
// writing: what was done is recorded and a person must look, 130
// interrupted. See README.md for the config reference and authentication
// set-up.
//
// Memory: the collector lets the heap grow by 64 MiB, or a quarter of what
// is live when that is more, between collections, rather than doubling
// it (GOGC=100), which for a config of 100,000 spaces doubles 150-200 MB;
// setting GOGC or GOMEMLIMIT in the environment leaves the collector to
// them.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

func main() {
	// The command writes no memory profile: sampling its allocations for
	// one would hold 1.4 MiB at 100,000 spaces for nothing.
	runtime.MemProfileRate = 0
	tuneGC()
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		// run says so, in the format of its logs.
		cancel()
		<-sigs
		// The journal already holds everything that finished.
		os.Exit(130)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
