package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// interrupted is the error shown for an entry a run left with no status and
// no requestId (a member recorded for a space with no entry): there is no
// requestId to ask again with, so it is failed.
const interrupted = "interrupted before the outcome was recorded"

// newFile returns an empty results file.
func newFile() *File {
	return &File{Version: Version, Spaces: map[string]*Entry{}}
}

// clone returns a deep copy of e.
func (e *Entry) clone() *Entry {
	if e == nil {
		return nil
	}
	c := *e
	c.Earlier = slices.Clone(e.Earlier)
	if e.CreatedAt != nil {
		t := *e.CreatedAt
		c.CreatedAt = &t
	}
	if e.Members != nil {
		m := *e.Members
		m.Missing = slices.Clone(e.Members.Missing)
		m.Pending = slices.Clone(e.Members.Pending)
		c.Members = &m
	}
	if e.Applied != nil {
		c.Applied = &Applied{
			Members:     slices.Clone(e.Applied.Members),
			Owners:      slices.Clone(e.Applied.Owners),
			Managers:    slices.Clone(e.Applied.Managers),
			IDs:         maps.Clone(e.Applied.IDs),
			Settings:    e.Applied.Settings.clone(),
			Welcome:     e.Applied.Welcome,
			WelcomeHash: e.Applied.WelcomeHash,
			Found:       slices.Clone(e.Applied.Found),
		}
	}
	return &c
}

// clone returns a deep copy of d.
func (d *Deleted) clone() *Deleted {
	c := *d
	c.Entry = d.Entry.clone()
	return &c
}

// normalized returns e as it is shown and written: an entry a run left with
// no status had a call whose outcome is unknown. With a requestId it is
// pending (the next run asks again with it); without, failed (see the
// package comment). e itself is returned when it needs no change, so the
// result must not be modified.
func normalized(e *Entry) *Entry {
	if e.Status != "" {
		return e
	}
	c := e.clone()
	if c.RequestID != "" {
		c.Status = Pending
		return c
	}
	c.Status = Failed
	if c.Error == "" {
		c.Error = interrupted
	}
	return c
}

// union returns a with the names of b it lacks appended, in order.
func union(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	set := make(map[string]bool, len(a))
	for _, m := range a {
		set[m] = true
	}
	for _, m := range b {
		if !set[m] {
			set[m] = true
			a = append(a, m)
		}
	}
	return a
}

// state is a File being built by events, with per-space sets that keep
// adding a member linear in the number of members.
type state struct {
	file *File
	sets map[string]*appliedSet // built on first add; dropped when the entry is replaced
	// deleted holds the display name and time of each File.Deleted, built
	// on the first deletion, so that a deletion replayed is seen in
	// constant time.
	deleted map[deletion]bool
}

// deletion identifies one deletion: a display name may be deleted again
// after a space of that name was created anew.
type deletion struct {
	name string
	sec  int64
	nsec int
}

func deletionOf(name string, at time.Time) deletion {
	return deletion{name, at.Unix(), at.Nanosecond()}
}

type appliedSet struct {
	members, owners, managers map[string]bool
}

func newState(f *File) *state {
	return &state{file: f, sets: map[string]*appliedSet{}}
}

