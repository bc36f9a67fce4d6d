// Package results owns the results file, its journal and its lock: the state
// that runs share. No other package touches those files.
//
// Three files make up the state of a results file FILE:
//
//   - FILE is the report and the state later runs read: one JSON object
//     {"version": 1, "updatedAt": …, "spaces": {DISPLAY NAME: entry}},
//     indented by two spaces, keys sorted, ending in a newline, mode 0644.
//     It is only ever replaced whole (temporary file beside it, fsync,
//     rename, fsync of the directory), so it is always either the old or
//     the new version, never half-written. A crash during that write may
//     leave a temporary ".FILE…" file beside it, which is safe to delete.
//   - FILE.journal holds what happened since FILE was last written: one JSON
//     Event per line ({"space": NAME, "entry": {…}} replaces the entry,
//     {"space": NAME, "member": "users/…"} or "manager" adds one name to the
//     entry's applied lists). A run appends to it, and Record returns only
//     once the line is on disk (fsync). Replaying events is idempotent, so
//     replaying a journal over a FILE that already holds some or all of its
//     effect is harmless. Only complete lines count: text after the last
//     newline is a write torn by a crash and is ignored; any other bad line is
//     an error. The journal is folded into FILE (FILE rewritten, then the
//     journal truncated, in that order) when a run opens the state, whenever
//     it has grown past the size of FILE (at least 1 MiB), and when a run
//     ends, after which it is removed: after a clean exit FILE alone holds
//     everything.
//   - FILE.lock makes a run exclusive: it is held with flock(2) for the whole
//     run and holds the holder's pid, host and start time as JSON, for the
//     message a second run prints. The kernel releases the lock when its
//     process dies, however it dies, so a lock file left behind by a killed
//     run is not a lock and never blocks the next run; the file is kept
//     (removing a lock file races with a process about to lock it).
//
// Guarantee: whenever a process is killed (SIGKILL, power loss after fsync),
// FILE is valid JSON, and FILE plus FILE.journal contain every event whose
// Record call returned. Load reads both, read-only, so a dry run after a
// crash shows the truth.
//
// Reading is strict. FILE must have version 1; unknown fields anywhere, a
// duplicate key, a null entry, an unknown or missing status, a created or
// existing entry without a name, a name that is not spaces/ID, or trailing
// data after the object are errors that name the file, the line and column
// and the problem. Unknown fields are rejected rather than ignored because
// this package rewrites FILE: a field it did not understand would be
// silently dropped on the next write. A format change that adds fields must
// therefore raise Version.
//
// An entry with an empty status (a requestId recorded before its create call
// was sent, or a member recorded for a space with no entry) means the outcome
// of that call is unknown. It is never written as such: FILE, Load, Entry and
// Snapshot show it as "failed", with an error saying it was interrupted, and
// with its requestId, so the next run retries the call with the same
// requestId and receives the space that call may have created.
package results
