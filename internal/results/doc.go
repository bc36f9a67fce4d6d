// Package results owns the results file, its journal and its lock: the state
// that runs share. No other package touches those files.
//
// Three files make up the state of a results file FILE (FORMAT.md beside
// this file describes them for their readers):
//
//   - FILE is the report and the state later runs read: one JSON object
//     {"version": 2, "updatedAt": …, "spaces": {DISPLAY NAME: entry}},
//     indented by two spaces, keys sorted, ending in a newline, mode 0644.
//     It is only ever replaced whole (temporary file beside it, fsync,
//     rename, fsync of the directory), so it is always either the old or
//     the new version, never half-written. A crash during that write may
//     leave a temporary ".FILE…" file beside it, which is safe to delete.
//   - FILE.journal holds what happened since FILE was last written: a
//     header {"version": 2}, then one JSON Event per line ({"space": NAME,
//     "entry": {…}} replaces the entry; {"space": NAME, "member": "users/…"}
//     adds one name to the entry's applied members, and with "role":
//     "owner", "manager" or "member" also gives it that role, with "id"
//     records its users/ID, with "removed" takes it out instead;
//     {"space": NAME, "settings": {…}} merges applied settings;
//     {"space": NAME, "deleted": TIME} moves the entry to the deleted
//     section). A run
//     appends to it, and Record returns only once the line is on disk
//     (fsync). Replaying events is idempotent, so replaying a journal over
//     a FILE that already holds some or all of its effect is harmless. Only
//     complete lines count: text after the last newline is a write torn by
//     a crash and is ignored; any other bad line is an error. The journal
//     is folded into FILE (FILE rewritten, then the journal truncated, in
//     that order) when a run opens the state, whenever it has grown past the
//     size of FILE (at least 1 MiB), and when a run ends, after which it is
//     removed: after a clean exit FILE alone holds everything.
//   - FILE.lock makes a run exclusive: it is held with flock(2) for the whole
//     run and holds the holder's pid, host and start time as JSON, for the
//     message a second run prints. The kernel releases the lock when its
//     process dies, however it dies, so a lock file left behind by a killed
//     run is not a lock and never blocks the next run; the file is kept
//     (removing a lock file races with a process about to lock it).
//
// Links and identity. The three files often sit in a directory others can
// write to. None is ever followed through a symbolic link (O_NOFOLLOW:
// ErrSymlink), read unless it is a regular file (a named pipe would hang
// the run), or, for the journal and the lock, used when it has another
// name (ErrUnsafeFile): whoever plants a link must not make a run damage
// another file. A lock is only a lock while its path names the file
// locked, so after taking it, at every journal sync and before every write
// of FILE, a run checks that the lock path, the journal path and the
// directory (held open from the start) still name what it started with;
// if not, Record fails with ErrLockLost or ErrVanished (a *VanishedError
// saying where the state went), and the run writes nothing more.
//
// In a bucket (--results gs://BUCKET/PATH.json), the three are objects:
// the results object, one journal record object per batch, and a lease
// lock (remote.go, lease.go, FORMAT.md). *Store and *Remote are both a
// Handle, and pass one conformance suite.
//
// Keys are display names as the config writes them, less surrounding
// white space: the name the space has in Chat.
//
// Guarantee: whenever a process is killed (SIGKILL, power loss after fsync),
// FILE is valid JSON, and FILE plus FILE.journal contain every event whose
// Record call returned. Load reads both, read-only, so a dry run after a
// crash shows the truth.
//
// Roles. Applied lists the members a space has received and, apart, its
// owners (ROLE_MANAGER, "Owner" in the Chat UI) and managers
// (ROLE_ASSISTANT_MANAGER, "Manager"): disjoint lists. Version 1 had no
// owners: it made the config's managers ROLE_MANAGER and recorded them as
// "managers". A version 1 file is therefore read with its applied managers
// as owners (also added to its members, as they were), and written back as
// version 2 on the next write; "owners" in a version 1 file is an error,
// since it could not be told from those managers. A journal without the
// header was written by version 1 and is read the same way: the applied
// managers of its entries are owners, and so is the name of its
// {"manager": …} events. This version reads those events and never writes
// one (Record refuses it).
//
// Settings. Applied.Settings holds the settings the config stated and the
// space received, in the config's words; Flat and SettingsOf convert them
// to and from the planner's names (plan.SetDescription…). nil means the
// entry was recorded before settings were (the planner then takes the
// space to have what the config states, and the run records that once);
// an empty Settings, written "settings": {}, means none is managed, so a
// setting added to the config later is seen as a change. A Settings event
// with an empty map is written as {} for that reason.
//
// Deletions. A deleted event moves the entry of a space --prune deleted to
// File.Deleted, with the time, written after the spaces as "deleted",
// oldest first: the ID is never lost, and the space is never deleted
// twice. A deletion already in the section (same name, same time) is a
// replay and changes nothing, even when the name was created anew and
// deleted again later in the journal.
//
// Reading is strict. FILE must have version 1 or 2; unknown fields
// anywhere, a duplicate key, a null entry, an unknown or missing status, a
// created or existing entry without a name, a pending entry without a
// requestId, a name or previous that is not spaces/ID, a person both owner
// and manager, an ID that is not users/ID, a setting outside its values,
// an incomplete deleted item, or trailing data after the object are errors
// that name the file, the line and column and the problem. Unknown fields
// are rejected rather than ignored because this package rewrites FILE: a
// field it did not understand would be silently dropped on the next write.
// A format change that changes the meaning of a field must therefore raise
// Version; ids, settings and deleted are optional fields added within
// version 2 (an earlier program refuses them by name, and drops nothing).
//
// Status pending: the run recorded a requestId (and the principal that
// sends it) before its create call, and the outcome is unknown: the call
// had not been answered when the run stopped or was killed. It is not a
// failure: the next run retries the call with the same requestId, which
// returns the space that call may have created. An entry a run left with
// no status at all (as version 1 recorded a requestId before a create, or
// a member recorded for a space with no entry) is never written as such:
// FILE, Load, Entry and Snapshot show it as pending when it has a
// requestId, since its outcome is unknown too, and otherwise as failed,
// with an error saying it was interrupted (there is no requestId to ask
// again with).
package results
