package results

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gofrs/flock"
	"github.com/google/renameio/v2"
)

// ErrLocked is returned by Open when another run holds the results file.
var ErrLocked = errors.New("results file is in use by another run")

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("results store is closed")

// ErrInvalidEvent is wrapped by the error of Record for an event it
// refuses before writing anything (see Event). Its message says what is
// wrong and leaves naming the space to the caller.
var ErrInvalidEvent = errors.New("invalid event")

// errLegacyManager refuses a new legacy Manager event.
var errLegacyManager = fmt.Errorf("%w: %s", ErrInvalidEvent, `the "manager" event is only read from version 1 journals (where it meant owner): record a member with role "owner" or "manager"`)

// minFold is the least journal size that triggers a fold: below it, the
// journal is cheaper to keep appending to than the results file to rewrite.
const minFold = 1 << 20

// Option configures a Store.
type Option func(*options)

type options struct {
	sync      bool
	foldEvery int64
	clock     func() time.Time
}

// WithoutSync makes Record return without waiting for fsync, giving up the
// durability guarantee. For tests and benchmarks only.
func WithoutSync() Option { return func(o *options) { o.sync = false } }

// WithFoldEvery folds the journal into the results file whenever it has
// grown past n bytes. The default is the size of the results file last
// written, and at least 1 MiB, which keeps the total cost of folds linear in
// the bytes recorded.
func WithFoldEvery(n int64) Option { return func(o *options) { o.foldEvery = n } }

// WithClock sets the clock that stamps updatedAt and the lock file.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// Store is the state of one run: the results file, its journal and its
// lock, held from Open to Close. Its methods are safe for concurrent use.
type Store struct {
	path    string
	opts    options
	lock    *flock.Flock
	journal *os.File

	// What the run started with, to tell whether the paths still name it:
	// the directory (held open, and fsync'd through this descriptor), a
	// second descriptor of the lock file (for its holder), and the identity
	// of the lock file and of the journal.
	dirPath     string // absolute
	dir         *os.File
	dirInfo     fs.FileInfo
	lockFile    *os.File
	lockInfo    fs.FileInfo
	journalInfo fs.FileInfo

	// guarded's mu guards st against readers while the flusher applies
	// events; the flusher is the only writer, so it reads st without the
	// lock.
	guarded

	// qmu guards the queue of lines waiting for the flusher.
	qmu    sync.Mutex
	queue  *batch
	closed bool
	err    error // first journal write error: later Records fail with it
	// The buffers of the last batch written, for the next one.
	spareBuf    []byte
	spareEvents []Event

	kick chan struct{} // buffered(1): there is a batch to write
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the flusher has drained and exited

	// Owned by the flusher goroutine (and by Open and Close around it).
	journalSize int64 // bytes in the journal
	foldBase    int64 // journal size at the last failed fold
	lastSize    int64 // size of the results file last read or written
	recorded    bool  // an event was written since Open
	// stopped is set, with err, when the lock, the directory or the
	// journal is no longer the run's: Close then writes nothing, unless
	// only the journal went (see VanishedError.DirKept).
	stopped error
}

// batch is the lines of concurrent Record calls, written and synced once.
type batch struct {
	buf    []byte
	events []Event
	err    error
	done   chan struct{}
}

// Open takes the lock of the results file at path for a run, reads the file
// and its journal, and folds the journal into the file, so the run starts
// from a clean state. It fails with an error wrapping ErrLocked if another
// run holds the lock, ErrSymlink or ErrUnsafeFile if a state file is a
// symbolic link, not a regular file, or (the journal, the lock) has
// another name, and changes nothing if the state cannot be read.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{sync: true, clock: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Store{
		path: path,
		opts: o,
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("opening results directory: %w", err)
	}
	s.dirPath = dir
	if s.dir, err = os.Open(dir); err == nil {
		s.dirInfo, err = s.dir.Stat()
	}
	if err != nil {
		if s.dir != nil {
			s.dir.Close()
		}
		return nil, fmt.Errorf("opening results directory: %w", err)
	}
	if err := s.takeLock(); err != nil {
		s.dir.Close()
		return nil, err
	}
	if err := s.open(); err != nil {
		s.releaseLock()
		s.dir.Close()
		return nil, err
	}
	go s.flush()
	return s, nil
}

