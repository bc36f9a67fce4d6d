package plan

import "iter"

// Records are the recorded spaces, by the results file's key, as the
// planner reads them. The planner asks for a record when it needs it: the
// results file of a large run need not be copied whole into the planner's
// view beside it (apply.Records reads the file in place).
type Records interface {
	// Len is the number of records.
	Len() int
	// Keys yields every key, in no particular order.
	Keys() iter.Seq[string]
	// Get returns the record under key, and whether there is one. The
	// record shares nothing the caller may change with the records.
	Get(key string) (Recorded, bool)
}

// RecordMap is Records held in a map.
type RecordMap map[string]Recorded

// Len is the number of records.
func (m RecordMap) Len() int { return len(m) }

// Keys yields every key.
func (m RecordMap) Keys() iter.Seq[string] {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Get returns the record under key.
func (m RecordMap) Get(key string) (Recorded, bool) {
	r, ok := m[key]
	return r, ok
}

// SettingsFrom is the Settings of n settings given as names and values, in
// any order, each name once.
func SettingsFrom(n int, all iter.Seq2[string, string]) Settings {
	s := make(Settings, 0, n)
	for k, v := range all {
		s = append(s, Setting{k, v})
	}
	s.sort()
	return s
}
