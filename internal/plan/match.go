// Which record a config space is: matching by identity, the names a record
// gives its space, and the names two records or a rename contend for.

package plan

import "fmt"

// heldNames warns on each rename to a name that a recorded space no longer
// in the config has: the API refuses the rename while that space exists,
// and --prune deletes it only after everything else, and only when nothing
// failed.
func heldNames(p *Plan, orphans []Item) {
	if len(orphans) == 0 {
		return
	}
	held := make(map[Key]Item, len(orphans))
	for _, o := range orphans {
		held[KeyOf(o.Key)] = o
	}
	for i := range p.Items {
		it := &p.Items[i]
		if it.Rename == nil {
			continue
		}
		if o, ok := held[KeyOf(it.Rename.To)]; ok {
			it.Warnings = append(it.Warnings, fmt.Sprintf("%q is the name of %s, recorded and no longer in the config: the API refuses the rename while that space has the name, and --prune deletes only after every rename; delete or rename that space first, then this one", it.Rename.To, o.Name))
		}
	}
}

// holderOf is a key other than k whose entry records the space name, or
// "".
func holderOf(holders map[string][]string, k, name string) string {
	for _, h := range holders[name] {
		if h != k {
			return h
		}
	}
	return ""
}

// key is the results file's key of an item.
func key(it Item) string {
	if it.RecordedKey != "" {
		return it.RecordedKey
	}
	return it.Key
}

// recordedName is the display name the record gives the space under key:
// the one it was last renamed to, or the key itself; in NFC, so that a
// record written before names were normalised is not taken for a rename.
func recordedName(key string, rec Recorded) string {
	if rec.DisplayName != "" {
		return Text(rec.DisplayName)
	}
	return Text(key)
}

// Match pairs each config space with the key of its record, "" for none.
// Identity decides (KeyOf), in order of strength, each pass taking only
// records no earlier pass took:
//
//  1. a key: as a recorded key (as written, then in any case or form);
//  2. a key: as the name a recorded space has (currentName: the "old name"
//     of a second rename);
//  3. the display name as the name a recorded space has;
//  4. the display name of a space without key: as a recorded key (a space
//     renamed back, or renamed in the Chat UI and read so by --refresh);
//  5. the display name of a space with a key: as a recorded key (a key:
//     added to a space recorded under its name).
//
// A space without key: is thus found by the name its space has before the
// key an entry once had: after a rename whose key: was dropped, the old
// name may name a new space. Two records of one identity (from configs
// edited between runs) resolve to the smallest key, so that the choice
// does not depend on map order; Diff deletes neither (see Diff).
func Match(spaces []Space, recorded map[string]Recorded) []string {
	return MatchRecords(spaces, RecordMap(recorded))
}

// MatchRecords is Match of records read as the planner needs them.
func MatchRecords(spaces []Space, recorded Records) []string {
	keys := make([]string, len(spaces))
	if recorded.Len() == 0 {
		return keys
	}
	// The records by identity of their key and of their name, made for
	// the first space that a lookup as written does not match: a run
	// whose spaces are all recorded under their names needs neither.
	var byKey, byName map[Key]string
	index := func() {
		if byKey != nil {
			return
		}
		byKey = make(map[Key]string, recorded.Len())
		byName = make(map[Key]string, recorded.Len())
		for k := range recorded.Keys() {
			rec, _ := recorded.Get(k)
			for _, idx := range []struct {
				m  map[Key]string
				id Key
			}{{byKey, KeyOf(k)}, {byName, KeyOf(currentName(k, rec))}} {
				if prev, ok := idx.m[idx.id]; !ok || k < prev {
					idx.m[idx.id] = k
				}
			}
		}
	}
	taken := make(map[string]bool, len(spaces))
	pass := func(f func(s Space) (string, bool)) {
		for i, s := range spaces {
			if keys[i] != "" {
				continue
			}
			if k, ok := f(s); ok && !taken[k] {
				keys[i], taken[k] = k, true
			}
		}
	}
	explicit := func(s Space) bool { return s.Key != "" && s.Key != s.DisplayName }
	pass(func(s Space) (string, bool) {
		if !explicit(s) {
			return "", false
		}
		if _, ok := recorded.Get(s.Key); ok {
			return s.Key, true
		}
		index()
		k, ok := byKey[KeyOf(s.Key)]
		return k, ok
	})
	pass(func(s Space) (string, bool) {
		if !explicit(s) {
			return "", false
		}
		index()
		k, ok := byName[KeyOf(s.Key)]
		return k, ok
	})
	pass(func(s Space) (string, bool) {
		if rec, ok := recorded.Get(s.DisplayName); ok && !explicit(s) && KeyOf(currentName(s.DisplayName, rec)) == KeyOf(s.DisplayName) {
			return s.DisplayName, true // the common case, without a lookup
		}
		index()
		k, ok := byName[KeyOf(s.DisplayName)]
		return k, ok
	})
	pass(func(s Space) (string, bool) {
		if explicit(s) {
			return "", false
		}
		if _, ok := recorded.Get(s.DisplayName); ok {
			return s.DisplayName, true
		}
		index()
		k, ok := byKey[KeyOf(s.DisplayName)]
		return k, ok
	})
	pass(func(s Space) (string, bool) {
		if !explicit(s) {
			return "", false
		}
		index()
		k, ok := byKey[KeyOf(s.DisplayName)]
		return k, ok
	})
	return keys
}

// currentName is the display name of a record's space: what a refresh
// read, else the name recorded (recordedName).
func currentName(key string, rec Recorded) string {
	if rec.Live != nil && rec.Live.DisplayName != "" {
		return Text(rec.Live.DisplayName)
	}
	return recordedName(key, rec)
}
