// The local results file's lock: flock(2) on FILE.lock, which names its
// holder for the message a second run prints.

package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// holder is what the lock file says of the run that holds it.
type holder struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host"`
	Since time.Time `json:"since"`
}

// takeLock takes the lock without waiting, checks that the lock path still
// names the file locked, and writes who holds it.
func (s *Store) takeLock() error {
	lp := lockPath(s.path)
	// O_NOFOLLOW: a link planted at the lock path is refused, not created
	// or locked through.
	s.lock = flock.New(lp, flock.SetFlag(os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW), flock.SetPermissions(0o644))
	ok, err := s.lock.TryLock()
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return refuseLink(lp, "results lock", err)
		}
		if errors.Is(err, syscall.EISDIR) {
			return fmt.Errorf("%w: results lock %q is a directory, not a regular file", ErrUnsafeFile, lp)
		}
		return fmt.Errorf("locking results file: %w", err)
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrLocked, describeHolder(lp))
	}
	fail := func(err error) error {
		s.releaseLock()
		return err
	}
	if s.lockInfo, err = s.lock.Stat(); err != nil {
		return fail(fmt.Errorf("locking results file: %w", err))
	}
	if err := checkPlain(lp, "results lock", s.lockInfo, true); err != nil {
		return fail(err)
	}
	// The file locked must be the one the path names: one removed or
	// replaced between the open and the lock is a lock no other run sees.
	swapped := fmt.Errorf("%w: %q was removed or replaced while it was being locked; run again", ErrLockLost, lp)
	if fi, err := os.Lstat(lp); err != nil || !os.SameFile(fi, s.lockInfo) {
		return fail(swapped)
	}
	// A second descriptor, for the holder: flock locks belong to the open
	// file description that took them, so this one can be closed freely.
	// It is checked to be the file locked, so it writes nothing else.
	f, fi, err := openFile(lp, "results lock", os.O_WRONLY, true)
	if err == nil && !os.SameFile(fi, s.lockInfo) {
		f.Close()
		err = swapped
	}
	if err != nil {
		return fail(err)
	}
	s.lockFile = f
	host, _ := os.Hostname()
	info, _ := json.Marshal(holder{PID: os.Getpid(), Host: host, Since: s.opts.clock().UTC().Truncate(time.Second)})
	if err := f.Truncate(0); err != nil {
		return fail(fmt.Errorf("writing lock file: %w", err))
	}
	if _, err := f.WriteAt(append(info, '\n'), 0); err != nil {
		return fail(fmt.Errorf("writing lock file: %w", err))
	}
	return nil
}

// describeHolder names the lock file and what it says about its holder.
func describeHolder(lp string) string {
	data, _, err := readFileNoFollow(lp, "results lock", false)
	var h holder
	if err != nil || json.Unmarshal(data, &h) != nil || h.PID == 0 {
		return fmt.Sprintf("%q is locked by a run that has not said who it is", lp)
	}
	return fmt.Sprintf("%q is locked by pid %d on host %q since %s", lp, h.PID, h.Host, h.Since.Format(time.RFC3339))
}

func (s *Store) releaseLock() {
	// Clear the holder while still holding the lock, so the file left behind
	// names no one; the lock itself goes with the descriptor. Through the
	// descriptor: the path may name another run's lock by now.
	if s.lockFile != nil {
		_ = s.lockFile.Truncate(0)
		s.lockFile.Close()
	}
	if err := s.lock.Unlock(); err != nil {
		slog.Warn("releasing results lock", "path", lockPath(s.path), "err", err)
	}
}
