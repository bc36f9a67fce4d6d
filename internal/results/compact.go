package results

import "strings"

// sharer keeps the entries a results file holds compact in memory. A
// decoder allocates every string it reads on its own, rounded up to a size
// class: 100,000 entries hold 100,000 copies of "created", of the
// principal, of "on". Decoded entries are read, never written through their
// strings, so they can share: one string for each value that repeats
// across entries, and one allocation for each entry's own.
type sharer struct {
	seen map[string]string
}

// maxShared bounds the values kept for sharing: statuses, principals and
// settings' values are few; a file of many principals shares the first.
const maxShared = 1024

func newSharer() *sharer { return &sharer{seen: map[string]string{}} }

// share returns the string equal to v that the sharer keeps.
func (s *sharer) share(v string) string {
	if v == "" {
		return v
	}
	if w, ok := s.seen[v]; ok {
		return w
	}
	if len(s.seen) < maxShared {
		s.seen[v] = v
	}
	return v
}

// compact makes the strings of e, recorded under key, share: those that
// repeat across entries, and the entry's own ones in one allocation (its
// ID inside its name); it returns the key, moved there too. Nothing
// changes in what e says.
func (s *sharer) compact(key string, e *Entry) string {
	switch e.Status {
	case Created, Existing, Failed, Pending, Unreachable:
		e.Status = Status(s.share(string(e.Status)))
	}
	e.Was = Status(s.share(string(e.Was)))
	e.Principal = s.share(e.Principal)
	own := []*string{&key, &e.Name, &e.URL, &e.RequestID, &e.DisplayName, &e.Error, &e.Previous}
	if a := e.Applied; a != nil {
		a.WelcomeHash = s.share(a.WelcomeHash)
		if st := a.Settings; st != nil {
			st.History = s.share(st.History)
			st.Audience = s.share(st.Audience)
			for k, v := range st.Permissions {
				st.Permissions[k] = s.share(v)
			}
			if st.Description != nil {
				own = append(own, st.Description)
			}
			if st.Guidelines != nil {
				own = append(own, st.Guidelines)
			}
		}
	}
	n := 0
	for _, p := range own {
		n += len(*p)
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range own {
		b.WriteString(*p)
	}
	all := b.String()
	for _, p := range own {
		*p, all = all[:len(*p)], all[len(*p):]
	}
	if id, ok := strings.CutPrefix(e.Name, "spaces/"); ok && id == e.ID {
		e.ID = id
	}
	return key
}
