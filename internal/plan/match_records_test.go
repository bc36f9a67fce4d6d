package plan

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// eagerMatch is Match as it was before its indexes were built lazily: both
// indexes first, whatever the spaces. MatchRecords must pair alike.
func eagerMatch(spaces []Space, recorded map[string]Recorded) []string {
	keys := make([]string, len(spaces))
	if len(recorded) == 0 {
		return keys
	}
	byKey := make(map[Key]string, len(recorded))
	byName := make(map[Key]string, len(recorded))
	for k, rec := range recorded {
		for _, idx := range []struct {
			m  map[Key]string
			id Key
		}{{byKey, KeyOf(k)}, {byName, KeyOf(currentName(k, rec))}} {
			if prev, ok := idx.m[idx.id]; !ok || k < prev {
				idx.m[idx.id] = k
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
		if _, ok := recorded[s.Key]; ok {
			return s.Key, true
		}
		k, ok := byKey[KeyOf(s.Key)]
		return k, ok
	})
	pass(func(s Space) (string, bool) {
		if !explicit(s) {
			return "", false
		}
		k, ok := byName[KeyOf(s.Key)]
		return k, ok
	})
	pass(func(s Space) (string, bool) {
		if _, ok := recorded[s.DisplayName]; ok && !explicit(s) && KeyOf(currentName(s.DisplayName, recorded[s.DisplayName])) == KeyOf(s.DisplayName) {
			return s.DisplayName, true
		}
		k, ok := byName[KeyOf(s.DisplayName)]
		return k, ok
	})
	pass(func(s Space) (string, bool) {
		if explicit(s) {
			return "", false
		}
		if _, ok := recorded[s.DisplayName]; ok {
			return s.DisplayName, true
		}
		k, ok := byKey[KeyOf(s.DisplayName)]
		return k, ok
	})
	pass(func(s Space) (string, bool) {
		k, ok := byKey[KeyOf(s.DisplayName)]
		return k, ok && explicit(s)
	})
	return keys
}

// TestMatchLazyIndex pairs random spaces and records whose names differ in
// case, Unicode form and white space, renamed by key:, by the results
// file and by a refresh, as the eager Match did; and Diff, which counts
// the pairs to skip its orphan loop, finds the orphans Match leaves.
func TestMatchLazyIndex(t *testing.T) {
	names := []string{"Alpha", "alpha", "ALPHA", " Alpha", "Café", "Cafe\u0301", "CAFÉ", "Beta", "beta", "Gamma"}
	r := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return names[r.IntN(len(names))] }
	for n := range 20000 {
		recorded := make(map[string]Recorded)
		for range r.IntN(6) {
			rec := Recorded{Status: "created", Name: "spaces/" + string(rune('a'+r.IntN(4)))}
			if r.IntN(3) == 0 {
				rec.DisplayName = pick()
			}
			if r.IntN(5) == 0 {
				rec.Live = &Live{DisplayName: pick()}
			}
			recorded[pick()] = rec
		}
		var spaces []Space
		for range r.IntN(6) {
			s := Space{DisplayName: pick()}
			if r.IntN(3) == 0 {
				s.Key = pick()
			}
			spaces = append(spaces, s)
		}
		got, want := Match(spaces, recorded), eagerMatch(spaces, recorded)
		if !slices.Equal(got, want) {
			t.Fatalf("case %d: Match(%+v, %+v) = %q, want %q", n, spaces, recorded, got, want)
		}
		left := 0
		for k := range recorded {
			if !slices.Contains(want, k) {
				left++
			}
		}
		p := Diff(&Config{Spaces: spaces}, recorded)
		if c := p.Counts(); c.Orphan+c.Delete != left {
			t.Fatalf("case %d: Diff(%+v, %+v) has %d orphans and deletes, want %d", n, spaces, recorded, c.Orphan+c.Delete, left)
		}
	}
}