// open loads the state and folds a leftover journal into the results file.
func (s *Store) open() error {
	st, fileSize, read, err := load(s.path)
	if err != nil {
		return err
	}
	s.st = st
	s.lastSize = fileSize
	jp := journalPath(s.path)
	s.journal, s.journalInfo, err = openFile(jp, "results journal", os.O_WRONLY|os.O_CREATE|os.O_APPEND, true)
	if err != nil {
		if errors.Is(err, ErrSymlink) || errors.Is(err, ErrUnsafeFile) {
			return err
		}
		return fmt.Errorf("opening results journal: %w", err)
	}
	// The journal appended to must be the one read, as it was read: the
	// fold below empties it.
	if changed := s.journalInfo.Size() != read.size || (read.info != nil && !os.SameFile(read.info, s.journalInfo)); changed {
		s.journal.Close()
		return fmt.Errorf("%w: results journal %q changed while it was read: another process writes to it", ErrUnsafeFile, jp)
	}
	journalSize := read.size
	s.journalSize = journalSize
	if journalSize > 0 {
		// A previous run died: make its journal part of the results file.
		if err := s.fold(); err != nil {
			s.journal.Close()
			return err
		}
	}
	// Make the journal's directory entry durable, or an fsync'd line could
	// vanish with it.
	if err := s.syncDir(); err != nil {
		s.journal.Close()
		return err
	}
	return nil
}

// Record appends ev to the journal and applies it to the state. It returns
// once the event is on disk (fsync), so a crash from then on cannot lose
// it; concurrent calls share one write and one fsync. An Entry event
// replaces the whole entry of ev.Space with a copy of ev.Entry (include
// Applied to keep it); Member adds one name to the entry's Applied members
// and, with a Role, gives it that role, with an ID records its users/ID,
// and with Removed takes it out instead; Settings merges applied settings
// (see Event). Those create the entry, with an empty status, if needed.
// Deleted moves the entry to the deleted section, stamped with its time. The legacy Manager event is refused: it is only read,
// from journals of version 1, and a new one would be ambiguous. An invalid
// event is refused before anything is written, with an error wrapping
// ErrInvalidEvent that does not name the space (the caller does). After a
// write error the journal may hold a partial line, and every later Record
// fails. After each sync Record checks that the directory, the lock and
// the journal are still the run's; if not, it fails with an error wrapping
// ErrVanished or ErrLockLost (the event is in the journal, wherever that
// now is), and so does every later Record: the run must stop.
func (s *Store) Record(ev Event) error {
	if err := accept(&ev); err != nil {
		return err
	}
	line, err := renderEvent(&ev)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	defer line.release()
	s.qmu.Lock()
	if s.closed {
		s.qmu.Unlock()
		return ErrClosed
	}
	if s.err != nil {
		err := s.err
		s.qmu.Unlock()
		return err
	}
	b := s.queue
	if b == nil {
		b = &batch{done: make(chan struct{}), buf: s.spareBuf, events: s.spareEvents}
		s.spareBuf, s.spareEvents = nil, nil
		s.queue = b
	}
	b.buf = append(b.buf, line.buf.Bytes()...)
	b.events = append(b.events, ev)
	s.qmu.Unlock()

	select {
	case s.kick <- struct{}{}:
	default: // the flusher has been told already
	}
	<-b.done
	return b.err
}

// flush is the single writer of the journal. While it writes and syncs one
// batch, the next one fills up: this is the group commit.
func (s *Store) flush() {
	defer close(s.done)
	for {
		select {
		case <-s.kick:
			s.drain()
		case <-s.stop:
			s.drain()
			return
		}
	}
}

func (s *Store) drain() {
	for {
		s.qmu.Lock()
		b := s.queue
		s.queue = nil
		failed := s.err
		s.qmu.Unlock()
		if b == nil {
			return
		}
		if failed != nil {
			b.err = failed
		} else {
			b.err = s.commit(b)
		}
		close(b.done)
		s.recycle(b)
	}
}

// recycle keeps the buffers of a finished batch for the next one, rather
// than growing new ones for every batch of a long run. Its callers only
// read b.err once b.done is closed, and the state owns the entries now.
func (s *Store) recycle(b *batch) {
	clear(b.events)
	s.qmu.Lock()
	s.spareBuf, s.spareEvents = b.buf[:0], b.events[:0]
	s.qmu.Unlock()
}

