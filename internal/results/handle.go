package results

import "sync"

// Handle is the state of one run, wherever it lives: a local file
// (*Store, from Open) or a bucket (*Remote, from OpenRemote). The applier
// is handed one and never knows which; both pass the same conformance
// suite (conformance_test.go).
type Handle interface {
	// Entry returns a copy of the entry recorded for key, or nil.
	Entry(key string) *Entry
	// Snapshot returns a copy of the whole state.
	Snapshot() *File
	// View calls fn with the state as it would be written, shared, not
	// copied: fn must not change it nor keep it.
	View(fn func(*File))
	// Record makes ev durable, then applies it: a crash after it returns
	// cannot lose it.
	Record(ev Event) error
	// Close writes the results a last time and releases the lock.
	Close() error
}

var _ Handle = (*Store)(nil)

// guarded is the state of a run behind its read-write lock, with the reads
// both kinds of store offer. The one who applies events takes mu for
// writing.
type guarded struct {
	mu sync.RWMutex
	st *state
}

// Entry returns a copy of the entry recorded for key, or nil. It reflects
// every Record that has returned.
func (g *guarded) Entry(key string) *Entry {
	g.mu.RLock()
	defer g.mu.RUnlock()
	e := g.st.file.Spaces[key]
	if e == nil {
		return nil
	}
	return normalized(e.clone())
}

// Snapshot returns a copy of the whole state, as the results would be
// written now (apart from updatedAt).
func (g *guarded) Snapshot() *File {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.st.snapshot()
}

// View calls fn with the state as the results would show it now (apart
// from updatedAt), under the read lock: unlike Snapshot it copies nothing
// but the entries a run left without a status (see normalized), so that a
// planner can read a large state without holding it twice. fn must neither
// modify the File nor keep anything it reaches (copy what it needs), and
// must not call the store: a Record waits until fn returns.
func (g *guarded) View(fn func(*File)) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	fn(g.st.view())
}