// apply folds one valid event into the state. Every kind of event is
// idempotent (replace, set-add, set the role), and a journal is replayed in
// order from its start, so replaying it over a file that already holds
// some or all of its effect ends in the same state. The state takes
// ev.Entry as it is: its callers hand over entries no one else holds (a
// Record's copy, a journal line just decoded).
//
// A role event moves a name between Owners and Managers: the add is a
// set-add, the removal from the other list a scan of that list, made only
// when the name is in it (a role change, rare beside adds).
//
// A removal takes the name out of each list with a scan, as a role change
// does; a settings event merges into the entry's settings; a deletion
// moves the entry to the deleted section, once (see delete).
func (s *state) apply(ev *Event) {
	switch {
	case ev.Entry != nil:
		s.file.Spaces[ev.Space] = ev.Entry
		delete(s.sets, ev.Space)
		return
	case ev.Deleted != nil:
		s.delete(ev.Space, *ev.Deleted)
		return
	}
	e := s.file.Spaces[ev.Space]
	if e == nil {
		e = &Entry{}
		s.file.Spaces[ev.Space] = e
	}
	if ev.DisplayName != "" {
		// A name equal to the key is the key's own: not written twice.
		e.DisplayName = ev.DisplayName
		if ev.DisplayName == ev.Space {
			e.DisplayName = ""
		}
		return
	}
	if e.Applied == nil {
		e.Applied = &Applied{}
	}
	a := e.Applied
	if ev.Welcome != "" {
		a.Welcome, a.WelcomeHash = ev.Welcome, ev.WelcomeHash
		return
	}
	if ev.Settings != nil {
		if a.Settings == nil {
			a.Settings = &Settings{}
		}
		a.Settings.merge(ev.Settings)
		return
	}
	// The member sets are built only for member events: a space that
	// receives none (most, in a run without members) costs none.
	set := s.sets[ev.Space]
	if set == nil {
		set = &appliedSet{members: setOf(e.Applied.Members), owners: setOf(e.Applied.Owners), managers: setOf(e.Applied.Managers)}
		s.sets[ev.Space] = set
	}
	m, role := ev.Member, ev.Role
	if ev.Manager != "" {
		// Version 1 made its managers ROLE_MANAGER: owners.
		m, role = ev.Manager, RoleOwner
	}
	if ev.Removed {
		a.Found = slices.DeleteFunc(a.Found, func(f string) bool { return f == m })
		if len(a.Found) == 0 {
			a.Found = nil
		}
		a.Members = remove(set.members, a.Members, m)
		a.Owners = remove(set.owners, a.Owners, m)
		a.Managers = remove(set.managers, a.Managers, m)
		if _, ok := a.IDs[m]; ok {
			delete(a.IDs, m)
			if len(a.IDs) == 0 {
				a.IDs = nil
			}
		}
		return
	}
	if ev.ID != "" {
		if a.IDs == nil {
			a.IDs = make(map[string]string)
		}
		a.IDs[m] = ev.ID
	}
	if !set.members[m] {
		set.members[m] = true
		a.Members = append(a.Members, m)
	}
	if ev.Found && !slices.Contains(a.Found, m) {
		a.Found = append(a.Found, m)
	}
	switch role {
	case RoleOwner:
		a.Owners = add(set.owners, a.Owners, m)
		a.Managers = remove(set.managers, a.Managers, m)
	case RoleManager:
		a.Managers = add(set.managers, a.Managers, m)
		a.Owners = remove(set.owners, a.Owners, m)
	case RoleMember:
		a.Owners = remove(set.owners, a.Owners, m)
		a.Managers = remove(set.managers, a.Managers, m)
	}
}

// delete moves the entry of name to the deleted section, stamped at. It
// is idempotent: a deletion already in the section (the same name and
// time) only makes sure the name has no entry, so that replaying a
// journal over a file that holds its effect changes nothing, even when the
// name was created anew and deleted again later in the journal. Deleting
// a name with no entry does nothing.
func (s *state) delete(name string, at time.Time) {
	if s.deleted == nil {
		s.deleted = make(map[deletion]bool, len(s.file.Deleted)+1)
		for _, d := range s.file.Deleted {
			s.deleted[deletionOf(d.DisplayName, d.DeletedAt)] = true
		}
	}
	key := deletionOf(name, at)
	e := s.file.Spaces[name]
	delete(s.file.Spaces, name)
	delete(s.sets, name)
	if s.deleted[key] || e == nil || e.Name == "" {
		// Nothing to keep of an entry without a space (a journal written
		// by hand, or damaged): it is dropped, with no ID to remember.
		return
	}
	s.deleted[key] = true
	s.file.Deleted = append(s.file.Deleted, &Deleted{DisplayName: name, DeletedAt: at.UTC(), Entry: e})
}

func setOf(names []string) map[string]bool {
	set := make(map[string]bool, len(names))
	for _, m := range names {
		set[m] = true
	}
	return set
}

// add appends m to list, of which set is the set, unless it is there.
func add(set map[string]bool, list []string, m string) []string {
	if set[m] {
		return list
	}
	set[m] = true
	return append(list, m)
}

// remove deletes m from list, of which set is the set, if it is there. An
// emptied list becomes nil, so that it is left out of the file.
func remove(set map[string]bool, list []string, m string) []string {
	if !set[m] {
		return list
	}
	delete(set, m)
	list = slices.DeleteFunc(list, func(x string) bool { return x == m })
	if len(list) == 0 {
		return nil
	}
	return list
}

// normalize makes every entry of f presentable in place (see normalized).
func normalize(f *File) {
	for k, e := range f.Spaces {
		f.Spaces[k] = normalized(e)
	}
	for i, d := range f.Deleted {
		if n := normalized(d.Entry); n != d.Entry {
			c := *d
			c.Entry = n
			f.Deleted[i] = &c
		}
	}
}