// commit writes and syncs one batch, applies it to the state, and folds
// the journal if it has grown enough. The fold happens before the batch's
// callers return, so once a Record returns after a fold, the results file
// alone holds it.
func (s *Store) commit(b *batch) error {
	buf := b.buf
	if s.journalSize == 0 {
		// A new or emptied journal starts with its version.
		buf = append(slices.Clip(journalHeader), b.buf...)
	}
	_, err := s.journal.Write(buf)
	if err == nil && s.opts.sync {
		err = s.journal.Sync()
	}
	if err != nil {
		err = fmt.Errorf("writing results journal %q: %w", journalPath(s.path), err)
		s.qmu.Lock()
		s.err = err
		s.qmu.Unlock()
		return err
	}
	s.journalSize += int64(len(buf))
	s.recorded = true

	s.mu.Lock()
	for i := range b.events {
		s.st.apply(&b.events[i])
	}
	s.mu.Unlock()

	// The next fold, and the run, go on only while the paths name what
	// the run started with. The batch is in the journal, wherever that is
	// now, and applied to the state, in case Close can still write it.
	if err := s.guard(); err != nil {
		s.qmu.Lock()
		s.err, s.stopped = err, err
		s.qmu.Unlock()
		return err
	}

	if s.journalSize-s.foldBase >= s.foldThreshold() {
		if err := s.fold(); err != nil {
			// The events are safe in the journal; try again once as much
			// again has been written, rather than on every batch.
			slog.Warn("folding results journal", "path", s.path, "err", err)
			s.foldBase = s.journalSize
		}
	}
	return nil
}

func (s *Store) foldThreshold() int64 {
	if s.opts.foldEvery > 0 {
		return s.opts.foldEvery
	}
	return max(minFold, s.lastSize)
}

// fold writes the state to the results file and then empties the journal.
// In that order: a crash in between leaves a journal whose replay over the
// new file changes nothing.
func (s *Store) fold() error {
	if err := s.write(); err != nil {
		return err
	}
	if err := s.journal.Truncate(0); err != nil {
		return fmt.Errorf("truncating results journal: %w", err)
	}
	if s.opts.sync {
		if err := s.journal.Sync(); err != nil {
			return fmt.Errorf("syncing results journal: %w", err)
		}
	}
	s.journalSize, s.foldBase = 0, 0
	return nil
}

// write replaces the results file with the state, atomically and durably.
func (s *Store) write() error {
	// Never into a results file another run may own, a directory that is
	// not the run's any more, or a place where someone put a link.
	if err := s.checkDir(); err != nil {
		return err
	}
	if err := s.checkLock(); err != nil {
		return err
	}
	if err := checkResultsPath(s.path); err != nil {
		return err
	}
	now := s.opts.clock().UTC().Truncate(time.Second)
	// Streamed into the temporary file: a copy of the whole file in memory
	// (and of its indented form) made each fold the largest cost of a run.
	t, err := renameio.NewPendingFile(s.path, renameio.WithPermissions(0o644), renameio.WithExistingPermissions(),
		renameio.WithTempDir(filepath.Dir(s.path)))
	if err != nil {
		return fmt.Errorf("writing results file: %w", err)
	}
	defer t.Cleanup()
	w := &countingWriter{w: t}
	if err := s.st.encode(w, now); err != nil {
		return err
	}
	if err := t.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("writing results file: %w", err)
	}
	if err := s.syncDir(); err != nil {
		return err
	}
	s.mu.Lock()
	s.st.file.UpdatedAt = now
	s.mu.Unlock()
	s.lastSize = w.n
	return nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// syncDir makes renames and creations in the results file's directory
// durable.
func (s *Store) syncDir() error {
	if !s.opts.sync {
		return nil
	}
	if err := s.dir.Sync(); err != nil {
		return fmt.Errorf("syncing results directory: %w", err)
	}
	return nil
}

// Close waits for pending Records, writes the results file a last time,
// removes the journal and releases the lock. After Close the results file
// alone holds everything. If the last write fails, the journal is kept and
// the next Open replays it. After a Record failed with ErrLockLost or
// ErrVanished, Close writes and removes nothing and returns that error,
// except when only the journal went (VanishedError.DirKept): the results
// file is then written from memory, and kept beside no journal. Calling
// Close again does nothing.
func (s *Store) Close() error {
	s.qmu.Lock()
	if s.closed {
		s.qmu.Unlock()
		return nil
	}
	s.closed = true
	s.qmu.Unlock()
	close(s.stop)
	<-s.done

	// A run that recorded nothing leaves the results file as it found it
	// (Open has folded any earlier journal already): a scheduled run with
	// nothing to do changes no file.
	var err error
	var v *VanishedError
	onlyJournal := errors.As(s.stopped, &v) && v.DirKept
	switch {
	case s.stopped != nil && !onlyJournal:
		err = s.stopped
	case s.recorded:
		err = s.write()
	}
	// The journal is removed only if the path still names it: otherwise
	// it is someone else's file, or a link.
	ours := s.stopped == nil && s.checkJournal() == nil
	if cerr := s.journal.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing results journal: %w", cerr)
	}
	if err == nil && ours {
		// Had this been lost in a crash, the journal would only replay
		// what the results file already holds.
		if rerr := os.Remove(journalPath(s.path)); rerr != nil {
			err = fmt.Errorf("removing results journal: %w", rerr)
		}
	}
	s.releaseLock()
	s.dir.Close()
	return err
}
