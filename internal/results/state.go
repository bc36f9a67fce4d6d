package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
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
			Members:  slices.Clone(e.Applied.Members),
			Owners:   slices.Clone(e.Applied.Owners),
			Managers: slices.Clone(e.Applied.Managers),
		}
	}
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

// checkEntry reports why e may not be written to a results file.
func checkEntry(e *Entry) error {
	switch e.Status {
	case Created, Existing:
		if e.Name == "" {
			return fmt.Errorf("status %q without a name", e.Status)
		}
	case Pending:
		if e.RequestID == "" {
			return fmt.Errorf("status %q without a requestId", e.Status)
		}
	case Failed:
	case "":
		return errors.New("missing status")
	default:
		return fmt.Errorf("unknown status %q (want %q, %q, %q or %q)", e.Status, Created, Existing, Failed, Pending)
	}
	if e.Name != "" {
		id, ok := spaceID(e.Name)
		if !ok {
			return fmt.Errorf("name %q is not spaces/ID", e.Name)
		}
		if e.ID != "" && e.ID != id {
			return fmt.Errorf("id %q does not match name %q", e.ID, e.Name)
		}
	}
	if _, ok := spaceID(e.Previous); e.Previous != "" && !ok {
		return fmt.Errorf("previous %q is not spaces/ID", e.Previous)
	}
	if a := e.Applied; a != nil {
		if slices.Contains(a.Members, "") {
			return errors.New("empty name in applied members")
		}
		if slices.Contains(a.Owners, "") {
			return errors.New("empty name in applied owners")
		}
		if slices.Contains(a.Managers, "") {
			return errors.New("empty name in applied managers")
		}
		if m, ok := common(a.Owners, a.Managers); ok {
			return fmt.Errorf("%q is both an applied owner and an applied manager: a person has one role", m)
		}
	}
	return nil
}

// spaceID returns the ID of a space's resource name spaces/ID.
func spaceID(name string) (string, bool) {
	id, ok := strings.CutPrefix(name, "spaces/")
	return id, ok && id != "" && !strings.Contains(id, "/")
}

// common returns a name in both a and b, if there is one.
func common(a, b []string) (string, bool) {
	if len(a) == 0 || len(b) == 0 {
		return "", false
	}
	set := make(map[string]bool, len(a))
	for _, m := range a {
		set[m] = true
	}
	for _, m := range b {
		if set[m] {
			return m, true
		}
	}
	return "", false
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

// checkEvent reports why ev may not be recorded or replayed.
func checkEvent(ev *Event) error {
	if ev.Space == "" {
		return errors.New("event without a space")
	}
	n := 0
	if ev.Entry != nil {
		n++
	}
	if ev.Member != "" {
		n++
	}
	if ev.Manager != "" {
		n++
	}
	if n != 1 {
		return errors.New("event must set exactly one of entry, member and manager")
	}
	switch ev.Role {
	case "", RoleOwner, RoleManager, RoleMember:
	default:
		return fmt.Errorf("unknown role %q (want %q, %q or %q)", ev.Role, RoleOwner, RoleManager, RoleMember)
	}
	if ev.Role != "" && ev.Member == "" {
		return errors.New("role without a member")
	}
	if ev.Entry != nil {
		if err := checkEntry(normalized(ev.Entry)); err != nil {
			return fmt.Errorf("entry: %w", err)
		}
	}
	return nil
}

// state is a File being built by events, with per-space sets that keep
// adding a member linear in the number of members.
type state struct {
	file *File
	sets map[string]*appliedSet // built on first add; dropped when the entry is replaced
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
func (s *state) apply(ev *Event) {
	if ev.Entry != nil {
		s.file.Spaces[ev.Space] = ev.Entry
		delete(s.sets, ev.Space)
		return
	}
	e := s.file.Spaces[ev.Space]
	if e == nil {
		e = &Entry{}
		s.file.Spaces[ev.Space] = e
	}
	if e.Applied == nil {
		e.Applied = &Applied{}
	}
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
	a := e.Applied
	if !set.members[m] {
		set.members[m] = true
		a.Members = append(a.Members, m)
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
}

// snapshot returns a deep copy of the state as it would be written.
func (s *state) snapshot() *File {
	f := &File{Version: s.file.Version, UpdatedAt: s.file.UpdatedAt, Spaces: make(map[string]*Entry, len(s.file.Spaces))}
	for k, e := range s.file.Spaces {
		f.Spaces[k] = normalized(e.clone())
	}
	return f
}

// encode writes the results file for the state, stamped with now, to w. It
// only reads the state, and shares its entries rather than copying them.
func (s *state) encode(w io.Writer, now time.Time) error {
	return writeFile(w, &File{Version: Version, UpdatedAt: now, Spaces: s.file.Spaces}, normalized)
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
	bw.WriteString("\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	return nil
}