// snapshot returns a deep copy of the state as it would be written.
func (s *state) snapshot() *File {
	f := &File{Version: s.file.Version, UpdatedAt: s.file.UpdatedAt, Spaces: make(map[string]*Entry, len(s.file.Spaces))}
	for k, e := range s.file.Spaces {
		f.Spaces[k] = normalized(e.clone())
	}
	if len(s.file.Deleted) > 0 {
		f.Deleted = make([]*Deleted, len(s.file.Deleted))
		for i, d := range s.file.Deleted {
			c := d.clone()
			c.Entry = normalized(c.Entry)
			f.Deleted[i] = c
		}
	}
	return f
}

// view returns the state as it would be written, sharing its entries; the
// map is the state's own unless an entry needs showing otherwise.
func (s *state) view() *File {
	f := &File{Version: s.file.Version, UpdatedAt: s.file.UpdatedAt, Spaces: s.file.Spaces, Deleted: s.file.Deleted}
	for _, e := range s.file.Spaces {
		if e.Status == "" {
			f.Spaces = make(map[string]*Entry, len(s.file.Spaces))
			for k, e := range s.file.Spaces {
				f.Spaces[k] = normalized(e)
			}
			break
		}
	}
	for i, d := range s.file.Deleted {
		if d.Entry.Status == "" {
			f.Deleted = slices.Clone(s.file.Deleted)
			for j := i; j < len(f.Deleted); j++ {
				if n := normalized(f.Deleted[j].Entry); n != f.Deleted[j].Entry {
					c := *f.Deleted[j]
					c.Entry = n
					f.Deleted[j] = &c
				}
			}
			break
		}
	}
	return f
}

// encode writes the results file for the state, stamped with now, to w. It
// only reads the state, and shares its entries rather than copying them.
func (s *state) encode(w io.Writer, now time.Time) error {
	return writeFile(w, &File{Version: Version, UpdatedAt: now, Spaces: s.file.Spaces, Deleted: s.file.Deleted}, normalized)
}

// encodeFile renders f in the results-file format.
func encodeFile(f *File) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeFile(&buf, f, func(e *Entry) *Entry { return e }); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeFile renders f, each entry passed through show, in the results-file
// format: the bytes of a json.Encoder with two-space indentation and no HTML
// escaping (so that a display name such as "R&D" stays readable), keys
// sorted, a final newline. It goes entry by entry, so that a large file is
// never held whole in memory, nor its indented copy.
func writeFile(w io.Writer, f *File, show func(*Entry) *Entry) error {
	var scratch bytes.Buffer
	enc := json.NewEncoder(&scratch)
	enc.SetEscapeHTML(false)
	enc.SetIndent("    ", "  ") // entries sit two levels deep
	// value renders v as it would appear at its place in the whole file.
	value := func(v any) ([]byte, error) {
		scratch.Reset()
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("encoding results: %w", err)
		}
		return bytes.TrimSuffix(scratch.Bytes(), []byte("\n")), nil
	}
	bw := bufio.NewWriter(w)
	updated, err := value(f.UpdatedAt)
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, "{\n  \"version\": %d,\n  \"updatedAt\": %s,\n  \"spaces\": ", f.Version, updated)
	switch {
	case f.Spaces == nil:
		bw.WriteString("null")
	case len(f.Spaces) == 0:
		bw.WriteString("{}")
	default:
		bw.WriteString("{\n")
		keys := slices.Sorted(maps.Keys(f.Spaces))
		for i, k := range keys {
			bw.WriteString("    ")
			b, err := value(k)
			if err != nil {
				return err
			}
			bw.Write(b)
			bw.WriteString(": ")
			if b, err = value(show(f.Spaces[k])); err != nil {
				return err
			}
			bw.Write(b)
			if i < len(keys)-1 {
				bw.WriteByte(',')
			}
			bw.WriteByte('\n')
		}
		bw.WriteString("  }")
	}
	if len(f.Deleted) > 0 {
		// After the spaces, oldest first: what was deleted matters less
		// than what is.
		bw.WriteString(",\n  \"deleted\": [\n")
		for i, d := range f.Deleted {
			bw.WriteString("    ")
			shown := &Deleted{DisplayName: d.DisplayName, DeletedAt: d.DeletedAt, Entry: show(d.Entry)}
			b, err := value(shown)
			if err != nil {
				return err
			}
			bw.Write(b)
			if i < len(f.Deleted)-1 {
				bw.WriteByte(',')
			}
			bw.WriteByte('\n')
		}
		bw.WriteString("  ]")
	}
	bw.WriteString("\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	return nil
}
