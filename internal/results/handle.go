package results

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
