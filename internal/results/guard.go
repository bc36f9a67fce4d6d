package results

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// The state files are guarded against whoever else can write to their
// directory (a shared cron directory, say): none of the three is ever
// followed through a symbolic link, read if it is not a regular file, or
// written if it has another name; and a run checks, at every journal sync
// and before every write of the results file, that its directory, its lock
// and its journal are still the ones it started with.

// ErrSymlink is wrapped by the error of Open or Load when the results
// file, its journal or its lock is a symbolic link. None of them is ever
// followed: writing through a link planted in a shared directory would
// damage whatever file it names.
var ErrSymlink = errors.New("symbolic link refused")

// ErrUnsafeFile is wrapped by the error of Open or Load when a state file
// is not a regular file (a named pipe would make the run wait for ever, a
// device is not a file), or when the results file, the journal or the lock
// has another name (a hard link): writing or emptying the journal or the
// lock would change the file under its other name too, and replacing the
// results file would leave its other name behind, silently out of date.
var ErrUnsafeFile = errors.New("state file refused")

// ErrLockLost is wrapped by the errors of Record and Close when the lock
// file was removed or replaced while the run held it: another run may
// then have taken the lock and be using the same results file. The store
// stops: every later Record fails, and Close writes no results file,
// leaving the journal for the next run.
var ErrLockLost = errors.New("results lock lost")

// ErrVanished is wrapped by the errors of Record and Close when the results
// directory was removed, renamed or replaced during the run, or the
// journal removed or replaced. The error is a *VanishedError, which says
// where the state went.
var ErrVanished = errors.New("results state moved or removed")

// VanishedError says where the state went when the results directory, or
// only the journal, was removed or moved during a run. It names only paths
// that exist, as far as it could tell.
type VanishedError struct {
	// Dir is the results directory, as the run found it (absolute).
	Dir string
	// MovedTo is where that directory is now, when it can be told (on
	// Linux) and checked; "" when it was removed or cannot be told.
	MovedTo string
	// Journal is the path of the journal now, when it still has one that
	// could be told; "" otherwise.
	Journal string
	// Results is the path of the results file in MovedTo, if there is one
	// (a run that never folded has none).
	Results string
	// Unlinked says the journal has no name left: what it held since the
	// results file was last written goes when the run ends, unless DirKept.
	Unlinked bool
	// DirKept says only the journal went: the directory and the lock are
	// still the run's, so Close writes the results file from memory and
	// nothing is lost.
	DirKept bool
	// File is the name of the results file in Dir.
	File string
}

func (e *VanishedError) Error() string {
	journal := filepath.Join(e.Dir, e.File) + ".journal"
	var b strings.Builder
	b.WriteString(ErrVanished.Error())
	b.WriteString(": ")
	switch {
	case e.DirKept:
		how := "moved or replaced"
		if e.Unlinked {
			how = "removed"
		}
		fmt.Fprintf(&b, "results journal %q was %s during the run: stopping; the results file %q is written from memory when the run ends",
			journal, how, filepath.Join(e.Dir, e.File))
	case e.MovedTo != "":
		fmt.Fprintf(&b, "results directory %q was moved to %q during the run: stopping", e.Dir, e.MovedTo)
		if e.Journal != "" {
			fmt.Fprintf(&b, "; the state is there, in its journal %q", e.Journal)
			if e.Results != "" {
				fmt.Fprintf(&b, " and %q", e.Results)
			}
		}
	case e.Unlinked:
		fmt.Fprintf(&b, "results directory %q was removed during the run, with the journal in it: stopping; what this run recorded since the results file was last written is lost",
			e.Dir)
	default:
		fmt.Fprintf(&b, "results directory %q is no longer the directory the run started in (moved or removed during the run): stopping; its journal, wherever it now is, holds what this run recorded",
			e.Dir)
	}
	return b.String()
}

func (e *VanishedError) Unwrap() error { return ErrVanished }

// openFile opens the state file at path, called what in messages, without
// following a symbolic link and without waiting (a named pipe would block
// the open), and refuses anything but a regular file; single also refuses
// a file with another name. A missing file is an error wrapping
// fs.ErrNotExist.
func openFile(path, what string, flag int, single bool) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, nil, refuseLink(path, what, err)
		}
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkPlain(path, what, fi, single)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// readFileNoFollow reads the state file at path as openFile opens it.
func readFileNoFollow(path, what string, single bool) ([]byte, fs.FileInfo, error) {
	f, fi, err := openFile(path, what, os.O_RDONLY, single)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := readSized(f, fi.Size())
	if err != nil {
		return nil, nil, err
	}
	return data, fi, nil
}

// readSized reads r to its end into a buffer of size, the size r is known
// to have, and one byte more, so that the end is seen without growing it.
// io.ReadAll's buffer grows as it reads, each growth a copy of what was
// read, the smaller buffers garbage beside the last. A reader that holds
// more than size (a file that grew since its size was taken) is still
// read whole, the buffer growing as io.ReadAll's does; one that holds less
// is read as it is.
func readSized(r io.Reader, size int64) ([]byte, error) {
	if size < 0 || size >= 1<<40 {
		size = 0 // not a size to trust
	}
	data := make([]byte, 0, size+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // a reader longer than said: grow
		}
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return data, err
		}
	}
}

// refuseLink is the error for a state file that is a symbolic link, or err
// if path is not one (O_NOFOLLOW's ELOOP can also mean a loop further up).
func refuseLink(path, what string, err error) error {
	target, rerr := os.Readlink(path)
	if rerr != nil {
		return err
	}
	return fmt.Errorf("%w: %s %q is a symbolic link to %q; the results file, its journal and its lock are never followed through one",
		ErrSymlink, what, path, target)
}

// checkPlain refuses a state file that is not a regular file or, with
// single, that has more than one name.
func checkPlain(path, what string, fi fs.FileInfo, single bool) error {
	if fi.Mode()&fs.ModeSymlink != 0 {
		return refuseLink(path, what, fmt.Errorf("%w: %s %q is a symbolic link", ErrSymlink, what, path))
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s %q is a %s, not a regular file", ErrUnsafeFile, what, path, kind(fi.Mode()))
	}
	if n := links(fi); single && n > 1 {
		return fmt.Errorf("%w: %s %q has %d names (hard links): writing it would change the file under the other names too",
			ErrUnsafeFile, what, path, n)
	}
	return nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// links is the number of names of a file; 1 where it cannot be told.
func links(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}

// whereNow is where the directory open as d is now, if the system can tell
// (Linux, through /proc) and the answer names that very directory; "" if
// it was removed or cannot be told.
func whereNow(d *os.File, was fs.FileInfo) string {
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(d.Fd())))
	if err != nil || !filepath.IsAbs(p) {
		return ""
	}
	fi, err := os.Stat(p)
	if err != nil || !os.SameFile(fi, was) {
		return ""
	}
	return p
}

// checkDir reports whether the results directory path still names the
// directory the store opened.
func (s *Store) checkDir() error {
	fi, err := os.Stat(s.dirPath)
	if err == nil && os.SameFile(fi, s.dirInfo) {
		return nil
	}
	v := &VanishedError{Dir: s.dirPath, File: filepath.Base(s.path)}
	if jfi, err := s.journal.Stat(); err == nil && links(jfi) == 0 {
		v.Unlinked = true
	}
	if v.MovedTo = whereNow(s.dir, s.dirInfo); v.MovedTo != "" {
		jp := filepath.Join(v.MovedTo, filepath.Base(journalPath(s.path)))
		if fi, err := os.Lstat(jp); err == nil && os.SameFile(fi, s.journalInfo) {
			v.Journal = jp
		}
		if p := filepath.Join(v.MovedTo, v.File); checkResultsPath(p) == nil {
			if _, err := os.Lstat(p); err == nil {
				v.Results = p
			}
		}
	}
	return v
}

// checkLock reports whether the lock path still names the file the store
// locked: if it was removed or replaced, another run can take the lock.
func (s *Store) checkLock() error {
	lp := lockPath(s.path)
	fi, err := os.Lstat(lp)
	if err == nil && os.SameFile(fi, s.lockInfo) {
		return nil
	}
	how := "replaced"
	if errors.Is(err, fs.ErrNotExist) {
		how = "removed"
	}
	msg := fmt.Sprintf("%q was %s during the run, so another run may be using %q: stopping without writing it",
		lp, how, s.path)
	if s.journal != nil {
		if s.checkJournal() == nil {
			msg += fmt.Sprintf("; the journal %q keeps what this run recorded, for the next run", journalPath(s.path))
		} else {
			msg += "; the journal is gone too, and with it what this run recorded since the results file was last written"
		}
	}
	return fmt.Errorf("%w: %s", ErrLockLost, msg)
}

// checkJournal reports whether the journal path still names the journal
// the store appends to.
func (s *Store) checkJournal() error {
	jfi, err := s.journal.Stat()
	unlinked := err == nil && links(jfi) == 0
	fi, err := os.Lstat(journalPath(s.path))
	if !unlinked && err == nil && os.SameFile(fi, s.journalInfo) {
		return nil
	}
	return &VanishedError{Dir: s.dirPath, File: filepath.Base(s.path), Unlinked: unlinked, DirKept: true}
}

// guard checks, in that order, that the directory, the lock and the
// journal are still the run's.
func (s *Store) guard() error {
	if err := s.checkDir(); err != nil {
		return err
	}
	if err := s.checkLock(); err != nil {
		return err
	}
	return s.checkJournal()
}

// checkResultsPath refuses to replace a results file that has become a
// symbolic link, something other than a regular file, or a file with a
// second name: renaming over it would not follow the link, but the run
// would silently put a regular file where someone put a link, or leave
// the other name holding the old state.
func checkResultsPath(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("writing results file: %w", err)
	}
	return checkPlain(path, "results file", fi, true)
}
